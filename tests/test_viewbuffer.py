"""조회수 buffered in Redis (articles/viewbuffer.py): N views add exactly N to the total and
to the day they arrived (Asia/Seoul), a batch is added once whatever crashes or races between
flushers, a Redis that cannot be reached or is not configured means views written at once,
counts still stop at their largest value, and a deleted story's buffered views vanish quietly.
Runs on SQLite and PostgreSQL; the Redis tests skip without Redis at TEST_REDIS_URL."""

import threading
from datetime import UTC, date, datetime
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import close_old_connections
from django.test import Client

from articles import viewbuffer
from articles.models import COUNT_MAX, DailyView, ViewFlush, ViewTotal
from articles.viewcounts import DAY_COUNT_MAX
from reader import viewcount
from tests.factories import ArticleFactory
from tests.readers_support import CHROME, read_story
from tests.redis_support import redis_cache, views_in_redis
from tests.test_env import settings_in_a_fresh_process

# Nothing listens on port 1: connections are refused at once.
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"
pytestmark = pytest.mark.django_db

# One second before and at midnight in Seoul (UTC+9).
BEFORE_MIDNIGHT = datetime(2026, 3, 1, 14, 59, 59, tzinfo=UTC)
AT_MIDNIGHT = datetime(2026, 3, 1, 15, 0, 0, tzinfo=UTC)


@pytest.fixture
def buffered(settings):
    """Views buffered in the Redis at TEST_REDIS_URL under this test's own key prefix (its keys
    are deleted afterwards)."""
    with views_in_redis(settings, "viewbuffer-test") as (client, _):
        assert viewbuffer.enabled()
        yield SimpleNamespace(client=client, buffer=viewbuffer.Buffer())


def visit(story, client=None):
    """A reader shown the story (its page, then its beacon); gives what a reload then shows."""
    client = client or Client()
    assert read_story(client, story.get_absolute_url(), CHROME).status_code == 200
    response = client.get(story.get_absolute_url(), HTTP_USER_AGENT=CHROME)
    assert response.status_code == 200
    return response.content.decode()


def stored_total(story) -> int:
    return ViewTotal.objects.filter(article=story).values_list("count", flat=True).first() or 0


def stored_days(story) -> dict[date, int]:
    return dict(DailyView.objects.filter(article=story).values_list("day", "count"))


def count(story, views: int) -> None:
    for _ in range(views):
        viewcount.record_view(story.pk)


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


# --- buffered views flush exactly ---------------------------------------------------------------


@pytest.mark.redis
def test_buffered_views_show_at_once_and_reach_the_database_at_the_flush(buffered):
    story = ArticleFactory()
    ViewTotal.objects.raise_to(story.pk, 100)
    for _ in range(6):
        page = visit(story)

    assert "조회수 <strong>106</strong>" in page
    assert stored_total(story) == 100
    assert stored_days(story) == {}
    assert viewcount.current_count(story.pk) == 106

    flushed = viewbuffer.flush()

    assert (flushed.batches, flushed.stories, flushed.views) == (1, 1, 6)
    assert stored_total(story) == 106
    assert sum(stored_days(story).values()) == 6
    assert viewcount.current_count(story.pk) == 106
    assert viewbuffer.flush().batches == 0
    assert stored_total(story) == 106


@pytest.mark.redis
def test_views_on_both_sides_of_seoul_midnight_land_on_their_own_days(buffered):
    story, other = ArticleFactory(), ArticleFactory()
    with at(BEFORE_MIDNIGHT):
        count(story, 3)
        viewcount.record_view(other.pk)
    with at(AT_MIDNIGHT):
        count(story, 5)

    viewbuffer.flush()

    assert stored_total(story) == 8
    assert stored_days(story) == {date(2026, 3, 1): 3, date(2026, 3, 2): 5}
    assert (stored_total(other), stored_days(other)) == (1, {date(2026, 3, 1): 1})


@pytest.mark.redis
def test_a_flush_adds_to_existing_rows(buffered):
    story = ArticleFactory()
    ViewTotal.objects.raise_to(story.pk, 10)
    DailyView.objects.create(article=story, day=date(2026, 3, 1), count=3)
    with at(BEFORE_MIDNIGHT):
        count(story, 4)
    viewbuffer.flush()

    assert (stored_total(story), stored_days(story)) == (14, {date(2026, 3, 1): 7})


# --- once and only once ------------------------------------------------------------------------


@pytest.mark.redis
def test_a_flusher_finds_the_lock_taken_and_leaves_the_views_to_its_holder(buffered):
    story = ArticleFactory()
    viewcount.record_view(story.pk)
    buffered.client.set(buffered.buffer.lock, "another host")

    assert viewbuffer.flush() is None
    assert stored_total(story) == 0
    assert buffered.client.get(buffered.buffer.lock) == b"another host"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_two_flushers_adding_the_same_batch_at_once_add_it_once(buffered, unbounded_pool_queue):
    """As when one flusher's lock expired mid-flush and another took the leftover batch."""
    story = ArticleFactory()
    count(story, 7)
    counts = buffered.buffer.take()
    batch = counts.pop(viewbuffer.BATCH_FIELD)
    start = threading.Barrier(2, timeout=60)
    results = []

    def flusher():
        try:
            start.wait()
            results.append(viewbuffer.apply(batch, counts))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=flusher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(results) == [(0, 0), (1, 7)]
    assert stored_total(story) == 7
    assert sum(stored_days(story).values()) == 7
    assert ViewFlush.objects.filter(batch=batch).exists()


@pytest.mark.redis
def test_a_flusher_dying_after_taking_the_views_loses_none(buffered):
    story = ArticleFactory()
    count(story, 3)
    buffered.buffer.take()  # ... and the process dies before adding them
    count(story, 2)  # views that arrive meanwhile

    flushed = viewbuffer.flush()

    assert (flushed.batches, flushed.views) == (2, 5)
    assert (stored_total(story), sum(stored_days(story).values())) == (5, 5)
    assert not buffered.client.exists(buffered.buffer.processing, buffered.buffer.pending)


@pytest.mark.redis
def test_a_flusher_dying_after_its_commit_is_not_added_twice(buffered):
    story = ArticleFactory()
    count(story, 4)
    counts = buffered.buffer.take()
    batch = counts.pop(viewbuffer.BATCH_FIELD)
    viewbuffer.apply(batch, counts)  # committed; the process dies before deleting the batch

    flushed = viewbuffer.flush()

    assert (flushed.batches, flushed.views) == (1, 0)
    assert (stored_total(story), sum(stored_days(story).values())) == (4, 4)
    assert not buffered.client.exists(buffered.buffer.processing)


@pytest.mark.redis
def test_a_late_flusher_never_deletes_the_next_batch(buffered):
    story = ArticleFactory()
    viewcount.record_view(story.pk)
    counts = buffered.buffer.take()

    buffered.buffer.done("a batch another flusher added long ago")

    assert buffered.client.hget(buffered.buffer.processing, viewbuffer.BATCH_FIELD) == (
        counts[viewbuffer.BATCH_FIELD].encode()
    )


@pytest.mark.redis
def test_batch_records_older_than_a_day_are_deleted(buffered):
    story = ArticleFactory()
    with at(BEFORE_MIDNIGHT):
        viewcount.record_view(story.pk)
        viewbuffer.flush()
    with at(datetime(2026, 3, 3, tzinfo=UTC)):
        viewcount.record_view(story.pk)
        viewbuffer.flush()

    assert ViewFlush.objects.count() == 1
    assert stored_total(story) == 2


# --- limits and deleted stories ------------------------------------------------------------------


@pytest.mark.redis
def test_flushed_counts_stop_at_their_largest_value(buffered):
    story = ArticleFactory()
    with at(BEFORE_MIDNIGHT):
        ViewTotal.objects.filter(article=story).delete()
        ViewTotal.objects.create(article=story, count=COUNT_MAX - 2)
        DailyView.objects.create(article=story, day=date(2026, 3, 1), count=DAY_COUNT_MAX - 1)
        count(story, 5)
        viewbuffer.flush()

    assert stored_total(story) == COUNT_MAX
    assert stored_days(story) == {date(2026, 3, 1): DAY_COUNT_MAX}
    assert viewcount.current_count(story.pk) == COUNT_MAX


@pytest.mark.redis
def test_a_deleted_storys_buffered_views_are_dropped_without_an_error(buffered):
    gone, kept = ArticleFactory(), ArticleFactory()
    for story in (gone, kept, gone):
        viewcount.record_view(story.pk)
    gone_pk = gone.pk
    gone.delete()

    flushed = viewbuffer.flush()

    assert (flushed.stories, flushed.views) == (1, 1)
    assert not ViewTotal.objects.filter(article_id=gone_pk).exists()
    assert not DailyView.objects.filter(article_id=gone_pk).exists()
    assert stored_total(kept) == 1
    # A view that reaches the buffer after the story went is taken (nothing is read back) and
    # left out again by the next flush.
    assert viewcount.record_view(gone_pk)
    assert (viewbuffer.flush().views, stored_total(kept)) == (0, 1)
    assert not ViewTotal.objects.filter(article_id=gone_pk).exists()
    assert viewcount.current_count(gone_pk) is None


# --- without Redis -------------------------------------------------------------------------------


def test_an_unreachable_redis_means_views_written_at_once(settings, caplog):
    story = ArticleFactory()
    redis_cache(settings, DEAD_REDIS_URL, "dead")

    page = visit(story)
    visit(story)

    assert "조회수 <strong>1</strong>" in page
    assert stored_total(story) == 2
    assert sum(stored_days(story).values()) == 2
    assert viewcount.current_count(story.pk) == 2


def test_without_redis_views_are_written_at_once(settings):
    settings.VIEW_BUFFER = True  # asked for, but the default cache is not Redis
    assert not isinstance(caches["default"], viewbuffer.RedisCache)
    story = ArticleFactory()

    page = visit(story)

    assert not viewbuffer.enabled()
    assert "조회수 <strong>1</strong>" in page
    assert (stored_total(story), sum(stored_days(story).values())) == (1, 1)
    with pytest.raises(CommandError, match="VIEW_BUFFER"):
        call_command("flush_views", "--once")


# --- the command ---------------------------------------------------------------------------------


@pytest.mark.redis
def test_the_flush_command_adds_the_buffered_views(buffered, capsys):
    story = ArticleFactory()
    count(story, 3)

    call_command("flush_views", "--once")

    assert "조회수 3회 반영 (스토리 1개)" in capsys.readouterr().out
    assert stored_total(story) == 3


@pytest.mark.redis
def test_the_flush_loop_keeps_going_after_an_error(buffered):
    story = ArticleFactory()
    viewcount.record_view(story.pk)
    calls = []
    real_flush = viewbuffer.flush

    def failing_once():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("Redis went away")
        return real_flush()

    with mock.patch.object(viewbuffer, "flush", failing_once):
        viewbuffer.run(0.01, stop=lambda: False, rounds=2)

    assert len(calls) == 2
    assert stored_total(story) == 1


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"VIEW_BUFFER": "true", "REDIS_URL": ""}, "VIEW_BUFFER=true needs REDIS_URL."),
        ({"VIEW_FLUSH_SECONDS": "0"}, "VIEW_FLUSH_SECONDS must be a number of seconds > 0"),
    ],
)
def test_settings_refuse_a_buffer_that_cannot_work(env, refusal):
    result = settings_in_a_fresh_process(**env)

    assert result.returncode != 0
    assert refusal in result.stderr
