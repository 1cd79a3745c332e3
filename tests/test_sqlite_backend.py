"""ops.sqlite: Django's SQLite backend, with each statement's placeholder conversion kept."""

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangoCursor

from ops.sqlite.base import qmark


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1",
        "SELECT %s, %s FROM t WHERE a IN (%s, %s, %s)",
        "SELECT name FROM t WHERE name LIKE '%%x%%' AND id = %s",
        "SELECT '%%s' || %s",  # a literal %s stays as it is
        "SELECT '100%%%%' WHERE x = %s",
    ],
)
def test_the_conversion_is_djangos(query):
    assert qmark(query) == DjangoCursor.convert_query(None, query)


@pytest.mark.django_db
def test_statements_run_with_their_values_and_their_conversion_is_kept():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite backend's cursor")
    sql = "SELECT %s || '%%' || %s, '%%s'"
    with connection.cursor() as cursor:
        cursor.execute(sql, ["50", "!"])
        assert cursor.fetchall() == [("50%!", "%s")]
        hits = qmark.cache_info().hits
        cursor.execute(sql, ["7", "?"])
        assert cursor.fetchall() == [("7%?", "%s")]
    assert qmark.cache_info().hits == hits + 1
    # Named ("pyformat") parameters still go through Django's own conversion.
    with connection.cursor() as cursor:
        cursor.execute("SELECT %(a)s + %(b)s", {"a": 2, "b": 3})
        assert cursor.fetchone() == (5,)
