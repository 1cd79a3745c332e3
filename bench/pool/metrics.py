"""Figures from the outcomes of a load run: counts, medians over rounds, time bins, and what a
leak that exhausts the pool did to the requests around it."""

import statistics


def count_values(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def combine_runs(runs: list[dict]) -> dict:
    """Medians across rounds for rates and latencies; sums for errors; max of maxima."""

    def median(key):
        return round(statistics.median(run[key] for run in runs), 2)

    errors: dict[str, int] = {}
    for run in runs:
        for kind, n in run["errors"].items():
            errors[kind] = errors.get(kind, 0) + n
    names = sorted({name for run in runs for name in run["application_names"]})
    return {
        "rounds": len(runs),
        "rps": median("rps"),
        "rps_each_round": [run["rps"] for run in runs],
        "p50_ms": median("p50_ms"),
        "p99_ms": median("p99_ms"),
        "requests": sum(run["requests"] for run in runs),
        "errors": errors,
        "server_connections_max": max(run["server_connections"]["max"] for run in runs),
        "server_connections_mean": median_of(runs, lambda r: r["server_connections"]["mean"]),
        "new_sessions_per_1k": median("new_sessions_per_1k"),
        "db_cpu_ms_per_request": median("db_cpu_ms_per_request"),
        "app_cpu_ms_per_request": median("app_cpu_ms_per_request"),
        # Every round's value too: a conclusion is stated only if it holds in each of them.
        "app_cpu_each_round": [run["app_cpu_ms_per_request"] for run in runs],
        "db_cpu_each_round": [run["db_cpu_ms_per_request"] for run in runs],
        "cpu_each_round": [
            round(run["app_cpu_ms_per_request"] + run["db_cpu_ms_per_request"], 3) for run in runs
        ],
        "server_connections_mean_each_round": [run["server_connections"]["mean"] for run in runs],
        "busy_server_connections_max": max(
            run.get("busy_server_connections", {}).get("max", 0) for run in runs
        ),
        "busy_server_connections_mean": median_of(
            runs, lambda r: r.get("busy_server_connections", {}).get("mean", 0.0)
        ),
        "application_names": names[:12],
    }


def median_of(runs, key) -> float:
    return round(statistics.median(key(run) for run in runs), 1)


def sample(points: list, limit: int) -> list:
    """At most `limit` points spread over the whole list, keeping every point above 0.5 s
    (the slow ones are what the chart is for)."""
    if len(points) <= limit:
        return points
    slow = [point for point in points if point[1] > 0.5]
    rest = [point for point in points if point[1] <= 0.5]
    step = max(1, len(rest) // max(1, limit - len(slow)))
    return sorted(slow + rest[::step])


def time_bins(outcomes, began: float, width: float) -> list[dict]:
    """Completed requests per bin of `width` seconds, by status."""
    bins: dict[int, dict[str, int]] = {}
    for outcome in outcomes:
        index = int((outcome.end - began) / width)
        bucket = bins.setdefault(index, {})
        bucket[outcome.status] = bucket.get(outcome.status, 0) + 1
    return [{"t": round(i * width, 2), **bins[i]} for i in sorted(bins)]


def exhaustion_metrics(outcomes, leak_start: float, leak_end: float, timeout: float) -> dict:
    during = [o for o in outcomes if leak_start <= o.end <= leak_end]
    refused = [o for o in outcomes if o.status == "503"]
    before = [o for o in outcomes if o.status == "200" and leak_start - 2.0 <= o.end < leak_start]
    baseline = len(before) / 2.0
    recovered_at = None
    width = 0.25
    t = leak_end
    while t < max((o.end for o in outcomes), default=leak_end):
        done = [o for o in outcomes if o.status == "200" and t <= o.end < t + width]
        if len(done) / width >= 0.5 * baseline:
            recovered_at = t
            break
        t += width
    first_ok = min((o.end for o in outcomes if o.status == "200" and o.end >= leak_end),
                   default=None)  # fmt: skip
    # Any answer to a request that was waiting while the leak held the pool: a 200 that
    # waited for the leak to end is as slow for its reader as a late 503.
    waiting = [o for o in outcomes if o.start < leak_end and o.end > leak_start]
    return {
        "during_leak": count_values(o.status for o in during),
        "slowest_answer_seconds": round(max((o.seconds for o in waiting), default=0.0), 3),
        "refused": len(refused),
        "refused_max_seconds": round(max((o.seconds for o in refused), default=0.0), 3),
        "refused_median_seconds": round(
            statistics.median(o.seconds for o in refused) if refused else 0.0, 3
        ),
        "limit_seconds": timeout + 0.5,
        "errors_500": sum(1 for o in outcomes if o.status == "500"),
        "hung": sum(1 for o in outcomes if o.status in {"timeout", "reset"}),
        "baseline_rps": round(baseline, 1),
        "first_success_after_leak_s": round(first_ok - leak_end, 3) if first_ok else None,
        "throughput_recovered_after_s": (
            round(recovered_at - leak_end, 3) if recovered_at is not None else None
        ),
    }
