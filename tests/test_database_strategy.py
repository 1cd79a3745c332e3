"""describe_strategy (ops/status.py): the name the status page gives the connection strategy
that a configuration from culture/database.py makes."""

import pytest

from ops.status import describe_strategy
from tests.database_support import config, pg


def test_strategy_of_sqlite_is_sqlite_whatever_conn_max_age():
    assert describe_strategy(config()) == "sqlite"
    assert describe_strategy(config(CONN_MAX_AGE="60")) == "sqlite"


def test_strategy_of_postgres_defaults_is_connect_per_request():
    assert describe_strategy(pg()) == "connect-per-request"


@pytest.mark.parametrize("conn_max_age", ["60", "None"])
def test_strategy_with_conn_max_age_is_persistent(conn_max_age):
    assert describe_strategy(pg(CONN_MAX_AGE=conn_max_age)) == "persistent"


def test_strategy_with_pool_is_pool():
    assert describe_strategy(pg(DB_POOL="true")) == "pool"


def test_strategy_reads_django_shaped_dicts_too():
    # settings.DATABASES after Django fills its defaults; "pool": {} is no pool to Django.
    engine = "django.db.backends.postgresql"

    assert describe_strategy({"ENGINE": engine}) == "connect-per-request"
    assert describe_strategy({"ENGINE": engine, "OPTIONS": {"pool": {}}}) == "connect-per-request"
