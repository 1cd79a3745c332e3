"""The test Redis: a client on TEST_REDIS_URL's server, or the test skips, saying why; and the
site's default cache on it, under a key prefix of the test's own."""

import contextlib
import os
import uuid

import pytest

# A database number of its own, and a key prefix per test, so no parallel run meets its keys.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def redis_or_skip(url: str):
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"needs Redis at {url} (set TEST_REDIS_URL to another): {error}")
    return client


def redis_cache(settings, url, prefix):
    """The default cache (content versions, rate limits, buffered views) on the Redis at
    `url`, under `prefix`, with views buffered there."""
    settings.VIEW_BUFFER = True
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "ops.redis_cache.KeptClientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        },
    }


@contextlib.contextmanager
def views_in_redis(settings, name: str):
    """The default cache on the Redis at TEST_REDIS_URL under a prefix of this test's own,
    views buffered there; gives a client of that Redis and the prefix. Its keys are deleted
    afterwards."""
    client = redis_or_skip(REDIS_URL)
    prefix = f"{name}-{uuid.uuid4().hex[:12]}"
    redis_cache(settings, REDIS_URL, prefix)
    try:
        yield client, prefix
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()
