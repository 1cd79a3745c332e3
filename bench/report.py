"""The tables bench/pages.py prints and writes into docs/performance.md."""

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
START, END = "<!-- pages:start -->", "<!-- pages:end -->"

# (cached row, miss row, what the row is, the target for the miss, times the bare view)
PAGES = [
    ("story", "story-miss", "story page; miss: a different story each request", 8),
    ("home", "home-miss", "스토리 홈 `/`; miss: a new query string", 12),
    ("list", "list-miss", "kind list `/feed/`; miss: a new query string", 8),
    ("search", "search-miss", "search, a common word; miss: a query not asked before", 12),
    (None, "search-rare-miss", "search, a rare word; miss: a query not asked before", 12),
    ("api-list", "api-list-miss", "API list (20); miss: with a token (uncached)", 8),
    ("api-detail", "api-detail-miss", "API detail; miss: with a token, a different story", 6),
]
# What a miss may grow from 1,000 to 100,000 stories (issue 15).
GROWTH_TARGET = 1.25
RSS_TARGET_MB = 150
FULL_SIZES = {1000, 10_000, 100_000}
# A load average above this when the run starts (other work competing) marks it as noisy.
BUSY_LOAD = 1.0
# Wagtail 8's figures from the issue's own run (not measured by this harness), times a bare
# Django view: (SQLite, PostgreSQL).
WAGTAIL = {
    "story-miss": ("page", 24, 42),
    "api-list-miss": ("API v2 list", 47, 55),
    "api-detail-miss": ("API v2 detail", 24, 38),
}


def ratio(row: dict | None) -> str:
    if row is None:
        return "—"
    low, high = row["ratio_range"]
    spread = "" if low == high else f" ({low:.1f}–{high:.1f})"
    return f"{row['ratio_to_bare']:.1f}{spread}"


def by_database(results: dict) -> dict[str, dict[int, dict]]:
    grouped = {}
    for run in results["runs"]:
        grouped.setdefault(run["database"], {})[run["stories"]] = run
    return grouped


def growth(runs: dict[int, dict], key: str) -> float | None:
    sizes = sorted(runs)
    if len(sizes) < 2:
        return None
    first, last = runs[sizes[0]]["rows"].get(key), runs[sizes[-1]]["rows"].get(key)
    if not first or not last:
        return None
    return last["ratio_to_bare"] / first["ratio_to_bare"]


def page_table(database: str, runs: dict[int, dict]) -> list[str]:
    sizes = sorted(runs)
    postgres = database.startswith("PostgreSQL")
    head = ["row"]
    for size in sizes:
        head += [f"{size:,} cached", f"{size:,} miss"]
    span = f" {sizes[-1]:,} ÷ {sizes[0]:,}" if len(sizes) > 1 else ""
    head += [f"miss growth{span}", "target (miss)", "met", "Wagtail 8 (issue's run)"]
    lines = [f"### {database}", "", "| " + " | ".join(head) + " |",
             "|---|" + "---:|" * (len(head) - 4) + "---:|:---:|---:|"]  # fmt: skip
    for cached, miss, label, target in PAGES:
        cells = [label]
        for size in sizes:
            found = runs[size]["rows"]
            cells += [ratio(found.get(cached)) if cached else "—", f"**{ratio(found.get(miss))}**"]
        grown = growth(runs, miss)
        cells.append("—" if grown is None else f"{grown:.2f}×")
        cells.append(f"≤ {target}×")
        worst = max(runs[size]["rows"][miss]["ratio_to_bare"] for size in sizes)
        met = worst <= target and (grown is None or grown <= GROWTH_TARGET)
        cells.append("yes" if met else "**no**")
        wagtail = WAGTAIL.get(miss)
        cells.append(f"{wagtail[0]} {wagtail[2 if postgres else 1]}×" if wagtail else "—")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def reference_table(results: dict) -> list[str]:
    lines = [
        "| database | stories | bare view, CPU ms | site's 5 KB view, CPU ms | site's view ÷ bare "
        "| miss rows ÷ site's view (story, home, list, search, API list, API detail) "
        "| RSS per worker after walking | errors |",
        "|---|---:|---:|---:|---:|---|---|---:|",
    ]
    for run in results["runs"]:
        rows = run["rows"]
        second = ", ".join(
            f"{rows[key]['ratio_to_site_view']:.1f}"
            for key in ("story-miss", "home-miss", "list-miss", "search-miss", "api-list-miss",
                        "api-detail-miss")
        )  # fmt: skip
        rss = " / ".join(f"{mb:.0f}" for mb in run["rss_mb_per_worker"])
        if run["walked"] >= 10_000:
            within = max(run["rss_mb_per_worker"]) <= RSS_TARGET_MB
            met = f", {run['walked']:,} stories (≤ 150: {'yes' if within else '**no**'})"
        elif run["walked"]:
            met = f", {run['walked']:,} stories"
        else:
            met = ", after the rounds (not walked)"
        errors = sum(row["errors"] for row in rows.values()) + run["walk_errors"]
        lines.append(
            f"| {run['database']} | {run['stories']:,} | {rows['bare']['cpu_ms_per_request']:.3f} "
            f"| {rows['site']['cpu_ms_per_request']:.3f} | {ratio(rows['site'])} | {second} "
            f"| {rss} MB{met} | {errors} |"
        )
    lines.append("")
    return lines


def caveat(results: dict) -> str | None:
    """Why these are not the final numbers, if they are not."""
    reasons = []
    if results["rounds"] < 3:
        reasons.append(f"{results['rounds']} round(s), not 3")
    grouped = by_database(results)
    if len(grouped) < 2 or any(set(runs) != FULL_SIZES for runs in grouped.values()):
        reasons.append("not every database and size")
    # At the end the run's own clients and workers are in the load average; at the start,
    # only what else the machine does.
    if results["load_average_at_start"] > BUSY_LOAD:
        reasons.append(
            f"a busy machine (load average {results['load_average_at_start']:.1f} at the start)"
        )
    if not reasons:
        return None
    return (
        f"**A validation run, not the final numbers:** {'; '.join(reasons)}. The final run is "
        "`python -m bench.pages` on a quiet machine (bench/README.md)."
    )


def tables(results: dict) -> str:
    lines = [
        "Times the bare Django view's server CPU per request (median of the rounds, range in "
        "brackets); **bold**: the miss, what a crawler costs.",
        "",
    ]
    warning = caveat(results)
    if warning:
        lines[:0] = [warning, ""]
    for database, runs in by_database(results).items():
        lines += page_table(database, runs)
    lines += ["### References, memory", ""]
    lines += reference_table(results)
    seeds = [
        f"{run['database']} {run['stories']:,}: {run['seed_seconds']:.0f} s"
        for run in results["runs"]
        if run["seed_seconds"] is not None
    ]
    lines.append(
        f"gunicorn {results['workers']} sync workers, {results['concurrency']} concurrent "
        f"clients, {results['requests']} requests per cached row and {results['miss_requests']} "
        f"per miss row in each of {results['rounds']} interleaved round(s)"
        + (
            f" (each round cut in {results['chunks']} slots, each with a chunk of every row at "
            "every corpus in a random order and a chunk of the bare view after every "
            f"{results['bare_every']}, {results['bare_requests']} requests each)"
            if results.get("chunks")
            else ""
        )
        + f", Python {results['python']}; load average "
        f"{results['load_average_at_start']:.1f} at the start, "
        f"{results['load_average_at_end']:.1f} at the end; {results['minutes']} minutes"
        + (f"; PostgreSQL: {results['postgresql']}" if results.get("postgresql") else "")
        + (f"; seeded in this run: {', '.join(seeds)}" if seeds else "")
        + "."
    )
    return "\n".join(lines)


def write_doc(results: dict, doc: Path = DOC) -> None:
    text = doc.read_text() if doc.exists() else f"# Performance\n\n{START}\n{END}\n"
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    doc.write_text(f"{before}{START}\n{tables(results)}\n{END}{after}")
