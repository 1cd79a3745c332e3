"""Rendered pages for readers, kept per process and thrown away whenever the content changes.

Every cached page is filed under the current *content version*. The version lives in the shared
cache (Redis, or the database cache), so all workers agree on it; any save or delete of content
drops it and the next request draws a new one, which orphans every page rendered before. The
version also carries the next moment the published set changes by itself (a scheduled story
going live, an unpublish_at passing, a collection's time box opening or closing): past that
moment a new version is drawn, so query-time scheduling stays exact without a cron job.

Only anonymous readers get cached pages; staff, who see previews and the admin's links, always
get a fresh render. The story page keeps its 조회수 live: its cached HTML holds a marker that is
replaced by the count of this very request (reader.viewcount).

The API's answers to anonymous reads are kept the same way, under the same version
(api/cache.py).
"""

import hashlib
import uuid
from functools import wraps

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.db.models import Min, Q
from django.http import HttpResponse
from django.utils import timezone

VERSION_KEY = "content:version"
VIEW_COUNT_MARKER = "\u2063views\u2063"  # invisible separators: never in real content

# Lists and the home page show view counts and "popular this week": they may be this old.
LIST_TIMEOUT = 60
STORY_TIMEOUT = 600


def pages():
    return caches["pages"]


def next_transition(now: float) -> float | None:
    """When the published set next changes without anybody saving anything."""
    from datetime import UTC, datetime

    from articles.models import Article, Collection, Status

    moment = datetime.fromtimestamp(now, tz=UTC)
    stories = Article.objects.filter(status=Status.PUBLISHED).aggregate(
        publish=Min("published_at", filter=Q(published_at__gt=moment)),
        unpublish=Min("unpublish_at", filter=Q(unpublish_at__gt=moment)),
    )
    boxes = Collection.objects.aggregate(
        start=Min("starts_at", filter=Q(starts_at__gt=moment)),
        end=Min("ends_at", filter=Q(ends_at__gt=moment)),
    )
    moments = [value for value in (*stories.values(), *boxes.values()) if value is not None]
    return min(moments).timestamp() if moments else None


def content_version() -> str:
    record = cache.get(VERSION_KEY)
    now = timezone.now().timestamp()  # the clock the published() queries read
    if record is None or (record[1] is not None and now >= record[1]):
        record = (uuid.uuid4().hex[:16], next_transition(now))
        cache.set(VERSION_KEY, record, None)
    return record[0]


def content_changed(**kwargs) -> None:
    """Forget every cached page and API answer (connected to the content models' save and
    delete).

    The version is dropped at once and again when the transaction commits. A request served
    in between still reads the old rows and may draw a new version for them (with Redis the
    drop is seen before the commit is); the second drop orphans whatever it filed there."""
    cache.delete(VERSION_KEY)
    transaction.on_commit(forget_version, using=kwargs.get("using"))


def forget_version() -> None:
    cache.delete(VERSION_KEY)


def is_reader(request) -> bool:
    """Anyone but staff. Checking the session cookie first spares anonymous readers the
    session lookup."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return True
    return not request.user.is_staff


def page_key(request, prefix="page", address=None) -> str:
    """Where this request's answer is filed under the current content version. The address
    (the full path unless given) is hashed, so that a long query string makes no long key."""
    address = request.get_full_path() if address is None else address
    digest = hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{prefix}:{content_version()}:{digest}"


def cached_for_readers(timeout=LIST_TIMEOUT):
    """Serve anonymous GETs of this view from the page cache; render and keep 200s."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD") or not is_reader(request):
                return view(request, *args, **kwargs)
            key = page_key(request)
            hit = pages().get(key)
            if hit is not None:
                content_type, content = hit
                return HttpResponse(content, content_type=content_type)
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming and not response.cookies:
                pages().set(key, (response["Content-Type"], response.content), timeout)
            return response

        return wrapper

    return decorator
