"""A page drawn in a kept frame (reader/frame.py) is the page its template renders, and a frame
that cannot be made or has gone stale is never used."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings
from django.urls import resolve
from django.utils.safestring import mark_safe

from reader import frame

PARTS = {
    "title": "풀 &amp; 커넥션",
    "description": "설명 &lt;b&gt;",
    "share_tags": '\n  <link rel="canonical" href="https://example.com/x">\n',
    "json_ld": '{"headline": "\\u003Cb\\u003E"}',
    "content": '\n<div class="story-layout"><p>본문 \ue000 그대로</p></div>\n',
}


@pytest.fixture(autouse=True)
def no_frames():
    frame.forget_frames()
    yield
    frame.forget_frames()


def story_request(path="/stories/7/slug/"):
    request = RequestFactory().get(path)
    request.resolver_match = resolve(path)
    return request


def direct(request, template_name, parts, flags):
    context = {**flags, **{name: mark_safe(text) for name, text in parts.items()}}
    return render_to_string(template_name, context, request)


@pytest.mark.parametrize(
    "flags",
    [
        {"is_preview": False, "count_url": True},
        {"is_preview": True, "count_url": False},
    ],
)
def test_a_story_page_in_its_frame_is_what_its_template_renders(flags):
    request = story_request()
    first = frame.page(request, "reader/story.html", PARTS, flags)
    assert first == direct(request, "reader/story.html", PARTS, flags)
    assert ("noindex, nofollow" in first) is flags["is_preview"]
    assert ("js/views" in first) is flags["count_url"]
    # A second page reuses the frame and shows its own parts, whatever characters they hold.
    other = {**PARTS, "title": "다른 제목", "content": "<p>\ue000title\ue000</p>"}
    second = frame.page(request, "reader/story.html", other, flags)
    assert second == direct(request, "reader/story.html", other, flags)
    assert len(frame._frames) == 1


def test_a_setting_change_draws_the_frame_again():
    request = story_request()
    flags = {"is_preview": False, "count_url": True}
    with override_settings(SITE_NAME="첫 이름"):
        assert "· 첫 이름</title>" in frame.page(request, "reader/story.html", PARTS, flags)
    with override_settings(SITE_NAME="둘째 이름"):
        page = frame.page(request, "reader/story.html", PARTS, flags)
    assert "· 둘째 이름</title>" in page
    assert "첫 이름" not in page


LOCMEM = {
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "OPTIONS": {
        "loaders": [
            (
                "django.template.loaders.locmem.Loader",
                {
                    "twice.html": "<h1>{{ title }}</h1><p>{{ title }}</p>",
                    "changed.html": "<h1>{{ title|upper }}</h1>",
                    "dropped.html": "<h1>{% if not title %}{{ title }}{% endif %}고정</h1>",
                },
            )
        ]
    },
}


@pytest.mark.parametrize("template_name", ["twice.html", "changed.html", "dropped.html"])
def test_a_template_that_does_not_write_each_part_once_as_given_is_rendered_every_time(
    template_name,
):
    request = story_request()
    with override_settings(TEMPLATES=[LOCMEM]):
        for title in ("첫 제목 ABC", "둘째 제목 DEF"):
            parts = {"title": title}
            assert frame.page(request, template_name, parts) == direct(
                request, template_name, parts, {}
            )
        assert list(frame._frames.values()) == [None]


@pytest.mark.django_db
def test_a_test_reads_what_a_page_in_a_frame_was_made_from(client):
    response = client.get("/search/", {"q": "풀"})
    assert response.templates[0].name == "reader/search.html"
    assert response.context["query"].text == "풀"
    assert response.context["page"] is not None
