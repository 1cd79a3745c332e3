"""Scenario 13: Redis killed while readers' beacons are being counted.

The hosts buffer views in Redis (VIEW_BUFFER, on with REDIS_URL) and the flusher adds them to
the database at least every VIEW_FLUSH_SECONDS. Readers send beacons of the 100 most read
stories through the edge (each a new reader's) while others read pages through the balancer;
after a while Redis is killed (SIGKILL: what it held is gone), left down, then started again,
empty. Counted: the beacons answered, the views the database gained once the flusher is done,
the difference (the views lost), against the beacons answered in the last flush period before
the kill; and the pages that failed while Redis was down. Without Redis the hosts count each view
in the database at once, so only the views buffered at the kill can be lost."""

import os
import random
import signal
import threading
import time

from bench.cluster.edge import BEACON_HEADERS, corpus, views_total
from bench.cluster.load import BROWSER, Load, fetch
from bench.cluster.outcome import Result, verdict

FLUSH_SECONDS = 5  # VIEW_FLUSH_SECONDS' default, which the hosts keep
CLIENTS = 8


class Beacons:
    def __init__(self, edge: str, stories: list[int]):
        self.edge = edge
        self.stories = stories
        self.lock = threading.Lock()
        self.answers: list[tuple[float, int]] = []  # (time.time() at the answer, status)
        self.stop = threading.Event()

    def run(self, n: int) -> None:
        rng = random.Random(n)
        headers = {**BEACON_HEADERS, "User-Agent": BROWSER}
        while not self.stop.is_set():
            story = rng.choice(self.stories)
            answer = fetch(self.edge, f"/views/{story}/", method="POST", headers=headers)
            with self.lock:
                self.answers.append((time.time(), answer.status))

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.run, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        return threads


def s13_redis_killed(run) -> Result:
    stories = [pk for pk, _ in corpus(run)[:100]]
    up_seconds, down_seconds = (4, 4) if run.quick else (10, 10)
    before = views_total(run)
    beacons = Beacons(run.edge.base, stories)
    pages = Load(run.lb_base, run.reader_paths, clients=2, seconds=3 * up_seconds + down_seconds)
    pages.start()
    threads = beacons.start()
    started = time.time()
    time.sleep(up_seconds)
    killed_at = time.time()
    os.kill(run.redis.process.pid, signal.SIGKILL)
    run.redis.process.wait(timeout=10)
    time.sleep(down_seconds)
    restarted_at = time.time()
    run.redis.start()
    run.registry.add("redis", run.redis.process.pid)
    time.sleep(up_seconds)
    beacons.stop.set()
    for thread in threads:
        thread.join(timeout=40)
    pages.stop()
    ended = time.time()

    answered = sum(status == 204 for _, status in beacons.answers)
    refused = len(beacons.answers) - answered
    deadline = time.monotonic() + 30
    counted = views_total(run) - before
    while counted < answered and time.monotonic() < deadline:
        time.sleep(0.5)
        counted = views_total(run) - before
    rate = sum(
        status == 204 and started <= moment <= killed_at for moment, status in beacons.answers
    ) / max(killed_at - started, 0.001)
    # What Redis can hold at the kill: the views since the flusher last took the buffer, at
    # most one period's. The bound is the beacons answered in the last period before the kill
    # (not the average rate times the period: the first second of the load is slower).
    bound = sum(
        status == 204 and killed_at - FLUSH_SECONDS <= moment <= killed_at
        for moment, status in beacons.answers
    )
    lost = answered - counted
    down = [r for r in pages.records if killed_at <= r.started <= restarted_at]
    pages_failed = sum(r.status != 200 for r in down)
    oks = [0 <= lost <= bound, refused == 0, pages_failed == 0, len(down) > 0]
    summary = (
        f"{answered:,} beacons answered over {ended - started:.0f} s through the edge "
        f"({rate:,.0f}/s before the kill), Redis killed for {down_seconds} s: {counted:,} views "
        f"counted, {lost:,} lost (the last flush period before the kill, {FLUSH_SECONDS} s, "
        f"had {bound:,} beacons), {refused} beacons refused; pages while Redis was down: {pages_failed} failed "
        f"of {len(down)}"
    )
    data = {
        "answered": answered,
        "refused": refused,
        "counted": counted,
        "lost": lost,
        "rate_before_kill": round(rate, 1),
        "flush_period_bound": round(bound),
        "pages_while_down": len(down),
        "pages_failed_while_down": pages_failed,
        "statuses": sorted({status for _, status in beacons.answers}),
    }
    return Result(13, verdict(all(oks)), summary, data)
