"""Series: ordered parts. A series appears once one of its parts is published."""

from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router

from articles.api.common import (
    PAGE_PARAMS,
    READ_ERRORS,
    allow_only,
    conditional,
    etag_of,
    last_modified_of,
    latest_published_change,
    page_of,
    published_count,
    story_stamp,
)
from articles.api.stories import listing
from articles.models import Article, Series
from articles.schemas import PAGE_SIZE_MAX, PageQuery, SeriesDetailOut, SeriesPageOut, Slug
from tokens.throttling import ClientRateThrottle

router = Router(tags=["series"], throttle=[ClientRateThrottle()])


def published_series():
    return Series.objects.annotate(
        story_count=published_count(), last_change=latest_published_change()
    ).filter(story_count__gt=0)


@router.get(
    "",
    response={200: SeriesPageOut, 304: None, **READ_ERRORS},
    summary="시리즈 목록",
    url_name="series-list",
)
def list_series(request: HttpRequest, response: HttpResponse, query: Query[PageQuery]):
    """Series with at least one published part, by title. Two queries."""
    allow_only(request, PAGE_PARAMS)
    series = published_series()
    page = page_of(
        series.order_by("title", "pk"),
        count=series.count(),
        page=query.page,
        page_size=query.page_size,
    )
    rows = [
        (s.pk, s.title, s.slug, s.description, s.story_count, s.last_change) for s in page["items"]
    ]
    etag = etag_of("series", query.page, query.page_size, page["count"], rows)
    modified = last_modified_of(*(s.last_change for s in page["items"]))
    not_modified = conditional(request, response, etag=etag, last_modified=modified)
    return page if not_modified is None else not_modified


@router.get(
    "/{slug}",
    response={200: SeriesDetailOut, 304: None, **READ_ERRORS},
    summary="시리즈 하나",
    url_name="series",
)
def get_series(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """A series with its published parts in order (at most 100). Four queries: the series,
    its parts, their tags and their people."""
    allow_only(request, ())
    parts = listing(
        Article.objects.published().order_by(
            F("series_part").asc(nulls_last=True), "published_at", "id"
        )
    )
    series = get_object_or_404(
        published_series().prefetch_related(
            Prefetch("articles", queryset=parts[:PAGE_SIZE_MAX], to_attr="published_parts")
        ),
        slug=slug,
    )
    etag = etag_of(
        "series-detail",
        series.pk,
        series.title,
        series.description,
        [story_stamp(part) for part in series.published_parts],
    )
    not_modified = conditional(request, response, etag=etag, last_modified=series.last_change)
    return series if not_modified is None else not_modified
