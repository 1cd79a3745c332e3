"""조회수 buffered in Redis: a reader's view is two HINCRBYs (one round trip) instead of a
write transaction on the primary, and a flusher (`manage.py flush_views`, one per deployment)
adds each story's buffered views to the database with one statement per story and per
story-day, at least every VIEW_FLUSH_SECONDS.

The keys, under the default cache's prefix:
    views:pending      a hash: "t:<story>" → views since the last flush, "d:<story>:<day>" →
                       views of that day (Asia/Seoul, the day the view arrived)
    views:processing   the batch being added: the pending hash renamed, with its batch id
    views:flush-lock   which flusher is at work (SET NX PX): one host flushes at a time

A flush renames pending to processing (atomically, in a script, with a new batch id), adds the
batch to the database in one transaction that also records the batch id (ViewFlush), and only
then deletes processing, if it still holds that batch. A flusher that dies after the rename
leaves processing behind; the next flush adds it first, or only deletes it when its id is
already recorded. So a batch is added once, even by two flushers whose lock expired.

What Redis holds is lost if Redis is: at most the views of one flush period (plus the flush in
progress). When Redis cannot be reached a view is counted in the database at once
(reader/viewcount.py), so none is lost while it is down.
"""

import dataclasses
import logging
import time
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.utils import timezone

from articles.models import ViewFlush
from articles.viewcounts import add_to_day, add_to_total

logger = logging.getLogger(__name__)

PENDING = "views:pending"
PROCESSING = "views:processing"
LOCK = "views:flush-lock"
BATCH_FIELD = "#batch"
# How long a batch's record is kept: a batch left in Redis longer than this (no flusher ran
# for a day after one died mid-flush) would be added again.
KEEP_RECORDS = timedelta(days=1)

# Rename pending to processing and stamp the batch id, unless a batch is still there (a flush
# that died or is still at work): either way, return the batch to add.
TAKE = """
if redis.call('exists', KEYS[2]) == 0 then
  if redis.call('exists', KEYS[1]) == 0 then return {} end
  redis.call('rename', KEYS[1], KEYS[2])
  redis.call('hset', KEYS[2], ARGV[1], ARGV[2])
end
return redis.call('hgetall', KEYS[2])
"""
# Delete processing only if it still holds this batch (another flusher may have taken the next).
DONE = """
if redis.call('hget', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('del', KEYS[1]) end
return 0
"""
# Release the lock only if it is still ours.
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def fields(article_id: int, day: date | None = None) -> tuple[str, str | None]:
    """The pending hash's fields for a story's views: its total, and the day's (None: no day)."""
    return f"t:{article_id}", None if day is None else f"d:{article_id}:{day.isoformat()}"


def enabled() -> bool:
    """Whether views are buffered: VIEW_BUFFER is on and the default cache is Redis."""
    return settings.VIEW_BUFFER and isinstance(caches["default"], RedisCache)


class Buffer:
    """The Redis behind the default cache (the connection settings of REDIS_URL), its keys
    under the cache's KEY_PREFIX."""

    def __init__(self):
        cache = caches["default"]
        self.pending, self.processing, self.lock = map(cache.make_key, [PENDING, PROCESSING, LOCK])
        # Django has no public door to its Redis client; this is the one it writes with.
        self.client = cache._cache.get_client(self.pending, write=True)

    def add(self, article_id: int, day: date) -> int:
        """Buffer one view of the story on `day`; return the story's views not yet flushed.
        Both counters in one transaction: both are added or neither (redis.RedisError)."""
        total, today = fields(article_id, day)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hincrby(self.pending, total, 1)
            pipe.hincrby(self.pending, today, 1)
            pending, _ = pipe.execute()
        return pending

    def pending_total(self, article_id: int) -> int:
        return int(self.client.hget(self.pending, fields(article_id)[0]) or 0)

    def take(self) -> dict[str, str]:
        """The batch to add: a leftover one, or the pending views renamed (empty: none)."""
        batch = uuid.uuid4().hex
        values = self.client.eval(TAKE, 2, self.pending, self.processing, BATCH_FIELD, batch)
        return {
            field.decode(): value.decode()
            for field, value in zip(values[::2], values[1::2], strict=True)
        }

    def done(self, batch: str) -> None:
        self.client.eval(DONE, 1, self.processing, BATCH_FIELD, batch)


@dataclasses.dataclass
class Flushed:
    batches: int = 0
    stories: int = 0
    views: int = 0


def flush(buffer: Buffer | None = None, lock_seconds: float | None = None) -> Flushed | None:
    """Add the buffered views to the database; None if another flusher holds the lock."""
    buffer = buffer or Buffer()
    lock_seconds = lock_seconds or max(30.0, 6 * settings.VIEW_FLUSH_SECONDS)
    token = uuid.uuid4().hex
    if not buffer.client.set(buffer.lock, token, nx=True, px=int(lock_seconds * 1000)):
        return None
    flushed = Flushed()
    try:
        # A leftover batch first, then the views that arrived since: at most two rounds, so a
        # flush ends however fast views arrive.
        for _ in range(2):
            counts = buffer.take()
            if not counts:
                break
            batch = counts.pop(BATCH_FIELD)
            stories, views = apply(batch, counts)
            buffer.done(batch)
            flushed.batches += 1
            flushed.stories += stories
            flushed.views += views
    finally:
        buffer.client.eval(RELEASE, 1, buffer.lock, token)
    return flushed


def apply(batch: str, counts: dict[str, str]) -> tuple[int, int]:
    """Add one batch in one transaction that records it; (stories, views) added, (0, 0) if the
    batch was added before. Rows are written in the order of their keys, totals first, as a
    reader's view does, so a flush and views counted at once never wait on each other in a
    circle."""
    totals, days = parse(counts)
    with transaction.atomic():
        if not record(batch):
            return 0, 0
        with connection.cursor() as cursor:
            stories = views = 0
            for article_id, n in sorted(totals.items()):
                if add_to_total(cursor, article_id, n) is not None:
                    stories += 1
                    views += n
            for (article_id, day), n in sorted(days.items()):
                add_to_day(cursor, article_id, day, n)
    return stories, views


def parse(counts: dict[str, str]) -> tuple[dict[int, int], dict[tuple[int, date], int]]:
    totals, days = {}, {}
    for field, value in counts.items():
        kind, _, rest = field.partition(":")
        if kind == "t":
            totals[int(rest)] = int(value)
        elif kind == "d":
            story, _, day = rest.partition(":")
            days[int(story), date.fromisoformat(day)] = int(value)
    return totals, days


def record(batch: str) -> bool:
    """Record the batch; False if it was recorded before. A second flusher adding the same
    batch at once waits here for the first one's commit (PostgreSQL) and then finds it."""
    now = timezone.now()
    table, key, applied_at = map(
        connection.ops.quote_name, [ViewFlush._meta.db_table, "batch", "applied_at"]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key}, {applied_at}) VALUES (%s, %s) "
            f"ON CONFLICT ({key}) DO NOTHING",
            [batch, now],
        )
        if cursor.rowcount == 0:
            return False
    ViewFlush.objects.filter(applied_at__lt=now - KEEP_RECORDS).delete()
    return True


def run(period: float, stop, log=logger.info, rounds: int | None = None) -> None:
    """Flush every `period` seconds until `stop()` is true (or `rounds` flushes), surviving
    Redis or database errors (the views wait in Redis and are added by a later flush)."""
    while not stop() and rounds != 0:
        rounds = None if rounds is None else rounds - 1
        started = time.monotonic()
        try:
            flushed = flush()
        except Exception:
            logger.exception("조회수 반영 실패: 다음 주기에 다시 시도합니다.")
        else:
            if flushed is None:
                log("다른 프로세스가 조회수를 반영하고 있습니다.")
            elif flushed.batches:
                log(f"조회수 {flushed.views}회 반영 (스토리 {flushed.stories}개)")
        if rounds == 0:
            break
        pause = period - (time.monotonic() - started)
        deadline = time.monotonic() + max(pause, 0)
        while not stop() and time.monotonic() < deadline:
            time.sleep(min(0.2, deadline - time.monotonic()))
