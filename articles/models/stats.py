"""Views per story per day."""

from django.db import models


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
