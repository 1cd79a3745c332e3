"""Hashtags that published stories carry. A tag only drafts use is not shown: its name alone
could tell what is coming."""

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query

from api.cache import CONTENT_TIMEOUT, read_router
from api.common import (
    list_page,
    one_by_slug,
    read,
    with_published_stories,
)
from api.schemas import PageQuery, Slug, TagCountOut, TagPageOut
from articles.models import Tag

router = read_router("tags", timeout=CONTENT_TIMEOUT)


def published_tags():
    return with_published_stories(Tag.objects)


def stamp(tag: Tag) -> tuple:
    return (tag.pk, tag.name, tag.slug, tag.story_count)


def changed(tag: Tag) -> tuple:
    return (tag.last_change,)


@router.get("", response=read(TagPageOut), summary="해시태그 목록", url_name="tags")
def list_tags(request: HttpRequest, response: HttpResponse, query: Query[PageQuery]):
    """Tags of published stories, the most used first. Two queries: the count and the page.
    Tags keep no time stamps, so the ETag is made from the page itself."""
    return list_page(
        request,
        response,
        query,
        published_tags(),
        order_by=("-story_count", "name"),
        name="tags",
        stamp=stamp,
        changed=changed,
    )


@router.get("/{slug}", response=read(TagCountOut), summary="해시태그 하나", url_name="tag")
def get_tag(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """A tag and its number of published stories; its stories are /stories?tag=<slug>."""
    return one_by_slug(
        request, response, published_tags(), slug, name="tag", stamp=stamp, changed=changed
    )
