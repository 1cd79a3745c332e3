"""One way every list of the API is paginated: ninja's @paginate with this class.

`?page=` (1…10,000) and `?page_size=` (1…100, 20 by default) in the query string; the answer
is the envelope {count, page, page_size, pages, items}. An operation returns a Listing: the
rows, what of each row its ETag is made of and which of its times give Last-Modified; the
paginator cuts the page, then answers 304 when the client's copy of that page is current.
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Schema
from ninja.pagination import PaginationBase

from api.common import conditional, etag_of, last_modified_of
from api.schemas import PageQuery


@dataclass
class Listing:
    """What a list operation gives the paginator.

    - `rows`: the ordered rows;
    - `name`: the list's name in its ETag;
    - `stamp(row)`: what of one row its ETag is made of; `changed(row)`: its times;
    - `count`: the number of rows when the operation counted them already;
    - `prepare(rows)`: the page's rows, read, with what they need read for them added;
    - `etag`, `last_modified`: the list's validators when the operation already knows them
      (the story list makes them from its stamp, kept per content version, and its page's
      ids and counts, and answers a 304 before the page's rows are read)."""

    rows: QuerySet
    name: str
    stamp: Callable[[Any], Any] = lambda row: row.pk
    changed: Callable[[Any], Iterable[datetime | None]] = lambda row: ()
    count: int | None = None
    etag: str | None = None
    last_modified: datetime | None = None
    page: PageQuery | None = None  # when the operation reads ?page= itself (WithFilters)
    # What the page's rows need read for them once cut (their hashtags, say), all at once.
    prepare: Callable[[list], list] = list


class Pages(PaginationBase):
    Input = PageQuery
    # The operations declare their page schemas themselves (page_schema() in api/schemas.py),
    # under the names clients already know; ninja then leaves the response schema alone.
    Output = None

    def paginate_queryset(
        self,
        queryset: Listing | HttpResponse,
        pagination: PageQuery,
        request: HttpRequest,
        **params: Any,
    ) -> Any:
        if isinstance(queryset, HttpResponse):  # a 304 the operation gave already
            return queryset
        listing = queryset
        pagination = listing.page or pagination
        count = listing.rows.count() if listing.count is None else listing.count
        start = (pagination.page - 1) * pagination.page_size
        end = start + pagination.page_size
        items = listing.prepare(listing.rows[start:end]) if start < count else []
        page = {
            "count": count,
            "page": pagination.page,
            "page_size": pagination.page_size,
            "pages": math.ceil(count / pagination.page_size),
            "items": items,
        }
        etag = listing.etag or etag_of(
            listing.name,
            pagination.page,
            pagination.page_size,
            count,
            [listing.stamp(row) for row in items],
        )
        modified = listing.last_modified or last_modified_of(
            *(moment for row in items for moment in listing.changed(row))
        )
        answered = conditional(request, params["response"], etag=etag, last_modified=modified)
        return page if answered is None else answered


class PagesOfFilters(Pages):
    """For a list whose filter schema has `page` and `page_size` among its filters (the story
    list, whose schema clients know with them): the operation hands them over in its
    Listing, and the paginator adds no parameters of its own."""

    class Input(Schema):
        pass
