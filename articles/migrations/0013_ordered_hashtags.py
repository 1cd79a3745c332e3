"""A story's hashtags get an order: the relation's table becomes the ArticleTag model (the
same table, so no row moves) with a position, numbered for the stories already there in the
order their rows were written."""

import django.db.models.deletion
from django.db import migrations, models


def number_existing(apps, schema_editor):
    ArticleTag = apps.get_model("articles", "ArticleTag")
    changed = []
    position, current = 0, None
    for link in ArticleTag.objects.order_by("article_id", "id"):
        position = 0 if link.article_id != current else position + 1
        current = link.article_id
        if link.position != position:
            link.position = position
            changed.append(link)
    ArticleTag.objects.bulk_update(changed, ["position"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0012_picture_renditions_and_focus"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ArticleTag",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "article",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="tag_links",
                                to="articles.article",
                                verbose_name="스토리",
                            ),
                        ),
                        (
                            "tag",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="article_links",
                                to="articles.tag",
                                verbose_name="해시태그",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "스토리의 해시태그",
                        "verbose_name_plural": "스토리의 해시태그",
                        "db_table": "articles_article_tags",
                        "ordering": ["position", "id"],
                        "unique_together": {("article", "tag")},
                        "default_permissions": (),
                    },
                ),
                migrations.AlterField(
                    model_name="article",
                    name="tags",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="articles",
                        through="articles.ArticleTag",
                        to="articles.tag",
                        verbose_name="해시태그",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="articletag",
            name="position",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="순서"),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
    ]
