"""조회수: exact view counting that ignores bots, HEAD requests, staff and quick reloads.

A view adds one to two rows in the database: the story's all-time row (ViewTotal) and the day's
row (DailyView), each `count = count + 1` in the database itself (an upsert for a first view).
So N simultaneous readers add exactly N whatever the number of workers, and the story's own
row is neither written nor locked: an editor's transaction holding it never makes a reader
wait. Both counts stop at their column's largest value instead of overflowing. A first-party
cookie remembers the stories this browser counted in the last 30 minutes.
"""

import functools
import re
import time

from django.db import connection, transaction
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
    total (None if the story is gone).

    Each count is first an UPDATE of its own row, which reads nothing of the story: a story
    whose page is cached is counted even while its table is locked (a migration). Only a
    story's first view (of all time, of the day) inserts, and the insert checks the story."""
    today = timezone.localdate()
    sql = _statements()
    # No savepoint of its own inside a reader's transaction (ops.middleware): it would cost
    # two round trips, and a failure here fails the request anyway.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(sql.add_to_total, [article_id])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(sql.first_of_total, [article_id])
            row = cursor.fetchone()
            if row is None:
                return None
        cursor.execute(sql.add_to_day, [article_id, today])
        if cursor.rowcount == 0:
            cursor.execute(sql.first_of_day, [article_id, today])
    return row[0]


def current_count(article_id: int) -> int | None:
    """The story's total, or None if the story is gone (read from the story's table only
    before its first view)."""
    total = ViewTotal.objects.filter(article_id=article_id).values_list("count", flat=True)
    for count in total:
        return count
    return 0 if Article.objects.filter(pk=article_id).exists() else None


class _Statements:
    """The statements of a view, one each on both databases (the ORM's update_conflicts
    cannot add to a column). The first views are upserts, so two readers' first views race
    to one row and both count. The total's INSERT reads the story's id from its table, so a
    story that is gone inserts nothing and RETURNING gives no row."""

    def __init__(self):
        quote = connection.ops.quote_name
        total, article, stories, key = map(
            quote, [ViewTotal._meta.db_table, "article_id", Article._meta.db_table, "id"]
        )
        count, day_table, day = map(quote, ["count", DailyView._meta.db_table, "day"])
        add_total = _saturating(total, count, COUNT_MAX)
        add_day = _saturating(day_table, count, DAY_COUNT_MAX)
        self.add_to_total = (
            f"UPDATE {total} SET {count} = {add_total} WHERE {article} = %s RETURNING {count}"
        )
        self.first_of_total = (
            f"INSERT INTO {total} ({article}, {count}) SELECT {key}, 1 FROM {stories} "
            f"WHERE {key} = %s "
            f"ON CONFLICT ({article}) DO UPDATE SET {count} = {add_total} RETURNING {count}"
        )
        self.add_to_day = (
            f"UPDATE {day_table} SET {count} = {add_day} WHERE {article} = %s AND {day} = %s"
        )
        self.first_of_day = (
            f"INSERT INTO {day_table} ({article}, {day}, {count}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({article}, {day}) DO UPDATE SET {count} = {add_day}"
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
