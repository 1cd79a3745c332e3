"""What every router of the API shares: documented error answers, the query-string allow-list,
conditional GET, ETags and time stamps, and the published-story counts of the resources."""

import hashlib
import re
from datetime import UTC, datetime

from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from ninja.renderers import JSONRenderer

from api.cache import anonymous, wants_full_answer
from api.errors import ApiError, field_error
from api.schemas import ErrorOut
from articles import clock, edge, tally, versions
from articles.models import Article


class KoreanJSONRenderer(JSONRenderer):
    """UTF-8 JSON: Korean text stays readable (and half the bytes) instead of \\uXXXX."""

    json_dumps_params = {"ensure_ascii": False}


# What iri_to_uri() leaves as it is (quote()'s always-safe characters and the ones it names
# safe): a URL made only of these is already a URI.
URI_SAFE = re.compile(r"[A-Za-z0-9_.~/#%\[\]=:;$&()+,!?*@'-]*\Z")


def absolute_of(request: HttpRequest):
    """request.build_absolute_uri, for the many paths of one answer (two an item of a list):
    the scheme and host are read once (with the request), and a path that starts with one
    "/", has no dot segment and holds only characters iri_to_uri() leaves alone is joined to
    them, which is what build_absolute_uri() answers for it (about 10 us each, a list of 20
    asks 40). Any other location is left to build_absolute_uri()."""
    absolute = getattr(request, "_absolute_of", None)
    if absolute is not None:
        return absolute
    prefix = request.build_absolute_uri("/")[:-1]
    build = request.build_absolute_uri

    def absolute(location: str) -> str:
        if (
            location.startswith("/")
            and not location.startswith("//")
            and "/./" not in location
            and "/../" not in location
            and URI_SAFE.match(location)
        ):
            return prefix + location
        return build(location)

    if not URI_SAFE.match(prefix):
        absolute = build
    request._absolute_of = absolute
    return absolute


# The API's renderer (culture/api.py), for an operation that writes its answer out itself.
RENDERER = KoreanJSONRenderer()

# Bump when a representation changes shape, so that no client keeps an old one with a 304.
REPRESENTATION = "1"

PAGE_PARAMS = frozenset({"page", "page_size"})

READ_ERRORS = {400: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
WRITE_ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}


def read(schema) -> dict:
    """What a read operation answers: `schema`, a 304 to a current copy, or an error."""
    return {200: schema, 304: None, **READ_ERRORS}


def allow_only(request: HttpRequest, allowed) -> None:
    """Refuse query parameters that are not on the operation's allow-list: a filter the API
    does not have (say ?status=draft) is an error the client should hear about."""
    unknown = sorted(set(request.GET) - set(allowed))
    if unknown:
        raise ApiError(
            422,
            errors=[
                field_error(
                    ["query", name], "이 주소가 받지 않는 매개변수입니다.", "extra_forbidden"
                )
                for name in unknown
            ],
        )


def aware(value: datetime | None, loc) -> datetime | None:
    """A client's time as an aware UTC datetime; a time without a zone is Seoul time (the
    site's TIME_ZONE). Times too close to year 1 or 9999 to move to UTC are a 422."""
    if value is None:
        return None
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ApiError(
            422, errors=[field_error(loc, "다룰 수 없는 시각입니다.", "datetime_range")]
        ) from None


def etag_of(*parts) -> str:
    digest = hashlib.sha256(repr((REPRESENTATION, *parts)).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def story_etag(article: Article) -> str:
    """A story's ETag names its id and version, so If-Match can check the version; the view
    count and the company's last change make it follow what else the story shows."""
    company_stamp = article.company.updated_at.timestamp() if article.company else 0
    extra = hashlib.sha256(
        repr((REPRESENTATION, article.view_count, company_stamp)).encode()
    ).hexdigest()[:12]
    return f'W/"story{article.pk}-v{article.version}-{extra}"'


def list_stamp(queryset, *, whole: bool = False) -> dict:
    """How many stories a list holds and the latest edit, publication and company change
    among them (the list's Last-Modified): one query over the list joined to its companies.

    The whole published list (`whole`, no filter) is answered from the number of published
    stories the database keeps as they are written, and indexes walked newest first
    (articles/tally.py): counting it read every published story's index entry, 31.6 ms at
    100,000 stories on SQLite against 0.4 ms at 1,000, in every worker after every edit."""
    if whole and (stamp := tally.published_stamp(clock.now_datetime())) is not None:
        return stamp
    return queryset.order_by().aggregate(
        count=Count("pk"),
        updated=Max("updated_at"),
        published=Max("published_at"),
        company_updated=Max("company__updated_at"),
    )


def last_modified_of(*stamps: datetime | None) -> datetime | None:
    present = [stamp for stamp in stamps if stamp is not None]
    return max(present) if present else None


def conditional(
    request: HttpRequest,
    response: HttpResponse,
    *,
    etag: str,
    last_modified: datetime | None,
    private: bool = False,
) -> HttpResponse | None:
    """Put the validators on `response` (ninja's temporal response) and return the 304 (or
    412) Django's get_conditional_response gives when the client's copy is current:
    If-None-Match when sent (weak comparison), else If-Modified-Since."""
    # Clients may keep the answer but must ask again each time; the 304 makes asking cheap.
    # An anonymous reader's answer is everyone's: the caches in front of the site (a CDN) may
    # keep it as they keep the reader pages, until the next write bans its content version.
    response["ETag"] = etag
    version = None if private or not anonymous(request) else versions.current()
    if version is not None:
        edge.share(response, version, clock.now())
    else:
        response["Cache-Control"] = "private, no-cache" if private else "no-cache"
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified.timestamp())
    patch_vary_headers(response, ["Authorization"])
    if wants_full_answer(request):
        return None
    seconds = None if last_modified is None else int(last_modified.timestamp())
    answered = get_conditional_response(
        request, etag=etag, last_modified=seconds, response=response
    )
    return None if answered is response else answered


def current(request, response, body, *, etag: str, last_modified: datetime | None):
    """`body` with its validators, or the 304 when the client's copy is current."""
    not_modified = conditional(request, response, etag=etag, last_modified=last_modified)
    return body if not_modified is None else not_modified


def published_count():
    """The number of published stories of each row, counted in the row's own query with the
    one definition of "published"."""
    return Count("articles", filter=Q(articles__in=Article.objects.published()), distinct=True)


def latest_published_change():
    """The latest edit among a row's published stories: the Last-Modified of rows (tags,
    series) that keep no time stamp of their own."""
    return Max("articles__updated_at", filter=Q(articles__in=Article.objects.published()))


def with_published_stories(queryset, **annotations):
    """The rows a reader may list: those with at least one published story, each with its
    number of published stories and the latest change among them."""
    return queryset.annotate(
        story_count=published_count(), last_change=latest_published_change(), **annotations
    ).filter(story_count__gt=0)


def story_stamp(article: Article) -> tuple:
    """What of a loaded story card can change: enough to make an ETag from a list of them."""
    company_stamp = article.company.updated_at if article.company_id else None
    return (article.pk, article.updated_at, article.view_count, company_stamp)
