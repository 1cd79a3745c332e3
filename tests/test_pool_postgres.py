"""The native pool on a real PostgreSQL: knobs, refusals, exhaustion, outages and recovery.

CI runs these with DB_POOL=true DB_POOL_MIN_SIZE=1 DB_POOL_MAX_SIZE=4 DB_POOL_TIMEOUT=10. Tests
that need another configuration start a subprocess; the exhaustion and recovery tests hold the
live pool's connections from threads and set its timeout or queue bound for the duration of
the test.
"""

import logging
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from tests.factories import ArticleFactory, StaffFactory
from tests.postgres_support import free_port, needs_pool, own_connection, run_django
from tests.process_support import run

pytestmark = pytest.mark.postgres


# --- knobs and refusals -------------------------------------------------------------------

KNOBS = """
from django.db import connection
from ops.pool import sweeps
connection.ensure_connection()
pool = connection.pool
stats = pool.get_stats()
with connection.cursor() as cursor:
    cursor.execute("SELECT current_setting('application_name')")
    name = cursor.fetchone()[0]
print(json.dumps({
    "pool_min": stats["pool_min"], "pool_max": stats["pool_max"], "timeout": pool.timeout,
    "max_idle": pool.max_idle, "max_lifetime": pool.max_lifetime,
    "max_waiting": pool.max_waiting, "check": pool._check is not None,
    "sweeps": sweeps(pool), "application_name": name,
}))
"""


def test_every_pool_knob_reaches_the_live_pool():
    live = run_django(
        KNOBS,
        DATABASE_URL=os.environ["DATABASE_URL"],
        DB_POOL="true",
        DB_POOL_MIN_SIZE="2",
        DB_POOL_MAX_SIZE="7",
        DB_POOL_TIMEOUT="3.5",
        DB_POOL_MAX_IDLE="120",
        DB_POOL_MAX_LIFETIME="900",
        DB_POOL_MAX_WAITING="9",
        DB_APPLICATION_NAME="knob-check",
        CONN_HEALTH_CHECKS="true",
    )
    assert live == {
        "pool_min": 2,
        "pool_max": 7,
        "timeout": 3.5,
        "max_idle": 120.0,
        "max_lifetime": 900.0,
        "max_waiting": 9,
        "check": True,
        "sweeps": True,
        "application_name": "knob-check",
    }


def test_the_default_pool_is_the_recommended_one():
    live = run_django(KNOBS, DATABASE_URL=os.environ["DATABASE_URL"], DB_POOL="true")
    assert (live["pool_min"], live["pool_max"], live["timeout"]) == (4, 4, 5.0)
    assert live["max_waiting"] == 2
    assert live["check"] is True
    assert live["sweeps"] is True


def test_health_checks_off_leave_the_pool_without_a_check():
    live = run_django(
        KNOBS, DATABASE_URL=os.environ["DATABASE_URL"], DB_POOL="true", CONN_HEALTH_CHECKS="false"
    )
    assert live["check"] is False
    assert live["sweeps"] is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONN_MAX_AGE": "60"}, "Pooling doesn't support persistent connections"),
        ({"DB_POOL_MIN_SIZE": "8", "DB_POOL_MAX_SIZE": "4"}, "is below DB_POOL_MIN_SIZE"),
        ({"DB_POOL_TIMEOUT": "soon"}, "DB_POOL_TIMEOUT must be a number of seconds"),
    ],
)
def test_impossible_pool_settings_stop_the_site_at_start(env, message):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DB_", "CONN_", "SQLITE_"))
    }
    environment.update({"DB_POOL": "true", **env})
    result = run([sys.executable, "manage.py", "check"], environment)
    assert result.returncode != 0
    assert message in result.stderr


def test_gunicorn_refuses_a_pool_smaller_than_its_threads():
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DB_", "CONN_", "SQLITE_", "GUNICORN_"))
    }
    environment.update(DB_POOL="true", DB_POOL_MAX_SIZE="2", GUNICORN_THREADS="8")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    result = run([gunicorn, "-c", "gunicorn.conf.py", "--check-config"], environment)
    assert result.returncode != 0
    assert "DB_POOL_MAX_SIZE (2) is below the 8 request threads" in result.stderr


# --- exhaustion ---------------------------------------------------------------------------


class Holders:
    """Threads that each take a connection from the live pool and hold it in a transaction,
    the way a leaked connection or a slow request does, until released."""

    def __init__(self, count: int):
        self.ready = threading.Barrier(count + 1, timeout=30)
        self.release = threading.Event()
        self.errors = []
        self.threads = [threading.Thread(target=self.hold, daemon=True) for _ in range(count)]

    def hold(self):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.ready.wait()
                self.release.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass
        except Exception as exc:
            self.errors.append(exc)
            self.ready.abort()
        finally:
            connections.close_all()  # back to the pool

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        try:
            self.ready.wait()
        except threading.BrokenBarrierError:
            self.__exit__()
            # What the pool held and who else could hold a connection, for the next reader.
            stats = connection.pool.get_stats()
            threads = [thread.name for thread in threading.enumerate()]
            mine = (connection.connection is not None, connection.in_atomic_block)
            raise AssertionError(
                f"a holder could not get a connection: {self.errors}; the pool: {stats}; "
                f"this thread's connection (open, in a transaction): {mine}; threads: {threads}"
            ) from None
        return self

    def __exit__(self, *exc):
        self.release.set()
        for thread in self.threads:
            thread.join(timeout=30)


@needs_pool
@pytest.mark.django_db(transaction=True)
def test_exhausted_pool_answers_503_within_the_pool_timeout(client, monkeypatch, caplog):
    caplog.set_level(logging.WARNING)
    story = ArticleFactory()
    connection.close()  # this thread's connection goes back to the pool
    pool = connection.pool
    with Holders(pool.max_size) as holders:
        # Bounded only once the holders have their connections: on a loaded machine the pool
        # may still be opening them one by one (its minimum size is 1 in CI).
        monkeypatch.setattr(pool, "timeout", 1.0)
        assert pool.get_stats()["pool_available"] == 0
        started = time.monotonic()
        page = client.get(story.get_absolute_url())
        page_seconds = time.monotonic() - started
        started = time.monotonic()
        api = client.get("/api/v1/stories")
        api_seconds = time.monotonic() - started
    assert holders.errors == []
    assert page.status_code == 503
    assert page["Retry-After"] == "2"
    assert "잠시 후 다시 시도해 주세요" in page.content.decode()
    assert 1.0 <= page_seconds < 1.5
    assert api.status_code == 503
    assert api["Retry-After"] == "2"
    assert api.json()["status"] == 503
    assert 1.0 <= api_seconds < 1.5
    logged = [r.getMessage() for r in caplog.records if r.name == "ops.database"]
    assert len(logged) == 2
    assert all("pool-exhausted" in line and "pool_max=" in line for line in logged)
    # Released: the next request gets a connection at once.
    assert client.get(story.get_absolute_url()).status_code == 200


@needs_pool
@pytest.mark.django_db(transaction=True)
def test_a_full_waiting_queue_answers_503_at_once(client, monkeypatch):
    connection.close()
    pool = connection.pool
    with Holders(pool.max_size):
        # Set once the holders have their connections: while the pool opens them, more than
        # one holder may wait, which a queue of one would refuse.
        monkeypatch.setattr(pool, "timeout", 5.0)
        monkeypatch.setattr(pool, "max_waiting", 1)

        def wait_for_a_connection():
            try:
                Client().get(reverse("ops:readyz"))
            finally:
                # The test client keeps request_finished from closing connections.
                connections.close_all()

        waiter = threading.Thread(target=wait_for_a_connection)
        waiter.start()
        deadline = time.monotonic() + 5
        while pool.get_stats()["requests_waiting"] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        response = client.get(reverse("articles:home"))
        seconds = time.monotonic() - started
    waiter.join(timeout=10)
    assert response.status_code == 503
    assert seconds < 0.5
    assert "기다릴 자리가 없습니다" in response.content.decode()


# --- probes -------------------------------------------------------------------------------


@needs_pool
@pytest.mark.django_db(transaction=True)
def test_healthz_takes_nothing_from_the_pool(client):
    connection.close()
    before = connection.pool.get_stats().get("requests_num", 0)
    for _ in range(5):
        assert client.get(reverse("ops:healthz")).status_code == 200
    assert connection.pool.get_stats().get("requests_num", 0) == before


READYZ = """
from django.test import Client
started = time.monotonic()
response = Client().get("/readyz")
print(json.dumps({"status": response.status_code, "body": response.json(),
                  "retry_after": response.get("Retry-After"),
                  "seconds": time.monotonic() - started}))
"""


@pytest.mark.parametrize("pooled", [True, False], ids=["pool", "connect-per-request"])
def test_readyz_fails_when_the_server_refuses_connections(pooled):
    url = f"postgres://postgres@127.0.0.1:{free_port()}/culture"  # nothing listens there
    env = {"DATABASE_URL": url, "DB_CONNECT_TIMEOUT": "2"}
    if pooled:
        env.update(DB_POOL="true", DB_POOL_MIN_SIZE="1", DB_POOL_TIMEOUT="1")
    ready = run_django(READYZ, **env)
    assert ready["status"] == 503
    assert ready["body"]["status"] == "unavailable"
    assert ready["retry_after"] in {"2", "5"}
    # Bounded by the 1 s pool timeout or the 2 s connect timeout, not the pool's 30 s default
    # (generous: a loaded machine adds start-up time, not a hang).
    assert ready["seconds"] < 8


# --- recovery ---------------------------------------------------------------------------


@pytest.fixture
def dead_pool(monkeypatch):
    """The live pool with every connection open and idle, then terminated by the server, as
    a database restart leaves them. A 2 s pool timeout: the back-off of psycopg_pool's check
    loop (0, 1, 2 s) reaches the fourth dead connection only after 3 s."""
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    story = ArticleFactory()
    connection.close()
    pool = connection.pool
    with Holders(pool.max_size):
        pass
    monkeypatch.setattr(pool, "timeout", 2.0)  # once filled (see the exhaustion tests)
    assert pool.get_stats()["pool_available"] == pool.max_size
    name = connection.settings_dict["OPTIONS"]["application_name"]
    with own_connection("pool-tests-admin") as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database() "
            "AND pid <> pg_backend_pid()",
            [name],
        ).fetchone()[0]
    assert killed >= pool.max_size
    time.sleep(0.2)
    yield pool, story
    # The sweep lifted the queue bound for one pool timeout: let it come back before the
    # next test (and monkeypatch) see the pool.
    bound = getattr(pool._check, "bound", None)
    deadline = time.monotonic() + 5
    while bound is not None and bound.saved and time.monotonic() < deadline:
        time.sleep(0.05)


@needs_pool
@pytest.mark.django_db(transaction=True)
def test_one_request_after_every_connection_died_gets_a_live_one_at_once(dead_pool, caplog):
    """docs/pooling.md's miss: after an idle restart, one request drew the pool's dead
    connections one after another, with psycopg_pool's back-off of 0, 1, 2 s between checks,
    and failed at the pool timeout while live replacements waited behind them. The sweeping
    check (ops/pool.py) replaces every dead connection at the first failed check."""
    caplog.set_level(logging.WARNING)
    pool, story = dead_pool

    client = Client()
    started = time.monotonic()
    first = client.get(story.get_absolute_url())
    first_seconds = time.monotonic() - started
    statuses = [client.get(path).status_code for path in [reverse("ops:readyz")] * 7]
    seconds = time.monotonic() - started
    connections.close_all()

    assert first.status_code == 200
    assert first_seconds < 1.0  # one connect, not 0 + 1 + 2 s of back-off
    assert statuses == [200] * 7
    assert seconds < 2.0
    assert pool.get_stats()["connections_lost"] >= pool.max_size
    logged = [r.getMessage() for r in caplog.records if r.name == "ops.database"]
    assert any("failed its health check" in line for line in logged)
    assert not any(line.startswith("503") for line in logged)


@needs_pool
@pytest.mark.django_db(transaction=True)
def test_a_burst_after_every_connection_died_waits_for_the_refill(dead_pool, monkeypatch):
    """Every thread of a worker at once after a restart: each finds a dead connection, then
    all queue while the replacements connect. The queue bound (DB_POOL_MAX_WAITING) is for a
    busy pool, not a refilling one: none of them may be turned away with a 503."""
    pool, story = dead_pool
    monkeypatch.setattr(pool, "max_waiting", 1)  # tighter than any default
    readers = pool.max_size
    start = threading.Barrier(readers, timeout=30)
    results = []

    def read():
        try:
            start.wait()
            results.append(Client().get(story.get_absolute_url()).status_code)
        except Exception as exc:
            results.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert results == [200] * readers
    # The bound comes back once the pool has had one pool timeout to refill.
    deadline = time.monotonic() + pool.timeout + 2
    while pool.max_waiting != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.max_waiting == 1


OPEN_POOLS = """
from django.db import connection
from ops.pool import sweeps
from culture.workers import open_pools
started = time.monotonic()
open_pools(timeout=float(os.environ.get("WAIT", "5")))
seconds = time.monotonic() - started
pool = connection.pool
stats = pool.get_stats()
print(json.dumps({"available": stats.get("pool_available", 0), "closed": pool.closed,
                  "sweeps": sweeps(pool), "seconds": seconds}))
"""


def test_a_worker_opens_its_pool_full_before_it_serves():
    live = run_django(
        "import os\n" + OPEN_POOLS,
        DATABASE_URL=os.environ["DATABASE_URL"],
        DB_POOL="true",
        DB_POOL_MIN_SIZE="3",
        DB_POOL_MAX_SIZE="4",
    )
    assert live["available"] == 3
    assert live["closed"] is False
    assert live["sweeps"] is True


def test_a_worker_starts_anyway_when_the_database_does_not_answer():
    url = f"postgres://postgres@127.0.0.1:{free_port()}/culture"  # nothing listens there
    live = run_django(
        "import os\n" + OPEN_POOLS,
        DATABASE_URL=url,
        DB_POOL="true",
        DB_CONNECT_TIMEOUT="1",
        WAIT="0.5",
    )
    assert live["available"] == 0
    assert live["closed"] is False  # still trying in the background, as Django's would
    assert 0.4 <= live["seconds"] < 2.0


# --- the status page on PostgreSQL ------------------------------------------------------


@needs_pool
@pytest.mark.django_db(transaction=True)
def test_status_page_shows_the_pool_the_server_and_the_leak_suspects(client):
    client.force_login(StaffFactory(role="editor"))
    with own_connection("pool-tests-admin") as suspect:
        suspect.execute("SET application_name = 'leak-suspect'")
        suspect.autocommit = False
        suspect.execute("SELECT 1")  # a transaction left open: idle in transaction
        time.sleep(0.1)
        html = client.get(reverse("ops:database")).content.decode()
        data = client.get("/api/v1/ops/db").json()
        suspect.rollback()
    assert '<strong id="strategy">pool</strong>' in html
    for knob in ("pool.min_size", "pool.max_size", "pool.timeout", "pool.max_waiting"):
        assert knob in html
    assert "pool_max" in html
    assert "pool_available" in html
    assert 'id="max-connections"' in html
    assert "culture-web" in html
    assert "leak-suspect" in html
    assert data["strategy"] == "pool"
    assert data["pool"]["pool_max"] == settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    assert data["server"]["max_connections"] >= 1
    states = {row["key"] for row in data["server"]["by_state"]}
    assert {"active", "idle in transaction"} <= states
    suspects = data["server"]["idle_in_transaction"]
    assert any(row["application_name"] == "leak-suspect" for row in suspects)
    apps = {row["key"] for row in data["server"]["by_application"]}
    assert settings.DATABASES["default"]["OPTIONS"]["application_name"] in apps
