"""The editorial workflow's records: every saved version of a story (Revision) and the links that
let someone without an account read a draft (PreviewLink).

Publishing, unpublishing, restoring and deleting are audited in the admin's own LogEntry table
(articles.revisions.log_change), so the story's 히스토리 page shows them with who and when.

Both tables were made by the editorial app's first migration and keep their names
(editorial_revision, editorial_previewlink): articles/0007 moved the models here.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from articles.models.stories import Article

__all__ = [
    "PREVIEW_DAYS",
    "PREVIEW_MAX_DAYS",
    "PreviewLink",
    "Revision",
    "default_preview_expiry",
    "preview_token_digest",
]

PREVIEW_DAYS = 7
PREVIEW_MAX_DAYS = 30


class Revision(models.Model):
    """One saved state of a story: what an editor can compare and restore.

    `snapshot` holds the editable fields as JSON (ids for the company, series, tags, people and
    authors; ISO times), never derived ones (the rendered HTML, the reading time) nor the ones
    the server keeps (view count). `article_version` is the story's version the save produced,
    so an edit conflict can name who saved the version that is current."""

    article = models.ForeignKey(
        Article, verbose_name="스토리", on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField("번호")
    article_version = models.PositiveIntegerField("스토리 버전")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="저장한 사람", on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField("저장한 때", default=timezone.now)
    snapshot = models.JSONField("내용")
    note = models.CharField("메모", max_length=200, blank=True, help_text="예: 복원: 3번에서")

    class Meta:
        db_table = "editorial_revision"
        ordering = ["article", "-number"]
        verbose_name = "스토리 버전"
        verbose_name_plural = "스토리 버전"
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="revision_unique_number")
        ]

    def __str__(self):
        return f"{self.article_id} · {self.number}번"

    @property
    def author_name(self) -> str:
        if self.author is None:
            return "알 수 없는 사람"
        return self.author.get_full_name() or self.author.get_username()


def preview_token_digest(token: str) -> str:
    """A preview link's secret is stored the way an API token is: its SHA-256 digest only."""
    return hashlib.sha256(token.encode()).hexdigest()


def default_preview_expiry():
    return timezone.now() + timedelta(days=PREVIEW_DAYS)


class PreviewLinkQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)

    def find(self, article_id: int, token: str):
        """The usable link of this story with this token, or None.

        Only the token's SHA-256 digest is stored, and the lookup is by digest: the database
        compares digests of a random 192-bit secret, so how long a comparison takes tells an
        attacker nothing about the token itself."""
        if not token or len(token) > 100:
            return None
        return (
            self.usable()
            .filter(article_id=article_id, token_hash=preview_token_digest(token))
            .first()
        )


class PreviewLink(models.Model):
    """A secret link to one story that works without logging in, until it expires or is
    revoked: for the interviewee checking their quotes, or a reviewer outside the team."""

    article = models.ForeignKey(
        Article, verbose_name="스토리", on_delete=models.CASCADE, related_name="preview_links"
    )
    token_hash = models.CharField("토큰 해시", max_length=64, unique=True, editable=False)
    hint = models.CharField(
        "토큰 앞부분", max_length=8, editable=False, help_text="링크를 서로 구별하는 데만 씁니다."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="만든 사람", on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField("만든 때", default=timezone.now)
    expires_at = models.DateTimeField("만료", default=default_preview_expiry)
    revoked_at = models.DateTimeField("취소한 때", null=True, blank=True)

    objects = PreviewLinkQuerySet.as_manager()

    class Meta:
        db_table = "editorial_previewlink"
        ordering = ["-created_at", "-id"]
        verbose_name = "미리보기 링크"
        verbose_name_plural = "미리보기 링크"
        indexes = [models.Index(fields=["article", "-created_at"], name="preview_link_by_story")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="preview_link_expires_after_creation",
            )
        ]

    def __str__(self):
        return f"{self.article_id} · {self.hint}…"

    @classmethod
    def issue(cls, article, user, days=PREVIEW_DAYS):
        """A new link and its token. The token is in no table: show it now or never."""
        token = secrets.token_urlsafe(24)
        now = timezone.now()
        link = cls.objects.create(
            article=article,
            token_hash=preview_token_digest(token),
            hint=token[:6],
            created_by=user,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        return link, token

    @staticmethod
    def url_for(article_id: int, token: str) -> str:
        return reverse("articles:preview", args=[article_id, token])

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "취소됨"
        if self.expires_at <= timezone.now():
            return "만료됨"
        return "사용 중"

    @property
    def is_usable(self) -> bool:
        return self.state == "사용 중"
