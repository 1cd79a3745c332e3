"""Run the cluster scenarios end to end: bench/cluster/run [--quick] [--only 3,5].

Sets up the network, PostgreSQL + PgBouncer, Redis, three app hosts (one with its clock 5 s
ahead), nginx (deploy/nginx.conf) for media and HAProxy; runs the scenarios; writes
docs/cluster/results.json and docs/cluster.md; tears everything down, also on failure or Ctrl-C. See docs/cluster.md.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cluster import report, scenarios, topology
from bench.cluster.load import PUBLIC_HOST, fetch
from bench.cluster.services import (
    REPO,
    AppHost,
    Bouncer,
    HAProxy,
    Nginx,
    Postgres,
    Redis,
    Registry,
    Varnish,
)

HOSTS = 3
SKEWED = 3  # the host whose clock runs ahead
SKEW = "+5s"
APP_PORT = 8000  # each host has its own network stack: the same port everywhere


def workdir_of(run_id: str) -> Path:
    return Path(tempfile.gettempdir()) / f"culture-cluster-{run_id}"


class Run:
    def __init__(self, run_id: str, quick: bool, edge_env: dict[str, str], stories: int = 0):
        self.run_id = run_id
        self.quick = quick
        self.stories = stories
        self.edge_env = edge_env
        self.started = time.monotonic()
        self.root = workdir_of(run_id)
        self.root.mkdir(mode=0o755)
        os.chmod(self.root, 0o755)  # PostgreSQL runs as postgres and must reach its folder
        self.registry = Registry(self.root)
        self.net = topology.Network(run_id, HOSTS)
        self.pg = Postgres(self.root / "pg", password=secrets.token_urlsafe(18))
        self.redis: Redis | None = None
        self.bouncer: Bouncer | None = None
        self.nginx: Nginx | None = None
        self.lb: HAProxy | None = None
        self.edge: Varnish | None = None
        self.flusher: subprocess.Popen | None = None
        self.hosts: list[AppHost] = []
        self.media = self.root / "media"
        self.static = self.root / "static"
        self.secret = "cluster-" + secrets.token_hex(24)
        self.token = ""
        self.facts: dict = {}
        self.reader_paths: list[str] = []

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    # --- set-up ---------------------------------------------------------------------------

    def setup(self) -> None:
        self.say(f"run {self.run_id}: folder {self.root}")
        self.net.create()
        self.say(
            f"network {self.net.subnet}: bridge {topology.bridge_name(self.run_id)}, "
            f"namespaces {', '.join(self.net.namespaces)}"
        )
        self.pg.init()
        self.pg.start()
        self.registry.add("postgres", self.pg.postmaster_pid())
        self.pg.create_app_database()
        self.redis = Redis(self.root / "redis", self.net.gateway)
        self.redis.start()
        self.registry.add("redis", self.redis.process.pid)
        self.bouncer = Bouncer(self.root / "pgbouncer", self.pg, 20, self.net.gateway)
        self.bouncer.start()
        self.registry.add("pgbouncer", self.bouncer.process.pid)
        self.media.mkdir(mode=0o755)
        self.say(
            f"PostgreSQL :{self.pg.port}, PgBouncer {self.net.gateway}:{self.bouncer.port} "
            f"(transaction mode), Redis {self.redis.url}"
        )

        # Migrations once, against the primary directly (never through PgBouncer), while
        # static files are collected once into the run's folder.
        collect = self.manage_async("collectstatic", "--noinput", "-v", "0")
        self.manage("migrate", "--noinput", "-v", "0", timeout=300)
        if self.stories:
            # The readers' corpus (bench/seed.py, bulk) first: it seeds an empty database.
            self.manage("--stories", str(self.stories), timeout=600, module="bench.seed")
        self.manage("seed_demo", "--with-admin", timeout=120)
        if collect.wait(timeout=300) != 0:
            raise RuntimeError(f"collectstatic failed: see {self.root / 'collectstatic.log'}")
        self.token = (
            self.manage(
                "create_api_token",
                "admin",
                "--scope",
                "stories:write",
                "--scope",
                "stories:publish",
                "--name",
                "cluster",
            )
            .strip()
            .splitlines()[-1]
        )
        self.say("migrated, seeded (seed_demo --with-admin), static files collected, token made")
        # One flusher per deployment adds the views the hosts buffer in Redis (VIEW_BUFFER).
        self.flusher = self.manage_async("flush_views")
        self.registry.add("flush_views", self.flusher.pid)

        self.nginx = Nginx(
            self.root / "nginx", self.media, self.static, f"{self.net.address(1)}:{APP_PORT}"
        )
        self.nginx.start()
        self.registry.add("nginx", self.nginx.process.pid)
        for index in range(1, HOSTS + 1):
            host = AppHost(
                f"h{index}",
                topology.netns_name(self.run_id, index),
                self.net.address(index),
                APP_PORT,
                self.root / "logs" / f"h{index}.log",
                skew=SKEW if index == SKEWED else "",
            )
            self.hosts.append(host)
        # The edge's address is known before the hosts start: they ban on it after each write.
        self.edge = Varnish(self.root / "varnish", self.net.gateway)
        self.start_hosts(self.site_env())
        self.lb = HAProxy(
            self.root / "haproxy",
            self.net.gateway,
            [(host.name, host.base) for host in self.hosts],
            self.nginx.port,
        )
        self.lb.start()
        self.registry.add("haproxy", self.lb.process.pid)
        self.edge.start(self.lb_base)
        self.registry.add("varnish", self.edge.process.pid)
        self.say(f"edge (Varnish, deploy/varnish.vcl) {self.edge.base} in front of the balancer")
        self.wait_rotation({host.name for host in self.hosts})
        self.say(f"balancer {self.lb_base}: {self.lb.states()}")
        self.check_clocks()

    @property
    def lb_base(self) -> str:
        return f"{self.net.gateway}:{self.lb.port}"

    def site_env(self, *, redis: bool = True, **extra: str) -> dict[str, str]:
        """The production environment of the README, for a host behind the balancer."""
        addresses = [self.net.address(i) for i in range(1, HOSTS + 1)]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "DJANGO_SETTINGS_MODULE": "bench.cluster.settings",
            "CLUSTER_STATIC_ROOT": str(self.static),
            "DEBUG": "false",
            "SECRET_KEY": self.secret,
            "ALLOWED_HOSTS": ",".join([PUBLIC_HOST, *addresses]),
            "SITE_URL": f"http://{PUBLIC_HOST}",
            "SECURE_SSL": "false",
            # The balancer is the one proxy in front (HAProxy appends to X-Forwarded-For).
            "TRUSTED_PROXY_COUNT": "1",
            "MEDIA_ROOT": str(self.media),
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": self.bouncer.url(),
            "DB_POOL": "true",
            # PgBouncer in transaction mode (no server-side cursors, no session settings).
            "DB_PGBOUNCER": "true",
            "CONN_HEALTH_CHECKS": "true",
            # The scenarios write a few hundred stories with one token; the write limit is
            # not what they measure (the read limit is, and keeps its default).
            "API_THROTTLE_WRITE": "100000/min",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "4",
            "GUNICORN_WORKER_CLASS": "gthread",
            # Shorter than production's 30 s so that restarts between scenarios are quick.
            "GUNICORN_GRACEFUL_TIMEOUT": "5",
            "GUNICORN_ACCESSLOG": "",
        }
        if self.edge is not None:
            env["EDGE_BAN_URLS"] = self.edge.url
        # The edge scenario's beacons all come from the run's one address.
        env["VIEW_BEACON_RATE"] = "1000000/min"
        if redis:
            env["REDIS_URL"] = self.redis.url
        env.update(extra)
        return env

    def command_env(self) -> dict[str, str]:
        """Management commands run on the host side, against PostgreSQL directly."""
        env = self.site_env()
        env["DATABASE_URL"] = self.pg.url()
        for name in ("DB_POOL", "DB_PGBOUNCER"):
            env.pop(name)
        return env

    def manage(
        self,
        *args: str,
        timeout: float = 120,
        env: dict | None = None,
        module: str = "",
    ) -> str:
        """manage.py with `args`, or `python -m module` with them when a module is named."""
        command = ["-m", module] if module else ["manage.py"]
        result = subprocess.run(
            [sys.executable, *command, *args],
            cwd=REPO,
            env=env or self.command_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stderr[-2000:]}")
        return result.stdout

    def manage_async(self, *args: str) -> subprocess.Popen:
        log = (self.root / f"{args[0]}.log").open("w")
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.command_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_hosts(self, env: dict[str, str], hosts: list[AppHost] | None = None) -> None:
        for host in hosts or self.hosts:
            host.start(env)
            self.registry.add(host.name, host.process.pid)
        for host in hosts or self.hosts:
            host.wait_ready(90)

    def ensure_env(self, env: dict[str, str]) -> None:
        """Restart the hosts with this environment unless they already run with it."""
        if all(host.env == env and host.process is not None for host in self.hosts):
            return
        changed = sorted(set(env.items()) ^ set(self.hosts[0].env.items()))
        self.say(f"restarting the hosts: {', '.join(sorted({k for k, _ in changed}))}")
        for host in self.hosts:
            host.stop()
        self.start_hosts(env)
        self.wait_rotation({host.name for host in self.hosts})

    def wait_rotation(self, names: set[str], seconds: float = 30) -> float:
        """Seconds until exactly these servers are UP in the balancer."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            states = self.lb.states()
            if {name for name, state in states.items() if state == "UP"} == names:
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"balancer did not reach {sorted(names)} UP: {self.lb.states()}")

    def check_clocks(self) -> None:
        offsets = {host.name: round(host.clock_offset(), 2) for host in self.hosts}
        dates = {}
        for host in self.hosts:
            answer = fetch(host.base, "/healthz")
            dates[host.name] = answer.headers.get("date", "")
        self.facts["clock_offsets_s"] = offsets
        self.facts["date_headers"] = dates
        self.say(f"clock offsets (time.time() in each namespace): {offsets}; Date: {dates}")
        skewed = self.hosts[SKEWED - 1]
        if not 4.5 <= offsets[skewed.name] <= 5.5:
            raise RuntimeError(f"the clock shim of {skewed.name} is not +5 s: {offsets}")

    # --- tear-down ------------------------------------------------------------------------

    def teardown(self, keep: bool) -> None:
        if self.edge:
            self.edge.stop()
        for host in self.hosts:
            host.stop()
        if self.flusher:
            self.flusher.terminate()  # it adds what is left, then ends
            self.flusher.wait(30)
        if self.lb:
            self.lb.stop()
        if self.nginx:
            self.nginx.stop()
        if self.redis:
            self.redis.stop()
        if self.bouncer:
            self.bouncer.stop()
        self.pg.stop()
        cleanup(self.run_id, keep=keep, quiet=True)


def cleanup(run_id: str, *, keep: bool = False, quiet: bool = False) -> None:
    """Stop whatever a run left (its registered pids, checked to still be its own), remove its
    network and (unless keep) its folder. Safe to call when everything is already gone."""
    root = workdir_of(run_id)
    registry = root / "pids.json"
    if registry.exists():
        for name, pid in json.loads(registry.read_text()).items():
            if _ours(pid, root):
                if name == "postgres":
                    Postgres(root / "pg", password="").stop()
                else:
                    _kill_group(pid)
    removed = topology.destroy(run_id)
    if removed and not quiet:
        print("removed: " + ", ".join(removed))
    if not keep and root.exists():
        shutil.rmtree(root, ignore_errors=True)


def _ours(pid: int, root: Path) -> bool:
    """Whether pid is still one of the run's servers (not a reused pid): started with its
    files in the run's folder, or working in it (redis-server rewrites its command line)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return str(root) in cmdline or cwd.startswith(str(root))


def _kill_group(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists():
                return
            time.sleep(0.1)


def parse_only(text: str | None) -> list[int]:
    if not text:
        return list(scenarios.ALL)
    chosen = sorted({int(part) for part in text.replace(" ", "").split(",") if part})
    unknown = [n for n in chosen if n not in scenarios.ALL]
    if unknown:
        raise SystemExit(f"--only: no scenario {unknown}; there are {list(scenarios.ALL)}")
    return chosen


def parse_env(text: str) -> dict[str, str]:
    pairs = {}
    for item in text.split():
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--edge-env: {item!r} is not NAME=value")
        pairs[name] = value
    return pairs


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/cluster/run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer stories, shorter loads")
    parser.add_argument("--only", help="scenarios to run, e.g. 3,5 (default: all)")
    parser.add_argument("--run-id", help="the run's id (bench/cluster/run makes one)")
    parser.add_argument(
        "--edge-env",
        default=os.environ.get("CLUSTER_EDGE_ENV", ""),
        help="NAME=value pairs given to the hosts for scenario 3's readers behind an edge, "
        "e.g. 'TRUSTED_PROXY_COUNT=2' (default: $CLUSTER_EDGE_ENV, else today's settings)",
    )
    parser.add_argument(
        "--stories",
        type=int,
        help="stories seeded in bulk for the readers (default 10000, 1000 with --quick)",
    )
    parser.add_argument("--no-docs", action="store_true", help="leave docs/cluster* alone")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs)")
    parser.add_argument("--cleanup", metavar="RUN_ID", help="remove what a run left, then exit")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a scenario fails (default: only 2 when one could not be measured)",
    )
    parser.add_argument("--render", action="store_true", help="rewrite docs/cluster.md only")
    args = parser.parse_args()

    if args.render:
        report.render_stored()
        return 0
    if args.cleanup:
        cleanup(args.cleanup)
        return 0
    if os.geteuid() != 0:
        raise SystemExit("bench/cluster/run needs root (network namespaces, bridges).")
    only = parse_only(args.only)
    run_id = args.run_id or secrets.token_hex(3)
    if not run_id.isalnum() or len(run_id) > 8:
        raise SystemExit("--run-id: up to 8 letters or digits")

    # SIGTERM (timeout, a shell's trap) ends the run like Ctrl-C: through the finally below.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored
    stories = args.stories if args.stories is not None else 1000 if args.quick else 10_000
    run = Run(run_id, args.quick, parse_env(args.edge_env), stories)
    results: dict = {}
    status = 1
    try:
        run.setup()
        results = scenarios.run_all(run, only)
        statuses = {result["status"] for result in results.values()}
        status = 2 if "ERROR" in statuses else 1 if args.strict and "FAIL" in statuses else 0
    except KeyboardInterrupt:
        run.say("interrupted")
        status = 130
    except Exception as exc:  # the run still tears down and reports what it has
        run.say(f"the run failed: {type(exc).__name__}: {exc}")
        import traceback

        traceback.print_exc()
    finally:
        run.say("tearing down")
        try:
            run.teardown(keep=args.keep)
        finally:
            elapsed = time.monotonic() - run.started
            if results:
                report.print_summary(results)
                if not args.no_docs:
                    report.write(results, run, elapsed)
            run.say(f"done in {elapsed:.0f} s" + (f"; kept {run.root}" if args.keep else ""))
    return status


if __name__ == "__main__":
    sys.exit(main())
