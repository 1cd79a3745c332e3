"""What an attacker's or a flaky network's requests get from the API: a body in the wrong
type, a query string with too many fields, a write retried with an Idempotency-Key."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article
from tests.api_support import API, bearer, editor, error_of, post_json, token_for
from tests.factories import ArticleFactory
from tokens.models import IdempotentRequest

pytestmark = pytest.mark.django_db

STORY = {"title": "재시도해도 한 번만", "kind": "feed", "body": "본문입니다."}


def create(client, token, payload=STORY, **headers):
    return post_json(client, "/stories", payload, token, **headers)


# --- Content types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", json.dumps(STORY)),
        ("application/xml", "<story><title>x</title></story>"),
        ("application/x-www-form-urlencoded", "title=x&kind=feed&body=y"),
        ("multipart/form-data; boundary=zz", '--zz\r\nContent-Disposition: form-data; name="t"'),
        ("", json.dumps(STORY)),
    ],
)
def test_a_body_that_is_not_json_is_a_415_and_writes_nothing(client, token, content_type, body):
    response = client.generic(
        "POST", f"{API}/stories", data=body, content_type=content_type, headers=bearer(token)
    )
    message = error_of(response, 415)["message"]
    assert "application/json" in message
    assert not Article.objects.exists()


def test_a_json_based_type_is_read_as_json(client, token):
    response = client.post(
        f"{API}/stories",
        data=json.dumps(STORY),
        content_type="application/merge-patch+json",
        headers=bearer(token),
    )
    assert response.status_code == 201, response.content


def test_a_patch_in_the_wrong_type_is_a_415(client, token):
    story = ArticleFactory(draft=True)
    headers = {**bearer(token), "If-Match": '"1"'}
    response = client.patch(f"{API}/stories/{story.pk}", "title=x", "text/plain", headers=headers)
    error_of(response, 415)


def test_too_many_query_fields_is_a_json_400(client):
    query = "&".join(f"f{n}=1" for n in range(1001))
    body = error_of(client.get(f"{API}/stories?{query}"), 400)
    assert "1,000" in body["message"]
    # Up to the limit the query is read as usual (a repeated page= is refused for itself).
    at_limit = client.get(f"{API}/stories?" + "&".join(["page=1"] * 1000))
    assert "page" in json.dumps(error_of(at_limit, 422)["errors"])


# --- Idempotency-Key --------------------------------------------------------------------------


def test_a_create_retried_with_its_key_is_done_once_and_answered_the_same(client, token):
    first = create(client, token, **{"Idempotency-Key": "retry-1"})
    again = create(client, token, **{"Idempotency-Key": "retry-1"})

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert Article.objects.count() == 1
    assert not first.has_header("Idempotent-Replayed")


def test_without_a_key_every_post_is_a_new_write(client, token):
    create(client, token)
    create(client, token, payload={**STORY, "slug": "second"})
    assert Article.objects.count() == 2


def test_a_key_spent_on_another_request_is_a_422(client, token):
    create(client, token, **{"Idempotency-Key": "k"})
    other = create(client, token, payload={**STORY, "title": "다른 글"}, **{"Idempotency-Key": "k"})
    assert error_of(other, 422)["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert Article.objects.count() == 1


def test_a_key_still_being_answered_is_a_409_until_abandoned(client, token, user):
    from api.idempotency import ABANDONED, _sender

    class Request:
        headers = bearer(token)

    scope = _sender(Request())
    fingerprint = "0" * 64
    claim = IdempotentRequest.objects.create(scope=scope, key="busy", fingerprint=fingerprint)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("api.idempotency.hashlib.sha256", _fixed_fingerprint(fingerprint))
        busy = create(client, token, **{"Idempotency-Key": "busy"})
        assert error_of(busy, 409)["message"]
        assert busy["Retry-After"] == "1"
        IdempotentRequest.objects.filter(pk=claim.pk).update(
            created_at=timezone.now() - ABANDONED - timedelta(seconds=1)
        )
        taken_over = create(client, token, **{"Idempotency-Key": "busy"})
    assert taken_over.status_code == 201
    assert Article.objects.count() == 1


def _fixed_fingerprint(fingerprint):
    """sha256 as usual, except that the request's fingerprint is `fingerprint`."""
    import hashlib

    real = hashlib.sha256

    class Fixed:
        def __init__(self, data=b""):
            self.inner = real(data)
            self.is_request = data.startswith(b"POST\n")

        def hexdigest(self):
            return fingerprint if self.is_request else self.inner.hexdigest()

    return Fixed


def test_keys_belong_to_their_sender(client, token):
    other = token_for(editor("other"), "stories:write")
    create(client, token, **{"Idempotency-Key": "shared-name"})
    theirs = create(
        client, other, payload={**STORY, "slug": "theirs"}, **{"Idempotency-Key": "shared-name"}
    )
    assert theirs.status_code == 201
    assert not theirs.has_header("Idempotent-Replayed")
    assert Article.objects.count() == 2


def test_a_refused_write_is_not_kept_so_a_retry_can_succeed(client, token):
    ArticleFactory(slug="taken")
    refused = create(client, "cul_wrong", payload={**STORY}, **{"Idempotency-Key": "auth"})
    assert refused.status_code == 401
    assert not IdempotentRequest.objects.exists()
    taken = {**STORY, "slug": "taken"}
    assert create(client, token, payload=taken, **{"Idempotency-Key": "t"}).status_code == 409
    assert not IdempotentRequest.objects.exists()
    Article.objects.filter(slug="taken").delete()
    # The slug is free now: the same request with the same key is done, not answered 409 again.
    assert create(client, token, payload=taken, **{"Idempotency-Key": "t"}).status_code == 201


def test_a_malformed_key_is_a_422(client, token):
    response = create(client, token, **{"Idempotency-Key": "with space"})
    assert error_of(response, 422)["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert not Article.objects.exists()


def test_a_publish_retried_with_its_key_is_done_once(client, token):
    story = ArticleFactory(draft=True)
    path = f"{API}/stories/{story.pk}/publish"
    headers = {**bearer(token), "Idempotency-Key": "publish-1"}
    first = client.post(path, data="{}", content_type="application/json", headers=headers)
    story.refresh_from_db()
    published_at = story.published_at
    again = client.post(path, data="{}", content_type="application/json", headers=headers)
    assert first.status_code == again.status_code == 200, first.content
    assert again["Idempotent-Replayed"] == "true"
    story.refresh_from_db()
    assert story.published_at == published_at


def test_the_key_is_documented_on_the_writes_it_applies_to(client):
    schema = client.get(f"{API}/openapi.json").json()
    for path in ("/api/v1/stories", "/api/v1/stories/{story_id}/publish"):
        names = [p["name"] for p in schema["paths"][path]["post"]["parameters"]]
        assert "Idempotency-Key" in names
