"""What the tests of compiled queries share (articles/prepared.py): reads sent along one
(read_along()), and the statements PostgreSQL keeps prepared."""

from django.db import connection


def prepared_statements() -> list[str]:
    """The statements the server keeps prepared for this test's connection (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def rows_reversed(read_along):
    """read_along() giving every part's rows in the reverse order: the statement promises none,
    so what reads it must not rely on the order they come in."""

    def reversed_along(*args, **kwargs):
        own, others = read_along(*args, **kwargs)
        return own[::-1], [rows[::-1] for rows in others]

    return reversed_along
