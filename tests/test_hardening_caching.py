"""What a shared cache may keep: nothing rendered for a signed-in staff member, and nothing
that sets a cookie. (Anonymous pages that set none are shared: tests/test_shared_cache.py.)"""

import pytest
from django.test import Client
from django.urls import reverse

from articles.models import PreviewLink
from tests.factories import ArticleFactory, CompanyFactory
from tests.readers_support import beacon

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"}


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.fixture
def story():
    return ArticleFactory(company=CompanyFactory(slug="spoqa"))


@pytest.mark.parametrize(
    "path",
    [
        "story",
        "/",
        "/feed/",
        "/companies/spoqa/",
        "/search/?q=개발",
        "/feeds/atom/",
        "/api/v1/stories",
        "/admin/",
    ],
)
def test_every_page_rendered_for_staff_is_private_and_never_stored(client, editor, story, path):
    response = client.get(story.get_absolute_url() if path == "story" else path, **BROWSER)

    assert response.status_code == 200
    assert {"private", "no-store"} <= directives(response)
    assert "public" not in directives(response)


def test_a_preview_page_is_private_and_never_stored_for_its_editor_too(client, editor):
    draft = ArticleFactory(draft=True)
    _, token = PreviewLink.issue(draft, None)
    response = client.get(PreviewLink.url_for(draft.pk, token), **BROWSER)
    assert response.status_code == 200
    assert {"private", "no-store"} <= directives(response)


def test_a_counted_view_sets_a_cookie_and_is_private(story):
    response = beacon(Client(), story.pk, BROWSER["HTTP_USER_AGENT"])

    assert response.status_code == 204
    assert response.cookies  # the 조회수 cookie, on the beacon's answer (never on the page)
    assert {"private", "no-store"} <= directives(response)
    assert "public" not in directives(response)


def test_the_login_page_sets_the_csrf_cookie_and_is_private():
    response = Client().get(reverse("admin:login"))
    assert "csrftoken" in response.cookies
    assert "private" in directives(response)


def test_an_anonymous_page_without_cookies_may_be_kept_by_shared_caches_only(story):
    response = Client().get("/feed/", **BROWSER)
    assert not response.cookies
    assert directives(response) >= {"public", "max-age=0"}
    assert "private" not in directives(response)
