"""The statistics' rollup: views added up by closed Seoul day, read by the editors' statistics
room and the stats API (articles/stats.py) instead of the millions of DailyView rows.

Built from DailyView only (articles/rollup.py), never from inside the view counter: however
views reach DailyView (counted at once, or buffered and flushed later), a day is rolled once it
is closed and its late flushes had time to land, and the days after it are read live.
"""

from django.db import models

from articles.models.common import Kind

__all__ = [
    "FIRST_DAYS",
    "WINDOWS",
    "DayCompanyViews",
    "DayKindViews",
    "DayTagViews",
    "FirstWeekViews",
    "KindCurve",
    "RollupState",
    "StoryWindowViews",
]

# The periods whose top stories are kept per story (StoryWindowViews): the room's presets.
WINDOWS = (7, 30, 90)
# The first days after publication whose views are compared (day 0 is the publication day).
FIRST_DAYS = 7


class RollupState(models.Model):
    """How far the rollup has gone: every Seoul day from `since` to `through` is rolled."""

    name = models.CharField(max_length=32, primary_key=True)
    since = models.DateField("처음 집계한 날", null=True)
    through = models.DateField("집계한 마지막 날", null=True)
    rolled_at = models.DateTimeField("집계한 때", null=True)
    claimed_at = models.DateTimeField("마지막 시도", null=True)

    class Meta:
        default_permissions = ()
        verbose_name = "집계 상태"
        verbose_name_plural = "집계 상태"

    def __str__(self):
        return f"{self.name}: {self.since}–{self.through}"


class DayViews(models.Model):
    """Views of one closed day of the stories that share one thing (a kind, a company, a tag)."""

    day = models.DateField("날짜")
    views = models.PositiveBigIntegerField("조회수")

    class Meta:
        abstract = True
        default_permissions = ()

    def __str__(self):
        return f"{self.day} {self.key}: {self.views}"


class DayKindViews(DayViews):
    """A day's views by kind: the day's total, the chart and views by kind."""

    kind = models.CharField("종류", max_length=16, choices=Kind.choices)

    key = property(lambda self: self.kind)

    class Meta(DayViews.Meta):
        constraints = [
            models.UniqueConstraint(fields=["day", "kind"], name="day_kind_views_unique")
        ]


class DayCompanyViews(DayViews):
    """A day's views of one company's stories (stories without a company: none)."""

    company = models.ForeignKey(
        "articles.Company", on_delete=models.CASCADE, related_name="day_views", db_index=False
    )

    key = property(lambda self: self.company_id)

    class Meta(DayViews.Meta):
        constraints = [
            models.UniqueConstraint(fields=["day", "company"], name="day_company_views_unique")
        ]


class DayTagViews(DayViews):
    """A day's views of the stories carrying one hashtag."""

    tag = models.ForeignKey(
        "articles.Tag", on_delete=models.CASCADE, related_name="day_views", db_index=False
    )

    key = property(lambda self: self.tag_id)

    class Meta(DayViews.Meta):
        constraints = [models.UniqueConstraint(fields=["day", "tag"], name="day_tag_views_unique")]


class StoryWindowViews(models.Model):
    """One story's views in the last `days` rolled days (ending at RollupState.through): the
    top stories of a preset period are the first rows of an index, not a sum over 9M rows."""

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="window_views", db_index=False
    )
    days = models.PositiveSmallIntegerField("기간(일)")
    views = models.PositiveBigIntegerField("조회수")

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["article", "days"], name="story_window_unique")
        ]
        indexes = [
            models.Index(fields=["days", "-views", "article"], name="story_window_top"),
        ]

    def __str__(self):
        return f"{self.article_id} {self.days}d: {self.views}"


class FirstWeekViews(models.Model):
    """Views of a story on the `index`-th Seoul day after its publication day (0 to 6), kept
    for each rolled day, with the story's kind: the curves and their medians by kind."""

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="first_week_views"
    )
    day = models.DateField("날짜")
    index = models.PositiveSmallIntegerField("발행 후 며칠째")
    kind = models.CharField("종류", max_length=16, choices=Kind.choices)
    views = models.PositiveBigIntegerField("조회수")

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["article", "index"], name="first_week_unique")
        ]
        indexes = [models.Index(fields=["day"], name="first_week_by_day")]

    def __str__(self):
        return f"{self.article_id} +{self.index}: {self.views}"


class KindCurve(models.Model):
    """The median views on each of the first days after publication, over the stories of one
    kind whose first week is rolled: what a story's own first week is held against."""

    kind = models.CharField("종류", max_length=16, choices=Kind.choices)
    index = models.PositiveSmallIntegerField("발행 후 며칠째")
    median = models.FloatField("중앙값")
    stories = models.PositiveIntegerField("스토리 수")

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["kind", "index"], name="kind_curve_unique")]

    def __str__(self):
        return f"{self.kind} +{self.index}: {self.median}"
