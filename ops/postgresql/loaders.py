"""timestamptz values parsed by psycopg's own loader (its C one, with psycopg's C extension).

Django's backend reads every timestamptz column through a loader of its own
(django.db.backends.postgresql.psycopg_any's BaseTzLoader), made by subclassing psycopg's
Python loader; psycopg swaps in its C loaders only for its own classes, so each value was
parsed in Python. A story list's 20 rows hold 60 to 80 of them. The loader here answers what
Django's answers: the value as psycopg reads it in the session's time zone, given the
connection's tzinfo (None without USE_TZ). The parsing is done by the loader psycopg itself
registers for timestamptz: its C one when installed, else its Python one.

Whole numbers are sent as bigint. psycopg keeps a prepared statement per statement and the
types of its values (ops/postgresql/base.py PreparingCursor), and would send each number as
the smallest type that holds it: story 7 and story 70,000, or a list of keys on either side
of 32,768, would each be a statement of its own. (A statement whose values are written into
it, as Django's are, reads the same either way.)
"""

import functools

from django.db.backends.postgresql.psycopg_any import get_adapters_template
from psycopg import adapt, adapters
from psycopg.postgres import types
from psycopg.pq import Format
from psycopg.types.numeric import Int8Dumper

TIMESTAMPTZ_OID = types["timestamptz"].oid
PARSER = adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


class TzLoader(adapt.Loader):
    # What Django's create_cursor() compares with the connection's time zone: when they
    # differ (a test's settings), it registers its own loader on the cursor.
    timezone = None

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._parse = PARSER(oid, context).load

    def load(self, data):
        return self._parse(data).replace(tzinfo=self.timezone)


@functools.cache
def tz_loader(timezone) -> type[TzLoader]:
    """The loader giving `timezone` (one class per time zone, as Django makes them)."""
    return type("TzLoader", (TzLoader,), {"timezone": timezone})


@functools.cache
def adapters_template(use_tz: bool, timezone) -> adapt.AdaptersMap:
    """Django's adapters for a connection (get_adapters_template()), with the loader above
    for timestamptz and whole numbers sent as bigint."""
    template = adapt.AdaptersMap(get_adapters_template(use_tz, timezone))
    template.register_loader("timestamptz", tz_loader(timezone))
    template.register_dumper(int, Int8Dumper)
    return template
