"""Hashtags that published stories carry. A tag only drafts use is not shown: its name alone
could tell what is coming."""

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
)
from articles.models import Tag
from articles.schemas import PageQuery, Slug, TagCountOut, TagPageOut
from tokens.throttling import ClientRateThrottle

router = Router(tags=["tags"], throttle=[ClientRateThrottle()])


def published_tags():
    return Tag.objects.annotate(
        story_count=published_count(), last_change=latest_published_change()
    ).filter(story_count__gt=0)


@router.get(
    "",
    response={200: TagPageOut, 304: None, **READ_ERRORS},
    summary="해시태그 목록",
    url_name="tags",
)
def list_tags(request: HttpRequest, response: HttpResponse, query: Query[PageQuery]):
    """Tags of published stories, the most used first. Two queries: the count and the page.
    Tags keep no time stamps, so the ETag is made from the page itself."""
    allow_only(request, PAGE_PARAMS)
    tags = published_tags()
    page = page_of(
        tags.order_by("-story_count", "name"),
        count=tags.count(),
        page=query.page,
        page_size=query.page_size,
    )
    rows = [(t.pk, t.name, t.slug, t.story_count) for t in page["items"]]
    etag = etag_of("tags", query.page, query.page_size, page["count"], rows)
    modified = last_modified_of(*(t.last_change for t in page["items"]))
    not_modified = conditional(request, response, etag=etag, last_modified=modified)
    return page if not_modified is None else not_modified


@router.get(
    "/{slug}",
    response={200: TagCountOut, 304: None, **READ_ERRORS},
    summary="해시태그 하나",
    url_name="tag",
)
def get_tag(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """A tag and its number of published stories; its stories are /stories?tag=<slug>."""
    allow_only(request, ())
    tag = get_object_or_404(published_tags(), slug=slug)
    etag = etag_of("tag", tag.pk, tag.name, tag.slug, tag.story_count)
    not_modified = conditional(request, response, etag=etag, last_modified=tag.last_change)
    return tag if not_modified is None else not_modified
