"""Results: the PASS/FAIL lines on the terminal, docs/cluster/results.json, and docs/cluster.md
rendered from bench/cluster/template.md."""

import json
import os
import platform
import subprocess
import time
from string import Template

from bench.cluster import picture
from bench.cluster.services import REPO

RESULTS = REPO / "docs" / "cluster" / "results.json"
DOC = REPO / "docs" / "cluster.md"
TEMPLATE = REPO / "bench" / "cluster" / "template.md"


def print_summary(results: dict) -> None:
    print("\n== results ==")
    for number in sorted(results, key=int):
        print(results[number]["line"])


def write(results: dict, run, elapsed: float) -> None:
    """Merge this run's scenarios into results.json (a run of --only 3 keeps the others'
    last results, each with the run it came from) and render the document."""
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    scenarios = stored.get("scenarios", {})
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    meta = {
        "run_id": run.run_id,
        "finished": stamp,
        "seconds": round(elapsed),
        "quick": run.quick,
        "commit": _commit(),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "clock_offsets_s": run.facts.get("clock_offsets_s"),
        "edge_env": run.edge_env,
    }
    for number, result in results.items():
        scenarios[str(number)] = {**result, "run": meta["run_id"], "finished": stamp}
    # The runs the stored results still come from, newest first.
    used = {result["run"] for result in scenarios.values()}
    runs = [meta, *[r for r in stored.get("runs", []) if r.get("run_id") in used - {run.run_id}]]
    data = {"scenarios": dict(sorted(scenarios.items(), key=lambda kv: int(kv[0]))), "runs": runs}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    DOC.write_text(render(data))
    picture.write()
    print(
        f"wrote {RESULTS.relative_to(REPO)}, {DOC.relative_to(REPO)} and {picture.SVG.relative_to(REPO)}"
    )


def render_stored() -> None:
    DOC.write_text(render(json.loads(RESULTS.read_text())))
    print(f"wrote {DOC.relative_to(REPO)}")


def render(data: dict) -> str:
    rows = ["| # | scenario | result | measured |", "| --- | --- | --- | --- |"]
    for number, result in data["scenarios"].items():
        summary = result["summary"].replace("|", "\\|")
        rows.append(f"| {number} | {result['name']} | **{result['status']}** | {summary} |")
    last = data["runs"][0] if data["runs"] else {}
    return Template(TEMPLATE.read_text()).substitute(
        results_table="\n".join(rows),
        throughput_table=throughput(data["scenarios"].get("8")),
        last_run=(
            f"run `{last.get('run_id')}` of commit `{last.get('commit')}`, finished "
            f"{last.get('finished')}, {last.get('seconds')} s"
            f"{' (--quick)' if last.get('quick') else ''}, {last.get('cores')} cores; clock "
            f"offsets measured in the namespaces: {last.get('clock_offsets_s')}"
        ),
    )


def throughput(result: dict | None) -> str:
    if not result or "by_hosts" not in result.get("data", {}):
        return "(scenario 8 has not run yet)"
    rows = ["| hosts | req/s | p50 ms | p99 ms | answers |", "| --- | --- | --- | --- | --- |"]
    for hosts, row in result["data"]["by_hosts"].items():
        answers = ", ".join(f"{status}: {n}" for status, n in row["statuses"].items())
        rows.append(f"| {hosts} | {row['rps']} | {row['p50_ms']} | {row['p99_ms']} | {answers} |")
    return "\n".join(rows)


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"
