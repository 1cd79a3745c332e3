"""bench/pool/strategies.py: every strategy the pooling benchmark runs is a configuration the
site accepts (culture/database.py) and builds what its name promises; and the bare view that
measures the machine touches no database and no middleware."""

from pathlib import Path

import pytest

from bench.pool.strategies import BARE, STRATEGIES, THROUGH_PGBOUNCER, strategy_env
from culture.database import database_config

DIRECT = "postgres://app:pw@127.0.0.1:5501/bench"
BOUNCER = "postgres://app:pw@127.0.0.1:6601/bench"


def site_config(strategy: str, threads: int = 4) -> dict:
    env = strategy_env(strategy, threads=threads, direct_url=DIRECT, bouncer_url=BOUNCER)
    return database_config(env, base_dir=Path("/srv/culture"))


@pytest.mark.parametrize("strategy", sorted(THROUGH_PGBOUNCER))
def test_pgbouncer_strategies_reach_pgbouncer_with_its_rules_on(strategy):
    config = site_config(strategy)

    assert config["PORT"] == 6601
    assert config["PGBOUNCER"] is True
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert "options" not in config["OPTIONS"]  # PgBouncer refuses startup options


@pytest.mark.parametrize("strategy", ["connect", "persistent", "pool", BARE])
def test_direct_strategies_reach_postgresql_itself(strategy):
    config = site_config(strategy)

    assert config["PORT"] == 5501
    assert config["PGBOUNCER"] is False


@pytest.mark.parametrize("strategy", ["persistent", "pgbouncer-persistent"])
def test_persistent_strategies_keep_connections_with_health_checks(strategy):
    config = site_config(strategy)

    assert config["CONN_MAX_AGE"] == 600
    assert config["CONN_HEALTH_CHECKS"] is True
    assert "pool" not in config["OPTIONS"]


@pytest.mark.parametrize("strategy", ["pool", "pool-pgbouncer"])
@pytest.mark.parametrize("threads", [1, 4])
def test_pool_strategies_size_the_pool_to_the_threads_and_keep_it_full(strategy, threads):
    config = site_config(strategy, threads=threads)

    assert config["CONN_MAX_AGE"] == 0
    assert config["OPTIONS"]["pool"]["min_size"] == threads
    assert config["OPTIONS"]["pool"]["max_size"] == threads


@pytest.mark.parametrize("strategy", ["connect", "pgbouncer", BARE])
def test_connect_per_request_strategies_keep_nothing(strategy):
    config = site_config(strategy)

    assert config["CONN_MAX_AGE"] == 0
    assert "pool" not in config["OPTIONS"]


def test_only_the_bare_view_swaps_the_settings_module():
    envs = {
        name: strategy_env(name, threads=4, direct_url=DIRECT, bouncer_url=BOUNCER)
        for name in [*STRATEGIES, BARE]
    }

    assert envs[BARE]["DJANGO_SETTINGS_MODULE"] == "bench.pool.bare"
    assert not any("DJANGO_SETTINGS_MODULE" in env for name, env in envs.items() if name != BARE)


def test_an_unknown_strategy_is_refused_by_name():
    with pytest.raises(ValueError, match="pgbouncer-session"):
        strategy_env("pgbouncer-session", threads=4, direct_url=DIRECT, bouncer_url=BOUNCER)


@pytest.mark.django_db
def test_the_bare_view_answers_without_middleware_or_queries(
    client, settings, django_assert_num_queries
):
    from bench.pool import bare

    settings.ROOT_URLCONF = "bench.pool.bare"
    settings.MIDDLEWARE = bare.MIDDLEWARE
    with django_assert_num_queries(0):
        response = client.get("/bare/")

    assert bare.MIDDLEWARE == []
    assert response.status_code == 200
    assert response.content == b"ok\n"
    # No middleware: none of the site's headers (security, cache, content version).
    assert "X-Content-Type-Options" not in response.headers
