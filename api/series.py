"""Series: ordered parts. A series appears once one of its parts is published."""

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from ninja import Path, Query

from api.cache import COUNTS_TIMEOUT, read_router
from api.common import (
    list_page,
    one_by_slug,
    read,
    story_stamp,
    with_published_stories,
)
from api.schemas import PAGE_SIZE_MAX, PageQuery, SeriesDetailOut, SeriesPageOut, Slug
from api.stories import listing
from articles.models import Article, Series

router = read_router("series", timeout=COUNTS_TIMEOUT)


def published_series():
    return with_published_stories(Series.objects)


def changed(series: Series) -> tuple:
    return (series.last_change,)


@router.get("", response=read(SeriesPageOut), summary="시리즈 목록", url_name="series-list")
def list_series(request: HttpRequest, response: HttpResponse, query: Query[PageQuery]):
    """Series with at least one published part, by title. Two queries."""
    return list_page(
        request,
        response,
        query,
        published_series(),
        order_by=("title", "pk"),
        name="series",
        stamp=lambda s: (s.pk, s.title, s.slug, s.description, s.story_count, s.last_change),
        changed=changed,
    )


@router.get("/{slug}", response=read(SeriesDetailOut), summary="시리즈 하나", url_name="series")
def get_series(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """A series with its published parts in order (at most 100). Four queries: the series,
    its parts, their tags and their people."""
    parts = listing(Article.objects.published().in_series_order())
    return one_by_slug(
        request,
        response,
        published_series().prefetch_related(
            Prefetch("articles", queryset=parts[:PAGE_SIZE_MAX], to_attr="published_parts")
        ),
        slug,
        name="series-detail",
        stamp=lambda s: (
            s.pk,
            s.title,
            s.description,
            [story_stamp(part) for part in s.published_parts],
        ),
        changed=changed,
    )
