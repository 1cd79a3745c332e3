from ninja import Schema


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
