"""Collections: stories curated in an order. A collection appears once one of its stories
is published, and shows only its published stories."""

from django.db.models import Exists, OuterRef, Prefetch
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
from articles.models import Article, Collection, CollectionItem, Person, Tag
from articles.schemas import (
    PAGE_SIZE_MAX,
    CollectionDetailOut,
    CollectionPageOut,
    PageQuery,
    Slug,
)
from tokens.throttling import ClientRateThrottle

router = Router(tags=["collections"], throttle=[ClientRateThrottle()])


def published_collections():
    return Collection.objects.annotate(
        story_count=published_count(),
        last_change=latest_published_change(),
        on_home=Exists(Collection.objects.on_home().filter(pk=OuterRef("pk"))),
    ).filter(story_count__gt=0)


def stamp(collection: Collection) -> tuple:
    return (
        collection.pk,
        collection.updated_at,
        collection.story_count,
        collection.on_home,
        collection.last_change,
    )


@router.get(
    "",
    response={200: CollectionPageOut, 304: None, **READ_ERRORS},
    summary="컬렉션 목록",
    url_name="collections",
)
def list_collections(request: HttpRequest, response: HttpResponse, query: Query[PageQuery]):
    """Collections in their home-page order. Two queries."""
    allow_only(request, PAGE_PARAMS)
    collections = published_collections()
    page = page_of(
        collections.order_by("position", "id"),
        count=collections.count(),
        page=query.page,
        page_size=query.page_size,
    )
    etag = etag_of(
        "collections", query.page, query.page_size, page["count"], [stamp(c) for c in page["items"]]
    )
    modified = last_modified_of(
        *(c.updated_at for c in page["items"]), *(c.last_change for c in page["items"])
    )
    not_modified = conditional(request, response, etag=etag, last_modified=modified)
    return page if not_modified is None else not_modified


@router.get(
    "/{slug}",
    response={200: CollectionDetailOut, 304: None, **READ_ERRORS},
    summary="컬렉션 하나",
    url_name="collection",
)
def get_collection(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """A collection with its published stories in the editors' order (at most 100). Four
    queries: the collection, its items with their stories, their tags and their people."""
    allow_only(request, ())
    items = (
        CollectionItem.objects.filter(article__in=Article.objects.published())
        .select_related("article__company", "article__series")
        .defer("article__body", "article__body_html")
        .prefetch_related(
            Prefetch("article__tags", queryset=Tag.objects.order_by("name")),
            Prefetch("article__people", queryset=Person.objects.order_by("name", "pk")),
        )
        .order_by("position", "id")
    )
    collection = get_object_or_404(
        published_collections().prefetch_related(
            Prefetch("items", queryset=items[:PAGE_SIZE_MAX], to_attr="visible_items")
        ),
        slug=slug,
    )
    etag = etag_of(
        "collection-detail",
        stamp(collection),
        [(item.pk, item.position, story_stamp(item.article)) for item in collection.visible_items],
    )
    modified = last_modified_of(collection.updated_at, collection.last_change)
    not_modified = conditional(request, response, etag=etag, last_modified=modified)
    return collection if not_modified is None else not_modified
