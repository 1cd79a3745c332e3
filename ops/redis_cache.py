"""Django's Redis cache, keeping its Redis clients.

Django's RedisCacheClient makes a new `redis.Redis` around its connection pool for every
cache call (get, set, incr…). Making one costs about 0.2 ms of CPU here, more than the round
trip it serves: a counted view, which reads the content version, counts its client against
the rate limit and buffers the view, paid three of them. This backend makes one client per
connection pool and reuses it. A `redis.Redis` is safe to share between threads (each command
takes a connection from the pool), and the pool notices a fork and starts over in the child,
so a client made before gunicorn forks is still right in each worker.

Everything else is Django's: settings name it as the BACKEND in place of
django.core.cache.backends.redis.RedisCache, and it is one (isinstance holds).
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class KeptClients(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            # Two threads may both make one at first; either is as good as the other.
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client


class KeptClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClients
