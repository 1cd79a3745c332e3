"""Server CPU per request of the site's pages and API, as multiples of a bare Django view.

    .venv/bin/python -m bench.pages                     # the full run (bench/README.md)
    .venv/bin/python -m bench.pages --sizes 1000 --databases sqlite --rounds 1   # a smoke run

For each database (SQLite, PostgreSQL with the native pool) and each corpus size (1,000,
10,000, 100,000 stories by default, seeded in bulk by bench/seed.py once and reused), serves
the site with gunicorn beside a bare Django project (bench/bare/: no app, no middleware, a
fixed 5 KB string) under the same gunicorn settings, and in each of --rounds interleaved
rounds (rows in a new random order each round) sends every row its batch of requests while
reading the CPU time of the serving workers from /proc before and after. Each row's CPU per
request is divided by the bare project's of the same round; the median and the range over
rounds are reported. The site's own fixed 5 KB view (through its whole middleware) is the
second reference. After the rounds the workers walk 10,000 stories (all, for a smaller corpus)
once and their resident memory is read.

Writes bench/out/pages.json, docs/performance.json and the tables in docs/performance.md.
"""

import argparse
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from bench import corpus, report
from bench.common import free_port
from bench.pool.cluster import initdb, pg_ctl
from bench.servers import BROWSER_AGENT, PYTHON, ROOT, Server, Walk, fetch, load

OUT = ROOT / "bench" / "out"
DATABASES = ("sqlite", "postgres")
SIZES = (1000, 10_000, 100_000)
SEARCH_COMMON = "/search/?" + urllib.parse.urlencode({"q": corpus.COMMON_WORD})
SEARCH_RARE = "/search/?" + urllib.parse.urlencode({"q": corpus.RARE_WORD})
# A number no request asked with before (?cold=N): every list and search address is new.
_fresh = itertools.count(random.SystemRandom().randrange(10**9))


def story_path(number: int) -> str:
    """The address of story `number` (0-based) as bench/seed.py writes it."""
    return f"/stories/{number + 1}/bench-{number}/"


def rows(count: int, token: str) -> dict[str, dict]:
    """Every row: how its batch's addresses are made, its headers, and whether it is a miss
    (measured after a content change)."""
    middle = count // 2
    browser = {"User-Agent": BROWSER_AGENT}
    api = {"Authorization": f"Bearer {token}", "User-Agent": "bench-crawler"}
    walk = Walk(count, seed=count)

    def same(path):
        return lambda n: [path] * n

    def fresh(path):
        joiner = "&" if "?" in path else "?"
        return lambda n: [f"{path}{joiner}cold={next(_fresh)}" for _ in range(n)]

    def walking(address):
        return lambda n: [address(number) for number in walk.take(n)]

    return {
        "bare": {"server": "bare", "paths": same("/"), "headers": browser, "sort": "ref"},
        "site": {"server": "site", "paths": same("/__bench__/fixed/"), "headers": browser,
                 "sort": "ref"},
        "story": {"paths": same(story_path(middle)), "headers": browser, "sort": "hit"},
        "story-miss": {"paths": walking(story_path), "headers": browser, "sort": "miss"},
        "home": {"paths": same("/"), "headers": browser, "sort": "hit"},
        "home-miss": {"paths": fresh("/"), "headers": browser, "sort": "miss"},
        "list": {"paths": same("/feed/"), "headers": browser, "sort": "hit"},
        "list-miss": {"paths": fresh("/feed/"), "headers": browser, "sort": "miss"},
        "search": {"paths": same(SEARCH_COMMON), "headers": browser, "sort": "hit"},
        "search-miss": {"paths": fresh(SEARCH_COMMON), "headers": browser, "sort": "miss"},
        "search-rare-miss": {"paths": fresh(SEARCH_RARE), "headers": browser, "sort": "miss"},
        "api-list": {"paths": same("/api/v1/stories?page_size=20"), "headers": browser,
                     "sort": "hit"},
        "api-list-miss": {"paths": same("/api/v1/stories?page_size=20"), "headers": api,
                          "sort": "miss"},
        "api-detail": {"paths": same(f"/api/v1/stories/{middle + 1}"), "headers": browser,
                       "sort": "hit"},
        "api-detail-miss": {"paths": walking(lambda number: f"/api/v1/stories/{number + 1}"),
                            "headers": api, "sort": "miss"},
    }  # fmt: skip


# --- Databases ----------------------------------------------------------------------------


def base_env() -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "DB_", "CONN_", "SQLITE_", "REDIS_", "PAGE_CACHE"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        SECRET_KEY="bench-not-secret-" + "x" * 40,
        DEBUG="false",
        SECURE_SSL="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        MEDIA_ROOT=str(OUT / "media"),
        API_THROTTLE_READ="100000000/min",
        API_THROTTLE_WRITE="100000000/min",
        PYTHONPATH=str(ROOT),
    )
    return env


def site_env(database: str, count: int, args) -> tuple[dict, str]:
    """The site's environment on the corpus of `count` stories, and the database's name."""
    env = base_env()
    if database == "sqlite":
        path = OUT / f"stories-{count}.sqlite3"
        env["SQLITE_PATH"] = str(path)
        return env, str(path)
    name = f"{args.pg_prefix}{count}"
    # The native pool, as production runs (culture/database.py: CONN_MAX_AGE stays 0).
    env.update(DATABASE_URL=pg_url(args, name), DB_POOL="true")
    return env, name


def pg_url(args, database: str) -> str:
    """The URL of `database` on the benchmark's PostgreSQL server."""
    return f"{args.pg_server.rstrip('/')}/{database}"


def pg_connect(args, database: str = "postgres"):
    """A connection in autocommit to `database` on the benchmark's PostgreSQL server (its own
    database by default: to create, drop and look for corpora)."""
    import psycopg

    return psycopg.connect(pg_url(args, database), autocommit=True)


def pg_address(args) -> str:
    """The benchmark's PostgreSQL server as host:port (never its user or password)."""
    server = urllib.parse.urlsplit(args.pg_server)
    return f"{server.hostname}:{server.port or 5432}"


def marker(database: str, name: str, args) -> Path:
    """The file that says a corpus was seeded to the end: a PostgreSQL corpus's names its
    server (the benchmark's own cluster, or --pg-server's host and port)."""
    if database == "postgres":
        where = "own" if args.own_cluster else pg_address(args).replace(":", "-")
        database = f"postgres-{where}"
    return OUT / f"{database}-{Path(name).name}.seeded"


def prepare(database: str, count: int, env: dict, name: str, args) -> float | None:
    """Seed the corpus unless a finished seed of it is there; returns the seconds it took."""
    done = marker(database, name, args)
    if done.exists() and done.read_text().strip() == str(count) and exists(database, name, args):
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        print(f"Reusing {database} {name} ({count:,} stories)", flush=True)
        draw_cards(env)
        if database == "postgres":
            settle(args, name)
        return None
    done.unlink(missing_ok=True)
    drop(database, name, args)
    print(f"Seeding {count:,} stories into {database} {name} …", flush=True)
    started = time.monotonic()
    subprocess.run([PYTHON, "-m", "bench.seed", "--stories", str(count)], env=env, cwd=ROOT,
                   check=True)  # fmt: skip
    seconds = time.monotonic() - started
    draw_cards(env)
    if database == "postgres":
        settle(args, name)
    done.write_text(f"{count}\n")
    return seconds


def draw_cards(env: dict) -> None:
    """Store the cards that are missing or not current (manage.py draw_cards), as a deploy does
    after an import or a seed and its timer every few minutes (deploy/draw-cards.timer): none
    after a run that stored them all, every one after a change to the code that draws them."""
    subprocess.run([PYTHON, "manage.py", "draw_cards"], env=env, cwd=ROOT, check=True)


def settle(args, name: str) -> None:
    """Leave nothing for the server to do during the rounds that the seed or the stored cards
    (draw_cards) left: VACUUM (ANALYZE) the corpus (after a draw of every card, 100,000 rows
    rewritten, autovacuum and the checkpointer ran during the rounds and cost the workers
    beside them: docs/performance.md, "2026-12-07 (late)"), then write to disk what is in the
    server's memory (CHECKPOINT): with shared_buffers a quarter of memory a seeded corpus stays
    in it unwritten, and the checkpointer would write it out (1.5 GB at 100,000 stories) while
    the rounds are measured. A run with nothing drawn has little to do."""
    with pg_connect(args, database=name) as corpus:
        corpus.execute("VACUUM (ANALYZE)")
    with pg_connect(args) as admin:
        admin.execute("CHECKPOINT")


def exists(database: str, name: str, args) -> bool:
    if database == "sqlite":
        return Path(name).exists()
    with pg_connect(args) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def drop(database: str, name: str, args) -> None:
    if database == "sqlite":
        for stale in Path(name).parent.glob(Path(name).name + "*"):
            stale.unlink()
        return
    from psycopg import sql

    with pg_connect(args) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class OwnCluster:
    """The benchmark's own PostgreSQL cluster, as the issue asks ("its own cluster"): its data
    kept in bench/out/postgres, so that corpora seeded once are reused, started for the run on
    a free loopback port and stopped at its end. Its shared_buffers is a quarter of the
    machine's memory, what PostgreSQL's documentation advises for a server of its own: with
    the default 128 MB of a server installed for development, the 100,000-story corpus
    (1.5 GB) did not fit, every statement copied pages from the OS's cache, and the workers
    beside it paid for it in CPU (docs/performance.md, "2026-12-07 (morning)")."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.log = root / "postgresql.log"
        self.port = None

    @staticmethod
    def shared_buffers_mb() -> int:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return max(128, memory // 4 // 2**20)

    def start(self) -> str:
        """Start the cluster (made on its first use) and return its URL."""
        if not (self.data / "PG_VERSION").exists():
            initdb(self.data)
        self.port = free_port()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root} "
            f"-c shared_buffers={self.shared_buffers_mb()}MB"
        )
        self.ctl("-o", options, "start")
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.ctl("-m", "fast", "stop")

    def ctl(self, *args: str) -> None:
        pg_ctl(self.data, self.log, *args, seconds=120)


def warm(path: Path) -> None:
    """Read a SQLite corpus once, so that its pages are in the OS's file cache as a running
    server's are. This machine's kernel reclaims cold file pages (DAMON): a 100,000-story file
    (2.8 GB) read back from disk during the walk charged the workers for the page faults,
    up to half of a story page's miss, and measured the disk instead of the site."""
    for file in [path, *path.parent.glob(path.name + "-wal")]:
        with file.open("rb") as data:
            while data.read(8 << 20):
                pass


def prewarm(name: str, args) -> None:
    """Load a PostgreSQL corpus into the server's shared buffers (pg_prewarm), as warm() puts
    a SQLite corpus in the OS's cache: a server that has been serving the site holds its hot
    rows and indexes there, while one just started reads each page in on first use, during
    the rounds. Left out, with a line that says so, where the server has no pg_prewarm or the
    user may not install it."""
    import psycopg

    try:
        with pg_connect(args, name) as db:
            db.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            (pages,) = db.execute(
                "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 'i', 't', 'm')"
            ).fetchone()
    except psycopg.Error as error:
        print(f"  not prewarmed ({error.__class__.__name__}: {error})", flush=True)
        return
    print(f"  prewarmed {pages * 8 // 1024:,} MB of {name}", flush=True)


def crawler_token(env: dict) -> str:
    """A token of the site (tokens/models.py ApiToken.issue) for the uncached API rows."""
    code = (
        "import django; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "from tokens.models import ApiToken, Scope\n"
        "user, _ = get_user_model().objects.get_or_create(username='bench-crawler')\n"
        "print(ApiToken.issue(user=user, name='벤치 크롤러', scopes=[Scope.OPS_READ])[1])\n"
    )
    done = subprocess.run([PYTHON, "-c", code], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


# --- Measuring ----------------------------------------------------------------------------


def batch(server: Server, row: dict, requests: int, concurrency: int) -> tuple[float, int]:
    """CPU milliseconds per request of one batch, and how many answers were not 200."""
    paths = row["paths"](requests)
    pids, before = server.cpu()
    statuses = load(server.port, paths, row["headers"], concurrency)
    after_pids, after = server.cpu()
    if after_pids != pids:
        raise SystemExit(f"gunicorn workers changed during a batch ({pids} → {after_pids})")
    return (after - before) * 1000 / len(statuses), sum(status != 200 for status in statuses)


def measure(database: str, count: int, bare: Server, args) -> dict:
    env, name = site_env(database, count, args)
    seeded = prepare(database, count, env, name, args)
    if database == "sqlite":
        warm(Path(name))
    else:
        prewarm(name, args)
    token = crawler_token(env)
    site = Server("culture.wsgi:application", env, workers=args.workers, probe="/__bench__/fixed/")
    try:
        site.wait_ready()
        table = rows(count, token)
        servers = {"bare": bare, "site": site}
        for key, row in table.items():
            server = servers[row.get("server", "site")]
            status = fetch(server.port, row["paths"](1)[0], row["headers"])
            if status != 200:
                raise SystemExit(f"{key} answered {status} on {database} at {count:,} stories")
            load(server.port, row["paths"](args.workers * 10), row["headers"], args.concurrency)

        costs = {key: [] for key in table}
        errors = dict.fromkeys(table, 0)
        order_rng = random.Random(count)
        for round_number in range(args.rounds):
            order = list(table)
            order_rng.shuffle(order)
            for key in order:
                row = table[key]
                server = servers[row.get("server", "site")]
                if row["sort"] == "miss":
                    # A content change, through the site's own mechanism: every kept answer
                    # misses from now on.
                    fetch(site.port, "/__bench__/bump/", method="POST")
                    requests = args.miss_requests
                else:
                    # The answer is kept again (a bump before may have dropped it).
                    load(server.port, row["paths"](args.workers * 5), row["headers"], 2)
                    requests = args.requests * (2 if row["sort"] == "ref" else 1)
                cost, failed = batch(server, row, requests, args.concurrency)
                costs[key].append(cost)
                errors[key] += failed
            print(
                f"  {database} {count:,} round {round_number + 1}/{args.rounds}: "
                + ", ".join(f"{key} {costs[key][-1]:.2f}" for key in table)
                + " (CPU ms per request)",
                flush=True,
            )
        rss = walk_memory(site, count, args)
    finally:
        site.stop()
    result = {
        "database": "SQLite" if database == "sqlite" else "PostgreSQL (native pool)",
        "stories": count,
        "seed_seconds": None if seeded is None else round(seeded, 1),
        "rows": {},
        **rss,
    }
    for key, row in table.items():
        to_bare = [cost / base for cost, base in zip(costs[key], costs["bare"], strict=True)]
        to_site = [cost / base for cost, base in zip(costs[key], costs["site"], strict=True)]
        result["rows"][key] = {
            "sort": row["sort"],
            "path": row["paths"](1)[0],
            "cpu_ms_per_request": round(statistics.median(costs[key]), 3),
            "ratio_to_bare": round(statistics.median(to_bare), 2),
            "ratio_range": [round(min(to_bare), 2), round(max(to_bare), 2)],
            "ratio_to_site_view": round(statistics.median(to_site), 2),
            "errors": errors[key],
        }
    return result


def walk_memory(site: Server, count: int, args) -> dict:
    """Each worker's resident memory after the rounds and, on a corpus of at most --walk
    stories, after the workers walked all its stories once after a content change (every
    story page rendered, as a crawler makes them). A larger corpus is not walked: the target
    is set for 10,000 stories."""
    walked = count if count <= args.walk else 0
    if walked:
        fetch(site.port, "/__bench__/bump/", method="POST")
        started = time.monotonic()
        statuses = load(
            site.port,
            (story_path(number) for number in random.Random(7).sample(range(count), walked)),
            {"User-Agent": BROWSER_AGENT},
            args.concurrency,
        )
        print(f"  walked {walked:,} stories in {time.monotonic() - started:.0f} s", flush=True)
    else:
        statuses = []
    return {
        "walked": walked,
        "walk_errors": sum(status != 200 for status in statuses),
        "rss_mb_per_worker": site.rss(),
    }


def run(args) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    env = base_env()
    env["SQLITE_PATH"] = str(OUT / "static.sqlite3")
    # Production serves hashed static files from a manifest; so does the benchmark.
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT,
                   check=True)  # fmt: skip
    bare_env = base_env()
    bare_env["DJANGO_SETTINGS_MODULE"] = "bench.bare.settings"
    bare = Server("bench.bare.wsgi:application", bare_env, workers=args.workers, probe="/")
    started = time.monotonic()
    results = {
        "workers": args.workers,
        "concurrency": args.concurrency,
        "requests": args.requests,
        "miss_requests": args.miss_requests,
        "rounds": args.rounds,
        "python": sys.version.split()[0],
        "load_average_at_start": os.getloadavg()[0],
        "runs": [],
    }
    cluster = None
    try:
        if "postgres" in args.databases and args.own_cluster:
            cluster = OwnCluster(OUT / "postgres")
            args.pg_server = cluster.start()
            results["postgresql"] = (
                f"the benchmark's own cluster, shared_buffers {cluster.shared_buffers_mb():,} MB"
            )
        elif "postgres" in args.databases:
            results["postgresql"] = f"the server at {pg_address(args)}"
        bare.wait_ready()
        for database in args.databases:
            for count in args.sizes:
                results["runs"].append(measure(database, count, bare, args))
    finally:
        bare.stop()
        if cluster is not None:
            cluster.stop()
    results["minutes"] = round((time.monotonic() - started) / 60, 1)
    results["load_average_at_end"] = os.getloadavg()[0]
    return results


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--requests",
        type=int,
        default=1000,
        help="per cached row per round (the references get twice as many)",
    )
    parser.add_argument("--miss-requests", type=int, default=200, help="per miss row per round")
    parser.add_argument(
        "--walk", type=int, default=10_000, help="walk corpora of up to this many stories"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--pg-server",
        default=None,
        help="a PostgreSQL server to put the corpora in (postgres://user@host:port) instead of "
        "the benchmark's own cluster",
    )
    parser.add_argument(
        "--pg-prefix",
        default="bench_stories_",
        help="corpus database names: this and the number of stories",
    )
    parser.add_argument("--no-write", action="store_true", help="do not update docs/")
    args = parser.parse_args()
    args.own_cluster = args.pg_server is None
    # Stopped from outside: leave through the finally clauses, which stop the servers.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(f"stopped by signal {number}"))

    results = run(args)
    text = json.dumps(results, ensure_ascii=False, indent=2) + "\n"
    (OUT / "pages.json").write_text(text)
    print(report.tables(results))
    if not args.no_write:
        report.write_doc(results)
        (ROOT / "docs" / "performance.json").write_text(text)


if __name__ == "__main__":
    main()
