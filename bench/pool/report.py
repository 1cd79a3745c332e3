"""From results.json to verdicts on the targets, charts, and the tables of docs/pooling.md."""

import re
from pathlib import Path

from bench.pool import conclusions
from bench.pool.strategies import STRATEGIES

LABELS = {name: label for name, (label, _) in STRATEGIES.items()}
SHORT = {name: short for name, (_, short) in STRATEGIES.items()}


def _cell(results, **match) -> dict | None:
    for row in results["matrix"]:
        if all(row.get(key) == value for key, value in match.items()):
            return row
    return None


def _errors(row) -> int:
    return sum(row["errors"].values())


def finish(results: dict) -> None:
    """Add the targets' verdicts and the headline rows the status page shows."""
    # Judged on every round, not on the median (bench/pool/conclusions.py).
    targets = conclusions.targets(results["matrix"])
    concurrencies = sorted({row["concurrency"] for row in results["matrix"]})
    pools = [row for row in results["matrix"] if row["strategy"] == "pool"]
    worst = max(
        (row["server_connections_max"] - row["processes"] * row["threads"] for row in pools),
        default=0,
    )
    targets.append(
        {
            "target": "server connections never exceed the sum of max_size (pool runs)",
            "measured": "highest: "
            + ", ".join(
                f"{row['workers']} {row['server_connections_max']}/"
                f"{row['processes'] * row['threads']}"
                for row in pools
                if row["endpoint"] == "story" and row["auth"] == "scram-sha-256"
            ),
            "met": worst <= 0,
        }
    )
    steady_errors = sum(_errors(row) for row in results["matrix"])
    targets.append(
        {
            "target": "zero errors in steady state (every strategy, every load)",
            "measured": f"{steady_errors} errors in "
            f"{sum(row['requests'] for row in results['matrix'])} requests",
            "met": steady_errors == 0,
        }
    )
    for leak in results["exhaustion"]:
        if "refused" not in leak:
            continue
        # The site's default configuration is judged; an explicitly unbounded queue is run
        # to show the failure mode the default avoids, and reported without a verdict.
        judged = leak.get("role", "default") == "default"
        name = f"exhaustion ({_queue_label(leak)})"
        targets.append(
            {
                "target": f"{name}: every request that cannot get a connection gets a 503 "
                "within pool timeout + 0.5 s; no 500",
                "measured": f"{leak['refused']} x 503, slowest {leak['refused_max_seconds']:.2f} s "
                f"(limit {leak['limit_seconds']:.1f} s), {leak['errors_500']} x 500, "
                f"{leak['hung']} hung",
                "met": leak["refused"] > 0
                and leak["refused_max_seconds"] <= leak["limit_seconds"]
                and leak["errors_500"] == 0
                and leak["hung"] == 0,
                "judged": judged,
            }
        )
        recovered = leak["throughput_recovered_after_s"]
        targets.append(
            {
                "target": f"{name}: throughput recovers within 1 s of the leak ending",
                "measured": "never" if recovered is None else f"{recovered:.2f} s",
                "met": recovered is not None and recovered <= 1.0,
                "judged": judged,
            }
        )
    idle = [
        row
        for row in results["restart"]
        if not row["under_load"] and row["health_checks"] and row["strategy"] != "connect"
    ]
    targets.append(
        {
            "target": "idle database restart with health checks on: zero failed requests",
            "measured": ", ".join(
                f"{SHORT[row['strategy']]}: {row['failed']} of {row['requests']}"
                f" ({_plural(row.get('restarts', 1), 'restart')},"
                f" slowest {row.get('slowest_seconds', 0):.2f} s)"
                for row in idle
            ),
            "met": all(row["failed"] == 0 for row in idle),
        }
    )
    results["targets"] = targets
    results["conclusions"] = conclusions.statements(results["matrix"])
    results["machine"] = conclusions.machine(results["matrix"])

    headline = []
    for strategy in STRATEGIES:
        row = _cell(results, auth="scram-sha-256", strategy=strategy, workers="gthread",
                    endpoint="story", concurrency=max(concurrencies))  # fmt: skip
        if row:
            headline.append(
                {
                    "label": f"{LABELS[strategy]} · 2x4 gthread · story · "
                    f"{row['concurrency']} clients",
                    "requests_per_second": row["rps"],
                    "p50_ms": row["p50_ms"],
                    "p99_ms": row["p99_ms"],
                    "server_connections_max": row["server_connections_max"],
                    "errors": _errors(row),
                }
            )
    results["headline"] = headline


def _queue_label(leak: dict) -> str:
    waiting = leak["pool"]["max_waiting"]
    if not leak.get("max_waiting_set", True):
        return f"default: max_waiting {waiting}"
    return "max_waiting unbounded, set explicitly" if not waiting else f"max_waiting {waiting}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _verdict(target: dict) -> str:
    if target.get("judged", True):
        return "yes" if target["met"] else "**no**"
    # Not a target: the run shows what the default avoids. Say how it fared all the same.
    reported = target.get("reported_as", "illustration, not judged")
    return f"{reported}: " + ("met" if target["met"] else "missed")


# --- charts ------------------------------------------------------------------------------


def charts(results: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "font.size": 9})
    _throughput_chart(plt, results, out / "throughput.png")
    _connections_chart(plt, results, out / "connections.png")
    _exhaustion_chart(plt, results, out / "exhaustion.png")
    _restart_chart(plt, results, out / "restart.png")


def _dense(timeline: list[dict], width: float = 0.25) -> tuple[list[float], list[dict]]:
    """The timeline's bins with the empty ones put back (as zeros): a line drawn over the
    sparse bins alone would ramp across a stretch in which nothing was answered."""
    by_index = {round(b["t"] / width): b for b in timeline}
    last = max(by_index, default=-1)
    bins = [by_index.get(i, {}) for i in range(last + 1)]
    return [round(i * width, 2) for i in range(last + 1)], bins


def _throughput_chart(plt, results, path):
    strategies = list(LABELS)
    series = [
        (workers, endpoint, concurrency)
        for endpoint in ("story", "api")
        for workers in ("sync", "gthread")
        for concurrency in sorted({row["concurrency"] for row in results["matrix"]})
        if _cell(results, workers=workers, endpoint=endpoint, concurrency=concurrency)
    ]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    width = 0.8 / max(len(series), 1)
    for index, (workers, endpoint, concurrency) in enumerate(series):
        values, low, high = [], [], []
        for strategy in strategies:
            row = _cell(results, auth="scram-sha-256", strategy=strategy, workers=workers,
                        endpoint=endpoint, concurrency=concurrency)  # fmt: skip
            rps = row["rps"] if row else 0
            values.append(rps)
            low.append(rps - min(row["rps_each_round"]) if row else 0)
            high.append(max(row["rps_each_round"]) - rps if row else 0)
        positions = [s + (index - (len(series) - 1) / 2) * width for s in range(len(strategies))]
        ax.bar(positions, values, width, yerr=[low, high], capsize=2,
               label=f"{endpoint}, {workers}, {concurrency} clients")  # fmt: skip
    ax.set_xticks(range(len(strategies)), [SHORT[s] for s in strategies], fontsize=8)
    ax.set_ylabel("requests/s (median of rounds; bars: min–max)")
    ax.set_title("Throughput by connection strategy (scram-sha-256)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _connections_chart(plt, results, path):
    fig, ax = plt.subplots(figsize=(11, 4))
    labels, maxima, means, limits = [], [], [], []
    concurrency = max(row["concurrency"] for row in results["matrix"])
    for workers in ("sync", "gthread"):
        for strategy in LABELS:
            row = _cell(results, auth="scram-sha-256", strategy=strategy, workers=workers,
                        endpoint="story", concurrency=concurrency)  # fmt: skip
            if not row:
                continue
            # Twelve bars: the two-word names break over two lines.
            name = SHORT[strategy].replace(" + ", " +\n").replace(" → ", " →\n")
            labels.append(f"{name}\n{workers}")
            maxima.append(row["server_connections_max"])
            means.append(row["server_connections_mean"])
            limits.append(row["processes"] * row["threads"])
    positions = range(len(labels))
    ax.bar([p - 0.2 for p in positions], maxima, 0.4, label="max")
    ax.bar([p + 0.2 for p in positions], means, 0.4, label="mean")
    ax.scatter(list(positions), limits, marker="_", s=400, color="black",
               label="request threads = Σ max_size")  # fmt: skip
    ax.set_xticks(list(positions), labels, fontsize=8)
    ax.set_ylabel("server connections")
    ax.set_title(f"Server connections held (pg_stat_activity, story page, {concurrency} clients)")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _exhaustion_chart(plt, results, path):
    leaks = results["exhaustion"]
    fig, axes = plt.subplots(2, len(leaks), figsize=(9, 5), sharex=True, sharey="row",
                             squeeze=False)  # fmt: skip
    for column, leak in enumerate(leaks):
        top, bottom = axes[0][column], axes[1][column]
        if "timeline" in leak:
            times, bins = _dense(leak["timeline"])
            for status, color in (("200", "tab:green"), ("503", "tab:orange"),
                                  ("500", "tab:red")):  # fmt: skip
                top.plot(times, [b.get(status, 0) * 4 for b in bins], color=color,
                         label=f"{status}/s")  # fmt: skip
            for axis in (top, bottom):
                axis.axvspan(*leak["leak_window"], color="grey", alpha=0.2)
            bottom.scatter([p[0] for p in leak["slow_503"]], [p[1] for p in leak["slow_503"]],
                           s=6, color="tab:orange", label="503: seconds to answer")  # fmt: skip
            bottom.axhline(leak["limit_seconds"], color="black", linestyle="--", linewidth=0.8,
                           label="pool timeout + 0.5 s")  # fmt: skip
        top.set_title(_queue_label(leak), fontsize=9)
        bottom.set_xlabel("seconds since start")
        for axis in (top, bottom):
            axis.grid(alpha=0.3)
        top.legend(fontsize=7)
        bottom.legend(fontsize=7)
    axes[0][0].set_ylabel("responses/s")
    axes[1][0].set_ylabel("seconds")
    fig.suptitle("A leak holds all 4 pooled connections (grey): 503s, then recovery")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _restart_chart(plt, results, path):
    rows = [row for row in results["restart"] if row["under_load"]]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for row in rows:
        label = f"{SHORT[row['strategy']]}" + (
            ""
            if row["strategy"] == "connect"
            else f", health checks {'on' if row['health_checks'] else 'off'}"
        )
        times, bins = _dense(row["timeline"])
        ax.plot(times, [b.get("200", 0) * 4 for b in bins], label=label, linewidth=1)
    if rows:
        ax.axvspan(*rows[0]["restart_window"], color="grey", alpha=0.2)
    ax.set_xlabel("seconds since start (grey: pg_ctl restart -m fast, first run)")
    ax.set_ylabel("200 responses/s")
    ax.set_title("PostgreSQL restarted under load")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# --- docs/pooling.md ---------------------------------------------------------------------

_BLOCK = re.compile(r"(<!-- results:(?P<name>[a-z-]+) -->\n).*?(<!-- /results -->)", re.S)


def update_doc(path: Path, results: dict) -> None:
    """Replace each `<!-- results:NAME -->` … `<!-- /results -->` block with fresh tables."""
    replace_blocks(path, tables_for(results))


def replace_blocks(path: Path, tables: dict[str, str]) -> None:
    """Replace the `<!-- results:NAME -->` blocks named in `tables`; other blocks (another
    benchmark's) stay as they are."""
    text = path.read_text(encoding="utf-8")

    def replace(match):
        body = tables.get(match["name"])
        if body is None:
            return match.group(0)
        return f"{match.group(1)}{body.rstrip()}\n{match.group(3)}"

    path.write_text(_BLOCK.sub(replace, text), encoding="utf-8")


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _errors_text(errors: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "0"


def tables_for(results: dict) -> dict[str, str]:
    meta = results["meta"]
    v = meta["versions"]
    smoke = (
        "**Smoke run (`--quick`, one short round, on a machine busy with other work): these "
        "numbers check the harness, not the strategies; do not cite them.** "
        if meta["mode"] == "quick"
        else ""
    )
    tables = {
        "meta": (
            f"{smoke}Measured {meta['date']} ({meta['mode']} run, {meta['run_seconds']} s): "
            f"PostgreSQL {v['postgresql']}, Django {v['django']}, psycopg {v['psycopg']}, "
            f"psycopg-pool {v['psycopg_pool']}, gunicorn {v['gunicorn']}, {v['pgbouncer']}, "
            f"{v['wrk']}, Python {v['python']}, {v['cores']} cores shared with other work. "
            f"{meta['rounds']} interleaved rounds of {meta['measure_seconds']:g} s per load "
            f"after {meta['warmup_seconds']:g} s of warm-up; {meta['stories']} stories; "
            f"API list: `{meta['api_path'] or 'not available at run time'}`; "
            f"cache: {meta['cache']}.\n"
        ),
        "targets": _table(
            ["target", "measured", "met"],
            [[t["target"], t["measured"], _verdict(t)] for t in results["targets"]],
        ),
        **conclusions.tables(results["matrix"], _table, smoke=meta["mode"] == "quick"),
    }
    header = ["strategy", "workers", "clients", "req/s", "× connect", "p50 ms", "p99 ms",
              "errors", "server conns max / mean", "new sessions /1k req",
              "DB CPU ms/req", "app CPU ms/req"]  # fmt: skip
    for name, auth, endpoint in (
        ("story-scram", "scram-sha-256", "story"),
        ("api-scram", "scram-sha-256", "api"),
        ("story-trust", "trust", "story"),
    ):
        rows = []
        for workers in ("sync", "gthread"):
            for concurrency in sorted({row["concurrency"] for row in results["matrix"]}):
                base = _cell(results, auth=auth, strategy="connect", workers=workers,
                             endpoint=endpoint, concurrency=concurrency)  # fmt: skip
                for strategy in LABELS:
                    row = _cell(results, auth=auth, strategy=strategy, workers=workers,
                                endpoint=endpoint, concurrency=concurrency)  # fmt: skip
                    if not row:
                        continue
                    ratio = f"{row['rps'] / base['rps']:.1f}" if base and base["rps"] else "–"
                    rows.append(
                        [SHORT[strategy], f"{row['processes']}×{row['threads']} {workers}",
                         concurrency, f"{row['rps']:.0f}", ratio, row["p50_ms"], row["p99_ms"],
                         _errors_text(row["errors"]),
                         f"{row['server_connections_max']} / {row['server_connections_mean']}",
                         row["new_sessions_per_1k"], row["db_cpu_ms_per_request"],
                         row["app_cpu_ms_per_request"]]
                    )  # fmt: skip
        tables[name] = _table(header, rows) if rows else "*(not measured)*\n"

    exhaustion_rows = []
    for case in results["exhaustion"]:
        pool = case["pool"]
        exhaustion_rows.append(
            [
                f"max {pool['max_size']}, timeout {pool['timeout']:g} s, {_queue_label(case)}",
                case.get("leaks_holding"),
                _errors_text(case.get("during_leak", {})),
                case.get("refused", "–"),
                f"{case.get('refused_median_seconds', 0):.2f} / {case.get('refused_max_seconds', 0):.2f}",
                case.get("errors_500", "–"),
                case.get("hung", "–"),
                case.get("slowest_answer_seconds", "–"),
                case.get("first_success_after_leak_s", "–"),
                case.get("throughput_recovered_after_s", "–"),
            ]
        )
    tables["exhaustion"] = _table(
        ["pool", "leaked connections", "answers during the leak", "503s",
         "503 seconds median / max", "500s", "hung", "slowest answer, any status (s)",
         "first 200 after leak (s)", "throughput back (s)"],
        exhaustion_rows,
    )  # fmt: skip
    tables["middleware"] = _table(
        ["strategy", "query in a middleware", "/healthz req/s", "p99 ms",
         "new sessions /1k req", "server conns max", "errors"],
        [
            [SHORT[row["strategy"]], "yes" if row["query_every_request"] else "no",
             f"{row['rps']:.0f}", row["p99_ms"], row["new_sessions_per_1k"],
             row["server_connections"]["max"], _errors_text(row["errors"])]
            for row in results["middleware"]
        ],
    )  # fmt: skip
    tables["restart"] = _table(
        ["strategy", "health checks", "when", "restarts", "requests", "failed", "answers",
         "slowest answer (s)", "restart took (s)", "last failure after restart (s)"],
        [
            [SHORT[row["strategy"]],
             "–" if row["strategy"] == "connect" else ("on" if row["health_checks"] else "off"),
             "under load" if row["under_load"] else "idle", row.get("restarts", 1),
             row["requests"], row["failed"], _errors_text(row["statuses"]),
             row.get("slowest_seconds", "–"), row["restart_seconds"],
             row.get("back_after_restart_s", "–")]
            for row in results["restart"]
        ],
    )  # fmt: skip
    tables["preload"] = _table(
        ["fork hooks", "requests in 6 s", "answers", "p50 ms (200s)", "slowest ms",
         "application_name seen", "server conns max", "shutdown (s)"],
        [
            ["yes (gunicorn.conf.py)" if row["fork_hooks"] else "no", row["requests"],
             _errors_text(row["statuses"]), row["p50_ms"], row["max_ms"],
             ", ".join(row["application_names"]) or "–", row["server_connections"]["max"],
             row["shutdown_seconds"]]
            for row in results["preload"]
        ],
    )  # fmt: skip
    return tables
