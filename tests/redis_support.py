"""The test Redis: a client on TEST_REDIS_URL's server, or the test skips, saying why."""

import pytest


def redis_or_skip(url: str):
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"needs Redis at {url} (set TEST_REDIS_URL to another): {error}")
    return client
