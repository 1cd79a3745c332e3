"""GET /api/v1/ops/db: the status page's content for programs (staff session or ops token)."""

import psycopg_pool
from django.db import InterfaceError, OperationalError
from ninja import Router
from ninja.security import SessionAuthIsStaff

from api.schemas import ErrorOut
from ops.availability import unavailable_reason, unavailable_response
from ops.schemas import DatabaseStatusOut
from ops.status import database_status
from tokens.auth import TokenAuth

# A staff member's session (the status page's audience) or a token with the ops:read scope
# (a monitoring job).
router = Router(tags=["ops"], auth=[SessionAuthIsStaff(), TokenAuth(scope="ops:read")])


@router.get(
    "/db",
    # Every answer documented, in the API's one error shape, so that bin/fuzz-api checks
    # this operation too: 401 without a staff session or a valid token, 403 for a token
    # without ops:read, 503 when no database connection can be had.
    response={200: DatabaseStatusOut, 401: ErrorOut, 403: ErrorOut, 503: ErrorOut},
    summary="데이터베이스 연결 상태",
    description=(
        "연결 전략과 설정, 이 프로세스의 풀 통계, 서버의 연결(상태별·application_name별)과 "
        "트랜잭션을 연 채 쉬는 세션. 스태프 세션이나 `ops:read` 권한의 토큰이 있어야 합니다: "
        "없거나 틀린 토큰은 401, 권한이 없는 토큰은 403입니다."
    ),
)
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
