"""The connection strategies the benchmark compares, as environment values for the site.

Pure (no servers), so tests can run each one through culture/database.py and see that the
site accepts it and builds what the strategy's name promises.

Two of them put PgBouncer (transaction mode) between the site and PostgreSQL with the site
still keeping its connections: what operators run when several hosts share one server. The
site's connections are then client connections to PgBouncer, cheap to keep; PgBouncer holds
the server connections and lends one per transaction.
"""

# name: (label in the tables, short label)
STRATEGIES = {
    "connect": ("CONN_MAX_AGE=0", "connect"),
    "persistent": ("CONN_MAX_AGE=600 + health checks", "persistent"),
    "pool": ("native pool (max_size = threads)", "pool"),
    "pgbouncer": ("PgBouncer, transaction mode, CONN_MAX_AGE=0", "PgBouncer"),
    "pgbouncer-persistent": (
        "PgBouncer, transaction mode, CONN_MAX_AGE=600 + health checks",
        "PgBouncer + persistent",
    ),
    "pool-pgbouncer": ("native pool → PgBouncer, transaction mode", "pool → PgBouncer"),
}
# Strategies whose DATABASE_URL is PgBouncer's.
THROUGH_PGBOUNCER = frozenset({"pgbouncer", "pgbouncer-persistent", "pool-pgbouncer"})
# The bare view that measures the machine (bench/pool/bare.py): no database at all.
BARE = "bare"


def strategy_env(strategy: str, *, threads: int, direct_url: str, bouncer_url: str) -> dict:
    """The environment values that select `strategy` for a worker with `threads` threads."""
    if strategy not in STRATEGIES and strategy != BARE:
        raise ValueError(f"unknown strategy {strategy!r}: one of {', '.join(STRATEGIES)}")
    bounced = strategy in THROUGH_PGBOUNCER
    env = {
        "DATABASE_URL": bouncer_url if bounced else direct_url,
        "CONN_HEALTH_CHECKS": "true",
    }
    if bounced:
        # The site's own switch for PgBouncer in transaction mode: server-side cursors off,
        # no libpq startup options, migrate refused (culture/database.py).
        env["DB_PGBOUNCER"] = "true"
    if strategy in {"connect", "pgbouncer", BARE}:
        env["CONN_MAX_AGE"] = "0"
    elif strategy in {"persistent", "pgbouncer-persistent"}:
        env["CONN_MAX_AGE"] = "600"
    else:  # a pool, direct or in front of PgBouncer, sized to the threads and kept full
        env.update(
            DB_POOL="true",
            DB_POOL_MIN_SIZE=str(threads),
            DB_POOL_MAX_SIZE=str(threads),
            DB_POOL_TIMEOUT="5",
        )
    if strategy == BARE:
        env["DJANGO_SETTINGS_MODULE"] = "bench.pool.bare"
    return env


def label(strategy: str) -> str:
    return STRATEGIES[strategy][0] if strategy in STRATEGIES else strategy


def short(strategy: str) -> str:
    return STRATEGIES[strategy][1] if strategy in STRATEGIES else strategy
