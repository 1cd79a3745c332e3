"""culture.database.replica_config: DATABASE_REPLICA_URL and its knobs in, DATABASES["replica"]
out (None without a replica), refusing nonsense at startup like database_config."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from culture.database import database_config, replica_config
from tests.database_support import BASE_DIR, PG_URL

REPLICA_URL = "postgres://culture:s3cret@replica.example.com:5432/culture_db"


def replica(**env: str) -> dict | None:
    return replica_config(env, database_config(env, base_dir=BASE_DIR))


def refusal(**env: str) -> str:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        replica(**env)
    return str(excinfo.value)


def test_without_a_replica_url_there_is_no_replica():
    assert replica() is None
    assert replica(DATABASE_URL=PG_URL) is None
    assert replica(DATABASE_URL=PG_URL, DATABASE_REPLICA_URL="  ") is None


def test_replica_knobs_without_a_replica_url_are_refused():
    message = refusal(DATABASE_URL=PG_URL, DB_REPLICA_POOL_MAX_SIZE="2", REPLICA_STICKY_SECONDS="3")
    assert "DB_REPLICA_POOL_MAX_SIZE, REPLICA_STICKY_SECONDS" in message
    assert "DATABASE_REPLICA_URL" in message


def test_a_replica_needs_postgresql_on_both_sides():
    assert "both be postgres://" in refusal(DATABASE_REPLICA_URL=REPLICA_URL)
    assert "both be postgres://" in refusal(
        DATABASE_URL=PG_URL, DATABASE_REPLICA_URL="sqlite:///replica.sqlite3"
    )


def test_the_replica_is_its_own_server_with_the_primarys_settings():
    result = replica(DATABASE_URL=PG_URL, DATABASE_REPLICA_URL=REPLICA_URL, CONN_MAX_AGE="60")
    assert (result["HOST"], result["PORT"], result["NAME"]) == (
        "replica.example.com",
        5432,
        "culture_db",
    )
    assert result["CONN_MAX_AGE"] == 60
    assert result["READER_SETTINGS"] == {"lock_timeout": 1000, "statement_timeout": 5000}
    # Tests read the test database through the replica's alias.
    assert result["TEST"] == {"MIRROR": "default"}
    assert (result["STICKY_SECONDS"], result["RETRY_SECONDS"]) == (5.0, 5.0)


def test_a_replica_that_does_not_answer_costs_one_second_by_default():
    env = {"DATABASE_URL": PG_URL, "DATABASE_REPLICA_URL": REPLICA_URL, "DB_CONNECT_TIMEOUT": "5"}
    assert replica(**env)["OPTIONS"]["connect_timeout"] == 1
    assert replica(**env, DB_REPLICA_CONNECT_TIMEOUT="3")["OPTIONS"]["connect_timeout"] == 3
    in_url = {**env, "DATABASE_REPLICA_URL": f"{REPLICA_URL}?connect_timeout=2"}
    assert replica(**in_url)["OPTIONS"]["connect_timeout"] == 2


def test_the_replicas_pool_takes_its_own_sizes_and_the_rest_from_the_primarys():
    env = {
        "DATABASE_URL": PG_URL,
        "DATABASE_REPLICA_URL": REPLICA_URL,
        "DB_POOL": "true",
        "DB_POOL_MAX_SIZE": "4",
        "DB_POOL_MAX_LIFETIME": "120",
    }
    primary = database_config(env, base_dir=BASE_DIR)["OPTIONS"]["pool"]
    pool = replica(**env, DB_REPLICA_POOL_MAX_SIZE="2")["OPTIONS"]["pool"]
    assert (primary["max_size"], primary["timeout"]) == (4, 5.0)
    assert (pool["min_size"], pool["max_size"], pool["max_waiting"]) == (2, 2, 1)
    assert pool["max_lifetime"] == 120.0
    # Waiting for the pool of a replica that is down is its connect timeout.
    assert pool["timeout"] == 1.0
    assert replica(**env, DB_REPLICA_POOL_TIMEOUT="0.5")["OPTIONS"]["pool"]["timeout"] == 0.5
    assert replica(**env)["OPTIONS"]["pool"]["max_size"] == 4


def test_the_replicas_refusals_name_the_replicas_variables():
    env = {"DATABASE_URL": PG_URL, "DATABASE_REPLICA_URL": REPLICA_URL}
    assert "DB_REPLICA_POOL_MAX_SIZE" in refusal(**env, DB_REPLICA_POOL_MAX_SIZE="2")
    message = refusal(**env, DB_POOL="true", DB_REPLICA_POOL_MAX_SIZE="0")
    assert message == "DB_REPLICA_POOL_MAX_SIZE must be a whole number >= 1, got '0'."
    names = refusal(DATABASE_URL=PG_URL, DATABASE_REPLICA_URL="postgres://replica.example.com/")
    assert names.startswith("DATABASE_REPLICA_URL names no database")
    assert "got 'soon'" in refusal(**env, REPLICA_STICKY_SECONDS="soon")
    assert "REPLICA_RETRY_SECONDS" in refusal(**env, REPLICA_RETRY_SECONDS="0")
