"""조회수 moves off the story's row into ViewTotal (one row per story), so counting a view
never writes or waits for the story's row (reader/viewcount.py). The existing counts are
copied over; the indexes that held view_count go (article_popular) or lose it
(article_recent_listing, recreated with published_at DESC NULLS LAST on PostgreSQL as in
0005), so an edit of a story no longer has an index entry to rewrite for its count.
"""

import django.db.models.deletion
from django.db import migrations, models

RECENT_LISTING_POSTGRES = (
    '("status", "published_at" DESC NULLS LAST, "id" DESC, "unpublish_at", "company_id", '
    '"updated_at")'
)


def copy_counts(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote('articles_viewtotal')} ({quote('article_id')}, {quote('count')}) "
        f"SELECT {quote('id')}, {quote('view_count')} FROM {quote('articles_article')} "
        f"WHERE {quote('view_count')} > 0"
    )


def copy_counts_back(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    total, article = quote("articles_viewtotal"), quote("articles_article")
    schema_editor.execute(
        f"UPDATE {article} SET {quote('view_count')} = (SELECT {total}.{quote('count')} "
        f"FROM {total} WHERE {total}.{quote('article_id')} = {article}.{quote('id')}) "
        f"WHERE {quote('id')} IN (SELECT {quote('article_id')} FROM {total})"
    )


class AddRecentListingIndex(migrations.AddIndex):
    """AddIndex, with published_at DESC NULLS LAST on PostgreSQL (see 0005)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        schema_editor.execute(
            f'CREATE INDEX "{self.index.name}" ON "articles_article" {RECENT_LISTING_POSTGRES}'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0014_original_published_on"),
    ]

    operations = [
        migrations.CreateModel(
            name="ViewTotal",
            fields=[
                (
                    "article",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="view_total",
                        serialize=False,
                        to="articles.article",
                        verbose_name="스토리",
                    ),
                ),
                ("count", models.PositiveBigIntegerField(default=0, verbose_name="조회수")),
            ],
            options={
                "default_permissions": (),
                "verbose_name": "조회수",
                "verbose_name_plural": "조회수",
            },
        ),
        migrations.RunPython(copy_counts, copy_counts_back),
        migrations.RemoveIndex(
            model_name="article",
            name="article_popular",
        ),
        migrations.RemoveIndex(
            model_name="article",
            name="article_recent_listing",
        ),
        migrations.RemoveField(
            model_name="article",
            name="view_count",
        ),
        AddRecentListingIndex(
            model_name="article",
            index=models.Index(
                fields=["status", "-published_at", "-id", "unpublish_at", "company", "updated_at"],
                name="article_recent_listing",
            ),
        ),
    ]
