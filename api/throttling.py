"""Rate limits for the API: a fixed window per client (anonymous reads) or per token (writes),
counted exactly in a store that every worker on every host shares.

Each request adds one to its window's counter and reads the new value in the same atomic
step, so N simultaneous requests get the numbers 1 to N, each once, and exactly `limit` of
them pass; past the limit the answer is 429 with the seconds left in the window as
Retry-After.

- With Redis (REDIS_URL, so the default cache is Redis): `SET key 0 EX period NX` and `INCR
  key` in one MULTI/EXEC, through the connection pool Django's RedisCache already holds and
  under a key its make_key() builds (KEY_PREFIX and VERSION hold).
- With the database cache (no REDIS_URL), in a table of the database instead,
  tokens.ThrottleCounter: one
  `INSERT … ON CONFLICT (key, window_end) DO UPDATE SET count = count + 1 RETURNING count`
  (PostgreSQL; SQLite 3.35+). Each process deletes the rows of windows that ended a minute
  ago now and then, a bounded batch at a time. On PostgreSQL the API's story read sends this
  upsert inside its own statement, as a WITH query (CarriedRateThrottle, read_counted()): one
  round trip a request instead of two.
- With any other cache (a process's own memory, which tests use to stand in for Redis), its
  add() and incr(), which LocMemCache and memcached make atomic.

Why not ninja's own throttles (AnonRateThrottle, AuthRateThrottle): they keep each client's
history in Django's cache with a get and then a set, which two workers interleave, and on the
database cache even Django's `cache.incr()` is a get and a set: 600 simultaneous reads of one
client all passed a 300/min limit. They also take the client from ninja's NUM_PROXIES rule
(the whole of X-Forwarded-For when unset) rather than the site's one rule,
ops.http.client_ip, which login lockouts and the access log use too.

A limit that cannot be counted (the store is down) lets the request through, and the log says
so at most once a minute per process: a cache outage must not become an outage of the API.
"""

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connection, router, transaction
from django.http import HttpRequest
from ninja.errors import Throttled
from ninja.throttling import BaseThrottle

from articles import clock
from articles.prepared import Along, NotPreparable
from ops.http import client_ip
from tokens.models import ThrottleCounter

logger = logging.getLogger(__name__)

# At most one "could not count" warning per process in this many seconds.
LOG_INTERVAL = 60.0
# The database's counters: each process deletes ended windows at most this often, at most
# this many rows at a time (again on its next request when a batch was full).
SWEEP_INTERVAL = 10.0
SWEEP_BATCH = 1000
# A window's row is deleted this many seconds after it ended, not at once: another host whose
# clock is behind, or a request that read the clock just before the end, may still add to it.
SWEEP_GRACE = 60


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
        limited = self.limited(request)
        if limited is None:
            return True
        self._local.wait = over_limit(*limited)
        return self._local.wait is None

    def limited(self, request: HttpRequest) -> tuple[str, object] | None:
        """The counter's key and the rate (culture.env.Rate) this request is counted at, or
        None when it is not limited."""
        ident = self.ident(request)
        if ident is None:
            return None
        rate = settings.API_THROTTLE_RATES.get(self.scope)
        if not rate:  # no limit configured for this scope
            return None
        return f"throttle:{self.scope}:{ident}", rate

    def wait(self) -> float | None:
        wait = getattr(self._local, "wait", None)
        return None if wait is None else max(1, math.ceil(wait))


class ClientRateThrottle(WindowThrottle):
    """Anonymous reads, per client address (ops.http.client_ip: the trusted proxies' view)."""

    scope = "read"

    def ident(self, request: HttpRequest) -> str | None:
        return client_ip(request) or "unknown"


class CarriedRateThrottle(ClientRateThrottle):
    """ClientRateThrottle for an operation that sends the request's count along its first
    statement (read_counted()), where that can be: a GET outside a transaction, on
    PostgreSQL, with the counters in the database (no Redis) and not behind PgBouncer. There
    the check leaves the count to the operation, which saves the worker a round trip to the
    database on every such request; a request over the limit is answered 429 before anything
    is rendered, but after the server read its rows. Anywhere else it counts at once, as
    ClientRateThrottle does. Its router must settle what was left (settle_carried())."""

    def allow_request(self, request: HttpRequest) -> bool:
        if not carriable(request):
            return super().allow_request(request)
        self._local.wait = None
        limited = self.limited(request)
        if limited is not None:
            request.carried_count = Carried(*limited)
        return True


def carriable(request: HttpRequest) -> bool:
    """Whether this request's count can go along its operation's first statement."""
    if request.method != "GET" or connection.vendor != "postgresql":
        return False
    if connection.settings_dict.get("PGBOUNCER") or connection.in_atomic_block:
        return False
    return isinstance(caches["default"], DatabaseCache)


class Carried:
    """A request's count, left by CarriedRateThrottle for its operation to send along its
    first statement (read_counted())."""

    def __init__(self, key: str, rate) -> None:
        self.key = key
        self.rate = rate
        self.window_end, self.left = window(rate[1])

    def along(self) -> Along:
        """The count as a read along a statement (articles/prepared.py read_along()): the
        upsert as a WITH query, and the number it returns."""
        return Along(
            columns=(("counted.count", "int"),),
            source="FROM counted",
            ahead=f"counted AS ({_upsert_sql()})",
            ahead_params=(self.key, self.window_end),
        )

    def check(self, count: int) -> None:
        """429 (Throttled) when the request's number in its window is over the limit."""
        if count > self.rate[0]:
            raise Throttled(wait=self.left)

    def alone(self) -> None:
        """Count it by itself, as ClientRateThrottle does (let through when it cannot be)."""
        wait = over_limit(self.key, self.rate)
        if wait is not None:
            raise Throttled(wait=wait)


def read_counted(request: HttpRequest, read: Callable[[list], tuple], along: list, model):
    """`read(along)`, a call of articles/prepared.py read_along() that returns (its query's
    result, the rows of each read along), with this request's count sent along when
    CarriedRateThrottle left it: 429 (Throttled) when the count is over the limit, before the
    caller renders anything. `model`: what the statement reads, which must be read on the
    counters' database for the count to go with it.

    If the statement fails, the count is made by itself: when that fails as well, the
    counters' store is what failed the statement, and the request is let through (read
    without the count, the failure logged, as a limit that cannot be counted always is);
    otherwise the read's own failure is raised, after the count was checked."""
    carried = request.__dict__.pop("carried_count", None)
    if carried is None:
        return read(along)
    if router.db_for_read(model) != router.db_for_write(ThrottleCounter):
        carried.alone()
        return read(along)
    try:
        found, others = read([*along, carried.along()])
    except NotPreparable:
        # The count finds no column to come back in: nothing was sent, so it goes alone.
        carried.alone()
        return read(along)
    except DatabaseError as error:
        count = count_or_none(carried.key, carried.window_end, carried.rate[1])
        if count is None:
            return read(along)
        carried.check(count)
        raise error
    ((count,),) = others.pop()
    carried.check(count)
    sweeper.maybe_sweep()
    return found, others


def settle_carried(view):
    """For a router whose operations may use CarriedRateThrottle (mode="operation", after every
    other such decorator): an operation that did not send its request's count (it answered
    before its statement: a 404, a 400, a kept answer) has it counted at its end, and a
    request over the limit gets its 429 instead of what the operation answered."""

    @wraps(view)
    def settled(request: HttpRequest, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Exception:
            _count_left(request)
            raise
        _count_left(request)
        return response

    return settled


def _count_left(request: HttpRequest) -> None:
    carried = request.__dict__.pop("carried_count", None)
    if carried is not None:
        carried.alone()


class TokenRateThrottle(WindowThrottle):
    """Writes, per token."""

    scope = "write"

    def ident(self, request: HttpRequest) -> str | None:
        token = getattr(request, "auth", None)
        return None if token is None else f"token{token.pk}"


def over_limit(key: str, rate) -> float | None:
    """Count one request against `key` at `rate` (a culture.env.Rate): the seconds until its
    window ends when it is over the limit, else None, also when the store cannot count (let
    through, and said in the log)."""
    limit, period = rate
    window_end, left = window(period)
    count = count_or_none(key, window_end, period)
    return left if count is not None and count > limit else None


def count_or_none(key: str, window_end: int, period: int) -> int | None:
    """count_request(), or None when the store cannot count: the request is let through, and
    the log says so."""
    try:
        return count_request(key, window_end, period)
    except Exception:
        # Refusing everything while the store is down would turn its outage into ours.
        store_warnings.warn("Could not count %s against its rate limit: let through", key)
        return None


def window(period: int) -> tuple[int, float]:
    """The window of `period` seconds we are in, by the database's clock (so that every host
    cuts them at the same moment): its end (Unix seconds) and the seconds left of it."""
    now = time.time() + clock.offset()
    window_end = (int(now // period) + 1) * period
    return window_end, window_end - now


def window_key(key: str, window_end: int) -> str:
    """The counter of `key`'s window ending at `window_end`, as the caches name it."""
    return f"{key}:{window_end}"


def count_request(key: str, window_end: int, period: int) -> int:
    """Add this request to `key`'s window ending at `window_end` (Unix seconds) and return
    its number in that window, in the store the default cache names."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return RedisCounter(cache).count(window_key(key, window_end), period)
    if isinstance(cache, DatabaseCache):
        return database_count(key, window_end)
    return cache_count(cache, window_key(key, window_end), period)


class RedisCounter:
    """INCR on the Redis server behind a Django RedisCache."""

    def __init__(self, cache: RedisCache) -> None:
        self.cache = cache

    def count(self, key: str, period: int) -> int:
        key = self.cache.make_key(key)
        # Django has no public door to its Redis client; this is the one it writes with.
        client = self.cache._cache.get_client(key, write=True)
        with client.pipeline(transaction=True) as pipe:
            # The key is made with its expiry (one period, +1 s for clocks), in the same
            # transaction as the INCR: no counter is ever left without one.
            pipe.set(key, 0, ex=period + 1, nx=True)
            pipe.incr(key)
            _, count = pipe.execute()
        return count


def cache_count(cache: BaseCache, key: str, period: int) -> int:
    try:
        return cache.incr(key)
    except ValueError:  # no counter yet in this window
        if cache.add(key, 1, timeout=period + 1):
            return 1
        return cache.incr(key)


def database_count(key: str, window_end: int) -> int:
    # The same statement on every request with a token: prepared by the server once per
    # connection on PostgreSQL (ops/postgresql/base.py), not parsed and planned each time.
    with _savepoint(), connection.preparing_cursor() as cursor:
        cursor.execute(_upsert_sql(), [key, window_end])
        (count,) = cursor.fetchone()
    sweeper.maybe_sweep()
    return count


def _savepoint():
    # Inside a transaction (ATOMIC_REQUESTS, a test) a failed statement must not break it; in
    # autocommit, the usual case, the statement is its own transaction and needs none.
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


_UPSERT = None


def _upsert_sql() -> str:
    # One statement on both databases: the ORM's update_conflicts cannot add to a column or
    # return the value it wrote (as reader/viewcount.py does for views).
    global _UPSERT
    if _UPSERT is None:
        table, key, window_end, count = map(
            connection.ops.quote_name,
            [ThrottleCounter._meta.db_table, "key", "window_end", "count"],
        )
        _UPSERT = (
            f"INSERT INTO {table} ({key}, {window_end}, {count}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({key}, {window_end}) DO UPDATE SET {count} = {table}.{count} + 1 "
            f"RETURNING {count}"
        )
    return _UPSERT


class Sweeper:
    """Deletes the database's counters of ended windows: at most every SWEEP_INTERVAL
    seconds per process, SWEEP_BATCH rows at a time, and again on the next request when a
    batch was full, so the table keeps up with any number of clients while no request
    deletes more than one batch. A thread that finds another sweeping does not wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def maybe_sweep(self) -> None:
        if time.monotonic() < self._next or not self._lock.acquire(blocking=False):
            return
        try:
            with _savepoint():
                deleted = sweep(time.time(), SWEEP_BATCH)
            full = deleted >= SWEEP_BATCH
            self._next = time.monotonic() + (0 if full else SWEEP_INTERVAL)
        except Exception:
            self._next = time.monotonic() + SWEEP_INTERVAL
            store_warnings.warn("Could not delete the rate limits' ended windows")
        finally:
            self._lock.release()


def sweep(now: float, batch: int) -> int:
    """Delete up to `batch` counters of windows that ended SWEEP_GRACE seconds before `now`;
    return how many."""
    ended = ThrottleCounter.objects.filter(window_end__lte=int(now) - SWEEP_GRACE)
    ended = ended.values("pk")[:batch]
    return ThrottleCounter.objects.filter(pk__in=ended).delete()[0]


class StoreWarnings:
    """Warnings about the counters' store, with the traceback, at most one every LOG_INTERVAL
    seconds per process, each saying how many were held back since the one before."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last = -math.inf
        self._held_back = 0

    def warn(self, message: str, *args) -> None:
        """Call from the except block: the warning carries the exception being handled."""
        with self._lock:
            now = self._clock()
            if now - self._last < LOG_INTERVAL:
                self._held_back += 1
                return
            self._last, held_back, self._held_back = now, self._held_back, 0
        logger.warning(
            message + " (%d more such warnings since the last one)",
            *args,
            held_back,
            exc_info=True,
        )


store_warnings = StoreWarnings()
sweeper = Sweeper()
