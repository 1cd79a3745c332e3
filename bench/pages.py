"""Server CPU per request for the site's pages and API, against a bare 5 KB view.

    .venv/bin/python -m bench.pages            # 10,000 stories, SQLite, about 5 minutes
    .venv/bin/python -m bench.pages --quick    # a smoke run

Serves the site with gunicorn on 127.0.0.1 (bench.settings: the real settings plus the bare
view), sends the same number of requests to each endpoint in interleaved rounds, and divides
the user+system CPU time of the gunicorn processes by the number of requests. CPU time, unlike
wall time, hardly depends on what else the machine is doing, and the ratio to the bare view
measured in the same round cancels most of the rest. Writes bench/out/pages.json and the table
in docs/performance.md.
"""

import argparse
import contextlib
import http.client
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from bench.common import free_port

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
DOC = ROOT / "docs" / "performance.md"
PYTHON = sys.executable
BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"
TICKS = os.sysconf("SC_CLK_TCK")

# name, target ratio to the bare view (None: measured, no target)
TARGETS = {
    "bare": None,
    "home": 6,
    "list": 6,
    "story": 4,
    "story-reload": 4,
    "story-cold": None,
    "search": 10,
    "home-cold": None,
    "list-cold": None,
    "search-cold": None,
    "api-list": 5,
    "api-detail": 4,
    "api-list-cold": None,
    "api-detail-cold": None,
}
# The API's read operations ignore an Authorization header, but a request that carries one is
# never answered from (nor kept in) the API's cache: the operation runs in full.
UNCACHED = {"Authorization": "Bearer bench-uncached"}


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def family(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            pids.extend(family(int(child)))
    return pids


def server_cpu(master: int) -> float:
    total = 0.0
    for pid in family(master):
        with contextlib.suppress(FileNotFoundError):
            total += process_cpu_seconds(pid)
    return total


# "{story}" stands for a different story on every request, in turn: each one is a cache miss
# for as long as the run asks for fewer stories than these (filled by endpoints()).
STORY_PATHS: list[str] = []
_story_turn = itertools.count()


def fetch(port, path, headers, number=0):
    if path == "{story}":
        path = STORY_PATHS[next(_story_turn) % len(STORY_PATHS)]
    path = path.replace("{n}", str(number))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def load(port, path, requests, concurrency, headers):
    """Send `requests` GETs with `concurrency` clients; return the statuses seen."""
    statuses = []
    lock = threading.Lock()
    start = random.randrange(10**9)  # distinct numbers for "{n}" in cold paths
    remaining = iter(range(start, start + requests))

    def client():
        while True:
            with lock:
                number = next(remaining, None)
                if number is None:
                    return
            status = fetch(port, path, headers, number)
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def environment(database: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "DB_", "CONN_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        SQLITE_PATH=str(database),
        SECRET_KEY="bench-not-secret-" + "x" * 40,
        DEBUG="false",
        SECURE_SSL="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        API_THROTTLE_READ="100000000/min",
        API_THROTTLE_WRITE="100000000/min",
        PYTHONPATH=str(ROOT),
    )
    return env


def prepare(database: Path, stories: int, env: dict) -> None:
    # Production serves hashed static files from a manifest; so does the benchmark.
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True
    )
    done = database.with_suffix(".done")
    if database.exists() and done.exists() and done.read_text().strip() == str(stories):
        print(f"Reusing {database} ({stories} stories)")
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        return
    for stale in database.parent.glob(database.name + "*"):
        stale.unlink()
    print(f"Seeding {stories} stories into {database} …", flush=True)
    subprocess.run(
        [PYTHON, "-m", "bench.seed", "--stories", str(stories)], env=env, cwd=ROOT, check=True
    )
    done.write_text(str(stories))


def story_paths(port, wanted=3000) -> list[str]:
    """The addresses of `wanted` published stories, newest first (from the API's list)."""
    paths = []
    page = 1
    while len(paths) < wanted:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", f"/api/v1/stories?page_size=100&page={page}")
        items = json.loads(connection.getresponse().read())["items"]
        connection.close()
        if not items:
            break
        paths += [urllib.parse.urlsplit(item["url"]).path for item in items]
        page += 1
    return paths


def endpoints(port) -> dict[str, str]:
    """Pick concrete addresses from the running site (a story in the middle, its slug)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/feed/?page=20", headers={"User-Agent": BROWSER_AGENT})
    html = connection.getresponse().read().decode()
    connection.close()
    start = html.index('href="/stories/') + len('href="')
    story = html[start : html.index('"', start)]
    story_id = story.split("/")[2]
    STORY_PATHS[:] = story_paths(port)
    paths = {
        "bare": "/__bench__/bare/",
        "home": "/",
        "list": "/feed/",
        "story": story,
        "story-reload": story,
        "story-cold": "{story}",
        # A query string nobody asked for before: the page is rendered, not read from the cache.
        "home-cold": "/?cold={n}",
        "list-cold": "/feed/?cold={n}",
        "search": "/search/?" + urllib.parse.urlencode({"q": "연결 풀링"}),
        "search-cold": "/search/?" + urllib.parse.urlencode({"q": "연결 풀링"}) + "&cold={n}",
        "api-list": "/api/v1/stories?page_size=20",
        "api-detail": f"/api/v1/stories/{story_id}",
        "api-list-cold": "/api/v1/stories?page_size=20",
        "api-detail-cold": f"/api/v1/stories/{story_id}",
    }
    available = {}
    for name, path in paths.items():
        status = fetch(port, path, {"User-Agent": BROWSER_AGENT})
        if status == 200:
            available[name] = path
        else:
            print(f"  skipping {name}: {path} answered {status}")
    return available


def run(args) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    database = OUT / f"pages-{args.stories}.sqlite3"
    env = environment(database)
    prepare(database, args.stories, env)

    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "--config", str(ROOT / "bench" / "gunicorn_bench.py"),
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.workers),
            "--worker-class", "sync",
            "--log-level", "warning",
            "culture.wsgi:application",
        ],
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                fetch(port, "/__bench__/bare/", {})
                break
            except OSError:
                time.sleep(0.1)
        paths = endpoints(port)
        headers = {name: {"User-Agent": BROWSER_AGENT} for name in paths}
        for name in ("api-list-cold", "api-detail-cold"):
            headers[name].update(UNCACHED)
        # A reader who reloads: the cookie says this story was counted a minute ago.
        story_id = paths.get("story", "/stories/0/").split("/")[2]
        headers["story-reload"] = {
            "User-Agent": BROWSER_AGENT,
            "Cookie": f"seen={story_id}-{int(time.time()) + 3600}",
        }
        for name, path in paths.items():  # warm every worker's caches
            load(port, path, args.workers * 10, args.concurrency, headers[name])

        samples = {name: [] for name in paths}
        ratios = {name: [] for name in paths}
        errors = dict.fromkeys(paths, 0)
        rng = random.Random(1)
        for round_number in range(args.rounds):
            order = list(paths)
            rng.shuffle(order)
            cost = {}
            for name in order:
                before = server_cpu(server.pid)
                statuses = load(port, paths[name], args.requests, args.concurrency, headers[name])
                spent = server_cpu(server.pid) - before
                errors[name] += sum(status != 200 for status in statuses)
                cost[name] = spent * 1000 / len(statuses)
                samples[name].append(cost[name])
            if cost["bare"] == 0:
                raise SystemExit(
                    "The bare view used less than one clock tick of CPU: too few requests to "
                    "measure anything. Raise --requests."
                )
            for name in paths:
                ratios[name].append(cost[name] / cost["bare"])
            print(
                f"round {round_number + 1}/{args.rounds}: "
                + ", ".join(f"{n} {cost[n]:.2f} ms" for n in paths),
                flush=True,
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    results = {
        "stories": args.stories,
        "database": "SQLite",
        "workers": args.workers,
        "concurrency": args.concurrency,
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        "python": sys.version.split()[0],
        "endpoints": {
            name: {
                "path": paths[name],
                "cpu_ms_per_request": round(statistics.median(samples[name]), 3),
                "ratio_to_bare": round(statistics.median(ratios[name]), 2),
                "ratio_range": [round(min(ratios[name]), 2), round(max(ratios[name]), 2)],
                "target_ratio": TARGETS.get(name),
                "errors": errors[name],
            }
            for name in paths
        },
    }
    return results


def table(results: dict) -> str:
    names = {
        "bare": "bare 5 KB view (the ceiling)",
        "home": "스토리 홈 `/`",
        "list": "kind list `/feed/`",
        "story": "story page, new reader (counts a view)",
        "story-reload": "story page, reload (no count)",
        "story-cold": "story page, rendered (each request another story: cache miss)",
        "home-cold": "스토리 홈, rendered (cache miss)",
        "list-cold": "kind list, rendered (cache miss)",
        "search": "search `/search/?q=연결 풀링`",
        "search-cold": "search, rendered (cache miss)",
        "api-list": "API story list (20 items)",
        "api-detail": "API story detail",
        "api-list-cold": "API story list, rendered (cache bypassed)",
        "api-detail-cold": "API story detail, rendered (cache bypassed)",
    }
    lines = [
        "| endpoint | CPU ms / request | × ceiling (median, range) | target | met | errors |",
        "|---|---:|---:|---:|:---:|---:|",
    ]
    for name, row in results["endpoints"].items():
        target = row["target_ratio"]
        low, high = row["ratio_range"]
        met = "—" if target is None else ("yes" if row["ratio_to_bare"] <= target else "**no**")
        lines.append(
            f"| {names.get(name, name)} | {row['cpu_ms_per_request']:.2f} | "
            f"{row['ratio_to_bare']:.2f} ({low:.2f}–{high:.2f}) | "
            f"{'—' if target is None else f'≤ {target}×'} | {met} | {row['errors']} |"
        )
    lines.append("")
    lines.append(
        f"{results['stories']:,} stories on {results['database']}, gunicorn {results['workers']} "
        f"sync workers, {results['concurrency']} concurrent clients, "
        f"{results['requests_per_round']} requests per endpoint per round, "
        f"{results['rounds']} interleaved rounds, Python {results['python']}. Rows with a "
        "target request one address again and again, as a page's readers do: they are served "
        "from the page cache (pages) or the API's response cache. Rows marked rendered or "
        "bypassed pay the whole render on every request."
    )
    return "\n".join(lines)


def write_doc(results: dict) -> None:
    start, end = "<!-- pages:start -->", "<!-- pages:end -->"
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{start}\n{end}\n"
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    DOC.write_text(f"{before}{start}\n{table(results)}\n{end}{after}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="per endpoint per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="1,000 stories, 2 short rounds")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/")
    args = parser.parse_args()
    if args.quick:
        args.stories, args.requests, args.rounds = 1000, 60, 2

    results = run(args)
    (OUT / "pages.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(table(results))
    if not args.no_write and not args.quick:
        write_doc(results)
        (ROOT / "docs" / "performance.json").write_text(
            json.dumps(results, ensure_ascii=False, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
