"""Which requests read from the read replica (ops/replica.py) and what they read there, on
either database: the replica's alias is a second connection to the test database
(tests/replica_support.py), so what matters is which alias a request's queries ran on."""

import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.db import connections
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from articles import replica
from articles.models import ViewTotal
from articles.replica import REPLICA_ALIAS
from ops import replica as replica_requests
from tests.factories import ArticleFactory, StaffFactory, UserFactory
from tests.readers_support import beacon
from tests.replica_support import CHROME, DATABASES, Both, replica_alias, replica_down  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("replica_alias")
THROUGH_REPLICA = pytest.mark.django_db(transaction=True, databases=DATABASES)

# --- Which requests read from the replica -----------------------------------------------------


@pytest.fixture
def factory():
    return RequestFactory()


def reader_request(factory, method="get", path="/", **extra):
    request = getattr(factory, method)(path, **extra)
    request.user = AnonymousUser()
    return request


def test_only_anonymous_reads_go_to_the_replica(factory):
    assert replica_requests.reads_from_replica(reader_request(factory))
    assert replica_requests.reads_from_replica(reader_request(factory, "head"))
    assert not replica_requests.reads_from_replica(reader_request(factory, "post"))
    assert not replica_requests.reads_from_replica(
        reader_request(factory, HTTP_AUTHORIZATION="Bearer abc")
    )
    assert not replica_requests.reads_from_replica(reader_request(factory, path="/admin/"))


@pytest.mark.django_db
def test_staff_read_the_primary(factory):
    request = reader_request(factory)
    request.COOKIES[django_settings.SESSION_COOKIE_NAME] = "x"
    request.user = StaffFactory()
    assert not replica_requests.reads_from_replica(request)
    request.user = UserFactory()  # a signed-in reader who is not staff
    assert replica_requests.reads_from_replica(request)


def sticky_cookie(value="1", salt=replica_requests.SALT) -> str:
    """A cookie signed as the site signs its own (HttpResponse.set_signed_cookie)."""
    response = HttpResponse()
    response.set_signed_cookie(replica_requests.COOKIE_NAME, value, salt=salt)
    return response.cookies[replica_requests.COOKIE_NAME].value


def test_a_readers_own_write_keeps_them_on_the_primary_for_a_few_seconds(factory, monkeypatch):
    request = reader_request(factory)
    request.COOKIES[replica_requests.COOKIE_NAME] = sticky_cookie()
    assert not replica_requests.reads_from_replica(request)
    # The age is the signature's own: a cookie kept past REPLICA_STICKY_SECONDS is ignored.
    later = time.time() + 6
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert replica_requests.reads_from_replica(request)


def test_a_forged_sticky_cookie_is_an_ordinary_readers(factory):
    for forged in ("1", sticky_cookie(salt="another purpose"), sticky_cookie() + "x"):
        request = reader_request(factory)
        request.COOKIES[replica_requests.COOKIE_NAME] = forged
        assert replica_requests.reads_from_replica(request), forged


@THROUGH_REPLICA
def test_a_successful_write_sets_the_signed_sticky_cookie():
    staff = StaffFactory(username="editor", password="pw-long-enough-1")
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": staff.username, "password": "pw-long-enough-1"}
    )
    assert response.status_code == 302
    cookie = response.cookies[replica_requests.COOKIE_NAME]
    assert cookie["max-age"] == 5
    assert cookie["httponly"]
    carrying = RequestFactory().get("/", HTTP_COOKIE=f"primary={cookie.coded_value}")
    assert replica_requests.wrote_recently(carrying)
    assert not replica_requests.wrote_recently(RequestFactory().get("/"))
    # A refused write (wrong password: 200 with the form again is not a redirect, but a
    # 403 without a CSRF token is) sets none.
    refused = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x"})
    assert refused.status_code == 403
    assert replica_requests.COOKIE_NAME not in refused.cookies


# --- Through the site ------------------------------------------------------------------------


@THROUGH_REPLICA
def test_an_anonymous_readers_pages_read_the_replica_and_count_views_on_the_primary():
    story = ArticleFactory(title="복제본에서 읽는 글")
    client = Client()
    with Both() as queries:
        page = client.get(story.get_absolute_url(), **CHROME)
    assert page.status_code == 200
    assert "복제본에서 읽는 글" in page.content.decode()
    assert queries.read_stories("replica")
    assert not queries.read_stories("primary")
    # The page's beacon: the 조회수 is written where writes go, nothing on the replica, and
    # counting a view does not keep the reader on the primary afterwards.
    with Both() as queries:
        counted = beacon(client, story.pk, CHROME["HTTP_USER_AGENT"])
    assert counted.status_code == 204
    assert replica_requests.COOKIE_NAME not in counted.cookies
    assert any(sql.startswith("UPDATE") or "INSERT" in sql for sql in queries.sql("primary"))
    assert not any(sql.startswith(("UPDATE", "INSERT", "DELETE")) for sql in queries.sql("replica"))
    assert ViewTotal.objects.get(article=story).count == 1


def carry_sticky_cookie(client):
    client.cookies[replica_requests.COOKIE_NAME] = sticky_cookie()


def sign_in_as_staff(client):
    client.force_login(StaffFactory())


@THROUGH_REPLICA
@pytest.mark.parametrize("who", [carry_sticky_cookie, sign_in_as_staff])
def test_a_reader_after_their_write_and_staff_read_the_primary(who):
    story = ArticleFactory(title="방금 고친 글")
    client = Client()
    who(client)
    with Both() as queries:
        page = client.get(story.get_absolute_url(), **CHROME)
    assert "방금 고친 글" in page.content.decode()
    assert queries.read_stories("primary")
    assert not queries.read_stories("replica")


@THROUGH_REPLICA
def test_readyz_reports_the_replica_up():
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["replica"] == "up"


@THROUGH_REPLICA
@pytest.mark.usefixtures("replica_down")
def test_a_replica_that_is_down_sends_reads_to_the_primary_and_is_remembered():
    story = ArticleFactory(title="주 서버에서 읽는 글")
    client = Client()
    with CaptureQueriesContext(connections["default"]) as primary:
        page = client.get(story.get_absolute_url(), **CHROME)
    assert page.status_code == 200
    assert "주 서버에서 읽는 글" in page.content.decode()
    assert any('FROM "articles_article"' in query["sql"] for query in primary.captured_queries)
    assert replica.health.is_down()
    # Remembered: the next request does not try the replica again.
    tried = []
    real = connections[REPLICA_ALIAS].ensure_connection
    connections[REPLICA_ALIAS].ensure_connection = lambda: tried.append(1) or real()
    try:
        assert client.get("/feed/", **CHROME).status_code == 200
    finally:
        del connections[REPLICA_ALIAS].ensure_connection
    assert tried == []
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "cache": "up", "replica": "down"}
