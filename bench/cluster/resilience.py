"""Scenarios 4 to 9: an upload served by the other hosts, Redis stopped, a host killed, migrate on every host at once, throughput
with 1 to 3 hosts, and answers kept per process or in Redis."""

import hashlib
import random
import re
import subprocess
import sys
import threading
import time

from bench.cluster.clients import Api, Editor, png, story_path
from bench.cluster.load import Load, fetch, summary
from bench.cluster.outcome import DEMO_ADMIN, Result, marker, verdict
from bench.cluster.services import REPO, Nginx
from bench.cluster.topology import namespace_pids

# --- 4. Media -------------------------------------------------------------------------------


def s4_media(run) -> Result:
    """A cover uploaded in h1's admin, then asked of the others two ways: through a front
    proxy (deploy/nginx.conf as shipped, one in front of each of h2 and h3, and the one the
    balancer sends /media/ to), which serves the shared folder itself; and of h2 and h3 with
    no proxy, where the site serves it (MEDIA_SERVE, on by default)."""
    uploader, others = run.hosts[0], run.hosts[1:]
    story = Api(uploader.base, "").call("GET", "/stories?page_size=1")[1]["items"][0]
    editor = Editor(uploader.base)
    editor.login(*DEMO_ADMIN)
    image = png(seed=random.randrange(256))
    answer = editor.change(
        f"/admin/articles/article/{story['id']}/change/",
        {},
        {"cover_image": ("cover.png", image, "image/png")},
    )
    if answer.status != 302:
        raise RuntimeError(f"the admin's change form answered {answer.status}")
    _, detail = Api(others[0].base, "").call("GET", f"/stories/{story['id']}")
    url = (detail or {}).get("cover_image_url") or ""
    media_path = url[url.find("/media/") :] if "/media/" in url else ""
    if not media_path:
        raise RuntimeError(f"no cover_image_url after the upload: {detail}")
    digest = hashlib.sha256(image).hexdigest()
    renditions = "/media/renditions/" + media_path.removeprefix("/media/").rsplit(".", 1)[0]

    def served(base: str, tls: bool = False) -> dict:
        got = fetch(base, media_path, tls=tls)
        same = got.status == 200 and hashlib.sha256(got.body).hexdigest() == digest
        headers = (
            got.headers.get("content-type") == "image/png"
            and got.headers.get("x-content-type-options") == "nosniff"
            and "immutable" in got.headers.get("cache-control", "")
        )
        return {
            "status": got.status,
            "same_bytes": same,
            "headers": headers,
            "ms": round(got.seconds * 1000, 1),
        }

    fronts = []
    try:
        for host in others:
            front = Nginx(run.root / f"nginx-{host.name}", run.media, run.static, host.base)
            front.start()
            run.registry.add(f"nginx-{host.name}", front.process.pid)
            fronts.append((host, front))
        proxied = {"balancer": served(run.lb_base)}
        pages = {}
        for host, front in fronts:
            proxied[f"nginx→{host.name}"] = served(front.base, tls=True)
            page = fetch(front.base, story_path(story), tls=True)
            # The page shows the cover's renditions (made once on the uploading host, kept
            # in the shared folder): linked, and served through this proxy.
            linked = re.findall(rf"{re.escape(renditions)}/\d+\.(?:webp|png)", page.text)
            pages[f"nginx→{host.name}"] = (
                page.status == 200
                and bool(linked)
                and all(fetch(front.base, path, tls=True).status == 200 for path in set(linked))
            )
    finally:
        for _, front in fronts:
            front.stop()

    alone = {host.name: served(host.base) for host in others}
    last_modified = fetch(others[0].base, media_path).headers.get("last-modified", "")
    checks = {
        "HEAD": fetch(others[0].base, media_path, method="HEAD").status,
        "If-Modified-Since": fetch(
            others[0].base, media_path, headers={"If-Modified-Since": last_modified}
        ).status,
    }
    refused = {
        path: fetch(others[0].base, path).status
        for path in (
            "/media/../../etc/passwd",
            "/media/%2e%2e/%2e%2e/etc/passwd",
            "/media/covers/cover.png",
            media_path.rsplit("/", 1)[0] + "/",
        )
    }
    ok = (
        all(r["same_bytes"] and r["headers"] for r in [*proxied.values(), *alone.values()])
        and all(pages.values())
        and checks == {"HEAD": 200, "If-Modified-Since": 304}
        and all(status == 404 for status in refused.values())
    )

    def said(results: dict) -> str:
        return ", ".join(
            f"{name} {r['status']}{' same bytes' if r['same_bytes'] else ''}"
            f"{' + headers' if r['headers'] else ''} in {r['ms']} ms"
            for name, r in results.items()
        )

    return Result(
        4,
        verdict(ok),
        f"cover uploaded in the admin on {uploader.name}; through the front proxy: "
        f"{said(proxied)}; pages through it show its renditions, served: {all(pages.values())}; "
        f"by Django alone (no proxy): {said(alone)}, HEAD {checks['HEAD']}, "
        f"If-Modified-Since {checks['If-Modified-Since']}; "
        f"traversal and other names: {sorted(set(refused.values()))}",
        {
            "media_path": media_path,
            "through_the_proxy": proxied,
            "pages_link_it": pages,
            "django_alone": alone,
            "conditional": checks,
            "refused": refused,
        },
    )


# --- 5. Redis outage ---------------------------------------------------------------------------


def latency(base: str, path: str, n: int) -> float:
    times = sorted(fetch(base, path).seconds for _ in range(n))
    return times[len(times) // 2]


def s5_redis_down(run) -> Result:
    run.ensure_env(run.site_env())
    outage = 10 if run.quick else 30
    # A page-cache hit is told from a render by its time: each host's median time for the
    # cached home page and for a home page no one asked for before (a new query string).
    baseline = {}
    for host in run.hosts:
        hit = latency(host.base, "/", 10)
        miss = sorted(fetch(host.base, f"/?fresh={marker()}").seconds for _ in range(5))[2]
        baseline[host.name] = {
            "hit_ms": round(hit * 1000, 1),
            "miss_ms": round(miss * 1000, 1),
            "threshold_ms": round((hit * miss) ** 0.5 * 1000, 1),
        }
    load = Load(run.lb_base, run.reader_paths, clients=4, pause=0.02, seconds=outage + 90)
    with load:
        time.sleep(3)
        stopped = time.time()
        run.redis.stop()
        time.sleep(min(3, outage / 3))
        ready = {}
        for host in run.hosts:
            answer = fetch(host.base, "/readyz")
            ready[host.name] = f"{answer.status} {answer.text.strip()}"
        time.sleep(max(0.0, stopped + outage - time.time()))
        run.redis.start()
        run.registry.add("redis", run.redis.process.pid)
        restarted = time.time()
        recovered = {}  # every host watched at once, from the same restart

        def watch(host):
            recovered[host.name] = time_to_cached(host.base, baseline[host.name], restarted)

        watchers = [threading.Thread(target=watch, args=(h,), daemon=True) for h in run.hosts]
        for thread in watchers:
            thread.start()
        for thread in watchers:
            thread.join(timeout=40)
        time.sleep(2)
    during = [r for r in load.records if stopped <= r.started < restarted]
    after = [r for r in load.records if r.started >= restarted]
    errors = sum(1 for r in during if r.status == 0 or r.status >= 500)
    errors_after = sum(1 for r in after if r.status == 0 or r.status >= 500)
    cached = {name: r["cached_after_s"] for name, r in recovered.items()}
    return Result(
        5,
        verdict(errors == 0),
        f"Redis down {outage} s under load: {errors} of {len(during)} requests answered 5xx "
        f"or not at all ({errors_after} after the restart); /readyz while down: "
        f"{ready[run.hosts[0].name]}; pages cached again after the restart (s): {cached}",
        {
            "during": summary(during),
            "after": summary(after),
            "readyz_while_down": ready,
            "baseline": baseline,
            "recovery": recovered,
        },
    )


def time_to_cached(base: str, baseline: dict, since: float, seconds: float = 30) -> dict:
    """Seconds from `since` to the first 200 of the home page, and to three answers in a row
    faster than the threshold (served from the page cache)."""
    first_ok, streak = None, 0
    while time.time() - since < seconds:
        answer = fetch(base, "/")
        if answer.status == 200:
            first_ok = first_ok or time.time() - since
            streak = streak + 1 if answer.seconds * 1000 < baseline["threshold_ms"] else 0
            if streak == 3:
                return {
                    "first_200_s": round(first_ok, 2),
                    "cached_after_s": round(time.time() - since, 2),
                }
        else:
            streak = 0
        time.sleep(0.1)
    return {"first_200_s": None if first_ok is None else round(first_ok, 2), "cached_after_s": None}


# --- 6. A host killed -----------------------------------------------------------------------


def s6_kill(run) -> Result:
    run.ensure_env(run.site_env())
    victim = run.hosts[1]
    load = Load(run.lb_base, run.reader_paths, clients=6, pause=0.01, seconds=90)
    with load:
        time.sleep(3)
        in_flight = load.in_flight_now()
        killed = time.time()
        victim.kill_master()
        down_after = orphans_gone = None
        while time.time() - killed < 15 and (down_after is None or orphans_gone is None):
            if down_after is None and run.lb.states().get(victim.name, "").startswith("DOWN"):
                down_after = time.time() - killed
            if orphans_gone is None and not namespace_pids(victim.ns):
                orphans_gone = time.time() - killed
            time.sleep(0.05)
        time.sleep(max(0.0, killed + 5 - time.time()))
        restart = time.time()
        victim.stop()
        victim.start(victim.env)
        run.registry.add(victim.name, victim.process.pid)
        ready_after = victim.wait_ready(90)
        back_after = None
        while time.time() - restart < 60:
            if run.lb.states().get(victim.name) == "UP":
                back_after = time.time() - restart
                break
            time.sleep(0.05)
        time.sleep(1)
    after_kill = [r for r in load.records if r.started + r.seconds >= killed]
    failed = [r for r in after_kill if r.status == 0 or r.status >= 500]
    before = [r for r in load.records if r.started + r.seconds < killed]
    failed_before = sum(1 for r in before if r.status == 0 or r.status >= 500)
    ok = len(failed) <= in_flight and back_after is not None
    return Result(
        6,
        verdict(ok),
        f"kill -9 of {victim.name}'s master under load: {len(failed)} failed of "
        f"{len(after_kill)} requests from the kill on, {in_flight} in flight at the kill; "
        f"marked DOWN after {fmt(down_after)} s; restarted: ready in {ready_after:.1f} s, "
        f"back in rotation {fmt(back_after)} s after the restart",
        {
            "in_flight_at_kill": in_flight,
            "failed": len(failed),
            "failed_statuses": summary(failed)["statuses"],
            "failed_before_kill": failed_before,
            "down_after_s": down_after,
            "orphan_workers_gone_after_s": orphans_gone,
            "ready_after_restart_s": round(ready_after, 2),
            "in_rotation_after_restart_s": back_after,
            "load": summary(load.records),
        },
    )


def fmt(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


# --- 7. Concurrent migrate ------------------------------------------------------------------


def s7_migrate(run) -> Result:
    url = run.pg.create_database(f"race{run.run_id}")
    env = {**run.command_env(), "DATABASE_URL": url}
    runs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=300) for proc in runs]
    codes = [proc.returncode for proc in runs]
    errors = [last_line(err) for (_, err), code in zip(outputs, codes, strict=True) if code]
    check = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check", "-v", "0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(
        7,
        verdict(codes == [0, 0, 0]),
        f"exit codes {codes}"
        + (f"; errors: {'; '.join(errors)}" if errors else "")
        + f"; `migrate --check` afterwards: {check.returncode}",
        {
            "exit_codes": codes,
            "errors": errors,
            "check_exit_code": check.returncode,
            "check_output": last_line(check.stderr or check.stdout),
        },
    )


def last_line(text: str) -> str:
    """The exception of a traceback (its last "...Error: ..." line), else the last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception): ", line)]
    return (errors or lines or [""])[-1][:300]


# --- 8. Throughput --------------------------------------------------------------------------


def s8_throughput(run) -> Result:
    # The read limit would turn the API share into 429s: lifted here, as in bench/pool.
    run.ensure_env(run.site_env(API_THROTTLE_READ="1000000/min"))
    seconds = 6 if run.quick else 15
    paths = [*run.reader_paths, "/api/v1/stories"]
    rows = {}
    try:
        for n in (1, 2, 3):
            wanted = {host.name for host in run.hosts[:n]}
            for host in run.hosts:
                run.lb.set_enabled(host.name, host.name in wanted)
            run.wait_rotation(wanted)
            # Every worker of every host warm, page caches filled, then measured.
            Load(run.lb_base, paths, clients=8, seconds=10).run_for(3)
            load = Load(run.lb_base, paths, clients=8, seconds=seconds + 5).run_for(seconds)
            rows[n] = summary(load.records, seconds)
    finally:
        for host in run.hosts:
            run.lb.set_enabled(host.name, True)
    failed = sum(
        count
        for row in rows.values()
        for status, count in row["statuses"].items()
        if status.startswith(("0", "5"))
    )
    text = "; ".join(
        f"{n} host{'s' if n > 1 else ''}: {row['rps']} req/s, p99 {row['p99_ms']} ms"
        for n, row in rows.items()
    )
    return Result(
        8,
        verdict(failed == 0),
        f"{text}; failed requests: {failed} (8 clients, {seconds} s each)",
        {"by_hosts": rows, "clients": 8, "seconds": seconds},
    )


# --- 9. Kept answers: each host's own, or shared in Redis ---------------------------------------


def s9_shared_answers(run) -> Result:
    """The same reader load through the balancer, from a cold start (a write moves the
    version), with answers kept per process (PAGE_CACHE=local) and shared in Redis
    (PAGE_CACHE=redis): how often an answer was rendered rather than served."""
    seconds = 8 if run.quick else 20
    paths = [*run.reader_paths, "/api/v1/stories", "/api/v1/companies"]
    api = Api(run.lb_base, run.token)
    rows = {}
    for mode in ("local", "redis"):
        run.ensure_env(run.site_env(PAGE_CACHE=mode, API_THROTTLE_READ="1000000/min"))
        story = api.create(f"Cluster answers {marker()}")  # a write: every answer is cold
        api.publish(story["id"])
        load = Load(run.lb_base, paths, clients=6, seconds=seconds + 5).run_for(seconds)
        how = {}
        for record in load.records:
            if record.status == 200:
                how[record.cache or "none"] = how.get(record.cache or "none", 0) + 1
        answered = sum(how.values())
        rendered = how.get("miss", 0) + how.get("off", 0) + how.get("none", 0)
        rows[mode] = {
            "answers": answered,
            "by_x_cache": dict(sorted(how.items())),
            "rendered": rendered,
            "hit_ratio": round(1 - rendered / answered, 3) if answered else None,
            "distinct_paths": len(paths),
            **summary(load.records, seconds),
        }
    ok = all(row["hit_ratio"] is not None for row in rows.values()) and (
        rows["redis"]["rendered"] <= rows["local"]["rendered"]
    )
    text = "; ".join(
        f"PAGE_CACHE={mode}: hit ratio {row['hit_ratio']:.1%}, {row['rendered']} renders "
        f"of {row['answers']} answers ({row['rps']} req/s)"
        for mode, row in rows.items()
    )
    return Result(
        9,
        verdict(ok),
        f"{text}; {len(paths)} addresses, 3 hosts × 2 workers, from a cold start",
        rows,
    )
