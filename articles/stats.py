"""What the views tell: totals, days, top stories, companies, hashtags and kinds over a period
of Seoul days, and one story's days and first week. Read by the editors' statistics room, the
stats API and (the month's top stories) the company page.

Closed days come from the rollup (articles/rollup.py); the days after its last rolled day are
read live from DailyView, so the numbers always equal DailyView's, and `through` says how far
the rollup went. A writer's statistics (`stories`: the ids they may see) are read live from
DailyView by story, which the (article, day) key makes a few index ranges.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Max, Sum
from django.utils import timezone

from articles import rollup
from articles.models import (
    FIRST_DAYS,
    WINDOWS,
    Article,
    Company,
    DailyView,
    DayCompanyViews,
    DayKindViews,
    DayTagViews,
    Kind,
    KindCurve,
    StoryWindowViews,
    Tag,
    ViewTotal,
)
from articles.roles import can_publish, own_stories

PRESETS = WINDOWS
DEFAULT_DAYS = 30
MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)
TOP = 10
# How many stories' exact sums a from–to period's top list is picked from (_top_by_window).
CANDIDATES = 2000


class PeriodError(ValueError):
    """A period that cannot be shown; the message says why, in Korean."""


@dataclass(frozen=True)
class Period:
    """Seoul days from `start` to `end`, both included."""

    start: date
    end: date
    preset: int | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def __str__(self):
        return f"{self.start:%Y-%m-%d} ~ {self.end:%Y-%m-%d} ({self.days}일, 양 끝 포함, 한국 시간)"


def _day(value, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise PeriodError(f"{name}은(는) YYYY-MM-DD 형식의 날짜여야 합니다: {value!r}") from None


def period_for(days=None, start=None, end=None, today: date | None = None) -> Period:
    """The period asked for: `days` (7, 30 or 90 closed days, ending yesterday) or `start` and
    `end` (inclusive, up to today). PeriodError for anything else."""
    today = today or timezone.localdate()
    if start not in (None, "") or end not in (None, ""):
        if days not in (None, ""):
            raise PeriodError("기간은 days나 start·end 가운데 하나로만 고르세요.")
        if start in (None, "") or end in (None, ""):
            raise PeriodError("start와 end를 함께 주세요.")
        first, last = _day(start, "start"), _day(end, "end")
        if first > last:
            raise PeriodError("start가 end보다 늦습니다.")
        if first < EARLIEST:
            raise PeriodError(f"{EARLIEST:%Y-%m-%d}부터의 날짜만 볼 수 있습니다.")
        if last > today:
            raise PeriodError(f"end는 오늘({today:%Y-%m-%d})을 넘을 수 없습니다.")
        if (last - first).days + 1 > MAX_DAYS:
            raise PeriodError(f"기간은 {MAX_DAYS}일까지입니다.")
        return Period(first, last)
    if days in (None, ""):
        days = DEFAULT_DAYS
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = None
    if days not in PRESETS:
        raise PeriodError(f"days는 {', '.join(map(str, PRESETS))} 가운데 하나여야 합니다.")
    last = today - timedelta(days=1)
    return Period(last - timedelta(days=days - 1), last, preset=days)


def visible_ids(user) -> list[int] | None:
    """None for editors (every story); a writer's own stories otherwise."""
    if can_publish(user):
        return None
    return list(Article.objects.filter(own_stories(user)).values_list("pk", flat=True))


@dataclass
class Row:
    key: object
    label: str
    views: int


@dataclass
class StoryRow:
    article: Article
    views: int
    first_week: list[int] = field(default_factory=list)
    median: list[float] = field(default_factory=list)


@dataclass
class Summary:
    period: Period
    through: date | None
    total: int
    daily: list[Row]
    kinds: list[Row]
    stories: list[StoryRow]
    companies: list[Row]
    tags: list[Row]
    today: int
    scoped: bool


def _rows_in(period_start, period_end, stories):
    rows = DailyView.objects.filter(day__gte=period_start, day__lte=period_end).order_by()
    return rows if stories is None else rows.filter(article__in=stories)


def _add(into: dict, pairs) -> None:
    for key, views in pairs:
        into[key] += views or 0


def summary(period: Period, stories: list[int] | None = None, limit: int = TOP) -> Summary:
    """The period's statistics for every story (`stories` None) or for the given ones. A
    fixed number of queries, however many stories and days."""
    through = rollup.state().through
    rolled = live = None
    if stories is None and through is not None and through >= period.start:
        rolled = (period.start, min(period.end, through))
    live_start = rolled[1] + timedelta(days=1) if rolled else period.start
    if live_start <= period.end:
        live = _rows_in(live_start, period.end, stories)

    by_day, by_kind = defaultdict(int), defaultdict(int)
    companies, tags = defaultdict(int), defaultdict(int)
    parts = []
    if rolled:
        kinds = DayKindViews.objects.filter(day__range=rolled).values_list("day", "kind", "views")
        parts.append(kinds)
        _add(companies, _summed(DayCompanyViews, rolled, "company"))
        _add(tags, _summed(DayTagViews, rolled, "tag"))
    if live is not None:
        parts.append(
            live.values_list("day", "article__kind")
            .annotate(v=Sum("count"))
            .values_list("day", "article__kind", "v")
        )
        _add(companies, _grouped(live.filter(article__company__isnull=False), "article__company"))
        _add(
            tags, _grouped(live.filter(article__tag_links__isnull=False), "article__tag_links__tag")
        )
    for part in parts:
        for day, kind, views in part:
            by_day[day] += views
            by_kind[kind] += views

    labels = dict(Kind.choices)
    return Summary(
        period=period,
        through=through,
        total=sum(by_day.values()),
        daily=[Row(day, f"{day:%m-%d}", by_day.get(day, 0)) for day in period.dates()],
        kinds=[Row(kind, labels[kind], by_kind.get(kind, 0)) for kind in Kind.values],
        stories=_top_stories(period, stories, through, limit),
        companies=_named(Company, companies, limit, "name"),
        tags=_named(Tag, tags, limit, "name"),
        today=_today(stories),
        scoped=stories is not None,
    )


def _summed(model, days, key):
    return (
        model.objects.filter(day__range=days)
        .order_by()
        .values_list(key)
        .annotate(v=Sum("views"))
        .values_list(key, "v")
    )


def _grouped(rows, key):
    return rows.values_list(key).annotate(v=Sum("count")).values_list(key, "v")


def _named(model, sums: dict, limit: int, name: str) -> list[Row]:
    top = sorted(sums.items(), key=lambda item: (-item[1], item[0]))[:limit]
    names = model.objects.in_bulk([key for key, _ in top])
    return [Row(names[key], getattr(names[key], name), views) for key, views in top if key in names]


def _today(stories) -> int:
    today = timezone.localdate()
    return _rows_in(today, today, stories).aggregate(v=Sum("count"))["v"] or 0


def _top_stories(period, stories, through, limit) -> list[StoryRow]:
    if stories is None and period.end == through and period.days in WINDOWS:
        # A preset period ending at the last rolled day: the first rows of an index.
        top = list(
            StoryWindowViews.objects.filter(days=period.days)
            .order_by("-views", "article")
            .values_list("article", "views")[:limit]
        )
    else:
        top = None
        if stories is None:
            top = _top_by_window(period, through, limit)
        if top is None:
            top = _summed_by_story(_rows_in(period.start, period.end, stories), limit)
    articles = (
        Article.objects.with_state().select_related("company").defer("body", "body_html")
    ).in_bulk([pk for pk, _ in top])
    rows = [StoryRow(articles[pk], views) for pk, views in top if pk in articles]
    _attach_first_weeks(rows)
    return rows


def _summed_by_story(rows, limit):
    return list(
        rows.values_list("article")
        .annotate(v=Sum("count"))
        .order_by("-v", "article")
        .values_list("article", "v")[:limit]
    )


def _top_by_window(period, through, limit) -> list | None:
    """The top stories of any period within the last rolled window, summed exactly for a few
    candidates only: the CANDIDATES stories with most views in the smallest window around the
    period's rolled days. A story outside them has at most the last candidate's window views
    plus the most any story had on each live day; when the `limit`-th exact sum is above that,
    no other story can be in the list. None when it is not (the caller sums every story)."""
    if through is None or period.start > through:
        return None
    window = next((n for n in WINDOWS if through - timedelta(days=n - 1) <= period.start), None)
    if window is None:
        return None
    candidates = list(
        StoryWindowViews.objects.filter(days=window)
        .order_by("-views", "article")
        .values_list("article", "views")[:CANDIDATES]
    )
    outside = candidates[-1][1] if len(candidates) == CANDIDATES else 0
    if period.end > through:
        live = _rows_in(through + timedelta(days=1), period.end, None)
        maxima = live.values_list("day").annotate(m=Max("count")).values_list("m", flat=True)
        outside += sum(maxima)
    top = sorted(
        ((pk, views) for pk, views in _exact(period, through, window, candidates).items() if views),
        key=lambda item: (-item[1], item[0]),
    )[:limit]
    if len(top) == limit and top[-1][1] > outside:
        return top
    return None


def _exact(period, through, window, candidates) -> dict[int, int]:
    """The candidates' views in the period: their window's views less the window's days outside
    the period, or the period's rolled days summed, whichever reads fewer rows; plus the live
    days."""
    ids = [pk for pk, _ in candidates]
    first, last = through - timedelta(days=window - 1), min(period.end, through)
    inside = (last - period.start).days + 1
    if inside <= window - inside:
        exact = dict.fromkeys(ids, 0)
        _add_to(exact, _rows_in(period.start, last, ids))
    else:
        exact = dict(candidates)
        for start, end in [
            (first, period.start - timedelta(days=1)),
            (last + timedelta(days=1), through),
        ]:
            if start <= end:
                _add_to(exact, _rows_in(start, end, ids), sign=-1)
    if period.end > through:
        _add_to(exact, _rows_in(through + timedelta(days=1), period.end, ids))
    return exact


def _add_to(sums: dict, rows, sign: int = 1) -> None:
    for pk, views in (
        rows.values_list("article").annotate(v=Sum("count")).values_list("article", "v")
    ):
        sums[pk] += sign * views


def first_week_days(article: Article) -> list[date] | None:
    if article.published_at is None:
        return None
    first = timezone.localdate(article.published_at)
    return [first + timedelta(days=n) for n in range(FIRST_DAYS)]


def _attach_first_weeks(rows: list[StoryRow]) -> None:
    """Each story's views on its first days (live, so a new story's are there too) and the
    median of its kind: two queries for all the rows."""
    weeks = {row.article.pk: first_week_days(row.article) for row in rows}
    wanted = [days for days in weeks.values() if days]
    if not wanted:
        return
    today = timezone.localdate()
    counts = {
        (article, day): count
        for article, day, count in DailyView.objects.filter(
            article__in=[pk for pk, days in weeks.items() if days],
            day__gte=min(days[0] for days in wanted),
            day__lte=max(days[-1] for days in wanted),
        ).values_list("article", "day", "count")
    }
    medians = kind_medians()
    for row in rows:
        days = weeks[row.article.pk]
        if days:
            row.first_week = [counts.get((row.article.pk, day), 0) for day in days if day <= today]
            row.median = medians.get(row.article.kind, [])


def kind_medians() -> dict[str, list[float]]:
    medians = defaultdict(list)
    for kind, median in KindCurve.objects.order_by("kind", "index").values_list("kind", "median"):
        medians[kind].append(median)
    return dict(medians)


@dataclass
class StoryStats:
    article: Article
    period: Period
    through: date | None
    daily: list[Row]
    total: int
    all_time: int
    today: int
    first_week: list[int]
    median: list[float]


def story_stats(article: Article, period: Period) -> StoryStats:
    """One story's days in the period (live from its own DailyView rows), its all-time
    조회수, today's views so far and its first week against its kind's median."""
    counts = dict(_rows_in(period.start, period.end, [article.pk]).values_list("day", "count"))
    daily = [Row(day, f"{day:%m-%d}", counts.get(day, 0)) for day in period.dates()]
    row = StoryRow(article, 0)
    _attach_first_weeks([row])
    all_time = ViewTotal.objects.filter(article=article).values_list("count", flat=True).first()
    return StoryStats(
        article=article,
        period=period,
        through=rollup.state().through,
        daily=daily,
        total=sum(counts.values()),
        all_time=all_time or 0,
        today=_today([article.pk]),
        first_week=row.first_week,
        median=row.median,
    )


def month_top(stories, limit: int = 5):
    """The published `stories` read most this Seoul month (day 1 to today): the company page."""
    return stories.most_viewed(days=timezone.localdate().day, limit=limit)
