"""조회수: exact view counting that ignores bots, HEAD requests, staff and quick reloads.

A view is two upserts in the database: the story's all-time row (ViewTotal) and the day's row
(DailyView), each `INSERT … ON CONFLICT DO UPDATE SET count = count + 1`. So N simultaneous
readers add exactly N whatever the number of workers, and the story's own row is neither
written nor locked: an editor's transaction holding it never makes a reader wait. Both counts
stop at their column's largest value instead of overflowing. A first-party cookie remembers
the stories this browser counted in the last 30 minutes.
"""

import functools
import re
import time

from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from articles.models import COUNT_MAX, Article, DailyView, ViewTotal

COOKIE_NAME = "seen"
REPEAT_WINDOW_SECONDS = 30 * 60
COOKIE_MAX_ENTRIES = 40

# Crawlers, link-preview fetchers and monitors that announce themselves.
BOT_USER_AGENT = re.compile(
    r"bot|crawl|spider|slurp|scrap|fetch|preview|monitor|facebookexternalhit|yeti|daumoa"
    r"|mediapartners|lighthouse|pingdom|uptime|python-requests|curl|wget|httpie|go-http-client",
    re.IGNORECASE,
)

# A day's count is a 32-bit column (PositiveIntegerField on PostgreSQL).
DAY_COUNT_MAX = 2**31 - 1


def is_bot(request) -> bool:
    agent = request.headers.get("User-Agent", "").strip()
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
    """Whether this GET of a published story by an anonymous reader is a new view."""
    return not is_bot(request) and article_id not in seen_recently(request)


def record_view(article_id: int) -> int | None:
    """Count one view of the story, in total and for today (Asia/Seoul); return the new
    total (None if the story is gone)."""
    today = timezone.localdate()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_statements().total, [article_id])
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute(_statements().day, [article_id, today])
    return row[0]


def current_count(article_id: int) -> int | None:
    """The story's total, or None if the story is gone."""
    row = (
        Article.objects.filter(pk=article_id)
        .values_list(Coalesce("view_total__count", Value(0)))
        .first()
    )
    return None if row is None else row[0]


class _Statements:
    """The two upserts, one statement each on both databases (the ORM's update_conflicts
    cannot add to a column). The total's INSERT reads the story's id from its table, so a
    story that is gone inserts nothing and RETURNING gives no row."""

    def __init__(self):
        quote = connection.ops.quote_name
        total, article, stories, key = map(
            quote, [ViewTotal._meta.db_table, "article_id", Article._meta.db_table, "id"]
        )
        count = quote("count")
        self.total = (
            f"INSERT INTO {total} ({article}, {count}) SELECT {key}, 1 FROM {stories} "
            f"WHERE {key} = %s "
            f"ON CONFLICT ({article}) DO UPDATE SET {count} = {_saturating(total, count, COUNT_MAX)} "
            f"RETURNING {count}"
        )
        day_table, day = quote(DailyView._meta.db_table), quote("day")
        self.day = (
            f"INSERT INTO {day_table} ({article}, {day}, {count}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({article}, {day}) DO UPDATE SET "
            f"{count} = {_saturating(day_table, count, DAY_COUNT_MAX)}"
        )


def _saturating(table: str, column: str, maximum: int) -> str:
    count = f"{table}.{column}"
    return f"CASE WHEN {count} < {maximum} THEN {count} + 1 ELSE {count} END"


@functools.cache
def _statements() -> _Statements:
    return _Statements()


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
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
