"""One `manage.py migrate` at a time per database, however many hosts start one at once.

A rolling deploy runs migrate on every host. Django's migrate has no guard against another one
running at the same moment: each reads which migrations are applied, each applies the first
missing one, and all but one fail (three at once on an empty PostgreSQL database exited
[0, 1, 1]: a duplicate key in pg_type, 'relation "django_migrations" already exists'; on one
SQLite file too: 'table "django_content_type" already exists'). ops' migrate command takes the
lock below first and keeps it until Django's migrate is done, post_migrate handlers (content
types, permissions) included; the next one waits, then finds nothing to apply and exits 0.

PostgreSQL: a session-level advisory lock, held by a connection of its own that does nothing
else, so nothing migrate does (its transactions, a connection it closes) can release it early;
if the process dies the server ends the session and the lock with it. In transaction mode
PgBouncer would hand the lock's server connection to other clients and the lock would outlive
the migrate, so migrate refuses to run through PgBouncer (DB_PGBOUNCER=true, or a server pid
that is not the one the connection reports): run it against the primary directly.

SQLite: an exclusive flock() on a file beside the database. A SQLite database is one file on
one host, so a lock on that host is enough. The lock file stays: removing it while another
process waits on it would let a third one lock a new file.
"""

import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.core.management.base import CommandError

# Any fixed 64-bit number would do (advisory locks are per database); a hash of a name is
# unlikely to be one another program picked.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"culture:migrate").digest()[:8], "big", signed=True)
# How often a SQLite migrate checks the lock file while it waits.
POLL_SECONDS = 0.1

THROUGH_PGBOUNCER = (
    "migrate는 PgBouncer를 거쳐서 실행하지 않습니다({why}). 트랜잭션 모드에서는 여러 호스트가 "
    "동시에 실행하지 못하게 막는 잠금이 유지되지 않습니다. 주 서버에 직접 연결해서 실행하세요: "
    "DATABASE_URL=postgres://…주 서버…/이름 DB_PGBOUNCER=false manage.py migrate"
)


@contextmanager
def migration_lock(connection, *, timeout: float, say: Callable[[str], None]) -> Iterator[None]:
    """Hold the database's migrate lock for the duration, waiting up to `timeout` seconds for
    another migrate to finish; `say` tells the operator why it waits."""
    if connection.vendor == "postgresql":
        with _advisory_lock(connection, timeout, say):
            yield
    elif connection.vendor == "sqlite" and not connection.is_in_memory_db():
        with _file_lock(Path(f"{connection.settings_dict['NAME']}.migrate-lock"), timeout, say):
            yield
    else:
        yield  # an in-memory SQLite database belongs to one process


@contextmanager
def _advisory_lock(connection, timeout: float, say: Callable[[str], None]) -> Iterator[None]:
    if connection.settings_dict.get("PGBOUNCER"):
        raise CommandError(THROUGH_PGBOUNCER.format(why="DB_PGBOUNCER=true"))
    params = connection.get_connection_params()
    params["application_name"] = f"{params.get('application_name') or 'culture'}:migrate-lock"
    with psycopg.connect(**params, autocommit=True) as lock:
        (server_pid,) = lock.execute("SELECT pg_backend_pid()").fetchone()
        if server_pid != lock.info.backend_pid:
            # PgBouncer answers the connection itself, with a made-up process id.
            raise CommandError(
                THROUGH_PGBOUNCER.format(why="연결 풀러가 서버 프로세스 번호를 바꿔 알려 줍니다")
            )
        # Limits meant for the site's sessions (DB_*_TIMEOUT_MS, the role's or the server's
        # settings) must not cut the wait short or end this idle session while migrate runs.
        for parameter in ("statement_timeout", "lock_timeout", "idle_session_timeout"):
            lock.execute(f"SET {parameter} = 0")
        (granted,) = lock.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()
        if not granted:
            say(f"다른 migrate({_holder(lock)})가 끝나기를 최대 {timeout:g}초 기다립니다…")
            lock.execute(f"SET lock_timeout = {max(1, round(timeout * 1000))}")
            try:
                lock.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
            except psycopg.errors.LockNotAvailable:
                raise CommandError(
                    f"다른 migrate({_holder(lock)})가 {timeout:g}초가 지나도 끝나지 않았습니다. "
                    "그 migrate가 끝난 뒤 다시 실행하거나 MIGRATE_LOCK_TIMEOUT을 늘리세요."
                ) from None
        yield


def _holder(lock: psycopg.Connection) -> str:
    """Who holds the migrate lock, as pg_stat_activity shows it."""
    row = lock.execute(
        "SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'), "
        "coalesce(host(a.client_addr), 'local'), "
        "extract(epoch FROM now() - a.backend_start)::int "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid AND l.objsubid = 1",
        [(LOCK_KEY >> 32) & 0xFFFFFFFF, LOCK_KEY & 0xFFFFFFFF],
    ).fetchone()
    if row is None:
        return "이미 끝남"
    pid, application, address, seconds = row
    return f"서버 pid {pid}, {application}, {address}에서, {seconds}초째"


@contextmanager
def _file_lock(path: Path, timeout: float, say: Callable[[str], None]) -> Iterator[None]:
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout
        waiting = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    say(f"다른 migrate가 끝나기를 최대 {timeout:g}초 기다립니다({path.name})…")
                    waiting = True
                if time.monotonic() >= deadline:
                    raise CommandError(
                        f"다른 migrate가 {timeout:g}초가 지나도 끝나지 않았습니다({path}). "
                        "그 migrate가 끝난 뒤 다시 실행하거나 MIGRATE_LOCK_TIMEOUT을 늘리세요."
                    ) from None
                time.sleep(POLL_SECONDS)
        yield  # closing the file releases the lock


@contextmanager
def timeouts_lifted(connection) -> Iterator[None]:
    """Run migrations without the site's statement and lock timeouts on this connection.

    DB_STATEMENT_TIMEOUT_MS and DB_LOCK_TIMEOUT_MS bound a reader's request; a migration that
    builds an index or waits its turn for a table lock is expected to take longer, and cutting
    it short fails the deploy. RESET afterwards gives the connection back its own values (a
    pooled connection outlives the command in tests)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        cursor.execute("SET lock_timeout = 0")
    try:
        yield
    finally:
        if connection.connection is not None and connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
                cursor.execute("RESET lock_timeout")
