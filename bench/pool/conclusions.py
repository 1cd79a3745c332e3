"""What the rounds allow us to say: every round's value, its spread, and only the conclusions
that hold in every round.

A median of three rounds on a busy machine can say 6.3× where the rounds said 1.8×, 2.9× and
6.2×. So the headline is built here from the rounds themselves: "faster in every round
(1.8×–6.2×)", or, when the rounds disagree, a sentence saying no order holds. CPU per request
(application + database) moves much less with the machine's load than requests/s does, so it
is reported beside it, and the bare view's ceiling (bench/pool/bare.py) says how fast the
machine was. Pure functions over results.json's rows; tests/test_pool_conclusions.py.
"""

import statistics

from bench.pool.strategies import BARE, STRATEGIES, short

BASELINE = "connect"
TARGET_RATIO = 5.0
# At 8 clients connect-per-request is bound by latency (each request waits for its own
# connect), not by CPU, so its requests/s ratio swings with the machine's load (1.8×–6.2× in
# three rounds on one machine). The target there is on CPU per request; req/s is reported.
CPU_TARGET_ONLY = frozenset({8})
SMOKE_BANNER = (
    "*Smoke run (`bench/pool/run --quick`: one short round on a machine busy with other "
    "work). It checks the harness; the numbers are not results.*\n\n"
)
# An order is stated only if every round differs by more than this factor: 1.03× in a round is
# the machine, not the strategy.
MARGIN = 1.1
HEADLINE = {"auth": "scram-sha-256", "workers": "gthread", "endpoint": "story"}


def spread(values: list[float]) -> dict:
    """Median, min and max of a round's values (empty: zeros)."""
    if not values:
        return {"median": 0.0, "min": 0.0, "max": 0.0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def round_ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    """numerator / denominator round by round (the rounds are interleaved, so round i of one
    strategy ran next to round i of the other); a round with a zero denominator is left out."""
    if len(numerators) != len(denominators):
        raise ValueError("both strategies need the same number of rounds")
    return [round(n / d, 2) for n, d in zip(numerators, denominators, strict=True) if d]


def ratio_range(ratios: list[float]) -> str:
    if not ratios:
        return "no rounds"
    low, high = min(ratios), max(ratios)
    if len(ratios) == 1:
        return f"{low:.1f}×, one round"
    if f"{low:.1f}" == f"{high:.1f}":
        return f"{low:.1f}× in each"
    return f"{low:.1f}×–{high:.1f}×"


def ordering(first: str, second: str, ratios: list[float], *, more: str, less: str) -> str:
    """A sentence that orders `first` against `second` only if every round agrees.

    `ratios` are first/second per round of a quantity where "more" is the word for > 1; a
    round within MARGIN of 1 orders nothing."""
    if not ratios:
        return f"{first} vs {second}: not measured."
    if all(r > MARGIN for r in ratios):
        return f"{first} {more} than {second} in every round ({ratio_range(ratios)})."
    if all(r * MARGIN < 1 for r in ratios):
        inverse = [round(1 / r, 2) for r in ratios]
        return f"{first} {less} than {second} in every round ({ratio_range(inverse)})."
    return (
        f"{first} vs {second}: no order beyond {MARGIN:g}× holds in every round "
        f"(ratios {', '.join(f'{r:.2f}' for r in ratios)})."
    )


def cell(rows: list[dict], **match) -> dict | None:
    for row in rows:
        if all(row.get(key) == value for key, value in match.items()):
            return row
    return None


def comparison(rows: list[dict], strategy: str, other: str, concurrency: int, **where) -> dict:
    """Round-by-round req/s ratio (strategy / other) and CPU ratio (other / strategy: how many
    times the CPU per request `other` spends), for the headline load unless told otherwise."""
    match = {**HEADLINE, **where, "concurrency": concurrency}
    a, b = cell(rows, strategy=strategy, **match), cell(rows, strategy=other, **match)
    if not a or not b:
        return {"rps": [], "cpu": []}
    return {
        "rps": round_ratios(a["rps_each_round"], b["rps_each_round"]),
        # Runs before CPU was kept per round have no such lists: no CPU conclusion from them.
        "cpu": round_ratios(b.get("cpu_each_round", []), a.get("cpu_each_round", [])),
    }


def statements(rows: list[dict]) -> list[str]:
    """The conclusions the rounds support, for the headline load (story, scram, 2×4 gthread)
    at each concurrency: each strategy against connect-per-request, the pool against
    persistent connections, and the PgBouncer variants against the direct pool."""
    pairs = [(s, BASELINE) for s in STRATEGIES if s != BASELINE]
    pairs += [("pool", "persistent"), ("pgbouncer-persistent", "pool"), ("pool-pgbouncer", "pool")]
    out = []
    for concurrency in sorted({row["concurrency"] for row in rows if row["strategy"] != BARE}):
        for strategy, other in pairs:
            ratios = comparison(rows, strategy, other, concurrency)
            if not ratios["rps"]:
                continue
            first, second = short(strategy), short(other)
            out.append(
                f"{concurrency} clients: "
                + ordering(first, second, ratios["rps"], more="faster", less="slower")
            )
            if not ratios["cpu"]:
                continue
            out.append(
                f"{concurrency} clients: "
                + ordering(
                    second,
                    first,
                    ratios["cpu"],
                    more="spends more CPU per request",
                    less="spends less CPU per request",
                )
            )
    return out


def targets(rows: list[dict]) -> list[dict]:
    """The headline targets, judged on every round: pool ≥ 5× connect-per-request."""
    out = []
    for concurrency in sorted({row["concurrency"] for row in rows if row["strategy"] != BARE}):
        ratios = comparison(rows, "pool", BASELINE, concurrency)
        if not ratios["rps"]:
            continue
        for kind, words in (
            ("rps", "pool >= 5x the requests/s of CONN_MAX_AGE=0"),
            ("cpu", "CONN_MAX_AGE=0 spends >= 5x the CPU per request (app + db) of the pool"),
        ):
            values = ratios[kind]
            if not values:
                continue  # a run without CPU per round judges nothing on CPU
            judged = kind == "cpu" or concurrency not in CPU_TARGET_ONLY
            out.append(
                {
                    "target": f"story page, scram, 2x4 gthread, {concurrency} clients: "
                    f"{words}, in every round",
                    "measured": "rounds "
                    + ", ".join(f"{v:.1f}x" for v in values)
                    + f" (min {min(values):.1f}x)",
                    "met": min(values) >= TARGET_RATIO,
                    "judged": judged,
                    "reported_as": "reported, not judged (the target here is on CPU)",
                }
            )
    return out


def machine(rows: list[dict]) -> list[dict]:
    """The bare view's ceiling at each concurrency: req/s and CPU per request per round."""
    return [
        {
            "concurrency": row["concurrency"],
            "rps_each_round": row["rps_each_round"],
            "rps": spread(row["rps_each_round"]),
            "cpu_each_round": row["cpu_each_round"],
            "cpu": spread(row["cpu_each_round"]),
        }
        for row in sorted(
            (row for row in rows if row["strategy"] == BARE), key=lambda r: r["concurrency"]
        )
    ]


def _each(values: list[float], digits: int) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def _span(values: list[float], digits: int) -> str:
    s = spread(values)
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def tables(rows: list[dict], table, *, smoke: bool = False) -> dict[str, str]:
    """The `robust`, `machine` and `conclusions` blocks of docs/pooling.md; `table` is
    report._table (header, rows) -> Markdown. A smoke run says so in each block: these
    blocks may be copied into the document on their own."""
    banner = SMOKE_BANNER if smoke else ""
    ceiling = {m["concurrency"]: m for m in machine(rows)}
    robust = []
    for concurrency in sorted({row["concurrency"] for row in rows if row["strategy"] != BARE}):
        for strategy in STRATEGIES:
            row = cell(rows, strategy=strategy, concurrency=concurrency, **HEADLINE)
            if not row:
                continue
            ratios = comparison(rows, strategy, BASELINE, concurrency)
            bare = ceiling.get(concurrency)
            share = (
                f"{100 * row['rps'] / bare['rps']['median']:.0f} %"
                if bare and bare["rps"]["median"]
                else "–"
            )
            robust.append(
                [short(strategy), concurrency, _span(row["rps_each_round"], 0),
                 _each(row["rps_each_round"], 0), _each(ratios["rps"], 1), share,
                 _span(row["cpu_each_round"], 2),
                 f"{row['app_cpu_ms_per_request']} + {row['db_cpu_ms_per_request']}",
                 _each(row["cpu_each_round"], 2), _each(ratios["cpu"], 1),
                 f"{row['server_connections_max']} / {row['server_connections_mean']}",
                 f"{row.get('busy_server_connections_max', '–')} / "
                 f"{row.get('busy_server_connections_mean', '–')}"]
            )  # fmt: skip
    said = statements(rows)
    blocks = {
        "robust": table(
            [
                "strategy",
                "clients",
                "req/s median (min–max)",
                "req/s each round",
                "× connect each round",
                "of the machine's ceiling",
                "CPU ms/req median (min–max)",
                "CPU ms/req app + db (medians)",
                "CPU ms/req each round",
                "connect's CPU × this, each round",
                "server conns max / mean",
                "busy server conns max / mean",
            ],
            robust,
        )
        if robust
        else "*(not measured)*\n",
        "machine": table(
            [
                "clients",
                "bare view req/s median (min–max)",
                "req/s each round",
                "CPU ms/req median (min–max)",
                "CPU ms/req each round",
            ],
            [
                [
                    m["concurrency"],
                    _span(m["rps_each_round"], 0),
                    _each(m["rps_each_round"], 0),
                    _span(m["cpu_each_round"], 3),
                    _each(m["cpu_each_round"], 3),
                ]
                for m in ceiling.values()
            ],
        )
        if ceiling
        else "*(not measured)*\n",
        "conclusions": "".join(f"- {line}\n" for line in said) or "*(not measured)*\n",
    }
    return {name: banner + body for name, body in blocks.items()}
