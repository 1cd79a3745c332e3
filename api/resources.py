"""The resources around stories, read only: companies, people, hashtags, series, collections.

Each is a list (paginated, api/pagination.py) and one row by its slug, with an ETag made from
what the answer shows and a Last-Modified from the rows' times, so the two operations of every
resource are declared once here (Resource) and mounted by mount(). Tags, series and
collections appear once one of their stories is published (a name alone could tell what is
coming); companies and people have pages of their own, stories or not.

Operation ids are given, not derived from function names: they are part of the OpenAPI schema
that clients are generated from, and stay as they were when these lived in articles/api/.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Path, Router
from ninja.pagination import paginate

from api.cache import CONTENT_TIMEOUT, COUNTS_TIMEOUT, read_router
from api.common import (
    PAGE_PARAMS,
    allow_only,
    current,
    etag_of,
    last_modified_of,
    published_count,
    read,
    story_stamp,
    with_published_stories,
)
from api.pagination import Listing, Pages
from api.schemas import (
    PAGE_SIZE_MAX,
    CollectionDetailOut,
    CollectionPageOut,
    CompanyDetailOut,
    CompanyPageOut,
    PersonDetailOut,
    PersonPageOut,
    SeriesDetailOut,
    SeriesPageOut,
    Slug,
    TagCountOut,
    TagPageOut,
)
from api.stories import listing
from articles.models import Article, Collection, CollectionItem, Company, Person, Series, Tag


@dataclass(frozen=True)
class Resource:
    """A list and one row by slug. `rows()` is what both read (with what their schemas show);
    `total()` what the list counts when that is simpler; `detail()` the one row's query when
    it shows more than a list item; `stamp`/`detail_stamp` what their ETags are made of;
    `changed`/`detail_changed` the row's times for Last-Modified."""

    path: str
    tag: str
    timeout: int
    list_out: type
    detail_out: type
    order_by: tuple
    rows: Callable[[], QuerySet]
    stamp: Callable
    changed: Callable
    names: tuple[str, str, str, str]  # list url name, one url name, list summary, one summary
    docs: tuple[str, str]
    total: Callable[[], QuerySet] | None = None
    detail: Callable[[], QuerySet] | None = None
    detail_stamp: Callable | None = None
    detail_changed: Callable | None = None

    @property
    def key(self) -> str:
        return self.path.strip("/")


def mount(resource: Resource) -> Router:
    """The resource's router: its list and its one row."""
    router = read_router(resource.tag, timeout=resource.timeout)
    list_name, one_name, list_summary, one_summary = resource.names
    legacy = f"articles_api_{resource.key}"

    @router.get(
        "",
        response=read(resource.list_out),
        summary=list_summary,
        description=resource.docs[0],
        url_name=list_name,
        operation_id=f"{legacy}_list_{resource.key}",
    )
    @paginate(Pages)
    def list_rows(request: HttpRequest, response: HttpResponse):
        allow_only(request, PAGE_PARAMS)
        count_rows = (resource.total or resource.rows)()
        return Listing(
            resource.rows().order_by(*resource.order_by),
            name=resource.key,
            stamp=resource.stamp,
            changed=resource.changed,
            count=count_rows.count(),
        )

    @router.get(
        "/{slug}",
        response=read(resource.detail_out),
        summary=one_summary,
        description=resource.docs[1],
        url_name=one_name,
        operation_id=f"{legacy}_get_{one_name.replace('-', '_')}",
    )
    def get_row(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
        allow_only(request, ())
        row = get_object_or_404((resource.detail or resource.rows)(), slug=slug)
        stamp = resource.detail_stamp or (lambda row: (resource.stamp(row),))
        return current(
            request,
            response,
            row,
            etag=etag_of(f"{one_name}-detail", *stamp(row)),
            last_modified=last_modified_of(*(resource.detail_changed or resource.changed)(row)),
        )

    return router


# --- Companies ----------------------------------------------------------------------------


def companies():
    return Company.objects.annotate(story_count=published_count())


COMPANIES = Resource(
    path="/companies",
    tag="companies",
    timeout=CONTENT_TIMEOUT,
    list_out=CompanyPageOut,
    detail_out=CompanyDetailOut,
    order_by=("name", "pk"),
    rows=companies,
    total=Company.objects.all,
    detail=lambda: companies().prefetch_related(
        Prefetch("people", queryset=Person.objects.order_by("name", "pk"))
    ),
    stamp=lambda c: (c.pk, c.updated_at, c.story_count),
    detail_stamp=lambda c: (
        c.pk,
        c.updated_at,
        c.story_count,
        [(p.pk, p.updated_at) for p in c.people.all()],
    ),
    changed=lambda c: (c.updated_at,),
    detail_changed=lambda c: (c.updated_at, *(p.updated_at for p in c.people.all())),
    names=("companies", "company", "회사 목록", "회사 하나"),
    docs=(
        "Companies by name. Two queries: the count and the page (with story counts).",
        "A company with its people. Two queries.",
    ),
)


# --- People -------------------------------------------------------------------------------


def people():
    return Person.objects.select_related("company").annotate(story_count=published_count())


def person_stamp(person: Person) -> tuple:
    company = person.company
    return (
        person.pk,
        person.updated_at,
        company.updated_at if company else None,
        person.story_count,
    )


PEOPLE = Resource(
    path="/people",
    tag="people",
    timeout=CONTENT_TIMEOUT,
    list_out=PersonPageOut,
    detail_out=PersonDetailOut,
    order_by=("name", "pk"),
    rows=people,
    total=Person.objects.all,
    stamp=person_stamp,
    changed=lambda person: (person.updated_at,),
    names=("people", "person", "인물 목록", "인물 하나"),
    docs=(
        "People by name, with their company. Two queries: the count and the page.",
        "A person and their company. One query; their stories are /stories?person=<slug>.",
    ),
)


# --- Tags ---------------------------------------------------------------------------------


TAGS = Resource(
    path="/tags",
    tag="tags",
    timeout=CONTENT_TIMEOUT,
    list_out=TagPageOut,
    detail_out=TagCountOut,
    order_by=("-story_count", "name"),
    rows=lambda: with_published_stories(Tag.objects),
    stamp=lambda tag: (tag.pk, tag.name, tag.slug, tag.story_count),
    detail_stamp=lambda tag: (tag.pk, tag.name, tag.slug, tag.story_count),
    changed=lambda tag: (tag.last_change,),
    names=("tags", "tag", "해시태그 목록", "해시태그 하나"),
    docs=(
        "Tags of published stories, the most used first. Two queries: the count and the page."
        "\nTags keep no time stamps, so the ETag is made from the page itself.",
        "A tag and its number of published stories; its stories are /stories?tag=<slug>.",
    ),
)


# --- Series -------------------------------------------------------------------------------


def published_series():
    return with_published_stories(Series.objects)


SERIES = Resource(
    path="/series",
    tag="series",
    timeout=COUNTS_TIMEOUT,
    list_out=SeriesPageOut,
    detail_out=SeriesDetailOut,
    order_by=("title", "pk"),
    rows=published_series,
    detail=lambda: published_series().prefetch_related(
        Prefetch(
            "articles",
            queryset=listing(Article.objects.published().in_series_order())[:PAGE_SIZE_MAX],
            to_attr="published_parts",
        )
    ),
    stamp=lambda s: (s.pk, s.title, s.slug, s.description, s.story_count, s.last_change),
    detail_stamp=lambda s: (
        s.pk,
        s.title,
        s.description,
        [story_stamp(part) for part in s.published_parts],
    ),
    changed=lambda series: (series.last_change,),
    names=("series-list", "series", "시리즈 목록", "시리즈 하나"),
    docs=(
        "Series with at least one published part, by title. Two queries.",
        "A series with its published parts in order (at most 100). Four queries: the series,"
        "\nits parts, their tags and their people.",
    ),
)


# --- Collections --------------------------------------------------------------------------


def published_collections():
    return with_published_stories(
        Collection.objects,
        on_home=Exists(Collection.objects.on_home().filter(pk=OuterRef("pk"))),
    )


def collection_stamp(collection: Collection) -> tuple:
    return (
        collection.pk,
        collection.updated_at,
        collection.story_count,
        collection.on_home,
        collection.last_change,
    )


def published_items():
    return CollectionItem.objects.published_cards().prefetch_related(
        Prefetch("article__people", queryset=Person.objects.order_by("name", "pk"))
    )


COLLECTIONS = Resource(
    path="/collections",
    tag="collections",
    timeout=COUNTS_TIMEOUT,
    list_out=CollectionPageOut,
    detail_out=CollectionDetailOut,
    order_by=("position", "id"),
    rows=published_collections,
    detail=lambda: published_collections().prefetch_related(
        Prefetch("items", queryset=published_items()[:PAGE_SIZE_MAX], to_attr="visible_items")
    ),
    stamp=collection_stamp,
    detail_stamp=lambda c: (
        collection_stamp(c),
        [(item.pk, item.position, story_stamp(item.article)) for item in c.visible_items],
    ),
    changed=lambda c: (c.updated_at, c.last_change),
    names=("collections", "collection", "컬렉션 목록", "컬렉션 하나"),
    docs=(
        "Collections in their home-page order. Two queries.",
        "A collection with its published stories in the editors' order (at most 100). Four"
        "\nqueries: the collection, its items with their stories, their tags and their people.",
    ),
)

RESOURCES = [COMPANIES, PEOPLE, TAGS, COLLECTIONS, SERIES]
