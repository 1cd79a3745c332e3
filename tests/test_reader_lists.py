"""The kind lists say what they are sorted and filtered by, and say so honestly when a filter
matches nothing or is not a filter at all; the people index lists everyone with a page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import DailyView, JobFamily, Kind
from tests.factories import ArticleFactory, CompanyFactory, PersonFactory, set_views

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"}


def get(client, url, **params):
    response = client.get(url, params, **BROWSER)
    return response.status_code, response.content.decode()


def test_popular_cards_show_the_views_the_list_is_sorted_by(client):
    old_hit = ArticleFactory(title="오래된 인기글", kind=Kind.FEED)
    set_views(old_hit, 10_000)
    fresh = ArticleFactory(title="요즘 인기글", kind=Kind.FEED)
    DailyView.objects.create(article=fresh, day=timezone.localdate(), count=30)
    DailyView.objects.create(
        article=fresh, day=timezone.localdate() - timedelta(days=40), count=500
    )

    status, html = get(client, "/feed/", sort="popular")

    assert status == 200
    assert "인기순 (최근 30일 조회수)</option>" in html
    assert "최근 30일 조회수가 많은 순서입니다" in html
    # 30 in the window (the 500 of 40 days ago are outside it), 0 for the old hit.
    assert "최근 30일 조회수 30</span>" in html
    assert "최근 30일 조회수 0</span>" in html
    assert "조회수 10000" not in html
    assert html.index("요즘 인기글") < html.index("오래된 인기글")


def test_recent_cards_show_all_time_views(client):
    story = ArticleFactory(kind=Kind.FEED)
    set_views(story, 1234)
    status, html = get(client, "/feed/")
    assert status == 200
    assert "<span>조회수 1234</span>" in html
    assert "최근 30일" not in html.split(">적용</button>")[1]


def test_a_filter_that_matches_nothing_says_so_and_links_back(client):
    for number in range(6):
        ArticleFactory(title=f"소식 {number}", kind=Kind.NEWS, job_family=JobFamily.BUSINESS)

    status, html = get(client, "/news/", job="dev", sort="popular")

    assert status == 200
    assert "‘개발’ 직군에 맞는 뉴스 스토리가 없습니다." in html
    assert "아직 공개된 스토리가 없습니다" not in html
    assert 'href="?sort=popular">직군 필터 없이 뉴스 전체 보기</a>' in html


def test_an_empty_kind_without_filters_says_nothing_is_published_yet(client):
    ArticleFactory(kind=Kind.FEED)
    status, html = get(client, "/news/")
    assert status == 200
    assert "아직 공개된 스토리가 없습니다" in html
    assert "직군 필터 없이" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"job": "<script>"}, "직군 ‘&lt;script&gt;’은(는) 없는 값이라 빼고 보여 드립니다."),
        ({"sort": "nonsense"}, "정렬 ‘nonsense’은(는) 없는 값이라 빼고 보여 드립니다."),
        ({"job": "개발"}, "직군 ‘개발’은(는) 없는 값이라 빼고 보여 드립니다."),
    ],
)
def test_an_unknown_filter_value_is_refused_visibly_and_the_list_shown_without_it(
    client, params, message
):
    ArticleFactory(title="아무 글", kind=Kind.FEED)

    status, html = get(client, "/feed/", **params)

    assert status == 400
    assert message in html
    assert 'role="alert"' in html
    assert '<a href="/feed/">피드 전체 보기</a>' in html
    assert "아무 글" in html
    assert "<script>" not in html.split("<main")[1]


def test_the_people_index_lists_everyone_with_their_company_and_story_count(client):
    company = CompanyFactory(name="온숨")
    shown = PersonFactory(name="한지민", company=company, role="데이터 엔지니어")
    waiting = PersonFactory(name="이도윤", company=None)
    ArticleFactory(people=[shown])
    ArticleFactory(people=[shown, waiting], draft=True)

    status, html = get(client, "/people/")

    assert status == 200
    assert "<h1>사람</h1>" in html
    assert f'<a href="{shown.get_absolute_url()}">한지민</a>' in html
    assert "데이터 엔지니어" in html
    assert "온숨" in html
    assert "스토리 1개" in html
    # Everyone with a page is listed; a draft is not counted.
    assert f'<a href="{waiting.get_absolute_url()}">이도윤</a>' in html
    assert "스토리 0개" in html
    assert 'href="/people/">사람</a>' in html  # the footer links to it


def test_the_sitemap_lists_the_people_index(client, settings):
    sitemap = client.get("/sitemap-pages.xml").content.decode()
    assert f"<loc>{settings.SITE_URL}/people/</loc>" in sitemap
