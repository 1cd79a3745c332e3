"""The API's rate limits count exactly: N simultaneous requests of one client get the numbers
1 to N, each once, in the database (SQLite and PostgreSQL: the suite runs on both) and in
Redis; a limit of L lets exactly L through; Retry-After is the rest of the window; ended
windows are deleted; and a store that cannot count lets requests through, warning once a
minute."""

import os
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.cache import caches
from django.db import close_old_connections, connection
from django.test import Client

from api import throttling
from api.throttling import StoreWarnings, Sweeper, count_request, database_count, sweep
from culture.env import parse_rate
from tests.api_support import API, error_of
from tests.redis_support import redis_or_skip
from tokens.models import ThrottleCounter

# A database number of its own, so the keys of this suite meet no one else's.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
# A moment 30.4 s into a one-minute window, which ends at 1_000_080.
NOW = 1_000_030.4
WINDOW_END = 1_000_080
THREADS = 12


@pytest.fixture
def frozen_time(monkeypatch):
    """api.throttling's clock, set by the test (the rest of the process keeps the real one)."""
    clock = SimpleNamespace(time=lambda: NOW, monotonic=time.monotonic)
    monkeypatch.setattr(throttling, "time", clock)
    return clock


@pytest.fixture
def redis_cache(settings):
    """The default cache on the Redis at TEST_REDIS_URL, under a key prefix of this test's own
    (its keys are deleted afterwards). CI has Redis; elsewhere these tests skip, saying why."""
    client = redis_or_skip(REDIS_URL)
    prefix = f"throttle-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "ops.redis_cache.KeptClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        },
    }
    yield SimpleNamespace(client=client, prefix=prefix, cache=caches["default"])
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def all_at_once(work, *, threads=THREADS, each=1) -> list:
    """What `work()` returned, called `each` times by each of `threads` threads that start
    together; every thread has (and closes) its own database connection."""
    start = threading.Barrier(threads, timeout=120)

    def run() -> list:
        try:
            start.wait()
            return [work() for _ in range(each)]
        finally:
            close_old_connections()

    with ThreadPoolExecutor(threads) as pool:
        runs = [pool.submit(run) for _ in range(threads)]
    # A failed thread fails the test here, with its own exception.
    return [value for done in runs for value in done.result(timeout=120)]


# --- exact counts -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_database_counts_each_of_many_simultaneous_requests_once(
    frozen_time, unbounded_pool_queue
):
    numbers = all_at_once(lambda: database_count("throttle:read:198.51.100.7", WINDOW_END), each=25)

    assert sorted(numbers) == list(range(1, THREADS * 25 + 1))
    row = ThrottleCounter.objects.get()
    assert (row.key, row.window_end, row.count) == ("throttle:read:198.51.100.7", WINDOW_END, 300)


@pytest.mark.django_db(transaction=True)
def test_a_limit_lets_exactly_that_many_simultaneous_reads_through(
    settings, frozen_time, unbounded_pool_queue
):
    settings.API_THROTTLE_RATES = {"read": parse_rate("10/min"), "write": None}

    statuses = all_at_once(lambda: Client().get(f"{API}/stories").status_code, each=3)

    assert Counter(statuses) == {200: 10, 429: 3 * THREADS - 10}
    assert ThrottleCounter.objects.get().count == 3 * THREADS


@pytest.mark.redis
def test_redis_counts_each_of_many_simultaneous_requests_once(redis_cache):
    numbers = all_at_once(
        lambda: count_request("throttle:read:198.51.100.7", WINDOW_END, 60), each=25
    )

    assert sorted(numbers) == list(range(1, THREADS * 25 + 1))
    key = redis_cache.cache.make_key(f"throttle:read:198.51.100.7:{WINDOW_END}")
    assert key.startswith(f"{redis_cache.prefix}:")  # the cache's prefix and version hold
    assert int(redis_cache.client.get(key)) == THREADS * 25
    assert 0 < redis_cache.client.ttl(key) <= 61


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_redis_a_limit_lets_exactly_that_many_through_and_writes_no_row(
    settings, redis_cache, frozen_time, unbounded_pool_queue
):
    settings.API_THROTTLE_RATES = {"read": parse_rate("10/min"), "write": None}

    statuses = all_at_once(lambda: Client().get(f"{API}/stories").status_code, each=3)

    assert Counter(statuses) == {200: 10, 429: 3 * THREADS - 10}
    assert not ThrottleCounter.objects.exists()


# --- the window -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_retry_after_is_the_rest_of_the_window_and_the_next_window_starts_afresh(
    client, settings, frozen_time
):
    settings.API_THROTTLE_RATES = {"read": parse_rate("1/min"), "write": None}

    assert client.get(f"{API}/stories").status_code == 200
    limited = client.get(f"{API}/tags")
    frozen_time.time = lambda: WINDOW_END + 0.2
    next_window = client.get(f"{API}/stories")

    error_of(limited, 429, "throttled")
    assert limited["Retry-After"] == "50"  # 49.6 s left, rounded up
    assert next_window.status_code == 200
    assert sorted(ThrottleCounter.objects.values_list("window_end", "count")) == [
        (WINDOW_END, 2),
        (WINDOW_END + 60, 1),
    ]


@pytest.mark.django_db
def test_ended_windows_are_deleted_a_minute_later_a_bounded_batch_at_a_time():
    ThrottleCounter.objects.bulk_create(
        [ThrottleCounter(key=f"throttle:read:10.0.0.{n}", window_end=1000, count=1) for n in range(5)]
        + [ThrottleCounter(key="throttle:read:10.0.0.9", window_end=1060, count=3)]
    )  # fmt: skip

    # A minute after the end of the first window, while the second has not quite ended.
    now = 1000 + throttling.SWEEP_GRACE + 0.5
    assert sweep(now - 1, 3) == 0
    assert [sweep(now, 3), sweep(now, 3), sweep(now, 3)] == [3, 2, 0]
    assert list(ThrottleCounter.objects.values_list("window_end", "count")) == [(1060, 3)]


@pytest.mark.django_db
def test_a_process_sweeps_now_and_then_and_again_at_once_after_a_full_batch(monkeypatch):
    monkeypatch.setattr(throttling, "SWEEP_BATCH", 2)
    ended = [ThrottleCounter(key=f"k{n}", window_end=1000, count=1) for n in range(3)]
    ThrottleCounter.objects.bulk_create(ended)
    sweeper = Sweeper()

    sweeper.maybe_sweep()  # a full batch of 2
    sweeper.maybe_sweep()  # so again at once: the last one
    ThrottleCounter.objects.create(key="late", window_end=1000, count=1)
    sweeper.maybe_sweep()  # within SWEEP_INTERVAL of a partial batch: nothing

    assert list(ThrottleCounter.objects.values_list("key", flat=True)) == ["late"]


# --- a store that cannot count ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_limit_that_cannot_be_counted_lets_requests_through_warning_once_a_minute(
    client, settings, monkeypatch, caplog
):
    settings.API_THROTTLE_RATES = {"read": parse_rate("1/min"), "write": None}
    clock = SimpleNamespace(now=5000.0)
    monkeypatch.setattr(throttling, "store_warnings", StoreWarnings(clock=lambda: clock.now))
    monkeypatch.setattr(
        throttling, "count_request", mock.Mock(side_effect=ConnectionError("store is down"))
    )

    statuses = [client.get(f"{API}/stories").status_code for _ in range(3)]
    clock.now += 61
    statuses.append(client.get(f"{API}/stories").status_code)

    warnings = [record for record in caplog.records if record.name == "api.throttling"]
    assert statuses == [200, 200, 200, 200]
    assert [record.getMessage() for record in warnings] == [
        "Could not count throttle:read:127.0.0.1 against its rate limit: let through "
        f"({held_back} more such warnings since the last one)"
        for held_back in (0, 2)
    ]
    assert all("store is down" in str(record.exc_info[1]) for record in warnings)


@pytest.mark.django_db
def test_a_failed_count_leaves_the_requests_transaction_usable(client, settings, monkeypatch):
    # Inside a transaction (here the test's) a failed upsert is rolled back to its savepoint:
    # on PostgreSQL it would otherwise abort every later query of the request.
    settings.API_THROTTLE_RATES = {"read": parse_rate("1/min"), "write": None}
    monkeypatch.setattr(throttling, "_upsert_sql", lambda: "SELECT no_such_column FROM nowhere")
    monkeypatch.setattr(throttling, "store_warnings", StoreWarnings())

    responses = [client.get(f"{API}/stories") for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
    assert responses[1].json()["count"] == 0


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_counters_write_no_wal_on_postgresql():
    """A counter lives for a minute: the table is UNLOGGED, so a request with a token does not
    wait for a WAL flush (migration tokens 0005)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpersistence FROM pg_class WHERE relname = %s",
            [ThrottleCounter._meta.db_table],
        )
        assert cursor.fetchone() == ("u",)
