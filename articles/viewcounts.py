"""조회수 in the database: add n views of a story to its all-time row (ViewTotal) and to a
day's row (DailyView), in the database itself (`count = count + n`, an upsert for a first
row), stopping at each column's largest value instead of overflowing.

Two callers: a reader's view counted at once (n = 1, reader/viewcount.py, when no Redis
buffers views) and the flush of views buffered in Redis (articles/viewbuffer.py), one
statement per story and per story-day whatever the number of views.
"""

import functools
from datetime import date

from django.db import connection

from articles.models import COUNT_MAX, Article, DailyView, ViewTotal

# A day's count is a 32-bit column (PositiveIntegerField on PostgreSQL).
DAY_COUNT_MAX = 2**31 - 1


def add_to_total(cursor, article_id: int, n: int) -> int | None:
    """Add `n` to the story's total and return it (None if the story is gone: nothing is
    written). An UPDATE that reads nothing of the story first; only a first view inserts,
    and that insert checks the story."""
    n = min(n, COUNT_MAX)
    sql = statements()
    cursor.execute(sql.add_to_total, [n, n, article_id])
    row = cursor.fetchone()
    if row is None:
        cursor.execute(sql.first_of_total, [n, article_id, n, n])
        row = cursor.fetchone()
    return None if row is None else row[0]


def add_to_day(cursor, article_id: int, day: date, n: int) -> None:
    """Add `n` to the story's count of `day` (nothing if the story is gone)."""
    n = min(n, DAY_COUNT_MAX)
    sql = statements()
    cursor.execute(sql.add_to_day, [n, n, article_id, day])
    if cursor.rowcount == 0:
        cursor.execute(sql.first_of_day, [day, n, article_id, n, n])


class Statements:
    """One statement each on both databases (the ORM's update_conflicts cannot add to a
    column). The first rows are upserts, so two first views race to one row and both count.
    The INSERTs read the story's id from its table, so a story that is gone inserts nothing
    (and its buffered views are dropped without an error)."""

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
            f"INSERT INTO {total} ({article}, {count}) SELECT {key}, %s FROM {stories} "
            f"WHERE {key} = %s "
            f"ON CONFLICT ({article}) DO UPDATE SET {count} = {add_total} RETURNING {count}"
        )
        self.add_to_day = (
            f"UPDATE {day_table} SET {count} = {add_day} WHERE {article} = %s AND {day} = %s"
        )
        self.first_of_day = (
            f"INSERT INTO {day_table} ({article}, {day}, {count}) SELECT {key}, %s, %s "
            f"FROM {stories} WHERE {key} = %s "
            f"ON CONFLICT ({article}, {day}) DO UPDATE SET {count} = {add_day}"
        )


def _saturating(table: str, column: str, maximum: int) -> str:
    """count + n, or the column's largest value when that would pass it (n <= maximum)."""
    count = f"{table}.{column}"
    return f"CASE WHEN {count} <= {maximum} - %s THEN {count} + %s ELSE {maximum} END"


@functools.cache
def statements() -> Statements:
    return Statements()
