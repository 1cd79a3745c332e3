"""People who appear in stories (not their authors)."""

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query

from api.cache import CONTENT_TIMEOUT, read_router
from api.common import list_page, one_by_slug, published_count, read
from api.schemas import PageQuery, PersonDetailOut, PersonPageOut, Slug
from articles.models import Person

router = read_router("people", timeout=CONTENT_TIMEOUT)


def people():
    return Person.objects.select_related("company").annotate(story_count=published_count())


def stamp(person: Person) -> tuple:
    company = person.company
    return (
        person.pk,
        person.updated_at,
        company.updated_at if company else None,
        person.story_count,
    )


def changed(person: Person) -> tuple:
    return (person.updated_at,)


@router.get("", response=read(PersonPageOut), summary="인물 목록", url_name="people")
def list_people(request: HttpRequest, response: HttpResponse, query: Query[PageQuery]):
    """People by name, with their company. Two queries: the count and the page."""
    return list_page(
        request,
        response,
        query,
        people(),
        total=Person.objects.all(),
        order_by=("name", "pk"),
        name="people",
        stamp=stamp,
        changed=changed,
    )


@router.get("/{slug}", response=read(PersonDetailOut), summary="인물 하나", url_name="person")
def get_person(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """A person and their company. One query; their stories are /stories?person=<slug>."""
    return one_by_slug(
        request,
        response,
        people(),
        slug,
        name="person",
        stamp=lambda person: (stamp(person),),
        changed=changed,
    )
