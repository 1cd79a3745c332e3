"""Scenarios 10 and 11. 10: readers through the edge (Varnish with deploy/varnish.vcl in front of the
balancer), their views counted by the story pages' beacons.

Readers ask for stories drawn by a Zipf law over every published story (rank r has weight
1/r): nine requests in ten a story page, one in ten the story's API answer, all anonymous. After
each story page the reader's browser sends the page's beacon (POST /views/<id>/, same origin)
as static/js/views.js does; one beacon in twenty carries a bot's User-Agent and one in twenty is
a second view by a browser that counted that story moments ago (its `seen` cookie): the site
counts neither. When the load is over and the flusher has run, the stories' 조회수 must have
grown by exactly the beacons sent minus those two kinds.

Then an editor changes the title of the most read story (the edge certainly keeps its page):
the first request through the edge after the API's answer must show the new title, on the
story page and in its API answer."""

import json
import os
import random
import re
import resource
import subprocess
import threading
import time
from bisect import bisect
from itertools import accumulate

import psycopg

from bench.cluster.clients import Api
from bench.cluster.load import BROWSER, PROBE, PUBLIC_HOST, Client, fetch
from bench.cluster.outcome import Result, marker, verdict

CLIENTS = 16
BOT_SHARE = 0.05
REPEAT_SHARE = 0.05
API_SHARE = 0.10
HIT_TARGET = 0.90
READ_LIMIT_LIFTED = "1000000/min"
# What static/js/views.js's beacon carries from the site's own page.
BEACON_HEADERS = {"Sec-Fetch-Site": "same-origin", "Origin": f"http://{PUBLIC_HOST}"}
EDGE_KEEP_SECONDS = 3600


def corpus(run) -> list[tuple[int, str]]:
    """(id, page path) of every published story, the newest first."""
    code = (
        "import json; from articles.models import Article; "
        "print(json.dumps([[a.pk, a.get_absolute_url()] for a in "
        "Article.objects.published().order_by('-published_at', '-pk')]))"
    )
    return [tuple(pair) for pair in json.loads(run.manage("shell", "-c", code).splitlines()[-1])]


def views_total(run) -> int:
    with psycopg.connect(run.pg.url()) as conn:
        return int(
            conn.execute("SELECT coalesce(sum(count), 0) FROM articles_viewtotal").fetchone()[0]
        )


class Readers:
    """The reader load: `requests` in all over CLIENTS threads, each with its own keep-alive
    connection to the edge, its picks drawn from the Zipf weights."""

    def __init__(self, edge: str, stories: list[tuple[int, str]], requests: int):
        self.edge = edge
        self.stories = stories
        self.requests = requests
        self.weights = list(accumulate(1 / rank for rank in range(1, len(stories) + 1)))
        self.lock = threading.Lock()
        self.issued = 0
        self.order: list[bool] = []  # hit or not, in the order the answers came
        self.pages = {"hit": 0, "miss": 0, "other": 0}
        self.api = {"hit": 0, "miss": 0, "other": 0}
        self.errors: list[str] = []
        self.beacons = {"sent": 0, "bot": 0, "repeat": 0, "refused": 0}

    def pick(self, rng: random.Random) -> tuple[int, str]:
        return self.stories[bisect(self.weights, rng.random() * self.weights[-1])]

    def run(self) -> float:
        threads = [threading.Thread(target=self._reader, args=(n,)) for n in range(CLIENTS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - started

    def _take(self) -> bool:
        with self.lock:
            if self.issued >= self.requests:
                return False
            self.issued += 1
            return True

    def _note(self, kind: dict, answer, what: str) -> None:
        hit = answer.status == 200 and answer.headers.get("x-edge") == "hit"
        with self.lock:
            self.order.append(hit)
            if answer.status != 200:
                kind["other"] += 1
                self.errors.append(f"{what}: {answer.status or answer.error}")
            else:
                kind["hit" if hit else "miss"] += 1

    def steady(self) -> float:
        """The hit ratio of the second half of the load: the first half filled the edge, as
        an edge in service has been filled by the readers before."""
        second = self.order[len(self.order) // 2 :]
        return sum(second) / len(second) if second else 0.0

    def _reader(self, n: int) -> None:
        rng = random.Random(n)
        client = Client(self.edge, timeout=30)
        counted: list[tuple[int, str]] = []  # (story, its `seen` cookie) of this thread's views
        while self._take():
            story, path = self.pick(rng)
            if rng.random() < API_SHARE:
                answer = client.get(f"/api/v1/stories/{story}", {"User-Agent": BROWSER})
                self._note(self.api, answer, f"GET /api/v1/stories/{story}")
                continue
            answer = client.get(path, {"User-Agent": BROWSER})
            self._note(self.pages, answer, f"GET {path}")
            if answer.status == 200:
                self._beacon(rng, story, counted)
        client.close()

    def _beacon(self, rng: random.Random, story: int, counted: list) -> None:
        headers = dict(BEACON_HEADERS)
        kind = "new"
        draw = rng.random()
        if draw < BOT_SHARE:
            kind, headers["User-Agent"] = "bot", PROBE
        elif draw < BOT_SHARE + REPEAT_SHARE and counted:
            kind = "repeat"
            story, cookie = rng.choice(counted)
            headers["Cookie"] = cookie
            headers["User-Agent"] = BROWSER
        else:
            headers["User-Agent"] = BROWSER
        answer = fetch(self.edge, f"/views/{story}/", method="POST", headers=headers, timeout=30)
        with self.lock:
            self.beacons["sent"] += 1
            if answer.status != 204:
                self.beacons["refused"] += 1
                self.errors.append(f"POST /views/{story}/: {answer.status or answer.error}")
                return
            if kind in ("bot", "repeat"):
                self.beacons[kind] += 1
        if kind == "new":
            cookie = answer.headers.get("set-cookie", "").split(";", 1)[0]
            if cookie:
                counted.append((story, cookie))


def ratio(counts: dict) -> float:
    asked = counts["hit"] + counts["miss"] + counts["other"]
    return counts["hit"] / asked if asked else 0.0


def s10_edge(run) -> Result:
    stories = corpus(run)
    requests = 6_000 if run.quick else 60_000
    # Every reader of the run comes from its one address, which the API's read limit (300 a
    # minute per client: scenario 3) would stop after a few seconds: lifted here, as the
    # beacons' limit is for the whole run.
    # The edge keeps answers an hour (EDGE_MAX_AGE): every write bans what it holds, so a long
    # keep shows nothing stale; with the default minute, the long tail of 10,000 stories
    # expires between two readers and the edge cannot pass ~82 % (docs/cluster.md).
    run.ensure_env(
        run.site_env(API_THROTTLE_READ=READ_LIMIT_LIFTED, EDGE_MAX_AGE=str(EDGE_KEEP_SECONDS))
    )
    try:
        before = views_total(run)
        readers = Readers(run.edge.base, stories, requests)
        seconds = readers.run()
        result = measure(run, stories, readers, requests, seconds, before)
    finally:
        run.ensure_env(run.site_env())
    return result


def measure(run, stories, readers, requests, seconds, before) -> Result:
    expected = readers.beacons["sent"] - readers.beacons["refused"]
    expected -= readers.beacons["bot"] + readers.beacons["repeat"]
    # The hosts buffer views in Redis; the flusher adds them at least every VIEW_FLUSH_SECONDS.
    deadline = time.monotonic() + 30
    counted = views_total(run) - before
    while counted != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        counted = views_total(run) - before
    hits_pages, hits_api = ratio(readers.pages), ratio(readers.api)
    everything = {key: readers.pages[key] + readers.api[key] for key in readers.pages}
    hits_all = ratio(everything)
    hits_steady = readers.steady()

    stale = edit_through_the_edge(run, stories[0])
    oks = [hits_steady >= HIT_TARGET, counted == expected, not readers.errors, stale["stale"] == 0]
    summary = (
        f"{requests:,} reader requests over {len(stories):,} stories (Zipf, {API_SHARE:.0%} API) "
        f"in {seconds:.0f} s: edge hits {hits_steady:.1%} once filled (second half; target "
        f"{HIT_TARGET:.0%}), {hits_all:.1%} from empty (pages {hits_pages:.1%}, "
        f"API {hits_api:.1%}), {len(readers.errors)} errors; "
        f"views counted {counted:,} = beacons {readers.beacons['sent']:,} − bots "
        f"{readers.beacons['bot']:,} − repeats {readers.beacons['repeat']:,} "
        f"({'exact' if counted == expected else f'expected {expected:,}'}); after an edit "
        f"{stale['stale']} stale of {stale['polled']} first polls through the edge"
    )
    data = {
        "stories": len(stories),
        "requests": requests,
        "seconds": round(seconds, 1),
        "pages": readers.pages,
        "api": readers.api,
        "hit_ratio_steady": round(hits_steady, 4),
        "hit_ratio_all": round(hits_all, 4),
        "edge_max_age": EDGE_KEEP_SECONDS,
        "clients": CLIENTS,
        "hit_ratio_pages": round(hits_pages, 4),
        "hit_ratio_api": round(hits_api, 4),
        "beacons": readers.beacons,
        "views_expected": expected,
        "views_counted": counted,
        "errors": readers.errors[:20],
        "edit": stale,
    }
    return Result(10, verdict(all(oks)), summary, data)


def edit_through_the_edge(run, story: tuple[int, str]) -> dict:
    """Change the story's title through the API (on the balancer, with the run's token) and
    ask the edge for its page and its API answer once each, at once."""
    pk, path = story
    kept = fetch(run.edge.base, path, headers={"User-Agent": BROWSER})
    word = marker()
    editor = Api(run.lb_base, run.token)
    status, current = editor.call("GET", f"/stories/{pk}")
    if status != 200:
        raise RuntimeError(f"GET /stories/{pk} with the token answered {status}: {current}")
    editor.patch(pk, current["version"], title=word)
    page = fetch(run.edge.base, path, headers={"User-Agent": BROWSER})
    api = fetch(run.edge.base, f"/api/v1/stories/{pk}", headers={"User-Agent": BROWSER})
    polls = {"page": page, "api": api}
    return {
        "story": pk,
        "kept_before": kept.headers.get("x-edge", ""),
        "polled": len(polls),
        "stale": sum(word not in answer.text for answer in polls.values()),
        "answers": {
            name: {"status": answer.status, "edge": answer.headers.get("x-edge", "")}
            for name, answer in polls.items()
        },
    }


# --- 11. One story read by everyone at once ---------------------------------------------------

HOT_SECONDS = 10
HOT_RATE = 2_000  # beacons a second
HOT_CONNECTIONS = 64
# One counted view written straight to the stories' table, measured before the view buffer
# (EXPLAIN (ANALYZE, WAL) of the old UPDATE, the figure): 1,473 bytes of WAL.
WAL_PER_VIEW_BEFORE = 1_473

BEACON_LUA = """
wrk.method = "POST"
wrk.path = "/views/{pk}/"
wrk.headers["Host"] = "{host}"
wrk.headers["Sec-Fetch-Site"] = "same-origin"
wrk.headers["User-Agent"] = "{agent}"
"""


def wal_lsn(run) -> str:
    with psycopg.connect(run.pg.url()) as conn:
        return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]


def wal_since(run, lsn: str) -> int:
    with psycopg.connect(run.pg.url()) as conn:
        return int(
            conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [lsn]).fetchone()[0]
        )


# Where a beacon's CPU goes: the processes of the machine, grouped by what they are.
APP_CPU = "app hosts (gunicorn)"
CPU_GROUPS = [
    (APP_CPU, re.compile(r"gunicorn")),
    ("edge (Varnish)", re.compile(r"^(varnishd|cache-main)")),
    ("balancer (HAProxy)", re.compile(r"^haproxy")),
    ("Redis", re.compile(r"^redis-server")),
    ("PostgreSQL, PgBouncer", re.compile(r"^(postgres|pgbouncer)")),
]
WRK_CPU = "load (wrk)"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks() -> dict[str, int]:
    """CPU time (user + system, in clock ticks) of every process now, by CPU_GROUPS, and the
    machine's busy time: what no process was charged (interrupts, the bridge's packets) is
    the difference."""
    ticks = dict.fromkeys([name for name, _ in CPU_GROUPS], 0)
    ticks["other processes"] = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry.name}/comm") as comm:
                name = comm.read().strip()
        except OSError:  # gone meanwhile
            continue
        used = int(fields[11]) + int(fields[12])  # utime, stime
        group = next(
            (
                label
                for label, pattern in CPU_GROUPS
                if pattern.search(command) or pattern.match(name)
            ),
            "other processes",
        )
        ticks[group] += used
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:9]
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields)
    ticks["machine"] = user + nice + system + irq + softirq + steal
    return ticks


def cpu_per_request(before: dict[str, int], after: dict[str, int], requests: int) -> dict:
    """CPU ms per request by group over a load, with the machine's busy share."""
    used = {name: after[name] - before[name] for name in before}
    machine = used.pop("machine")
    used["kernel and unattributed"] = machine - sum(used.values())
    per = {name: round(ticks * 1000 / TICKS / max(requests, 1), 3) for name, ticks in used.items()}
    per["all"] = round(machine * 1000 / TICKS / max(requests, 1), 3)
    return per


def wrk_beacons(run, pk: int, seconds: int) -> dict:
    """wrk (Debian's) sending the story's beacon as fast as it can through the edge, each
    request a new reader's (no cookie): what it sent, per second, and what failed."""
    script = run.root / "beacon.lua"
    script.write_text(BEACON_LUA.format(pk=pk, host=PUBLIC_HOST, agent=BROWSER))
    command = [
        "wrk",
        "-t2",
        f"-c{HOT_CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
    ]
    before, children = cpu_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        [*command, f"http://{run.edge.base}/"],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    after, waited = cpu_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN)
    # wrk has exited by now: its CPU is its rusage as our child, not in /proc.
    wrk_seconds = (waited.ru_utime + waited.ru_stime) - (children.ru_utime + children.ru_stime)
    before[WRK_CPU], after[WRK_CPU] = 0, round(wrk_seconds * TICKS)
    requests = int(re.search(r"(\d+) requests in", output)[1])
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests": requests,
        "per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "non_2xx": int(failed[1]) if failed else 0,
        "socket_errors": socket_errors[1].strip() if socket_errors else "",
        "p99": (re.search(r"99%\s+(\S+)", output) or [None, ""])[1],
        "cpu_ms_per_beacon": cpu_per_request(before, after, requests),
        "output": output[-1500:],
    }


def s11_hot_story(run) -> Result:
    pk, _ = corpus(run)[0]
    before_views, lsn = views_total(run), wal_lsn(run)
    sent = wrk_beacons(run, pk, HOT_SECONDS)
    expected = sent["requests"] - sent["non_2xx"]
    deadline = time.monotonic() + 30
    counted = views_total(run) - before_views
    while counted < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        counted = views_total(run) - before_views
    wal = wal_since(run, lsn)
    per_thousand = wal * 1000 / counted if counted else float("inf")
    before = WAL_PER_VIEW_BEFORE * 1000
    errors = sent["non_2xx"] + (1 if sent["socket_errors"] else 0)
    cpu = sent["cpu_ms_per_beacon"]
    oks = [
        sent["per_second"] >= HOT_RATE,
        errors == 0,
        expected <= counted <= expected + HOT_CONNECTIONS,
        per_thousand * 10 <= before,
    ]
    summary = (
        f"{sent['requests']:,} beacons of one story in {HOT_SECONDS} s through the edge "
        f"({sent['per_second']:,.0f}/s, target {HOT_RATE:,}/s; p99 {sent['p99']}), "
        f"{sent['non_2xx']} refused{', socket errors ' + sent['socket_errors'] if sent['socket_errors'] else ''}; "
        f"{counted:,} views counted for {expected:,} answered beacons (wrk stops with up to "
        f"{HOT_CONNECTIONS} unanswered, which the site may have counted); "
        f"CPU per beacon {cpu['all']:.2f} ms of the machine's (app hosts {cpu[APP_CPU]:.2f}, "
        f"edge {cpu['edge (Varnish)']:.2f}, balancer {cpu['balancer (HAProxy)']:.2f}, "
        f"Redis {cpu['Redis']:.2f}, wrk {cpu[WRK_CPU]:.2f}, kernel and other "
        f"{cpu['kernel and unattributed'] + cpu['other processes']:.2f}); "
        f"WAL {per_thousand / 1024:,.1f} KiB per 1,000 views on the primary, "
        f"{before / max(per_thousand, 1):,.0f}× less than written one by one "
        f"({before / 1024:,.0f} KiB; target 10×)"
    )
    data = {
        "story": pk,
        "wrk": sent,
        "views_counted": counted,
        "views_expected": expected,
        "wal_bytes": wal,
        "wal_per_1000_views": round(per_thousand),
        "wal_per_1000_views_before": before,
    }
    return Result(11, verdict(all(oks)), summary, data)
