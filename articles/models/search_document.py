"""The row search reads for each story."""

from django.db import models

from articles.models.stories import Article

__all__ = ["SearchDocument"]


class SearchDocument(models.Model):
    """What search reads for one story: its title and the rest as Hangul bigram text (see
    articles/search.py), and the body's plain text for result snippets. Written by
    articles.search.index_article(); deleted with its story.

    Migration 0003_search_index adds what only one database has: on PostgreSQL the stored
    tsvector column `document` and its GIN index; on SQLite the FTS5 table articles_search_fts
    and the triggers that feed it from this table. Django rebuilds a SQLite table for most
    ALTERs and that drops its triggers: a migration that alters this model must recreate them.
    """

    article = models.OneToOneField(
        Article, verbose_name="스토리", on_delete=models.CASCADE, primary_key=True,
        related_name="search_document",
    )  # fmt: skip
    title_terms = models.TextField("제목 색인어")
    body_terms = models.TextField("본문 색인어")
    text = models.TextField("본문 텍스트")

    class Meta:
        verbose_name = "검색 문서"
        verbose_name_plural = "검색 문서"

    def __str__(self):
        return f"검색 문서 {self.article_id}"
