"""The number of published stories kept by the database as stories are written
(articles/tally.py), and the indexes that give the latest edit among published stories and the
latest change among their companies without reading every row."""

from django.db import migrations, models

from articles import tally


def create_tally(apps, schema_editor):
    tally.create(schema_editor)


def drop_tally(apps, schema_editor):
    tally.drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0024_stored_cards"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                fields=["status", "-updated_at", "published_at", "unpublish_at"],
                name="article_recent_change",
            ),
        ),
        migrations.AddIndex(
            model_name="company",
            index=models.Index(fields=["-updated_at"], name="company_recent_change"),
        ),
        migrations.RunPython(create_tally, drop_tally),
    ]
