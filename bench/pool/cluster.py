"""A throwaway PostgreSQL cluster (and PgBouncer) on free loopback ports, owned by the run."""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import psycopg.sql

from bench.common import free_port, write_pgbouncer_files

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
APP_USER = "app"
APP_DATABASE = "bench"


def _as_owner(args: list[str]) -> list[str]:
    # PostgreSQL and PgBouncer refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for item in [path, *path.rglob("*")]:
            os.chown(item, entry.pw_uid, entry.pw_gid)


def initdb(data: Path) -> None:
    """A new cluster in `data` (its folder made and given to postgres): superuser postgres
    (trust), UTF8, the C locale."""
    data.parent.mkdir(parents=True, exist_ok=True)
    _chown(data.parent)
    subprocess.run(
        _as_owner([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                   "--locale=C", "--auth=trust", "--no-sync"]),
        check=True, stdout=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip


def pg_ctl(data: Path, log: Path, *args: str, seconds: int = 60) -> None:
    """pg_ctl on the cluster in `data`, waiting up to `seconds` for it to finish."""
    subprocess.run(
        _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log),
                   "-w", "-t", str(seconds), *args]),
        check=True, stdout=subprocess.DEVNULL, timeout=seconds + 30,
    )  # fmt: skip


class Cluster:
    def __init__(self, root: Path, password: str):
        self.root = root
        self.data = root / "data"
        self.log = root / "postgresql.log"
        self.port = free_port()
        self.password = password
        self.auth = "scram-sha-256"

    def init(self) -> None:
        initdb(self.data)
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\n"
                "max_connections = 300\nshared_buffers = 128MB\n"
                # Django skips its per-connection SET TIME ZONE when the server is in UTC.
                "timezone = 'UTC'\nlog_timezone = 'UTC'\npassword_encryption = 'scram-sha-256'\n"
                # One log line per new session, with a millisecond timestamp: new sessions per
                # request are counted from these.
                "log_connections = on\nlog_line_prefix = '%m [%p] '\n"
            )
        self.set_auth(self.auth, reload=False)

    def set_auth(self, method: str, *, reload: bool = True) -> None:
        """The application's role authenticates with `method`; the benchmark's own admin
        connections (the sampler) use trust over the Unix socket."""
        self.auth = method
        (self.data / "pg_hba.conf").write_text(
            "local all postgres trust\n"
            f"host all {APP_USER} 127.0.0.1/32 {method}\n"
            "host all postgres 127.0.0.1/32 trust\n"
        )
        if reload:
            self.ctl("reload")
            time.sleep(0.3)

    def ctl(self, *args: str) -> None:
        pg_ctl(self.data, self.log, *args)

    def start(self) -> None:
        self.ctl("start")

    def restart(self) -> None:
        self.ctl("-m", "fast", "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.ctl("-m", "immediate", "stop")

    def admin(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.root), port=self.port, user="postgres", dbname=dbname, autocommit=True
        )

    def create_app_database(self) -> None:
        with self.admin() as conn:
            # Utility statements take no parameters: quote the password as a literal.
            password = psycopg.sql.Literal(self.password).as_string(conn)
            conn.execute(f"CREATE ROLE {APP_USER} LOGIN PASSWORD {password}".encode())
            conn.execute(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_USER}")

    def url(self, port: int | None = None) -> str:
        return f"postgres://{APP_USER}:{self.password}@127.0.0.1:{port or self.port}/{APP_DATABASE}"

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def new_sessions_between(self, start: float, end: float) -> int:
        """Sessions of the application's role authorised in [start, end) (epoch seconds)."""
        count = 0
        with self.log.open(errors="replace") as log:
            for line in log:
                if "connection authorized: user=app" not in line:
                    continue
                stamp = _log_time(line)
                if stamp is not None and start <= stamp < end:
                    count += 1
        return count


def _log_time(line: str) -> float | None:
    # "2026-01-31 12:34:56.789 UTC [123] LOG: ..."
    try:
        date, clock, zone = line.split(" ", 3)[:3]
    except ValueError:
        return None
    if zone != "UTC":
        return None
    import calendar

    whole, _, fraction = clock.partition(".")
    try:
        parsed = time.strptime(f"{date} {whole}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return calendar.timegm(parsed) + float(f"0.{fraction or 0}")


class PgBouncer:
    """PgBouncer in transaction mode in front of the cluster, scram on both sides."""

    def __init__(self, root: Path, cluster: Cluster, pool_size: int):
        self.root = root
        self.cluster = cluster
        self.port = free_port()
        self.pool_size = pool_size
        self.process: subprocess.Popen | None = None
        # Where it listens; the last address is the one start() waits for.
        self.addresses = ["127.0.0.1"]

    def start(self) -> None:
        ini = write_pgbouncer_files(
            self.root,
            {APP_DATABASE: f"host=127.0.0.1 port={self.cluster.port} dbname={APP_DATABASE}"},
            {APP_USER: self.cluster.password},
            listen_addr=",".join(self.addresses),
            listen_port=self.port,
            auth_type="scram-sha-256",
            # As many server connections as the site has request threads, like the pool.
            default_pool_size=self.pool_size,
            min_pool_size=0,
            max_client_conn=1000,
            log_connections=0,
            log_disconnections=0,
        )
        _chown(self.root)
        self.process = subprocess.Popen(
            _as_owner([shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(ini)]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.addresses[-1], self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("PgBouncer did not start: see " + str(self.root / "pgbouncer.log"))

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        if self.process is None:
            return []
        return [self.process.pid, *children(self.process.pid)]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            for pid in reversed(self.pids()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 15)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


# --- CPU accounting from /proc ------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_seconds(root_pid: int) -> float:
    """CPU of a process and its live children, plus what its exited children used (the
    kernel adds a reaped child's time to its parent's cutime/cstime): PostgreSQL's
    per-connection backends are counted even when they lived for one request."""
    total = _own_cpu(root_pid, with_reaped=True)
    for child in children(root_pid):
        total += _own_cpu(child, with_reaped=False)
    return total


def _own_cpu(pid: int, *, with_reaped: bool) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After ")": state=0, ppid=1, ..., utime=11, stime=12, cutime=13, cstime=14.
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK
