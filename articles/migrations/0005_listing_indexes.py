"""Indexes that let the reader pages, search and the API count, filter and order published
stories without reading the stories' rows (see the comment on Article.Meta.indexes):

- article_kind_listing gains recent()'s tie-breaker (id) and unpublish_at, so a kind's count
  and its newest page come from the index alone;
- article_recent_listing: every published story newest first, with what the API list's
  fingerprint aggregates (company, updated_at, view_count);
- article_featured: the featured stories only (a partial index), newest first.

recent() orders by published_at DESC NULLS LAST. SQLite's DESC already puts NULLs last, and
its CREATE INDEX refuses the modifier; PostgreSQL's DESC puts them first, and an index in that
order cannot serve the query. So on PostgreSQL published_at is indexed DESC NULLS LAST, which
Index(fields=…) cannot say; the model state is the same on both databases.
"""

from django.db import migrations, models

POSTGRES_INDEXES = {
    "article_kind_listing": (
        '("status", "kind", "published_at" DESC NULLS LAST, "id" DESC, "unpublish_at")'
    ),
    "article_recent_listing": (
        '("status", "published_at" DESC NULLS LAST, "id" DESC, "unpublish_at", "company_id", '
        '"updated_at", "view_count")'
    ),
    "article_featured": '("status", "published_at" DESC NULLS LAST, "id" DESC) WHERE "is_featured"',
}


class AddListingIndex(migrations.AddIndex):
    """AddIndex, with published_at DESC NULLS LAST on PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        name = self.index.name
        schema_editor.execute(
            f'CREATE INDEX "{name}" ON "articles_article" {POSTGRES_INDEXES[name]}'
        )


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0004_publish_permission_and_image_checks'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='article',
            name='article_kind_listing',
        ),
        AddListingIndex(
            model_name='article',
            index=models.Index(fields=['status', 'kind', '-published_at', '-id', 'unpublish_at'], name='article_kind_listing'),
        ),
        AddListingIndex(
            model_name='article',
            index=models.Index(fields=['status', '-published_at', '-id', 'unpublish_at', 'company', 'updated_at', 'view_count'], name='article_recent_listing'),
        ),
        AddListingIndex(
            model_name='article',
            index=models.Index(condition=models.Q(('is_featured', True)), fields=['status', '-published_at', '-id'], name='article_featured'),
        ),
    ]
