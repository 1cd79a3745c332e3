"""Companies, people, tags, collections and series through the API."""

from urllib.parse import quote

import pytest

from articles import versions
from tests import factories as make
from tests.api_support import API, error_of

pytestmark = pytest.mark.django_db


def names(response, key="name") -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [item[key] for item in response.json()["items"]]


def test_companies_are_listed_by_name_with_published_story_counts(client):
    spoqa = make.CompanyFactory(name="스포카", slug="spoqa")
    make.CompanyFactory(name="오픈서베이", slug="opensurvey")
    make.ArticleFactory(company=spoqa)
    make.ArticleFactory(company=spoqa, draft=True)

    response = client.get(f"{API}/companies")

    assert names(response) == ["스포카", "오픈서베이"]
    assert [c["story_count"] for c in response.json()["items"]] == [1, 0]
    assert response.json()["items"][0]["url"] == "http://testserver/companies/spoqa/"


def test_company_detail_by_korean_slug_with_its_people(client):
    company = make.CompanyFactory(name="코인원", slug="코인원", tech_stack="Python, Django")
    make.PersonFactory(name="나개발", company=company)
    make.PersonFactory(name="가디자인", company=company)

    response = client.get(f"{API}/companies/{quote('코인원')}")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "코인원"
    assert body["tech_stack"] == ["Python", "Django"]
    assert [p["name"] for p in body["people"]] == ["가디자인", "나개발"]
    error_of(client.get(f"{API}/companies/nobody"), 404, "not_found")


def test_people_list_and_detail(client):
    company = make.CompanyFactory(name="스포카")
    red = make.PersonFactory(
        name="김레드", nickname="레드", slug="red", company=company, bio="안녕하세요"
    )
    make.ArticleFactory(people=[red])
    make.ArticleFactory(people=[red], scheduled=True)

    listed = client.get(f"{API}/people").json()["items"]
    detail = client.get(f"{API}/people/red").json()

    assert [p["slug"] for p in listed] == ["red"]
    assert listed[0]["story_count"] == 1
    assert detail["company"]["name"] == "스포카"
    assert (detail["nickname"], detail["bio"], detail["story_count"]) == ("레드", "안녕하세요", 1)


@pytest.mark.parametrize("trait", make.HIDDEN_TRAITS)
def test_tags_only_hidden_stories_use_are_not_shown(client, trait):
    shown = make.TagFactory(name="개발팀")
    secret = make.TagFactory(name="곧-발표")
    make.ArticleFactory(tags=[shown])
    make.ArticleFactory(tags=[shown, secret], **{trait: True})

    response = client.get(f"{API}/tags")

    assert names(response) == ["개발팀"]
    assert response.json()["items"][0]["story_count"] == 1
    assert client.get(f"{API}/tags/{quote(shown.slug)}").json()["story_count"] == 1
    error_of(client.get(f"{API}/tags/{quote(secret.slug)}"), 404)


def test_tags_are_listed_most_used_first(client):
    common, rare = make.TagFactory(name="백엔드"), make.TagFactory(name="디자인")
    make.ArticleFactory(tags=[common, rare])
    make.ArticleFactory(tags=[common])

    assert names(client.get(f"{API}/tags")) == ["백엔드", "디자인"]


@pytest.mark.parametrize("trait", make.HIDDEN_TRAITS)
def test_collection_shows_its_published_stories_in_the_editors_order(client, trait):
    collection = make.CollectionFactory(title="꼭 읽어야 하는 글", slug="must-read")
    second = make.CollectionItemFactory(collection=collection, position=2).article
    first = make.CollectionItemFactory(collection=collection, position=1).article
    make.CollectionItemFactory(
        collection=collection, position=0, article=make.ArticleFactory(**{trait: True})
    )

    listed = client.get(f"{API}/collections").json()["items"]
    detail = client.get(f"{API}/collections/must-read").json()

    assert [(c["slug"], c["story_count"], c["on_home"]) for c in listed] == [("must-read", 2, True)]
    assert [item["story"]["id"] for item in detail["items"]] == [first.pk, second.pk]
    assert [item["position"] for item in detail["items"]] == [1, 2]


@pytest.mark.parametrize("trait", make.HIDDEN_TRAITS)
def test_a_collection_or_series_of_hidden_stories_only_is_not_shown(client, trait):
    collection = make.CollectionFactory(slug="coming-soon")
    make.CollectionItemFactory(collection=collection, article=make.ArticleFactory(**{trait: True}))
    series = make.SeriesFactory(slug="next-season")
    make.ArticleFactory(series=series, series_part=1, **{trait: True})

    assert client.get(f"{API}/collections").json()["count"] == 0
    assert client.get(f"{API}/series").json()["count"] == 0
    error_of(client.get(f"{API}/collections/coming-soon"), 404)
    error_of(client.get(f"{API}/series/next-season"), 404)


def test_series_lists_its_published_parts_in_order(client):
    series = make.SeriesFactory(title="PostgreSQL로 이사하기", slug="moving")
    second = make.ArticleFactory(series=series, series_part=2)
    first = make.ArticleFactory(series=series, series_part=1)
    make.ArticleFactory(series=series, series_part=3, draft=True)

    listed = client.get(f"{API}/series").json()["items"]
    detail = client.get(f"{API}/series/moving").json()

    assert [(s["slug"], s["story_count"]) for s in listed] == [("moving", 2)]
    assert [story["id"] for story in detail["stories"]] == [first.pk, second.pk]


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/companies", 2),  # the count, the page with story counts
        ("/companies/c-1", 2),  # the company with its story count, its people
        ("/people", 2),
        ("/people/p-1", 1),
        ("/tags", 2),
        ("/tags/t-1", 1),
        ("/collections", 2),
        ("/collections/col-1", 4),  # the collection, its items, their tags, their people
        ("/series", 2),
        ("/series/s-1", 4),  # the series, its parts, their tags, their people
    ],
)
def test_every_resource_runs_a_fixed_number_of_queries(
    client, django_assert_num_queries, path, queries
):
    def build(n):
        company = make.CompanyFactory(slug=f"c-{n}")
        tag = make.TagFactory(name=f"t-{n}")
        tag.slug = f"t-{n}"
        tag.save()
        series = make.SeriesFactory(slug=f"s-{n}")
        collection = make.CollectionFactory(slug=f"col-{n}")
        for part in range(1, 4):
            person = make.PersonFactory(
                slug=f"p-{n}-{part}" if part > 1 else f"p-{n}", company=company
            )
            story = make.ArticleFactory(
                company=company, tags=[tag], people=[person], series=series, series_part=part
            )
            make.CollectionItemFactory(collection=collection, article=story)

    # Each answer is rendered (a cache miss) and adds one read of the shared content version,
    # drawn beforehand as it is once per content change (articles/versions.py).
    build(1)
    versions.current()
    with django_assert_num_queries(queries + 1):
        small = client.get(f"{API}{path}")
    for n in range(2, 6):
        build(n)
    versions.current()
    with django_assert_num_queries(queries + 1):
        large = client.get(f"{API}{path}?page_size=100" if path.count("/") == 1 else f"{API}{path}")
    assert small.status_code == large.status_code == 200
