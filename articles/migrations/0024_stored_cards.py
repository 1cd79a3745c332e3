"""Story cards kept with their stories (articles/models/cards.py), drawn by draw_cards."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0023_content_version_story_saves"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoredCard",
            fields=[
                (
                    "article",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="stored_card",
                        serialize=False,
                        to="articles.article",
                        verbose_name="스토리",
                    ),
                ),
                ("shown", models.TextField(verbose_name="보여 주는 것")),
                ("context", models.CharField(max_length=64, verbose_name="그린 곳")),
                ("html", models.TextField(verbose_name="HTML")),
            ],
            options={
                "verbose_name": "저장된 카드",
                "verbose_name_plural": "저장된 카드",
                "default_permissions": (),
            },
        ),
    ]
