"""A made-up history of views for the statistics tests (tests/test_stats*.py): four stories
of two companies and two writers over the last 100 Seoul days, one of them withdrawn half way,
and the expected numbers read straight from DailyView."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from articles.models import DailyView, Kind, ViewTotal
from articles.rollup import ROLLUP_GRACE
from tests.factories import ArticleFactory, CompanyFactory, StaffFactory, TagFactory

HISTORY_DAYS = 100


@pytest.fixture
def yesterday_closed(monkeypatch):
    """The clock as the statistics tests assume it: yesterday (a Seoul day) over and closed.
    In the first ROLLUP_GRACE after Seoul midnight it is not closed yet (the rollup leaves it
    open for late counts, by design), so there the tests run as if a minute before midnight."""
    real = timezone.now
    local = timezone.localtime(real())
    since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    if since_midnight <= ROLLUP_GRACE:
        back = since_midnight + timedelta(minutes=1)
        monkeypatch.setattr(timezone, "now", lambda: real() - back)


@dataclass
class History:
    writer: object
    other_writer: object
    stories: list
    companies: list
    tags: list


def views_on(n: int, day_number: int) -> int:
    """A made-up count for story n on the day that is `day_number` days before today."""
    return (n * 7 + day_number * 3) % 11 + (n + 1)


def make_history() -> History:
    today = timezone.localdate()
    writer = StaffFactory(role="writer", username="writer-a")
    other_writer = StaffFactory(role="writer", username="writer-b")
    one, two = CompanyFactory(name="하나 회사"), CompanyFactory(name="두울 회사")
    backend, culture = TagFactory(name="백엔드"), TagFactory(name="문화")
    now = timezone.now()
    stories = [
        ArticleFactory(
            kind=Kind.INTERVIEW,
            company=one,
            tags=[backend],
            created_by=writer,
            published_at=now - timedelta(days=HISTORY_DAYS + 5),
        ),
        ArticleFactory(
            kind=Kind.FEED,
            company=two,
            tags=[backend, culture],
            created_by=other_writer,
            published_at=now - timedelta(days=20),
        ),
        # Withdrawn 15 days ago: its earlier views still count.
        ArticleFactory(
            kind=Kind.NEWS,
            company=one,
            created_by=other_writer,
            published_at=now - timedelta(days=HISTORY_DAYS + 5),
            unpublish_at=now - timedelta(days=15),
        ),
        ArticleFactory(
            kind=Kind.FEED, company=None, created_by=writer, published_at=now - timedelta(days=3)
        ),
    ]
    rows = []
    for n, story in enumerate(stories):
        first = timezone.localdate(story.published_at)
        for day_number in range(HISTORY_DAYS):
            day = today - timedelta(days=day_number)
            if day < first:
                continue
            if n == 2 and day_number < 15:
                continue  # withdrawn: no views since
            rows.append(DailyView(article=story, day=day, count=views_on(n, day_number)))
    DailyView.objects.bulk_create(rows)
    for story in stories:
        total = DailyView.objects.filter(article=story).aggregate(t=Sum("count"))["t"] or 0
        ViewTotal.objects.update_or_create(article=story, defaults={"count": total})
    return History(writer, other_writer, stories, [one, two], [backend, culture])


def expected(period, stories=None) -> dict:
    """What DailyView says about `period` (for the given story ids, or all)."""
    rows = DailyView.objects.filter(day__gte=period.start, day__lte=period.end)
    if stories is not None:
        rows = rows.filter(article__in=stories)
    by_day = dict(rows.values_list("day").annotate(v=Sum("count")).values_list("day", "v"))
    by_story = dict(
        rows.values_list("article").annotate(v=Sum("count")).values_list("article", "v")
    )
    by_company = dict(
        rows.filter(article__company__isnull=False)
        .values_list("article__company__name")
        .annotate(v=Sum("count"))
        .values_list("article__company__name", "v")
    )
    by_tag = dict(
        rows.filter(article__tag_links__isnull=False)
        .values_list("article__tag_links__tag__name")
        .annotate(v=Sum("count"))
        .values_list("article__tag_links__tag__name", "v")
    )
    by_kind = dict(
        rows.values_list("article__kind").annotate(v=Sum("count")).values_list("article__kind", "v")
    )
    return {
        "total": sum(by_day.values()),
        "daily": [by_day.get(day, 0) for day in period.dates()],
        "stories": sorted(by_story.items(), key=lambda item: (-item[1], item[0])),
        "companies": by_company,
        "tags": by_tag,
        "kinds": by_kind,
    }
