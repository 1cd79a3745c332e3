"""The search index: SearchDocument (one row per story, Hangul bigram text computed in Python),
plus what only one database has, created here so that `migrate` builds everything:

- SQLite: the FTS5 table articles_search_fts, an external-content table reading the bigram
  columns of articles_searchdocument, and three triggers that keep it in step with that table.
  The update trigger fires only when the bigram text really changed.
- PostgreSQL: the stored tsvector column `document` (title weight A, the rest B) and
  `title_document` (the title alone), generated from the same columns with
  to_tsvector('simple', …), each with a GIN index. No pg_trgm, nothing that depends on the
  server's locale: the Python side already cut the text into pieces.

Existing stories are indexed at the end; `manage.py reindex_search` rebuilds it all later.
"""

import html
import re
import unicodedata

import django.db.models.deletion
from django.db import migrations, models
from django.utils.html import strip_tags

SQLITE_CREATE = [
    """
    CREATE VIRTUAL TABLE articles_search_fts USING fts5(
        title_terms, body_terms,
        content='articles_searchdocument', content_rowid='article_id',
        tokenize='unicode61'
    )
    """,
    """
    CREATE TRIGGER articles_search_fts_insert AFTER INSERT ON articles_searchdocument BEGIN
        INSERT INTO articles_search_fts(rowid, title_terms, body_terms)
        VALUES (new.article_id, new.title_terms, new.body_terms);
    END
    """,
    """
    CREATE TRIGGER articles_search_fts_delete AFTER DELETE ON articles_searchdocument BEGIN
        INSERT INTO articles_search_fts(articles_search_fts, rowid, title_terms, body_terms)
        VALUES ('delete', old.article_id, old.title_terms, old.body_terms);
    END
    """,
    """
    CREATE TRIGGER articles_search_fts_update AFTER UPDATE ON articles_searchdocument
    WHEN old.article_id IS NOT new.article_id
        OR old.title_terms IS NOT new.title_terms
        OR old.body_terms IS NOT new.body_terms
    BEGIN
        INSERT INTO articles_search_fts(articles_search_fts, rowid, title_terms, body_terms)
        VALUES ('delete', old.article_id, old.title_terms, old.body_terms);
        INSERT INTO articles_search_fts(rowid, title_terms, body_terms)
        VALUES (new.article_id, new.title_terms, new.body_terms);
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS articles_search_fts_update",
    "DROP TRIGGER IF EXISTS articles_search_fts_delete",
    "DROP TRIGGER IF EXISTS articles_search_fts_insert",
    "DROP TABLE IF EXISTS articles_search_fts",
]

POSTGRES_CREATE = [
    """
    ALTER TABLE articles_searchdocument ADD COLUMN document tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, title_terms), 'A')
        || setweight(to_tsvector('simple'::regconfig, body_terms), 'B')
    ) STORED
    """,
    # The titles alone, for "every word is in the title": small enough to stay in the table's
    # rows, where checking `document` for weight A would read every matching story's whole
    # tsvector back from TOAST.
    """
    ALTER TABLE articles_searchdocument ADD COLUMN title_document tsvector
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, title_terms)) STORED
    """,
    "CREATE INDEX articles_search_document_gin ON articles_searchdocument USING gin (document)",
    "CREATE INDEX articles_search_title_gin ON articles_searchdocument USING gin (title_document)",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS articles_search_title_gin",
    "DROP INDEX IF EXISTS articles_search_document_gin",
    "ALTER TABLE articles_searchdocument DROP COLUMN IF EXISTS title_document",
    "ALTER TABLE articles_searchdocument DROP COLUMN IF EXISTS document",
]


def statements(vendor, *, create):
    if vendor == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    if vendor == "postgresql":
        return POSTGRES_CREATE if create else POSTGRES_DROP
    return []


def create_index(apps, schema_editor):
    for sql in statements(schema_editor.connection.vendor, create=True):
        schema_editor.execute(sql)


def drop_index(apps, schema_editor):
    for sql in statements(schema_editor.connection.vendor, create=False):
        schema_editor.execute(sql)


# What articles/search.py indexed when this migration was written, frozen here: a migration
# must do the same thing whatever the live code becomes.
HANGUL = "\uac00-\ud7a3"
RUN = re.compile(rf"[{HANGUL}]+|[^\W_{HANGUL}]+")
MAX_WORD_LENGTH = 60
MAX_INDEX_TOKENS = 50_000


def bigrams(text, limit=None):
    pieces = []
    for run in RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        if not "\uac00" <= run[0] <= "\ud7a3":
            pieces.append(run[:MAX_WORD_LENGTH])
        elif len(run) == 1:
            pieces.append(run)
        else:
            pieces.extend(run[i : i + 2] for i in range(len(run) - 1))
    return " ".join(pieces if limit is None else pieces[:limit])


def build_document(*, title, excerpt, body_html, names):
    text = html.unescape(" ".join(strip_tags(body_html).split()))
    return {
        "title_terms": bigrams(title),
        "body_terms": bigrams("\n".join([excerpt, *names, text]), limit=MAX_INDEX_TOKENS),
        "text": text,
    }


def index_existing_stories(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    SearchDocument = apps.get_model("articles", "SearchDocument")
    stories = Article.objects.using(schema_editor.connection.alias).select_related("company")
    documents = []
    for article in stories.prefetch_related("people", "tags").order_by("pk").iterator(500):
        names = [article.company.name] if article.company_id else []
        for person in article.people.all():
            names += [person.name, person.nickname]
        names += [tag.name for tag in article.tags.all()]
        fields = build_document(
            title=article.title,
            excerpt=article.excerpt,
            body_html=article.body_html,
            names=[name for name in names if name],
        )
        documents.append(SearchDocument(article_id=article.pk, **fields))
    SearchDocument.objects.using(schema_editor.connection.alias).bulk_create(
        documents, batch_size=500
    )


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0002_article_source_key'),
    ]

    operations = [
        migrations.CreateModel(
            name='SearchDocument',
            fields=[
                ('article', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search_document', serialize=False, to='articles.article', verbose_name='스토리')),
                ('title_terms', models.TextField(verbose_name='제목 색인어')),
                ('body_terms', models.TextField(verbose_name='본문 색인어')),
                ('text', models.TextField(verbose_name='본문 텍스트')),
            ],
            options={
                'verbose_name': '검색 문서',
                'verbose_name_plural': '검색 문서',
            },
        ),
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(index_existing_stories, migrations.RunPython.noop),
    ]
