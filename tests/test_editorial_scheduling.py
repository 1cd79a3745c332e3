"""Scheduling you can see: the story list names each story's state (초안, 검토 중, 예약 with
when, 발행, 내림) in Seoul time, filters by it, and times pass without any cron job."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.editorial_support import CHANGELIST, change_url, split, story_data
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def stories():
    now = timezone.now()
    return {
        "draft": ArticleFactory(title="초안 글", draft=True),
        "review": ArticleFactory(title="검토 글", in_review=True),
        "scheduled": ArticleFactory(title="예약 글", published_at=now + timedelta(hours=30)),
        "published": ArticleFactory(title="발행 글", unpublish_at=now + timedelta(days=3)),
        "unpublished": ArticleFactory(title="내린 글", expired=True),
    }


def seoul(moment):
    return moment.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")


def test_the_list_names_all_five_states_with_seoul_times(editor_client, stories):
    response = editor_client.get(reverse(CHANGELIST))
    html = response.content.decode()
    label = response.context["cl"].model_admin.state_label
    states = {story.title: str(label(story)) for story in response.context["cl"].result_list}
    assert states == {
        "초안 글": "초안",
        "검토 글": "검토 중",
        "예약 글": f"예약 <small>({seoul(stories['scheduled'].published_at)})</small>",
        "발행 글": f"발행 <small>({seoul(stories['published'].unpublish_at)}에 내림)</small>",
        "내린 글": f"내림 <small>({seoul(stories['unpublished'].unpublish_at)})</small>",
    }
    assert f"예약 <small>({seoul(stories['scheduled'].published_at)})</small>" in html


@pytest.mark.parametrize(
    ("state", "titles"),
    [
        ("draft", ["초안 글"]),
        ("review", ["검토 글"]),
        ("scheduled", ["예약 글"]),
        ("published", ["발행 글"]),
        ("unpublished", ["내린 글"]),
    ],
)
def test_the_list_filters_by_state(editor_client, stories, state, titles):
    response = editor_client.get(reverse(CHANGELIST), {"state": state})
    assert [str(story) for story in response.context["cl"].result_list] == titles


def test_the_state_filter_is_offered_with_korean_names(editor_client, stories):
    html = editor_client.get(reverse(CHANGELIST)).content.decode()
    for label in ("초안", "검토 중", "예약", "발행", "내림"):
        assert f">{label}</a>" in html


def test_a_scheduled_story_counts_as_published_once_its_time_has_come(
    editor_client, stories, monkeypatch
):
    later = timezone.now() + timedelta(hours=31)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = editor_client.get(reverse(CHANGELIST), {"state": "published"})
    assert "예약 글" in [str(story) for story in response.context["cl"].result_list]
    response = editor_client.get(reverse(CHANGELIST), {"state": "scheduled"})
    assert list(response.context["cl"].result_list) == []


def test_times_are_stored_in_utc_and_shown_in_seoul(editor_client, stories):
    story = stories["scheduled"]
    story.refresh_from_db()
    assert story.published_at.utcoffset() == timedelta(0)
    html = editor_client.get(change_url(story)).content
    assert story.published_at.astimezone(SEOUL).strftime("%H:%M").encode() in html


def test_republishing_a_withdrawn_story_asks_to_move_its_unpublish_time(editor_client):
    withdrawn = ArticleFactory(title="돌아올 글", expired=True)
    withdrawn.status = "draft"
    withdrawn.save()
    url = change_url(withdrawn)

    response = editor_client.post(url, story_data(withdrawn, status="published"))

    assert response.status_code == 200
    assert "내릴 시각이 이미 지나서" in str(response.context["adminform"].form.errors)
    withdrawn.refresh_from_db()
    assert withdrawn.status == "draft"

    moved = story_data(withdrawn, status="published", **split("unpublish_at", None))
    assert editor_client.post(url, moved).status_code == 302
    withdrawn.refresh_from_db()
    assert withdrawn.is_public


def test_editing_a_story_whose_time_ran_out_needs_no_new_unpublish_time(editor_client):
    ended = ArticleFactory(title="끝난 글", expired=True)
    response = editor_client.post(change_url(ended), story_data(ended, excerpt="요약만 고침"))
    assert response.status_code == 302
