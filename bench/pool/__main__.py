"""Run the connection-pooling benchmark end to end and write docs/pooling/.

    bench/pool/run            # the full run (about 20 minutes on 2 quiet cores)
    bench/pool/run --quick    # a smoke run (about 8 minutes on a busy machine)

See bench/pool/README.md for what is measured and how.
"""

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import free_port
from bench.pool import report
from bench.pool.cluster import Cluster, PgBouncer, cpu_seconds
from bench.pool.load import (
    REPO,
    Sampler,
    Site,
    get,
    timeline,
    write_wrk_script,
    wrk,
)
from bench.pool.metrics import combine_runs, count_values, exhaustion_metrics, sample, time_bins
from bench.pool.strategies import BARE, STRATEGIES, THROUGH_PGBOUNCER, strategy_env

OUT = REPO / "docs" / "pooling"
DOC = REPO / "docs" / "pooling.md"
WORKERS = {"sync": (4, 1), "gthread": (2, 4)}  # kind: (processes, threads per process)
API_CANDIDATES = ("/api/v1/stories/", "/api/v1/stories")
POOL_KEYS = ("min_size", "max_size", "timeout", "max_waiting")


@dataclass(frozen=True)
class Plan:
    quick: bool
    rounds: int
    warmup: int  # wrk takes whole seconds
    measure: int
    concurrencies: tuple[int, ...]
    stories: int

    @classmethod
    def make(cls, quick: bool, rounds: int | None) -> "Plan":
        if quick:
            return cls(True, rounds or 1, 1, 2, (8, 32), 1000)
        return cls(False, rounds or 3, 1, 3, (8, 32), 3000)


class Bench:
    def __init__(self, plan: Plan, workdir: Path):
        self.plan = plan
        self.workdir = workdir
        self.cluster = Cluster(workdir / "pg", password=secrets.token_urlsafe(18))
        self.bouncer: PgBouncer | None = None
        self.started = time.monotonic()
        self.redis = _redis_reachable()
        self.story_paths: list[str] = []
        self.api_path: str | None = None
        self.scripts: dict[str, Path] = {}

    # --- set-up ---------------------------------------------------------------------------

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    def setup(self) -> None:
        self.say(f"PostgreSQL cluster in {self.cluster.root}")
        self.cluster.init()
        self.cluster.start()
        self.cluster.create_app_database()
        env = self.env("connect")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=REPO, env=env, check=True, timeout=300,
        )  # fmt: skip
        self.say(f"migrated; seeding {self.plan.stories} stories")
        seeded = subprocess.run(
            [sys.executable, "-m", "bench.pool.seed", str(self.plan.stories)],
            cwd=REPO, env=env, check=True, timeout=300, capture_output=True, text=True,
        )  # fmt: skip
        self.story_paths = json.loads(seeded.stdout.strip().splitlines()[-1])["paths"]
        with self.cluster.admin("bench") as conn:
            conn.execute("VACUUM ANALYZE")
        # Started only while a PgBouncer configuration runs: its idle server connections
        # would otherwise be counted against the other strategies.
        self.bouncer = PgBouncer(self.workdir / "pgbouncer", self.cluster, pool_size=8)
        self.scripts["story"] = write_wrk_script(
            self.workdir / "story.lua", self.story_paths, beacons=True
        )
        self.scripts["healthz"] = write_wrk_script(self.workdir / "healthz.lua", ["/healthz"])
        self.scripts[BARE] = write_wrk_script(self.workdir / "bare.lua", ["/bare/"])
        self.bouncer.start()  # checked once here, like every configuration
        self.bouncer.stop()
        site = self.site("pool", "gthread")
        site.start()
        try:
            for candidate in API_CANDIDATES:
                status, body = get(site.port, candidate)
                if status == 200 and body.lstrip().startswith((b"{", b"[")):
                    self.api_path = candidate
                    break
            status, _ = get(site.port, self.story_paths[0])
            if status != 200:
                raise RuntimeError(f"the story page answered {status}: see {site.log}")
        finally:
            site.stop()
        if self.api_path:
            self.scripts["api"] = write_wrk_script(self.workdir / "api.lua", [self.api_path])
        self.say(f"API list: {self.api_path or 'none found (skipped)'}")

    # --- configurations -------------------------------------------------------------------

    def env(self, strategy: str, *, processes: int = 2, threads: int = 4, **extra) -> dict:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(REPO),
            "DJANGO_SETTINGS_MODULE": "bench.pool.settings",
            "SECRET_KEY": "bench-" + secrets.token_hex(16),
            "DEBUG": "false",
            "SECURE_SSL": "false",
            "STATIC_MANIFEST": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            # The API's rate limit would turn the load into 429s: lift it for the benchmark.
            "API_THROTTLE_READ": "100000000/s",
            "API_THROTTLE_WRITE": "100000000/s",
            "VIEW_BEACON_RATE": "100000000/s",
            "GUNICORN_WORKERS": str(processes),
            "GUNICORN_THREADS": str(threads),
            "GUNICORN_WORKER_CLASS": "gthread" if threads > 1 else "sync",
            "GUNICORN_TIMEOUT": "30",
            "GUNICORN_GRACEFUL_TIMEOUT": "5",
            "GUNICORN_ACCESSLOG": "",
        }
        if self.redis:
            env["REDIS_URL"] = self.redis
        bouncer_url = self.cluster.url(self.bouncer.port) if self.bouncer else ""
        env.update(strategy_env(strategy, threads=threads, direct_url=self.cluster.url(),
                                bouncer_url=bouncer_url))  # fmt: skip
        env.update({key: str(value) for key, value in extra.items()})
        return env

    def site(self, strategy: str, workers: str, *, config="gunicorn.conf.py", args=(), **extra):
        processes, threads = WORKERS.get(workers, workers)
        env = self.env(strategy, processes=processes, threads=threads, **extra)
        return Site(env, free_port(), self.workdir / "logs" / f"{strategy}-{workers}.log",
                    config=config, args=list(args))  # fmt: skip

    def db_cpu(self) -> float:
        total = cpu_seconds(self.cluster.postmaster_pid())
        if self.bouncer and self.bouncer.running():
            total += cpu_seconds(self.bouncer.pids()[0])
        return total

    # --- one measured load ----------------------------------------------------------------

    def measure(self, site: Site, script: Path, connections: int) -> dict:
        wrk(site.port, script, connections=connections, seconds=self.plan.warmup)
        db_before, app_before = self.db_cpu(), site.cpu()
        started = time.time()
        with Sampler(self.cluster.admin) as sampler:
            result = wrk(site.port, script, connections=connections, seconds=self.plan.measure)
        ended = time.time()
        db_cpu, app_cpu = self.db_cpu() - db_before, site.cpu() - app_before
        requests = max(result["requests"], 1)
        errors = {code: n for code, n in result["codes"].items() if not code.startswith(("2", "3"))}
        for kind in ("connect", "read", "write", "timeout"):
            if result[kind]:
                errors[kind] = result[kind]
        # Sessions are logged when authorised; allow the last ones a moment to reach the log.
        time.sleep(0.2)
        sessions = self.cluster.new_sessions_between(started, ended)
        return {
            "requests": result["requests"],
            "rps": round(result["requests"] / (result["duration_us"] / 1e6), 1),
            "p50_ms": round(result["p50_us"] / 1000, 2),
            "p99_ms": round(result["p99_us"] / 1000, 2),
            "errors": errors,
            "server_connections": sampler.summary(),
            "busy_server_connections": sampler.busy_summary(),
            "application_names": sorted(sampler.names),
            "new_sessions_per_1k": round(sessions * 1000 / requests, 1),
            "db_cpu_ms_per_request": round(db_cpu * 1000 / requests, 3),
            "app_cpu_ms_per_request": round(app_cpu * 1000 / requests, 3),
        }

    # --- the matrix -----------------------------------------------------------------------

    def configurations(self) -> list[tuple[str, str, str, list[tuple[str, int]]]]:
        """(auth, strategy, workers, loads); loads are (endpoint, concurrency)."""
        endpoints = ["story"] + (["api"] if self.api_path else [])
        full = [(e, c) for e in endpoints for c in self.plan.concurrencies]
        # The machine's speed first: a bare view, the same gunicorn settings, every round.
        configs = [("scram-sha-256", BARE, "gthread", [(BARE, c) for c in self.plan.concurrencies])]
        configs += [("scram-sha-256", s, w, full) for w in WORKERS for s in STRATEGIES]
        story = [("story", c) for c in self.plan.concurrencies]
        configs += [("trust", s, "gthread", story) for s in ("connect", "pool")]
        return configs

    def matrix(self) -> list[dict]:
        cells: dict[tuple, dict] = {}
        for round_number in range(self.plan.rounds):
            configs = self.configurations()
            if round_number % 2:
                configs.reverse()  # interleave: drift on a busy machine hits both ends alike
            for auth in ("scram-sha-256", "trust"):
                self.cluster.set_auth(auth)
                for config_auth, strategy, workers, loads in configs:
                    if config_auth != auth:
                        continue
                    if strategy in THROUGH_PGBOUNCER:
                        self.bouncer.start()
                    site = self.site(strategy, workers)
                    site.start()
                    try:
                        # Fill each worker's page cache before anything is measured.
                        warm = self.scripts[BARE if strategy == BARE else "story"]
                        wrk(site.port, warm, connections=8, seconds=2)
                        for endpoint, concurrency in loads:
                            key = (auth, strategy, workers, endpoint, concurrency)
                            cell = cells.setdefault(key, {"runs": []})
                            run = self.measure(site, self.scripts[endpoint], concurrency)
                            cell["runs"].append(run)
                            self.say(
                                f"round {round_number + 1} {auth} {strategy:20} {workers:7} "
                                f"{endpoint:5} c{concurrency:<3} {run['rps']:7.0f} req/s "
                                f"p99 {run['p99_ms']:6.1f} ms conns "
                                f"{run['server_connections']['max']:3} errors {run['errors']}"
                            )
                    finally:
                        site.stop()
                        if strategy in THROUGH_PGBOUNCER:
                            self.bouncer.stop()
        self.cluster.set_auth("scram-sha-256")
        rows = []
        for (auth, strategy, workers, endpoint, concurrency), cell in cells.items():
            processes, threads = WORKERS[workers]
            rows.append(
                {
                    "auth": auth,
                    "strategy": strategy,
                    "workers": workers,
                    "processes": processes,
                    "threads": threads,
                    "endpoint": endpoint,
                    "path": {"api": self.api_path, BARE: "/bare/"}.get(
                        endpoint, "/stories/<id>/<slug>/"
                    ),
                    "concurrency": concurrency,
                    **combine_runs(cell["runs"]),
                }
            )
        return rows

    # --- failure modes --------------------------------------------------------------------

    def exhaustion(self, *, max_waiting: int | None = None, hold: float = 6.0) -> dict:
        """One worker, 4 threads, a pool of 4 with a 2 s timeout. At t=2 s four requests hand
        their connections to threads that hold them in a transaction for `hold` seconds.

        `max_waiting` None runs the site's default queue bound (what production gets);
        a number sets DB_POOL_MAX_WAITING explicitly (0: unbounded, the failure mode)."""
        timeout = 2.0
        extra = {"DB_POOL_TIMEOUT": timeout}
        if max_waiting is not None:
            extra["DB_POOL_MAX_WAITING"] = max_waiting
        site = self.site("pool", (1, 4), **extra)
        effective = _pool_options(site.env)
        site.start()
        leaks: list[dict] = []

        def leak():
            def one():
                status, body = get(site.port, f"/__bench__/leak/?hold={hold}", timeout=30)
                leaks.append({"status": status, **json.loads(body or b"{}")})

            workers = [threading.Thread(target=one) for _ in range(4)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()

        try:
            timeline(site.port, self.story_paths, clients=8, seconds=1.0)  # warm
            began = time.time()
            outcomes = timeline(site.port, self.story_paths, clients=8, seconds=11.0,
                                events=[(2.0, leak)])  # fmt: skip
        finally:
            site.stop()
        acquired = [item["acquired_at"] for item in leaks if "acquired_at" in item]
        result = {
            "role": "default" if max_waiting is None else "illustration",
            "workers": "1 x 4 threads",
            # What the site actually ran with, from its own configuration code.
            "pool": {key: effective[key] for key in POOL_KEYS},
            "max_waiting_set": max_waiting is not None,
            "hold_seconds": hold,
            "leaks_holding": len(acquired),
            "statuses": count_values(o.status for o in outcomes),
        }
        if len(acquired) == 4:
            leak_start, leak_end = max(acquired), min(acquired) + hold
            result.update(exhaustion_metrics(outcomes, leak_start, leak_end, timeout))
            result["timeline"] = time_bins(outcomes, began, 0.25)
            result["leak_window"] = [round(leak_start - began, 3), round(leak_end - began, 3)]
            result["slow_503"] = sample(
                [[round(o.start - began, 3), round(o.seconds, 3)]
                 for o in outcomes if o.status == "503"],
                400,
            )  # fmt: skip
        return result

    def middleware(self) -> list[dict]:
        rows = []
        for strategy in ("connect", "pool"):
            for with_hook in (False, True):
                site = self.site(strategy, "gthread", BENCH_DB_MIDDLEWARE=int(with_hook))
                site.start()
                try:
                    run = self.measure(site, self.scripts["healthz"], 32)
                finally:
                    site.stop()
                rows.append({"strategy": strategy, "query_every_request": with_hook, **run})
                self.say(f"middleware {strategy} hook={with_hook}: {run['rps']:.0f} req/s")
        return rows

    def restart(self) -> list[dict]:
        """PostgreSQL restarted (pg_ctl -m fast, which returns once the server accepts
        connections again): idle, then traffic 0.5 s later, `rounds` times per strategy (one
        restart can pass by luck); and once under load."""
        cases = [("pool", True), ("pool", False), ("persistent", True), ("persistent", False),
                 ("connect", True)]  # fmt: skip
        rows = []
        for under_load in (False, True):
            for strategy, health in cases:
                site = self.site(strategy, "gthread", CONN_HEALTH_CHECKS=str(health).lower())
                site.start()
                marks = {}
                outcomes, took = [], []

                def restart_now(marks=marks, took=took):
                    marks["start"] = time.time()
                    self.cluster.restart()
                    marks["end"] = time.time()
                    took.append(marks["end"] - marks["start"])

                try:
                    timeline(site.port, self.story_paths, clients=8, seconds=1.0)  # warm
                    began = time.time()
                    if under_load:
                        outcomes = timeline(site.port, self.story_paths, clients=8,
                                            seconds=8.0, events=[(2.0, restart_now)])  # fmt: skip
                    else:
                        for _ in range(self.plan.rounds):
                            restart_now()
                            # pg_ctl -w has seen the server accept connections: every request
                            # below is sent to a running server.
                            time.sleep(0.5)
                            outcomes += timeline(site.port, self.story_paths, clients=4,
                                                 seconds=2.0)  # fmt: skip
                finally:
                    site.stop()
                failed = [o for o in outcomes if o.status != "200"]
                row = {
                    "strategy": strategy,
                    "health_checks": health,
                    "under_load": under_load,
                    "restarts": len(took),
                    "requests": len(outcomes),
                    "failed": len(failed),
                    "statuses": count_values(o.status for o in outcomes),
                    "restart_seconds": round(max(took), 2),
                    "slowest_seconds": round(max((o.seconds for o in outcomes), default=0.0), 2),
                }
                if under_load:
                    last = max((o.end for o in failed), default=marks["end"])
                    row["back_after_restart_s"] = round(max(last - marks["end"], 0.0), 2)
                    row["timeline"] = time_bins(outcomes, began, 0.25)
                    row["restart_window"] = [round(marks["start"] - began, 2),
                                             round(marks["end"] - began, 2)]  # fmt: skip
                rows.append(row)
                self.say(
                    f"restart {'load' if under_load else 'idle'} {strategy} health={health}: "
                    f"{row['failed']} failed of {row['requests']} {row['statuses']}, "
                    f"slowest {row['slowest_seconds']:.2f} s"
                )
        return rows

    def preload(self) -> list[dict]:
        rows = []
        configs = (("gunicorn.conf.py", True), ("bench/pool/gunicorn_nohooks.conf.py", False))
        for config, hooks in configs:
            site = self.site("pool", "gthread", config=config,
                             args=["--preload", "bench.pool.wsgi:application"],
                             BENCH_QUERY_AT_IMPORT=1)  # fmt: skip
            site.start()
            try:
                with Sampler(self.cluster.admin) as sampler:
                    outcomes = timeline(site.port, self.story_paths, clients=8, seconds=6.0,
                                        timeout=8.0)  # fmt: skip
            finally:
                shutdown = site.stop(grace=35)
            ok = [o.seconds for o in outcomes if o.status == "200"]
            row = {
                "fork_hooks": hooks,
                "requests": len(outcomes),
                "statuses": count_values(o.status for o in outcomes),
                "p50_ms": round(statistics.median(ok) * 1000, 1) if ok else None,
                "max_ms": round(max(o.seconds for o in outcomes) * 1000, 1) if outcomes else None,
                "application_names": sorted(sampler.names),
                "server_connections": sampler.summary(),
                "shutdown_seconds": round(shutdown, 1),
            }
            rows.append(row)
            self.say(f"preload hooks={hooks}: {row['statuses']} shutdown {shutdown:.1f}s")
        return rows

    def stop(self) -> None:
        if self.bouncer:
            self.bouncer.stop()
        self.cluster.stop()


# --- helpers -------------------------------------------------------------------------------


def _pool_options(env: dict) -> dict:
    """The pool options the site builds from this environment (culture/database.py)."""
    from culture.database import database_config

    return database_config(env, base_dir=REPO)["OPTIONS"]["pool"]


def _redis_reachable() -> str | None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return None
    return "redis://127.0.0.1:6379/15"


def versions(cluster: Cluster) -> dict:
    import django
    import psycopg
    import psycopg_pool

    with cluster.admin() as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[:2]
    bouncer = subprocess.run(["pgbouncer", "--version"], capture_output=True, text=True)
    gunicorn = subprocess.run(
        [str(REPO / ".venv" / "bin" / "gunicorn"), "--version"], capture_output=True, text=True
    )
    return {
        "postgresql": server,
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "psycopg_pool": psycopg_pool.__version__,
        "gunicorn": gunicorn.stdout.strip().split()[-1].strip(")") if gunicorn.stdout else "",
        "pgbouncer": bouncer.stdout.splitlines()[0] if bouncer.stdout else "",
        "wrk": " ".join(wrk_version),
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench/pool/run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round, short loads")
    parser.add_argument("--rounds", type=int, help="interleaved rounds of the matrix")
    parser.add_argument("--out", type=Path, default=OUT, help="where results and charts go")
    parser.add_argument("--keep", action="store_true", help="keep the cluster's directory")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/pooling.md")
    args = parser.parse_args(argv)
    for tool in ("wrk", "pgbouncer"):
        if not shutil.which(tool):
            parser.error(f"{tool} is missing: run bench/pool/run, which installs it")

    plan = Plan.make(args.quick, args.rounds)
    workdir = Path(tempfile.mkdtemp(prefix="culture-pool-bench-"))
    os.chmod(workdir, 0o755)
    bench = Bench(plan, workdir)
    try:
        bench.setup()
        results = {
            "meta": {
                "mode": "quick" if plan.quick else "full",
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "rounds": plan.rounds,
                "warmup_seconds": plan.warmup,
                "measure_seconds": plan.measure,
                "stories": plan.stories,
                "versions": versions(bench.cluster),
                "api_path": bench.api_path,
                "cache": "redis" if bench.redis else "database",
                "pgbouncer_pool_size": 8,
            },
        }
        results["matrix"] = bench.matrix()
        bench.say("failure modes: pool exhaustion")
        # The site's default (a bounded queue), then the unbounded queue as the failure mode.
        results["exhaustion"] = [bench.exhaustion(), bench.exhaustion(max_waiting=0)]
        bench.say("failure modes: a query in a middleware")
        results["middleware"] = bench.middleware()
        bench.say("failure modes: database restarts")
        results["restart"] = bench.restart()
        bench.say("failure modes: pool opened before fork")
        results["preload"] = bench.preload()
        results["meta"]["run_seconds"] = round(time.monotonic() - bench.started)
        report.finish(results)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(
            json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        report.charts(results, args.out)
        if not args.no_docs:
            report.update_doc(DOC, results)
        bench.say(f"done: {args.out / 'results.json'}")
    finally:
        bench.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
