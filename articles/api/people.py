"""People who appear in stories (not their authors)."""

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
    page_of,
    published_count,
)
from articles.models import Person
from articles.schemas import PageQuery, PersonDetailOut, PersonPageOut, Slug
from tokens.throttling import ClientRateThrottle

router = Router(tags=["people"], throttle=[ClientRateThrottle()])


def stamp(person: Person) -> tuple:
    company = person.company
    return (
        person.pk,
        person.updated_at,
        company.updated_at if company else None,
        person.story_count,
    )


@router.get(
    "",
    response={200: PersonPageOut, 304: None, **READ_ERRORS},
    summary="인물 목록",
    url_name="people",
)
def list_people(request: HttpRequest, response: HttpResponse, query: Query[PageQuery]):
    """People by name, with their company. Two queries: the count and the page."""
    allow_only(request, PAGE_PARAMS)
    people = Person.objects.all()
    page = page_of(
        people.select_related("company")
        .annotate(story_count=published_count())
        .order_by("name", "pk"),
        count=people.count(),
        page=query.page,
        page_size=query.page_size,
    )
    etag = etag_of(
        "people", query.page, query.page_size, page["count"], [stamp(p) for p in page["items"]]
    )
    modified = last_modified_of(*(p.updated_at for p in page["items"]))
    not_modified = conditional(request, response, etag=etag, last_modified=modified)
    return page if not_modified is None else not_modified


@router.get(
    "/{slug}",
    response={200: PersonDetailOut, 304: None, **READ_ERRORS},
    summary="인물 하나",
    url_name="person",
)
def get_person(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """A person and their company. One query; their stories are /stories?person=<slug>."""
    allow_only(request, ())
    person = get_object_or_404(
        Person.objects.select_related("company").annotate(story_count=published_count()),
        slug=slug,
    )
    etag = etag_of("person", stamp(person))
    not_modified = conditional(request, response, etag=etag, last_modified=person.updated_at)
    return person if not_modified is None else not_modified
