"""The content version: one name for "what readers may see now", shared by every host.

Cached answers (reader pages, story pages, API answers: articles/answers.py) are filed under the
version's key, so an answer is served only while the content it shows is current. Two things
change what readers see:

- a write. Every content write bumps a counter in the database, in its own transaction
  (bump(): the door for stories, articles/services.py; receivers for the rest, articles/apps.py).
  The counter moves exactly when the write commits, on every host at once.
- the clock. A scheduled story goes live, an unpublish time passes, a collection's time box
  opens or closes, with no write at all. A version covers one window of time between two such
  moments; past the window's end it is a new version.

Time is the database's: published() compares with the database's clock, and so does this
module (each process measures its offset to it), so a host whose own clock runs ahead or behind
neither shows a story early nor keeps one late.

The version record (number, window) lives in the shared cache, so that a cached answer costs
one cache read and no query. Who may write it:

- a writer, after its commit (announce()), computed from committed rows, under the counter's row
  lock so that a later writer's record is always written last; before its commit, the writer
  deletes the record (and the save fails if it cannot: nothing stale is left behind);
- a reader only *adds* a record where none exists (a record a writer drew is never overwritten
  by one a reader drew from rows that may predate a commit), and such a record expires after
  READER_TTL seconds: a stale one can live no longer than that.

A cache that cannot be read or written makes the site render without caching, never fail
(current() answers None); this is logged at most once a minute per process.

With a read replica (articles/replica.py) the version also carries the primary's WAL position
when it was drawn (`lsn`, PostgreSQL only): at or past every commit the number counts. The
version is always drawn on the primary; an answer about to be filed under it is rendered from
the replica only once the replica has replayed that far (articles/answers.py), otherwise from
the primary, so no host files rows older than the version under it.
"""

import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Min, Q

from articles import edge, replica
from articles.clock import now
from articles.models import Article, Collection, ContentVersion, Status

logger = logging.getLogger("articles.versions")

KEY = "content:version"
# How long a record a reader drew may live: the bound on staleness if a writer's record is lost.
READER_TTL = 30
# A writer's record lives until the window ends, or this long when nothing is scheduled.
WRITER_TTL = 3600
# How often one process logs that the cache is down.
COMPLAINT_INTERVAL = 60


@dataclass(frozen=True)
class Version:
    """Content counter `number`, valid from `since` (the last moment the published set changed
    by itself) until `until` (the next one); times in epoch seconds of the database's clock.
    `lsn`: the primary's WAL position when it was drawn (None on SQLite). `cards`: a
    count moved by every write that may have changed what a story card shows besides its own
    story's row (bump(cards=True)), and by no other: a card kept under it and its story's
    version is current."""

    number: int
    since: float
    until: float | None
    lsn: str | None = None
    # None in a record written before versions carried it: no card is kept across versions
    # under it (a number made up from `number` could equal a later version's `cards`).
    cards: int | None = None

    @classmethod
    def of(cls, record) -> "Version | None":
        """The version a cached record holds (None for none, or one this code cannot read).
        A record of three values is one written before versions carried a position, of four
        one written before they carried `cards`."""
        if isinstance(record, tuple) and len(record) in (3, 4, 5):
            return cls(*record)
        return None

    @property
    def record(self) -> tuple:
        """What the shared cache keeps: plain values, readable whatever this module becomes."""
        return (self.number, self.since, self.until, self.lsn, self.cards)

    @property
    def key(self) -> str:
        # Microseconds: two scheduled moments within the same second are two windows.
        return f"{self.number}.{round(self.since * 1_000_000)}"

    def covers(self, now: float) -> bool:
        return self.since <= now and (self.until is None or now < self.until)

    def seconds_left(self, now: float) -> float | None:
        return None if self.until is None else self.until - now


# --- Writers ------------------------------------------------------------------------------


class CacheUnavailable(Exception):
    """The shared cache cannot be reached, so a write cannot move the content version: the
    write is refused (503) rather than leave a record that would keep old answers."""


def bump(*, cards: bool = True, **kwargs) -> None:
    """In a content write's transaction: move the counter and drop the shared record (the
    write fails if the record cannot be dropped, so no stale record survives it); once the
    transaction commits, announce the new version. (Also a receiver: articles/apps.py.)

    `cards`: whether the write may change what a story card shows besides its own story's
    row (a company, a hashtag, a picture's renditions). Only the door's story saves and
    deletes say no (articles/services.py): a story's card is kept under its own version,
    which its save moves."""
    table = connection.ops.quote_name(ContentVersion._meta.db_table)
    story_save = 0 if cards else 1
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, number, story_saves) VALUES (1, 1, {story_save}) "
            f"ON CONFLICT (id) DO UPDATE SET number = {table}.number + 1, "
            f"story_saves = {table}.story_saves + {story_save}"
        )
    try:
        cache.delete(KEY)
    except Exception as error:
        raise CacheUnavailable("공유 캐시에 연결할 수 없어 저장하지 않았습니다.") from error
    if not getattr(_batch, "active", False):
        transaction.on_commit(announce)


_batch = threading.local()


@contextmanager
def batch():
    """Many writes in one transaction (an import, the demo seed): each still moves the counter,
    but the version is drawn and announced once, after their commit, not once per row."""
    if getattr(_batch, "active", False):
        yield
        return
    _batch.active = True
    try:
        with transaction.atomic():
            yield
            transaction.on_commit(announce)
    finally:
        _batch.active = False


def announce() -> None:
    """Draw the version from committed rows and write it to the shared cache. Under the
    counter's row lock: a writer whose commit came later writes later."""
    try:
        with transaction.atomic():
            version = draw(lock=True)
            cache.set(KEY, version.record, _ttl(version, WRITER_TTL))
    except Exception:
        # The record was dropped before the commit: readers draw it from the database.
        logger.exception("Could not announce the content version after a write")
        version = None
    # Outside the row lock: the edges drop the pages of older versions (articles/edge.py),
    # even when the shared cache could not take the record.
    try:
        edge.ban_other_versions((version or draw()).key)
    except Exception:
        logger.exception("Could not tell the edges of the content version after a write")


# --- Readers ------------------------------------------------------------------------------


_pinned: ContextVar["Version | None"] = ContextVar("pinned_content_version", default=None)


@contextmanager
def pinned(version: "Version"):
    """Within a request that has read the version once (reader/shared_cache.py names its
    ETag by it): current() answers the same, so the page is filed under the version its
    headers name, and the version is not read twice."""
    token = _pinned.set(version)
    try:
        yield version
    finally:
        _pinned.reset(token)


def current() -> Version | None:
    """The version readers may file answers under now, or None when answers must not be
    cached (the shared cache cannot be reached)."""
    pinned_version = _pinned.get()
    if pinned_version is not None:
        return pinned_version
    moment = now()
    try:
        version = Version.of(cache.get(KEY))
    except DatabaseError:
        raise  # the database cache: the database itself is down, which is not ours to hide
    except Exception:
        complain()
        return None
    if version is not None and version.covers(moment):
        return version
    fresh = draw()
    if version is None:
        try:
            cache.add(KEY, fresh.record, _ttl(fresh, READER_TTL))
        except DatabaseError:
            raise
        except Exception:
            complain()
            return None
    return fresh


def draw(*, lock: bool = False) -> Version:
    """The version from the database: the counter, and the window around the database's now.
    Always from the primary (a replica's could be older than the cache's records)."""
    with replica.primary():
        return _draw(lock=lock)


def _draw(*, lock: bool) -> Version:
    # The position first: every commit it covers is in the rows read after it.
    lsn = replica.position()
    rows = ContentVersion.objects.filter(pk=1)
    if lock:
        rows = rows.select_for_update()
    number, story_saves = rows.values_list("number", "story_saves").first() or (0, 0)
    moment = datetime.fromtimestamp(now(), tz=UTC)
    # Each moment its own MAX() or MIN() under a condition, which the database answers from
    # the end of an index range (status and date); one aggregate of all four with FILTER read
    # every published story's dates: 33 ms at 100,000 stories, on every write.
    published = Article.objects.filter(status=Status.PUBLISHED)
    stories = {
        name: published.filter(**{lookup: moment}).aggregate(edge=edge(field))["edge"]
        for name, edge, field, lookup in (
            ("published", Max, "published_at", "published_at__lte"),
            ("publishes", Min, "published_at", "published_at__gt"),
            ("unpublished", Max, "unpublish_at", "unpublish_at__lte"),
            ("unpublishes", Min, "unpublish_at", "unpublish_at__gt"),
        )
    }
    boxes = Collection.objects.aggregate(
        started=Max("starts_at", filter=Q(starts_at__lte=moment)),
        starts=Min("starts_at", filter=Q(starts_at__gt=moment)),
        ended=Max("ends_at", filter=Q(ends_at__lte=moment)),
        ends=Min("ends_at", filter=Q(ends_at__gt=moment)),
    )
    past = [stories["published"], stories["unpublished"], boxes["started"], boxes["ended"]]
    future = [stories["publishes"], stories["unpublishes"], boxes["starts"], boxes["ends"]]
    since = max((m.timestamp() for m in past if m is not None), default=0.0)
    until = min((m.timestamp() for m in future if m is not None), default=None)
    return Version(number, since, until, lsn, number - story_saves)


def _ttl(version: Version, longest: int) -> int:
    left = version.seconds_left(now())
    return max(1, min(longest, int(left) + 1)) if left is not None else longest


_complained = {"at": 0.0}


def complain() -> None:
    if time.monotonic() - _complained["at"] > COMPLAINT_INTERVAL:
        _complained["at"] = time.monotonic()
        logger.warning("The shared cache cannot be reached: answers are not cached", exc_info=True)
