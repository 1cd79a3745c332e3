"""When the database cannot serve a request now, the site says so with a 503, not a 500 or a
hang.

Five things end that way: the pool is exhausted (psycopg_pool.PoolTimeout after the pool
timeout, or TooManyRequests at once when DB_POOL_MAX_WAITING is full), the server cannot be
reached or is shutting down, a connection broke under us, a statement ran past
DB_STATEMENT_TIMEOUT_MS, or it waited for a lock past DB_LOCK_TIMEOUT_MS (a migration's
ALTER TABLE, say). Django re-raises each as django.db.OperationalError or InterfaceError with
the psycopg error as its cause; everything else (a bad query, a deadlock, a serialization
failure) stays a real error.
"""

import logging

import psycopg
import psycopg_pool
from django.db import Error as DjangoDatabaseError
from django.db import connections
from django.http import HttpResponse
from django.template.loader import render_to_string

from articles.versions import CacheUnavailable

logger = logging.getLogger("ops.database")

POOL_EXHAUSTED = "pool-exhausted"
POOL_QUEUE_FULL = "pool-queue-full"
DATABASE_UNREACHABLE = "database-unreachable"
STATEMENT_TIMEOUT = "statement-timeout"
LOCK_TIMEOUT = "lock-timeout"
# A write that cannot move the content version (articles/versions.py) is refused.
CACHE_UNREACHABLE = "cache-unreachable"

# Seconds a client should wait before retrying. A pool frees up as soon as the requests
# holding it finish; a database that is restarting, overloaded or busy with a migration's
# locks needs a few seconds more.
RETRY_AFTER = {
    POOL_EXHAUSTED: 2,
    POOL_QUEUE_FULL: 2,
    DATABASE_UNREACHABLE: 5,
    STATEMENT_TIMEOUT: 5,
    LOCK_TIMEOUT: 5,
    CACHE_UNREACHABLE: 5,
}

MESSAGES = {
    POOL_EXHAUSTED: "지금 요청이 몰려 데이터베이스 연결을 얻지 못했습니다.",
    POOL_QUEUE_FULL: "지금 요청이 몰려 데이터베이스 연결을 기다릴 자리가 없습니다.",
    DATABASE_UNREACHABLE: "데이터베이스에 연결할 수 없습니다.",
    STATEMENT_TIMEOUT: "데이터베이스가 요청을 제시간에 처리하지 못했습니다.",
    LOCK_TIMEOUT: "다른 작업이 데이터를 잠그고 있어 요청을 처리하지 못했습니다.",
    CACHE_UNREACHABLE: "공유 캐시에 연결할 수 없어 저장하지 않았습니다. 잠시 뒤에 다시 저장해 주세요.",
}

# SQLSTATEs that mean "this server will not serve you now", not "your query is wrong":
# too_many_connections, admin_shutdown (a restart or pg_terminate_backend), crash_shutdown,
# cannot_connect_now (starting up or shutting down), idle_session_timeout.
# Class 08 (connection exception) is matched as a prefix.
UNAVAILABLE_SQLSTATES = frozenset({"53300", "57P01", "57P02", "57P03", "57P05"})
# SQLSTATEs that mean "not in time": query_canceled (statement_timeout, or an operator's
# pg_cancel_backend) and lock_not_available (lock_timeout, or NOWAIT). The same request may
# well succeed a moment later, so a reader gets a 503 with Retry-After, not a 500.
TIMEOUT_SQLSTATES = {"57014": STATEMENT_TIMEOUT, "55P03": LOCK_TIMEOUT}


def unavailable_reason(exc: BaseException | None) -> str | None:
    """Why the database cannot serve this request now, or None when `exc` is some other
    error."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, CacheUnavailable):
            return CACHE_UNREACHABLE
        # The pool's errors subclass psycopg.OperationalError, so they are tested first.
        if isinstance(exc, psycopg_pool.TooManyRequests):
            return POOL_QUEUE_FULL
        if isinstance(exc, psycopg_pool.PoolTimeout):
            return POOL_EXHAUSTED
        if isinstance(exc, psycopg_pool.PoolClosed | psycopg.InterfaceError):
            return DATABASE_UNREACHABLE
        if isinstance(exc, psycopg.OperationalError):
            # Errors raised by libpq itself (refused, reset, "server closed the connection
            # unexpectedly") carry no SQLSTATE.
            sqlstate = exc.sqlstate
            if sqlstate is None or sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES:
                return DATABASE_UNREACHABLE
            return TIMEOUT_SQLSTATES.get(sqlstate)
        # Django's wrappers name the psycopg error as their cause.
        if exc.__cause__ is not None:
            exc = exc.__cause__
        elif isinstance(exc, DjangoDatabaseError) and not exc.__suppress_context__:
            exc = exc.__context__
        else:
            return None
    return None


def pool_stats(alias: str = "default") -> dict | None:
    """This process's pool statistics for `alias`, or None without a pool.

    get_stats() leaves the counters running (pop_stats() would reset them for everyone).
    """
    connection = connections[alias]
    if connection.vendor != "postgresql" or not connection.settings_dict["OPTIONS"].get("pool"):
        return None
    return connection.pool.get_stats()


def unavailable_response(request, reason: str, exc: BaseException) -> HttpResponse:
    """The site's 503 page for `reason`, logged once. (Under /api/ the API's middleware
    answers it in the API's JSON shape, with the same message.)"""
    retry_after = RETRY_AFTER[reason]
    message = MESSAGES[reason]
    response = HttpResponse(_page(request, message, retry_after), status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    response.error_message = message
    log_unavailable(request, reason, exc)
    # django.request would log the same event again (with a traceback) when the 503 comes
    # from handler500; once is enough.
    response._has_been_logged = True
    return response


def log_unavailable(request, reason: str, exc: BaseException) -> None:
    stats = pool_stats()
    logger.warning(
        "503 %s %s %s: %s; pool %s",
        request.method,
        request.path,
        reason,
        first_line(exc),
        " ".join(f"{key}={value}" for key, value in sorted(stats.items())) if stats else "none",
    )


def _page(request, message: str, retry_after: int) -> str:
    # A plain context, not a RequestContext: context processors (the user, messages) may
    # query the database that just failed. No request either: request.user or
    # request.session in a template would reach for the database again.
    from django.conf import settings

    return render_to_string(
        "ops/unavailable.html",
        {
            "SITE_NAME": settings.SITE_NAME,
            "message": message,
            "retry_after": retry_after,
        },
    )


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its class name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
