"""Rolling DailyView up by closed Seoul day (the tables of articles/models/rollup.py).

    roll_up()            # every closed day not rolled yet; what `manage.py rollup_views` runs

A day is rolled once it has been over for ROLLUP_GRACE (a buffered counter's last flush of the
day lands within it); the days after the last rolled one are read live (articles/stats.py).
Rolling is idempotent (each day's rows are deleted and written again) and safe on several hosts
at once: the first statement of the transaction writes the state row, so a second host waits
for the first (PostgreSQL's row lock, SQLite's write lock) and then finds nothing left to do.
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, Min, Sum
from django.utils import timezone

from articles.models import (
    FIRST_DAYS,
    WINDOWS,
    Article,
    DailyView,
    DayCompanyViews,
    DayKindViews,
    DayTagViews,
    FirstWeekViews,
    Kind,
    KindCurve,
    RollupState,
    StoryWindowViews,
)

STATE = "views"
# How long after Seoul midnight a day is left open for late counts (a buffer's last flush).
ROLLUP_GRACE = timedelta(minutes=15)


@dataclass(frozen=True)
class RollResult:
    days: int
    through: date | None


def seoul_midnight(day: date) -> datetime:
    """The aware moment a Seoul day starts (the site's TIME_ZONE is Asia/Seoul)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def last_closed_day(now: datetime | None = None) -> date:
    """The latest Seoul day that is over, and over for ROLLUP_GRACE."""
    return timezone.localdate((now or timezone.now()) - ROLLUP_GRACE) - timedelta(days=1)


def state() -> RollupState:
    row, _ = RollupState.objects.get_or_create(name=STATE)
    return row


def is_behind(now: datetime | None = None) -> bool:
    through = state().through
    return through is None or through < last_closed_day(now)


def roll_up(now: datetime | None = None) -> RollResult:
    """Roll every closed day after the last rolled one (from the first DailyView day the
    first time), then the per-story windows and the kinds' first-week medians."""
    now = now or timezone.now()
    target = last_closed_day(now)
    state()
    with transaction.atomic():
        # Written first: the lock that keeps two hosts from rolling the same days.
        RollupState.objects.filter(name=STATE).update(claimed_at=now)
        row = RollupState.objects.get(name=STATE)
        start = row.through + timedelta(days=1) if row.through else _first_day()
        if start is None or start > target:
            return RollResult(0, row.through)
        days = (target - start).days + 1
        for offset in range(days):
            roll_day(start + timedelta(days=offset))
        since = row.since or start
        rebuild_windows(target)
        rebuild_curves(since, target)
        row.since, row.through, row.rolled_at = since, target, now
        row.save(update_fields=["since", "through", "rolled_at"])
    return RollResult(days, target)


def _first_day() -> date | None:
    return DailyView.objects.aggregate(first=Min("day"))["first"]


def roll_day(day: date) -> None:
    """The day's totals by kind, company and hashtag, and its first-week views."""
    rows = DailyView.objects.filter(day=day)
    for model in (DayKindViews, DayCompanyViews, DayTagViews, FirstWeekViews):
        model.objects.filter(day=day).delete()
    DayKindViews.objects.bulk_create(
        DayKindViews(day=day, kind=kind, views=views)
        for kind, views in _sums(rows, "article__kind")
    )
    DayCompanyViews.objects.bulk_create(
        DayCompanyViews(day=day, company_id=company, views=views)
        for company, views in _sums(rows.filter(article__company__isnull=False), "article__company")
    )
    DayTagViews.objects.bulk_create(
        DayTagViews(day=day, tag_id=tag, views=views)
        for tag, views in _sums(
            rows.filter(article__tag_links__isnull=False), "article__tag_links__tag"
        )
    )
    # The stories published on this day or in the FIRST_DAYS - 1 days before it.
    fresh = rows.filter(
        article__published_at__gte=seoul_midnight(day - timedelta(days=FIRST_DAYS - 1)),
        article__published_at__lt=seoul_midnight(day + timedelta(days=1)),
    ).values_list("article", "article__kind", "article__published_at", "count")
    FirstWeekViews.objects.bulk_create(
        [
            FirstWeekViews(
                article_id=article,
                day=day,
                index=(day - timezone.localdate(published)).days,
                kind=kind,
                views=count,
            )
            for article, kind, published, count in fresh
        ],
        # A story published again later has rows of its old first week at the same places.
        update_conflicts=True,
        unique_fields=["article", "index"],
        update_fields=["day", "kind", "views"],
    )


def _sums(rows, key):
    return rows.order_by().values_list(key).annotate(views=Sum("count")).values_list(key, "views")


def rebuild_windows(through: date) -> None:
    """Each story's views in the last 7, 30 and 90 rolled days, one INSERT … SELECT each."""
    StoryWindowViews.objects.all().delete()
    quote = connection.ops.quote_name
    target, source = quote(StoryWindowViews._meta.db_table), quote(DailyView._meta.db_table)
    article, count, day = quote("article_id"), quote("count"), quote("day")
    with connection.cursor() as cursor:
        for days in WINDOWS:
            cursor.execute(
                f"INSERT INTO {target} ({article}, {quote('days')}, {quote('views')}) "
                f"SELECT {article}, %s, SUM({count}) FROM {source} "
                f"WHERE {day} >= %s AND {day} <= %s GROUP BY {article}",
                [days, through - timedelta(days=days - 1), through],
            )


def rebuild_curves(since: date, through: date) -> None:
    """The median of each first day by kind, over the stories whose whole first week lies in
    the rolled days (a story with no views on a day counts 0 for it)."""
    first, last = seoul_midnight(since), seoul_midnight(through - timedelta(days=FIRST_DAYS - 2))
    complete = Article.objects.filter(published_at__gte=first, published_at__lt=last)
    stories = dict(
        complete.order_by().values_list("kind").annotate(n=Count("pk")).values_list("kind", "n")
    )
    values = defaultdict(list)
    for kind, index, views in FirstWeekViews.objects.filter(
        article__in=complete.values("pk")
    ).values_list("kind", "index", "views"):
        values[kind, index].append(views)
    curves = []
    for kind in Kind.values:
        total = stories.get(kind, 0)
        if not total:
            continue
        for index in range(FIRST_DAYS):
            counted = values.get((kind, index), [])
            padded = counted + [0] * (total - len(counted))
            curves.append(
                KindCurve(kind=kind, index=index, median=statistics.median(padded), stories=total)
            )
    KindCurve.objects.all().delete()
    KindCurve.objects.bulk_create(curves)
