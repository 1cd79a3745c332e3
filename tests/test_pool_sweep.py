"""ops/pool.py without a database: the sweeping health check and where it is installed.

What it does on a real pool after every connection died is in tests/test_pool_postgres.py.
"""

import socket
import threading
import time

import psycopg
import pytest
from psycopg.pq import ConnStatus
from psycopg_pool import ConnectionPool

from ops.pool import (
    RECONNECT_DELAY_MAX,
    SteadyAttempt,
    install,
    install_sweeping_check,
    quiet,
    sweeping_check,
    sweeps,
)


class FakePool:
    def __init__(self, max_waiting=2, timeout=0.2):
        self.name = "pool-test"
        self.max_waiting = max_waiting
        self.timeout = timeout
        self.checks = 0
        self._check = ConnectionPool.check_connection

    def check(self):
        self.checks += 1


class FakeConnection:
    """What the check sees: a socket whose server end (`server`) is open or was closed, as a
    restart closes it; libpq's status; autocommit on, and execute("") that works or fails,
    counted (a round trip)."""

    autocommit = True

    def __init__(self, alive: bool, *, said=b""):
        self.alive = alive
        self.closed = False
        self.pgconn = type("PGconn", (), {"status": ConnStatus.OK})()
        self.round_trips = 0
        self.socket, self.server = socket.socketpair()
        if said:
            self.server.sendall(said)  # something arrived since the last answer
        if not alive:
            self.server.sendall(b"E")  # the server's last word, then it closes
            self.server.close()

    def fileno(self):
        return self.socket.fileno()

    def execute(self, query):
        self.round_trips += 1
        if not self.alive:
            raise psycopg.OperationalError("terminating connection due to administrator command")

    def close(self):
        self.socket.close()
        if self.alive:
            self.server.close()


def fail_dead(check) -> None:
    """A dead connection fails `check`, sweep or not."""
    conn = FakeConnection(alive=False)
    with pytest.raises(psycopg.OperationalError):
        check(conn)
    conn.close()


def bound_restored(pool, bound: int) -> bool:
    """Whether the pool's queue bound is back to `bound` within three seconds."""
    deadline = time.monotonic() + 3
    while pool.max_waiting != bound and time.monotonic() < deadline:
        time.sleep(0.02)
    return pool.max_waiting == bound


def test_a_live_connection_passes_without_a_sweep():
    pool = FakePool()
    sweeping_check(pool)(FakeConnection(alive=True))
    assert pool.checks == 0
    assert pool.max_waiting == 2


def test_a_quiet_idle_connection_is_handed_out_without_a_round_trip():
    conn = FakeConnection(alive=True)
    assert quiet(conn)
    sweeping_check(FakePool())(conn)
    assert conn.round_trips == 0
    conn.close()


def test_a_connection_the_server_closed_is_asked_and_fails():
    pool = FakePool()
    conn = FakeConnection(alive=False)
    assert not quiet(conn)
    fail_dead(sweeping_check(pool))
    with pytest.raises(psycopg.OperationalError):
        sweeping_check(pool)(conn)
    assert conn.round_trips == 1
    conn.close()


def test_a_connection_with_something_waiting_is_asked_and_passes():
    # A notice that arrived while it was idle: the round trip reads it, the connection stays.
    pool = FakePool()
    conn = FakeConnection(alive=True, said=b"N")
    assert not quiet(conn)
    sweeping_check(pool)(conn)
    assert (conn.round_trips, pool.checks) == (1, 0)
    conn.close()


@pytest.mark.parametrize("broken", ["closed", "status"])
def test_a_connection_libpq_no_longer_sees_open_is_asked(broken):
    conn = FakeConnection(alive=True)
    if broken == "closed":
        conn.closed = True
    else:
        conn.pgconn.status = ConnStatus.BAD
    assert not quiet(conn)
    sweeping_check(FakePool())(conn)
    assert conn.round_trips == 1
    conn.close()


def test_a_dead_connection_sweeps_the_pool_and_still_fails_its_check():
    pool = FakePool()
    fail_dead(sweeping_check(pool))
    assert pool.checks == 1


def test_the_queue_bound_is_lifted_for_one_pool_timeout_then_restored():
    pool = FakePool(max_waiting=2, timeout=0.2)
    check = sweeping_check(pool)
    fail_dead(check)
    assert pool.max_waiting == 0  # requests may queue while the pool refills
    assert bound_restored(pool, 2)


def test_a_second_failure_extends_the_lift_and_keeps_the_configured_bound():
    pool = FakePool(max_waiting=3, timeout=0.3)
    check = sweeping_check(pool)
    fail_dead(check)
    timer = check.bound.timer
    time.sleep(0.2)
    fail_dead(check)
    assert check.bound.timer is timer  # one timer at a time, however many checks fail
    time.sleep(0.2)  # past the first lift's end, inside the second's
    assert pool.max_waiting == 0
    assert bound_restored(pool, 3)


def test_an_unbounded_queue_stays_unbounded():
    pool = FakePool(max_waiting=0, timeout=0.1)
    fail_dead(sweeping_check(pool))
    time.sleep(0.3)
    assert pool.max_waiting == 0


def test_simultaneous_failures_sweep_once():
    pool = FakePool()
    entered = threading.Event()
    release = threading.Event()

    def slow_check():
        pool.checks += 1
        entered.set()
        release.wait(5)

    pool.check = slow_check
    check = sweeping_check(pool)
    errors = []

    def fail():
        try:
            check(FakeConnection(alive=False))
        except psycopg.OperationalError as exc:
            errors.append(exc)

    first = threading.Thread(target=fail)
    first.start()
    assert entered.wait(5)
    fail()  # while the first sweep runs: no second sweep, the same failure
    release.set()
    first.join(5)
    assert pool.checks == 1
    assert len(errors) == 2


def test_installed_only_over_djangos_health_check():
    pool = FakePool()
    install(pool)
    assert sweeps(pool)
    swept = pool._check
    install(pool)  # once
    assert pool._check is swept

    without_checks = FakePool()
    without_checks._check = None  # CONN_HEALTH_CHECKS=False
    install(without_checks)
    assert without_checks._check is None
    assert not sweeps(without_checks)

    def own_check(conn):
        pass

    custom = FakePool()
    custom._check = own_check  # someone else's check is left alone
    install(custom)
    assert custom._check is own_check


def test_the_receiver_ignores_other_databases_and_connections_without_a_pool():
    class SQLite:
        vendor = "sqlite"

    class Unpooled:
        vendor = "postgresql"
        pool = None

    install_sweeping_check(connection=SQLite())
    install_sweeping_check(connection=Unpooled())
    install_sweeping_check(connection=None)


# --- reconnection attempts ----------------------------------------------------------------


def test_reconnection_attempts_are_never_further_apart_than_the_steady_maximum():
    attempt = SteadyAttempt(timeout=300)
    now, delays = 0.0, []
    for _ in range(12):  # psycopg_pool's own would reach about 1 x 2^11 s
        attempt.update_delay(now)
        delays.append(attempt.delay)
        now += attempt.delay

    assert 0.5 < delays[0] <= RECONNECT_DELAY_MAX
    assert max(delays) == RECONNECT_DELAY_MAX


def test_a_new_series_of_reconnection_attempts_is_steady_and_a_running_one_keeps_its_own():
    pool = FakePool()
    pool.reconnect_timeout = 300
    seen = []
    pool._add_connection = lambda attempt, growing=False: seen.append((attempt, growing))
    install(pool)
    install(pool)  # once only
    running = SteadyAttempt(timeout=1)

    pool._add_connection(None, growing=True)
    pool._add_connection(running)

    assert isinstance(seen[0][0], SteadyAttempt)
    assert seen[0][0].timeout == 300
    assert seen[0][1] is True
    assert seen[1] == (running, False)
    assert len(seen) == 2
