"""Statistics (articles/stats.py, articles/rollup.py): the numbers agree with DailyView for a
made-up history, rolled or live, at Seoul day boundaries, for editors and writers."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db.models import Sum
from django.utils import timezone

from articles import rollup, stats
from articles.models import (
    DailyView,
    DayCompanyViews,
    DayKindViews,
    DayTagViews,
    FirstWeekViews,
    KindCurve,
    RollupState,
    StoryWindowViews,
)
from reader.viewcount import record_view
from tests.factories import ArticleFactory
from tests.stats_support import expected as from_daily_views
from tests.stats_support import make_history, yesterday_closed  # noqa: F401 (a fixture)

# The tests assume yesterday (Seoul) is a closed day, which it is not just after midnight.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("yesterday_closed")]


def periods():
    today = timezone.localdate()
    return [
        stats.period_for(7),
        stats.period_for(30),
        stats.period_for(90),
        stats.period_for(start=today - timedelta(days=40), end=today),
        stats.period_for(start=today, end=today),
        stats.period_for(start=today - timedelta(days=99), end=today - timedelta(days=50)),
    ]


def check(summary, period, stories=None):
    want = from_daily_views(period, stories)
    assert summary.total == want["total"]
    assert [row.views for row in summary.daily] == want["daily"]
    assert [row.key for row in summary.daily] == period.dates()
    assert [(row.article.pk, row.views) for row in summary.stories] == want["stories"][:10]
    assert {row.label: row.views for row in summary.companies} == want["companies"]
    assert {row.label: row.views for row in summary.tags} == want["tags"]
    assert {row.key: row.views for row in summary.kinds if row.views} == want["kinds"]


@pytest.mark.parametrize("rolled", ["never", "partly", "fully"])
def test_summary_agrees_with_daily_views_whether_rolled_or_live(rolled):
    make_history()
    if rolled == "partly":
        rollup.roll_up(now=timezone.now() - timedelta(days=20))
        assert rollup.state().through == timezone.localdate() - timedelta(days=21)
    elif rolled == "fully":
        rollup.roll_up()
        assert rollup.state().through == rollup.last_closed_day()
    for period in periods():
        check(stats.summary(period), period)


def test_preset_top_stories_come_from_the_windows_and_equal_a_live_sum():
    history = make_history()
    rollup.roll_up()
    period = stats.period_for(90)
    assert period.end == rollup.state().through
    assert StoryWindowViews.objects.filter(days=90).count() == len(history.stories)
    check(stats.summary(period), period)


def test_a_writer_sees_only_their_own_stories():
    history = make_history()
    rollup.roll_up()
    own = stats.visible_ids(history.writer)
    assert sorted(own) == sorted([history.stories[0].pk, history.stories[3].pk])
    for period in periods():
        summary = stats.summary(period, own)
        check(summary, period, own)
        assert {row.article.pk for row in summary.stories} <= set(own)
        assert "두울 회사" not in {row.label for row in summary.companies}


def test_a_withdrawn_story_keeps_the_views_it_had():
    history = make_history()
    withdrawn = history.stories[2]
    rollup.roll_up()
    summary = stats.summary(stats.period_for(30))
    row = next(row for row in summary.stories if row.article.pk == withdrawn.pk)
    assert row.views == from_daily_views(stats.period_for(30), [withdrawn.pk])["total"] > 0
    assert row.article.state.label == "내림"


def test_rolling_again_changes_nothing_and_a_second_host_finds_nothing_to_do():
    make_history()
    first = rollup.roll_up()
    assert first.days > 90
    snapshot = [
        sorted(model.objects.values_list(*fields))
        for model, fields in [
            (DayKindViews, ("day", "kind", "views")),
            (DayCompanyViews, ("day", "company", "views")),
            (DayTagViews, ("day", "tag", "views")),
            (StoryWindowViews, ("article", "days", "views")),
            (FirstWeekViews, ("article", "index", "views")),
            (KindCurve, ("kind", "index", "median")),
        ]
    ]
    assert rollup.roll_up().days == 0
    # A day rolled again (the state moved back by hand) gives the same rows.
    RollupState.objects.update(through=first.through - timedelta(days=3))
    assert rollup.roll_up().days == 3
    assert snapshot[0] == sorted(DayKindViews.objects.values_list("day", "kind", "views"))
    assert snapshot[3] == sorted(StoryWindowViews.objects.values_list("article", "days", "views"))


def test_a_day_is_rolled_only_after_seoul_midnight_and_the_grace():
    seoul = timezone.get_current_timezone()
    midnight = datetime(2026, 12, 5, tzinfo=seoul)
    assert rollup.last_closed_day(midnight + timedelta(minutes=5)).isoformat() == "2026-12-03"
    after = midnight + rollup.ROLLUP_GRACE + timedelta(seconds=1)
    assert rollup.last_closed_day(after).isoformat() == "2026-12-04"
    # 15:00 UTC is Seoul midnight: the UTC date is no guide.
    assert rollup.last_closed_day(datetime(2026, 12, 4, 15, 10, tzinfo=UTC)).isoformat() == (
        "2026-12-03"
    )
    assert rollup.last_closed_day(datetime(2026, 12, 4, 15, 20, tzinfo=UTC)).isoformat() == (
        "2026-12-04"
    )


def test_views_each_side_of_seoul_midnight_count_for_their_own_seoul_day():
    story = ArticleFactory(published_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    for moment, count in [(midnight - timedelta(seconds=1), 2), (midnight, 3)]:
        with mock.patch("django.utils.timezone.now", return_value=moment):
            for _ in range(count):
                record_view(story.pk)
    yesterday = today - timedelta(days=1)
    assert dict(DailyView.objects.values_list("day", "count")) == {yesterday: 2, today: 3}
    rollup.roll_up()
    on = {
        day: stats.summary(stats.period_for(start=day, end=day)).total for day in (yesterday, today)
    }
    assert on == {yesterday: 2, today: 3}


def test_first_week_curves_and_the_median_of_their_kind():
    history = make_history()
    rollup.roll_up()
    new = history.stories[1]  # a feed published 20 days ago: its first week is rolled
    first = timezone.localdate(new.published_at)
    own = [
        DailyView.objects.filter(article=new, day=first + timedelta(days=n)).aggregate(
            v=Sum("count")
        )["v"]
        or 0
        for n in range(7)
    ]
    story = stats.story_stats(new, stats.period_for(30))
    assert story.first_week == own
    # The only feed whose whole first week is rolled (the other is 3 days old): its own curve.
    assert story.median == own
    assert KindCurve.objects.filter(kind="feed", index=0).get().stories == 1


def test_invalid_periods_are_refused_with_a_reason():
    today = timezone.localdate()
    for arguments, reason in [
        ({"days": 5}, "7, 30, 90"),
        ({"days": "abc"}, "7, 30, 90"),
        ({"start": "2026-13-01", "end": "2026-12-01"}, "YYYY-MM-DD"),
        ({"start": today.isoformat()}, "함께"),
        ({"start": today, "end": today - timedelta(days=1)}, "늦습니다"),
        ({"start": today, "end": today + timedelta(days=1)}, "오늘"),
        ({"start": today - timedelta(days=400), "end": today}, "366일"),
        ({"days": 7, "start": today, "end": today}, "하나로만"),
        ({"start": "1999-12-31", "end": "2000-01-02"}, "2000-01-01"),
    ]:
        with pytest.raises(stats.PeriodError, match=reason):
            stats.period_for(**arguments)


@pytest.mark.parametrize("candidates", [1, 2, 2000])
def test_a_from_to_top_list_from_a_few_candidates_equals_summing_every_story(
    candidates, monkeypatch
):
    make_history()
    rollup.roll_up()
    monkeypatch.setattr(stats, "CANDIDATES", candidates)
    today = timezone.localdate()
    for start, end in [(89, 0), (89, 1), (40, 0), (29, 3), (6, 0), (60, 50), (3, 2), (0, 0)]:
        period = stats.period_for(
            start=today - timedelta(days=start), end=today - timedelta(days=end)
        )
        want = from_daily_views(period)["stories"]
        for limit in (1, 2, 3):
            top = stats.summary(period, limit=limit).stories
            assert [(row.article.pk, row.views) for row in top] == want[:limit], (start, end)


def test_the_candidates_answer_without_summing_every_story(monkeypatch):
    make_history()
    rollup.roll_up()
    today = timezone.localdate()
    period = stats.period_for(start=today - timedelta(days=80), end=today)
    top = stats._top_by_window(period, rollup.state().through, 1)
    assert top is not None
    assert top == from_daily_views(period)["stories"][:1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_hosts_rolling_up_at_once_roll_each_day_once():
    from threading import Barrier, Thread

    from django.db import connection

    make_history()
    rollup.state()
    barrier, results, errors = Barrier(2), [], []

    def host():
        try:
            barrier.wait()
            results.append(rollup.roll_up().days)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [Thread(target=host) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results)[0] == 0
    assert sorted(results)[1] > 90
    for period in periods():
        check(stats.summary(period), period)
