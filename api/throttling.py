"""Rate limits for the API, counted in the cache that all workers share (Redis when REDIS_URL
is set, the database cache otherwise), so a limit holds however many processes serve it.

A fixed window per client (anonymous reads) or per token (writes): the first request of a
window adds a counter, the others increment it; past the limit the answer is 429 with the
seconds left in the window as Retry-After. On the database cache that costs a few small
queries per request (a read and an upsert); on Redis, none. Django's cache counters are atomic on Redis and
nearly so on the database, which is close enough for a limit meant to stop floods.
"""

import logging
import math
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from ops.http import client_ip

logger = logging.getLogger(__name__)


class WindowThrottle(BaseThrottle):
    """Subclasses name the scope (a key of settings.API_THROTTLE_RATES, whose values are
    culture.env.Rate, parsed once when settings load) and the identity."""

    scope = ""

    def __init__(self) -> None:
        # One instance serves every thread of a worker: the wait of the last refusal is kept
        # per thread, never on the instance.
        self._local = threading.local()

    def ident(self, request: HttpRequest) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: HttpRequest) -> bool:
        self._local.wait = None
        ident = self.ident(request)
        if ident is None:
            return True
        rate = settings.API_THROTTLE_RATES.get(self.scope)
        if not rate:  # no limit configured for this scope
            return True
        limit, period = rate
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{ident}:{window}"
        try:
            count = self.count(key, period)
        except Exception:
            # A limit that cannot be counted lets the request through: refusing everything
            # while the cache is down would turn a cache problem into an outage.
            logger.warning("Could not count %s against its rate limit", key, exc_info=True)
            return True
        if count > limit:
            self._local.wait = (window + 1) * period - now
            return False
        return True

    @staticmethod
    def count(key: str, period: int) -> int:
        """This request's number in its window. Most requests find the counter and only
        increment it; the first of a window adds it (or, losing that race, increments)."""
        try:
            return cache.incr(key)
        except ValueError:  # no counter yet in this window
            if cache.add(key, 1, timeout=period + 1):
                return 1
            return cache.incr(key)

    def wait(self) -> float | None:
        wait = getattr(self._local, "wait", None)
        return None if wait is None else max(1, math.ceil(wait))


class ClientRateThrottle(WindowThrottle):
    """Anonymous reads, per client address (ops.http.client_ip: the trusted proxies' view)."""

    scope = "read"

    def ident(self, request: HttpRequest) -> str | None:
        return client_ip(request) or "unknown"


class TokenRateThrottle(WindowThrottle):
    """Writes, per token."""

    scope = "write"

    def ident(self, request: HttpRequest) -> str | None:
        token = getattr(request, "auth", None)
        return None if token is None else f"token{token.pk}"
