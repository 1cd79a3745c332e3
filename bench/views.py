"""Counted views of one hot story per second, written at once vs buffered in Redis:
`python -m bench.views` (bounded: --seconds per mode, 10 by default).

DATABASE_URL must name a throwaway PostgreSQL database on 127.0.0.1 (migrated here; the bench
counts views of its first story: seed it first with bench/seed.py). --writers processes (16 by
default) each call reader.viewcount.record_view() in a loop for --seconds, each with its own
connection, as 16 gunicorn workers would; the Redis mode runs `flush_views`' loop beside them
(VIEW_FLUSH_SECONDS) and flushes the rest at the end. Each mode then checks the database gained
exactly the views counted. Redis keys go under a prefix of this run's own, deleted afterwards.
Results: bench/out/views.json.
"""

import argparse
import json
import multiprocessing
import os
import statistics
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

OUT = Path(__file__).resolve().parent / "out"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--flush-seconds", type=float, default=5.0)
    args = parser.parse_args()
    for url in (os.environ.get("DATABASE_URL", ""), args.redis):
        if urlparse(url).hostname not in {"127.0.0.1", "localhost"}:
            parser.error(f"127.0.0.1 only: {url!r} (set DATABASE_URL to a throwaway database)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "culture.settings")
    prefix = f"bench-views-{uuid.uuid4().hex[:8]}"
    story = prepare()
    results = {
        "writers": args.writers,
        "seconds": args.seconds,
        "flush_seconds": args.flush_seconds,
        "modes": [
            run_mode("sync", story, args, {}),
            run_mode(
                "redis",
                story,
                args,
                {
                    "REDIS_URL": args.redis,
                    "VIEW_BUFFER": "true",
                    "VIEW_FLUSH_SECONDS": str(args.flush_seconds),
                    "BENCH_KEY_PREFIX": prefix,
                },
            ),
        ],
    }
    clean_redis(args.redis, prefix)
    OUT.mkdir(exist_ok=True)
    (OUT / "views.json").write_text(json.dumps(results, indent=2) + "\n")
    for mode in results["modes"]:
        print(
            f"{mode['mode']:5}  {mode['views_per_second']:8.0f} views/s  "
            f"p50 {mode['p50_ms']:.2f} ms  p99 {mode['p99_ms']:.2f} ms  "
            f"WAL {mode['wal_bytes_per_view']:.0f} B/view (whole cluster)  "
            f"exact: {mode['exact']}"
        )


def setup(env: dict[str, str]):
    os.environ.update(env)
    import django

    django.setup()
    prefix = env.get("BENCH_KEY_PREFIX")
    if prefix:
        from django.conf import settings

        settings.CACHES["default"]["KEY_PREFIX"] = prefix


def prepare() -> int:
    setup({})
    from django.core.management import call_command

    from articles.models import Article

    call_command("migrate", verbosity=0)
    story = Article.objects.order_by("pk").first()
    if story is None:
        raise SystemExit("No story: seed the database first (python -m bench.seed --stories 1000).")
    return story.pk


def run_mode(mode: str, story: int, args, env: dict[str, str]) -> dict:
    context = multiprocessing.get_context("spawn")
    before_total, before_wal = database_state(story)
    stop = context.Event()
    flusher = None
    if mode == "redis":
        flusher = context.Process(target=flush_loop, args=(env, args.flush_seconds, stop))
        flusher.start()
    start_at = time.time() + 3  # after every writer has set Django up
    with context.Pool(args.writers) as pool:
        runs = pool.starmap(write, [(env, story, start_at, args.seconds)] * args.writers)
    if flusher is not None:
        stop.set()
        flusher.join(60)
    after_total, after_wal = database_state(story)
    timed = sum(len(latencies) for latencies in runs)
    views = timed + args.writers  # each writer's first view, before the clock
    latencies = sorted(latency for run in runs for latency in run)
    return {
        "mode": mode,
        "views": views,
        "views_per_second": timed / args.seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "added_to_database": after_total - before_total,
        "exact": after_total - before_total == views,
        "wal_bytes_per_view": (after_wal - before_wal) / views,
    }


def write(env: dict[str, str], story: int, start_at: float, seconds: float) -> list[float]:
    setup(env)
    from reader.viewcount import record_view

    record_view(story)  # connect before the clock starts; not counted below
    time.sleep(max(0.0, start_at - time.time()))
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        began = time.perf_counter()
        record_view(story)
        latencies.append(time.perf_counter() - began)
    return latencies


def flush_loop(env: dict[str, str], period: float, stop) -> None:
    setup(env)
    from articles import viewbuffer

    viewbuffer.run(period, stop=stop.is_set, log=lambda message: None)
    viewbuffer.flush()


def database_state(story: int) -> tuple[int, int]:
    """The story's stored total (the warm-up views of the writers included) and the cluster's
    WAL position in bytes."""
    from django.db import connection

    from articles.models import ViewTotal

    total = ViewTotal.objects.filter(article_id=story).values_list("count", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'")
        (wal,) = cursor.fetchone()
    return (total or 0), int(wal)


def clean_redis(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


if __name__ == "__main__":
    main()
