"""What the PostgreSQL tests of management commands share: `manage.py` in a fresh process, a
throwaway database of their own on the server DATABASE_URL names, and PgBouncer in front of it.

A throwaway database keeps what the commands do (a schema, settings stored on the role in
that database) away from the test database the rest of the suite uses."""

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from bench.common import free_port, write_pgbouncer_files
from tests.process_support import last_json, run, run_python

# Tests of the native pool itself: they run where DATABASE_URL's settings turn it on.
needs_pool = pytest.mark.skipif(
    not connection.settings_dict["OPTIONS"].get("pool"), reason="needs DB_POOL=true (as CI sets)"
)


def manage(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """`manage.py *args` in a fresh process whose database settings are only `env`'s."""
    return run([sys.executable, "manage.py", *args], command_env(**env), timeout)


def command_env(**env: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "CONN_", "SQLITE_", "MIGRATE_")) and key != "DATABASE_URL"
    }
    environment["DJANGO_SETTINGS_MODULE"] = "culture.settings"
    environment.update(env)
    return environment


def run_django(code: str, **env: str):
    """`code` after django.setup() in a fresh process on DATABASE_URL's database, its other
    database settings only `env`'s; the JSON line it prints last, once it exited cleanly."""
    prelude = "import django, json, time\ndjango.setup()\n"
    environment = command_env(**{"DATABASE_URL": os.environ["DATABASE_URL"], **env})
    return last_json(run_python(prelude + code, environment))


def own_connection(application_name: str) -> psycopg.Connection:
    """A connection of the tests' own, outside Django and its pool, to the test database."""
    params = connection.get_connection_params()
    keep = ("dbname", "user", "password", "host", "port")
    return psycopg.connect(
        **{key: params[key] for key in keep if key in params},
        application_name=application_name,
        autocommit=True,
    )


def server_url(dbname: str) -> str:
    """DATABASE_URL with another database name."""
    return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{dbname}").geturl()


def connect(dbname: str | None = None, **params) -> psycopg.Connection:
    """A connection of the tests' own, outside Django, to `dbname` on DATABASE_URL's server
    (its own database when None)."""
    url = os.environ["DATABASE_URL"] if dbname is None else server_url(dbname)
    url = url.replace("pgsql://", "postgresql://", 1)  # libpq knows postgres(ql):// only
    return psycopg.connect(url, autocommit=True, **params)


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new empty database for the duration; yields its name."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with connect() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with connect() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def scratch_database_fixture(prefix: str):
    """A fixture, `database`, that gives each test a scratch_database() of its own."""

    @pytest.fixture
    def database() -> Iterator[str]:
        with scratch_database(prefix) as name:
            yield name

    return database


# For a script run in a fresh process: the SQLSTATE that a two-second sleep on `cursor` ends
# with, 57014 when a statement timeout cuts it short (None when it runs to its end).
SLEEP_OUTCOME = """
def sleep_outcome(cursor):
    try:
        cursor.execute("SELECT pg_sleep(2)")
    except Exception as exc:
        return exc.__cause__.sqlstate
    return None
"""


class PgBouncer:
    """PgBouncer in transaction mode (the Debian package) on a free loopback port, in front of
    DATABASE_URL's server, with its files in a folder of its own. It refuses to run as root, so
    as root it runs as the postgres user (as bench/pool/cluster.py starts it)."""

    def __init__(self):
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not Path(binary).exists():
            pytest.skip("needs PgBouncer (Debian: apt-get install pgbouncer)")
        self.binary = binary
        parts = urlsplit(os.environ["DATABASE_URL"])
        self.user = unquote(parts.username or "postgres")
        self.password = unquote(parts.password or "")
        self.server = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="culture-pgbouncer-"))
        self.process: subprocess.Popen | None = None

    def url(self, dbname: str) -> str:
        password = f":{self.password}" if self.password else ""
        return f"postgres://{self.user}{password}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        ini = write_pgbouncer_files(
            self.root,
            {"*": f"host={self.server[0]} port={self.server[1]}"},
            {self.user: self.password},
            listen_port=self.port,
            # The server's own authentication still applies, with the password above.
            auth_type="trust",
            default_pool_size=4,
            max_client_conn=100,
        )
        command = [self.binary, str(ini)]
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in [self.root, *self.root.iterdir()]:
                os.chown(path, owner.pw_uid, owner.pw_gid)
            command = ["runuser", "-u", "postgres", "--", *command]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, stopped as one in stop()
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("PgBouncer did not start")

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
