"""The 조회수 beacon (reader/beacon.py): what the story page's script sends, and what the server
counts of it; each test twice, with views written to the database at once and buffered in
Redis (one round trip: the limit, the version's check and the view)."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from culture.env import Rate
from reader.viewcount import COOKIE_NAME, current_count
from tests.factories import ArticleFactory, StaffFactory
from tests.readers_support import CHROME, beacon
from tests.redis_support import views_in_redis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["database", "redis"])
def store(request, settings):
    """Where views are counted: at once in the database, or buffered in Redis."""
    if request.param == "database":
        yield request.param
        return
    with views_in_redis(settings, "beacon-test"):
        yield request.param


def views(story_or_pk) -> int:
    """The story's count as readers see it (the database's, plus what Redis buffers)."""
    return current_count(getattr(story_or_pk, "pk", story_or_pk)) or 0


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


def test_a_beacon_counts_one_view_and_is_never_kept_by_a_cache():
    story = ArticleFactory()
    response = beacon(Client(), story.pk)
    assert response.status_code == 204
    assert views(story) == 1
    assert {"private", "no-store"} <= directives(response)
    assert response.cookies[COOKIE_NAME]["path"] == "/views/"


@pytest.mark.parametrize("method", ["get", "head", "put"])
def test_only_a_post_counts(method):
    story = ArticleFactory()
    response = getattr(Client(), method)(f"/views/{story.pk}/", HTTP_USER_AGENT=CHROME)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert views(story) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_ORIGIN": "https://attacker.example"},
        {"HTTP_ORIGIN": "null"},
    ],
)
def test_another_site_cannot_count(headers):
    story = ArticleFactory()
    response = Client().post(f"/views/{story.pk}/", HTTP_USER_AGENT=CHROME, **headers)
    assert response.status_code == 403
    assert "다른 사이트" in response.content.decode()
    assert views(story) == 0


def test_the_sites_own_origin_counts_without_fetch_metadata():
    story = ArticleFactory()
    response = Client().post(
        f"/views/{story.pk}/", HTTP_USER_AGENT=CHROME, HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 204
    assert views(story) == 1


def test_bots_and_staff_are_answered_but_not_counted():
    story = ArticleFactory()
    assert (
        beacon(Client(), story.pk, agent="Mozilla/5.0 (compatible; Googlebot/2.1)").status_code
        == 204
    )
    staff = Client()
    staff.force_login(StaffFactory())
    assert beacon(staff, story.pk).status_code == 204
    assert views(story) == 0


def test_a_second_beacon_of_the_same_browser_within_30_minutes_does_not_count():
    story, other = ArticleFactory(), ArticleFactory()
    client = Client()
    for _ in range(3):
        beacon(client, story.pk)
    beacon(client, other.pk)
    assert (views(story), views(other)) == (1, 1)


@pytest.mark.parametrize("status", ["draft", "missing"])
def test_a_story_readers_cannot_see_is_not_counted(status):
    pk = ArticleFactory(draft=True).pk if status == "draft" else 999_999
    response = beacon(Client(), pk)
    assert response.status_code == 404
    assert views(pk) == 0


def test_each_client_has_a_limit(settings):
    settings.VIEW_BEACON_RATE = Rate(3, 60)
    stories = ArticleFactory.create_batch(4)
    answers = [beacon(Client(), story.pk).status_code for story in stories]
    assert answers == [204, 204, 204, 429]
    refused = beacon(Client(), stories[0].pk)
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "너무 많습니다" in refused.content.decode()
    assert sum(views(story) for story in stories) == 3


def test_the_story_page_carries_the_beacon_for_readers_only():
    story = ArticleFactory()
    page = Client().get(story.get_absolute_url(), HTTP_USER_AGENT=CHROME)
    html = page.content.decode()
    assert f'data-count-url="/views/{story.pk}/"' in html
    assert "/static/js/views" in html
    assert not page.cookies
    staff = Client()
    staff.force_login(StaffFactory(is_superuser=True))
    html = staff.get(story.get_absolute_url(), HTTP_USER_AGENT=CHROME).content.decode()
    assert "data-count-url" not in html
    assert "js/views" not in html


def test_a_beacon_skips_the_middleware_that_has_nothing_for_it(settings):
    """reader.beacon.BeaconShortcut answers it right after the security middleware: its
    headers are there, those of the middleware below (the content policy) are not, and no
    session is saved or read for an anonymous reader."""
    settings.SECURE_CONTENT_TYPE_NOSNIFF = True
    story = ArticleFactory()
    counted = beacon(Client(), story.pk)
    page = Client().get(story.get_absolute_url(), HTTP_USER_AGENT=CHROME)
    assert counted.status_code == 204
    assert counted["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in page
    assert "Content-Security-Policy" not in counted
    assert settings.SESSION_COOKIE_NAME not in counted.cookies
    assert views(story) == 1


def test_the_shortcut_takes_the_urlconf_s_address_and_nothing_near_it():
    story = ArticleFactory()
    assert reverse("articles:count-view", args=[story.pk]) == f"/views/{story.pk}/"
    for near in [f"/views/{story.pk}", f"/views/{story.pk}/x/", "/views/x/", "/views/"]:
        response = Client().post(near, HTTP_USER_AGENT=CHROME, HTTP_SEC_FETCH_SITE="same-origin")
        assert response.status_code in (301, 404), near
    assert views(story) == 0


def test_a_signed_in_editor_s_session_is_read_by_the_shortcut():
    story = ArticleFactory()
    editor = Client()
    editor.force_login(StaffFactory())
    reader = Client()
    reader.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"  # a stale cookie: a reader
    assert beacon(editor, story.pk).status_code == 204
    assert beacon(reader, story.pk).status_code == 204
    assert views(story) == 1
