"""Answers to anonymous reads, kept and served again while the content they show is current.

The same mechanism as the reader pages (articles/answers.py): answers are filed under the
shared content version, which every write moves when it commits and which moves by itself
when a scheduled story goes live or an unpublish time passes. So an edit, a publication, a
deletion or a story coming due is in the next answer, whichever host gives it.

Two of ninja's decorator hooks do it, both public:

- serve_kept (mode="operation") runs after the operation's checks, so a hit still counts
  against the client's rate limit: a hit skips the queries and the serialising, and still
  answers If-None-Match and If-Modified-Since with a 304;
- keep_answers (mode="view") wraps the whole operation: on a miss it keeps the 200 it gave.

Requests that carry an Authorization header and requests of staff are never served from the
cache and never fill it. View counts are the one thing that changes without a write: a
story's count (and "popular", ranked by recent views) may be COUNTS_TIMEOUT seconds old.
"""

from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe
from ninja import Router

from api.throttling import ClientRateThrottle, settle_carried
from articles import answers, versions

# Answers that show view counts: stories, and the series and collections that list them.
COUNTS_TIMEOUT = answers.LIST_TIMEOUT
# Answers that change only when content is saved (or comes due): companies, people, tags.
CONTENT_TIMEOUT = answers.CONTENT_TIMEOUT
# Larger answers (a page of 100 stories with long excerpts) are served but not kept, so that
# the kept answers stay small.
MAX_BYTES = 256 * 1024
# Filters that make nearly every request unique: a client's sync cursor (updated_since) would
# only push useful entries out, so those answers are not kept.
UNSHARED_PARAMS = frozenset({"updated_since"})
# The headers a 304 repeats (Django's get_conditional_response copies these).
VALIDATORS = ("ETag", "Cache-Control", "Last-Modified", "Vary")


def anonymous(request: HttpRequest) -> bool:
    """No token, not staff: the answer any reader would get."""
    return "authorization" not in request.headers and answers.is_reader(request)


def for_readers(request: HttpRequest) -> bool:
    """An anonymous GET (HEAD arrives as GET, api/errors.py) whose answer is worth keeping."""
    return (
        request.method == "GET" and anonymous(request) and UNSHARED_PARAMS.isdisjoint(request.GET)
    )


def address(request: HttpRequest) -> str:
    """Scheme and host (answers carry absolute URLs), path and the query string with its
    parameters in a fixed order."""
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    return f"{request.scheme}://{request.get_host()}{request.path}?{query}"


def entry_of(response) -> tuple | None:
    """What a hit needs of a 200: the body and the headers."""
    if (
        response.status_code != 200
        or not isinstance(response, HttpResponse)
        or response.cookies
        or not response.has_header("ETag")
        or len(response.content) > MAX_BYTES
    ):
        return None
    return (response.content, tuple(response.items()))


def replay(request: HttpRequest, entry: tuple, how: str) -> HttpResponse:
    """The kept answer, or a 304 when the client's copy is current."""
    content, headers = entry
    response = HttpResponse(content)
    for name, value in headers:
        response[name] = value
    response["X-Cache"] = how
    modified = response.headers.get("Last-Modified")
    return get_conditional_response(
        request,
        etag=response["ETag"],
        last_modified=None if modified is None else parse_http_date_safe(modified),
        response=response,
    )


def serve_kept(view):
    """mode="operation": after the checks, a reader's kept answer, if there is one."""

    @wraps(view)
    def serve(request: HttpRequest, *args, **kwargs):
        if not for_readers(request):
            return view(request, *args, **kwargs)
        entry, slot = answers.find("api", address(request))
        if entry is not None:
            return replay(request, entry, slot.how)
        # A miss: the whole answer even when the client sent validators, so that it can be
        # kept; keep_answers then decides the 304.
        request.answer_slot = slot
        if slot.version is None:
            return view(request, *args, **kwargs)
        # The answer names the version it is filed under (its X-Content-Version): read once.
        with versions.pinned(slot.version):
            return view(request, *args, **kwargs)

    return serve


def keep_answers(timeout: int):
    """mode="view": keep the 200 a reader's miss produced."""

    def decorator(run):
        @wraps(run)
        def run_and_keep(request: HttpRequest, **kwargs):
            response = run(request, **kwargs)
            slot = request.__dict__.pop("answer_slot", None)
            if slot is None:
                return response
            entry = entry_of(response)
            if entry is None or slot.key is None:
                response["X-Cache"] = slot.how
                return response
            answers.keep(slot, entry, timeout)
            return replay(request, entry, slot.how)

        return run_and_keep

    return decorator


def wants_full_answer(request: HttpRequest) -> bool:
    """Whether the operation must answer in full although the client's copy may be current
    (a miss that is being kept)."""
    slot = request.__dict__.get("answer_slot")
    return slot is not None and slot.key is not None


def read_router(tag: str, *, timeout: int) -> Router:
    """A resource's router: every operation counted against the client's read limit unless
    it names its own throttle (an operation that sends the count along its statement names
    CarriedRateThrottle, settled here), and anonymous reads answered from the kept answers
    for `timeout` seconds at most."""
    router = Router(tags=[tag], throttle=[ClientRateThrottle()])
    router.add_decorator(serve_kept, mode="operation")
    router.add_decorator(settle_carried, mode="operation")
    router.add_decorator(keep_answers(timeout), mode="view")
    return router
