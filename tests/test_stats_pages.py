"""The statistics room in the admin, a story's statistics page, the CSV downloads, the stats
API and the company page's month list: the same numbers as DailyView, for the right people."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import rollup, stats
from articles.models import DailyView
from tests.api_support import API, bearer, token_for
from tests.factories import ArticleFactory, StaffFactory
from tests.stats_support import expected, make_history, yesterday_closed  # noqa: F401

# The tests assume yesterday (Seoul) is a closed day, which it is not just after midnight.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("yesterday_closed")]

ROOM = "admin:articles_article_stats"


def room(client, **query):
    return client.get(reverse(ROOM), query)


def rows_of(response):
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_room_shows_totals_charts_and_tables_that_agree_with_daily_views(editor_client):
    make_history()
    response = room(editor_client, days=30)
    assert response.status_code == 200
    period = stats.period_for(30)
    want = expected(period)
    page = response.content.decode()
    assert f"<dd>{want['total']}</dd>" in page
    assert "집계 기준" in page
    assert str(period) in page
    assert page.count('<rect class="chart-bar"') == 30
    assert '<title id="daily-title">일별 조회수' in page
    for day, views in zip(period.dates(), want["daily"], strict=True):
        assert f'{day:%Y-%m-%d}</time></th><td class="num">{views}</td>' in page
        assert f"<title>{day:%m-%d}: {views}회</title>" in page
    assert "하나 회사" in page
    assert "#백엔드" in page
    assert "<script" not in page.split('id="content-main"')[1].split("</main>")[0]
    assert ' style="' not in page


def test_every_table_downloads_as_csv_with_the_same_numbers(editor_client):
    history = make_history()
    period = stats.period_for(7)
    want = expected(period)
    daily = rows_of(room(editor_client, days=7, csv="daily"))
    assert daily[0] == ["날짜", "조회수"]
    assert [int(row[1]) for row in daily[1:]] == want["daily"]
    response = room(editor_client, days=7, csv="stories")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    stories = rows_of(response)
    assert [(int(row[1]), int(row[6])) for row in stories[1:]] == want["stories"]
    companies = rows_of(room(editor_client, days=7, csv="companies"))
    assert {row[1]: int(row[2]) for row in companies[1:]} == want["companies"]
    tags = rows_of(room(editor_client, days=7, csv="tags"))
    assert {row[1]: int(row[2]) for row in tags[1:]} == want["tags"]
    kinds = rows_of(room(editor_client, days=7, csv="kinds"))
    assert sum(int(row[1]) for row in kinds[1:]) == want["total"]
    assert room(editor_client, days=7, csv="nothing").status_code == 404
    story = history.stories[0]
    url = reverse("admin:articles_article_story_stats", args=[story.pk])
    own = rows_of(editor_client.get(url, {"days": 7, "csv": "daily"}))
    assert [int(row[1]) for row in own[1:]] == expected(period, [story.pk])["daily"]


def test_a_writer_sees_only_their_own_stories_in_the_room(client):
    history = make_history()
    client.force_login(history.writer)
    page = room(client, days=90).content.decode()
    own = [history.stories[0].pk, history.stories[3].pk]
    assert f"<dd>{expected(stats.period_for(90), own)['total']}</dd>" in page
    assert "내가 쓴 스토리" in page
    assert history.stories[1].title not in page
    assert "두울 회사" not in page
    other = reverse("admin:articles_article_story_stats", args=[history.stories[1].pk])
    assert client.get(other).status_code == 404
    mine = reverse("admin:articles_article_story_stats", args=[history.stories[0].pk])
    assert client.get(mine).status_code == 200


def test_readers_and_staff_without_story_rights_are_kept_out(client):
    assert room(client).status_code == 302  # to the login page
    client.force_login(StaffFactory(role="writer", username="nobody", is_staff=True))
    assert room(client).status_code == 200
    plain = StaffFactory(role="writer", username="plain")
    plain.groups.clear()
    client.force_login(plain)
    assert room(client).status_code == 403


def test_a_bad_period_is_a_400_that_says_why(editor_client):
    response = room(editor_client, days=5)
    assert response.status_code == 400
    assert "days는 7, 30, 90 가운데 하나여야 합니다." in response.content.decode()
    response = room(editor_client, start="2026-01-02", end="2026-01-01")
    assert response.status_code == 400
    assert "start가 end보다 늦습니다." in response.content.decode()


def test_the_room_runs_the_same_queries_for_four_stories_or_forty(editor_client):
    def count():
        room(editor_client, days=30)  # the rollup catches up on the first visit
        with CaptureQueriesContext(connection) as queries:
            assert room(editor_client, days=30).status_code == 200
        return len(queries)

    make_history()
    few = count()
    today = timezone.localdate()
    for n in range(36):
        story = ArticleFactory(published_at=timezone.now() - timedelta(days=5 + n % 3))
        DailyView.objects.create(article=story, day=today - timedelta(days=2), count=n + 1)
    from articles.models import RollupState

    RollupState.objects.all().delete()
    assert count() == few
    assert few <= 22


def test_a_story_change_page_shows_its_chart_and_totals(editor_client):
    history = make_history()
    story = history.stories[1]
    page = editor_client.get(reverse("admin:articles_article_change", args=[story.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    want = expected(stats.period_for(30), [story.pk])
    assert f"<dd>{want['total']}</dd>" in text
    assert text.count('<rect class="chart-bar"') == 30
    assert "같은 종류의 중앙값" in text


# --- The API --------------------------------------------------------------------------------


def test_the_summary_api_agrees_with_daily_views_for_a_token_with_stats_read(client):
    history = make_history()
    editor = StaffFactory(role="editor", username="editor-api")
    raw = token_for(editor, "stats:read")
    response = client.get(f"{API}/stats/summary", {"days": 90}, headers=bearer(raw))
    assert response.status_code == 200, response.content
    body = response.json()
    want = expected(stats.period_for(90))
    assert body["total"] == want["total"]
    assert [day["views"] for day in body["daily"]] == want["daily"]
    assert [(s["id"], s["views"]) for s in body["top_stories"]] == want["stories"]
    assert {c["name"]: c["views"] for c in body["top_companies"]} == want["companies"]
    assert body["period"]["timezone"] == "Asia/Seoul"
    assert body["through"] == rollup.state().through.isoformat()
    assert not body["scoped"]
    assert len(history.stories) == 4


def test_the_story_api_gives_days_totals_and_the_first_week(client):
    history = make_history()
    story = history.stories[1]
    raw = token_for(StaffFactory(role="editor", username="e2"), "stats:read")
    body = client.get(f"{API}/stats/stories/{story.pk}", {"days": 30}, headers=bearer(raw)).json()
    want = expected(stats.period_for(30), [story.pk])
    assert body["total"] == want["total"]
    assert [day["views"] for day in body["daily"]] == want["daily"]
    assert body["all_time"] == story.view_count
    assert len(body["first_week"]) == 7


def test_the_api_keeps_writers_to_their_own_stories(client):
    history = make_history()
    raw = token_for(history.writer, "stats:read")
    body = client.get(f"{API}/stats/summary", {"days": 90}, headers=bearer(raw)).json()
    own = [history.stories[0].pk, history.stories[3].pk]
    assert body["scoped"]
    assert body["total"] == expected(stats.period_for(90), own)["total"]
    assert {s["id"] for s in body["top_stories"]} <= set(own)
    other = client.get(f"{API}/stats/stories/{history.stories[1].pk}", headers=bearer(raw))
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"
    # A writer's session sees the same.
    client.force_login(history.writer)
    assert client.get(f"{API}/stats/summary", {"days": 90}).json()["total"] == body["total"]


def test_the_api_asks_for_the_stats_read_scope(client):
    editor = StaffFactory(role="editor", username="e3")
    assert client.get(f"{API}/stats/summary").status_code == 401
    wrong = token_for(editor, "stories:write")
    response = client.get(f"{API}/stats/summary", headers=bearer(wrong))
    assert response.status_code == 403
    assert "stats:read" in response.json()["message"]
    plain = StaffFactory(role="writer", username="plain2")
    plain.groups.clear()
    no_rights = token_for(plain, "stats:read")
    assert client.get(f"{API}/stats/summary", headers=bearer(no_rights)).status_code == 403


def test_the_api_refuses_bad_periods_with_a_400(client):
    raw = token_for(StaffFactory(role="editor", username="e4"), "stats:read")
    response = client.get(f"{API}/stats/summary", {"days": 14}, headers=bearer(raw))
    assert response.status_code == 400
    assert "7, 30, 90" in response.json()["message"]
    response = client.get(f"{API}/stats/summary", {"start": "2026-01-01"}, headers=bearer(raw))
    assert response.status_code == 400
    response = client.get(f"{API}/stats/summary", {"day": 7}, headers=bearer(raw))
    assert response.status_code == 422


def test_the_api_is_in_the_openapi_schema(client):
    schema = client.get(f"{API}/openapi.json").json()
    assert "/api/v1/stats/summary" in schema["paths"]
    assert "/api/v1/stats/stories/{story_id}" in schema["paths"]


# --- The company page -------------------------------------------------------------------------


def test_the_company_page_lists_this_months_most_read_published_stories(client):
    history = make_history()
    company = history.companies[0]  # stories 0 (published) and 2 (withdrawn)
    page = client.get(company.get_absolute_url()).content.decode()
    section = page.split('id="month-top-title"')[1].split("</section>")[0]
    assert history.stories[0].title in section
    assert history.stories[2].title not in section
    month = DailyView.objects.filter(
        article=history.stories[0], day__gte=timezone.localdate().replace(day=1)
    )
    assert f"이번 달 조회수 {sum(month.values_list('count', flat=True))}" in section


def test_a_title_that_looks_like_a_formula_stays_text_in_the_csv(editor_client):
    story = ArticleFactory(title='=HYPERLINK("http://example.com")')
    DailyView.objects.create(article=story, day=timezone.localdate() - timedelta(days=1), count=3)
    rows = rows_of(room(editor_client, days=7, csv="stories"))
    assert rows[1][2] == '\'=HYPERLINK("http://example.com")'
    assert rows[1][6] == "3"


def test_the_stats_operations_have_names_of_their_own():
    assert reverse("api:story", args=[7]) == f"{API}/stories/7"
    assert reverse("api:stats-story", args=[7]) == f"{API}/stats/stories/7"
    assert reverse("api:stats-summary") == f"{API}/stats/summary"
