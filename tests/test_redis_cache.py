"""The default cache on Redis keeps its Redis clients (ops/redis_cache.py): one per connection
pool, reused by every call, from every thread, and still right after a fork."""

import os
import threading

import pytest
from django.core.cache.backends.redis import RedisCache

from ops.redis_cache import KeptClientRedisCache
from tests.redis_support import REDIS_URL, redis_or_skip


@pytest.fixture
def cache():
    redis_or_skip(REDIS_URL)
    cache = KeptClientRedisCache(REDIS_URL, {"KEY_PREFIX": f"kept-clients-{os.getpid()}"})
    yield cache
    cache.delete_many(["a", "b", "n"])


def test_it_is_django_s_redis_cache_with_one_client_per_pool(cache):
    assert isinstance(cache, RedisCache)
    client = cache._cache.get_client("a", write=True)
    assert cache._cache.get_client("b", write=True) is client
    assert cache._cache.get_client("a") is client  # one server: reads use the same pool
    cache.set("a", {"값": 1})
    assert cache.get("a") == {"값": 1}
    assert cache._cache.get_client("a", write=True) is client


def test_threads_share_it_and_count_exactly(cache):
    cache.set("n", 0)

    def add():
        for _ in range(200):
            cache.incr("n")

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("n") == 800


def test_a_forked_child_uses_connections_of_its_own(cache):
    cache.set("a", "before")
    parent_client = cache._cache.get_client("a", write=True)
    parent_connection = parent_client.connection_pool.get_connection()
    parent_client.connection_pool.release(parent_connection)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        try:
            cache.set("b", "child")
            pool = cache._cache.get_client("b", write=True).connection_pool
            connection = pool.get_connection()
            own = connection is not parent_connection
            pool.release(connection)
            os.write(write, b"ok" if own and cache.get("a") == "before" else b"no")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 2)
    os.waitpid(child, 0)
    assert answer == b"ok"
    assert cache.get("b") == "child"
