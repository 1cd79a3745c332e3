"""culture.database refuses settings that cannot work together or are not what they claim,
with a message that names the variable."""

import pytest

from ops.status import describe_strategy
from tests.database_support import PG_URL, config, pg, refusal

# The pool's settings, each of which means nothing without DB_POOL.
POOL_KNOBS = [
    "DB_POOL_MIN_SIZE",
    "DB_POOL_MAX_SIZE",
    "DB_POOL_TIMEOUT",
    "DB_POOL_MAX_IDLE",
    "DB_POOL_MAX_LIFETIME",
    "DB_POOL_MAX_WAITING",
]


@pytest.mark.parametrize("conn_max_age", ["60", "None", "unlimited"])
def test_pool_with_persistent_connections_is_refused_naming_conn_max_age(conn_max_age):
    message = refusal(DATABASE_URL=PG_URL, DB_POOL="true", CONN_MAX_AGE=conn_max_age)

    assert "Pooling doesn't support persistent connections" in message
    assert "CONN_MAX_AGE" in message


def test_pool_with_explicit_conn_max_age_zero_is_fine():
    assert describe_strategy(pg(DB_POOL="true", CONN_MAX_AGE="0")) == "pool"


@pytest.mark.parametrize("name", POOL_KNOBS)
@pytest.mark.parametrize("db_pool", [None, "false"])
def test_pool_knob_without_the_pool_is_refused_naming_it(name, db_pool):
    env = {"DATABASE_URL": PG_URL, name: "3"}
    if db_pool is not None:
        env["DB_POOL"] = db_pool

    message = refusal(**env)

    assert name in message
    assert "DB_POOL" in message


def test_pool_max_size_below_min_size_is_refused_naming_both():
    message = refusal(
        DATABASE_URL=PG_URL, DB_POOL="true", DB_POOL_MIN_SIZE="5", DB_POOL_MAX_SIZE="3"
    )

    assert "DB_POOL_MAX_SIZE" in message
    assert "DB_POOL_MIN_SIZE" in message


def test_pool_max_size_zero_is_refused():
    message = refusal(DATABASE_URL=PG_URL, DB_POOL="true", DB_POOL_MAX_SIZE="0")

    assert "DB_POOL_MAX_SIZE" in message


@pytest.mark.parametrize("name", ["DB_POOL_TIMEOUT", "DB_POOL_MAX_IDLE", "DB_POOL_MAX_LIFETIME"])
@pytest.mark.parametrize("value", ["0", "0.0", "-1", "-0.5"])
def test_pool_durations_must_be_positive(name, value):
    message = refusal(DATABASE_URL=PG_URL, DB_POOL="true", **{name: value})

    assert name in message


@pytest.mark.parametrize(
    "name",
    [
        "CONN_MAX_AGE",
        "DB_CONNECT_TIMEOUT",
        "DB_STATEMENT_TIMEOUT_MS",
        "DB_LOCK_TIMEOUT_MS",
        *POOL_KNOBS,
    ],
)
@pytest.mark.parametrize(
    "value", ["abc", "-1", "nan", "NaN", "inf", "-inf", "1e3", "1_000", "\uff15", "0x10", "1 2"]
)
def test_bad_numbers_are_refused_naming_the_variable(name, value):
    message = refusal(DATABASE_URL=PG_URL, DB_POOL="true", **{name: value})

    assert name in message
    assert repr(value) in message


@pytest.mark.parametrize(
    "name", ["CONN_MAX_AGE", "DB_CONNECT_TIMEOUT", "DB_POOL_MIN_SIZE", "DB_POOL_MAX_WAITING"]
)
def test_whole_number_variables_refuse_fractions(name):
    message = refusal(DATABASE_URL=PG_URL, DB_POOL="true", **{name: "2.5"})

    assert name in message


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "0", "abc"])
def test_bad_sqlite_busy_timeout_is_refused(value):
    assert "SQLITE_BUSY_TIMEOUT" in refusal(SQLITE_BUSY_TIMEOUT=value)


def test_connect_timeout_zero_meaning_wait_forever_is_refused():
    assert "DB_CONNECT_TIMEOUT" in refusal(DATABASE_URL=PG_URL, DB_CONNECT_TIMEOUT="0")


@pytest.mark.parametrize(
    "name", ["CONN_HEALTH_CHECKS", "DB_POOL", "DB_DISABLE_SERVER_SIDE_CURSORS", "DB_PGBOUNCER"]
)
@pytest.mark.parametrize("value", ["maybe", "2", "y", "n", "enabled", "t"])
def test_unparsable_booleans_are_refused_naming_the_variable(name, value):
    message = refusal(DATABASE_URL=PG_URL, **{name: value})

    assert name in message
    assert repr(value) in message


def test_unparsable_boolean_is_refused_on_sqlite_too():
    assert "DB_POOL" in refusal(DB_POOL="sometimes")


@pytest.mark.parametrize(
    ("url", "missing"),
    [("postgres://u:p@db.example.com:5432/", "database"), ("postgres://u:p@/culture", "host")],
    ids=["without-database-name", "without-host"],
)
def test_postgres_url_without_a_part_is_refused_naming_it(url, missing):
    message = refusal(DATABASE_URL=url)

    assert "DATABASE_URL" in message
    assert missing in message


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:p@db/app",
        "redis://localhost:6379/0",
        "postgis://u:p@db/app",
        "db.example.com/app",
        "http://[broken",
    ],
)
def test_unknown_scheme_is_refused_naming_database_url(url):
    message = refusal(DATABASE_URL=url)

    assert "DATABASE_URL" in message
    assert "postgres://" in message


def test_unparsable_postgres_url_is_refused_without_echoing_the_password():
    message = refusal(DATABASE_URL="postgres://u:hunter2@db:notaport/app")

    assert "DATABASE_URL" in message
    assert "hunter2" not in message


@pytest.mark.parametrize("query", ["pool=true", "min_size=2", "max_size=8", "timeout=5"])
def test_pool_settings_in_the_url_query_are_refused_pointing_at_db_pool(query):
    message = refusal(DATABASE_URL=f"{PG_URL}?{query}")

    assert "DATABASE_URL" in message
    assert "DB_POOL" in message


def test_repeated_url_query_option_is_refused():
    message = refusal(DATABASE_URL=f"{PG_URL}?sslmode=require&sslmode=disable")

    assert "DATABASE_URL" in message
    assert "sslmode" in message


@pytest.mark.parametrize(
    ("query", "name", "value"),
    [
        ("application_name=x", "DB_APPLICATION_NAME", "y"),
        ("connect_timeout=9", "DB_CONNECT_TIMEOUT", "3"),
        ("options=-c%20statement_timeout%3D5", "DB_STATEMENT_TIMEOUT_MS", "10"),
        ("options=-c%20lock_timeout%3D5", "DB_LOCK_TIMEOUT_MS", "10"),
        ("options=-clock_timeout%3D5", "DB_LOCK_TIMEOUT_MS", "10"),
    ],
)
def test_setting_in_both_url_and_variable_is_refused_naming_both(query, name, value):
    message = refusal(DATABASE_URL=f"{PG_URL}?{query}", **{name: value})

    assert "DATABASE_URL" in message
    assert name in message


# --- PgBouncer in transaction mode --------------------------------------------------------


def test_pgbouncer_with_server_side_cursors_on_is_refused_naming_both():
    message = refusal(
        DATABASE_URL=PG_URL, DB_PGBOUNCER="true", DB_DISABLE_SERVER_SIDE_CURSORS="false"
    )

    assert "DB_PGBOUNCER" in message
    assert "DB_DISABLE_SERVER_SIDE_CURSORS" in message


@pytest.mark.parametrize(
    "query", ["options=-c%20search_path%3Dapp", "currentSchema=app"], ids=["options", "schema"]
)
def test_pgbouncer_with_libpq_options_in_the_url_is_refused(query):
    # PgBouncer refuses the `options` startup parameter: every connection would fail.
    message = refusal(DATABASE_URL=f"{PG_URL}?{query}", DB_PGBOUNCER="true")

    assert "DATABASE_URL" in message
    assert "PgBouncer" in message


def test_pgbouncer_with_server_side_binding_is_refused():
    message = refusal(DATABASE_URL=f"{PG_URL}?server_side_binding=true", DB_PGBOUNCER="true")

    assert "server_side_binding" in message
    assert "max_prepared_statements" in message


def test_server_side_binding_directly_to_postgresql_is_kept():
    settings = config(DATABASE_URL=f"{PG_URL}?server_side_binding=true")

    assert settings["OPTIONS"]["server_side_binding"] is True


@pytest.mark.parametrize(
    "keep", [{"DB_POOL": "true"}, {"CONN_MAX_AGE": "600"}], ids=["pool", "persistent"]
)
def test_pgbouncer_accepts_the_site_keeping_its_connections(keep):
    # A pool (or persistent connections) in front of PgBouncer in transaction mode is what a
    # many-host deployment runs: the site keeps no session state between transactions.
    settings = pg(DB_PGBOUNCER="true", **keep)

    assert settings["PGBOUNCER"] is True
    assert settings["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert ("pool" in settings["OPTIONS"]) == ("DB_POOL" in keep)


@pytest.mark.parametrize("name", ["DB_STATEMENT_TIMEOUT_MS", "DB_LOCK_TIMEOUT_MS"])
def test_a_timeout_with_the_old_pgbouncer_recipe_asks_which_it_is(name):
    # DB_DISABLE_SERVER_SIDE_CURSORS=true is how PgBouncer was configured before DB_PGBOUNCER:
    # sent when connecting, the timeout would break every connection through it.
    message = refusal(DATABASE_URL=PG_URL, DB_DISABLE_SERVER_SIDE_CURSORS="true", **{name: "500"})

    assert name in message
    assert "DB_PGBOUNCER=true" in message
    assert "DB_PGBOUNCER=false" in message
    assert "apply_database_settings" in message
