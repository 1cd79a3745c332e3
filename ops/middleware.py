"""Turns "no database connection could be had" into a 503 with Retry-After, and bounds how long
a reader's request may wait in the database (ReaderTimeoutsMiddleware).

Django wraps every middleware and the view in convert_exception_to_response, so by the time an
exception could reach a wrapping middleware it has already become a 500. Two hooks catch it
instead, and both end in ops.availability.unavailable_response():

- process_exception() here, for exceptions from views (and from TemplateResponse rendering).
  Keep this middleware last in MIDDLEWARE: process_exception runs innermost first.
- ops.views.server_error (handler500), for exceptions raised in other middleware, e.g. the
  session being saved in SessionMiddleware.process_response when the pool is exhausted.
"""

import contextlib
import functools

from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.urls import reverse
from psycopg.pq import TransactionStatus

from articles.replica import REPLICA_ALIAS
from ops.availability import unavailable_reason, unavailable_response
from ops.postgresql.base import reading


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        reason = unavailable_reason(exception)
        if reason is None:
            return None
        return unavailable_response(request, reason, exception)


class ReaderTimeoutsMiddleware:
    """Bounds what a reader's request may wait for in PostgreSQL: DB_READER_LOCK_TIMEOUT_MS for
    any lock, DB_READER_STATEMENT_TIMEOUT_MS for any statement (culture/database.py). Past
    them the server cancels the statement and the reader gets a 503 with Retry-After
    (ops/availability.py), instead of every new reader of a locked table hanging until the
    lock is gone. A reader request is a GET, HEAD or OPTIONS outside the admin; a request
    answered from the cache takes no connection at all, as before.

    On the site's own connections (direct, pooled or not) the limits live on the session: this
    marks the request as a reader's (ops.postgresql.base.reading) and the backend gives each
    connection the limits wanted when a cursor is asked for, with a statement only when the
    connection holds others (ops/postgresql/base.py).

    Behind PgBouncer in transaction mode a session-level SET would stay on whichever server
    connection ran it, and the startup parameter is refused, so there the request runs in one
    transaction that starts with `SET LOCAL` of both parameters (set_config(…, true), one
    statement), begun by its first query. Being local, the values end with the transaction.
    When the first query runs inside a transaction the view opened itself (counting a view of
    a cached story), the values are set in that one, and the request's own transaction begins
    at the next query outside it.

    Editors' requests (the admin, every write) keep the session's own DB_STATEMENT_TIMEOUT_MS
    and DB_LOCK_TIMEOUT_MS (unset: no limit); migrations run without any.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        connection = connections[DEFAULT_DB_ALIAS]
        limits = connection.settings_dict.get("READER_SETTINGS") or {}
        if connection.vendor != "postgresql" or not any(limits.values()):
            raise MiddlewareNotUsed
        names = sorted(name for name, value in limits.items() if value)
        self.sql = "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in names)
        self.params = [value for name in names for value in (name, f"{limits[name]}ms")]
        aliases = [DEFAULT_DB_ALIAS]
        if REPLICA_ALIAS in connections.settings:
            aliases.append(REPLICA_ALIAS)
        # The read replica's queries (articles/replica.py) get the same limits. Those whose
        # backend does not keep them on the session get them per transaction.
        self.aliases = [
            alias for alias in aliases if getattr(connections[alias], "reader_limits", None) is None
        ]

    def __call__(self, request):
        if not self.applies_to(request):
            return self.get_response(request)
        marked = reading.set(True)
        try:
            if not self.aliases:
                return self.get_response(request)
            return self.per_transaction(request)
        finally:
            reading.reset(marked)

    def per_transaction(self, request):
        limits = [RequestLimits(self.sql, self.params) for _ in self.aliases]
        with contextlib.ExitStack() as stack:
            for alias, wrapper in zip(self.aliases, limits, strict=True):
                stack.enter_context(connections[alias].execute_wrapper(wrapper))
            response = self.get_response(request)
        for alias, wrapper in zip(self.aliases, limits, strict=True):
            response = wrapper.finish(response, alias)
        return response

    def applies_to(self, request) -> bool:
        if request.method not in READER_METHODS:
            return False
        return not request.path_info.startswith(admin_prefix())


READER_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@functools.cache
def admin_prefix() -> str:
    return reverse("admin:index")


class RequestLimits:
    """An execute wrapper for one reader request: before its first query, begin the request's
    transaction and set the limits in it (or, inside a transaction of the view's own, set them
    there)."""

    def __init__(self, sql: str, params: list):
        self.sql = sql
        self.params = params
        self.transaction = None  # the request's own, once begun
        self.set_in = None  # the outermost atomic block of a view's own transaction

    def __call__(self, execute, sql, params, many, context):
        if self.transaction is None:
            connection = context["connection"]
            if not connection.in_atomic_block:
                self.transaction = transaction.atomic(using=connection.alias)
                self.transaction.__enter__()
                execute(self.sql, self.params, False, context)
            elif self.set_in is not connection.atomic_blocks[0]:
                self.set_in = connection.atomic_blocks[0]
                execute(self.sql, self.params, False, context)
        return execute(sql, params, many, context)

    def finish(self, response, alias: str = DEFAULT_DB_ALIAS):
        """End the request's transaction: commit, or roll back after a 5xx (a 503 for a
        cancelled statement) or when the server has given up on it."""
        if self.transaction is not None:
            atomic, self.transaction = self.transaction, None
            if response.status_code >= 500 or transaction_failed(alias):
                transaction.set_rollback(True, using=alias)
            atomic.__exit__(None, None, None)
        return response


def transaction_failed(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the server has given up on this transaction (a statement failed in it)."""
    raw = connections[alias].connection
    return raw is not None and raw.info.transaction_status == TransactionStatus.INERROR
