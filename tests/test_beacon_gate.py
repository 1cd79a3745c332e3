"""The beacon's gate (reader/beacon.py BeaconGate, the WSGI application's first step): a
beacon it takes gets the answer, headers, log line and count it gets through Django's handler,
with views written at once and buffered in Redis; what it does not take reaches Django
untouched. And the Redis path's own promises: one round trip a beacon, a withdrawn story no
longer counted, the client's limit shared with the rate limiter's counter."""

import re
import threading

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from api.throttling import over_limit
from articles import services
from culture import wsgi
from culture.env import Rate
from reader import beacon
from reader.viewcount import COOKIE_NAME, current_count
from tests.factories import ArticleFactory, StaffFactory
from tests.readers_support import CHROME
from tests.redis_support import redis_cache, views_in_redis
from tests.test_viewbuffer import DEAD_REDIS_URL

pytestmark = pytest.mark.django_db

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    """Where views are counted: at once in the database, or buffered in Redis."""
    if request.param == "database":
        yield None
        return
    with views_in_redis(settings, "beacon-gate-test") as (client, _):
        yield client


@pytest.fixture
def checked(monkeypatch):
    """The gate's check of the thread's database connections, counted, and done only on the
    other threads a test starts (their own connections, given back to the pool): on the test's
    thread it would end the test's transaction (the test client spares Django's handler the
    same)."""
    calls = []
    close = beacon.close_old_connections

    def check():
        calls.append(1)
        if threading.current_thread() is not threading.main_thread():
            close()

    monkeypatch.setattr(beacon, "close_old_connections", check)
    return calls


def django_only(environ, start_response):
    raise AssertionError(f"the gate should have answered {environ['PATH_INFO']} itself")


def headers_of(**headers) -> dict:
    """WSGI names of the request headers of a beacon: the script's, then `headers`."""
    sent = {"HTTP_USER_AGENT": CHROME, "HTTP_SEC_FETCH_SITE": "same-origin"}
    sent.update(headers)
    return {name: value for name, value in sent.items() if value is not None}


def through_gate(pk: int, method: str = "post", app=django_only, **headers):
    """What the gate answers: (status, headers, body)."""
    request = getattr(RequestFactory(), method)(f"/views/{pk}/", **headers_of(**headers))
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer.update(status=status, headers=response_headers)

    body = b"".join(beacon.BeaconGate(app)(request.environ, start_response))
    return answer["status"], answer["headers"], body


def through_django(pk: int, method: str = "post", **headers):
    """What Django's handler answers (the test client runs it): (status, headers, body)."""
    response = getattr(Client(), method)(f"/views/{pk}/", **headers_of(**headers))
    return (
        f"{response.status_code} {response.reason_phrase}",
        beacon.wsgi_headers(response),
        response.content,
    )


def comparable(answer, pk: int) -> tuple:
    """An answer without its story's id and what changes from second to second (dates, the
    cookie's expiry, the seconds left of a rate-limit window)."""
    status, headers, body = answer
    kept = []
    for name, value in headers:
        if name == "Expires":
            value = "<date>"
        if name == "Retry-After":  # the window's rest, which moves between the two requests
            assert 1 <= int(value) <= 60
            value = "<seconds>"
        value = re.sub(r"\b\d{10}\b", "<epoch>", value).replace(f"={pk}-", "=<pk>-")
        value = re.sub(r"expires=[^;]+", "expires=<date>", value)
        kept.append((name, value.strip()))
    return status, sorted(kept), body


# Each case: how a story is made, the request's headers, settings, and what it comes to.
CASES = {
    "a new reader": ({}, {}, {}, ("204", 1)),
    "a repeat within 30 minutes": (
        {},
        {"HTTP_COOKIE": f"{COOKIE_NAME}=<pk>-9999999999"},
        {},
        ("204", 0),
    ),
    "a bot": ({}, {"HTTP_USER_AGENT": GOOGLEBOT}, {}, ("204", 0)),
    "no user agent": ({}, {"HTTP_USER_AGENT": None}, {}, ("204", 0)),
    "another site": ({}, {"HTTP_SEC_FETCH_SITE": "cross-site"}, {}, ("403", 0)),
    "the site's own origin, no fetch metadata": (
        {},
        {"HTTP_SEC_FETCH_SITE": None, "HTTP_ORIGIN": "http://testserver"},
        {},
        ("204", 1),
    ),
    "an origin on a host not allowed": (
        {},
        {"HTTP_SEC_FETCH_SITE": None, "HTTP_ORIGIN": "http://evil.example", "HTTP_HOST": "x.y"},
        {},
        ("400", 0),
    ),
    "a draft": ({"draft": True}, {}, {}, ("404", 0)),
    "a reader over the limit": ({}, {}, {"VIEW_BEACON_RATE": Rate(0, 60)}, ("429", 0)),
    "https through a trusted proxy": (
        {},
        {"HTTP_X_FORWARDED_PROTO": "https"},
        {
            "TRUSTED_PROXY_COUNT": 1,
            "FORWARDED_ALLOW_IPS": [],
            "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
            "SECURE_HSTS_SECONDS": 3600,
        },
        ("204", 1),
    ),
    "https claimed by a client past the proxies": (
        {},
        {"HTTP_X_FORWARDED_PROTO": "https"},
        {
            "TRUSTED_PROXY_COUNT": 1,
            "FORWARDED_ALLOW_IPS": ["10.0.0.0/8"],
            "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
            "SECURE_HSTS_SECONDS": 3600,
        },
        ("204", 1),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_gate_answers_and_counts_as_django_does(case, store, checked, settings):
    story_kwargs, headers, changed, (status, counted) = CASES[case]
    for name, value in changed.items():
        setattr(settings, name, value)
    answers = []
    for path in (through_django, through_gate):
        story = ArticleFactory(**story_kwargs)
        sent = {
            name: value.replace("<pk>", str(story.pk)) if isinstance(value, str) else value
            for name, value in headers.items()
        }
        answer = path(story.pk, **sent)
        assert answer[0].startswith(status), (path.__name__, answer)
        assert (current_count(story.pk) or 0) == counted, path.__name__
        answers.append(comparable(answer, story.pk))
    assert answers[0] == answers[1]
    assert checked  # the thread's connections were looked at after the beacon


def test_https_answers_carry_hsts_and_a_secure_cookie_and_forged_ones_do_not(checked, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.0/8"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    story = ArticleFactory()
    _, proxied, _ = through_gate(story.pk, HTTP_X_FORWARDED_PROTO="https", REMOTE_ADDR="10.1.1.1")
    _, forged, _ = through_gate(story.pk, HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" in dict(proxied)
    assert "; Secure" in dict(proxied)["Set-Cookie"]
    assert "Strict-Transport-Security" not in dict(forged)
    assert "Secure" not in dict(forged)["Set-Cookie"]


@pytest.mark.parametrize(
    ("method", "headers", "changed"),
    [
        ("get", {}, {}),
        ("head", {}, {}),
        ("post", {"HTTP_COOKIE": "sessionid=abc"}, {}),
        ("post", {}, {"SECURE_SSL_REDIRECT": True}),
    ],
    ids=["GET", "HEAD", "a signed-in session", "http to be redirected"],
)
def test_what_the_gate_does_not_take_reaches_django_untouched(method, headers, changed, settings):
    for name, value in changed.items():
        setattr(settings, name, value)
    story = ArticleFactory()
    reached = []

    def django(environ, start_response):
        reached.append(environ["PATH_INFO"])
        start_response("299 Django", [])
        return [b"django"]

    assert through_gate(story.pk, method, app=django, **headers) == ("299 Django", [], b"django")
    assert reached == [f"/views/{story.pk}/"]
    assert (current_count(story.pk) or 0) == 0


def test_other_addresses_reach_django_untouched():
    reached = []

    def django(environ, start_response):
        reached.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b""]

    gate = beacon.BeaconGate(django)
    for path in ["/", "/views/1", "/views/1/x/", "/views/x/", "/api/v1/stories"]:
        environ = RequestFactory().post(path, **headers_of()).environ
        gate(environ, lambda status, headers, exc_info=None: None)
    assert reached == ["/", "/views/1", "/views/1/x/", "/views/x/", "/api/v1/stories"]


def test_a_signed_in_editor_is_not_counted_through_the_wsgi_application(checked):
    story, editor = ArticleFactory(), Client()
    editor.force_login(StaffFactory())
    request = RequestFactory().post(f"/views/{story.pk}/", **headers_of())
    request.environ["HTTP_COOKIE"] = f"sessionid={editor.cookies['sessionid'].value}"
    gate = beacon.BeaconGate(lambda environ, start_response: Client().handler(environ))
    response = gate(request.environ, lambda status, headers, exc_info=None: None)
    assert response.status_code == 204
    assert (current_count(story.pk) or 0) == 0


@pytest.mark.parametrize("where", ["judge", "_taken_headers"])
def test_an_error_is_answered_as_django_would(where, checked, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("the store fell over")

    monkeypatch.setattr(beacon, where, broken)
    story = ArticleFactory()
    status, headers, _ = through_gate(story.pk)
    assert status == "500 Internal Server Error"
    assert dict(headers)["X-Content-Type-Options"] == "nosniff"
    assert "the store fell over" in caplog.text
    assert checked


def test_a_refusal_is_logged_as_django_logs_it(caplog):
    story = ArticleFactory(draft=True)
    through_gate(story.pk)
    assert f"Not Found: /views/{story.pk}/" in caplog.text


def test_the_gate_stands_in_for_the_first_middleware():
    assert settings.MIDDLEWARE[: len(beacon.GATE_STANDS_FOR)] == beacon.GATE_STANDS_FOR


def test_the_wsgi_application_is_the_gate_around_django():
    assert isinstance(wsgi.application, beacon.BeaconGate)
    assert wsgi.application.application is wsgi.django_application


# --- with Redis: one round trip, and what it checks ---------------------------------------------


@pytest.fixture
def redis_store(settings):
    with views_in_redis(settings, "beacon-gate-test") as (client, _):
        yield client


def commands_sent(monkeypatch) -> list:
    """The commands the site sends to Redis from now on, by name."""
    import redis

    sent = []
    execute = redis.Redis.execute_command

    def counting(self, *args, **options):
        sent.append(str(args[0]))
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    return sent


def test_a_counted_beacon_is_one_round_trip_to_redis(redis_store, checked, monkeypatch):
    story = ArticleFactory()
    # The first beacon finds no content version in Redis: it is drawn from the database and
    # filed there; the second learns it, and whether readers see the story.
    through_gate(story.pk)
    through_gate(story.pk)
    sent = commands_sent(monkeypatch)
    for _ in range(5):
        assert through_gate(story.pk)[0] == "204 No Content"
    assert sent == ["EVALSHA"] * 5
    assert current_count(story.pk) == 7


def test_a_story_withdrawn_after_the_worker_saw_it_is_no_longer_counted(redis_store, checked):
    story = ArticleFactory()
    assert through_gate(story.pk)[0] == "204 No Content"
    story.unpublish()
    services.save_story(story, by=StaffFactory())
    assert through_gate(story.pk)[0] == "404 Not Found"
    assert current_count(story.pk) == 1


def test_the_beacons_limit_is_the_rate_limiters_own_counter(redis_store, checked, settings):
    """Both paths (one round trip, and over_limit() when Redis must be asked step by step)
    count a client in the same window."""
    settings.VIEW_BEACON_RATE = Rate(3, 60)
    story = ArticleFactory()
    assert [through_gate(story.pk)[0][:3] for _ in range(2)] == ["204", "204"]
    assert over_limit("views:127.0.0.1", settings.VIEW_BEACON_RATE) is None  # the third
    status, headers, _ = through_gate(story.pk)
    assert status == "429 Too Many Requests"
    assert 1 <= int(dict(headers)["Retry-After"]) <= 60
    assert current_count(story.pk) == 2


def test_readers_at_once_are_each_counted_once(redis_store, checked, unbounded_pool_queue):
    story = ArticleFactory()
    # The first beacon files the content version, the second keeps the story's visibility:
    # the threads then ask Redis (and, each once, the database's clock: connections they give
    # back), never for the story, which they could not see uncommitted.
    through_gate(story.pk)
    through_gate(story.pk)
    start, statuses = threading.Barrier(20), []

    def read():
        start.wait()
        statuses.append(through_gate(story.pk)[0])

    threads = [threading.Thread(target=read) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == ["204 No Content"] * 20
    assert current_count(story.pk) == 22


def test_without_redis_a_beacon_is_counted_in_the_database(settings, checked):
    story = ArticleFactory()
    redis_cache(settings, DEAD_REDIS_URL, "dead")
    assert through_gate(story.pk)[0] == "204 No Content"
    settings.VIEW_BUFFER = False
    assert current_count(story.pk) == 1
