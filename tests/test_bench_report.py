"""What bench/pages.py reports: ratios to the bare view, growth from the smallest corpus to the
largest, targets met or not, and a run that cannot stand for the final numbers said so."""

import os
import random
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import report
from bench.pages import BARE_EVERY, Resident, marker, parts, rows, schedule
from bench.servers import cpu_seconds


def run(database, stories, miss_ratio, rss=(120.0, 125.0), walked=10_000):
    rows = {}
    for cached, miss, _, _ in report.PAGES:
        if cached:
            rows[cached] = row("hit", 2.0)
        rows[miss] = row("miss", miss_ratio)
    rows["bare"] = row("ref", 1.0)
    rows["site"] = row("ref", 1.5)
    return {
        "database": database,
        "stories": stories,
        "seed_seconds": None,
        "rows": rows,
        "walked": walked,
        "walk_errors": 0,
        "rss_mb_per_worker": list(rss),
    }


def row(sort, ratio):
    return {
        "sort": sort,
        "path": "/",
        "cpu_ms_per_request": 0.3 * ratio,
        "ratio_to_bare": ratio,
        "ratio_range": [ratio * 0.9, ratio * 1.1],
        "ratio_to_site_view": ratio / 1.5,
        "errors": 0,
    }


def results(runs, rounds=3, load=0.2):
    return {
        "workers": 2,
        "concurrency": 4,
        "requests": 1000,
        "miss_requests": 200,
        "rounds": rounds,
        "python": "3.11",
        "load_average_at_start": load,
        "load_average_at_end": 2.5,
        "minutes": 30,
        "runs": runs,
    }


def test_growth_is_the_largest_corpus_ratio_over_the_smallest():
    runs = {1000: run("SQLite", 1000, 4.0), 100_000: run("SQLite", 100_000, 6.0)}
    assert report.growth(runs, "story-miss") == 1.5
    assert report.growth({1000: runs[1000]}, "story-miss") is None


def test_a_miss_that_grows_too_much_fails_its_target_even_under_the_ceiling():
    full = results(
        [run(db, n, 4.0 if n == 1000 else 6.0) for db in ("SQLite", "PostgreSQL") for n in
         (1000, 10_000, 100_000)]
    )  # fmt: skip
    text = report.tables(full)
    assert "1.50×" in text
    assert "| yes |" not in text.split("### References")[0]
    assert "validation run" not in text


def test_a_miss_within_target_and_growth_is_met_and_the_wagtail_reference_is_quoted():
    full = results(
        [run(db, n, 5.0) for db in ("SQLite", "PostgreSQL (native pool)") for n in
         (1000, 10_000, 100_000)]
    )  # fmt: skip
    text = report.tables(full)
    sqlite, postgres = text.split("### PostgreSQL")
    story = next(line for line in sqlite.splitlines() if line.startswith("| story page"))
    assert story.endswith("| 1.00× | ≤ 8× | yes | page 24× |")
    assert "page 42×" in postgres
    assert "(≤ 150: yes)" in text


def test_a_short_or_noisy_run_is_marked_as_validation():
    text = report.tables(results([run("SQLite", 1000, 5.0, walked=1000)], rounds=1, load=4.2))
    assert text.startswith("**A validation run, not the final numbers:** 1 round(s), not 3;")
    assert "not every database and size" in text
    assert "load average 4.2" in text


def test_the_postgresql_server_is_named_in_the_footnote():
    given = results([run("PostgreSQL (native pool)", 1000, 5.0)])
    given["postgresql"] = "the benchmark's own cluster, shared_buffers 6,026 MB"
    assert "; PostgreSQL: the benchmark's own cluster, shared_buffers 6,026 MB" in (
        report.tables(given)
    )


def test_a_corpus_seeded_on_one_postgresql_server_is_not_taken_for_another_servers():
    own = SimpleNamespace(own_cluster=True, pg_server="postgres://postgres@127.0.0.1:41234")
    moved = SimpleNamespace(own_cluster=True, pg_server="postgres://postgres@127.0.0.1:50001")
    shared = SimpleNamespace(own_cluster=False, pg_server="postgres://postgres@127.0.0.1:5432")
    name = "bench_stories_1000"
    # The own cluster's port is new every run; its corpora are still its own.
    assert marker("postgres", name, own) == marker("postgres", name, moved)
    assert marker("postgres", name, own) != marker("postgres", name, shared)
    assert (
        marker("postgres", name, shared).name == "postgres-127.0.0.1-5432-bench_stories_1000.seeded"
    )
    sqlite = marker("sqlite", "/x/stories-1000.sqlite3", shared)
    assert sqlite.name == "sqlite-stories-1000.sqlite3.seeded"


def test_memory_over_the_target_is_flagged():
    text = report.tables(results([run("SQLite", 10_000, 5.0, rss=(140.0, 190.0))]))
    assert "140 / 190 MB, 10,000 stories (≤ 150: **no**)" in text


def test_write_doc_replaces_only_the_marked_section(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text(
        f"# Performance\n\nbefore\n\n{report.START}\nstale table\n{report.END}\n\nafter\n"
    )
    report.write_doc(results([run("SQLite", 1000, 5.0)]), doc)
    text = doc.read_text()
    assert text.startswith("# Performance\n\nbefore\n\n<!-- pages:start -->\n")
    assert "stale table" not in text
    assert text.endswith("<!-- pages:end -->\n\nafter\n")


def test_miss_rows_ask_a_new_address_or_a_new_story_every_time():
    table = rows(1000, "cs_token")
    for key in ("home-miss", "list-miss", "search-miss", "search-rare-miss"):
        paths = table[key]["paths"](50)
        assert len(set(paths)) == 50, key
    stories = table["story-miss"]["paths"](1000)
    assert len(set(stories)) == 1000
    assert table["api-detail-miss"]["headers"]["Authorization"] == "Bearer cs_token"
    assert "Authorization" not in table["api-list"]["headers"]


def test_a_rows_batch_is_split_in_even_chunks_that_add_up_to_it():
    assert parts(200, 4) == [50, 50, 50, 50]
    assert parts(1001, 4) == [251, 250, 250, 250]
    assert parts(3, 4) == [1, 1, 1]
    assert sum(parts(997, 7)) == 997


def test_a_round_sends_a_chunk_of_every_row_at_every_corpus_in_each_slot_with_the_bare_view():
    keys, sizes = ["story-miss", "home", "site"], [1000, 10_000, 100_000]
    order = schedule(keys, sizes, 4, random.Random(1))
    chunks = [item for item in order if item is not None]
    assert sorted(chunks) == sorted(
        (key, size, chunk) for key in keys for size in sizes for chunk in range(4)
    )
    # Slot by slot: chunk k of everything before any chunk k + 1.
    assert [chunk for _, _, chunk in chunks] == sorted(chunk for _, _, chunk in chunks)
    # A new order in every slot.
    slots = [[item[:2] for item in chunks if item[2] == chunk] for chunk in range(4)]
    assert len({tuple(slot) for slot in slots}) > 1
    # The bare view first, last, and never more than BARE_EVERY chunks of rows apart.
    assert order[0] is None
    assert order[-1] is None
    gaps = "".join("b" if item is None else "r" for item in order).split("b")
    assert max(len(gap) for gap in gaps) == BARE_EVERY


def test_a_worker_s_cpu_is_read_finer_than_proc_s_ticks():
    before = cpu_seconds(os.getpid())
    spent = time.process_time()
    while time.process_time() - spent < 0.003:
        pass
    grown = cpu_seconds(os.getpid()) - before
    # 3 ms of work: /proc's ticks (10 ms) would read 0 or 10 ms.
    assert 0.003 <= grown < 0.009
    with pytest.raises(FileNotFoundError):
        cpu_seconds(2**22 + 1)


def locked_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmLck:")[1].split()[0])


def test_a_sqlite_corpus_is_locked_in_memory_while_measured_and_let_go_after(tmp_path):
    corpus = tmp_path / "stories.sqlite3"
    corpus.write_bytes(os.urandom(2 << 20))
    (tmp_path / "stories.sqlite3-wal").write_bytes(os.urandom(1 << 20))
    before = locked_kb()
    held = Resident(corpus)
    if not held.maps:
        pytest.skip("this process may not lock memory (RLIMIT_MEMLOCK)")
    assert [size for _, size in held.maps] == [2 << 20, 1 << 20]
    assert locked_kb() - before >= 3 << 10
    held.release()
    assert locked_kb() == before


def test_the_footnote_says_how_the_rows_the_corpora_and_the_bare_view_were_interleaved():
    given = results([run("SQLite", 1000, 5.0)])
    given.update(chunks=4, bare_requests=250, bare_every=4)
    assert (
        "3 interleaved round(s) (each round cut in 4 slots, each with a chunk of every row at "
        "every corpus in a random order and a chunk of the bare view after every 4, 250 "
        "requests each)"
    ) in report.tables(given)


@pytest.mark.django_db
def test_the_benchmark_s_bump_moves_the_version_as_a_story_s_save_unless_told_otherwise(
    client, settings, django_capture_on_commit_callbacks
):
    """Its miss rows follow an editor's save of a story: the cards' number stays; `?cards=1`
    is any other write's bump."""
    from articles import versions

    settings.ROOT_URLCONF = "bench.urls"
    with django_capture_on_commit_callbacks(execute=True):
        versions.bump()
    before = versions.current()
    assert client.get("/__bench__/bump/").status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/__bench__/bump/").status_code == 200
    after = versions.current()
    assert (after.number, after.cards) == (before.number + 1, before.cards)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/__bench__/bump/?cards=1").status_code == 200
    moved = versions.current()
    assert (moved.number, moved.cards) == (after.number + 1, after.cards + 1)
