"""The 조회수 beacon: a story page counts its reader with a same-origin POST from a static
script (static/js/views.js), not while it is rendered, so that a page served by a cache in
front of the site (which never reaches Django) still counts, and a page rendered once serves
every reader.

The rules are the story page's before it was shared (reader/viewcount.py): bots and staff are
not counted, nor a browser's second view of a story within 30 minutes (a cookie set on this
endpoint's answer and sent only to it, never with pages); only POST counts (GET and HEAD are
refused: a link or a prefetch must not count); a request from another site is refused (the
browser says where it comes from: Sec-Fetch-Site, else Origin); each client has a limit
(VIEW_BEACON_RATE). Every answer is `private, no-store`: a cache never answers it.

Readers without JavaScript are not counted: counting them would need a GET (an image in
<noscript>), which any page on the web can make a browser send.
"""

import hashlib
import math
import time
from dataclasses import dataclass
from importlib import import_module
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.contrib import auth
from django.core.cache import caches
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.db import close_old_connections
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.middleware.security import SecurityMiddleware
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import http_date
from django.utils.log import log_response
from django.views.decorators.csrf import csrf_exempt

from api.throttling import over_limit, window, window_key
from articles import answers, clock, versions, viewbuffer
from articles.models import Article
from ops.http import client_ip, forget_untrusted_scheme
from reader import viewcount

CROSS_SITE = frozenset({"cross-site", "same-site"})
NEVER_CACHED = "max-age=0, no-cache, no-store, must-revalidate, private"
# The beacon's address (reader/urls.py routes it; BeaconShortcut below matches it).
ROUTE = "views/<int:pk>/"


# What each refusal says.
REFUSALS = {
    403: "다른 사이트에서 보낸 조회는 세지 않습니다.",
    404: "스토리가 없습니다.",
    405: "조회수는 POST로만 셉니다.",
    429: "조회 요청이 너무 많습니다. 잠시 뒤에 다시 보내 주세요.",
}


@dataclass(frozen=True)
class Outcome:
    """What a beacon comes to: its status (204: taken, counted or not; else a refusal), the
    seconds to wait after a 429, and whether it was counted as a new view."""

    status: int = 204
    wait: float | None = None
    counted: bool = False


@csrf_exempt  # no form, no token: the origin check below is what keeps other sites out
def count_view(request, pk):
    response = answer_for(request, pk, judge(request, pk))
    request.wrote_content = False  # a view is not an edit: no read-your-writes stickiness
    return response


def judge(request, pk) -> Outcome:
    """The rules: POST only, from the site's own pages, within the client's limit, of a story
    readers may see; counted unless a bot, staff or a repeat within 30 minutes."""
    if request.method != "POST":
        return Outcome(405)
    if not _same_origin(request):
        return Outcome(403)
    new_view = (
        not viewcount.is_bot(request)
        and answers.is_reader(request)
        and pk not in viewcount.seen_recently(request)
    )
    client = f"views:{client_ip(request)}"
    try:
        outcome = _count_in_redis(client, pk, new_view) if viewbuffer.enabled() else None
    except redis.RedisError:
        outcome = None
    if outcome is None:  # without Redis, or while it cannot be reached: one step at a time
        wait = over_limit(client, settings.VIEW_BEACON_RATE)
        visible = wait is None and _readers_see(pk)
        counted = visible and new_view and viewcount.record_view(pk)
    else:
        wait, visible, counted = outcome
    if wait is not None:
        return Outcome(429, wait=wait)
    if not visible:
        return Outcome(404)
    return Outcome(counted=counted)


def answer_for(request, pk, outcome: Outcome) -> HttpResponse:
    """The answer to a beacon judged `outcome`: never kept by any cache."""
    if outcome.status == 405:
        response = HttpResponseNotAllowed(["POST"], REFUSALS[405])
    elif outcome.status != 204:
        response = HttpResponse(
            REFUSALS[outcome.status],
            status=outcome.status,
            content_type="text/plain; charset=utf-8",
        )
        if outcome.wait is not None:
            response["Retry-After"] = str(max(1, math.ceil(outcome.wait)))
    else:
        response = HttpResponse(status=204)
        if outcome.counted:
            viewcount.remember(response, request, pk)
    # What add_never_cache_headers() would write on this answer (it has no caching headers
    # yet), without parsing what is not there.
    response.headers["Expires"] = _http_date_now()
    response.headers["Cache-Control"] = NEVER_CACHED
    return response


def _readers_see(pk: int) -> bool:
    """Whether readers may see the story now. Kept per content version like the pages, so that
    a beacon costs no query of the stories' table once asked: a story whose page is kept is
    counted even while that table is locked (a migration), as it was by its page."""
    visible, _ = answers.answer(
        "beacon",
        str(pk),
        lambda: (Article.objects.published().filter(pk=pk).exists(), True),
        timeout=answers.STORY_TIMEOUT,
    )
    return visible


# A beacon with Redis in one round trip: while the content version is still the one under
# which the worker found the story visible (KEYS[1] holds ARGV[1]), count the client against
# its window (KEYS[2]: made with its expiry, then INCR, as api/throttling.py counts) and, under
# the limit, add the view to the buffer's pending hash (KEYS[3]; the fields ARGV[4:]). When
# the version has moved, nothing is counted and the new one comes back.
COUNT = """
local version = redis.call('get', KEYS[1])
if version ~= ARGV[1] then
  if version then return {0, version} end
  return {0}
end
redis.call('set', KEYS[2], 0, 'EX', ARGV[3], 'NX')
local n = redis.call('incr', KEYS[2])
if n > tonumber(ARGV[2]) then return {1, n} end
for i = 4, #ARGV do redis.call('hincrby', KEYS[3], ARGV[i], 1) end
return {2, n}
"""
COUNT_SHA = hashlib.sha1(COUNT.encode()).hexdigest()
MOVED, LIMITED = 0, 1


@dataclass(frozen=True)
class Seen:
    """The content version this worker last saw in Redis: its record as stored, the version,
    and whether readers may see each story asked of it since (a memo that starts empty with
    each version, in front of the answers' cache)."""

    record: bytes
    version: versions.Version
    visible: dict[int, bool]

    def readers_see(self, pk: int) -> bool:
        visible = self.visible.get(pk)
        if visible is None:
            if len(self.visible) >= VISIBLE_MEMO:
                self.visible.clear()
            with versions.pinned(self.version):
                visible = self.visible[pk] = _readers_see(pk)
        return visible


VISIBLE_MEMO = 10_000
_last_seen: Seen | None = None


def _count_in_redis(client: str, pk: int, new_view: bool):
    """(seconds to wait or None, visible, counted) of a beacon counted in Redis in one round
    trip while the content version stays the one last seen, else None (Redis cannot be
    reached, or the version must be drawn from the database: the caller's path does it)."""
    global _last_seen
    cache = caches["default"]
    limit, period = settings.VIEW_BEACON_RATE
    window_end, left = window(period)
    keys = [
        cache.make_key(versions.KEY),
        cache.make_key(window_key(client, window_end)),
        cache.make_key(viewbuffer.PENDING),
    ]
    # Django has no public door to its Redis client; this is the one it writes with.
    redis_client = cache._cache.get_client(keys[0], write=True)
    now = clock.now()
    seen = _last_seen
    for _ in range(2):  # the version last seen, then the one Redis holds
        if seen is None or not seen.version.covers(now):
            # Ask for the version only: no record is stored as the empty string.
            answer = _run(redis_client, keys, [b"", limit, period + 1])
        else:
            visible = seen.readers_see(pk)
            views = viewbuffer.fields(pk, timezone.localdate()) if visible and new_view else ()
            answer = _run(redis_client, keys, [seen.record, limit, period + 1, *views])
            if answer[0] == LIMITED:
                return left, visible, False
            if answer[0] != MOVED:
                return None, visible, bool(views)
        if len(answer) < 2:  # no record: the caller's path draws one
            return None
        version = versions.Version.of(cache._cache._serializer.loads(answer[1]))
        if version is None or not version.covers(now):
            return None
        seen = _last_seen = Seen(answer[1], version, {})
    return None


def _run(redis_client, keys, args) -> list:
    """The script's answer; redis.RedisError when Redis cannot be reached (the caller's path
    then counts without it)."""
    try:
        return redis_client.evalsha(COUNT_SHA, len(keys), *keys, *args)
    except redis.exceptions.NoScriptError:
        return redis_client.eval(COUNT, len(keys), *keys, *args)


def _same_origin(request) -> bool:
    """Whether the browser says this request comes from the site's own pages. A browser that
    sends neither header (old ones, other clients) is taken at its word: it could as well
    send the header it likes."""
    site = request.META.get("HTTP_SEC_FETCH_SITE")
    if site is not None:
        return site not in CROSS_SITE
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.get_host()


class BeaconShortcut:
    """Sends a beacon to count_view past the middleware that has nothing to do for it.

    A beacon is a POST with no body to read, answered by an empty 204 (or a short refusal) that
    no cache keeps: static files, the API's errors, CSRF (it is exempt and checks its origin
    itself), messages, frame and content policies, login lockouts, the readers' query limits
    (GET only) and the replica's choice (a beacon writes) do nothing for it, but their work
    was a fifth of its cost. It runs after ForwardedSchemeMiddleware and SecurityMiddleware, so
    the scheme a cookie's Secure flag follows and the security headers are as on every answer,
    and gives the view what the session and auth middleware would: a session read only if
    its cookie came (a signed-in editor is not counted), and request.user from it, lazily."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.route = RoutePattern(ROUTE, is_endpoint=True)

    def __call__(self, request):
        match = self.route.match(request.path_info[1:])
        if match is None:
            return self.get_response(request)
        _, _, kwargs = match
        give_session(request)
        return count_view(request, kwargs["pk"])


def give_session(request) -> None:
    """What the session and auth middleware would give the view: the session of the cookie
    (read only if it came, and only when asked), and request.user from it, lazily."""
    sessions = import_module(settings.SESSION_ENGINE).SessionStore
    request.session = sessions(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    request.user = SimpleLazyObject(lambda: auth.get_user(request))


class BeaconGate:
    """Counts a reader's beacon before Django's request handling (the WSGI application is
    this gate around Django's: culture/wsgi.py).

    A hot story's readers send thousands of beacons a second, and Django's handler (its
    signals, the middleware chain and its adapters, the response objects) was half of each
    one's cost. The gate takes a POST to the beacon's address that carries no session cookie
    (a signed-in editor's goes the whole way, where their session is read) and stands in for
    the middleware before BeaconShortcut (MIDDLEWARE begins with these three: a test holds
    it): it applies ForwardedSchemeMiddleware's scheme rule, leaves a request that
    SecurityMiddleware would redirect to Django, and adds SecurityMiddleware's headers. The
    beacon is judged by the same judge() as count_view. A taken beacon's 204 is written from
    the headers answer_for() and SecurityMiddleware gave the first one (kept per scheme,
    forgotten when a setting changes), with its own Expires date and cookie; a refusal or an
    error is answered as through the handler. Everything else goes to Django untouched. The
    database connections this thread holds are checked afterwards, as the handler's
    request_finished signal does (a beacon rarely needs one)."""

    def __init__(self, application):
        self.application = application
        self.route = RoutePattern(ROUTE, is_endpoint=True)

    def __call__(self, environ, start_response):
        pk = self._beacon(environ)
        if pk is None:
            return self.application(environ, start_response)
        request = WSGIRequest(environ)
        forget_untrusted_scheme(request.META)
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return self.application(environ, start_response)  # redirected there
        try:
            status, headers, body = self._respond(request, pk)
        finally:
            close_old_connections()
        start_response(status, headers)
        return [body]

    def _beacon(self, environ) -> int | None:
        """The story of a beacon the gate takes, else None."""
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        match = self.route.match(environ.get("PATH_INFO", "")[1:])
        if match is None or settings.SESSION_COOKIE_NAME in environ.get("HTTP_COOKIE", ""):
            return None
        return match[2]["pk"]

    def _respond(self, request, pk: int) -> tuple[str, list, bytes]:
        try:
            outcome = judge(request, pk)
            if outcome.status == 204:
                return "204 No Content", _taken_headers(request, pk, outcome), b""
            response = answer_for(request, pk, outcome)
        except Exception as error:
            response = response_for_exception(request, error)
        response = _security().process_response(request, response)
        log_response(
            "%s: %s", response.reason_phrase, request.path, response=response, request=request
        )
        status = f"{response.status_code} {response.reason_phrase}"
        return status, wsgi_headers(response), response.content


def wsgi_headers(response) -> list[tuple[str, str]]:
    """A response's headers as Django's WSGI handler gives them to the server."""
    return [*response.items(), *cookie_headers(response)]


def cookie_headers(response) -> list[tuple[str, str]]:
    return [("Set-Cookie", cookie.output(header="")) for cookie in response.cookies.values()]


# The headers of a taken beacon's 204 by scheme (https or not), as answer_for() and
# SecurityMiddleware wrote them for the first one.
_taken_204: dict[bool, list[tuple[str, str]]] = {}


def _taken_headers(request, pk: int, outcome: Outcome) -> list[tuple[str, str]]:
    secure = request.is_secure()
    headers = _taken_204.get(secure)
    if headers is None:
        plain = _security().process_response(request, answer_for(request, pk, Outcome()))
        headers = _taken_204[secure] = wsgi_headers(plain)
    expires = _http_date_now()
    headers = [(name, expires if name == "Expires" else value) for name, value in headers]
    if outcome.counted:
        remembered = HttpResponseBase()
        viewcount.remember(remembered, request, pk)
        headers += cookie_headers(remembered)
    return headers


# http_date() changes once a second: the last second's, per process (every beacon's Expires).
_http_date_memo: tuple[int, str] = (0, "")


def _http_date_now() -> str:
    """http_date() (the current second, as an HTTP date), worked out once a second."""
    global _http_date_memo
    second = int(time.time())
    if _http_date_memo[0] != second:
        _http_date_memo = (second, http_date(second))
    return _http_date_memo[1]


def _security() -> SecurityMiddleware:
    return SecurityMiddleware(count_view)


@receiver(setting_changed)
def forget(**kwargs) -> None:
    """Forget what this process keeps for beacons (the content version last seen in Redis
    and what it showed, the headers of a taken beacon's answer): a setting changed, or a
    test begins."""
    global _last_seen
    _last_seen = None
    _taken_204.clear()


# The middleware the gate stands in for, in MIDDLEWARE's order (tests/test_beacon.py).
GATE_STANDS_FOR = [
    "ops.http.ForwardedSchemeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    f"{BeaconShortcut.__module__}.{BeaconShortcut.__qualname__}",
]
