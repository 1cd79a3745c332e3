"""Django's PostgreSQL backend, with the readers' limits kept on the session.

Readers' requests have lock and statement timeouts of their own (DB_READER_*_TIMEOUT_MS,
ops.middleware.ReaderTimeoutsMiddleware); everything else has the session's (DB_*_TIMEOUT_MS,
unset: none). Behind PgBouncer in transaction mode a session-level SET would stay on whichever
server connection ran it, so there the middleware sets them with SET LOCAL in a transaction it
opens for the request: BEGIN, the SET and COMMIT, three round trips on every request that
reads the database, each costing the worker about as much CPU as a small query
(docs/performance.md).

On the site's own connections (direct, pooled or not) the session keeps them instead. Each
connection remembers which limits it holds; while a reader's request is served (`reading`, set
by the middleware) a cursor asked for on a connection without the readers' limits sets them
first, and outside one a cursor asked for on a connection with them sets the session's values
back (RESET: what the connection started with). A worker serving readers one after another
sets nothing after its pooled connections' first request; an editor's request or a command
that draws a connection a reader used pays one statement. Outside a transaction the change is
made for the session, once a connection is taken (Django's autocommit) or before a cursor's
first statement; inside one (an atomic block begun before the request's first query, a test's
transaction) it is made for that transaction only, with SET LOCAL, once per transaction, so a
rollback can never leave a connection holding other limits than it says.

Its connections also read timestamptz columns with psycopg's own parser (loaders.py), and
have the server prepare the statements articles/prepared.py asks again and again with new
values (preparing_cursor()), except behind PgBouncer.
"""

import contextvars
import functools
import itertools
import re

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base, operations
from psycopg import errors

from ops.postgresql.loaders import adapters_template

# True while a reader's request is served in this thread (or task).
reading = contextvars.ContextVar("reading", default=False)


class Limits:
    """A set of readers' limits ((parameter, milliseconds) pairs, none unlimited) and the
    statements that set them and take them back."""

    def __init__(self, values: tuple[tuple[str, int], ...]):
        self.values = values

        def set_all(local: bool) -> str:
            flag = "true" if local else "false"
            pairs = (f"set_config('{name}', '{ms}ms', {flag})" for name, ms in values)
            return "SELECT " + ", ".join(pairs)

        # By whether the change is for the transaction only (local) or for the session.
        self.sets = {False: set_all(False), True: set_all(True)}
        self.resets = {
            False: "; ".join(f"RESET {name}" for name, _ in values),
            True: "; ".join(f"SET LOCAL {name} TO DEFAULT" for name, _ in values),
        }

    def __repr__(self):
        return f"Limits({dict(self.values)})"


@functools.cache
def limits_of(values: tuple[tuple[str, int], ...]) -> Limits:
    """The one Limits object for these values, in order (connections compare them by
    identity)."""
    return Limits(values)


def session_limits(settings_dict) -> Limits | None:
    """The readers' limits a connection of `settings_dict` keeps on its session, or None: none
    asked for, or behind PgBouncer (the middleware sets them per transaction there)."""
    if settings_dict.get("PGBOUNCER"):
        return None
    asked = (settings_dict.get("READER_SETTINGS") or {}).items()
    values = tuple(sorted((name, int(ms)) for name, ms in asked if ms))
    return limits_of(values) if values else None


# What a transaction's own limits are when it set none (those of the session apply).
SESSION = object()


# A connection's psycopg prepares a statement run this many times: never, in effect. Its
# PreparingCursors ask for each of theirs (psycopg prepares nothing at all with None).
NEVER_BY_COUNT = 2**31

# The "name" create_cursor() is given for a PreparingCursor.
_PREPARING = object()


# A % and the character after it, if any.
_PERCENT = re.compile("%.?", re.DOTALL)


@functools.lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """`sql` with PostgreSQL's own placeholders ($1, $2, …) for its %s, and % for its %%. The
    statements a PreparingCursor runs are a few hundred compilations asked again and again;
    psycopg would find the placeholders of any statement over 4 KB or with over 50 values again
    on every call (its own cache stops there), and the compiled statements that read along a
    story's are longer: about 4 % of an API story's miss."""
    number = itertools.count(1)

    def written(match: re.Match) -> str:
        if match[0] == "%s":
            return f"${next(number)}"
        if match[0] == "%%":
            return "%"
        raise ValueError(f"only %s and %% placeholders: …{match[0]}")

    return _PERCENT.sub(written, sql)


class PreparingCursor(base.CursorMixin, psycopg.RawCursor):
    """Sends its values apart from the statement, and has the server prepare each statement
    the first time this connection runs it (psycopg keeps up to 100 a connection, the least
    recently used deallocated first). For statements asked again and again with new values
    (articles/prepared.py): PostgreSQL planned a story page's statement in about 1.2 ms and
    ran it in 0.25. Given %s placeholders, as every Django cursor is; it sends each statement
    with PostgreSQL's own, found once per statement (numbered())."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        if params is not None:
            query = numbered(query)
        return super().execute(query, params, prepare=True, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        if isinstance(cursor, PreparingCursor):
            # Its values were sent apart: the statement with them in place, as Django shows
            # one under server-side binding.
            try:
                return self.compose_sql(sql, params)
            except errors.DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reader_limits = session_limits(self.settings_dict)
        self._transaction_limits = SESSION

    def get_connection_params(self):
        params = super().get_connection_params()
        if "context" in params:  # Django's adapters, for every connection and the pool's
            params["context"] = adapters_template(settings.USE_TZ, self.timezone)
        if params.get("prepare_threshold") is None and not self.settings_dict.get("PGBOUNCER"):
            # Django turns psycopg's preparing off (None); only a PreparingCursor asks for it,
            # for each of its statements, so this threshold is never reached otherwise.
            params["prepare_threshold"] = NEVER_BY_COUNT
        return params

    def init_connection_state(self):
        super().init_connection_state()
        if self.reader_limits is not None:
            self.settle_limits()  # in autocommit: for the session

    def create_cursor(self, name=None):
        if self.reader_limits is not None:
            self.settle_limits()
        if name is not _PREPARING:
            return super().create_cursor(name)
        cursor = PreparingCursor(self.connection)
        # As Django's create_cursor(): the time zone of the connection's own loader, unless
        # the settings changed it since the connection was made.
        loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, base.Format.TEXT)
        if self.timezone != loader.timezone:
            base.register_tzloader(self.timezone, cursor)
        return cursor

    def preparing_cursor(self):
        """A cursor whose statements the server prepares (see PreparingCursor); a plain one
        behind PgBouncer in transaction mode, where a statement prepared on one server
        connection is unknown to the next."""
        if self.settings_dict.get("PGBOUNCER"):
            return self.cursor()
        return self._cursor(_PREPARING)

    def _set_autocommit(self, autocommit):
        super()._set_autocommit(autocommit)
        self._transaction_limits = SESSION  # a transaction begins or ends

    def settle_limits(self) -> None:
        """Give this connection the limits wanted now (the readers' while one is served, else
        the session's own), with one statement when it holds others."""
        wanted = self.reader_limits if reading.get() else None
        raw = self.connection
        held = getattr(raw, "reader_limits", None)
        local = not self.get_autocommit()  # inside a transaction: for it only
        current = held
        if local and self._transaction_limits is not SESSION:
            current = self._transaction_limits
        if current is wanted:
            return
        sql = wanted.sets[local] if wanted is not None else current.resets[local]
        with self.wrap_database_errors:
            raw.execute(sql)
        if local:
            self._transaction_limits = wanted
        else:
            raw.reader_limits = wanted
