"""The story list and a story alone are written out as plain values (api/stories.py
page_items(), detail_of()): each answer must be, byte for byte, what the response schema
makes of the same stories read as model instances (StoryPageOut or StoryDetailOut validated
and dumped, rendered by the API's renderer)."""

from datetime import date, timedelta

import pytest
from django.core.cache import caches
from django.test import RequestFactory
from django.utils import timezone

from api import stories as api_stories
from api.common import RENDERER
from api.schemas import StoryDetailOut, StoryPageOut
from api.stories import (
    ITEM_COLUMNS,
    ItemRow,
    StoryFilter,
    filtered,
    page_of,
    page_rows,
    series_position,
    with_relations,
)
from articles.listing import card_tags_and_people_of
from articles.models import Article, JobFamily, Kind
from articles.models import Status as StoryStatus
from articles.services import save_story
from tests import factories as make
from tests.api_support import API
from tests.prepared_support import rows_reversed

pytestmark = pytest.mark.django_db


@pytest.fixture
def stories():
    company = make.CompanyFactory(name="스포카", slug="spoqa")
    tag = make.TagFactory(name="개발팀", slug="dev-team")
    other_tag = make.TagFactory(name="풀링", slug="pooling")
    people = [
        make.PersonFactory(name="김레드", nickname="레드", slug="red", company=company),
        make.PersonFactory(name="가나다", slug="ganada", role="", team=""),
    ]
    series = make.SeriesFactory(title="풀링 연재", slug="풀링-연재")
    now = timezone.now()
    made = [
        make.ArticleFactory(
            kind=Kind.INTERVIEW,
            title="스포카 개발팀 이야기",
            company=company,
            tags=[other_tag, tag],
            people=people,
            job_family=JobFamily.DEVELOPMENT,
            series=series,
            series_part=2,
            cover_image="covers/cover.png",
            cover_alt="회의실 사진",
            cover_credit="사진: A&B",
            meta_description="검색엔진에 보일 <설명>",
            byline="글 김레드",
            view_count=42,
            published_at=now - timedelta(hours=1, microseconds=123_456),
        ),
        # No company, no series, no tags, no people, no job family, never viewed.
        make.ArticleFactory(kind=Kind.NEWS, company=None, published_at=now - timedelta(hours=2)),
        # Imported without a date (날짜 미상), and with one.
        make.ArticleFactory(
            source_key="theteams:제목 하나", company=company, published_at=now - timedelta(hours=3)
        ),
        make.ArticleFactory(
            source_key="theteams:제목 둘",
            original_published_on=date(2021, 3, 4),
            tags=[tag],
            view_count=0,
            published_at=now - timedelta(hours=4),
        ),
        # Written here, with a date it first appeared elsewhere; a Korean slug.
        make.ArticleFactory(
            slug="한글-슬러그",
            original_published_on=date(2020, 1, 2),
            people=people[:1],
            published_at=now - timedelta(days=2),
        ),
    ]
    # Three parts of the series (the first story is part 2): a first, a middle, a last.
    made += [
        make.ArticleFactory(series=series, series_part=1, company=company, tags=[other_tag]),
        make.ArticleFactory(series=series, series_part=3, company=None, tags=[other_tag]),
    ]
    make.ArticleFactory(draft=True, company=company, tags=[tag])
    make.ArticleFactory(scheduled=True, tags=[tag])
    make.ArticleFactory(expired=True, company=company)
    return made


def schema_answer(content: dict) -> bytes:
    """The answer the schema would give for the envelope of `content`: its stories read as
    instances (as every other list reads them) and validated by StoryPageOut."""
    ids = [item["id"] for item in content["items"]]
    read = Article.objects.for_listing().prefetch_related(None).filter(pk__in=ids)
    loaded = {story.pk: story for story in with_relations(read)}
    page = {**content, "items": [loaded[pk] for pk in ids]}
    request = RequestFactory().get("/")
    dumped = StoryPageOut.model_validate(page, context={"request": request}).model_dump()
    return RENDERER.render(request, dumped, response_status=200).encode()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "page_size=1",
        "page=2&page_size=2",
        "page=9",
        "ordering=popular",
        "kind=interview",
        "company=spoqa",
        "tag=dev-team",
        "person=red",
        "job_family=dev",
        "series=%ED%92%80%EB%A7%81-%EC%97%B0%EC%9E%AC",
        "q=%EC%9D%B4%EC%95%BC%EA%B8%B0",
        "updated_since=2020-01-01T00:00:00",
    ],
)
def test_a_list_answers_what_the_schema_makes_of_its_stories(client, stories, query):
    for token in (False, True):  # a reader's answer (kept) and a client's (never kept)
        caches["answers"].clear()
        headers = {"HTTP_AUTHORIZATION": "Bearer cs_not-a-token"} if token else {}
        response = client.get(f"{API}/stories?{query}", **headers)

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        content = response.json()
        if query in ("", "ordering=popular"):
            assert len(content["items"]) == len(stories)
        assert response.content == schema_answer(content)


def test_every_field_of_the_schema_is_written(client, stories):
    item = client.get(f"{API}/stories?kind=interview").json()["items"][0]

    assert list(item) == list(
        StoryPageOut.model_fields["items"].annotation.__args__[0].model_fields
    )
    assert item["cover_image_url"] == "http://testserver/media/covers/cover.png"
    assert [tag["slug"] for tag in item["tags"]] == ["pooling", "dev-team"]
    assert item["series"] == {"title": "풀링 연재", "slug": "풀링-연재"}


def schema_detail(pk: int) -> bytes:
    """The answer the schema would give for story `pk`: read as an instance with its
    relations, its series' place and related stories, validated by StoryDetailOut."""
    request = RequestFactory().get("/")
    article = Article.objects.published_story(pk)
    with_relations([article])
    article.series_position = series_position(request, article)
    # The related stories chosen as the API chooses them, read as instances.
    links = Article.objects.related_links(article, [tag.pk for tag in article.card_tags])
    found = Article.objects.select_related("company").in_bulk([link.pk for link in links])
    article.related = [found[link.pk] for link in links]
    dumped = StoryDetailOut.model_validate(article, context={"request": request}).model_dump()
    return RENDERER.render(request, dumped, response_status=200).encode()


def test_a_story_answers_what_the_schema_makes_of_it(client, stories):
    for story in stories:
        for token in (False, True):
            caches["answers"].clear()
            headers = {"HTTP_AUTHORIZATION": "Bearer cs_not-a-token"} if token else {}
            for path in (f"{API}/stories/{story.pk}", f"{API}/stories/by-slug/{story.slug}"):
                response = client.get(path, **headers)

                assert response.status_code == 200
                assert response["Content-Type"] == "application/json; charset=utf-8"
                assert response.content == schema_detail(story.pk), (story.title, path)


def test_every_field_of_the_detail_schema_is_written(client, stories):
    answer = client.get(f"{API}/stories/{stories[0].pk}").json()

    assert list(answer) == list(StoryDetailOut.model_fields)
    assert answer["series_position"]["previous"]["id"] == stories[-2].pk
    assert answer["series_position"]["next"]["id"] == stories[-1].pk
    assert answer["related"]
    assert answer["source"] is None
    assert client.get(f"{API}/stories/{stories[2].pk}").json()["source"]["site"] == "더팀스"


@pytest.mark.parametrize(
    "chosen",
    [
        {},
        {"kind": "interview"},
        {"company": "spoqa"},
        {"tag": "dev-team"},
        {"tag": "pooling", "company": "spoqa"},
        {"person": "red"},
        {"job_family": "dev"},
        {"series": "풀링-연재"},
        {"collection": "nowhere"},
        {"updated_since": "2020-01-01T00:00:00"},
        {"updated_since": "2999-01-01T00:00:00+09:00", "kind": "feed"},
        {"ordering": "popular"},
        {"q": "이야기"},
    ],
)
@pytest.mark.parametrize("reverse", [False, True])
def test_a_page_s_ids_are_what_the_orm_gives(stories, chosen, reverse, monkeypatch):
    if reverse:
        monkeypatch.setattr(api_stories, "read_along", rows_reversed(api_stories.read_along))
    filters = StoryFilter(**chosen)
    stories = filtered(filters)
    ordered = stories.popular() if filters.ordering == "popular" else stories.recent()
    for start, stop in ((0, 20), (0, 1), (1, 3), (2, 100), (50, 70)):
        expected = list(ordered.values_list("pk", "view_total__count")[start:stop])
        # With their rows (what each item shows of its story, then its count), hashtags and
        # people.
        columns = [*ITEM_COLUMNS.values(), "view_total__count"]
        rows = [tuple(row) for row in ordered.values_list(*columns)[start:stop]]
        found, tags, people = page_rows(filters, start, stop)

        assert page_of(filters, start, stop) == expected, (chosen, start, stop)
        assert [(*row, count) for row, count in found] == rows, (chosen, start, stop)
        assert all(isinstance(row, ItemRow) for row, _ in found)
        assert (tags, people) == card_tags_and_people_of([row.pk for row, _ in found])


# --- Kept items (api/stories.py items_of()) ------------------------------------------------

TOKEN = {"HTTP_AUTHORIZATION": "Bearer cs_not-a-token"}


@pytest.mark.parametrize(
    "queries",
    [
        ["", ""],
        ["page_size=2", "page_size=2", "", "page=2&page_size=3"],
        ["ordering=popular", "", "ordering=popular"],
        ["q=%EC%9D%B4%EC%95%BC%EA%B8%B0", "kind=interview", ""],
    ],
)
def test_an_answer_from_kept_items_is_the_schema_s(client, stories, queries):
    """A page drawn before, or one whose items other pages drew (all or some), answers the
    same bytes as one written afresh."""
    api_stories.forget_items()
    for query in queries:
        response = client.get(f"{API}/stories?{query}", **TOKEN)
        assert response.status_code == 200
        assert response.content == schema_answer(response.json()), query


def test_a_page_drawn_before_reads_only_its_ids_and_counts(
    client, stories, django_assert_num_queries
):
    api_stories.forget_items()
    first = client.get(f"{API}/stories", **TOKEN)
    # The content version (its record in the database cache) and the page's ids and counts.
    with django_assert_num_queries(2):
        again = client.get(f"{API}/stories", **TOKEN)
    assert again.status_code == 200
    assert len(again.json()["items"]) == len(stories)
    assert again.content == first.content


def item_of(client, story) -> dict:
    items = client.get(f"{API}/stories?page_size=50", **TOKEN).json()["items"]
    return next((item for item in items if item["id"] == story.pk), None)


def test_kept_items_show_every_write_at_once(client, stories):
    story = stories[0]
    api_stories.forget_items()
    assert item_of(client, story)["title"] == "스포카 개발팀 이야기"

    story.title = "새 제목"
    save_story(story, by=None)
    assert item_of(client, story)["title"] == "새 제목"

    story.company.name = "새 회사"
    story.company.save()
    assert item_of(client, story)["company"]["name"] == "새 회사"

    tag = story.tags.get(slug="dev-team")
    tag.name = "새 해시태그"
    tag.save()
    assert "새 해시태그" in [tag["name"] for tag in item_of(client, story)["tags"]]

    person = story.people.get(slug="red")
    person.team = "새 팀"
    person.save()
    assert "새 팀" in [person["team"] for person in item_of(client, story)["people"]]

    story.series.title = "새 연재"
    story.series.save()
    assert item_of(client, story)["series"]["title"] == "새 연재"

    make.set_views(story, 77)  # counts move without a write: read with the page
    assert item_of(client, story)["view_count"] == 77

    story.status = StoryStatus.DRAFT
    save_story(story, by=None)
    assert item_of(client, story) is None


def test_an_empty_page_is_written_as_the_schema_writes_it(client, stories):
    response = client.get(f"{API}/stories?page=9", **TOKEN)
    assert response.json()["items"] == []
    assert response.content == schema_answer(response.json())
