"""Django's psycopg pool, plus one thing: a health check that sweeps the whole pool.

With CONN_HEALTH_CHECKS=True, Django gives the pool psycopg_pool's `check_connection`, run on
every checkout. When it fails, psycopg_pool discards that connection, schedules a replacement
(which joins the *back* of the pool) and draws the next one from the front, after a back-off of
0, then about 1, 2 and 4 seconds (psycopg_pool 3.2+, so that a server that is down is not
checked in a busy loop). After a database restart every idle connection is dead: a request that
draws a pool of four of them one after the other reaches the fourth after 0 + 1 + 2 s and, with
a 5 s pool timeout, fails with PoolTimeout (a 503) before it reaches the healthy replacements
queued behind them. The benchmark saw it (docs/pooling.md: 1 failed request of 107 after an
idle restart); tests/test_pool_postgres.py reproduces it.

The fix is psycopg's own advice for a detected disconnection: call `pool.check()`. When a
checkout's check fails, the check below first runs `pool.check()`, which tests every idle
connection at once and replaces the dead ones, then reports the failure as before; the
request's retry (immediate after a first failure) takes a live connection, or waits in the
pool's queue for the first replacement to connect, instead of drawing the next dead one.

While the replacements connect (a few tens of milliseconds) the pool has nothing to hand out,
so every request of the worker queues for it at once; a bounded queue (DB_POOL_MAX_WAITING)
would turn the ones past the bound into 503s although a connection is moments away. The bound
exists for a pool that is *busy* (a leak), not one that is *refilling*, so the sweep lifts it
for one pool timeout and then puts it back.

The check asks the server only when it has to. A connection handed back to the pool was left
idle after its last answer, with nothing more to come; when the server drops it (a restart,
`pg_terminate_backend`, `idle_session_timeout`, PgBouncer closing a client), the server's last
message and the close arrive on its socket, which becomes readable. So a checkout first looks
at the socket without waiting (one `poll()`, a few microseconds): an open connection with
nothing waiting is handed out as it is, and anything else (something arrived, libpq no longer
sees it open) gets psycopg_pool's check, a round trip to the server. The round trip cost the
worker about 60 µs of CPU on every checkout, as much as a small query (docs/performance.md);
what it alone would catch is a server that vanished without closing anything (a host or a
network gone), where its query waits for the network's timeout as the request's own would.

The check is installed on the pool Django builds, at its first connection (`connection_created`,
registered by ops.apps; gunicorn workers also install it when they open their pool). Django
passes `check` itself, so it cannot come from OPTIONS["pool"]: this replaces the pool's
`_check`, and only when it is the `check_connection` Django set, so a future psycopg_pool or
Django that changes either leaves the pool as Django made it (the PostgreSQL tests then fail,
rather than the site).
"""

import logging
import select
import threading
import time

import psycopg
from psycopg.pq import ConnStatus
from psycopg_pool import ConnectionPool
from psycopg_pool.base import AttemptWithBackoff

from ops.availability import first_line

logger = logging.getLogger("ops.database")


class _Bound:
    """The pool's max_waiting, lifted while it refills and put back afterwards."""

    def __init__(self, pool: ConnectionPool):
        self.pool = pool
        self.lock = threading.Lock()
        self.saved = 0  # the bound while it is lifted, else 0
        self.until = 0.0
        self.timer: threading.Timer | None = None

    def lift(self) -> None:
        with self.lock:
            if self.pool.max_waiting:
                self.saved = self.pool.max_waiting
                self.pool.max_waiting = 0
            if not self.saved:
                return  # unbounded anyway
            # Until one pool timeout from the latest failed check: no request that queued
            # meanwhile waits longer than that.
            self.until = time.monotonic() + float(self.pool.timeout)
            if self.timer is None:
                self._schedule(float(self.pool.timeout))

    def restore(self) -> None:
        with self.lock:
            self.timer = None
            left = self.until - time.monotonic()
            if left > 0:  # a later failed check extended the lift
                self._schedule(left)
            elif self.saved:
                self.pool.max_waiting = self.saved
                self.saved = 0

    def _schedule(self, seconds: float) -> None:
        self.timer = threading.Timer(seconds + 0.01, self.restore)
        self.timer.daemon = True
        self.timer.start()


def quiet(conn) -> bool:
    """Whether the idle connection `conn` is open as far as libpq knows and nothing has arrived
    on its socket since its last answer (the server has neither closed it nor said anything):
    looked at without waiting and without a round trip."""
    try:
        if conn.closed or conn.pgconn.status != ConnStatus.OK:
            return False
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except (OSError, ValueError, psycopg.Error):
        return False


def sweeping_check(pool: ConnectionPool):
    """psycopg_pool's check_connection, asked only when the connection is not quiet(), that,
    when a connection fails it, checks the whole pool (`pool.check()`) and lets requests queue
    while it refills, before reporting the failure."""
    # One sweep at a time: requests that fail their checks together need only one.
    sweeping = threading.Lock()
    bound = _Bound(pool)

    def check(conn) -> None:
        if quiet(conn):
            return
        try:
            ConnectionPool.check_connection(conn)
        except Exception as exc:
            # Lifted before this request retries, so its own wait is never refused.
            bound.lift()
            if sweeping.acquire(blocking=False):
                try:
                    pool.check()
                except Exception:  # the request's own error is the one to report
                    logger.exception("pool %s: the sweep after a failed check failed", pool.name)
                else:
                    logger.warning(
                        "pool %s: a connection failed its health check (%s); checked every "
                        "idle connection and replaced the dead ones",
                        pool.name,
                        first_line(exc),
                    )
                finally:
                    sweeping.release()
            raise

    check.sweeps_pool = True
    check.bound = bound
    return check


class SteadyAttempt(AttemptWithBackoff):
    """psycopg_pool's reconnection back-off (about 1 s, then doubling), never longer than
    RECONNECT_DELAY_MAX between attempts."""

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, RECONNECT_DELAY_MAX)


# The longest wait between two attempts to replace a lost connection. psycopg_pool doubles it
# after every failed attempt for as long as the server is down (1, 2, 4, 8, 16 s…), so after a
# 20 s outage the next attempt could be 16 s away: pages answered 503 for 8.8 s after the
# server was back, while the site's Retry-After says 2-5 s. At most 1 s, a worker's pool is
# back within about a second (docs/pooling.md, "An outage"). An attempt at a server that is
# down is a refused connection, so a few per second per worker cost nothing.
RECONNECT_DELAY_MAX = 1.0


def steady_reconnects(pool: ConnectionPool):
    """The pool's _add_connection, starting every new series of attempts with a SteadyAttempt
    (the later attempts of a series reuse its object)."""
    add_connection = pool._add_connection

    def add(attempt=None, growing=False):
        if attempt is None:
            attempt = SteadyAttempt(timeout=pool.reconnect_timeout)
        return add_connection(attempt, growing=growing)

    add.steady = True
    return add


def install(pool) -> None:
    """Give `pool` the sweeping check if it has Django's health check, and steady reconnection
    attempts (once)."""
    if pool is None:
        return
    if getattr(pool, "_check", None) is ConnectionPool.check_connection:
        pool._check = sweeping_check(pool)
    add_connection = getattr(pool, "_add_connection", None)
    if add_connection is not None and not getattr(add_connection, "steady", False):
        pool._add_connection = steady_reconnects(pool)


def install_sweeping_check(sender=None, connection=None, **kwargs) -> None:
    """connection_created receiver: give this connection's pool the sweeping check."""
    if connection is not None and connection.vendor == "postgresql":
        install(connection.pool)


def sweeps(pool) -> bool:
    """Whether this pool's health check is the sweeping one."""
    return bool(getattr(getattr(pool, "_check", None), "sweeps_pool", False))
