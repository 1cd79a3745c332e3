"""Answers to anonymous reads, kept per process and filed under the content version.

The API's twin of the reader pages' cache (articles/pagecache.py), and the same machinery: the
entries live in the `pages` cache (each process's memory, a bounded number of entries), under
the shared *content version* that any save or delete of content drops and that moves on by
itself when a scheduled story goes live or an unpublish_at passes. So an edit, a publication, a
deletion or a story coming due is in the next answer, whichever worker gives it.

A hit skips parsing, queries and serialising; it still counts against the client's rate limit
(the operation's throttles run first, as on a miss) and still answers If-None-Match and
If-Modified-Since with a 304. Only 200s are kept, with their headers. Requests that carry an
Authorization header and requests of staff are never served from the cache and never fill it.

View counts are the one thing that changes without a save: a story's count (and "popular",
ranked by recent views) may be COUNTS_TIMEOUT seconds old in an answer. Everything else is
exact.
"""

from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_http_date_safe
from ninja import Router
from ninja.operation import Operation

from api.common import VALIDATORS, not_modified, not_modified_response
from api.throttling import ClientRateThrottle
from articles import pagecache

# Answers that show view counts: stories, and the series and collections that list them.
COUNTS_TIMEOUT = 60
# Answers that change only when content is saved (or comes due): companies, people, tags.
CONTENT_TIMEOUT = 600
# Larger answers (a page of 100 stories with long excerpts) are served but not kept, so that
# the entries of the `pages` cache stay small.
MAX_BYTES = 256 * 1024
# Filters that make nearly every request unique: a client's sync cursor (updated_since) would
# only push useful entries out, so those answers are not kept.
UNSHARED_PARAMS = frozenset({"updated_since"})


def for_readers(request: HttpRequest) -> bool:
    """An anonymous GET (HEAD arrives as GET, api/errors.py): no token, not staff."""
    return (
        request.method == "GET"
        and "authorization" not in request.headers
        and pagecache.is_reader(request)
        and UNSHARED_PARAMS.isdisjoint(request.GET)
    )


def cache_key(request: HttpRequest) -> str:
    """The content version and the full address: scheme and host (answers carry absolute
    URLs), path and the query string with its parameters in a fixed order."""
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    address = f"{request.scheme}://{request.get_host()}{request.path}?{query}"
    return pagecache.page_key(request, "api", address)


def entry_of(response) -> tuple | None:
    """What a hit needs of a 200: the body, the headers, the validators."""
    if (
        response.status_code != 200
        or not isinstance(response, HttpResponse)
        or response.cookies
        or not response.has_header("ETag")
    ):
        return None
    modified = response.headers.get("Last-Modified")
    return (
        response.content,
        tuple(response.items()),
        response["ETag"],
        None if modified is None else parse_http_date_safe(modified),
    )


def answer(request: HttpRequest, entry: tuple) -> HttpResponse:
    content, headers, etag, last_modified = entry
    if not_modified(request, etag, last_modified):
        return not_modified_response({name: value for name, value in headers if name in VALIDATORS})
    response = HttpResponse(content)
    for name, value in headers:
        response[name] = value
    return response


def cached_reads(timeout: int):
    """A decorator for Router.add_decorator(..., mode="view"), which wraps ninja's
    Operation.run: before the operation's checks, parsing and serialising. Operations that
    take a token (writes, the editor's view) are left alone."""

    def decorator(run):
        operation = getattr(run, "__self__", None)
        if not isinstance(operation, Operation):
            raise TypeError("cached_reads wraps Operation.run: add it with mode='view'.")
        if "GET" not in operation.methods or operation.auth_callbacks:
            return run

        @wraps(run)
        def cached_run(request: HttpRequest, **kwargs):
            if not for_readers(request):
                return run(request, **kwargs)
            try:
                key = cache_key(request)
                entry = pagecache.pages().get(key)
            except Exception as exc:  # the shared cache is down: answer as the API does
                return operation.api.on_exception(request, exc)
            if entry is not None:
                # The rate limit counts hits too: the same checks as Operation.run makes
                # (ninja 1.7; tests/test_api_cache.py fails if they stop counting).
                refused = operation._run_checks(request)
                return refused if refused is not None else answer(request, entry)
            # A miss: the whole answer even when the client sent validators, so that it can
            # be kept; the 304 is then decided here.
            request.full_answer = True
            try:
                response = run(request, **kwargs)
            finally:
                request.full_answer = False
            entry = entry_of(response)
            if entry is None:
                return response
            if len(entry[0]) <= MAX_BYTES:
                pagecache.pages().set(key, entry, timeout)
            return answer(request, entry) if not_modified(request, *entry[2:]) else response

        return cached_run

    return decorator


def read_router(tag: str, *, timeout: int) -> Router:
    """A resource's router: every operation counted against the client's read limit unless
    it names its own throttle, and anonymous reads answered from the cache for `timeout`
    seconds at most."""
    router = Router(tags=[tag], throttle=[ClientRateThrottle()])
    router.add_decorator(cached_reads(timeout), mode="view")
    return router
