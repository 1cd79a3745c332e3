"""`manage.py migrate` from every host at once: one migrates, the others wait for it and find
nothing left to apply, and all of them exit 0 (ops/migration_lock.py).

Each test migrates a database of its own in fresh processes: a SQLite file in tmp_path, or a
throwaway PostgreSQL database on DATABASE_URL's server."""

import fcntl
import os
import sqlite3
import subprocess
import sys

import pytest

from ops.migration_lock import LOCK_KEY
from tests.postgres_support import (
    PgBouncer,
    command_env,
    connect,
    manage,
    scratch_database_fixture,
    server_url,
)
from tests.process_support import REPO, last_json, run_python

# post_migrate handlers (content types, permissions, the editorial groups) run under the lock.
# The advisory locks of the database a test made (another test's scratch database, migrated
# on another worker at the same time, takes the same key).
THIS_DATABASE = "database = (SELECT oid FROM pg_database WHERE datname = current_database())"

LOCK_DURING_POST_MIGRATE = """
import fcntl, json
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_migrate

from ops.migration_lock import LOCK_KEY

seen = []

def look(sender, **kwargs):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objid = %s::bigint::oid AND pid <> pg_backend_pid() "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [LOCK_KEY & 0xFFFFFFFF],
            )
            seen.append(cursor.fetchone()[0] == 1)
    else:
        with open(f"{connection.settings_dict['NAME']}.migrate-lock") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                seen.append(False)
            except BlockingIOError:
                seen.append(True)

post_migrate.connect(look)
call_command("migrate", verbosity=0, interactive=False)
print(json.dumps(seen))
"""


def migrate_at_once(count: int, **env: str) -> list[subprocess.CompletedProcess]:
    """`count` migrates started together, as every host of a rolling deploy starts one."""
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=REPO,
            env=command_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append(
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        )
    return results


def assert_one_migrated_and_the_others_waited(results: list[subprocess.CompletedProcess]) -> None:
    codes = [result.returncode for result in results]
    assert codes == [0] * len(results), [result.stderr[-2000:] for result in results]
    applying = [result for result in results if "Applying " in result.stdout]
    assert len(applying) == 1
    for result in results:
        if result is not applying[0]:
            assert "No migrations to apply." in result.stdout


def lock_during_post_migrate(**env: str) -> list[bool]:
    return last_json(run_python(LOCK_DURING_POST_MIGRATE, command_env(**env)))


# --- SQLite --------------------------------------------------------------------------------


def test_three_migrates_at_once_on_one_sqlite_file_all_succeed(tmp_path):
    database = str(tmp_path / "site.sqlite3")

    results = migrate_at_once(3, SQLITE_PATH=database)

    assert_one_migrated_and_the_others_waited(results)
    assert manage("migrate", "--check", SQLITE_PATH=database).returncode == 0


def test_sqlite_post_migrate_handlers_run_under_the_lock(tmp_path):
    seen = lock_during_post_migrate(SQLITE_PATH=str(tmp_path / "site.sqlite3"))

    assert seen
    assert all(seen)


def test_a_migrate_that_waits_past_the_timeout_fails_saying_so_and_applies_nothing(tmp_path):
    database = tmp_path / "site.sqlite3"
    with open(f"{database}.migrate-lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = manage(
            "migrate", "--noinput", SQLITE_PATH=str(database), MIGRATE_LOCK_TIMEOUT="0.5"
        )

    assert result.returncode == 1
    assert "0.5초" in result.stderr
    assert "MIGRATE_LOCK_TIMEOUT" in result.stderr
    assert "Applying" not in result.stdout
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == []


def test_check_and_plan_do_not_wait_for_a_running_migrate(tmp_path):
    database = tmp_path / "site.sqlite3"
    with open(f"{database}.migrate-lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        check = manage("migrate", "--check", SQLITE_PATH=str(database), MIGRATE_LOCK_TIMEOUT="0.5")
        plan = manage("migrate", "--plan", SQLITE_PATH=str(database), MIGRATE_LOCK_TIMEOUT="0.5")

    assert check.returncode == 1  # unapplied migrations, not a lock timeout
    assert "MIGRATE_LOCK_TIMEOUT" not in check.stderr
    assert plan.returncode == 0, plan.stderr
    assert "articles.0001_initial" in plan.stdout


def test_migrate_refuses_to_run_through_pgbouncer_before_connecting():
    # db.invalid never resolves: the refusal comes before any connection.
    result = manage(
        "migrate", "--noinput", DATABASE_URL="postgres://u:p@db.invalid/app", DB_PGBOUNCER="true"
    )

    assert result.returncode == 1
    assert "PgBouncer" in result.stderr
    assert "DB_PGBOUNCER=false" in result.stderr


# --- PostgreSQL ----------------------------------------------------------------------------


database = scratch_database_fixture("culture_migrate_race")


@pytest.mark.postgres
def test_three_migrates_at_once_on_an_empty_postgresql_database_all_succeed(database):
    results = migrate_at_once(3, DATABASE_URL=server_url(database))

    assert_one_migrated_and_the_others_waited(results)
    check = manage("migrate", "--check", DATABASE_URL=server_url(database))
    assert check.returncode == 0, check.stdout + check.stderr
    with connect(database) as conn:
        # The lock's session ended with its migrate.
        (held,) = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s::bigint::oid "
            f"AND {THIS_DATABASE}",
            [LOCK_KEY & 0xFFFFFFFF],
        ).fetchone()
    assert held == 0


@pytest.mark.postgres
def test_postgresql_post_migrate_handlers_run_under_the_lock(database):
    seen = lock_during_post_migrate(DATABASE_URL=server_url(database))

    assert seen
    assert all(seen)


@pytest.mark.postgres
def test_a_postgresql_migrate_that_waits_past_the_timeout_names_the_holder(database):
    with connect(database, application_name="deploy-host-1") as other:
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        result = manage(
            "migrate", "--noinput", DATABASE_URL=server_url(database), MIGRATE_LOCK_TIMEOUT="1"
        )

    assert result.returncode == 1
    assert "deploy-host-1" in result.stderr
    assert "MIGRATE_LOCK_TIMEOUT" in result.stderr
    with connect(database) as conn:
        (tables,) = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert tables == 0


@pytest.mark.postgres
def test_migrations_run_without_the_sites_timeouts_and_get_them_back_after():
    code = """
import django, json
django.setup()
from django.db import connection
from ops.migration_lock import timeouts_lifted

def shown():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
        return cursor.fetchone()

with timeouts_lifted(connection):
    during = shown()
print(json.dumps({"during": during, "after": shown()}))
"""
    env = command_env(
        DATABASE_URL=os.environ["DATABASE_URL"],
        DB_STATEMENT_TIMEOUT_MS="40",
        DB_LOCK_TIMEOUT_MS="30",
    )

    assert last_json(run_python(code, env, timeout=60)) == {
        "during": ["0", "0"],
        "after": ["40ms", "30ms"],
    }


@pytest.mark.postgres
def test_migrate_through_an_undeclared_pgbouncer_is_refused_and_leaves_no_lock(database):
    bouncer = PgBouncer()
    bouncer.start()
    try:
        result = manage("migrate", "--noinput", DATABASE_URL=bouncer.url(database))
    finally:
        bouncer.stop()

    assert result.returncode == 1
    assert "PgBouncer" in result.stderr
    assert "Applying" not in result.stdout
    with connect(database) as conn:
        (held,) = conn.execute(
            f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND {THIS_DATABASE}"
        ).fetchone()
    assert held == 0
