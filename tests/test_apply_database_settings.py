"""`manage.py apply_database_settings` stores DB_STATEMENT_TIMEOUT_MS and DB_LOCK_TIMEOUT_MS on
the site's role in its database, where sessions through PgBouncer get them.

The PostgreSQL tests run the command in a fresh process against a throwaway database, so the
role settings they store never reach the test database."""

import json

import pytest

from tests.postgres_support import (
    SLEEP_OUTCOME,
    PgBouncer,
    connect,
    manage,
    scratch_database_fixture,
    server_url,
)

TIMEOUTS = {"DB_STATEMENT_TIMEOUT_MS": "250", "DB_LOCK_TIMEOUT_MS": "120"}


def test_on_sqlite_it_refuses_and_says_why(tmp_path):
    result = manage("apply_database_settings", SQLITE_PATH=str(tmp_path / "site.sqlite3"))

    assert result.returncode == 1
    assert "PostgreSQL" in result.stderr
    assert "SQLITE_BUSY_TIMEOUT" in result.stderr


database = scratch_database_fixture("culture_settings")


def apply(dbname: str, *args: str, exit_code: int = 0, **env: str) -> str:
    """apply_database_settings run against `dbname` with these variables: it must exit with
    `exit_code`. Returns what it printed."""
    result = manage("apply_database_settings", *args, DATABASE_URL=server_url(dbname), **env)
    assert result.returncode == exit_code, result.stdout + result.stderr
    return result.stdout


def stored(dbname: str) -> list[str]:
    """What is stored for the role in `dbname`, as PostgreSQL keeps it."""
    with connect(dbname) as conn:
        row = conn.execute(
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d "
            "ON d.oid = s.setdatabase WHERE d.datname = current_database() "
            "AND s.setrole = (SELECT oid FROM pg_roles WHERE rolname = session_user)"
        ).fetchone()
    return sorted(row[0]) if row else []


def new_session_shows(dbname: str) -> tuple[str, str]:
    with connect(dbname) as conn:
        return conn.execute(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
        ).fetchone()


@pytest.mark.postgres
def test_it_stores_both_timeouts_for_new_sessions_and_says_what_changed(database):
    printed = apply(database, **TIMEOUTS)

    assert "statement_timeout (DB_STATEMENT_TIMEOUT_MS): 없음 → 250 ms" in printed
    assert "lock_timeout (DB_LOCK_TIMEOUT_MS): 없음 → 120 ms" in printed
    assert "새 세션부터" in printed
    assert stored(database) == ["lock_timeout=120", "statement_timeout=250"]
    assert new_session_shows(database) == ("250ms", "120ms")


def store(dbname: str, **settings: str) -> None:
    """Store settings for the role in `dbname` the way the command does, without it."""
    with connect(dbname) as conn:
        for name, value in settings.items():
            conn.execute(f"ALTER ROLE SESSION_USER IN DATABASE {dbname} SET {name} = '{value}'")


@pytest.mark.postgres
def test_a_second_run_changes_nothing(database):
    store(database, statement_timeout="250", lock_timeout="120")

    again = apply(database, **TIMEOUTS)

    assert "250 ms 그대로" in again
    assert "120 ms 그대로" in again
    assert "바꾼 것이 없습니다" in again
    assert stored(database) == ["lock_timeout=120", "statement_timeout=250"]


@pytest.mark.postgres
def test_a_new_value_replaces_the_stored_one_and_an_unset_variable_removes_it(database):
    store(database, statement_timeout="5s", lock_timeout="120")

    printed = apply(database, DB_STATEMENT_TIMEOUT_MS="0")

    assert "5s → 0 ms" in printed
    assert "120 ms → 없음" in printed
    assert stored(database) == ["statement_timeout=0"]
    assert new_session_shows(database) == ("0", "0")


@pytest.mark.postgres
def test_check_shows_what_would_change_changes_nothing_and_fails(database):
    store(database, lock_timeout="120")

    printed = apply(database, "--check", exit_code=1, **TIMEOUTS)

    assert "없음 → 250 ms (바꿀 것)" in printed
    assert "120 ms 그대로" in printed
    assert stored(database) == ["lock_timeout=120"]


@pytest.mark.postgres
def test_check_passes_when_the_role_has_what_the_variables_say(database):
    store(database, statement_timeout="250", lock_timeout="120")

    apply(database, "--check", **TIMEOUTS)  # apply() checks that it exits 0


@pytest.mark.postgres
def test_other_settings_of_the_role_are_left_alone(database):
    store(database, work_mem="8MB", statement_timeout="250")

    apply(database)

    assert stored(database) == ["work_mem=8MB"]


@pytest.mark.postgres
def test_through_pgbouncer_the_stored_timeouts_bound_every_transaction(database):
    """The path DB_PGBOUNCER exists for: nothing is sent when connecting (PgBouncer would
    refuse it), and the timeouts stored on the role are there in whichever server connection
    a transaction gets."""
    bouncer = PgBouncer()
    bouncer.start()
    try:
        apply(database, **TIMEOUTS)
        site = {"DATABASE_URL": bouncer.url(database), "DB_PGBOUNCER": "true", **TIMEOUTS}

        result = manage("shell", "-c", SESSIONS, **site)

        assert result.returncode == 0, result.stderr + bouncer.log()
        seen = json.loads(result.stdout.strip().splitlines()[-1])
        # Eight transactions from four threads at once, on more than one server connection.
        assert [shown for shown, _ in seen["shown"]] == ["250ms/120ms"] * 8
        assert len({pid for _, pid in seen["shown"]}) > 1
        assert seen["sleep"] == "57014"
    finally:
        bouncer.stop()


SESSIONS = (
    SLEEP_OUTCOME
    + """
import json
from concurrent.futures import ThreadPoolExecutor
from django.db import connection, connections, transaction

def shown(_):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout'), "
                           "current_setting('lock_timeout'), pg_backend_pid(), pg_sleep(0.1)")
            statement, lock, pid, _ = cursor.fetchone()
        return f"{statement}/{lock}", pid
    finally:
        connections.close_all()

with ThreadPoolExecutor(4) as threads:
    seen = list(threads.map(shown, range(8)))
with connection.cursor() as cursor:
    sleep = sleep_outcome(cursor)
print(json.dumps({"shown": seen, "sleep": sleep}))
"""
)
