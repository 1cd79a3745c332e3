"""One error shape for everything under /api/, whoever produced the error.

    {"status": 404, "code": "not_found", "message": "…", "errors": [], "request_id": "9f…"}

`errors` lists the fields at fault on a 422 (`loc` as in the OpenAPI parameters: "query",
"path", "header" or "body", then the field). `request_id` is also sent as X-Request-ID and
logged with every server error, so a report can be matched to its traceback without the
client ever seeing one.

The NinjaAPI's exception handlers answer the errors raised in an operation; the middleware
answers what never reaches one (an unknown path, a wrong method, a body over the cap, a token
in the query string, an error in another middleware) and rewrites any other error response
under /api/ into the same shape.
"""

import logging
import math
import re
import uuid

import psycopg_pool
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, set_response_etag
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from articles.versions import CacheUnavailable
from ops.availability import MESSAGES as UNAVAILABLE
from ops.availability import RETRY_AFTER, log_unavailable, unavailable_reason
from tokens.models import PREFIX_PATTERN

logger = logging.getLogger("api")

API_PREFIX = "/api/"

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "throttled",
    500: "server_error",
    503: "service_unavailable",
}

MESSAGES = {
    400: "요청을 이해할 수 없습니다.",
    401: "유효한 API 토큰이 필요합니다. Authorization: Bearer <토큰> 헤더로 보내 주세요.",
    403: "이 일을 할 권한이 없습니다.",
    404: "찾는 것이 없습니다.",
    405: "이 주소는 그 메서드를 받지 않습니다. Allow 헤더를 보세요.",
    409: "다른 것과 겹칩니다.",
    412: "그사이 다른 사람이 고쳤습니다. 최신 버전을 받아 다시 고쳐 주세요.",
    413: "요청 본문이 너무 큽니다.",
    415: "JSON 본문만 받습니다.",
    422: "입력값이 올바르지 않습니다. errors를 보세요.",
    428: "If-Match 헤더가 필요합니다.",
    429: "요청이 너무 많습니다. Retry-After 초 뒤에 다시 시도해 주세요.",
    500: "서버에서 문제가 생겼습니다. request_id를 알려 주시면 찾아보겠습니다.",
    503: "지금은 요청을 처리할 수 없습니다. 잠시 뒤에 다시 시도해 주세요.",
}

# Query parameters a client might put a token in; tokens go in the Authorization header only,
# never in URLs that end up in logs, browser history and Referer headers.
TOKEN_PARAMS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "auth", "authorization", "bearer"}
)
TOKEN_LIKE = re.compile(PREFIX_PATTERN + "_")

KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
# The methods whose body the API reads.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json(content_type: str | None) -> bool:
    """application/json, or a JSON-based type (application/problem+json)."""
    return content_type == "application/json" or (content_type or "").endswith("+json")


class ApiError(Exception):
    """An error an operation answers on purpose: 409, 412, 428 and their kin."""

    def __init__(self, status: int, message: str | None = None, *, errors=(), headers=None):
        self.status = status
        self.message = message or MESSAGES.get(status, "")
        self.errors = list(errors)
        self.headers = headers or {}
        super().__init__(status, self.message)


def request_id(request: HttpRequest) -> str:
    if not hasattr(request, "request_id"):
        request.request_id = uuid.uuid4().hex
    return request.request_id


def field_error(loc, message: str, type_: str = "value_error") -> dict:
    return {"loc": list(loc), "message": message, "type": type_}


def error_response(
    request: HttpRequest,
    status: int,
    message: str | None = None,
    *,
    errors=(),
    headers=None,
) -> JsonResponse:
    body = {
        "status": status,
        "code": CODES.get(status, "error"),
        "message": message or MESSAGES.get(status, "오류가 났습니다."),
        "errors": list(errors),
        "request_id": request_id(request),
    }
    response = JsonResponse(
        body,
        status=status,
        content_type="application/json; charset=utf-8",
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in (headers or {}).items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    response.api_error = True
    return response


def _validation_errors(errors) -> list[dict]:
    return [
        field_error(
            [part for part in error.get("loc", ()) if isinstance(part, str | int)],
            str(error.get("msg", "")),
            str(error.get("type", "value_error")),
        )
        for error in errors
    ]


def install_exception_handlers(api: NinjaAPI) -> None:
    """Answer every exception an operation raises in the one shape (ninja looks a handler up
    along the exception's class hierarchy, so the most specific one wins)."""

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return error_response(
            request, exc.status, exc.message, errors=exc.errors, headers=exc.headers
        )

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return error_response(request, 422, errors=_validation_errors(exc.errors))

    @api.exception_handler(Http404)
    def not_found(request, exc: Http404):
        return error_response(request, 404)

    @api.exception_handler(AuthenticationError)
    def unauthorized(request, exc: AuthenticationError):
        return error_response(request, 401, headers={"WWW-Authenticate": "Bearer"})

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        wait = max(1, math.ceil(exc.wait)) if exc.wait else 1
        return error_response(request, 429, headers={"Retry-After": str(wait)})

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        message = exc.message
        if message in {"Forbidden", "Unauthorized"}:
            message = None
        elif message.startswith("Cannot parse request body"):
            content_type = request.content_type or ""
            if not is_json(content_type):
                return error_response(
                    request,
                    415,
                    "JSON 본문만 받습니다: Content-Type: application/json으로 보내 주세요"
                    f"(받은 형식: {content_type or '없음'}).",
                )
            message = "요청 본문을 JSON으로 읽을 수 없습니다."
        return error_response(request, exc.status_code, message)

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc: RequestDataTooBig):
        return error_response(request, 413)

    @api.exception_handler(Exception)
    def server_error(request, exc: Exception):
        logger.error(
            "500 %s %s request_id=%s",
            request.method,
            request.path,
            request_id(request),
            exc_info=exc,
        )
        response = error_response(request, 500)
        response._has_been_logged = True  # django.request need not log it a second time
        return response


class ApiErrorMiddleware:
    """Under /api/: a request id on every answer, the body cap and the token-in-URL refusal
    before anything reads the request, HEAD answered as GET without a body, and every error
    response in the one JSON shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        request_id(request)
        response = self.refuse(request)
        if response is None:
            head = request.method == "HEAD"
            if head:
                request.method = "GET"
            response = self.as_json(request, self.get_response(request))
            response = self.conditional(request, response)
            if head:
                request.method = "HEAD"
                if not response.streaming:
                    response["Content-Length"] = str(len(response.content))
                    response.content = b""
        response["X-Request-ID"] = request.request_id
        return response

    def refuse(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.headers.get("content-length") or 0)
        except ValueError:
            return error_response(request, 400, "Content-Length가 숫자가 아닙니다.")
        if length > settings.API_MAX_BODY_BYTES:
            return error_response(
                request,
                413,
                f"요청 본문이 너무 큽니다: {settings.API_MAX_BODY_BYTES:,}바이트까지 받습니다.",
            )
        try:
            query = request.GET.lists()
        except TooManyFieldsSent:
            return error_response(
                request,
                400,
                "쿼리 매개변수가 너무 많습니다: "
                f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}개까지 받습니다.",
            )
        if any(
            name.lower() in TOKEN_PARAMS or any(TOKEN_LIKE.search(v) for v in values)
            for name, values in query
        ):
            return error_response(
                request,
                400,
                "토큰은 주소에 넣지 말고 Authorization: Bearer 헤더로 보내 주세요.",
            )
        # After the query checks: a token in the address is refused whatever the body.
        if length and request.method in BODY_METHODS and not is_json(request.content_type):
            # Only JSON is read: a body in another type (a form, XML, text) would otherwise be
            # parsed as JSON all the same, and a client would never learn it sent the wrong one.
            return error_response(
                request,
                415,
                "JSON 본문만 받습니다: Content-Type: application/json으로 보내 주세요"
                f"(받은 형식: {request.content_type or '없음'}).",
            )
        repeated = [name for name, values in request.GET.lists() if len(values) > 1]
        if repeated:
            # Every query parameter of the API takes one value: a second one would silently
            # win over the first.
            return error_response(
                request,
                422,
                errors=[
                    field_error(["query", name], "이 값은 한 번만 보낼 수 있습니다.", "repeated")
                    for name in repeated
                ],
            )
        return None

    @staticmethod
    def conditional(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """Every GET carries an ETag: the operations set their own (with Last-Modified); the
        schema and the docs page get one from their content, and a matching If-None-Match
        answers 304 for them too."""
        if (
            request.method != "GET"
            or response.status_code != 200
            or response.streaming
            or response.has_header("ETag")
        ):
            return response
        set_response_etag(response)
        return get_conditional_response(request, etag=response["ETag"], response=response)

    def as_json(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code < 400 or getattr(response, "api_error", False):
            return response
        if response.status_code == 500:
            logger.error(
                "%s %s %s request_id=%s",
                response.status_code,
                request.method,
                request.path,
                request.request_id,
            )
        headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        if response.status_code == 405 and "GET" in headers.get("Allow", ""):
            headers["Allow"] = ", ".join(
                sorted({*[m.strip() for m in headers["Allow"].split(",")], "HEAD"})
            )
        # A page that says why (the 503 of ops/availability.py) keeps its words.
        message = getattr(response, "error_message", None)
        json_response = error_response(request, response.status_code, message, headers=headers)
        if getattr(response, "_has_been_logged", False):
            json_response._has_been_logged = True
        return json_response


def install_database_unavailable_handler(api: NinjaAPI) -> None:
    """Answer "no database connection" anywhere in the API with a 503 in JSON.

    Registered on django.db's OperationalError and InterfaceError (what Django re-raises
    psycopg's and the pool's errors as). Any other database error is not ours to judge: it
    goes on to the API's own handlers and to Django.
    """

    def handle(request, exc):
        reason = unavailable_reason(exc)
        if reason is None:
            raise exc
        log_unavailable(request, reason, exc)
        response = error_response(
            request, 503, UNAVAILABLE[reason], headers={"Retry-After": str(RETRY_AFTER[reason])}
        )
        response._has_been_logged = True
        return response

    for exc_class in (OperationalError, InterfaceError, psycopg_pool.PoolTimeout, CacheUnavailable):
        api.add_exception_handler(exc_class, handle)
