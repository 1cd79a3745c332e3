"""The pooling case study page: Korean, titled, with the benchmark's tables from the English
original (which stays one link away), no raw markers, and wide tables in a scroll box."""

import re

import pytest
from django.urls import reverse

from ops import case_study
from ops.views import CASE_STUDY_KO_PATH, CASE_STUDY_PATH

pytestmark = pytest.mark.django_db


def html_of(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


def test_the_korean_document_has_every_results_block_of_the_english_one():
    english = case_study.results_blocks(CASE_STUDY_PATH.read_text(encoding="utf-8"))
    korean = case_study.results_blocks(CASE_STUDY_KO_PATH.read_text(encoding="utf-8"))
    assert set(korean) == set(english)
    assert all(body.strip() == "" for body in korean.values())  # filled when drawn


def test_the_case_study_is_in_korean_with_one_h1_and_no_raw_markers(client):
    html = html_of(client, "ops:case-study")
    assert re.findall(r"<h1>(.*?)</h1>", html) == ["Django의 연결 풀링, 직접 재 보기"]
    assert "<title>연결 풀링 사례 연구 · " in html
    assert "results:" not in html
    assert "&lt;!--" not in html
    assert "숫자가 말하는 것" in html
    # The numbers come from the English document the benchmark rewrites (whatever its run).
    targets = case_study.results_blocks(CASE_STUDY_PATH.read_text(encoding="utf-8"))["targets"]
    first_measured = targets.splitlines()[2].split(" | ")[1]
    assert first_measured in html
    assert "<th>전략</th>" in html
    assert "<th>strategy</th>" not in html


def test_the_case_study_links_the_english_original_and_back(client):
    korean = html_of(client, "ops:case-study")
    english = html_of(client, "ops:case-study-en")
    assert f'href="{reverse("ops:case-study-en")}" hreflang="en"' in korean
    assert f'href="{reverse("ops:case-study")}" hreflang="ko"' in english
    assert '<article class="case-study" lang="en">' in english
    assert re.findall(r"<h1>(.*?)</h1>", english) == ["Connection pooling in Django, measured"]
    assert "&lt;!--" not in english
    assert "<th>strategy</th>" in english


@pytest.mark.parametrize("name", ["ops:case-study", "ops:case-study-en"])
def test_every_case_study_table_sits_in_a_labelled_scroll_box(client, name):
    html = html_of(client, name)
    tables = html.count("<table>")
    assert tables >= 8
    boxes = re.findall(
        r'<div class="table-scroll" role="region" tabindex="0" aria-label="[^"]+"><table>', html
    )
    assert len(boxes) == tables


def test_a_results_block_missing_from_the_english_document_keeps_its_own_text():
    korean = "# 제목\n\n<!-- results:meta -->\n*(없음)*\n<!-- /results -->\n"
    filled = case_study.fill_results(korean, {})
    document = case_study.render(filled, "ko")
    assert document.title == "제목"
    assert "<em>(없음)</em>" in document.html
    assert "results" not in document.html


def test_the_round_by_round_tables_have_korean_headings():
    from bench.pool.conclusions import tables
    from bench.pool.report import _table

    rows = [
        {"auth": "scram-sha-256", "workers": "gthread", "endpoint": endpoint,
         "strategy": strategy, "concurrency": 8, "rps": 100.0, "rps_each_round": [100.0],
         "cpu_each_round": [2.0], "app_cpu_ms_per_request": 1.0, "db_cpu_ms_per_request": 1.0,
         "server_connections_max": 8, "server_connections_mean": 8.0,
         "busy_server_connections_max": 2, "busy_server_connections_mean": 1.0}
        for strategy, endpoint in [("connect", "story"), ("pool", "story"), ("bare", "bare")]
    ]  # fmt: skip
    blocks = tables(rows, _table)
    html = case_study.render(blocks["robust"] + "\n" + blocks["machine"], "ko").html

    headings = re.findall(r"<th>(.*?)</th>", html)
    assert len(headings) == 12 + 5
    assert not [h for h in headings if re.search(r"[a-z]{4,}", h) and "CPU" not in h], headings
    assert "<th>머신 상한 대비</th>" in html
