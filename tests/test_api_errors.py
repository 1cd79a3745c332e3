"""Every answer under /api/ is JSON in one shape, conditional GETs answer 304, limits answer
429, and no input, however odd, makes a 500."""

import json
from datetime import timedelta
from unittest import mock
from urllib.parse import quote

import psycopg_pool
import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone
from django.utils.http import http_date

from articles.models import Article
from articles.services import save_story
from culture.env import parse_rate
from tests.api_support import (
    API,
    RESOURCE_PATHS,
    bearer,
    editor,
    error_of,
    story_with_everything,
    token_for,
    url,
)
from tests.factories import (
    ArticleFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def content():
    return story_with_everything()


@pytest.mark.parametrize("path", RESOURCE_PATHS)
def test_every_get_answers_304_to_a_matching_if_none_match(client, content, path):
    first = client.get(url(path, content))
    assert first.status_code == 200
    assert first["ETag"].startswith('W/"')
    assert first["Last-Modified"]

    again = client.get(url(path, content), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]

    stale = client.get(url(path, content), headers={"If-None-Match": 'W/"old"'})
    assert stale.status_code == 200


@pytest.mark.parametrize("path", RESOURCE_PATHS)
def test_every_get_answers_304_to_if_modified_since(client, content, path):
    first = client.get(url(path, content))

    again = client.get(url(path, content), headers={"If-Modified-Since": first["Last-Modified"]})
    assert again.status_code == 304

    earlier = http_date((timezone.now() - timedelta(days=30)).timestamp())
    assert client.get(url(path, content), headers={"If-Modified-Since": earlier}).status_code == 200


def test_an_edit_changes_the_etags_of_the_list_and_the_story(client, content):
    list_etag = client.get(f"{API}/stories")["ETag"]
    story_etag = client.get(f"{API}/stories/{content.pk}")["ETag"]

    content.title = "바뀐 제목"
    save_story(content, by=None)

    assert client.get(f"{API}/stories", headers={"If-None-Match": list_etag}).status_code == 200
    response = client.get(f"{API}/stories/{content.pk}", headers={"If-None-Match": story_etag})
    assert response.status_code == 200
    assert response.json()["title"] == "바뀐 제목"


def test_a_scheduled_story_coming_due_changes_the_list_etag(client, content, monkeypatch):
    scheduled = ArticleFactory(scheduled=True)
    etag = client.get(f"{API}/stories")["ETag"]

    # Its time comes (no save: the clock moves past published_at).
    later = scheduled.published_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    response = client.get(f"{API}/stories", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert scheduled.pk in [item["id"] for item in response.json()["items"]]


def test_different_filters_have_different_etags(client, content):
    assert client.get(f"{API}/stories?page_size=5")["ETag"] != client.get(f"{API}/stories")["ETag"]


def test_a_304_runs_one_query_for_a_list(client, content, django_assert_num_queries):
    etag = client.get(f"{API}/stories")["ETag"]

    with django_assert_num_queries(1):
        response = client.get(f"{API}/stories", headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_unknown_paths_under_the_api_answer_json_404(client):
    for path in ("/api/v1/nothing", "/api/v1/stories/1/nothing", "/api/v2/stories", "/api/"):
        error_of(client.get(path), 404, "not_found")


def test_wrong_methods_answer_json_405_with_allow(client, content):
    response = client.delete(f"{API}/stories")
    error_of(response, 405, "method_not_allowed")
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "POST"}

    response = client.put(f"{API}/stories/{content.pk}")
    error_of(response, 405)
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "PATCH"}


def test_head_answers_like_get_without_a_body(client, content):
    response = client.head(f"{API}/stories/{content.pk}")

    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"] == client.get(f"{API}/stories/{content.pk}")["ETag"]


def test_an_oversized_body_answers_json_413_before_it_is_read(client, settings, token):
    settings.API_MAX_BODY_BYTES = 1000

    response = client.post(
        f"{API}/stories",
        data=json.dumps({"title": "가", "body": "나" * 1000}),
        content_type="application/json",
        headers=bearer(token),
    )

    assert "1,000" in error_of(response, 413, "payload_too_large")["message"]
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("q=%00", ["query", "q"]),
        ("company=%00", ["query", "company"]),
        ("tag=a%00b", ["query", "tag"]),
        ("kind=essay", ["query", "kind"]),
        ("job_family=%ED%8C%8C", ["query", "job_family"]),
        ("page=99999999999999999999999", ["query", "page"]),
        ("page=-5", ["query", "page"]),
        ("page_size=1e3", ["query", "page_size"]),
        ("updated_since=yesterday", ["query", "updated_since"]),
        ("updated_since=0001-01-01T00:00:00%2B14:00", ["query", "updated_since"]),
        ("q=" + "가" * 101, ["query", "q"]),
    ],
)
def test_odd_query_strings_answer_422_with_the_field(client, query, loc):
    body = error_of(client.get(f"{API}/stories?{query}"), 422, "validation_error")

    assert body["errors"][0]["loc"] == loc
    assert body["errors"][0]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/stories/0",
        "/stories/9223372036854775808",
        "/stories/99999999999999999999999999",
        "/stories/by-slug/a%00b",
        "/companies/a%00b",
        "/tags/" + "a" * 200,
    ],
)
def test_odd_paths_answer_422_never_500(client, path):
    error_of(client.get(f"{API}{path}"), 422)


def test_a_naive_updated_since_is_seoul_time(client):
    story = ArticleFactory()
    seoul = timezone.localtime(story.updated_at).replace(tzinfo=None)

    before = (seoul - timedelta(minutes=1)).isoformat()
    after = (seoul + timedelta(minutes=1)).isoformat()

    assert client.get(f"{API}/stories?updated_since={quote(before)}").json()["count"] == 1
    assert client.get(f"{API}/stories?updated_since={quote(after)}").json()["count"] == 0


def test_a_server_error_is_json_with_a_request_id_and_no_traceback(client, caplog):
    with mock.patch("api.stories.filtered", side_effect=ZeroDivisionError("secret")):
        response = client.get(f"{API}/stories")

    body = error_of(response, 500, "server_error")
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["request_id"] in caplog.text
    assert "ZeroDivisionError" in caplog.text


def test_an_exhausted_pool_answers_json_503_with_retry_after(client):
    timeout = psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec")
    error = OperationalError(str(timeout))
    error.__cause__ = timeout

    with mock.patch("api.stories.filtered", side_effect=error):
        response = client.get(f"{API}/stories")

    error_of(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) >= 1


def test_reads_are_limited_per_client_with_retry_after(client, settings):
    settings.API_THROTTLE_RATES = {"read": parse_rate("3/min"), "write": None}
    cache.clear()

    for _ in range(3):
        assert client.get(f"{API}/stories").status_code == 200
    limited = client.get(f"{API}/tags")

    error_of(limited, 429, "throttled")
    assert 1 <= int(limited["Retry-After"]) <= 60
    other_client = client.get(f"{API}/stories", REMOTE_ADDR="10.0.0.2")
    assert other_client.status_code == 200


def test_a_forwarded_for_header_cannot_dodge_the_limit(client, settings):
    settings.API_THROTTLE_RATES = {"read": parse_rate("2/min"), "write": None}
    cache.clear()

    statuses = [
        client.get(f"{API}/stories", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]

    assert statuses == [200, 200, 429]


def test_writes_are_limited_per_token(client, settings):
    settings.API_THROTTLE_RATES = {"read": None, "write": parse_rate("2/min")}
    cache.clear()
    user = editor()
    first, second = token_for(user), token_for(user)

    def create(raw):
        return client.post(
            f"{API}/stories",
            data=json.dumps({"title": "제목"}),
            content_type="application/json",
            headers=bearer(raw),
        )

    assert [create(first).status_code for _ in range(3)] == [201, 201, 429]
    assert "Retry-After" in create(first)
    assert create(second).status_code == 201


def test_the_limits_count_in_the_shared_database_cache_without_redis(settings):
    assert settings.CACHES["default"]["BACKEND"] == "ops.database_cache.LeanDatabaseCache"
    cache.set("shared", 1)
    assert cache.get("shared") == 1


def test_the_schema_and_the_docs_are_served(client):
    schema = client.get(f"{API}/openapi.json")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {
        "/api/v1/stories",
        "/api/v1/stories/{story_id}",
        "/api/v1/stories/by-slug/{slug}",
    } <= set(paths)
    assert "ErrorOut" in schema.json()["components"]["schemas"]
    for operations in paths.values():
        for operation in operations.values():
            assert "422" in operation["responses"] or "ops" in operation.get("tags", [])
    docs = client.get(f"{API}/docs")
    assert docs.status_code == 200
    assert b"openapi.json" in docs.content


def test_the_schema_is_built_once_per_process_and_served_the_same(client, monkeypatch):
    import ninja.main

    from culture.api import api

    built = []

    def counted(**kwargs):
        built.append(kwargs["path_prefix"])
        return real(**kwargs)

    real = ninja.main.get_schema
    monkeypatch.setattr(ninja.main, "get_schema", counted)
    monkeypatch.setattr(api, "_kept_schemas", {}, raising=False)
    first, second = (client.get(f"{API}/openapi.json") for _ in range(2))
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert built == ["/api/v1/"]


@pytest.mark.parametrize("path", ["openapi.json", "docs"])
def test_the_schema_and_the_docs_answer_304_to_their_etag(client, path):
    first = client.get(f"{API}/{path}")
    assert first.status_code == 200
    assert first["ETag"]

    again = client.get(f"{API}/{path}", headers={"If-None-Match": first["ETag"]})

    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_answers_415_naming_the_type(client, content_type, token):
    response = client.post(
        f"{API}/stories", data="title=x", content_type=content_type, headers=bearer(token)
    )

    body = error_of(response, 415, "unsupported_media_type")
    assert content_type in body["message"]
    assert not Article.objects.exists()


def test_malformed_json_declared_as_json_stays_a_400(client, token):
    response = client.post(
        f"{API}/stories", data="{title", content_type="application/json", headers=bearer(token)
    )

    error_of(response, 400)


def test_a_repeated_query_parameter_answers_422_naming_it(client):
    response = client.get(f"{API}/stories?kind=feed&kind=news&page=1")

    body = error_of(response, 422, "validation_error")
    assert body["errors"] == [
        {
            "loc": ["query", "kind"],
            "message": "이 값은 한 번만 보낼 수 있습니다.",
            "type": "repeated",
        }
    ]
