"""Companies: every company, with how many published stories it has."""

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from ninja import Path, Query

from api.cache import CONTENT_TIMEOUT, read_router
from api.common import list_page, one_by_slug, published_count, read
from api.schemas import CompanyDetailOut, CompanyPageOut, PageQuery, Slug
from articles.models import Company, Person

router = read_router("companies", timeout=CONTENT_TIMEOUT)


@router.get("", response=read(CompanyPageOut), summary="회사 목록", url_name="companies")
def list_companies(request: HttpRequest, response: HttpResponse, query: Query[PageQuery]):
    """Companies by name. Two queries: the count and the page (with story counts)."""
    return list_page(
        request,
        response,
        query,
        Company.objects.annotate(story_count=published_count()),
        total=Company.objects.all(),
        order_by=("name", "pk"),
        name="companies",
        stamp=lambda c: (c.pk, c.updated_at, c.story_count),
        changed=lambda c: (c.updated_at,),
    )


@router.get("/{slug}", response=read(CompanyDetailOut), summary="회사 하나", url_name="company")
def get_company(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """A company with its people. Two queries."""
    return one_by_slug(
        request,
        response,
        Company.objects.annotate(story_count=published_count()).prefetch_related(
            Prefetch("people", queryset=Person.objects.order_by("name", "pk"))
        ),
        slug,
        name="company",
        stamp=lambda c: (
            c.pk,
            c.updated_at,
            c.story_count,
            [(p.pk, p.updated_at) for p in c.people.all()],
        ),
        changed=lambda c: (c.updated_at, *(p.updated_at for p in c.people.all())),
    )
