"""GET /api/v1/ops/db: the status page's content for programs (staff session or ops token)."""

import psycopg_pool
from django.db import InterfaceError, OperationalError
from ninja import Router
from ninja.security import SessionAuthIsStaff

from ops.availability import unavailable_reason, unavailable_response
from ops.schemas import DatabaseStatusOut
from ops.status import database_status
from tokens.auth import TokenAuth

# A staff member's session (the status page's audience) or a token with the ops:read scope
# (a monitoring job).
router = Router(tags=["ops"], auth=[SessionAuthIsStaff(), TokenAuth(scope="ops:read")])


@router.get("/db", response=DatabaseStatusOut, summary="데이터베이스 연결 상태")
def database(request):
    """The connection strategy and knobs, this process's pool statistics, the server's
    connections by state and by application_name, and idle-in-transaction sessions."""
    return database_status()


def register_database_unavailable_handler(api) -> None:
    """Answer "no database connection" anywhere in the API with a 503 in JSON.

    Registered on django.db's OperationalError and InterfaceError (what Django re-raises
    psycopg's and the pool's errors as). Any other database error is not ours to judge: it
    goes on to the API's own handlers and to Django.
    """

    def handle(request, exc):
        reason = unavailable_reason(exc)
        if reason is None:
            raise exc
        return unavailable_response(request, reason, exc)

    for exc_class in (OperationalError, InterfaceError, psycopg_pool.PoolTimeout):
        api.add_exception_handler(exc_class, handle)
