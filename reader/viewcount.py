"""조회수: exact view counting that ignores bots, HEAD requests, staff and quick reloads.

A view adds one to the story's all-time count and to the day's (Asia/Seoul). With Redis
(VIEW_BUFFER, on with REDIS_URL) it is buffered there, one round trip, and `manage.py
flush_views` adds each story's views to the database in one statement per period
(articles/viewbuffer.py); the count shown is the database's plus the views still buffered.
Without Redis, or while Redis cannot be reached, a view is written at once: `count = count +
1` in the database itself, in the story's ViewTotal row and the day's DailyView row (an upsert
for a first view), so N simultaneous readers add exactly N and the story's own row is neither
written nor locked. Both counts stop at their column's largest value instead of overflowing. A
first-party cookie remembers the stories this browser counted in the last 30 minutes.

A view is counted by the story page's beacon (reader/beacon.py), not by the page itself.
"""

import logging
import re
import time

import redis
from django.db import connection, transaction
from django.utils import timezone

from articles import viewbuffer
from articles.models import Article, ViewTotal
from articles.prepared import Prepared
from articles.viewcounts import add_to_day, add_to_total

logger = logging.getLogger(__name__)
# A Redis that cannot be reached is said once a minute, not once a view.
WARN_EVERY_SECONDS = 60
_warned_at = -WARN_EVERY_SECONDS

COOKIE_NAME = "seen"
COOKIE_PATH = "/views/"  # the beacon's (reader/beacon.py)
REPEAT_WINDOW_SECONDS = 30 * 60
COOKIE_MAX_ENTRIES = 40

# Crawlers, link-preview fetchers and monitors that announce themselves.
BOT_USER_AGENT = re.compile(
    r"bot|crawl|spider|slurp|scrap|fetch|preview|monitor|facebookexternalhit|yeti|daumoa"
    r"|mediapartners|lighthouse|pingdom|uptime|python-requests|curl|wget|httpie|go-http-client",
    re.IGNORECASE,
)


def is_bot(request) -> bool:
    agent = request.META.get("HTTP_USER_AGENT", "").strip()
    return not agent or bool(BOT_USER_AGENT.search(agent))


def seen_recently(request, now: float | None = None) -> dict[int, int]:
    """Story id → expiry (epoch seconds) for the stories this browser counted recently."""
    now = time.time() if now is None else now
    seen = {}
    for entry in request.COOKIES.get(COOKIE_NAME, "").split("."):
        story, _, expires = entry.partition("-")
        if story.isdigit() and expires.isdigit() and int(expires) > now:
            seen[int(story)] = int(expires)
    return seen


def counts_for(request, article_id: int) -> bool:
    """Whether this beacon of a published story by an anonymous reader is a new view."""
    return not is_bot(request) and article_id not in seen_recently(request)


def record_view(article_id: int) -> bool:
    """Count one view of the story, in total and for today (Asia/Seoul); whether it was
    counted. Written at once, a view of a story that is gone is not (False). Buffered, it is
    taken (True) without reading anything back: the beacon has checked the story, and the
    flush leaves out the views of a story deleted since (articles/viewbuffer.py)."""
    today = timezone.localdate()
    if viewbuffer.enabled():
        try:
            viewbuffer.Buffer().add(article_id, today)
        except redis.RedisError as error:
            _warn(error)
        else:
            return True
    return _record_now(article_id, today) is not None


def current_count(article_id: int, flushed: int | None = None) -> int | None:
    """The story's total, or None if the story is gone: the database's count (read from the
    story's table only before its first view; `flushed` when the caller has just read it),
    plus its views still buffered in Redis."""
    if flushed is None:
        flushed = _flushed_count(article_id)
    if flushed is None or not viewbuffer.enabled():
        return flushed
    try:
        return flushed + viewbuffer.Buffer().pending_total(article_id)
    except redis.RedisError as error:
        _warn(error)
        return flushed


def _record_now(article_id: int, today) -> int | None:
    """Each count is first an UPDATE of its own row, which reads nothing of the story: a
    story whose page is cached is counted even while its table is locked (a migration). Only
    a story's first view (of all time, of the day) inserts, and the insert checks the story."""
    # No savepoint of its own inside a reader's transaction (ops.middleware): it would cost
    # two round trips, and a failure here fails the request anyway.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        total = add_to_total(cursor, article_id, 1)
        if total is not None:
            add_to_day(cursor, article_id, today, 1)
    return total


def _flushed_count(article_id: int) -> int | None:
    for count in STORED_TOTAL(ViewTotal, story=article_id):
        return count
    return 0 if Article.objects.filter(pk=article_id).exists() else None


# Asked on every story page, cached or not: compiled once (articles/prepared.py).
STORED_TOTAL = Prepared(
    lambda model, story: model.objects.filter(article_id=story).values_list("count", flat=True)
)


def _warn(error: Exception) -> None:
    global _warned_at
    now = time.monotonic()
    if now - _warned_at >= WARN_EVERY_SECONDS:
        _warned_at = now
        logger.warning("Redis에 조회수를 쌓지 못해 데이터베이스에 바로 기록합니다: %s", error)


def remember(response, request, article_id: int) -> None:
    """Set the cookie that keeps this browser's reloads from counting for 30 minutes."""
    now = time.time()
    seen = seen_recently(request, now)
    seen[article_id] = int(now) + REPEAT_WINDOW_SECONDS
    newest = sorted(seen.items(), key=lambda item: item[1])[-COOKIE_MAX_ENTRIES:]
    response.set_cookie(
        COOKIE_NAME,
        ".".join(f"{story}-{expires}" for story, expires in newest),
        max_age=REPEAT_WINDOW_SECONDS,
        path=COOKIE_PATH,  # sent to the beacon only, never with a page a cache may keep
        httponly=True,
        samesite="Strict",
        secure=request.is_secure(),
    )
