"""Faults on PostgreSQL with the pool and health checks on: how long readers wait behind a lock,
and how soon every page answers 200 again after the database was stopped and started.

    .venv/bin/python -m bench.faults             # about 3 minutes on 2 cores
    .venv/bin/python -m bench.faults --outage 8 --no-docs

Writes docs/pooling/faults.json and the tables of docs/pooling.md's "Faults" section (between
its `<!-- results:faults-… -->` markers).

It sets up what bench/pool sets up (bench/pool/README.md): a throwaway PostgreSQL 15 cluster
on a free loopback port (initdb, run as the postgres user when started as root; the shared
server is never touched), a migrated and seeded database, and the site under gunicorn with
the repository's gunicorn.conf.py, 2 gthread workers x 4 threads, the pool sized to the threads
and CONN_HEALTH_CHECKS on. Then:

- table lock: another session holds ACCESS EXCLUSIVE on the stories' table (a migration's
  ALTER TABLE) for 12 s while 24 readers ask at once, for a story page already cached and
  (a separate round) for story pages not yet cached. Recorded: their answers and the longest
  wait.
- row lock: another session holds one story's row in an open transaction (an editor's
  UPDATE) for 10 s while 24 new readers (each a counted view) ask for that story; and the
  same 24 readers with no lock held, for comparison.
- outage: the server is stopped (pg_ctl -m fast) for --outage seconds while one client keeps
  asking (light load), then started; from the moment pg_ctl start returns, rounds over every
  page are sent until a whole round answers 200. Recorded: that time, and the last non-200
  after the start. Then again with no request during the outage (idle).
- the readers' transaction: what a counted story view costs, one reader at a time, with the
  readers' timeouts (BEGIN, set_config, COMMIT) and with them off.
"""

import argparse
import json
import os
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psycopg

from bench.pool.__main__ import Bench, Plan
from bench.pool.cluster import APP_DATABASE
from bench.pool.load import REPO, USER_AGENT
from bench.pool.report import replace_blocks

DOC = REPO / "docs" / "pooling.md"
OUT = REPO / "docs" / "pooling" / "faults.json"
READERS = 24
PAGES = [
    "/",
    "/interviews/",
    "/feed/",
    "/news/",
    "/companies/",
    "/tags/",
    "/search/?q=%ED%92%80",
    "/api/v1/stories",
    "/readyz",
]


def timed_get(port: int, path: str, timeout: float = 30) -> tuple[int | str, float, dict]:
    """(status, seconds, headers) of one GET by a new browser (no cookie: a story counts)."""
    started = time.monotonic()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"User-Agent": USER_AGENT}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status, time.monotonic() - started, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, time.monotonic() - started, dict(error.headers)
    except OSError as error:
        return type(error).__name__, time.monotonic() - started, {}


def at_once(port: int, paths: list[str]) -> list[tuple]:
    """One reader per path, all at the same moment."""
    start = threading.Barrier(len(paths))
    answers = []

    def read(path):
        start.wait()
        answers.append(timed_get(port, path))

    threads = [threading.Thread(target=read, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def summary(answers: list[tuple]) -> dict:
    statuses = {}
    for status, _, _ in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    waits = sorted(seconds for _, seconds, _ in answers)
    return {
        "answers": statuses,
        "longest_wait_s": round(waits[-1], 2),
        "median_wait_s": round(waits[len(waits) // 2], 2),
        "retry_after": sorted(
            {h.get("Retry-After") for _, _, h in answers if h.get("Retry-After")}
        ),
    }


class Faults:
    def __init__(self, bench: Bench, port: int):
        self.bench = bench
        self.port = port

    def admin(self) -> psycopg.Connection:
        return self.bench.cluster.admin(APP_DATABASE)

    def held(self, statement: str, seconds: float, paths: list[str]) -> dict:
        """Readers ask for `paths` at once while another session holds `statement`'s locks."""
        with self.admin() as other:
            other.execute("BEGIN")
            other.execute(statement)
            time.sleep(0.2)
            answers = at_once(self.port, paths)
            left = seconds - 0.2 - max(s for _, s, _ in answers)
            if left > 0:
                time.sleep(left)
            other.execute("ROLLBACK")
        return summary(answers)

    def table_lock(self) -> dict:
        stories = self.bench.story_paths
        cached = stories[0]
        # In the page cache of every worker (each keeps its own front cache).
        for _ in range(16):
            if timed_get(self.port, cached)[0] != 200:
                raise RuntimeError(f"{cached} did not answer 200 before the lock")
        lock = "LOCK TABLE articles_article IN ACCESS EXCLUSIVE MODE"
        return {
            "cached_story": self.held(lock, 12, [cached] * READERS),
            "uncached_stories": self.held(lock, 12, stories[-READERS:]),
        }

    def row_lock(self) -> dict:
        story = self.bench.story_paths[1]
        story_id = int(story.strip("/").split("/")[1])
        editor = f"UPDATE articles_article SET title = title || ' ' WHERE id = {story_id}"
        for _ in range(16):  # rendered and counted in every worker first
            timed_get(self.port, story)
        return {
            # The same readers with no lock held: what 24 at once cost on this machine.
            "no_lock": summary(at_once(self.port, [story] * READERS)),
            "row_held": self.held(editor, 10, [story] * READERS),
        }

    def outage(self, seconds: float, *, load: bool) -> dict:
        paths = [*PAGES, *self.bench.story_paths[2:4]]
        for path in paths:  # warm: every page answers 200 before the outage
            status = timed_get(self.port, path)[0]
            if status != 200:
                raise RuntimeError(f"{path} answered {status} before the outage")
        stop = threading.Event()
        during = []

        def light_load():
            index = 0
            while not stop.is_set():
                during.append(timed_get(self.port, paths[index % len(paths)], timeout=10)[0])
                index += 1
                time.sleep(0.05)

        client = threading.Thread(target=light_load, daemon=True)
        if load:
            client.start()
        self.bench.cluster.ctl("-m", "fast", "stop")
        time.sleep(seconds)
        self.bench.cluster.start()
        back = time.monotonic()
        last_failure = None
        rounds = 0
        while True:
            rounds += 1
            statuses = []
            for path in paths:
                status, _, _ = timed_get(self.port, path, timeout=15)
                statuses.append(status)
                if status != 200:
                    last_failure = time.monotonic() - back
            if all(status == 200 for status in statuses):
                all_200 = time.monotonic() - back
                break
            if time.monotonic() - back > 60:
                all_200 = None
                break
        stop.set()
        if load:
            client.join(timeout=15)
        return {
            "outage_s": seconds,
            "load": "light" if load else "idle",
            "all_pages_200_after_s": None if all_200 is None else round(all_200, 2),
            "last_non_200_after_s": None if last_failure is None else round(last_failure, 2),
            "rounds": rounds,
            "pages": len(paths),
            "requests_during_outage": len(during),
        }


def reader_transaction_cost(bench: Bench, requests: int = 1000) -> dict:
    """Median and p90 milliseconds of a counted story view, one reader at a time, with the
    readers' timeouts (a transaction and a set_config per request) and without them: two
    sites at once, asked in turn (each first every other time), so the drift of a busy
    machine falls on both alike."""
    paths = bench.story_paths[4:24]
    configs = {"with_limits": {}, "without_limits": READERS_UNBOUNDED}
    sites = {name: bench.site("pool", "gthread", DB_POOL_TIMEOUT="5", **limits)
             for name, limits in configs.items()}  # fmt: skip
    took = {name: [] for name in sites}
    try:
        for site in sites.values():
            site.start()
            for path in paths * 2:  # every page rendered in both workers: the view's count remains
                timed_get(site.port, path)
        order = list(sites.items())
        for n in range(requests):
            for name, site in order if n % 2 else reversed(order):
                took[name].append(timed_get(site.port, paths[n % len(paths)])[1] * 1000)
    finally:
        for site in sites.values():
            site.stop()
    results = {}
    for name, times in took.items():
        times.sort()
        results[name] = {
            "median_ms": round(times[len(times) // 2], 2),
            "p90_ms": round(times[int(len(times) * 0.9)], 2),
        }
    return results


READERS_UNBOUNDED = {"DB_READER_STATEMENT_TIMEOUT_MS": "0", "DB_READER_LOCK_TIMEOUT_MS": "0"}


def tables(results: dict) -> dict[str, str]:
    """The tables of docs/pooling.md's "Faults" section."""
    locks = results["table_lock"]
    rows = [
        ("a cached story, the stories' table locked for 12 s", locks["cached_story"]),
        ("stories not yet cached, the table locked for 12 s", locks["uncached_stories"]),
        ("counted views of a story whose row an editor holds for 10 s",
         results["row_lock"]["row_held"]),
        ("the same, no lock held", results["row_lock"]["no_lock"]),
    ]  # fmt: skip
    lock_table = [
        "| case (24 readers at once) | answers | median wait (s) | longest wait (s) |",
        "|---|---|---|---|",
    ]
    for label, row in rows:
        answers = ", ".join(
            f"{status}: {count}" for status, count in sorted(row["answers"].items())
        )
        if row["retry_after"]:
            answers += f" (Retry-After {', '.join(row['retry_after'])})"
        lock_table.append(
            f"| {label} | {answers} | {row['median_wait_s']} | {row['longest_wait_s']} |"
        )
    outage_table = [
        "| outage | during it | all 11 pages 200 after the start (s) "
        "| last non-200 after the start (s) |",
        "|---|---|---|---|",
    ]
    during_outage = (("outage_load", "one client asking in a loop"), ("outage_idle", "no request"))
    for key, during in during_outage:
        row = results[key]
        last = "–" if row["last_non_200_after_s"] is None else row["last_non_200_after_s"]
        outage_table.append(
            f"| {row['outage_s']:g} s | {during} | {row['all_pages_200_after_s']} | {last} |"
        )
    cost = results["reader_transaction"]
    return {
        "faults-locks": "\n".join(lock_table),
        "faults-outage": "\n".join(outage_table),
        "faults-cost": (
            "| readers' timeouts | median (ms) | p90 (ms) |\n|---|---|---|\n"
            f"| on (default) | {cost['with_limits']['median_ms']} "
            f"| {cost['with_limits']['p90_ms']} |\n"
            f"| off | {cost['without_limits']['median_ms']} "
            f"| {cost['without_limits']['p90_ms']} |"
        ),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=20.0, help="seconds the server is down")
    parser.add_argument("--stories", type=int, default=500)
    parser.add_argument("--json", type=Path, default=OUT, help=f"default: {OUT}")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/pooling.md alone")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="culture-faults-"))
    os.chmod(workdir, 0o755)  # the cluster runs as the postgres user
    plan = Plan(False, 1, 1, 1, (8,), args.stories)
    bench = Bench(plan, workdir)
    results = {}
    try:
        bench.setup()
        site = bench.site("pool", "gthread", DB_POOL_TIMEOUT="5")
        site.start()
        try:
            faults = Faults(bench, site.port)
            bench.say("table lock")
            results["table_lock"] = faults.table_lock()
            bench.say("row lock")
            results["row_lock"] = faults.row_lock()
            bench.say(f"outage of {args.outage:g} s under light load")
            results["outage_load"] = faults.outage(args.outage, load=True)
            bench.say(f"outage of {args.outage:g} s, idle")
            results["outage_idle"] = faults.outage(args.outage, load=False)
        finally:
            site.stop()
        bench.say("the readers' transaction: a counted view with and without it")
        results["reader_transaction"] = reader_transaction_cost(bench)
    finally:
        bench.stop()
    text = json.dumps(results, indent=2, ensure_ascii=False)
    print(text)
    args.json.write_text(text + "\n")
    if not args.no_docs:
        replace_blocks(DOC, tables(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
