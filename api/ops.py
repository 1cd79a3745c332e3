"""GET /api/v1/ops/db: the status page's content for programs (staff session or ops token)."""

from ninja import Router, Schema, security
from ninja.errors import AuthorizationError

from api.schemas import ErrorOut
from articles.roles import PUBLISH_PERMISSION, can_operate
from ops.status import database_status
from tokens.auth import TokenAuth


class CountOut(Schema):
    key: str
    count: int


class ApplicationCountOut(Schema):
    key: str
    count: int
    active: int
    idle: int
    in_transaction: int


class IdleInTransactionOut(Schema):
    pid: int
    application_name: str
    user: str
    database: str
    state: str
    transaction_seconds: float
    idle_seconds: float
    query: str


class ServerOut(Schema):
    version: str
    max_connections: int
    superuser_reserved_connections: int
    connections: int
    own_pid: int
    application_name: str
    by_state: list[CountOut]
    by_application: list[ApplicationCountOut]
    idle_in_transaction: list[IdleInTransactionOut]


class ProcessOut(Schema):
    pid: int
    threads: int


class ResultOut(Schema):
    label: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    server_connections_max: int
    errors: int


class DatabaseStatusOut(Schema):
    alias: str
    strategy: str
    vendor: str
    process: ProcessOut
    knobs: dict[str, str]
    gunicorn: dict[str, str]
    pool: dict[str, int] | None
    server: ServerOut | None
    results: list[ResultOut]


class SessionAuthIsStaff(security.SessionAuthIsStaff):
    """An editor's or admin's session (articles.roles.can_operate); a writer's is a 403.
    It keeps ninja's class name: the OpenAPI schema names its security scheme after it."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user and not can_operate(user):
            raise AuthorizationError(message="운영 상태는 편집자와 관리자만 볼 수 있습니다.")
        return user


# The status page's audience (an operator's session) or a monitoring job (a token with the
# ops:read scope, whose user is an operator too).
router = Router(
    tags=["ops"],
    auth=[SessionAuthIsStaff(), TokenAuth(scope="ops:read", perms=[PUBLISH_PERMISSION])],
)


@router.get(
    "/db",
    # Every answer documented, in the API's one error shape, so that bin/fuzz-api checks
    # this operation too: 401 without a staff session or a valid token, 403 for a token
    # without ops:read, 503 when no database connection can be had.
    response={200: DatabaseStatusOut, 401: ErrorOut, 403: ErrorOut, 503: ErrorOut},
    summary="데이터베이스 연결 상태",
    operation_id="ops_api_database",
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
