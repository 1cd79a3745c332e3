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

import math
from importlib import import_module
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import auth
from django.http import HttpResponse, HttpResponseNotAllowed
from django.urls.resolvers import RoutePattern
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject
from django.views.decorators.csrf import csrf_exempt

from api.throttling import over_limit
from articles import answers
from articles.models import Article
from ops.http import client_ip
from reader import viewcount

CROSS_SITE = frozenset({"cross-site", "same-site"})
# The beacon's address (reader/urls.py routes it; BeaconShortcut below matches it).
ROUTE = "views/<int:pk>/"


def refusal(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt  # no form, no token: the origin check below is what keeps other sites out
def count_view(request, pk):
    response = _answer(request, pk)
    request.wrote_content = False  # a view is not an edit: no read-your-writes stickiness
    add_never_cache_headers(response)
    return response


def _answer(request, pk) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"], "조회수는 POST로만 셉니다.")
    if not _same_origin(request):
        return refusal(403, "다른 사이트에서 보낸 조회는 세지 않습니다.")
    wait = over_limit(f"views:{client_ip(request)}", settings.VIEW_BEACON_RATE)
    if wait is not None:
        response = refusal(429, "조회 요청이 너무 많습니다. 잠시 뒤에 다시 보내 주세요.")
        response["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    if not _readers_see(pk):
        return refusal(404, "스토리가 없습니다.")
    response = HttpResponse(status=204)
    if viewcount.is_bot(request) or not answers.is_reader(request):
        return response
    if pk in viewcount.seen_recently(request):
        return response
    if viewcount.record_view(pk):
        viewcount.remember(response, request, pk)
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


def _same_origin(request) -> bool:
    """Whether the browser says this request comes from the site's own pages. A browser that
    sends neither header (old ones, other clients) is taken at its word: it could as well
    send the header it likes."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in CROSS_SITE
    origin = request.headers.get("Origin")
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
        self.sessions = import_module(settings.SESSION_ENGINE).SessionStore

    def __call__(self, request):
        match = self.route.match(request.path_info[1:])
        if match is None:
            return self.get_response(request)
        _, _, kwargs = match
        request.session = self.sessions(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
        request.user = SimpleLazyObject(lambda: auth.get_user(request))
        return count_view(request, kwargs["pk"])
