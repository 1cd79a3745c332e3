"""The story form's live Markdown preview endpoint: for staff who write stories, POST with the
CSRF token, the site's own renderer and sanitiser, bounded in size and rate."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from culture.env import parse_rate
from tests.factories import ArticleFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("admin:articles_article_markdown_preview")


def preview(client, body, **extra):
    return client.post(URL, json.dumps({"body": body}), content_type="application/json", **extra)


def test_a_writer_gets_the_body_rendered_as_readers_will_see_it(client, writer):
    response = preview(
        client, "## 제목\n\n> “인용”\n\n본문[^1]\n\n[^1]: 각주\n\n| a | b |\n|:-:|--:|\n| 1 | 2 |"
    )
    assert response.status_code == 200
    html = response.json()["html"]
    assert '<h2 id="h-제목">' in html  # the same heading ids as a saved story
    assert "<blockquote>" in html
    assert 'class="footnotes"' in html
    assert '<th class="align-center">a</th>' in html  # no inline style: the CSP forbids it


def test_the_preview_is_sanitised_like_a_saved_story(client, editor):
    body = (
        "<script>alert(1)</script>\n\n[클릭](javascript:alert(2))\n\n"
        '<img src=x onerror="alert(3)">\n\n![그림](http://insecure.example/a.png)'
    )
    html = preview(client, body).json()["html"]
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert not re.search(r"<img[^>]*onerror", html)
    assert 'src="http://' not in html
    assert "&lt;script&gt;" in html  # shown as text, as on the story page


@pytest.mark.parametrize(
    "who",
    [
        pytest.param(None, id="anonymous"),
        pytest.param(lambda: UserFactory(), id="reader account"),
    ],
)
def test_people_who_are_not_staff_are_sent_to_the_login(client, who):
    if who:
        client.force_login(who())
    response = preview(client, "**굵게**")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "<strong>" not in response.content.decode()


def test_staff_without_story_permissions_are_refused(client):
    client.force_login(UserFactory(is_staff=True))
    response = preview(client, "**굵게**")
    assert response.status_code == 403
    assert "<strong>" not in response.content.decode()


def test_the_preview_needs_the_csrf_token(writer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(writer)
    refused = preview(client, "**굵게**")
    assert refused.status_code == 403
    client.get(reverse("admin:articles_article_add"))
    token = client.cookies["csrftoken"].value
    allowed = preview(client, "**굵게**", HTTP_X_CSRFTOKEN=token)
    assert allowed.status_code == 200
    assert allowed.json()["html"] == "<p><strong>굵게</strong></p>\n"


def test_a_get_is_refused_with_a_korean_message(client, writer):
    response = client.get(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "POST" in response.json()["error"]


def test_a_body_over_the_limit_gets_the_forms_message(client, writer, settings):
    settings.ARTICLE_BODY_MAX_CHARS = 100
    response = preview(client, "가" * 101)
    assert response.status_code == 413
    assert response.json()["error"] == "본문이 너무 깁니다: 101자입니다. 100자 이하로 줄여 주세요."
    assert preview(client, "가" * 100).status_code == 200


def test_a_request_larger_than_any_allowed_body_is_refused_unread(client, writer, settings):
    settings.ARTICLE_BODY_MAX_CHARS = 10
    response = preview(client, "x" * 2000)
    assert response.status_code == 413
    assert "10자 이하" in response.json()["error"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not json", "JSON으로 보내 주세요"),
        ('["a list"]', "본문(body)을 글자로"),
        ('{"body": 3}', "본문(body)을 글자로"),
    ],
)
def test_a_malformed_request_gets_a_clear_400(client, writer, payload, message):
    response = client.post(URL, payload, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_each_editor_has_a_rate_limit(client, writer, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "preview": parse_rate("3/min")}
    answers = [preview(client, f"{number}번").status_code for number in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = preview(client, "다시")
    assert "너무 잦습니다" in refused.json()["error"]
    assert int(refused["Retry-After"]) >= 1
    # Another editor has a window of their own.
    client.force_login(StaffFactory(role="writer"))
    assert preview(client, "다른 사람").status_code == 200


def test_the_story_form_loads_the_preview_script_with_its_address(client, writer):
    html = client.get(reverse("admin:articles_article_add")).content.decode()
    assert f'data-preview-url="{URL}"' in html
    assert "js/markdown-preview.js" in html


def test_a_story_the_writer_may_only_look_at_has_no_preview(client, writer):
    story = ArticleFactory(created_by=writer)  # published: no longer the writer's to change
    response = client.get(reverse("admin:articles_article_change", args=[story.pk]))
    assert response.status_code == 200
    assert "data-preview-url" not in response.content.decode()
