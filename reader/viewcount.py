"""조회수: exact view counting that ignores bots, HEAD requests, staff and quick reloads.

A view is one atomic `UPDATE … SET view_count = view_count + 1` plus an upsert of the day's
row, both in the database, so N simultaneous readers add exactly N whatever the number of
workers, and no stale copy of the story is ever written back. A first-party cookie remembers
the stories this browser counted in the last 30 minutes.
"""

import re
import time

from django.db import connection, transaction
from django.utils import timezone

from articles.models import Article, DailyView

COOKIE_NAME = "seen"
REPEAT_WINDOW_SECONDS = 30 * 60
COOKIE_MAX_ENTRIES = 40

# Crawlers, link-preview fetchers and monitors that announce themselves.
BOT_USER_AGENT = re.compile(
    r"bot|crawl|spider|slurp|scrap|fetch|preview|monitor|facebookexternalhit|yeti|daumoa"
    r"|mediapartners|lighthouse|pingdom|uptime|python-requests|curl|wget|httpie|go-http-client",
    re.IGNORECASE,
)

_UPSERT_DAY = None


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
        cursor.execute(_increment_sql(), [article_id])
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute(_upsert_sql(), [article_id, today])
    return row[0]


def current_count(article_id: int) -> int | None:
    return Article.objects.filter(pk=article_id).values_list("view_count", flat=True).first()


def _increment_sql() -> str:
    # RETURNING (SQLite 3.35+, PostgreSQL) gives the count this request made, in one statement.
    # At the column's largest value the count stays there: one more would be an error on
    # PostgreSQL (bigint out of range) and, worse, a REAL (9.22e+18) on SQLite.
    table, views, key = map(connection.ops.quote_name, [Article._meta.db_table, "view_count", "id"])
    field = Article._meta.get_field("view_count")
    largest = connection.ops.integer_field_range(field.get_internal_type())[1]
    return (
        f"UPDATE {table} SET {views} = CASE WHEN {views} < {largest:d} THEN {views} + 1 "
        f"ELSE {views} END WHERE {key} = %s RETURNING {views}"
    )


def _upsert_sql() -> str:
    # One statement on both databases: the ORM's update_conflicts cannot add to a column.
    global _UPSERT_DAY
    if _UPSERT_DAY is None:
        table, article, day, count = map(
            connection.ops.quote_name, [DailyView._meta.db_table, "article_id", "day", "count"]
        )
        _UPSERT_DAY = (
            f"INSERT INTO {table} ({article}, {day}, {count}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({article}, {day}) DO UPDATE SET {count} = {table}.{count} + 1"
        )
    return _UPSERT_DAY


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
