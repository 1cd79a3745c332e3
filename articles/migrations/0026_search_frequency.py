"""How many search documents hold each index piece, kept by PostgreSQL's triggers
(articles/search_frequency.py). Nothing on SQLite."""

from django.db import migrations

from articles import search_frequency


def create(apps, schema_editor):
    search_frequency.create(schema_editor)


def drop(apps, schema_editor):
    search_frequency.drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0025_published_tally"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
