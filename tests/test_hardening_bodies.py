"""A body built to be slow to render is refused in bounded time, in the API (422) and the
admin (a form error), and nothing of it is saved; a long ordinary body still saves."""

import json

import pytest
from django.urls import reverse

from articles import rendering
from articles.models import Article
from tests.api_support import API, bearer, editor, token_for
from tests.editorial_support import story_data

pytestmark = pytest.mark.django_db

# The mixed body of the review: 199,000 characters of unclosed links, images and brackets
# and emphasis (unbounded, several seconds on any machine).
SLOW_BODY = ("[a](" * 9000 + "![" * 9000 + "[" * 20000 + "*a " * 15000 + "[" * 199_000)[:199_000]


@pytest.fixture(autouse=True)
def nothing_kept():
    rendering.render_body.cache_clear()
    yield
    rendering.render_body.cache_clear()


def test_the_api_refuses_a_body_that_cannot_render_in_time(client):
    token = token_for(editor(), "stories:write")
    response = client.post(
        f"{API}/stories",
        data=json.dumps({"title": "느린 본문", "kind": "feed", "body": SLOW_BODY}),
        content_type="application/json",
        headers=bearer(token),
    )

    assert response.status_code == 422, response.content[:300]
    [error] = response.json()["errors"]
    assert error["loc"][-1] == "body"
    assert error["type"] == "body_too_complex"
    assert "그리지 못했습니다" in error["message"]
    assert not Article.objects.exists()


def test_the_admin_says_so_at_the_body_and_keeps_what_was_typed(admin_client):
    response = admin_client.post(
        reverse("admin:articles_article_add"), story_data(title="느린 본문", body=SLOW_BODY)
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    [message] = form.errors["body"]
    assert "그리지 못했습니다" in message
    assert form["body"].value() == SLOW_BODY
    assert not Article.objects.exists()


def test_a_long_ordinary_body_renders_as_it_would_in_process(admin_client):
    body = "\n\n".join(
        f"## {i}번째\n\n[링크](https://example.com/{i}) *강조* `코드`" for i in range(700)
    )
    assert len(body) > rendering.RENDER_IN_PROCESS_MAX_CHARS

    response = admin_client.post(
        reverse("admin:articles_article_add"), story_data(title="긴 본문", body=body)
    )

    assert response.status_code == 302
    assert Article.objects.get().body_html == rendering.render_markdown(body)


def test_the_live_preview_refuses_it_the_same_way(admin_client, settings):
    settings.ARTICLE_BODY_MAX_CHARS = len(SLOW_BODY)
    response = admin_client.post(
        reverse("admin:articles_article_markdown_preview"),
        json.dumps({"body": SLOW_BODY}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "그리지 못했습니다" in response.json()["error"]
