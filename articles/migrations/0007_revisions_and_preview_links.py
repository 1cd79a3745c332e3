"""Revision and PreviewLink, made by the editorial app's migration 0001, now belong to the
domain (articles/models/workflow.py). Their tables keep their names; this migration adds them
to this app's state and moves their content types, so that the permissions the roles hold
(and the groups that hold them) carry over unchanged."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import articles.models.workflow

MOVED = ("revision", "previewlink")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="editorial", model__in=MOVED).update(
        app_label="articles"
    )


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="articles", model__in=MOVED).update(
        app_label="editorial"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0006_rerender_table_alignment"),
        ("editorial", "0003_move_models_to_articles"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PreviewLink",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("token_hash", models.CharField(editable=False, max_length=64, unique=True, verbose_name="토큰 해시")),
                        ("hint", models.CharField(editable=False, help_text="링크를 서로 구별하는 데만 씁니다.", max_length=8, verbose_name="토큰 앞부분")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="만든 때")),
                        ("expires_at", models.DateTimeField(default=articles.models.workflow.default_preview_expiry, verbose_name="만료")),
                        ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="취소한 때")),
                        ("article", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="preview_links", to="articles.article", verbose_name="스토리")),
                        ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="만든 사람")),
                    ],
                    options={
                        "verbose_name": "미리보기 링크",
                        "verbose_name_plural": "미리보기 링크",
                        "db_table": "editorial_previewlink",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["article", "-created_at"], name="preview_link_by_story")],
                        "constraints": [models.CheckConstraint(condition=models.Q(("expires_at__gt", models.F("created_at"))), name="preview_link_expires_after_creation")],
                    },
                ),
                migrations.CreateModel(
                    name="Revision",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("number", models.PositiveIntegerField(verbose_name="번호")),
                        ("article_version", models.PositiveIntegerField(verbose_name="스토리 버전")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="저장한 때")),
                        ("snapshot", models.JSONField(verbose_name="내용")),
                        ("note", models.CharField(blank=True, help_text="예: 복원: 3번에서", max_length=200, verbose_name="메모")),
                        ("article", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="revisions", to="articles.article", verbose_name="스토리")),
                        ("author", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="저장한 사람")),
                    ],
                    options={
                        "verbose_name": "스토리 버전",
                        "verbose_name_plural": "스토리 버전",
                        "db_table": "editorial_revision",
                        "ordering": ["article", "-number"],
                        "constraints": [models.UniqueConstraint(fields=("article", "number"), name="revision_unique_number")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
