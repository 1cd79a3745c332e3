"""Collections: stories curated in an order. A collection appears once one of its stories
is published, and shows only its published stories."""

from django.db.models import Exists, OuterRef, Prefetch
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
from api.schemas import (
    PAGE_SIZE_MAX,
    CollectionDetailOut,
    CollectionPageOut,
    PageQuery,
    Slug,
)
from articles.models import Collection, CollectionItem, Person

router = read_router("collections", timeout=COUNTS_TIMEOUT)


def published_collections():
    return with_published_stories(
        Collection.objects,
        on_home=Exists(Collection.objects.on_home().filter(pk=OuterRef("pk"))),
    )


def stamp(collection: Collection) -> tuple:
    return (
        collection.pk,
        collection.updated_at,
        collection.story_count,
        collection.on_home,
        collection.last_change,
    )


def changed(collection: Collection) -> tuple:
    return (collection.updated_at, collection.last_change)


@router.get("", response=read(CollectionPageOut), summary="컬렉션 목록", url_name="collections")
def list_collections(request: HttpRequest, response: HttpResponse, query: Query[PageQuery]):
    """Collections in their home-page order. Two queries."""
    return list_page(
        request,
        response,
        query,
        published_collections(),
        order_by=("position", "id"),
        name="collections",
        stamp=stamp,
        changed=changed,
    )


@router.get(
    "/{slug}", response=read(CollectionDetailOut), summary="컬렉션 하나", url_name="collection"
)
def get_collection(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """A collection with its published stories in the editors' order (at most 100). Four
    queries: the collection, its items with their stories, their tags and their people."""
    items = CollectionItem.objects.published_cards().prefetch_related(
        Prefetch("article__people", queryset=Person.objects.order_by("name", "pk"))
    )
    return one_by_slug(
        request,
        response,
        published_collections().prefetch_related(
            Prefetch("items", queryset=items[:PAGE_SIZE_MAX], to_attr="visible_items")
        ),
        slug,
        name="collection-detail",
        stamp=lambda c: (
            stamp(c),
            [(item.pk, item.position, story_stamp(item.article)) for item in c.visible_items],
        ),
        changed=changed,
    )
