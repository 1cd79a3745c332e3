"""Django's SQLite backend, with each statement's placeholders converted once.

Django writes SQL with "%s" placeholders; its SQLite cursor turns them into SQLite's "?" with a
regular expression over the whole statement before every execution: 20 µs for the 2 KB of a
story's row, on every query of every request. The same few statements run again and again
(compiled once by articles/prepared.py, or built alike by the ORM), so the converted text of
the most recent ones is kept. Its preparing_cursor() is any cursor (PostgreSQL's backend has
the server prepare what it runs). Everything else is Django's backend as it is.
"""

import functools

from django.db.backends.sqlite3 import base

# Distinct statements whose conversion is kept (a few KB each): every shape the site asks,
# with room for the IN lists' lengths.
KEPT_STATEMENTS = 512


@functools.lru_cache(maxsize=KEPT_STATEMENTS)
def qmark(query: str) -> str:
    """`query` with "format" placeholders ("%s", "%%" for a literal %) in SQLite's style, as
    Django's SQLiteCursorWrapper.convert_query() converts it."""
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)

    def preparing_cursor(self):
        """What PostgreSQL's backend gives for statements asked again and again
        (ops/postgresql/base.py): here any cursor, as sqlite3 keeps its connection's most
        recent statements compiled whatever cursor runs them."""
        return self.cursor()
