"""API tokens: how a program proves who it writes for, and what it may do.

A token is shown once, when it is made, and kept only as a SHA-256 digest, so a copy of the
database holds no usable token. Its first characters (the prefix, e.g. ``cs_k3v9x2qa``) are
kept as they are: editors tell tokens apart by them, logs may print them, and the lookup
finds the row by them without comparing secrets.
"""

import hashlib
import hmac
import re
import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

TOKEN_PREFIX = "cs_"
PREFIX_CHARS = string.ascii_lowercase + string.digits
PREFIX_RANDOM_LENGTH = 8
# secrets.token_urlsafe(32): 256 bits of entropy in 43 URL-safe characters.
# The visible prefix of a token ("cs_" and 8 lower-case letters or digits).
PREFIX_PATTERN = rf"{TOKEN_PREFIX}[a-z0-9]{{{PREFIX_RANDOM_LENGTH}}}"
TOKEN_PATTERN = re.compile(rf"({PREFIX_PATTERN})_[A-Za-z0-9_-]{{43}}")
# last_used_at is a hint for editors, not an audit log: writing it on every request would
# turn each read of the token into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Scope(models.TextChoices):
    STORIES_WRITE = "stories:write", "stories:write — 스토리 초안을 만들고 고칩니다"
    STORIES_PUBLISH = (
        "stories:publish",
        "stories:publish — 스토리를 발행하고 발행된 스토리를 고칩니다",
    )
    OPS_READ = "ops:read", "ops:read — 운영 상태(데이터베이스 연결)를 봅니다"
    STATS_READ = "stats:read", "stats:read — 조회수 통계를 봅니다(작성자는 자기 스토리만)"


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def validate_scopes(value: str) -> None:
    unknown = sorted(set(value.split()) - set(Scope.values))
    if unknown:
        raise ValidationError(
            "알 수 없는 권한입니다: %(unknown)s", params={"unknown": ", ".join(unknown)}
        )
    if not value.split():
        raise ValidationError("권한을 하나 이상 고르세요.")


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Tokens that open the API now: not revoked, not expired, their user still active."""
        now = now or timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            revoked_at__isnull=True,
            user__is_active=True,
        )


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="사용자",
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="토큰으로 한 일은 이 사용자의 이름으로 기록됩니다. 그 사용자의 권한을 넘지 못합니다.",
    )
    name = models.CharField(
        "이름", max_length=100, help_text="어디에 쓰는 토큰인지. 예: 채용 블로그 동기화"
    )
    prefix = models.CharField("앞부분", max_length=16, unique=True, editable=False)
    secret_hash = models.CharField("비밀값 해시", max_length=64, editable=False)
    scopes = models.CharField(
        "권한",
        max_length=200,
        validators=[validate_scopes],
        help_text="공백으로 구분한 권한 목록",
    )
    created_at = models.DateTimeField("만든 때", auto_now_add=True)
    last_used_at = models.DateTimeField("마지막 사용", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("폐기한 때", null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(
        "만료", null=True, blank=True, help_text="비워 두면 폐기할 때까지 쓸 수 있습니다."
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API 토큰"
        verbose_name_plural = "API 토큰"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, user, name: str, scopes, expires_at=None) -> tuple["ApiToken", str]:
        """Make and save a token for `user`; return it with its plain text."""
        token = cls(
            user=user, name=name, scopes=" ".join(sorted(set(scopes))), expires_at=expires_at
        )
        validate_scopes(token.scopes)
        raw = token.new_secret()
        token.save()
        return token, raw

    def new_secret(self) -> str:
        """Give this unsaved token its prefix and secret and return its plain text, which is
        never stored and so can be shown only this once."""
        while True:
            prefix = TOKEN_PREFIX + "".join(
                secrets.choice(PREFIX_CHARS) for _ in range(PREFIX_RANDOM_LENGTH)
            )
            if not ApiToken.objects.filter(prefix=prefix).exists():
                break
        raw = f"{prefix}_{secrets.token_urlsafe(32)}"
        self.prefix = prefix
        self.secret_hash = token_digest(raw)
        return raw

    @classmethod
    def from_plain_text(cls, raw: str, now=None) -> "ApiToken | None":
        """The usable token whose plain text is `raw`, with its user; None for anything else."""
        match = TOKEN_PATTERN.fullmatch(raw)
        if match is None:
            return None
        token = cls.objects.usable(now).select_related("user").filter(prefix=match[1]).first()
        if token is None or not hmac.compare_digest(token.secret_hash, token_digest(raw)):
            return None
        return token

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list

    def touch(self, now=None) -> None:
        """Note that the token was used, at most once a minute, without saving this (perhaps
        stale) instance over an editor's change such as a revocation."""
        now = now or timezone.now()
        if self.last_used_at is not None and now - self.last_used_at < LAST_USED_RESOLUTION:
            return
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION),
            pk=self.pk,
        ).update(last_used_at=now)
        self.last_used_at = now

    def revoke(self, now=None) -> bool:
        """Revoke the token at once; False when it already was."""
        now = now or timezone.now()
        updated = ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if updated:
            self.revoked_at = now
        return bool(updated)


class ThrottleCounter(models.Model):
    """Requests of one client (or token) in one window of an API rate limit, when the limits
    are counted in the database (no Redis). api/throttling.py adds to a row with one atomic
    upsert and deletes the rows of windows that have ended. On PostgreSQL the table is
    UNLOGGED (migration 0005): no WAL to write and flush for each request."""

    key = models.CharField("대상", max_length=200, help_text="한도 종류와 클라이언트 주소나 토큰")
    window_end = models.BigIntegerField("창이 끝나는 때", help_text="Unix 시각(초)")
    count = models.PositiveIntegerField("요청 수", default=0)

    class Meta:
        constraints = [
            # The upsert's ON CONFLICT target: one row per key and window.
            models.UniqueConstraint(fields=["key", "window_end"], name="throttle_key_window"),
        ]
        indexes = [models.Index(fields=["window_end"], name="throttle_window_end")]
        # Bookkeeping of the code, in no admin: nobody is granted anything on it.
        default_permissions = ()
        verbose_name = "요청 한도 카운터"
        verbose_name_plural = "요청 한도 카운터"

    def __str__(self):
        return f"{self.key} until {self.window_end}: {self.count}"


class IdempotentRequest(models.Model):
    """A write an API client sent with an Idempotency-Key header, and the answer it got: a
    retry of the same request (after a timeout, say) gets that answer again instead of doing
    the write twice (api/idempotency.py)."""

    scope = models.CharField(
        "보낸 쪽", max_length=64, help_text="Authorization 헤더나 로그인한 사용자의 해시"
    )
    key = models.CharField("키", max_length=200)
    fingerprint = models.CharField("요청 해시", max_length=64, help_text="메서드, 경로, 본문")
    status = models.PositiveSmallIntegerField("응답 상태", null=True, help_text="처리 중이면 비움")
    body = models.BinaryField("응답 본문", default=b"")
    headers = models.JSONField("응답 헤더", default=dict)
    created_at = models.DateTimeField("받은 때", default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotent_scope_key"),
        ]
        default_permissions = ()
        verbose_name = "멱등 요청"
        verbose_name_plural = "멱등 요청"

    def __str__(self):
        return f"{self.key}: {self.status or '처리 중'}"
