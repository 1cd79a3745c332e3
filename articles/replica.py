"""Reads from the read replica (DATABASE_REPLICA_URL), when it is safe to.

Installed only with a replica (culture/settings.py): without one there is no router at all.
The database's clock (articles/clock.py) lives beside it for the same reason: both are about
which server answers, which the domain's reads depend on.

What reads where:

- Outside a reader's request (commands, the shell, workers, writes) everything goes to the
  primary: a request reads from the replica only inside `reading_from_replica()`, which
  ops.replica.ReplicaMiddleware enters for anonymous GETs and HEADs (not staff, not the API
  with a token, not a reader within REPLICA_STICKY_SECONDS of their own write).
- Even then only the content (the `articles` app) is read there. Sessions, users, tokens,
  rate-limit counters and the database cache's table are read where they are written, so a
  login or a counter never meets its own past.
- Writes always go to the primary, and so do migrations (allow_migrate).
- `primary()` pins a block (or, via `use_primary()`, the rest of the request) to the primary:
  the content version is drawn there (articles/versions.py), and a page whose version the
  replica has not yet replayed is rendered there (`caught_up()`).

A replica that cannot be reached is remembered as down for REPLICA_RETRY_SECONDS, per process:
reads go to the primary meanwhile, and only the first request paid the (short) connect
timeout. The choice is a ContextVar, so each gthread worker thread (and each asyncio task)
has its own.
"""

import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

import psycopg_pool
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger("articles.replica")

# The replica's alias in DATABASES (culture/database.py's replica_config() describes it).
REPLICA_ALIAS = "replica"

# The apps whose models a reader's request reads from the replica.
REPLICA_APPS = frozenset({"articles"})

_scope: ContextVar[str] = ContextVar("replica_scope", default=DEFAULT_DB_ALIAS)


def configured() -> bool:
    return REPLICA_ALIAS in connections.settings


def settings_value(key: str, default: float) -> float:
    return connections.settings[REPLICA_ALIAS].get(key, default) if configured() else default


@contextmanager
def _reading_on(alias: str):
    token = _scope.set(alias)
    try:
        yield
    finally:
        _scope.reset(token)


def reading_from_replica():
    """Content reads in this block go to the replica (while it is up)."""
    return _reading_on(REPLICA_ALIAS)


def primary():
    """Every read in this block goes to the primary."""
    return _reading_on(DEFAULT_DB_ALIAS)


def use_primary() -> None:
    """The rest of this request (up to the end of the enclosing block) reads from the
    primary."""
    _scope.set(DEFAULT_DB_ALIAS)


def in_replica_scope() -> bool:
    return _scope.get() == REPLICA_ALIAS


class _Health:
    """Until when (time.monotonic()) this process treats the replica as down."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down_until = 0.0

    def is_down(self) -> bool:
        return time.monotonic() < self.down_until

    def mark_down(self, error: BaseException) -> None:
        with self.lock:
            was_up = not self.is_down()
            self.down_until = time.monotonic() + settings_value("RETRY_SECONDS", 5.0)
        if was_up:
            logger.warning(
                "The read replica cannot be reached (%s): reads go to the primary for %s s",
                str(error).strip().splitlines()[0] if str(error).strip() else type(error),
                settings_value("RETRY_SECONDS", 5.0),
            )

    def reset(self) -> None:
        with self.lock:
            self.down_until = 0.0


health = _Health()


def replica_usable() -> bool:
    """Whether this request can read from the replica now: it is not remembered as down, and
    a connection can be had (the first check of a request opens or health-checks it)."""
    if health.is_down():
        return False
    replica = connections[REPLICA_ALIAS]
    try:
        replica.close_if_health_check_failed()
        replica.ensure_connection()
    except DatabaseError as error:
        if isinstance(error.__cause__, psycopg_pool.TooManyRequests):
            return False  # the replica's pool is busy, not down: this request reads elsewhere
        health.mark_down(error)
        replica.close()
        return False
    return True


def alias_for_reads() -> str:
    """Where this request's content reads go now."""
    if in_replica_scope() and replica_usable():
        return REPLICA_ALIAS
    return DEFAULT_DB_ALIAS


class ReplicaRouter:
    """DATABASE_ROUTERS' entry when DATABASE_REPLICA_URL is set."""

    def db_for_read(self, model, **hints):
        if model._meta.app_label not in REPLICA_APPS:
            return DEFAULT_DB_ALIAS
        return alias_for_reads()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: objects read from either are the same rows.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


# --- Replication position -------------------------------------------------------------------

# The WAL position a server has: written on a primary, replayed on a standby. A primary that
# is its own "replica" (tests, a promoted standby) has everything it wrote.
POSITION_SQL = (
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
    "ELSE pg_current_wal_lsn() END::text"
)
# Test-only: a position the replica's alias reports instead of its own (the lag switch of
# tests/test_replica_postgres.py, set with reporting_position()). None in production.
_reported_position = {"lsn": None}


@contextmanager
def reporting_position(lsn: str):
    """Test-only lag switch: the replica's alias reports `lsn` as its replayed position."""
    _reported_position["lsn"] = lsn
    try:
        yield
    finally:
        _reported_position["lsn"] = None


def position(alias: str = DEFAULT_DB_ALIAS) -> str | None:
    """The server's WAL position (an LSN such as "0/3000148"), None on SQLite."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    if alias == REPLICA_ALIAS and _reported_position["lsn"] is not None:
        return _reported_position["lsn"]
    with connection.cursor() as cursor:
        cursor.execute(POSITION_SQL)
        return cursor.fetchone()[0]


def lsn_value(lsn: str) -> int:
    """An LSN ("16/B374D848": two hex halves) as a number, for comparing."""
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def replayed(lsn: str) -> bool:
    """Whether the replica has replayed the WAL up to `lsn`."""
    here = position(REPLICA_ALIAS)
    return here is not None and lsn_value(here) >= lsn_value(lsn)


def caught_up(lsn: str | None) -> bool:
    """Before rendering an answer to be filed under a content version carrying `lsn`: if this
    request reads from a replica that has not replayed that far, its rows may predate the
    version, so the rest of the request reads from the primary (which has every commit the
    version counts). Returns whether the replica could be kept."""
    if lsn is None or alias_for_reads() != REPLICA_ALIAS:
        return True
    try:
        if replayed(lsn):
            return True
    except DatabaseError as error:
        health.mark_down(error)
    use_primary()
    return False


def state(lsn: str | None = None) -> str:
    """For /readyz: "none" without a replica, "down" when it cannot be reached, "lagging"
    when it has not replayed up to `lsn` (the content version's position), else "up"."""
    if not configured():
        return "none"
    if health.is_down():
        return "down"
    try:
        here = position(REPLICA_ALIAS)
    except DatabaseError as error:
        health.mark_down(error)
        connections[REPLICA_ALIAS].close()
        return "down"
    if lsn is not None and here is not None and lsn_value(here) < lsn_value(lsn):
        return "lagging"
    return "up"
