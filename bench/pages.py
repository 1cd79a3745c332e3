"""Server CPU per request of the site's pages and API, as multiples of a bare Django view.

    .venv/bin/python -m bench.pages                     # the full run (bench/README.md)
    .venv/bin/python -m bench.pages --sizes 1000 --databases sqlite --rounds 1   # a smoke run

For each database (SQLite, PostgreSQL with the native pool), serves each corpus (1,000,
10,000, 100,000 stories by default, seeded in bulk by bench/seed.py once and reused) with its
own gunicorn, all of them at once, beside a bare Django project (bench/bare/: no app, no
middleware, a fixed 5 KB string) under the same gunicorn settings. Each of --rounds rounds is
cut in --chunks slots; each slot sends one chunk of every row's batch to every corpus, in a
new random order, with a chunk of the bare view after every few, while the CPU time of the
serving workers is read before and after each chunk. A row's CPU per request in a round is
divided by the bare view's in that round; the median and the range over rounds are reported.
The site's own fixed 5 KB view (through its whole middleware) is the second reference. After
the rounds the workers walk 10,000 stories (all, for a smaller corpus) once and their
resident memory is read.

Writes bench/out/pages.json, docs/performance.json and the tables in docs/performance.md.
"""

import argparse
import contextlib
import ctypes
import itertools
import json
import os
import random
import resource
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


class Resident:
    """The files of a SQLite corpus held in the OS's file cache for the whole measurement, as a
    running server's are: mapped and locked in memory (mlock) by this process, so the kernel
    cannot reclaim them. This machine's kernel reclaims cold file pages (DAMON): a
    100,000-story file (2.8 GB) read once before the rounds was two thirds gone from the cache
    a few minutes later, and the stories read back from disk during the rounds charged the
    workers for the page faults, up to half of a story miss, and measured the disk instead of
    the site. Where the pages cannot be locked (no C library call, a memory-lock limit), the
    files are read once instead, and a line says so."""

    PROT_READ, MAP_SHARED = 0x1, 0x01
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]  # fmt: skip

    def __init__(self, path: Path):
        self.maps: list[tuple[int, int]] = []
        files = [path, *path.parent.glob(path.name + "-wal")]
        try:
            with contextlib.suppress(ValueError, OSError):
                _, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
                resource.setrlimit(resource.RLIMIT_MEMLOCK, (hard, hard))
            for file in files:
                self._lock(file)
        except OSError as error:
            self.release()
            print(f"  {path.name} not locked in memory ({error}); read once instead", flush=True)
            for file in files:
                with file.open("rb") as data:
                    while data.read(8 << 20):
                        pass

    def _lock(self, file: Path) -> None:
        size = file.stat().st_size
        if not size:
            return
        with file.open("rb") as data:
            address = self.libc.mmap(None, size, self.PROT_READ, self.MAP_SHARED, data.fileno(), 0)
        if address in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), f"mmap of {file.name} failed")
        self.maps.append((address, size))
        if self.libc.mlock(ctypes.c_void_p(address), ctypes.c_size_t(size)) != 0:
            raise OSError(ctypes.get_errno(), f"mlock of {file.name} failed")

    def release(self) -> None:
        for address, size in self.maps:
            self.libc.munmap(ctypes.c_void_p(address), ctypes.c_size_t(size))  # unlocks too
        self.maps = []


def prewarm(name: str, args) -> None:
    """Load a PostgreSQL corpus into the server's shared buffers (pg_prewarm), as Resident holds
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


def parts(total: int, chunks: int) -> list[int]:
    """`total` requests in `chunks` chunks as even as can be (none empty)."""
    chunks = max(1, min(chunks, total))
    return [total // chunks + (index < total % chunks) for index in range(chunks)]


# A batch of the bare view after every this many chunks of the rows (schedule()).
BARE_EVERY = 4


def schedule(keys: list[str], sizes: list[int], slots: int, rng: random.Random) -> list:
    """One round's order: `slots` slots, each with one chunk of every row at every corpus, as
    (row, size, chunk index), in a new random order, and a chunk of the bare view (None)
    first, after every BARE_EVERY chunks and last. So every row's batch at every corpus, and
    the bare view's, is spread over the whole round: what the machine's speed does during the
    round, it does to all of them alike."""
    order = []
    for chunk in range(slots):
        items = [(key, size, chunk) for key in keys for size in sizes]
        rng.shuffle(items)
        for index, item in enumerate(items):
            if index % BARE_EVERY == 0:
                order.append(None)
            order.append(item)
    order.append(None)
    return order


class Corpus:
    """One corpus of one database, served by its own site for the whole run of its database."""

    def __init__(self, database: str, count: int, args):
        self.count = count
        self.env, self.name = site_env(database, count, args)
        self.seeded = prepare(database, count, self.env, self.name, args)
        self.table = None
        self.site = None
        self.resident = None

    def serve(self, database: str, args) -> None:
        if database == "sqlite":
            self.resident = Resident(Path(self.name))
        else:
            prewarm(self.name, args)
        self.table = rows(self.count, crawler_token(self.env))
        self.site = Server(
            "culture.wsgi:application", self.env, workers=args.workers, probe="/__bench__/fixed/"
        )


class Meter:
    """CPU of one server's workers over several chunks of a batch, and the answers not 200."""

    def __init__(self, server: Server):
        self.server, self.seconds, self.requests, self.failed = server, 0.0, 0, 0

    def send(self, row: dict, requests: int, concurrency: int) -> None:
        paths = row["paths"](requests)
        pids, before = self.server.cpu()
        statuses = load(self.server.port, paths, row["headers"], concurrency)
        after_pids, after = self.server.cpu()
        if after_pids != pids:
            raise SystemExit(f"gunicorn workers changed during a batch ({pids} → {after_pids})")
        self.seconds += after - before
        self.requests += len(statuses)
        self.failed += sum(status != 200 for status in statuses)

    @property
    def ms_per_request(self) -> float:
        return self.seconds * 1000 / self.requests


def measure(database: str, bare: Server, args) -> list[dict]:
    """Every row at every size of `database`, in interleaved rounds.

    Every corpus has its own site, all of them up for the whole run, so that the sizes are
    measured side by side. Each round is cut in --chunks slots; each slot sends one chunk of
    every row's batch to every corpus, in a new random order, with a chunk of the bare view
    after every few (schedule()). A row's ratio in a round is its CPU per request over the bare
    view's in that round. So a row's cost at 1,000 and at 100,000 stories, and the bare view
    it is divided by, are each read across the whole round: the machine's speed, which moves
    by a fifth or more within a minute on a shared host (docs/performance.md), weighs on all
    of them alike, and the growth from the smallest corpus to the largest compares like with
    like."""
    corpora = [Corpus(database, count, args) for count in args.sizes]
    try:
        for corpus_ in corpora:
            corpus_.serve(database, args)
        for corpus_ in corpora:
            corpus_.site.wait_ready()
            warm_rows(database, corpus_, bare, args)
        keys = [key for key in corpora[0].table if key != "bare"]
        costs = {corpus_.count: {key: [] for key in keys} for corpus_ in corpora}
        errors = {corpus_.count: dict.fromkeys(keys, 0) for corpus_ in corpora}
        bare_rounds, bare_errors = [], 0
        order_rng = random.Random(sum(args.sizes))
        by_size = {corpus_.count: corpus_ for corpus_ in corpora}
        sizes = [corpus_.count for corpus_ in corpora]
        shares = {key: parts(requests_of(corpora[0].table[key], args), args.chunks)
                  for key in keys}  # fmt: skip
        for round_number in range(args.rounds):
            bare_meter = Meter(bare)
            meters = {(key, count): Meter(by_size[count].site) for key in keys for count in sizes}
            for item in schedule(keys, sizes, args.chunks, order_rng):
                if item is None:
                    bare_meter.send(corpora[0].table["bare"], args.bare_requests, args.concurrency)
                    continue
                key, count, chunk = item
                if chunk < len(shares[key]):
                    prepare_chunk(by_size[count], key, args)
                    meters[key, count].send(
                        by_size[count].table[key], shares[key][chunk], args.concurrency
                    )
            base = bare_meter.ms_per_request
            bare_rounds.append(base)
            bare_errors += bare_meter.failed
            for (key, count), meter in meters.items():
                costs[count][key].append(meter.ms_per_request)
                errors[count][key] += meter.failed
            for count in sizes:
                print(
                    f"  {database} {count:,} round {round_number + 1}/{args.rounds}: "
                    + ", ".join(f"{key} {costs[count][key][-1] / base:.2f}" for key in keys)
                    + f" (× the bare view, {base:.3f} ms)",
                    flush=True,
                )
        memory = {corpus_.count: walk_memory(corpus_.site, corpus_.count, args) for corpus_ in
                  corpora}  # fmt: skip
    finally:
        for corpus_ in corpora:
            if corpus_.site is not None:
                corpus_.site.stop()
            if corpus_.resident is not None:
                corpus_.resident.release()
    results = []
    for corpus_ in corpora:
        count, table = corpus_.count, corpus_.table
        result = {
            "database": "SQLite" if database == "sqlite" else "PostgreSQL (native pool)",
            "stories": count,
            "seed_seconds": None if corpus_.seeded is None else round(corpus_.seeded, 1),
            "rows": {
                "bare": {
                    "sort": "ref",
                    "path": table["bare"]["paths"](1)[0],
                    "cpu_ms_per_request": round(statistics.median(bare_rounds), 3),
                    "ratio_to_bare": 1.0,
                    "ratio_range": [1.0, 1.0],
                    "ratio_to_site_view": round(
                        statistics.median(
                            bare / site
                            for bare, site in zip(bare_rounds, costs[count]["site"], strict=True)
                        ),
                        2,
                    ),
                    "errors": bare_errors,
                }
            },
            **memory[count],
        }
        for key in keys:
            to_bare = [
                cost / bare for cost, bare in zip(costs[count][key], bare_rounds, strict=True)
            ]
            to_site = [
                cost / site
                for cost, site in zip(costs[count][key], costs[count]["site"], strict=True)
            ]
            result["rows"][key] = {
                "sort": table[key]["sort"],
                "path": table[key]["paths"](1)[0],
                "cpu_ms_per_request": round(statistics.median(costs[count][key]), 3),
                "ratio_to_bare": round(statistics.median(to_bare), 2),
                "ratio_range": [round(min(to_bare), 2), round(max(to_bare), 2)],
                "ratio_rounds": [round(value, 3) for value in to_bare],
                "ratio_to_site_view": round(statistics.median(to_site), 2),
                "errors": errors[count][key],
            }
        results.append(result)
    return results


def warm_rows(database: str, corpus_: Corpus, bare: Server, args) -> None:
    """Check that every row answers 200, then send it a few batches: imports, compiled
    templates and the like are in every worker before the first round."""
    servers = {"bare": bare, "site": corpus_.site}
    for key, row in corpus_.table.items():
        server = servers[row.get("server", "site")]
        status = fetch(server.port, row["paths"](1)[0], row["headers"])
        if status != 200:
            raise SystemExit(f"{key} answered {status} on {database} at {corpus_.count:,} stories")
        load(server.port, row["paths"](args.workers * 10), row["headers"], args.concurrency)


def requests_of(row: dict, args) -> int:
    """A row's requests at each corpus in a round."""
    return args.miss_requests if row["sort"] == "miss" else args.requests


def prepare_chunk(corpus_: Corpus, key: str, args) -> None:
    """What comes before each chunk of a row: for a miss, a content change through the site's
    own mechanism (every kept answer misses from now on); for a cached row, a few requests
    that put its answer back in the cache (a bump before may have dropped it)."""
    row = corpus_.table[key]
    if row["sort"] == "miss":
        fetch(corpus_.site.port, "/__bench__/bump/", method="POST")
    else:
        load(corpus_.site.port, row["paths"](args.workers * 5), row["headers"], 2)


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
    # What else the machine is doing, read before the run's own collectstatic and servers add
    # to the load average (report.caveat()).
    load_at_start = os.getloadavg()[0]
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
        "bare_requests": args.bare_requests,
        "bare_every": BARE_EVERY,
        "chunks": args.chunks,
        "rounds": args.rounds,
        "python": sys.version.split()[0],
        "load_average_at_start": load_at_start,
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
            results["runs"] += measure(database, bare, args)
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
        help="per cached row per round, and the site's own view's",
    )
    parser.add_argument("--miss-requests", type=int, default=200, help="per miss row per round")
    parser.add_argument(
        "--bare-requests",
        type=int,
        default=250,
        help=f"in each chunk of the bare view (one after every {BARE_EVERY} chunks of the rows)",
    )
    parser.add_argument(
        "--chunks",
        type=int,
        default=4,
        help="slots of a round: each row's batch at each size is sent in this many chunks",
    )
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
