"""The scenarios (1 to 3 here, 4 to 9 in resilience.py, 10 and 11 in edge.py, 12 in replicas.py, 13 in viewloss.py). Each returns a Result whose line says PASS or FAIL with the number it
measured; nothing here decides an outcome except the measurement.

They run in an order that needs few host restarts (3 and 8 restart the hosts with other
settings); `--only` keeps that order.
"""

import html
import json
import pickle
import re
import threading
import time
import traceback

from bench.cluster.clients import Api, Editor, story_path
from bench.cluster.edge import s10_edge, s11_hot_story
from bench.cluster.load import Answer, Client, Load, fetch, summary
from bench.cluster.outcome import ALL, DEMO_ADMIN, Result, marker, reader_paths, verdict
from bench.cluster.replicas import s12_replica
from bench.cluster.resilience import (
    s4_media,
    s5_redis_down,
    s6_kill,
    s7_migrate,
    s8_throughput,
    s9_shared_answers,
)
from bench.cluster.viewloss import s13_redis_killed

ORDER = [1, 10, 11, 13, 2, 4, 7, 5, 6, 3, 8, 9, 12]
READ_LIMIT = 300  # API_THROTTLE_READ's default, which the hosts keep (300/min)
# Django's RedisCache key of articles.versions.KEY
VERSION_KEY = ":1:content:version"
# Seconds from the run's start after which no scenario starts.
BUDGET = 12 * 60


def run_all(run, only: list[int]) -> dict[int, dict]:
    run.reader_paths = reader_paths(run)
    results = {}
    for number in [n for n in ORDER if n in only]:
        run.say(f"scenario {number}: {ALL[number]}")
        started = time.monotonic()
        if started - run.started > BUDGET:
            result = Result(number, "ERROR", f"not run: the run's {BUDGET // 60} minutes are up")
            print(result.line, flush=True)
            results[number] = result.as_dict()
            continue
        try:
            result = SCENARIOS[number](run)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # reported as such; the other scenarios still run
            result = Result(
                number,
                "ERROR",
                f"{type(exc).__name__}: {exc}",
                {"traceback": traceback.format_exc()},
            )
            traceback.print_exc()
        result.data["seconds"] = round(time.monotonic() - started, 1)
        print(result.line, flush=True)
        results[number] = result.as_dict()
    return results


# --- 1. Stale answers after a write ---------------------------------------------------------


def s1_stale(run) -> Result:
    writer, others = run.hosts[0], run.hosts[1:]
    api = Api(writer.base, run.token)
    stable, current = marker(), marker()
    story = api.create(f"Cluster {current}", excerpt=f"{stable} excerpt", body=f"{stable} body")
    sid = story["id"]
    page = story_path(story)
    if page == f"/stories/{sid}/":
        page = f"/stories/{sid}/{story['slug']}/"
    link = f"/stories/{sid}/"
    urls = {
        "story page": page,
        "home": "/",
        "kind list": "/feed/",
        "search": f"/search/?q={stable}",
        "atom feed": "/feeds/atom/",
        "sitemap": "/sitemap.xml",
        "API detail": f"/api/v1/stories/{sid}",
        "API list": "/api/v1/stories",
    }

    def fresh(label: str, answer, visible: bool, word: str) -> bool:
        text = answer.text
        if label in ("story page", "API detail"):
            if not visible:
                return answer.status == 404
            return answer.status == 200 and word in text
        if answer.status != 200:
            return False
        if label == "API list":
            items = {item["id"]: item["title"] for item in json.loads(answer.body)["items"]}
            return (sid in items and word in items[sid]) if visible else sid not in items
        if label == "sitemap":
            return (link in text) == visible
        return (link in text and word in text) if visible else link not in text

    steps = []

    def read(host, label: str, path: str) -> Answer:
        """The host's answer; for the sitemap, its index and then each stories' file it names,
        as one answer (a crawler reads them all)."""
        answer = fetch(host.base, path)
        if label != "sitemap" or answer.status != 200:
            return answer
        files = re.findall(r"<loc>[a-z]+://[^/<]+(/sitemap-stories\.xml[^<]*)</loc>", answer.text)
        parts = [fetch(host.base, html.unescape(file)) for file in files]
        failed = [part for part in parts if part.status != 200]
        return failed[0] if failed else Answer(200, b"".join(part.body for part in parts))

    def step(name: str, write, visible: bool, word: str) -> None:
        for host in others:  # each host has the page it will be asked for in its cache
            for label, path in urls.items():
                read(host, label, path)
        write()
        checks = []
        for host in others:  # the first answer of each, no retry
            for label, path in urls.items():
                answer = read(host, label, path)
                checks.append(
                    {
                        "host": host.name,
                        "url": label,
                        "status": answer.status,
                        "fresh": fresh(label, answer, visible, word),
                    }
                )
        steps.append({"step": name, "checks": checks})

    latest = {}  # the story as the last write answered it (its version for If-Match)
    step("API publish", lambda: latest.update(api.publish(sid)), True, current)
    edited = marker()
    step(
        "API edit",
        lambda: api.patch(sid, latest["version"], title=f"Cluster {edited}"),
        True,
        edited,
    )
    editor = Editor(writer.base)
    editor.login(*DEMO_ADMIN)
    admin_edited = marker()

    def admin_edit():
        answer = editor.change(
            f"/admin/articles/article/{sid}/change/", {"title": f"Cluster {admin_edited}"}
        )
        if answer.status != 302:
            raise RuntimeError(f"the admin's change form answered {answer.status}")

    step("admin change form edit", admin_edit, True, admin_edited)

    def admin_unpublish():
        answer = editor.action("/admin/articles/article/", "unpublish_now", [sid])
        if answer.status != 302:
            raise RuntimeError(f"the admin's unpublish action answered {answer.status}")

    step("admin unpublish action", admin_unpublish, False, admin_edited)

    # The same publish on the host whose clock is ahead: its "now" becomes the story's
    # published_at, which the others see as a moment still to come.
    skewed = next((h for h in run.hosts if h.skew), None)
    if skewed is not None:
        ahead = Api(skewed.base, run.token)
        late = ahead.create(f"Cluster {marker()}")
        late_page = f"/stories/{late['id']}/{late['slug']}/"
        ahead.publish(late["id"])
        checks = []
        for host in run.hosts:
            if host is skewed:
                continue
            for label, path in (
                ("story page", late_page),
                ("API detail", f"/api/v1/stories/{late['id']}"),
            ):
                answer = fetch(host.base, path)
                checks.append(
                    {
                        "host": host.name,
                        "url": label,
                        "status": answer.status,
                        "fresh": answer.status == 200,
                    }
                )
        steps.append(
            {"step": f"API publish on {skewed.name} (clock {skewed.skew})", "checks": checks}
        )

    total = sum(len(s["checks"]) for s in steps)
    stale = [
        f"{s['step']}: {c['host']} {c['url']} ({c['status']})"
        for s in steps
        for c in s["checks"]
        if not c["fresh"]
    ]
    per_step = ", ".join(
        f"{s['step']} {sum(not c['fresh'] for c in s['checks'])}/{len(s['checks'])}" for s in steps
    )
    return Result(
        1,
        verdict(not stale),
        f"{len(stale)} stale of {total} first answers from the other hosts (writes on "
        f"{writer.name} unless said; stale/asked): {per_step}",
        {"stale": stale, "steps": steps, "writer": writer.name, "story": sid},
    )


# --- 2. Scheduled stories, one clock ahead --------------------------------------------------


class VersionMonitor:
    """Reads the shared content version record from Redis every 25 ms."""

    def __init__(self, redis):
        self.client = redis.client()
        self.samples: list[tuple[float, float, bytes | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            before = time.time()
            try:
                raw = self.client.get(VERSION_KEY)
            except Exception:
                raw = b"?"
            self.samples.append((before, time.time(), raw))
            self._stop.wait(0.025)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


class Watcher(threading.Thread):
    """Asks one host for each scheduled story's page from its scheduling on: every 0.5 s
    until 1 s before its moment, then every 100 ms, until the first 200 (or 15 s after the
    moment). The coarse early probes keep the load down and still catch a story shown early."""

    EARLY = 1.0
    COARSE = 0.5
    GIVE_UP = 15.0

    def __init__(self, host):
        super().__init__(daemon=True)
        self.host = host
        self.watched: list[dict] = []
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.probes = 0
        self.errors = 0

    def watch(self, story_id: int, path: str, moment: float) -> None:
        item = {"id": story_id, "path": path, "moment": moment, "next": time.time()}
        item.update(first_200=None, answered_200=None, last_miss=None, done=False)
        with self.lock:
            self.watched.append(item)

    def run(self) -> None:
        client = Client(self.host.base, timeout=5)
        while True:
            tick = time.time()
            with self.lock:
                due = [w for w in self.watched if not w["done"] and tick >= w["next"]]
                pending = any(not w["done"] for w in self.watched)
            if self.closed.is_set() and not pending:
                break
            for item in due:
                sent = time.time()
                answer = client.get(item["path"])
                self.probes += 1
                if answer.status == 200:
                    item["first_200"], item["done"] = sent, True
                    item["answered_200"] = time.time()
                    continue
                if answer.status == 404:  # the host does not show the story (yet)
                    item["last_miss"] = sent
                if answer.status == 0 or answer.status >= 500:
                    self.errors += 1
                if sent > item["moment"] + self.GIVE_UP:
                    item["done"] = True
                fine = sent >= item["moment"] - self.EARLY - self.COARSE
                item["next"] = sent + (0.1 if fine else self.COARSE)
            time.sleep(max(0.0, 0.1 - (time.time() - tick)))
        client.close()


def s2_scheduling(run) -> Result:
    count = 30 if run.quick else 100
    spacing, lead = 0.5, 4.0  # one scheduling every 0.5 s, each for 4 s later
    api = Api(run.lb_base, run.token)
    drafts = [api.create(f"Cluster scheduled {n} {marker()}") for n in range(count)]
    watchers = [Watcher(host) for host in run.hosts]
    schedule = []  # (story id, moment, committed at)
    load = Load(
        run.lb_base,
        run.reader_paths,
        clients=4,
        pause=0.05,
        seconds=count * spacing + lead + Watcher.GIVE_UP + 30,
    )
    with load, VersionMonitor(run.redis) as monitor:
        for watcher in watchers:
            watcher.start()
        start = time.time() + 1
        for n, draft in enumerate(drafts):
            time.sleep(max(0.0, start + n * spacing - time.time()))
            moment = time.time() + lead
            api.publish(draft["id"], at=moment)
            committed = time.time()
            schedule.append((draft["id"], moment, committed))
            path = f"/stories/{draft['id']}/{draft['slug']}/"
            for watcher in watchers:
                watcher.watch(draft["id"], path, moment)
        for watcher in watchers:
            watcher.closed.set()
        for watcher in watchers:
            watcher.join(timeout=lead + Watcher.GIVE_UP + 30)
    background = summary(load.records)

    per_host = {}
    late_total = early_total = never_total = 0
    for watcher in watchers:
        delays, early, late, never, stale = [], 0, 0, 0, []
        for item in watcher.watched:
            if item["first_200"] is None:
                never += 1
                continue
            # Early: the host answered 200 before the moment (it must have decided before it).
            # Late: a probe sent more than 1 s after the moment still found no story. (The
            # time from the moment to the first 200 also counts how long this watcher was
            # busy probing other stories under load, so it is reported, not judged.)
            delay = item["first_200"] - item["moment"]
            delays.append(delay)
            if item["last_miss"] is not None and item["last_miss"] > item["moment"]:
                stale.append(item["last_miss"] - item["moment"])

            if item["answered_200"] < item["moment"]:
                early += 1
            elif item["last_miss"] is not None and item["last_miss"] > item["moment"] + 1.0:
                late += 1
        delays.sort()
        per_host[watcher.host.name] = {
            "clock": watcher.host.skew or "real",
            "stories": len(watcher.watched),
            "early": early,
            "late_over_1s": late,
            "longest_miss_after_moment_s": round(max(stale), 2) if stale else 0.0,
            "never_within_15s": never,
            "delay_p50_s": round(delays[len(delays) // 2], 2) if delays else None,
            "delay_max_s": round(delays[-1], 2) if delays else None,
            "delay_min_s": round(delays[0], 2) if delays else None,
            "probes": watcher.probes,
            "probe_errors": watcher.errors,
        }
        late_total, early_total, never_total = (
            late_total + late,
            early_total + early,
            never_total + never,
        )
    records = version_records(monitor.samples, schedule)
    ok = late_total == 0 and early_total == 0 and never_total == 0
    host_text = "; ".join(
        f"{name} ({h['clock']}): early {h['early']}, late {h['late_over_1s']}, "
        f"never {h['never_within_15s']}, last miss ≤ {h['longest_miss_after_moment_s']} s "
        f"after the moment, first 200 ≤ {h['delay_max_s']} s"
        for name, h in per_host.items()
    )
    return Result(
        2,
        verdict(ok),
        f"{count} stories x {len(watchers)} hosts, visible within 1 s of the moment: "
        f"{count * len(watchers) - late_total - early_total - never_total}/{count * len(watchers)}"
        f" [{host_text}]; wrong version records: {records['wrong_records']} of "
        f"{records['records']} seen",
        {
            "per_host": per_host,
            "version_records": records,
            "background_load": background,
            "spacing_s": spacing,
            "lead_s": lead,
        },
    )


def version_records(samples, schedule) -> dict:
    """A record (counter, window start, window end) read at time t is wrong when a scheduling was
    committed before t for a moment still ahead of t, and the record's next transition is later
    than that moment (or none): every host trusting it keeps serving the pages of before the
    moment, past the moment."""
    seen, wrong, skips = set(), set(), []
    wrong_samples = absent = 0
    for before, after, raw in samples:
        if raw is None or raw == b"?":
            absent += 1
            continue
        # (number, since, until) and, since records carry it, the primary's WAL position.
        number, since, upcoming = pickle.loads(raw)[:3]
        version = (number, since)
        seen.add(version)
        pending = [
            moment
            for _, moment, committed in schedule
            if committed <= before and moment > after + 0.05
        ]
        if not pending:
            continue
        due = min(pending)
        if upcoming is None or upcoming > due + 0.01:
            wrong_samples += 1
            wrong.add(version)
            skips.append(None if upcoming is None else upcoming - due)
    known = sorted(s for s in skips if s is not None)
    return {
        "samples": len(samples),
        "absent_samples": absent,
        "records": len(seen),
        "wrong_records": len(wrong),
        "wrong_samples": wrong_samples,
        "wrong_with_no_next": sum(1 for s in skips if s is None),
        "skip_median_s": round(known[len(known) // 2], 2) if known else None,
        "skip_max_s": round(known[-1], 2) if known else None,
    }


# --- 3. The API read limit ------------------------------------------------------------------


def wait_for_window(run, budget: float) -> None:
    """Until a fixed one-minute window has `budget` seconds left on every host's clock (the
    limit counts per window, and a host whose clock is ahead changes window earlier)."""
    offsets = list(run.facts["clock_offsets_s"].values())
    deadline = time.time() + 70
    while time.time() < deadline:
        now = time.time()
        seconds = [(now + offset) % 60 for offset in offsets]
        if all(s >= 0.5 and s + budget <= 59.5 for s in seconds):
            return
        time.sleep(0.2)
    raise RuntimeError("no window found")


def burst(run, source: str, readers: list[str | None], per_reader: int) -> dict:
    """per_reader GETs of the API list for each reader, interleaved, through the balancer,
    from one source address; a reader is an X-Forwarded-For value (None: no header)."""
    wait_for_window(run, budget=25)
    jobs = [reader for _ in range(per_reader) for reader in readers]
    lock = threading.Lock()
    counts: dict[str, dict[str, int]] = {str(r): {} for r in readers}
    served: dict[str, int] = {}
    times = []

    def worker():
        client = Client(run.lb_base, source=source)
        while True:
            with lock:
                if not jobs:
                    break
                reader = jobs.pop(0)
            headers = {"X-Forwarded-For": reader} if reader else {}
            started = time.time()
            answer = client.get("/api/v1/stories", headers)
            with lock:
                times.append((started, time.time()))
                bucket = counts[str(reader)]
                bucket[str(answer.status)] = bucket.get(str(answer.status), 0) + 1
                name = answer.headers.get("x-served-by", "?")
                served[name] = served.get(name, 0) + 1
        client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    first, last = min(t[0] for t in times), max(t[1] for t in times)
    offsets = run.facts["clock_offsets_s"].values()
    one_window = all(int((first + o) // 60) == int((last + o) // 60) for o in offsets)
    wanted = [source, *(r for r in readers if r)]
    counters = {k: v for k, v in throttle_counters(run).items() if any(w in k for w in wanted)}
    return {
        "counters": counters,
        "by_reader": counts,
        "served_by": served,
        "seconds": round(last - first, 2),
        "one_window": one_window,
    }


def throttle_counters(run) -> dict[str, int]:
    """The read limit's counters as the shared cache holds them (Redis, or the database
    cache's table when the hosts run without REDIS_URL)."""
    if "REDIS_URL" in run.hosts[0].env:
        client = run.redis.client()
        return {k.decode(): int(client.get(k) or 0) for k in client.keys("*throttle:read:*")}
    with run.pg.admin("bench") as conn:
        rows = conn.execute(
            "SELECT key, count FROM tokens_throttlecounter WHERE key LIKE %s",
            ["%read%"],
        ).fetchall()
    return dict(rows)


def s3_read_limit(run) -> Result:
    clients = iter(run.net.clients)
    parts, oks = {}, []

    def single(label: str) -> str:
        result = burst(run, next(clients), [None], 2 * READ_LIMIT)
        counts = result["by_reader"]["None"]
        ok = counts.get("200", 0) == READ_LIMIT and counts.get("429", 0) == READ_LIMIT
        ok = ok and result["one_window"]
        parts[label] = result
        oks.append(ok)
        counted = max(result["counters"].values(), default=None)
        return (
            f"{label}: 200={counts.get('200', 0)} 429={counts.get('429', 0)}"
            + ("" if len(counts) <= 2 else f" other={counts}")
            + f" (counter left in the cache: {counted})"
        )

    standard = run.site_env()
    run.ensure_env(standard)
    texts = [single("with Redis")]

    readers = ["198.51.100.7", "198.51.100.8"]
    # A CDN edge (this run) in front of the balancer: two proxies append to X-Forwarded-For.
    edge_env = run.edge_env or {"TRUSTED_PROXY_COUNT": "2"}
    run.ensure_env({**standard, **edge_env})
    result = burst(run, next(clients), readers, READ_LIMIT + 100)
    parts["two readers behind one edge"] = result
    got = {reader: result["by_reader"][reader].get("200", 0) for reader in readers}
    oks.append(all(n == READ_LIMIT for n in got.values()) and result["one_window"])
    edge = " ".join(f"{name}={value}" for name, value in edge_env.items())
    texts.append(
        "two readers behind one edge ("
        + edge
        + "): "
        + ", ".join(f"{reader} 200={n}" for reader, n in got.items())
        + f" (each should get {READ_LIMIT})"
    )

    run.ensure_env(run.site_env(redis=False))
    texts.append(single("without Redis (database cache)"))
    return Result(
        3,
        verdict(all(oks)),
        f"{2 * READ_LIMIT} reads of one client over all hosts, limit {READ_LIMIT}/min — "
        + "; ".join(texts),
        parts,
    )


SCENARIOS = {
    1: s1_stale,
    2: s2_scheduling,
    3: s3_read_limit,
    4: s4_media,
    5: s5_redis_down,
    6: s6_kill,
    7: s7_migrate,
    8: s8_throughput,
    9: s9_shared_answers,
    10: s10_edge,
    11: s11_hot_story,
    12: s12_replica,
    13: s13_redis_killed,
}
