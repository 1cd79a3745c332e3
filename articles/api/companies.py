"""Companies: every company, with how many published stories it has."""

from django.db.models import Prefetch
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
from articles.models import Company, Person
from articles.schemas import CompanyDetailOut, CompanyPageOut, PageQuery, Slug
from tokens.throttling import ClientRateThrottle

router = Router(tags=["companies"], throttle=[ClientRateThrottle()])


@router.get(
    "",
    response={200: CompanyPageOut, 304: None, **READ_ERRORS},
    summary="회사 목록",
    url_name="companies",
)
def list_companies(request: HttpRequest, response: HttpResponse, query: Query[PageQuery]):
    """Companies by name. Two queries: the count and the page (with story counts)."""
    allow_only(request, PAGE_PARAMS)
    companies = Company.objects.all()
    page = page_of(
        companies.annotate(story_count=published_count()).order_by("name", "pk"),
        count=companies.count(),
        page=query.page,
        page_size=query.page_size,
    )
    rows = [(c.pk, c.updated_at, c.story_count) for c in page["items"]]
    etag = etag_of("companies", query.page, query.page_size, page["count"], rows)
    modified = last_modified_of(*(c.updated_at for c in page["items"]))
    not_modified = conditional(request, response, etag=etag, last_modified=modified)
    return page if not_modified is None else not_modified


@router.get(
    "/{slug}",
    response={200: CompanyDetailOut, 304: None, **READ_ERRORS},
    summary="회사 하나",
    url_name="company",
)
def get_company(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """A company with its people. Two queries."""
    allow_only(request, ())
    company = get_object_or_404(
        Company.objects.annotate(story_count=published_count()).prefetch_related(
            Prefetch("people", queryset=Person.objects.order_by("name", "pk"))
        ),
        slug=slug,
    )
    people = company.people.all()
    etag = etag_of(
        "company",
        company.pk,
        company.updated_at,
        company.story_count,
        [(p.pk, p.updated_at) for p in people],
    )
    modified = last_modified_of(company.updated_at, *(p.updated_at for p in people))
    not_modified = conditional(request, response, etag=etag, last_modified=modified)
    return company if not_modified is None else not_modified
