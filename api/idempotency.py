"""Idempotency-Key: a client that retries a write after a timeout does it once, not twice.

A POST sent with `Idempotency-Key: <up to 200 printable characters>` is remembered with its
answer for KEPT (24 h), per credentials (a hash of the Authorization header). The same key
again:

- with the same request (method, path, body): the first answer again, byte for byte, with
  `Idempotent-Replayed: true`; the write is not done again;
- while the first is still being answered: 409 with Retry-After;
- with another request: 422, the key is already spent.

Only a first answer that wrote (2xx) is kept. A refusal (4xx: credentials, a rate limit, a
taken slug) or a failure (5xx) wrote nothing, so a retry is checked afresh and may succeed.
"""

import hashlib
import re
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from api.errors import error_response, field_error
from tokens.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEPT = timedelta(hours=24)
# A first request still unanswered after this long died with its process: a retry takes over.
ABANDONED = timedelta(seconds=60)
KEY = re.compile(r"[\x21-\x7e]{1,200}")
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag", "Cache-Control")


def idempotent(run):
    """Wrap an operation's run (ninja's decorate_view) so that its POSTs honour the key."""

    @wraps(run)
    def once(request: HttpRequest, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST":
            return run(request, *args, **kwargs)
        if not KEY.fullmatch(key):
            return error_response(
                request,
                422,
                errors=[
                    field_error(
                        ["header", HEADER],
                        "Idempotency-Key는 공백 없이 200자까지의 ASCII 문자로 보내 주세요.",
                    )
                ],
            )
        scope = _sender(request)
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.path.encode(), request.body])
        ).hexdigest()
        earlier = _claim(scope, key, fingerprint)
        if earlier is not None:
            return _answer_again(request, earlier, fingerprint)
        try:
            response = run(request, *args, **kwargs)
        except BaseException:  # an error answered by the exception handlers: nothing written
            _release(scope, key)
            raise
        if not 200 <= response.status_code < 300:
            _release(scope, key)
            return response
        IdempotentRequest.objects.filter(scope=scope, key=key).update(
            status=response.status_code,
            body=response.content,
            headers={
                name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)
            },
        )
        return response

    return once


def _sender(request: HttpRequest) -> str:
    """Whose key this is: the credentials sent (a token), else the signed-in user (a staff
    session), so that one sender's key never answers another's request."""
    authorization = request.headers.get("Authorization")
    if authorization:
        sender = f"authorization:{authorization}"
    elif request.user.is_authenticated:
        sender = f"user:{request.user.pk}"
    else:
        sender = "anonymous"
    return hashlib.sha256(sender.encode()).hexdigest()


def _claim(scope: str, key: str, fingerprint: str):
    """None when this request is the first with the key (it is now claimed), else the
    earlier request's record."""
    now = timezone.now()
    IdempotentRequest.objects.filter(created_at__lt=now - KEPT).delete()
    IdempotentRequest.objects.filter(
        scope=scope, key=key, status__isnull=True, created_at__lt=now - ABANDONED
    ).delete()
    try:
        with transaction.atomic():
            IdempotentRequest.objects.create(scope=scope, key=key, fingerprint=fingerprint)
    except IntegrityError:
        return IdempotentRequest.objects.filter(scope=scope, key=key).first()
    return None


def _release(scope: str, key: str) -> None:
    IdempotentRequest.objects.filter(scope=scope, key=key, status__isnull=True).delete()


def _answer_again(request: HttpRequest, earlier: IdempotentRequest, fingerprint: str):
    if earlier.fingerprint != fingerprint:
        return error_response(
            request,
            422,
            "이 Idempotency-Key는 다른 요청에 이미 쓰였습니다. 새 요청에는 새 키를 보내 주세요.",
            errors=[field_error(["header", HEADER], "이미 다른 요청에 쓴 키입니다.", "reused")],
        )
    if earlier.status is None:
        return error_response(
            request,
            409,
            "같은 Idempotency-Key의 요청을 아직 처리하고 있습니다. 잠시 뒤에 다시 보내 주세요.",
            headers={"Retry-After": "1"},
        )
    response = HttpResponse(bytes(earlier.body), status=earlier.status)
    for name, value in earlier.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response
