"""Anonymous reader pages may be kept by the caches in front of the site, named by the content
version (reader/shared_cache.py): public with s-maxage, an ETag any host answers with 304, and
nothing of the kind for staff, previews or an answer that sets a cookie."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from articles import versions
from articles.models import Article, PreviewLink
from articles.services import save_story
from tests.api_support import editor, token_for
from tests.factories import (
    ArticleFactory,
    CollectionFactory,
    CompanyFactory,
    PersonFactory,
    SeriesFactory,
    StaffFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"}


@pytest.fixture
def site():
    company = CompanyFactory(slug="gyeolsan")
    person = PersonFactory(slug="kwon")
    tag = TagFactory(name="캐시")
    series = SeriesFactory(slug="moving")
    story = ArticleFactory(
        company=company, people=[person], tags=[tag], series=series, series_part=1
    )
    collection = CollectionFactory(slug="picks")
    collection.items.create(article=story, position=0)
    return {"story": story, "tag": tag}


PAGES = [
    "/",
    "/interviews/",
    "/feed/?sort=popular",
    "/news/",
    "/companies/",
    "/companies/gyeolsan/",
    "/people/",
    "/people/kwon/",
    "/tags/",
    "/tags/캐시/",
    "/collections/picks/",
    "/series/moving/",
    "/search/?q=캐시",
    "/feeds/atom/",
    "/feeds/atom/interviews/",
    "/companies/gyeolsan/atom/",
    "/tags/캐시/atom/",
    "/sitemap.xml",
    "/sitemap-stories.xml",
    "/robots.txt",
]


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.mark.parametrize("path", PAGES)
def test_every_anonymous_page_is_shareable_and_revalidates_with_a_304(site, settings, path):
    settings.EDGE_MAX_AGE, settings.EDGE_STALE_SECONDS = 45, 20
    first = Client().get(path, **BROWSER)
    assert first.status_code == 200, path
    assert directives(first) == {
        "public",
        "max-age=0",
        "s-maxage=45",
        "stale-while-revalidate=20",
    }
    assert first["X-Content-Version"] == versions.current().key
    assert first["ETag"].startswith(f'"{versions.current().key}-')
    assert not first.cookies
    assert "Accept-Language" not in first.get("Vary", "")

    again = Client().get(path, HTTP_IF_NONE_MATCH=first["ETag"], **BROWSER)
    assert again.status_code == 304, path
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert "s-maxage=45" in directives(again)
    assert Client().head(path, HTTP_IF_NONE_MATCH=first["ETag"], **BROWSER).status_code == 304


def test_each_address_has_its_own_etag(site):
    tags = Client().get("/tags/", **BROWSER)["ETag"]
    companies = Client().get("/companies/", **BROWSER)["ETag"]
    second_page = Client().get("/tags/?page=2", **BROWSER)["ETag"]
    assert len({tags, companies, second_page}) == 3
    response = Client().get("/companies/", HTTP_IF_NONE_MATCH=tags, **BROWSER)
    assert response.status_code == 200


def test_a_write_changes_every_etag(site, django_capture_on_commit_callbacks):
    before = Client().get("/", **BROWSER)
    story = Article.objects.get(pk=site["story"].pk)
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "새 제목"
        save_story(story, by=None)
    after = Client().get("/", HTTP_IF_NONE_MATCH=before["ETag"], **BROWSER)
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert "새 제목" in after.content.decode()


def test_a_page_is_not_kept_past_the_next_scheduled_moment(site, settings):
    settings.EDGE_MAX_AGE, settings.EDGE_STALE_SECONDS = 600, 300
    ArticleFactory(published_at=timezone.now() + timedelta(seconds=90))
    response = Client().get("/", **BROWSER)
    kept = {d for d in directives(response) if d.startswith(("s-maxage", "stale"))}
    seconds = {d.split("=")[0]: int(d.split("=")[1]) for d in kept}
    assert 85 <= seconds["s-maxage"] <= 90
    assert seconds["s-maxage"] + seconds["stale-while-revalidate"] <= 90


def test_a_feed_answers_if_modified_since_with_a_304(site):
    feed = Client().get("/feeds/atom/", **BROWSER)
    assert feed.has_header("Last-Modified")
    again = Client().get("/feeds/atom/", HTTP_IF_MODIFIED_SINCE=feed["Last-Modified"], **BROWSER)
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/", "/tags/캐시/", "/feeds/atom/"])
def test_staff_pages_are_private_and_never_stored(site, client, path):
    client.force_login(StaffFactory(is_superuser=True))
    response = client.get(path, **BROWSER)
    assert {"private", "no-store"} <= directives(response)
    assert "public" not in directives(response)
    assert not response.has_header("ETag")


def test_a_preview_is_private_and_never_stored(site):
    draft = ArticleFactory(status="draft")
    _, token = PreviewLink.issue(draft, StaffFactory())
    response = Client().get(PreviewLink.url_for(draft.pk, token), **BROWSER)
    assert response.status_code == 200
    assert {"private", "no-store"} <= directives(response)
    assert not response.has_header("ETag")


def test_an_answer_that_sets_a_cookie_is_private_and_never_stored():
    response = Client().get("/admin/login/", **BROWSER)
    assert response.cookies
    assert {"private", "no-store"} <= directives(response)


def test_without_the_shared_cache_pages_are_served_without_a_version(site, monkeypatch):
    monkeypatch.setattr(versions, "current", lambda: None)
    response = Client().get("/tags/", **BROWSER)
    assert response.status_code == 200
    assert not response.has_header("ETag")
    assert "public" not in directives(response)


# --- The API's anonymous answers -------------------------------------------------------------

API_READS = [
    "/api/v1/stories",
    "/api/v1/stories/{id}",
    "/api/v1/companies/gyeolsan",
    "/api/v1/tags",
]


@pytest.mark.parametrize("path", API_READS)
def test_an_anonymous_api_answer_may_be_kept_by_the_edge_until_the_next_write(site, path):
    url = path.format(id=site["story"].pk)
    first = Client().get(url, **BROWSER)
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=0, s-maxage=60, stale-while-revalidate=30"
    assert first["X-Content-Version"] == versions.current().key
    assert "Authorization" in first["Vary"]  # a token's request is another answer

    story = site["story"]
    story.title = "고친 제목"
    save_story(story, by=None)
    after = Client().get(url, **BROWSER)
    assert after["X-Content-Version"] == versions.current().key != first["X-Content-Version"]


@pytest.mark.parametrize("path", API_READS)
def test_an_api_answer_to_a_token_or_to_staff_is_kept_by_no_edge(site, path):
    url = path.format(id=site["story"].pk)
    token = token_for(editor(), "stories:write")
    with_token = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}", **BROWSER)
    staff = Client()
    staff.force_login(StaffFactory(role="editor"))
    signed_in = staff.get(url, **BROWSER)
    for response in (with_token, signed_in):
        assert response.status_code == 200
        assert "public" not in response["Cache-Control"]
        assert "X-Content-Version" not in response
