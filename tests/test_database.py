"""Unit tests for culture.database: environment values in, DATABASES["default"] out.

Pure function tests need no settings and no database. The two tests at the end hand the
result to Django 5.2 in a fresh interpreter (its own settings.configure()), so they cannot
clash with whatever DJANGO_SETTINGS_MODULE pytest-django loads.
"""

import os
import sqlite3
import textwrap
from pathlib import Path
from types import MappingProxyType

import pytest

from culture.database import database_config
from tests.database_support import BASE_DIR, PG_URL, config, pg, refusal
from tests.process_support import run_python

# --- SQLite ------------------------------------------------------------------------------


def test_without_database_url_sqlite_lives_in_base_dir():
    result = config()

    assert result["ENGINE"] == "ops.sqlite"
    assert result["NAME"] == BASE_DIR / "db.sqlite3"


def test_empty_or_blank_database_url_means_sqlite():
    assert config(DATABASE_URL="")["NAME"] == BASE_DIR / "db.sqlite3"
    assert config(DATABASE_URL="   ")["NAME"] == BASE_DIR / "db.sqlite3"


def test_sqlite_turns_on_wal_and_normal_sync_on_every_connection():
    assert config()["OPTIONS"]["init_command"] == (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )


def test_sqlite_takes_the_write_lock_when_a_transaction_begins():
    assert config()["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_sqlite_busy_timeout_defaults_to_20_seconds():
    assert config()["OPTIONS"]["timeout"] == 20


def test_sqlite_busy_timeout_is_configurable_in_seconds():
    assert config(SQLITE_BUSY_TIMEOUT="2.5")["OPTIONS"]["timeout"] == 2.5


def test_sqlite_keeps_its_file_open_between_requests_without_health_checks():
    result = config()

    assert result["CONN_MAX_AGE"] == 600
    assert result["CONN_HEALTH_CHECKS"] is False
    assert "DISABLE_SERVER_SIDE_CURSORS" not in result
    assert "pool" not in result["OPTIONS"]


def test_sqlite_accepts_persistent_connections_and_health_checks():
    result = config(CONN_MAX_AGE="60", CONN_HEALTH_CHECKS="yes")

    assert result["CONN_MAX_AGE"] == 60
    assert result["CONN_HEALTH_CHECKS"] is True


def test_sqlite_path_overrides_the_default_file():
    assert config(SQLITE_PATH="/var/lib/culture/site.db")["NAME"] == Path(
        "/var/lib/culture/site.db"
    )


def test_relative_sqlite_path_is_relative_to_base_dir_not_the_working_directory():
    assert config(SQLITE_PATH="data/site.db")["NAME"] == BASE_DIR / "data/site.db"


def test_sqlite_url_with_absolute_path():
    result = config(DATABASE_URL="sqlite:////var/lib/culture/site.db")

    assert result["ENGINE"] == "ops.sqlite"
    assert result["NAME"] == Path("/var/lib/culture/site.db")
    assert result["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_sqlite_url_with_relative_path_resolves_against_base_dir():
    assert config(DATABASE_URL="sqlite:///site.db")["NAME"] == BASE_DIR / "site.db"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite://:memory:", "sqlite://h/x"])
def test_sqlite_url_without_a_file_path_is_refused(url):
    assert "DATABASE_URL" in refusal(DATABASE_URL=url)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param(
            {"DATABASE_URL": "sqlite:///site.db?timeout=5"},
            ["DATABASE_URL", "SQLITE_BUSY_TIMEOUT"],
            id="url-query-options-point-at-busy-timeout",
        ),
        pytest.param(
            {"DATABASE_URL": "sqlite:///a.db", "SQLITE_PATH": "b.db"},
            ["DATABASE_URL", "SQLITE_PATH"],
            id="url-and-path-together",
        ),
        pytest.param({"DB_POOL": "true"}, ["DB_POOL", "PostgreSQL"], id="pool-on-sqlite"),
    ],
)
def test_sqlite_settings_that_cannot_work_are_refused_naming_them(env, named):
    message = refusal(**env)

    assert [name for name in named if name not in message] == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_POOL_MIN_SIZE", "2"),
        ("DB_POOL_MAX_SIZE", "4"),
        ("DB_POOL_TIMEOUT", "5"),
        ("DB_POOL_MAX_IDLE", "600"),
        ("DB_POOL_MAX_LIFETIME", "3600"),
        ("DB_POOL_MAX_WAITING", "0"),
        ("DB_DISABLE_SERVER_SIDE_CURSORS", "true"),
        ("DB_STATEMENT_TIMEOUT_MS", "1000"),
        ("DB_LOCK_TIMEOUT_MS", "1000"),
        ("DB_READER_STATEMENT_TIMEOUT_MS", "3000"),
        ("DB_READER_LOCK_TIMEOUT_MS", "500"),
        ("DB_PGBOUNCER", "true"),
        ("DB_APPLICATION_NAME", "culture-worker"),
        ("DB_CONNECT_TIMEOUT", "3"),
    ],
)
def test_postgresql_only_variable_on_sqlite_is_refused_naming_it(name, value):
    message = refusal(**{name: value})

    assert name in message
    assert "SQLite" in message


def test_postgresql_only_flags_that_are_off_are_harmless_on_sqlite():
    result = config(DB_POOL="false", DB_DISABLE_SERVER_SIDE_CURSORS="0", DB_PGBOUNCER="no")

    assert result["ENGINE"] == "ops.sqlite"


@pytest.mark.parametrize("name", ["SQLITE_PATH", "SQLITE_BUSY_TIMEOUT"])
def test_sqlite_only_variable_with_postgresql_is_refused_naming_it(name):
    message = refusal(DATABASE_URL=PG_URL, **{name: "5"})

    assert name in message


# --- PostgreSQL: URL parsing -------------------------------------------------------------


def test_postgres_url_gives_engine_host_port_name_user_and_password():
    result = pg()

    assert result["ENGINE"] == "ops.postgresql"
    assert result["HOST"] == "db.example.com"
    assert result["PORT"] == 5433
    assert result["NAME"] == "culture_db"
    assert result["USER"] == "culture"
    assert result["PASSWORD"] == "s3cret"


@pytest.mark.parametrize(
    "scheme",
    ["postgres", "postgresql", "pgsql", "POSTGRES"],
    # An id of bare "postgres" would match the conftest's postgres marker check and skip.
    ids=lambda scheme: f"{scheme}-scheme",
)
def test_every_postgresql_scheme_selects_the_postgresql_backend(scheme):
    result = config(DATABASE_URL=f"{scheme}://u:p@db/app")

    assert result["ENGINE"] == "ops.postgresql"
    assert result["NAME"] == "app"


def test_postgres_url_without_port_leaves_it_to_libpq():
    assert config(DATABASE_URL="postgres://u:p@db/app")["PORT"] == ""


def test_percent_encoded_password_is_decoded():
    assert config(DATABASE_URL="postgres://u:p%40ss%2Fw0rd@db/app")["PASSWORD"] == "p@ss/w0rd"


def test_url_query_parameters_become_libpq_options():
    result = config(DATABASE_URL=f"{PG_URL}?sslmode=require&sslrootcert=/etc/ssl/ca.pem")

    assert result["OPTIONS"]["sslmode"] == "require"
    assert result["OPTIONS"]["sslrootcert"] == "/etc/ssl/ca.pem"


def test_unix_socket_host_may_come_from_the_query_string():
    result = config(DATABASE_URL="postgres://u@/app?host=/var/run/postgresql")

    assert result["HOST"] == ""
    assert result["OPTIONS"]["host"] == "/var/run/postgresql"


def test_url_options_and_connect_timeout_from_the_query_string_are_kept():
    result = config(
        DATABASE_URL=f"{PG_URL}?options=-c%20search_path%3Dapp&connect_timeout=9"
        "&application_name=from-url"
    )

    assert result["OPTIONS"]["options"] == "-c search_path=app"
    assert result["OPTIONS"]["connect_timeout"] == 9
    assert result["OPTIONS"]["application_name"] == "from-url"


# --- PostgreSQL: defaults and knobs ------------------------------------------------------


def test_postgres_defaults_connect_per_request_with_health_checks():
    result = pg()

    assert result["CONN_MAX_AGE"] == 0
    assert result["CONN_HEALTH_CHECKS"] is True
    assert result["DISABLE_SERVER_SIDE_CURSORS"] is False


def test_postgres_defaults_are_a_direct_connection_without_timeouts():
    result = pg()

    assert result["PGBOUNCER"] is False
    assert result["SESSION_SETTINGS"] == {"statement_timeout": None, "lock_timeout": None}
    assert "options" not in result["OPTIONS"]


def test_postgres_default_options_name_the_app_and_bound_the_connect_time():
    assert pg()["OPTIONS"] == {"application_name": "culture-web", "connect_timeout": 5}


def test_pool_is_off_by_default():
    assert "pool" not in pg()["OPTIONS"]


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("60", 60), ("600", 600)])
def test_conn_max_age_in_seconds(raw, expected):
    assert pg(CONN_MAX_AGE=raw)["CONN_MAX_AGE"] == expected


@pytest.mark.parametrize("raw", ["None", "none", "unlimited", "UNLIMITED"])
def test_conn_max_age_none_or_unlimited_keeps_connections_forever(raw):
    assert pg(CONN_MAX_AGE=raw)["CONN_MAX_AGE"] is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("On", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("no", False),
        ("OFF", False),
    ],
)
def test_boolean_spellings(raw, expected):
    result = pg(CONN_HEALTH_CHECKS=raw, DB_DISABLE_SERVER_SIDE_CURSORS=raw)

    assert result["CONN_HEALTH_CHECKS"] is expected
    assert result["DISABLE_SERVER_SIDE_CURSORS"] is expected


def test_health_checks_can_be_turned_off():
    assert pg(CONN_HEALTH_CHECKS="false")["CONN_HEALTH_CHECKS"] is False


def test_server_side_cursors_can_be_disabled_for_pgbouncer_transaction_mode():
    assert pg(DB_DISABLE_SERVER_SIDE_CURSORS="true")["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_application_name_is_configurable():
    assert pg(DB_APPLICATION_NAME="culture-cron")["OPTIONS"]["application_name"] == "culture-cron"


def test_connect_timeout_is_configurable():
    assert pg(DB_CONNECT_TIMEOUT="2")["OPTIONS"]["connect_timeout"] == 2


def test_statement_timeout_goes_into_libpq_options():
    options = pg(DB_STATEMENT_TIMEOUT_MS="1500")["OPTIONS"]

    assert options["options"] == "-c statement_timeout=1500"


def test_lock_timeout_goes_into_libpq_options():
    options = pg(DB_LOCK_TIMEOUT_MS="200")["OPTIONS"]

    assert options["options"] == "-c lock_timeout=200"


def test_both_timeouts_go_into_libpq_options_and_are_named_for_the_role_command():
    result = pg(DB_STATEMENT_TIMEOUT_MS="1500", DB_LOCK_TIMEOUT_MS="200")

    assert result["OPTIONS"]["options"] == "-c statement_timeout=1500 -c lock_timeout=200"
    assert result["SESSION_SETTINGS"] == {"statement_timeout": 1500, "lock_timeout": 200}


def test_lock_timeout_is_not_mistaken_for_a_deadlock_timeout_in_the_url():
    result = config(
        DATABASE_URL=f"{PG_URL}?options=-c%20deadlock_timeout%3D2s", DB_LOCK_TIMEOUT_MS="300"
    )

    assert result["OPTIONS"]["options"] == "-c deadlock_timeout=2s -c lock_timeout=300"


def test_statement_timeout_is_merged_with_options_from_the_url():
    result = config(
        DATABASE_URL=f"{PG_URL}?options=-c%20search_path%3Dapp", DB_STATEMENT_TIMEOUT_MS="250"
    )

    assert result["OPTIONS"]["options"] == "-c search_path=app -c statement_timeout=250"


def test_statement_timeout_is_merged_with_current_schema_from_the_url():
    result = config(DATABASE_URL=f"{PG_URL}?currentSchema=app", DB_STATEMENT_TIMEOUT_MS="0")

    assert result["OPTIONS"]["options"] == "-c search_path=app -c statement_timeout=0"


def test_empty_values_count_as_unset():
    result = pg(
        CONN_MAX_AGE="",
        CONN_HEALTH_CHECKS="",
        DB_POOL="",
        DB_POOL_MIN_SIZE="",
        DB_APPLICATION_NAME="",
        DB_STATEMENT_TIMEOUT_MS="",
        DB_LOCK_TIMEOUT_MS="",
        DB_PGBOUNCER="",
    )

    assert result == pg()


def test_accepts_any_read_only_mapping_and_leaves_it_untouched():
    env = {"DATABASE_URL": PG_URL, "DB_POOL": "true"}
    frozen = MappingProxyType(dict(env))

    database_config(frozen, base_dir=BASE_DIR)

    assert dict(frozen) == env


# --- PostgreSQL: through PgBouncer in transaction mode ----------------------------------


def test_pgbouncer_turns_off_server_side_cursors():
    result = pg(DB_PGBOUNCER="true")

    assert result["PGBOUNCER"] is True
    assert result["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_pgbouncer_with_server_side_cursors_disabled_explicitly_is_fine():
    assert pg(DB_PGBOUNCER="true", DB_DISABLE_SERVER_SIDE_CURSORS="true")["PGBOUNCER"] is True


def test_behind_pgbouncer_the_timeouts_are_not_sent_when_connecting():
    # PgBouncer refuses the `options` startup parameter ("unsupported startup parameter"),
    # and a SET would not follow the client to its next transaction's server connection.
    result = pg(DB_PGBOUNCER="true", DB_STATEMENT_TIMEOUT_MS="5000", DB_LOCK_TIMEOUT_MS="1000")

    assert "options" not in result["OPTIONS"]
    assert result["SESSION_SETTINGS"] == {"statement_timeout": 5000, "lock_timeout": 1000}


def test_readers_get_timeouts_by_default_and_editors_sessions_none():
    result = pg()

    assert result["READER_SETTINGS"] == {"statement_timeout": 5000, "lock_timeout": 1000}
    assert result["SESSION_SETTINGS"] == {"statement_timeout": None, "lock_timeout": None}
    assert "options" not in result["OPTIONS"]


@pytest.mark.parametrize("pgbouncer", ["false", "true"])
def test_reader_timeouts_come_from_the_environment_never_as_startup_options(pgbouncer):
    result = pg(
        DB_PGBOUNCER=pgbouncer, DB_READER_STATEMENT_TIMEOUT_MS="0", DB_READER_LOCK_TIMEOUT_MS="250"
    )

    assert result["READER_SETTINGS"] == {"statement_timeout": 0, "lock_timeout": 250}
    assert "options" not in result["OPTIONS"]


def test_a_reader_timeout_that_is_not_a_whole_number_is_refused():
    message = refusal(DATABASE_URL=PG_URL, DB_READER_LOCK_TIMEOUT_MS="1.5s")

    assert "DB_READER_LOCK_TIMEOUT_MS" in message


def test_behind_pgbouncer_the_pool_keeps_its_options():
    result = pg(DB_PGBOUNCER="true", DB_POOL="true", DB_STATEMENT_TIMEOUT_MS="5000")

    assert result["OPTIONS"]["pool"]["max_size"] == 4
    assert "options" not in result["OPTIONS"]


def test_direct_connection_says_so_to_keep_timeouts_with_server_side_cursors_off():
    result = pg(
        DB_PGBOUNCER="false", DB_DISABLE_SERVER_SIDE_CURSORS="true", DB_STATEMENT_TIMEOUT_MS="900"
    )

    assert result["PGBOUNCER"] is False
    assert result["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert result["OPTIONS"]["options"] == "-c statement_timeout=900"


# --- PostgreSQL: the pool -----------------------------------------------------------------


def test_pool_defaults_are_the_recommended_production_settings():
    # docs/pooling.md: a pool of 4 (the threads of gunicorn.conf.py's default worker) kept
    # full, a 5 s timeout, and at most half the pool's requests queued for a connection.
    assert pg(DB_POOL="true")["OPTIONS"]["pool"] == {
        "min_size": 4,
        "max_size": 4,
        "timeout": 5,
        "max_idle": 600,
        "max_lifetime": 3600,
        "max_waiting": 2,
    }


@pytest.mark.parametrize(
    ("max_size", "max_waiting"), [("1", 1), ("2", 1), ("3", 1), ("4", 2), ("8", 4), ("16", 8)]
)
def test_pool_queue_is_bounded_by_default_to_half_the_pool(max_size, max_waiting):
    pool = pg(DB_POOL="true", DB_POOL_MAX_SIZE=max_size)["OPTIONS"]["pool"]

    assert pool["max_waiting"] == max_waiting


def test_pool_queue_can_still_be_unbounded_explicitly():
    # The benchmark's illustration of the failure mode, and psycopg_pool's own default.
    assert pg(DB_POOL="true", DB_POOL_MAX_WAITING="0")["OPTIONS"]["pool"]["max_waiting"] == 0


def test_pool_keeps_max_size_connections_open_unless_told_otherwise():
    assert pg(DB_POOL="true", DB_POOL_MAX_SIZE="6")["OPTIONS"]["pool"]["min_size"] == 6
    pool = pg(DB_POOL="true", DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="6")["OPTIONS"]["pool"]
    assert (pool["min_size"], pool["max_size"]) == (1, 6)


def test_every_pool_knob_is_passed_to_psycopg_pool():
    result = pg(
        DB_POOL="on",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="16",
        DB_POOL_TIMEOUT="2.5",
        DB_POOL_MAX_IDLE="120",
        DB_POOL_MAX_LIFETIME="1800.5",
        DB_POOL_MAX_WAITING="32",
    )

    assert result["OPTIONS"]["pool"] == {
        "min_size": 1,
        "max_size": 16,
        "timeout": 2.5,
        "max_idle": 120,
        "max_lifetime": 1800.5,
        "max_waiting": 32,
    }


def test_pool_never_sets_the_keywords_django_owns():
    pool = pg(DB_POOL="true")["OPTIONS"]["pool"]

    assert not {"check", "kwargs", "open", "configure"} & set(pool)


def test_pool_max_size_follows_a_min_size_above_the_default():
    pool = pg(DB_POOL="true", DB_POOL_MIN_SIZE="6")["OPTIONS"]["pool"]

    assert pool["min_size"] == 6
    assert pool["max_size"] == 6


def test_pool_min_size_zero_is_allowed():
    assert pg(DB_POOL="true", DB_POOL_MIN_SIZE="0")["OPTIONS"]["pool"]["min_size"] == 0


def test_pool_keeps_the_other_options():
    result = config(
        DATABASE_URL=f"{PG_URL}?sslmode=require", DB_POOL="true", DB_STATEMENT_TIMEOUT_MS="900"
    )

    assert result["OPTIONS"]["sslmode"] == "require"
    assert result["OPTIONS"]["options"] == "-c statement_timeout=900"
    assert result["CONN_HEALTH_CHECKS"] is True


def test_pool_options_are_accepted_by_psycopg_pool():
    psycopg_pool = pytest.importorskip("psycopg_pool")
    options = pg(DB_POOL="true", DB_POOL_MAX_WAITING="8")["OPTIONS"]["pool"]

    pool = psycopg_pool.ConnectionPool("", open=False, **options)

    assert (pool.min_size, pool.max_size, pool.timeout) == (4, 4, 5)
    assert (pool.max_idle, pool.max_lifetime, pool.max_waiting) == (600, 3600, 8)


# --- Django 5.2 accepts the result ------------------------------------------------------


def run_with_django(script: str, databases: dict) -> str:
    """Run `script` in a fresh interpreter whose only settings are these DATABASES."""
    prelude = textwrap.dedent(
        f"""
        import django
        from django.conf import settings
        settings.configure(DATABASES={databases!r}, USE_TZ=True)
        django.setup()
        from django.db import connections
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    completed = run_python(prelude + textwrap.dedent(script), env, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_django_applies_the_sqlite_pragmas_and_transaction_mode(tmp_path):
    sqlite_config = database_config({"SQLITE_BUSY_TIMEOUT": "7"}, base_dir=tmp_path)
    sqlite_config["NAME"] = str(sqlite_config["NAME"])  # repr-able for the child

    output = run_with_django(
        """
        connection = connections["default"]
        with connection.cursor() as cursor:
            for pragma in ("journal_mode", "synchronous", "busy_timeout"):
                cursor.execute(f"PRAGMA {pragma}")
                print(cursor.fetchone()[0])
        print(connection.transaction_mode)
        """,
        {"default": sqlite_config},
    )

    # synchronous NORMAL is 1; busy_timeout is in milliseconds.
    assert output.split() == ["wal", "1", "7000", "IMMEDIATE"]
    with sqlite3.connect(tmp_path / "db.sqlite3") as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_django_builds_its_pool_from_the_options_without_connecting():
    pool_config = config(
        DATABASE_URL="postgres://u:p@db.invalid:5432/app",
        DB_POOL="true",
        DB_POOL_MAX_SIZE="8",
        DB_POOL_TIMEOUT="3",
    )

    output = run_with_django(
        """
        pool = connections["default"].pool
        print(pool.min_size, pool.max_size, pool.timeout, pool._check is not None)
        print(pool.kwargs["application_name"], pool.kwargs["connect_timeout"])
        """,
        {"default": pool_config},
    )

    assert output.split() == ["8", "8", "3.0", "True", "culture-web", "5"]
