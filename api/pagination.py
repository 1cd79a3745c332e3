"""How the API's lists of companies, people, tags, series and collections are paginated:
ninja's @paginate with this class. (The story list cuts its page itself, in api/stories.py,
with the same parameters and envelope: its count comes kept per content version and its
items are written out as plain values.)

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
from django.http import HttpRequest
from ninja.pagination import PaginationBase

from api.common import conditional, etag_of, last_modified_of
from api.schemas import PageQuery


@dataclass
class Listing:
    """What a list operation gives the paginator.

    - `rows`: the ordered rows;
    - `name`: the list's name in its ETag;
    - `stamp(row)`: what of one row its ETag is made of; `changed(row)`: its times;
    - `count`: the number of rows when the operation counted them already."""

    rows: QuerySet
    name: str
    stamp: Callable[[Any], Any] = lambda row: row.pk
    changed: Callable[[Any], Iterable[datetime | None]] = lambda row: ()
    count: int | None = None


class Pages(PaginationBase):
    Input = PageQuery
    # The operations declare their page schemas themselves (page_schema() in api/schemas.py),
    # under the names clients already know; ninja then leaves the response schema alone.
    Output = None

    def paginate_queryset(
        self,
        listing: Listing,
        pagination: PageQuery,
        request: HttpRequest,
        **params: Any,
    ) -> Any:
        count = listing.rows.count() if listing.count is None else listing.count
        start = (pagination.page - 1) * pagination.page_size
        end = start + pagination.page_size
        items = list(listing.rows[start:end]) if start < count else []
        page = {
            "count": count,
            "page": pagination.page,
            "page_size": pagination.page_size,
            "pages": math.ceil(count / pagination.page_size),
            "items": items,
        }
        etag = etag_of(
            listing.name,
            pagination.page,
            pagination.page_size,
            count,
            [listing.stamp(row) for row in items],
        )
        modified = last_modified_of(*(moment for row in items for moment in listing.changed(row)))
        answered = conditional(request, params["response"], etag=etag, last_modified=modified)
        return page if answered is None else answered
