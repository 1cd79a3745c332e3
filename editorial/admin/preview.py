"""The story form's live preview: the body as readers will see it, drawn by the site's own
renderer and sanitiser (articles/rendering.py) while the editor types.

static/js/markdown-preview.js posts the body here as JSON (CSRF token in a header; the admin
wraps the view in admin_view, so it is for logged-in staff only and CSRF-checked) and shows
the HTML it gets back, or the error. Bounded: a body over ARTICLE_BODY_MAX_CHARS gets the
same message the form would give, a request larger than such a body could be is refused
before it is read, and each editor may ask EDITOR_PREVIEW_RATE times (the API's exact window
counters, shared by every worker)."""

import json

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, JsonResponse

from api.throttling import WindowThrottle
from articles.rendering import check_body_length, check_body_renders, render_body

# UTF-8 takes at most 4 bytes a character, and JSON's escapes a few more for some: room for
# the longest body the form accepts, and its envelope.
BYTES_PER_CHAR = 6
ENVELOPE_BYTES = 1024


class PreviewThrottle(WindowThrottle):
    """Per editor, not per address: an office shares one."""

    scope = "preview"

    def ident(self, request: HttpRequest) -> str | None:
        return f"user{request.user.pk}"


throttle = PreviewThrottle()


def error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def markdown_preview(request, may_edit):
    """POST {"body": "…"} → {"html": "…"}; every refusal is JSON {"error": "…"} in Korean."""
    if request.method != "POST":
        response = error("미리보기는 POST로만 요청할 수 있습니다.", 405)
        response["Allow"] = "POST"
        return response
    if not may_edit(request):
        raise PermissionDenied("스토리를 쓰거나 고칠 권한이 없습니다.")
    limit = settings.ARTICLE_BODY_MAX_CHARS * BYTES_PER_CHAR + ENVELOPE_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return error(
            f"본문이 너무 깁니다. {settings.ARTICLE_BODY_MAX_CHARS:,}자 이하로 줄여 주세요.", 413
        )
    if not throttle.allow_request(request):
        response = error("미리보기 요청이 너무 잦습니다. 잠시 뒤 다시 시도합니다.", 429)
        response["Retry-After"] = str(throttle.wait())
        return response
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        return error("요청 형식이 잘못되었습니다: JSON으로 보내 주세요.", 400)
    body = data.get("body") if isinstance(data, dict) else None
    if not isinstance(body, str):
        return error("요청 형식이 잘못되었습니다: 본문(body)을 글자로 보내 주세요.", 400)
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    try:
        check_body_length(body)
    except ValidationError as exc:
        return error(exc.messages[0], 413)
    try:
        # The save's own bound (articles/rendering.py): a body too complex to render in time
        # is said here as it would be on saving, not left to tie up the server.
        check_body_renders(body)
    except ValidationError as exc:
        return error(exc.messages[0], 422)
    return JsonResponse({"html": render_body(body)})
