"""What gunicorn.conf.py needs from Django: check that the workers fit the connection settings,
name each worker's connections, open each worker's pool before it serves, and keep pools from
crossing a fork.

Kept here rather than in gunicorn.conf.py so the rules are unit-tested like culture/database.py;
the site itself never imports this module.
"""

import os
import time

from django.core.exceptions import ImproperlyConfigured

from culture.database import DEFAULT_APPLICATION_NAME, POSTGRES_ENGINE

# psycopg_pool's defaults, used by Django when OPTIONS["pool"] is True.
PSYCOPG_POOL_DEFAULT_MIN = 4
PSYCOPG_POOL_DEFAULT_TIMEOUT = 30.0

# Connections and pools that a worker inherited from the master. Their sockets are shared
# with the master (and its other children): closing them here, or letting the garbage
# collector finalise them, would send a Terminate message that ends the master's session.
# They are kept, unused, for the life of the worker.
_inherited = []


def threads_per_process(worker_class: str, threads: int) -> int:
    """Request threads in one worker: gthread runs `threads`; sync runs one (gunicorn
    switches a sync worker with threads > 1 to gthread itself)."""
    name = worker_class.rsplit(".", 1)[-1].lower()
    if name in {"sync", "syncworker"} and threads <= 1:
        return 1
    return max(1, threads)


def serving_problems(
    databases: dict, *, worker_class: str, threads: int, worker_timeout: float
) -> list[str]:
    """Why these gunicorn settings cannot work with these DATABASES (empty when they can)."""
    problems = []
    per_process = threads_per_process(worker_class, threads)
    for alias, config in databases.items():
        if config.get("ENGINE") != POSTGRES_ENGINE:
            continue
        options = config.get("OPTIONS") or {}
        pool = options.get("pool")
        if pool:
            pool = {} if pool is True else pool
            min_size = pool.get("min_size", PSYCOPG_POOL_DEFAULT_MIN)
            max_size = pool.get("max_size") or min_size
            if max_size < per_process:
                # Each request thread holds at most one connection per alias; with fewer
                # connections than threads, requests queue for the pool and time out as 503s
                # under a load the worker could otherwise serve.
                problems.append(
                    f"{alias}: DB_POOL_MAX_SIZE ({max_size}) is below the {per_process} "
                    "request threads of each worker: raise DB_POOL_MAX_SIZE to at least "
                    "GUNICORN_THREADS or lower GUNICORN_THREADS."
                )
            pool_timeout = float(pool.get("timeout", PSYCOPG_POOL_DEFAULT_TIMEOUT))
            if worker_timeout and pool_timeout >= worker_timeout:
                # The request must give up on the pool (a 503) before gunicorn gives up on
                # the worker (a killed worker, every request in it lost).
                problems.append(
                    f"{alias}: DB_POOL_TIMEOUT ({pool_timeout:g} s) is not below the worker "
                    f"timeout ({worker_timeout:g} s): lower DB_POOL_TIMEOUT or raise "
                    "GUNICORN_TIMEOUT."
                )
        connect_timeout = options.get("connect_timeout")
        if worker_timeout and connect_timeout and float(connect_timeout) >= worker_timeout:
            problems.append(
                f"{alias}: DB_CONNECT_TIMEOUT ({connect_timeout} s) is not below the worker "
                f"timeout ({worker_timeout:g} s): lower DB_CONNECT_TIMEOUT."
            )
    return problems


def serving_warnings(databases: dict, *, worker_class: str, threads: int) -> list[str]:
    """Settings that work but give up what the case study measured (empty when none)."""
    warnings = []
    per_process = threads_per_process(worker_class, threads)
    for alias, config in databases.items():
        if config.get("ENGINE") != POSTGRES_ENGINE:
            continue
        pool = (config.get("OPTIONS") or {}).get("pool")
        if not pool or per_process < 2:
            continue
        max_waiting = 0 if pool is True else int(pool.get("max_waiting", 0))
        if max_waiting == 0 or max_waiting >= per_process:
            # docs/pooling.md, "A leak exhausts the pool": every thread waits out the pool
            # timeout, and the requests gunicorn queues behind them wait up to twice as long.
            queue = "unbounded" if max_waiting == 0 else str(max_waiting)
            warnings.append(
                f"{alias}: DB_POOL_MAX_WAITING ({queue}) lets all {per_process} request "
                "threads of a worker wait for the pool: when connections leak, requests "
                "queued behind them wait past DB_POOL_TIMEOUT for their 503. Set it below "
                "GUNICORN_THREADS, or leave it unset (half of DB_POOL_MAX_SIZE)."
            )
    return warnings


def check_serving(databases: dict, **settings) -> None:
    problems = serving_problems(databases, **settings)
    if problems:
        raise ImproperlyConfigured("; ".join(problems))


def name_connections(databases: dict, pid: int | None = None) -> None:
    """Give every PostgreSQL connection of this process the name `<application_name>:<pid>`,
    so pg_stat_activity shows which worker holds what. Must run before the first connection
    (the pool copies its connection arguments when it is created)."""
    pid = os.getpid() if pid is None else pid
    for config in databases.values():
        if config.get("ENGINE") != POSTGRES_ENGINE:
            continue
        options = config.setdefault("OPTIONS", {})
        base = str(options.get("application_name") or DEFAULT_APPLICATION_NAME)
        base = base.rsplit(":", 1)[0] if base.rsplit(":", 1)[-1].isdigit() else base
        # PostgreSQL keeps 63 bytes of it; the pid must survive the cut.
        options["application_name"] = f"{base[: 63 - len(str(pid)) - 1]}:{pid}"


def open_pools(timeout: float | None = None) -> None:
    """In a new worker: open this process's pools and wait, up to the pool timeout (or
    `timeout`), until each holds its min_size connections.

    Django otherwise opens a pool at the first request, and a worker that starts under load
    would queue its first requests for connections still being made: a bounded queue
    (DB_POOL_MAX_WAITING) answers the ones past the bound 503. A database that does not answer
    only delays the worker by that long; the pool keeps connecting in the background, as it
    would have. Call it after name_connections(): the pool copies its connection arguments.
    """
    from django.db import connections

    from ops.pool import install

    for connection in connections.all():
        if connection.vendor != "postgresql":
            continue
        pool = connection.pool
        if pool is None:
            continue
        install(pool)
        pool.open()
        wait = pool.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        while pool.get_stats().get("pool_available", 0) < pool.min_size:
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)


def close_connections_before_fork() -> None:
    """In the master: close every connection and pool, so no worker inherits a socket.

    With --preload, a query at import time (a check, a cache warm-up) opens the pool in the
    master; its connections would otherwise be shared by every worker (Django ticket #36957).
    """
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
    for pool_class in _pool_holders():
        for alias, pool in list(pool_class._connection_pools.items()):
            pool.close()
            del pool_class._connection_pools[alias]


def forget_inherited_connections() -> None:
    """In a new worker: drop whatever connection or pool came across the fork, unclosed.

    Django then builds this worker's own pool lazily, with this worker's application_name.
    """
    from django.db import connections

    for pool_class in _pool_holders():
        _inherited.extend(pool_class._connection_pools.values())
        pool_class._connection_pools.clear()
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _inherited.append(connection.connection)
            connection.connection = None


def _pool_holders():
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper
    except ImportError:  # psycopg is not installed: no pool can exist
        return []
    return [DatabaseWrapper]
