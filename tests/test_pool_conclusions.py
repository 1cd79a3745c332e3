"""bench/pool/conclusions.py: the benchmark states only what holds in every round, and gives
every round's value beside the median."""

import pytest

from bench.pool import conclusions
from bench.pool.report import _table, _verdict

HEAD = {"auth": "scram-sha-256", "workers": "gthread", "endpoint": "story"}


def row(strategy, concurrency, rps, cpu, **extra):
    """A matrix row as bench.pool.metrics.combine_runs makes it (only what is read here)."""
    return {
        **HEAD,
        "strategy": strategy,
        "concurrency": concurrency,
        "processes": 2,
        "threads": 4,
        "rps": sorted(rps)[len(rps) // 2],
        "rps_each_round": rps,
        "cpu_each_round": cpu,
        "app_cpu_ms_per_request": sorted(cpu)[len(cpu) // 2] / 2,
        "db_cpu_ms_per_request": sorted(cpu)[len(cpu) // 2] / 2,
        "server_connections_max": 8,
        "server_connections_mean": 8.0,
        "busy_server_connections_max": 5,
        "busy_server_connections_mean": 2.5,
        **extra,
    }


# The rounds of issue 17's re-run: pool vs connect 1.8×, 2.9×, 6.2× at 8 clients.
ROWS = [
    row("connect", 8, [100.0, 100.0, 100.0], [33.0, 30.0, 36.0]),
    row("pool", 8, [180.0, 290.0, 620.0], [5.0, 5.0, 6.0]),
    row("persistent", 8, [200.0, 250.0, 700.0], [5.5, 4.5, 6.5]),
    row("bare", 8, [2000.0, 2500.0, 3000.0], [0.5, 0.4, 0.45], endpoint="bare"),
]


def test_a_ratio_is_taken_round_by_round_not_from_medians():
    assert conclusions.round_ratios([180, 290, 620], [100, 100, 100]) == [1.8, 2.9, 6.2]


def test_a_round_with_nothing_to_divide_by_is_left_out():
    assert conclusions.round_ratios([50, 60], [0, 20]) == [3.0]


def test_rounds_that_do_not_pair_up_are_refused():
    with pytest.raises(ValueError, match="same number of rounds"):
        conclusions.round_ratios([1, 2, 3], [1, 2])


def test_faster_in_every_round_is_stated_with_the_range_of_rounds_not_the_median():
    sentence = conclusions.ordering("pool", "connect", [1.8, 2.9, 6.2], more="faster",
                                    less="slower")  # fmt: skip

    assert sentence == "pool faster than connect in every round (1.8×–6.2×)."


def test_slower_in_every_round_is_stated_as_the_inverse_ratio():
    sentence = conclusions.ordering("PgBouncer", "pool", [0.25, 0.5], more="faster",
                                    less="slower")  # fmt: skip

    assert sentence == "PgBouncer slower than pool in every round (2.0×–4.0×)."


def test_rounds_that_disagree_yield_no_order():
    sentence = conclusions.ordering("pool", "persistent", [1.1, 0.9, 1.3], more="faster",
                                    less="slower")  # fmt: skip

    assert "no order beyond 1.1× holds in every round" in sentence
    assert "faster than" not in sentence
    assert "1.10, 0.90, 1.30" in sentence


def test_a_round_within_ten_percent_orders_nothing():
    sentence = conclusions.ordering("a", "b", [1.5, 1.04, 2.0], more="faster", less="slower")

    assert (
        sentence == "a vs b: no order beyond 1.1× holds in every round (ratios 1.50, 1.04, 2.00)."
    )


def test_one_round_says_so():
    assert "(2.0×, one round)" in conclusions.ordering("a", "b", [2.0], more="m", less="l")


def test_statements_compare_against_connect_on_requests_and_on_cpu():
    said = conclusions.statements(ROWS)

    assert "8 clients: pool faster than connect in every round (1.8×–6.2×)." in said
    # CPU: connect spends 33/5, 30/5, 36/6 = 6.6×, 6.0×, 6.0× the pool's.
    assert (
        "8 clients: connect spends more CPU per request than pool in every round (6.0×–6.6×)."
        in said
    )
    # pool vs persistent: 0.9, 1.16, 0.89 — no order.
    assert any(s.startswith("8 clients: pool vs persistent: no order beyond") for s in said)
    # The bare view is the machine, not a strategy.
    assert not any("bare" in s for s in said)


def test_the_8_client_target_is_judged_on_cpu_and_reports_requests_per_second():
    targets = conclusions.targets(ROWS)
    by_kind = {("CPU" in t["target"]): t for t in targets}

    rps, cpu = by_kind[False], by_kind[True]
    assert rps["measured"] == "rounds 1.8x, 2.9x, 6.2x (min 1.8x)"
    assert rps["met"] is False
    assert rps["judged"] is False
    assert _verdict(rps).startswith("reported, not judged")
    assert cpu["measured"] == "rounds 6.6x, 6.0x, 6.0x (min 6.0x)"
    assert cpu["met"] is True
    assert cpu["judged"] is True


def test_at_32_clients_both_targets_are_judged_on_the_worst_round():
    rows = [
        row("connect", 32, [100.0, 100.0], [30.0, 30.0]),
        row("pool", 32, [700.0, 490.0], [5.0, 5.0]),
    ]

    targets = conclusions.targets(rows)

    assert [t["judged"] for t in targets] == [True, True]
    assert [t["met"] for t in targets] == [False, True]  # 4.9x in one round misses 5x


def test_the_machine_table_gives_the_bare_view_every_round():
    blocks = conclusions.tables(ROWS, _table)

    assert "| 8 | 2500 (2000–3000) | 2000, 2500, 3000 |" in blocks["machine"]
    assert "0.450 (0.400–0.500)" in blocks["machine"]


def test_the_robust_table_gives_every_round_its_ratio_and_the_share_of_the_ceiling():
    blocks = conclusions.tables(ROWS, _table)
    pool = next(line for line in blocks["robust"].splitlines() if line.startswith("| pool |"))

    assert "290 (180–620)" in pool
    assert "180, 290, 620" in pool
    assert "1.8, 2.9, 6.2" in pool  # × connect, each round
    assert "12 %" in pool  # 290 of the bare view's 2500
    assert "6.6, 6.0, 6.0" in pool  # connect's CPU × the pool's, each round
    assert "5 / 2.5" in pool  # busy server connections


def test_a_smoke_run_says_so_in_every_block():
    blocks = conclusions.tables(ROWS, _table, smoke=True)

    assert set(blocks) == {"robust", "machine", "conclusions"}
    assert all(body.startswith("*Smoke run") for body in blocks.values())
    assert not any(b.startswith("*Smoke") for b in conclusions.tables(ROWS, _table).values())


def test_a_run_without_cpu_per_round_yields_request_conclusions_only():
    rows = [{key: value for key, value in r.items() if key != "cpu_each_round"} for r in ROWS[:2]]

    assert conclusions.statements(rows) == [
        "8 clients: pool faster than connect in every round (1.8×–6.2×)."
    ]
