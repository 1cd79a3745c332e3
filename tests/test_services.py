"""The one door for story writes (articles/services.py), the story's rules on the model, its
state defined once, and one series order for the pages and the API."""

from datetime import timedelta
from itertools import product

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.utils import timezone

from articles import clock, versions
from articles.models import Article, Revision, SearchDocument, State, Status
from articles.services import delete_stories, save_story
from tests.api_support import API
from tests.factories import (
    ArticleFactory,
    CompanyFactory,
    SeriesFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_one_save_does_every_step(django_capture_on_commit_callbacks):
    editor = UserFactory()
    version = versions.current()
    story = Article(title="문 하나로 저장", body="본문", company=CompanyFactory())

    with django_capture_on_commit_callbacks(execute=True):
        revision = save_story(story, by=editor, note="처음 저장", tags=[TagFactory(name="문")])

    assert (revision.number, revision.note, revision.author) == (1, "처음 저장", editor)
    assert revision.snapshot["tags"] == [tag.pk for tag in story.tags.all()]
    assert SearchDocument.objects.filter(article=story).exists()
    assert "문" in SearchDocument.objects.get(article=story).body_terms.split()
    assert versions.current() != version


def test_the_history_line_says_what_happened_to_the_publication():
    editor = UserFactory()
    story = ArticleFactory(draft=True)
    story.publish()
    save_story(story, by=editor, audit="고침", via="토큰 cs_test")
    story.title = "제목만 고침"
    save_story(story, by=editor, audit="제목을 고침")

    lines = LogEntry.objects.order_by("pk").values_list("change_message", "action_flag")
    assert list(lines) == [("발행 (토큰 cs_test)", CHANGE), ("제목을 고침", CHANGE)]


def test_a_new_story_saved_by_a_program_is_an_addition_in_the_history():
    save_story(Article(title="새 글"), by=UserFactory(), audit="API로 초안을 만들었습니다")
    assert LogEntry.objects.get().action_flag == ADDITION


def test_the_rules_refuse_a_bad_story_and_nothing_is_written():
    series = SeriesFactory()
    ArticleFactory(series=series, series_part=1)
    story = Article(title="2편", series=series, series_part=1)

    with pytest.raises(ValidationError) as refused:
        save_story(story, by=None)

    assert refused.value.error_dict["series_part"][0].code == "unique"
    assert Article.objects.count() == 1
    assert not Revision.objects.filter(article__title="2편").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"series_part": 1}, "series_part"),  # a part number needs a series
        ({"unpublish_at": timezone.now() - timedelta(days=2)}, "unpublish_at"),
    ],
)
def test_cross_field_rules_live_on_the_model(fields, field):
    story = Article(title="규칙", published_at=timezone.now() - timedelta(days=1), **fields)
    with pytest.raises(ValidationError) as refused:
        story.full_clean()
    assert field in refused.value.error_dict


def test_publishing_a_story_whose_unpublish_time_passed_is_refused_not_ignored():
    story = ArticleFactory(expired=True)
    story.status = Status.DRAFT
    save_story(story, by=None)
    story.status = Status.PUBLISHED
    with pytest.raises(ValidationError, match="내릴 시각이 이미 지나서"):
        story.full_clean()
    assert story.publish()  # the action moves the unpublish time out of the way instead
    story.full_clean()
    assert story.state == State.PUBLISHED


def test_unpublishing_now_withdraws_only_what_readers_see():
    live, draft = ArticleFactory(), ArticleFactory(draft=True)
    assert live.unpublish()
    # "Now" is the database's clock (articles/clock.py), which may run ahead of this host's.
    assert live.unpublish_at <= clock.now_datetime()
    assert not draft.unpublish()


def test_deleting_stories_drops_the_cached_pages(django_capture_on_commit_callbacks):
    story = ArticleFactory()
    version = versions.current()
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_stories([story]) == 1
    assert not Article.objects.exists()
    assert versions.current() != version


# --- One definition of a story's state ------------------------------------------------------


def test_the_state_in_memory_is_the_state_the_database_finds():
    """Every combination of status and times around now: the instance's state, the list's
    annotation and the query filter of each state agree, and published() is one of them."""
    now = timezone.now()
    past, future = now - timedelta(days=2), now + timedelta(days=2)
    stories = []
    for status, published_at, unpublish_at in product(
        Status.values,
        [None, past, future],
        [None, now - timedelta(hours=1), future + timedelta(days=1)],
    ):
        if status == Status.PUBLISHED and published_at is None:
            continue  # the table refuses it (article_published_has_date)
        if unpublish_at and published_at and unpublish_at <= published_at:
            continue  # the table refuses it (article_unpublish_after_publish)
        stories.append(
            ArticleFactory(status=status, published_at=published_at, unpublish_at=unpublish_at)
        )

    annotated = {story.pk: story.state for story in Article.objects.with_state(now)}
    for state in State:
        found = set(Article.objects.in_state(state, now).values_list("pk", flat=True))
        assert found == {s.pk for s in stories if s.state == state}, state
        assert found == {pk for pk, value in annotated.items() if value == state}, state
    assert set(Article.objects.published(now)) == {s for s in stories if s.is_public}
    assert {s.state for s in stories} == set(State)


# --- One series order ------------------------------------------------------------------------


def test_the_series_order_is_the_same_on_the_page_and_in_the_api(client):
    series = SeriesFactory(title="순서 확인", slug="order")
    unnumbered = ArticleFactory(title="번호 없는 편", series=series, series_part=None)
    second = ArticleFactory(title="둘째 편", series=series, series_part=2)
    first = ArticleFactory(title="첫째 편", series=series, series_part=1)
    expected = [first.title, second.title, unnumbered.title]

    html = client.get(series.get_absolute_url()).content.decode()
    api = client.get(f"{API}/series/order").json()
    story_page = client.get(unnumbered.get_absolute_url(), follow=True).content.decode()

    assert sorted(expected, key=html.index) == expected
    assert [story["title"] for story in api["stories"]] == expected
    assert "3/3" in story_page


def test_a_state_read_with_the_row_follows_the_story_s_own_changes():
    draft, story = ArticleFactory(status=Status.DRAFT), ArticleFactory()
    listed = {found.pk: found for found in Article.objects.with_state()}
    draft, story = listed[draft.pk], listed[story.pk]
    assert (draft.state, story.state) == (State.DRAFT, State.PUBLISHED)
    assert draft.submit_for_review()
    assert draft.state == State.REVIEW
    assert story.unpublish()
    assert story.state == State.UNPUBLISHED
    assert story.publish()
    assert story.state == State.PUBLISHED
    assert story.move_to_draft()
    assert story.state == State.DRAFT
