"""A Korean slug in NFD (as macOS and some clients send it: ㅎ+ㅏ+ㄴ for 한) names the same
page, row and story as the slug in NFC, wherever a slug is read or written."""

import json
import unicodedata
from urllib.parse import quote

import pytest
from django.urls import reverse

from articles.importing import import_dump
from articles.models import Article, Collection, Company, Person, Series, Tag
from tests.api_support import API, bearer, editor, story_with_everything, token_for
from tests.editorial_support import story_data
from tests.factories import ArticleFactory, CompanyFactory, PersonFactory
from tests.test_import import story_dump

pytestmark = pytest.mark.django_db

SLUG = "한글-슬러그"
NFD = unicodedata.normalize("NFD", SLUG)


def test_the_two_forms_differ():
    assert NFD != SLUG
    assert len(NFD) > len(SLUG)


def nfd_path(path: str) -> str:
    return path.replace(quote(SLUG), quote(NFD))


@pytest.fixture
def content():
    """A published story whose company, person, tag, series, collection and own slug are
    all SLUG (one row of each)."""
    story = story_with_everything("한글 슬러그")
    for model in (Company, Person, Tag, Series, Collection, Article):
        model.objects.update(slug=SLUG)
    story.refresh_from_db()
    return story


@pytest.mark.parametrize(
    "name", ["company", "person", "tag", "collection", "series", "feed-company", "feed-tag"]
)
def test_reader_pages_find_their_row_by_an_nfd_slug(client, content, name):
    path = reverse(f"articles:{name}", args=[SLUG])
    assert client.get(path).status_code == 200
    assert client.get(nfd_path(path)).status_code == 200


@pytest.mark.parametrize("staff", [False, True])
def test_a_story_at_its_nfd_slug_is_the_story_not_an_old_address(client, content, staff):
    if staff:
        client.force_login(editor())
    response = client.get(nfd_path(content.get_absolute_url()))
    assert response.status_code == 200
    assert response.context["article"] == content


def test_an_old_slug_still_redirects_to_the_nfc_address(client, content):
    response = client.get(f"/stories/{content.pk}/옛-슬러그/")
    assert response.status_code == 301
    assert response["Location"] == content.get_absolute_url()


@pytest.mark.parametrize(
    "path",
    [
        "/stories/by-slug/{slug}",
        "/companies/{slug}",
        "/people/{slug}",
        "/tags/{slug}",
        "/collections/{slug}",
        "/series/{slug}",
        "/stories?company={slug}",
        "/stories?tag={slug}",
        "/stories?person={slug}",
        "/stories?collection={slug}",
        "/stories?series={slug}",
    ],
)
def test_the_api_reads_an_nfd_slug_as_the_nfc_one(client, content, path):
    answers = [client.get(API + path.format(slug=quote(slug))) for slug in (SLUG, NFD)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert "items" not in answers[1].json() or answers[1].json()["items"]


@pytest.mark.parametrize("model", [Company, Person, Tag, Series, Article])
def test_a_row_saved_with_an_nfd_slug_keeps_it_in_nfc(model):
    values = {"title": "제목", "kind": "feed"} if model is Article else {}
    if model in (Company, Person, Tag):
        values["name"] = "이름"
    if model is Series:
        values["title"] = "연재"
    row = model(slug=NFD, **values)
    row.save()
    assert row.slug == SLUG
    assert model.objects.get(pk=row.pk).slug == SLUG
    assert model.objects.get(slug=NFD) == row


def test_clean_takes_an_nfd_slug_as_the_taken_nfc_one():
    ArticleFactory(slug=SLUG)
    story = Article(title="다른 제목", kind="feed", body="본문", slug=NFD)
    with pytest.raises(Exception, match="다른 스토리가 쓰고 있습니다"):
        story.full_clean()


def test_the_api_writes_an_nfd_slug_and_nfd_references_in_nfc(client):
    company = CompanyFactory(slug=SLUG)
    person = PersonFactory(slug="사람", company=company)
    token = token_for(editor(), "stories:write")
    response = client.post(
        f"{API}/stories",
        data=json.dumps(
            {
                "title": "제목",
                "kind": "feed",
                "slug": NFD,
                "company": NFD,
                "people": [unicodedata.normalize("NFD", "사람")],
                "tags": [unicodedata.normalize("NFD", "한글태그")],
            }
        ),
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 201, response.content
    story = Article.objects.get()
    assert (story.slug, story.company, list(story.people.all())) == (SLUG, company, [person])
    assert list(story.tags.values_list("name", flat=True)) == ["한글태그"]


def test_the_admin_saves_an_nfd_slug_in_nfc(admin_client):
    response = admin_client.post(reverse("admin:articles_article_add"), story_data(slug=NFD))
    assert response.status_code == 302
    assert Article.objects.get().slug == SLUG
    response = admin_client.post(reverse("admin:articles_tag_add"), {"name": "태그", "slug": NFD})
    assert response.status_code == 302
    assert Tag.objects.get().slug == SLUG


def test_the_importer_makes_nfc_slugs_from_nfd_titles():
    import_dump(story_dump(unicodedata.normalize("NFD", "한글 슬러그"), "첫 문장입니다.둘째."))
    assert Article.objects.get().slug == SLUG
