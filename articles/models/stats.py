"""Views: all-time per story (ViewTotal) and per story per day (DailyView).

Neither lives on the story's row: counting a view writes only these rows, so an editor's
transaction that holds a story's row (or an update of it) never makes a reader wait, and the
story's row is not rewritten (nor its indexes touched) on every view.
"""

from django.db import models

from articles.models.common import QuickLoad

__all__ = [
    "COUNT_MAX",
    "DailyView",
    "ViewFlush",
    "ViewTotal",
]

# The largest value of a 64-bit signed integer, the widest column both databases have: a
# count that reaches it stays there instead of overflowing (PostgreSQL raises, SQLite turns
# the value into a REAL).
COUNT_MAX = 2**63 - 1


class ViewTotalQuerySet(models.QuerySet):
    def raise_to(self, article_id: int, count: int) -> "ViewTotal":
        """Make the story's total at least `count` (an imported or seeded count: views
        counted since are never lost) and return its row."""
        count = min(count, COUNT_MAX)
        total, created = self.get_or_create(article_id=article_id, defaults={"count": count})
        if not created and total.count < count:
            self.filter(article_id=article_id, count__lt=count).update(count=count)
            total.refresh_from_db()
        return total


class ViewTotal(QuickLoad):
    """All the views of one story: 조회수 on cards, the story page, the API and the admin."""

    article = models.OneToOneField(
        "articles.Article",
        verbose_name="스토리",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="view_total",
    )
    count = models.PositiveBigIntegerField("조회수", default=0)

    objects = ViewTotalQuerySet.as_manager()

    class Meta:
        # Counted by the server only (reader/viewcount.py): no permissions to grant.
        default_permissions = ()
        verbose_name = "조회수"
        verbose_name_plural = "조회수"

    def __str__(self):
        return f"{self.article_id}: {self.count}"


class DailyView(models.Model):
    """Views of one story on one day (Asia/Seoul), for 인기순 and "popular this week"."""

    article = models.ForeignKey(
        "articles.Article",
        verbose_name="스토리",
        on_delete=models.CASCADE,
        related_name="daily_views",
    )
    day = models.DateField("날짜")
    count = models.PositiveIntegerField("조회수", default=0)

    class Meta:
        ordering = ["-day"]
        verbose_name = "일별 조회수"
        verbose_name_plural = "일별 조회수"
        constraints = [
            models.UniqueConstraint(fields=["article", "day"], name="daily_view_unique_day")
        ]
        indexes = [models.Index(fields=["day", "article"], name="daily_view_by_day")]

    def __str__(self):
        return f"{self.article_id} {self.day}: {self.count}"


class ViewFlush(models.Model):
    """A batch of views buffered in Redis and added to the counts (articles/viewbuffer.py).
    Written in the same transaction as the counts it added, so a batch that a crashed or
    overtaken flusher left in Redis is recognised and never added twice."""

    batch = models.CharField("묶음", max_length=32, primary_key=True)
    applied_at = models.DateTimeField("반영 시각", db_index=True)

    class Meta:
        default_permissions = ()
        verbose_name = "조회수 반영 기록"
        verbose_name_plural = "조회수 반영 기록"

    def __str__(self):
        return f"{self.batch} {self.applied_at:%Y-%m-%d %H:%M:%S}"
