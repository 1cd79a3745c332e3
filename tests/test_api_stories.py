"""Reading stories through the API: lists, filters, orderings, pages, details, and the rule
that a reader never learns anything about a story that is not published."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.common import list_stamp
from api.stories import StoryFilter, filtered, forget_items
from articles import versions
from articles.models import Article, Company, DailyView, JobFamily, Kind
from tests import factories as make
from tests.api_support import API, bearer, editor, error_of, ids, token_for

pytestmark = pytest.mark.django_db


def days_ago(days):
    return timezone.now() - timedelta(days=days)


def test_story_list_shows_published_stories_newest_first(client):
    old = make.ArticleFactory(published_at=days_ago(3))
    new = make.ArticleFactory(published_at=days_ago(1))
    middle = make.ArticleFactory(published_at=days_ago(2))

    response = client.get(f"{API}/stories")

    assert ids(response) == [new.pk, middle.pk, old.pk]
    body = response.json()
    assert (body["count"], body["page"], body["page_size"], body["pages"]) == (3, 1, 20, 1)


def test_story_card_carries_what_a_client_needs(client):
    company = make.CompanyFactory(name="스포카", slug="spoqa")
    person = make.PersonFactory(name="김레드", nickname="레드", slug="red", company=company)
    tag = make.TagFactory(name="개발팀")
    story = make.ArticleFactory(
        title="스포카 개발팀 이야기",
        kind=Kind.INTERVIEW,
        company=company,
        job_family=JobFamily.DEVELOPMENT,
        tags=[tag],
        people=[person],
        view_count=42,
    )

    item = client.get(f"{API}/stories").json()["items"][0]

    assert item["id"] == story.pk
    assert item["kind"] == "interview"
    assert item["title"] == "스포카 개발팀 이야기"
    assert item["slug"] == story.slug
    assert item["excerpt"] == story.excerpt
    assert item["company"] == {"name": "스포카", "slug": "spoqa"}
    assert item["tags"] == [{"name": "개발팀", "slug": tag.slug}]
    assert item["people"] == [
        {
            "name": "김레드",
            "slug": "red",
            "nickname": "레드",
            "role": "백엔드 개발자",
            "team": "플랫폼팀",
        }
    ]
    assert item["job_family"] == "dev"
    assert item["view_count"] == 42
    assert item["reading_minutes"] == story.reading_minutes
    assert item["cover_image_url"] is None
    assert item["url"] == f"http://testserver{story.get_absolute_url()}"
    assert item["published_at"]
    assert item["updated_at"]
    assert "body" not in item
    assert "status" not in item
    assert "version" not in item


def filter_cases():
    """(query string, story that matches, story that does not) for every filter."""
    cases = {}

    def case(name):
        def register(build):
            cases[name] = build
            return build

        return register

    @case("kind")
    def _():
        return "kind=news", make.ArticleFactory(kind=Kind.NEWS), make.ArticleFactory(kind=Kind.FEED)

    @case("company")
    def _():
        match = make.ArticleFactory(company=make.CompanyFactory(slug="오픈서베이"))
        return f"company={quote('오픈서베이')}", match, make.ArticleFactory()

    @case("tag")
    def _():
        tag = make.TagFactory(name="스포카")
        return f"tag={quote(tag.slug)}", make.ArticleFactory(tags=[tag]), make.ArticleFactory()

    @case("person")
    def _():
        person = make.PersonFactory(slug="red")
        return "person=red", make.ArticleFactory(people=[person]), make.ArticleFactory()

    @case("job_family")
    def _():
        return (
            "job_family=design",
            make.ArticleFactory(job_family=JobFamily.DESIGN),
            make.ArticleFactory(job_family=JobFamily.DEVELOPMENT),
        )

    @case("collection")
    def _():
        item = make.CollectionItemFactory(collection=make.CollectionFactory(slug="must-read"))
        return "collection=must-read", item.article, make.ArticleFactory()

    @case("series")
    def _():
        series = make.SeriesFactory(slug="pooling")
        return (
            "series=pooling",
            make.ArticleFactory(series=series, series_part=1),
            make.ArticleFactory(),
        )

    @case("q")
    def _():
        match = make.ArticleFactory(
            title="커넥션 풀링 이야기", body="QueuePool의 pool_size를 봅니다."
        )
        return f"q={quote('풀링')}", match, make.ArticleFactory(title="코드 리뷰 이야기")

    @case("updated_since")
    def _():
        old = make.ArticleFactory(published_at=days_ago(20))
        type(old).objects.filter(pk=old.pk).update(updated_at=days_ago(10))
        since = quote(days_ago(5).isoformat())
        return f"updated_since={since}", make.ArticleFactory(), old

    return cases


FILTERS = filter_cases()


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_narrows_the_list(client, name):
    query, match, other = FILTERS[name]()

    response = client.get(f"{API}/stories?{query}")

    assert ids(response) == [match.pk]
    assert other.pk not in ids(response)
    assert response.json()["count"] == 1


def test_updated_since_includes_a_scheduled_story_that_went_live_since(client):
    # Saved three days ago for publication an hour ago: nothing saved it when it went live.
    went_live = make.ArticleFactory(published_at=timezone.now() - timedelta(hours=1))
    unchanged = make.ArticleFactory(published_at=days_ago(10))
    type(went_live).objects.filter(pk__in=[went_live.pk, unchanged.pk]).update(
        updated_at=days_ago(3)
    )
    since = quote(days_ago(2).isoformat())

    response = client.get(f"{API}/stories?updated_since={since}")

    assert ids(response) == [went_live.pk]


@pytest.mark.parametrize("trait", make.HIDDEN_TRAITS)
@pytest.mark.parametrize("name", FILTERS)
def test_hidden_stories_never_pass_a_filter(client, name, trait):
    query, match, _ = FILTERS[name]()
    hidden = make.ArticleFactory(**{trait: True})
    # Give the hidden story everything that made `match` match.
    hidden.title, hidden.body = match.title, match.body
    hidden.kind, hidden.job_family = match.kind, match.job_family
    hidden.company, hidden.series = match.company, match.series
    hidden.series_part = 2 if match.series_id else None
    hidden.save()
    hidden.tags.set(match.tags.all())
    hidden.people.set(match.people.all())
    for item in match.collection_items.all():
        make.CollectionItemFactory(collection=item.collection, article=hidden)

    for ordering in ("recent", "popular"):
        response = client.get(f"{API}/stories?{query}&ordering={ordering}")
        assert ids(response) == [match.pk]
        assert response.json()["count"] == 1


@pytest.mark.parametrize("trait", make.HIDDEN_TRAITS)
def test_hidden_stories_are_absent_from_every_ordering_count_and_page(client, trait):
    visible = make.ArticleFactory(view_count=1)
    hidden = make.ArticleFactory(view_count=10**6, **{trait: True})
    DailyView.objects.create(article=hidden, day=timezone.localdate(), count=10**6)

    for query in ("", "ordering=recent", "ordering=popular", "page_size=1", "page=2&page_size=1"):
        body = client.get(f"{API}/stories?{query}").json()
        assert body["count"] == 1
        assert hidden.pk not in [item["id"] for item in body["items"]]
    assert ids(client.get(f"{API}/stories?ordering=popular")) == [visible.pk]


@pytest.mark.parametrize("trait", make.HIDDEN_TRAITS)
def test_hidden_story_detail_is_the_same_404_as_a_missing_id(client, trait):
    hidden = make.ArticleFactory(**{trait: True})
    missing = error_of(client.get(f"{API}/stories/{hidden.pk + 1000}"), 404, "not_found")

    by_id = error_of(client.get(f"{API}/stories/{hidden.pk}"), 404, "not_found")
    by_slug = error_of(client.get(f"{API}/stories/by-slug/{quote(hidden.slug)}"), 404)

    for body in (by_id, by_slug):
        assert {**body, "request_id": ""} == {**missing, "request_id": ""}


@pytest.mark.parametrize("q", ["풀링", "연결 풀", "병특", "QueuePool", "queue", "pool_size"])
def test_search_is_the_sites_korean_aware_search(client, q):
    story = make.ArticleFactory(
        title="연결 풀링은 왜 필요할까",
        body="병역특례로 입사한 개발자가 QueuePool의 pool_size를 설명합니다.",
    )
    make.ArticleFactory(title="코드 리뷰 문화", body="리뷰는 하루 안에 합니다.")

    assert ids(client.get(f"{API}/stories?q={quote(q)}")) == [story.pk]


def test_search_combines_with_filters_and_orderings(client):
    feed = make.ArticleFactory(title="풀링 이야기", kind=Kind.FEED, view_count=1)
    news = make.ArticleFactory(title="풀링 소식", kind=Kind.NEWS, view_count=9)

    assert ids(client.get(f"{API}/stories?q={quote('풀링')}&kind=news")) == [news.pk]
    assert ids(client.get(f"{API}/stories?q={quote('풀링')}&ordering=popular")) == [
        news.pk,
        feed.pk,
    ]
    assert client.get(f"{API}/stories?q=").json()["count"] == 2
    assert client.get(f"{API}/stories?q=%21%21").json()["count"] == 0


def test_popular_orders_by_recent_views_then_all_time_views(client):
    quiet = make.ArticleFactory(view_count=5000)
    trending = make.ArticleFactory(view_count=10)
    DailyView.objects.create(article=trending, day=timezone.localdate(), count=300)
    steady = make.ArticleFactory(view_count=100)

    assert ids(client.get(f"{API}/stories?ordering=popular")) == [trending.pk, quiet.pk, steady.pk]


def test_unknown_ordering_and_unknown_filters_are_refused(client):
    make.ArticleFactory()

    body = error_of(client.get(f"{API}/stories?ordering=view_count"), 422, "validation_error")
    assert body["errors"][0]["loc"] == ["query", "ordering"]
    for private in ("status=draft", "view_count=1", "is_featured=true", "created_by=1"):
        body = error_of(client.get(f"{API}/stories?{private}"), 422)
        assert body["errors"][0]["loc"] == ["query", private.split("=")[0]]


def test_pages_have_a_hard_maximum_size(client):
    for day in range(5):
        make.ArticleFactory(published_at=days_ago(day + 1))

    second = client.get(f"{API}/stories?page=2&page_size=2").json()
    assert (second["count"], second["page"], second["pages"], len(second["items"])) == (5, 2, 3, 2)
    assert client.get(f"{API}/stories?page_size=100").json()["page_size"] == 100
    for query in ("page_size=101", "page_size=0", "page=0", "page=-1", "page=10001", "page=abc"):
        error_of(client.get(f"{API}/stories?{query}"), 422)


def test_a_page_past_the_end_is_empty_not_an_error(client):
    make.ArticleFactory()

    body = client.get(f"{API}/stories?page=9").json()

    assert (body["count"], body["items"]) == (1, [])


def test_story_detail_by_id_and_by_korean_slug(client):
    series = make.SeriesFactory(title="풀링 연재", slug="풀링-연재")
    first = make.ArticleFactory(series=series, series_part=1, published_at=days_ago(3))
    story = make.ArticleFactory(
        title="커넥션 풀, 왜 필요할까?",
        body="## 풀이란\n\n> “연결은 비쌉니다”\n",
        series=series,
        series_part=2,
        published_at=days_ago(2),
    )
    make.ArticleFactory(series=series, series_part=3, draft=True)
    assert story.slug == "커넥션-풀-왜-필요할까"

    by_id = client.get(f"{API}/stories/{story.pk}")
    by_slug = client.get(f"{API}/stories/by-slug/{quote(story.slug)}")

    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json() == by_slug.json()
    detail = by_id.json()
    assert '<h2 id="h-풀이란">' in detail["body_html"]
    assert "<blockquote>" in detail["body_html"]
    assert detail["version"] == story.version
    position = detail["series_position"]
    assert position["series"] == {"title": "풀링 연재", "slug": "풀링-연재"}
    assert (position["position"], position["total"]) == (2, 2)
    assert position["previous"]["id"] == first.pk
    assert position["next"] is None  # the draft third part is not a part yet


def test_related_stories_prefer_the_same_company_and_skip_hidden_ones(client):
    company = make.CompanyFactory()
    tag = make.TagFactory()
    story = make.ArticleFactory(company=company, tags=[tag])
    same_company = make.ArticleFactory(company=company)
    shared_tag = make.ArticleFactory(tags=[tag])
    make.ArticleFactory(company=company, draft=True)
    make.ArticleFactory(tags=[tag], scheduled=True)

    related = client.get(f"{API}/stories/{story.pk}").json()["related"]

    assert [item["id"] for item in related][:2] == [same_company.pk, shared_tag.pk]
    assert all(item["id"] != story.pk for item in related)
    assert len(related) <= 4


def test_story_list_runs_a_fixed_number_of_queries_whatever_the_page_size(
    client, django_assert_num_queries
):
    tags = [make.TagFactory() for _ in range(3)]
    people = [make.PersonFactory() for _ in range(2)]
    for _ in range(30):
        make.ArticleFactory(tags=tags, people=people, series=None)

    versions.current()  # drawn once per content change, not per request
    stamp = 1
    for query, page in (
        ("page_size=1", 1),
        ("page_size=30", 1),
        ("ordering=popular&page_size=30", 2),
        ("q=%EC%9D%B4%EC%95%BC%EA%B8%B0", 2),
    ):
        # The content version (the cache misses), the count and latest changes (kept per
        # version and filters: dropped here; one statement, the whole list's from the tally of
        # published stories, api/common.py list_stamp()), then the page with its ids and counts
        # (its ETag), its rows, and its tags and people: one statement newest first with
        # value filters (the compiled page query), two through the ORM (인기순, a search).
        caches["answers"].clear()
        with django_assert_num_queries(1 + stamp + page):
            response = client.get(f"{API}/stories?{query}")
        assert response.status_code == 200
        # An anonymous reader's answer is kept, so it is written in full with a validator too
        # (then answered 304): its items were drawn by the answer before (under this content
        # version), so the page's ids and counts are read, one statement either way, after
        # the version and the stamp (dropped with the answers).
        caches["answers"].clear()
        with django_assert_num_queries(2 + stamp):
            kept = client.get(f"{API}/stories?{query}", HTTP_IF_NONE_MATCH=response["ETag"])
        assert kept.status_code == 304
        # Never kept (a client's token; the count and latest changes are still kept): the
        # page's ids and counts come first with a validator, so a 304 needs no more; one that
        # does not match is answered in full, the same answer, its items found kept (the
        # reader's answer drew them under this content version).
        token = {"HTTP_AUTHORIZATION": "Bearer cs_not-a-token"}
        with django_assert_num_queries(2):
            again = client.get(
                f"{API}/stories?{query}", HTTP_IF_NONE_MATCH=response["ETag"], **token
            )
        assert again.status_code == 304
        with django_assert_num_queries(2):
            other = client.get(f"{API}/stories?{query}", HTTP_IF_NONE_MATCH='"other"', **token)
        assert other.status_code == 200
        assert other.content == response.content
        # None kept: the rows, then their tags and people.
        forget_items()
        with django_assert_num_queries(4):
            other = client.get(f"{API}/stories?{query}", HTTP_IF_NONE_MATCH='"other"', **token)
        assert other.content == response.content


def test_story_detail_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    company = make.CompanyFactory()
    tags = [make.TagFactory() for _ in range(3)]
    series = make.SeriesFactory()
    for part in range(1, 4):
        make.ArticleFactory(company=company, tags=tags, series=series, series_part=part)
    story = make.ArticleFactory(company=company, tags=tags, series=series, series_part=4)

    # The content version (the cache misses), the story with its tags, its people and its
    # company's newest stories (the related stories' first pool: one statement), its series'
    # parts, then the rest of the related stories: the shared tags' and the same kind's
    # picks, and the load of those two pools' stories (a related story's link shows no
    # hashtags).
    versions.current()
    with django_assert_num_queries(5):
        response = client.get(f"{API}/stories/{story.pk}")
    assert response.status_code == 200
    assert len(response.json()["related"]) == 3


def test_the_list_etag_follows_the_counts_it_shows_and_its_stamp_is_kept(client):
    """The list's count and latest changes are kept per content version and filters (every
    page of a list shares them); its ETag still changes when a count on the page does."""
    stories = [make.ArticleFactory() for _ in range(3)]
    auth = bearer(token_for(editor()))  # with a token: no kept answer, every list rendered
    first = client.get(f"{API}/stories?page_size=2", headers=auth)
    with CaptureQueriesContext(connection) as captured:
        second = client.get(f"{API}/stories?page_size=2&page=2", headers=auth)
    assert not [q for q in captured.captured_queries if "MAX(" in q["sql"].upper()]
    assert second.json()["count"] == 3
    make.set_views(stories[-1], 7)  # on the first page (newest first): no save, no new version
    again = client.get(
        f"{API}/stories?page_size=2", headers={**auth, "If-None-Match": first["ETag"]}
    )
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert again.json()["items"][0]["view_count"] == 7


@pytest.mark.parametrize("trait", make.HIDDEN_TRAITS)
def test_the_whole_lists_stamp_reads_companies_apart_and_agrees_with_the_join(trait):
    """The whole list's stamp finds its companies' latest change from the companies (no join
    of every story): the same count and times as the joined aggregate, with a company whose
    only story is hidden, and one changed later than the others, left out."""
    now = timezone.now()
    shown = [make.ArticleFactory(), make.ArticleFactory(), make.ArticleFactory(company=None)]
    hidden = make.ArticleFactory(**{trait: True})
    for hours, company in enumerate([shown[0].company, shown[1].company, hidden.company]):
        Company.objects.filter(pk=company.pk).update(updated_at=now + timedelta(hours=hours))
    stories = filtered(StoryFilter())

    stamp = list_stamp(stories, whole=True)

    assert stamp == list_stamp(stories, whole=False)
    assert stamp["count"] == 3
    shown[1].company.refresh_from_db()
    assert stamp["company_updated"] == shown[1].company.updated_at
    Article.objects.all().delete()
    assert list_stamp(stories, whole=True) == list_stamp(stories, whole=False)
    empty = {"count": 0, "updated": None, "published": None, "company_updated": None}
    assert list_stamp(stories, whole=True) == empty
