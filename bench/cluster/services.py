"""The servers of one run: PostgreSQL and PgBouncer (bench/pool/cluster.py), Redis, HAProxy,
nginx (deploy/nginx.conf), and the app hosts (gunicorn with the repository's gunicorn.conf.py, each in
its own network namespace). Each is a Debian package started by the run on free ports, with its
files under the run's folder, and stopped by it."""

import contextlib
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import frontproxy
from bench.cluster.load import PUBLIC_HOST, fetch
from bench.cluster.topology import empty_namespace
from bench.common import free_port
from bench.pool.cluster import APP_USER, Cluster, PgBouncer

REPO = Path(__file__).resolve().parents[2]


def wait_port(host: str, port: int, seconds: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {host}:{port}" + (f": see {log}" if log else ""))


def stop_group(process: subprocess.Popen | None, sig=signal.SIGTERM, wait: float = 10) -> None:
    """Stop a process started with start_new_session=True, and its children."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Registry:
    """Pids of the servers the run started (in its folder), so that a cleanup after a crash
    of the run itself (the shell trap) can still stop them."""

    def __init__(self, root: Path):
        self.path = root / "pids.json"
        self.pids: dict[str, int] = {}

    def add(self, name: str, pid: int) -> None:
        self.pids[name] = pid
        self.path.write_text(json.dumps(self.pids))


class Postgres(Cluster):
    """The pool benchmark's cluster, plus a database for the concurrent-migrate scenario."""

    def create_database(self, name: str) -> str:
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} OWNER {APP_USER}")
        return self.url().rsplit("/", 1)[0] + f"/{name}"


class Bouncer(PgBouncer):
    """PgBouncer in transaction mode, listening also on the bridge so the hosts reach it."""

    def __init__(self, root: Path, cluster: Cluster, pool_size: int, listen: str):
        super().__init__(root, cluster, pool_size)
        self.listen = listen
        self.addresses = ["127.0.0.1", listen]

    def url(self) -> str:
        return self.cluster.url(self.port).replace("127.0.0.1", self.listen)


class Server:
    """A server started in a process group of its own (launch) and stopped as one."""

    process: subprocess.Popen | None = None
    stop_signal = signal.SIGTERM

    def launch(self, args: list[str], log: Path | None = None) -> None:
        """Start `args`; what it writes goes to `log` when one is named, else nowhere."""
        self.process = subprocess.Popen(
            args,
            stdout=log.open("w") if log else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        stop_group(self.process, self.stop_signal)
        self.process = None


class Redis(Server):
    """redis-server without persistence: a restart starts empty, like a lost cache node."""

    def __init__(self, root: Path, listen: str):
        self.root = root
        self.listen = listen
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"redis://{self.listen}:{self.port}/0"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        conf = self.root / "redis.conf"
        conf.write_text(
            f"bind {self.listen} 127.0.0.1\nport {self.port}\nprotected-mode no\n"
            f'save ""\nappendonly no\ndaemonize no\ndir {self.root}\n'
            f"logfile {self.root / 'redis.log'}\n"
        )
        self.launch(["redis-server", str(conf)])
        wait_port(self.listen, self.port, 10, "Redis", self.root / "redis.log")

    def client(self):
        import redis

        return redis.Redis(host=self.listen, port=self.port, socket_timeout=1)


class Nginx(Server):
    """deploy/nginx.conf as shipped (bench/frontproxy.py adapts only its ports, folders and
    certificate), on the host side: the front proxy of the app host at `upstream`, serving the
    shared media and static folders itself. The balancer sends /media/ to one over HTTPS;
    scenario 4 puts one in front of each of the other hosts."""

    stop_signal = signal.SIGQUIT  # nginx's graceful stop

    def __init__(self, root: Path, media: Path, static: Path, upstream: str):
        self.root = root
        self.media = media
        self.static = static
        self.upstream = upstream
        self.port = free_port()  # HTTPS
        self.http_port = free_port()  # redirects to HTTPS

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        main = frontproxy.render(
            self.root,
            https_port=self.port,
            http_port=self.http_port,
            upstream=self.upstream,
            media=self.media,
            static=self.static,
        )
        self.process = frontproxy.start(main)
        wait_port("127.0.0.1", self.port, 10, "nginx", self.root / "error.log")


class HAProxy(Server):
    """Round-robin over the hosts, health-checking GET /readyz every second (fall 2, rise 2);
    /media/ goes to nginx (over HTTPS). The stats socket tells which servers are in rotation."""

    def __init__(self, root: Path, listen: str, servers: list[tuple[str, str]], media_port: int):
        self.root = root
        self.listen = listen
        self.servers = servers  # (name, "address:port")
        self.media_port = media_port
        self.port = free_port()
        self.socket = root / "haproxy.sock"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        conf = self.root / "haproxy.cfg"
        servers = "".join(
            f"  server {name} {address} check inter 1s fall 2 rise 2\n"
            for name, address in self.servers
        )
        conf.write_text(
            "global\n"
            f"  stats socket {self.socket} mode 600 level admin\n"
            "  maxconn 4000\n"
            "defaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n"
            "  timeout server 30s\n  timeout http-keep-alive 5s\n"
            # A connection refused by a dead host is tried again on another (production's
            # usual settings); a request already sent is never replayed.
            "  retries 2\n  option redispatch\n"
            # The client's address, appended to X-Forwarded-For (BEHIND_PROXY on the hosts).
            "  option forwardfor\n"
            f"frontend site\n  bind {self.listen}:{self.port}\n"
            "  acl media path_beg /media/\n  use_backend media if media\n"
            "  default_backend app\n"
            "backend app\n  balance roundrobin\n  option httpchk\n"
            f"  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host {PUBLIC_HOST}\n"
            "  http-check expect status 200\n"
            # Which host answered: the scenarios count per host.
            "  http-response set-header X-Served-By %s\n"
            f"{servers}"
            f"backend media\n  server nginx 127.0.0.1:{self.media_port} ssl verify none\n"
        )
        self.launch(["haproxy", "-f", str(conf), "-db"], self.root / "haproxy.log")
        wait_port(self.listen, self.port, 10, "HAProxy", self.root / "haproxy.log")

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def states(self) -> dict[str, str]:
        """Server name -> UP, DOWN, MAINT, "DOWN 1/2", ... from `show stat`."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        states = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == "app" and row.get("svname") not in ("FRONTEND", "BACKEND"):
                states[row["svname"]] = row["status"]
        return states

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.command(f"{'enable' if enabled else 'disable'} server app/{name}")


def faketime_library() -> str:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    if not found:
        raise RuntimeError("libfaketime is missing: apt-get install faketime")
    return found[0]


class AppHost:
    """gunicorn -c gunicorn.conf.py inside one network namespace. `env` is the whole
    environment of the site (nothing is inherited from the run's own environment)."""

    def __init__(self, name: str, ns: str, address: str, port: int, log: Path, skew: str = ""):
        self.name = name
        self.ns = ns
        self.address = address
        self.port = port
        self.log = log
        self.skew = skew  # libfaketime's FAKETIME, e.g. "+5s"; empty: the real clock
        self.env: dict[str, str] = {}
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"{self.address}:{self.port}"

    def clock_env(self) -> dict[str, str]:
        if not self.skew:
            return {}
        # LD_PRELOAD rather than the faketime wrapper: the wrapper forks, and the scenarios
        # need the gunicorn master's own pid. gthread workers need the thread-safe build.
        return {"LD_PRELOAD": faketime_library(), "FAKETIME": self.skew}

    def start(self, env: dict[str, str]) -> None:
        self.env = dict(env)
        # gunicorn's control socket defaults to ~/.gunicorn/gunicorn.ctl: one per host, here.
        runtime = self.log.parent / self.name
        runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        full = {
            **env,
            **self.clock_env(),
            "GUNICORN_BIND": self.base,
            "XDG_RUNTIME_DIR": str(runtime),
        }
        self.process = subprocess.Popen(
            # `ip netns exec` execs the command: the child's pid is the gunicorn master.
            [
                "ip",
                "netns",
                "exec",
                self.ns,
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
            ],
            cwd=REPO,
            env=full,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def master_pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def wait_ready(self, seconds: float = 60) -> float:
        """Seconds until GET /readyz answers 200 on the host's own address."""
        started = time.monotonic()
        deadline = started + seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}): {self.log}")
            answer = fetch(self.base, "/readyz", timeout=2)
            if answer.status == 200:
                return time.monotonic() - started
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {seconds:.0f} s: see {self.log}")

    def kill_master(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        stop_group(self.process, wait=15)
        self.process = None
        # Workers orphaned by a killed master, anything else left in the namespace.
        empty_namespace(self.ns)

    def clock_offset(self) -> float:
        """time.time() in this host's namespace, with its clock shim, minus ours."""
        code = "import time; print(time.time())"
        out = subprocess.run(
            ["ip", "netns", "exec", self.ns, sys.executable, "-c", code],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **self.clock_env()},
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        # The child reads its clock just before it exits: compare with our clock then.
        return float(out.strip()) - time.time()


class Varnish(Server):
    """deploy/varnish.vcl as shipped, standing in for the CDN in front of the balancer: its
    backend file names the balancer, nothing else is changed. The app hosts ban on it after
    each write (EDGE_BAN_URLS)."""

    def __init__(self, root: Path, listen: str):
        self.root = root
        self.listen = listen
        self.port = free_port()

    @property
    def base(self) -> str:
        return f"{self.listen}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.base}"

    def start(self, backend: str) -> None:
        host, _, port = backend.rpartition(":")
        folder = self.root / "vcl"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "culture.vcl").write_text((REPO / "deploy" / "varnish.vcl").read_text())
        (folder / "culture-backend.vcl").write_text(
            f'backend default {{ .host = "{host}"; .port = "{port}"; }}\n'
        )
        # varnishd's own user reads the VCL and keeps its work files here.
        for path in (self.root, folder, *folder.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)
        self.launch(
            [
                "varnishd", "-F", "-n", str(self.root / "state"), "-a", self.base, "-T", "none",
                "-f", str(folder / "culture.vcl"), "-p", f"vcl_path={folder}",
                "-s", "malloc,256m",
            ],
            self.root / "varnish.log",
        )  # fmt: skip
        wait_port(self.listen, self.port, 20, "Varnish", self.root / "varnish.log")
