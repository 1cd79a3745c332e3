"""Stories: read by anyone (published only), written with a scoped token.

Reads go through Article.objects.published(), the same definition the pages use, so a draft,
a scheduled or a withdrawn story is absent from every list, count, filter, ordering and search
and its id answers the same 404 as an id that never existed.

Writes (helpers in editing.py) are atomic; each leaves an entry in the admin history and a
revision of the story (articles/revisions.py), as an edit in the admin does. A new story is
always a draft; PATCH needs If-Match with the story's ETag or version (428 without, 412 when
another edit came first); publishing is its own operation with its own scope.
"""

import hashlib
import json
import math
from collections import namedtuple
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import setting_changed
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from ninja import Body, Field, FilterLookup, FilterSchema, Header, Path, Query, Status
from ninja.decorators import decorate_view
from pydantic import ConfigDict

from api.cache import COUNTS_TIMEOUT, read_router, wants_full_answer
from api.common import (
    READ_ERRORS,
    RENDERER,
    WRITE_ERRORS,
    absolute_of,
    allow_only,
    aware,
    conditional,
    etag_of,
    last_modified_of,
    list_stamp,
    read,
    story_etag,
)
from api.editing import (
    BODY,
    apply_changes,
    atomic_write,
    check_version,
    edited,
    locked_story,
    via,
)
from api.errors import ApiError
from api.idempotency import idempotent
from api.schemas import (
    ID_MAX,
    PAGE_SIZE_DEFAULT,
    ErrorOut,
    PageNumber,
    PageQuery,
    PageSize,
    PublishIn,
    Slug,
    StoryDetailOut,
    StoryEditOut,
    StoryIn,
    StoryPageOut,
    StoryPatch,
    Text,
)
from api.throttling import CarriedRateThrottle, TokenRateThrottle, read_counted
from articles import answers, clock, replica, versions
from articles.bounded import BoundedTexts
from articles.listing import (
    card_people_along,
    card_tags_along,
    card_tags_and_people_of,
    people_by_story_of_along,
    tags_by_story_of_along,
    with_tags_and_people,
)
from articles.models import RELATED_COUNT, Article, JobFamily, Kind, Person
from articles.models import Status as StoryStatus
from articles.models.common import url_maker
from articles.models.provenance import date_unknown_of
from articles.models.querysets import RelatedLink
from articles.prepared import Prepared, read_along
from articles.renditions import file_url_maker
from articles.roles import PUBLISH_PERMISSION, can_edit, can_publish, owns, stories_for
from articles.search import MAX_QUERY_LENGTH, matching_ids, parse_query
from articles.services import save_story
from tokens.auth import TokenAuth
from tokens.models import Scope

router = read_router("stories", timeout=COUNTS_TIMEOUT)

StoryId = Annotated[int, Path(ge=1, le=ID_MAX, description="스토리 id")]
# Read by api/idempotency.py; declared here so that the schema documents it.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="같은 키로 다시 보낸 같은 요청은 처음의 응답을 그대로 받습니다(24시간). "
        "시간 초과 뒤에 다시 보내도 두 번 쓰이지 않습니다.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description="고칠 스토리의 ETag, 또는 version 숫자",
    ),
]

# A token never does more than its user may in the admin (articles/roles.py): writers add
# stories and change their own drafts, editors (publish_article) change and publish any.
write_auth = TokenAuth(scope=Scope.STORIES_WRITE, perms=["articles.add_article"])
change_auth = TokenAuth(scope=Scope.STORIES_WRITE, perms=["articles.change_article"])
publish_auth = TokenAuth(scope=Scope.STORIES_PUBLISH, perms=[PUBLISH_PERMISSION])


def listing(queryset):
    return queryset.for_listing().prefetch_related(
        Prefetch("people", queryset=Person.objects.order_by("name", "pk"))
    )


def with_relations(stories) -> list:
    """`stories` read, with their hashtags and people as plain values (articles/listing.py):
    one statement for the page."""
    return with_tags_and_people(stories)


# --- Reading ---------------------------------------------------------------------------------


class StoryFilter(FilterSchema):
    """The only filters and orderings a list of stories takes."""

    # Each narrows by one value; ninja's FilterSchema turns them into one filter() of the
    # published stories (filtered()). The page and its size go to the paginator.
    model_config = ConfigDict(extra="forbid")

    kind: Annotated[Kind | None, FilterLookup("kind")] = None
    company: Annotated[Slug | None, FilterLookup("company__slug")] = Field(
        None, description="회사 슬러그"
    )
    tag: Annotated[Slug | None, FilterLookup("tags__slug")] = Field(
        None, description="해시태그 슬러그"
    )
    person: Annotated[Slug | None, FilterLookup("people__slug")] = Field(
        None, description="인물 슬러그"
    )
    job_family: Annotated[JobFamily | None, FilterLookup("job_family")] = None
    collection: Annotated[Slug | None, FilterLookup("collection_items__collection__slug")] = Field(
        None, description="컬렉션 슬러그"
    )
    series: Annotated[Slug | None, FilterLookup("series__slug")] = Field(
        None, description="시리즈 슬러그"
    )
    q: Text(MAX_QUERY_LENGTH) | None = Field(
        None,
        description="검색어: 사이트 검색과 같은 한국어 검색(‘풀링’, ‘연결 풀’, ‘QueuePool’). "
        "걸러 내기만 하고 순서는 ordering을 따릅니다.",
    )
    updated_since: datetime | None = Field(
        None,
        description="이 시각 이후에 고쳤거나 발행된(예약 발행 포함) 스토리만. "
        "시간대가 없으면 서울 시간으로 봅니다.",
    )
    ordering: Literal["recent", "popular"] = Field(
        "recent", description="recent: 최신순, popular: 인기순(최근 30일 조회수)"
    )
    page: PageNumber = 1
    page_size: PageSize = PAGE_SIZE_DEFAULT

    def filter_q(self, value: str | None) -> Q:
        """The site's Korean-aware search (articles/search.py) as one more filter: the
        matches are a subquery, so the list keeps its ordering and its query count."""
        if not value:
            return Q()
        query = parse_query(value)
        return Q(pk__in=matching_ids(query)) if query else Q(pk__in=[])

    def filter_updated_since(self, value: datetime | None) -> Q:
        if value is None:
            return Q()
        since = aware(value, ["query", "updated_since"])
        # A scheduled story goes live without a save, so its updated_at stays as it was: to a
        # client syncing since T it is new all the same once its published_at passes T.
        return Q(updated_at__gte=since) | Q(published_at__gte=since)

    def filter_ordering(self, value: str) -> Q:
        return Q()  # an order, not a filter (list_stories)

    def filter_page(self, value: int) -> Q:
        return Q()  # the paginator's (PagesOfFilters)

    filter_page_size = filter_page

    @property
    def pagination(self) -> PageQuery:
        return PageQuery(page=self.page, page_size=self.page_size)


FILTER_PARAMS = frozenset(StoryFilter.model_fields)


def filtered(filters: StoryFilter, now=None):
    """The published stories that pass the filters."""
    return filters.filter(Article.objects.published(now))


# Filters that are a column's value: a list narrowed by them alone, newest first, is one query
# whatever the values (PAGE_IDS).
VALUE_FILTERS = ("kind", "company", "tag", "person", "job_family", "collection", "series")
# What a compiled page query takes: those and a sync cursor.
COMPILED_FILTERS = (*VALUE_FILTERS, "updated_since")
# A page of such a list: (id, stored 조회수), compiled once per set of filters given; and the
# same page with what its items show of each story's row (ItemRow, then the 조회수). The whole
# list is planned once (articles/prepared.py); a list narrowed by filters is planned for their
# values, as a hashtag may have 2 stories or 5,000.
PAGE_IDS = Prepared(
    lambda model, now, **values: (
        filtered(StoryFilter.model_construct(**values), now)
        .recent()
        .values_list("pk", "view_total__count")
    ),
    generic=lambda names: names == {"now"},
)
PAGE_ITEM_ROWS = Prepared(
    lambda model, now, **values: (
        filtered(StoryFilter.model_construct(**values), now)
        .recent()
        .values_list(*ITEM_COLUMNS.values(), "view_total__count")
    ),
    generic=lambda names: names == {"now"},
)


def page_of(filters: StoryFilter, start: int, stop: int) -> list[tuple[int, int | None]]:
    """(id, stored 조회수) of the list's stories [start:stop] in its order. Newest first with
    value filters and a sync cursor only (nearly every client's list), through a query
    compiled once per set of filters given (building and compiling it cost as much as the
    rest of the page's queries); 인기순 and a search through the ORM. A test holds the two
    equal."""
    values = compiled_filters(filters)
    if values is not None:
        return PAGE_IDS(Article, window=(start, stop), now=clock.now_datetime(), **values)
    return list(ordered(filters).values_list("pk", "view_total__count")[start:stop])


def page_rows(filters: StoryFilter, start: int, stop: int) -> tuple[list, dict, dict]:
    """What page_of() reads, with what the items show of each story: [(ItemRow, stored
    조회수)] in the list's order, and {story id: its hashtags (CardTag)} and {story id: the
    people in it (CardPerson)}. Through the compiled query (page_of()) the rows, hashtags and
    people come in one statement (articles/prepared.py read_along()); through the ORM the
    hashtags and people in a second."""
    values = compiled_filters(filters)
    if values is None:
        found = list(
            ordered(filters).values_list(*ITEM_COLUMNS.values(), "view_total__count")[start:stop]
        )
        tags, people = card_tags_and_people_of([row[0] for row in found])
    else:
        found, (tags, people) = read_along(
            PAGE_ITEM_ROWS,
            Article,
            [card_tags_along(), card_people_along()],
            window=(start, stop),
            now=clock.now_datetime(),
            **values,
        )
        # Newest first again, as recent() sorts them: the statement around them keeps none.
        found.sort(key=lambda row: (row[PUBLISHED_AT], row[0]), reverse=True)
        tags, people = tags_by_story_of_along(tags), people_by_story_of_along(people)
    return [(ItemRow._make(row[:-1]), row[-1]) for row in found], tags, people


def narrowed(filters: StoryFilter) -> bool:
    """Whether the filters leave some published stories out (an ordering and a page do not)."""
    return bool(filters.q) or any(getattr(filters, name) is not None for name in COMPILED_FILTERS)


def compiled_filters(filters: StoryFilter) -> dict | None:
    """The values of the filters a compiled page query takes (PAGE_IDS, PAGE_ITEM_ROWS), or
    None for a list those do not read (인기순, a search)."""
    if filters.ordering != "recent" or filters.q:
        return None
    values = {
        name: getattr(filters, name)
        for name in COMPILED_FILTERS
        if getattr(filters, name) is not None
    }
    if values.get("updated_since") is not None:
        values["updated_since"] = aware(values["updated_since"], ["query", "updated_since"])
    return values


def ordered(filters: StoryFilter):
    """The list's stories in its order, through the ORM."""
    stories = filtered(filters)
    return stories.popular() if filters.ordering == "popular" else stories.recent()


# The request headers that may turn an answer into a 304 (or a 412) before it is written.
VALIDATORS = (
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
)


@router.get(
    "",
    response=read(StoryPageOut),
    summary="스토리 목록",
    url_name="stories",
    operation_id="articles_api_stories_list_stories",
)
def list_stories(request: HttpRequest, response: HttpResponse, filters: Query[StoryFilter]):
    """Published stories, newest first or most read first, with filters from an allow-list.
    `count` and every filter see only what a reader may see."""
    allow_only(request, FILTER_PARAMS)
    chosen = sorted(filters.model_dump(mode="json").items())
    version = versions.current()
    stamp = answers.kept(
        list_stamp_key(version, filters),
        lambda: list_stamp(filtered(filters), whole=not narrowed(filters)),
        answers.CONTENT_TIMEOUT,
        shared_too=True,
    )
    # The page's ids and 조회수, so that the ETag follows the counts it shows (a 304 costs
    # this one query); the rest of what it shows moves the content version. An answer written
    # in full whatever the client holds (asked without a validator, or being kept) reads its
    # rows in the same query, until items were drawn under the version: then its items are
    # looked for among the kept ones first (items_of()).
    page = filters.pagination
    start = (page.page - 1) * page.page_size
    stop = start + page.page_size
    in_full = wants_full_answer(request) or not any(name in request.META for name in VALIDATORS)
    # Staff draw every item afresh, as they do cards (reader/cards.py).
    keeping = version if answers.is_reader(request) else None
    if start >= stamp["count"]:
        rows, shown = None, []
    elif in_full and not page_drawn(keeping, chosen):
        if keeping is not None:
            replica.caught_up(keeping.lsn)  # its items are kept under it (items_of())
        rows = page_rows(filters, start, stop)
        shown = [(row.pk, count) for row, count in rows[0]]
    else:
        # The page's ids and counts, its items found kept (or read, items_of()).
        rows, shown = None, page_of(filters, start, stop)
    # 인기순 counts the views of the last 30 days: the ranking moves with the calendar too.
    day = timezone.localdate() if filters.ordering == "popular" else None
    etag = etag_of("stories", chosen, stamp, version and version.key, day, shown)
    last_modified = last_modified_of(stamp["updated"], stamp["published"], stamp["company_updated"])
    not_modified = conditional(request, response, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        return not_modified
    head = {
        "count": stamp["count"],
        "page": page.page,
        "page_size": page.page_size,
        "pages": math.ceil(stamp["count"] / page.page_size),
    }
    # Written out as StoryPageOut dumps it (page_body()), so ninja has nothing to validate:
    # the answer is ninja's temporal response (its headers set above) with the page written.
    items = items_of(request, keeping, shown, rows, chosen)
    response.content = page_body(head, items)
    return response


# What an item of a list shows of its story's own row, its company's and its series': the
# query's columns, and their names in an ItemRow.
ITEM_COLUMNS = {
    "pk": "pk",
    "kind": "kind",
    "title": "title",
    "slug": "slug",
    "excerpt": "excerpt",
    "company_name": "company__name",
    "company_slug": "company__slug",
    "job_family": "job_family",
    "series_title": "series__title",
    "series_slug": "series__slug",
    "series_part": "series_part",
    "published_at": "published_at",
    "original_published_on": "original_published_on",
    "source_key": "source_key",
    "updated_at": "updated_at",
    "reading_minutes": "reading_minutes",
    "cover_image": "cover_image",
    "cover_alt": "cover_alt",
}
ItemRow = namedtuple("ItemRow", list(ITEM_COLUMNS))
PUBLISHED_AT = list(ITEM_COLUMNS).index("published_at")
COVERS = Article._meta.get_field("cover_image").storage
# A page's stories by their ids, still published (compiled once, articles/prepared.py).
PAGE_ROWS = Prepared(
    lambda model, ids, now: (
        model.objects.published(now).by_key(ids).order_by().values_list(*ITEM_COLUMNS.values())
    )
)


def row_of(article: Article) -> ItemRow:
    """A story read as an instance (with its company and series) as PAGE_ROWS reads it."""
    company, series = article.company, article.series
    return ItemRow(
        pk=article.pk,
        kind=article.kind,
        title=article.title,
        slug=article.slug,
        excerpt=article.excerpt,
        company_name=company.name if company else None,
        company_slug=company.slug if company else None,
        job_family=article.job_family,
        series_title=series.title if series else None,
        series_slug=series.slug if series else None,
        series_part=article.series_part,
        published_at=article.published_at,
        original_published_on=article.original_published_on,
        source_key=article.source_key,
        updated_at=article.updated_at,
        reading_minutes=article.reading_minutes,
        cover_image=article.cover_image.name,
        cover_alt=article.cover_alt,
    )


# What the API's JSON encoder (ninja's, which leaves dates and times to Django's) writes for a
# date or a time: written into an answer here, the encoder does not hand a page's 60 of them
# back to Python one by one.
_encoded_time = DjangoJSONEncoder().default


def _time(value):
    return None if value is None else _encoded_time(value)


def _company(name: str | None, slug: str | None) -> dict | None:
    """A story's company as CompanyRefOut dumps it (None without one)."""
    return None if name is None else {"name": name, "slug": slug}


def item_maker(request: HttpRequest) -> Callable[..., dict]:
    """story_item(row, tags, people, view_count) for the items of one answer: a story exactly
    as StoryOut dumps it and the API's encoder writes it (a test holds the two equal), from its
    row, its hashtags (CardTag), the people in it (CardPerson) and its stored 조회수. What
    every item shares (the request's absolute URLs, the story page's URL pattern, the covers'
    storage) is read once, when it is made."""
    absolute = absolute_of(request)
    story_url = url_maker("articles:story", keyed=True)
    cover_url = file_url_maker(COVERS)

    def story_item(row: ItemRow, tags, people, view_count) -> dict:
        series = (
            None
            if row.series_title is None
            else {"title": row.series_title, "slug": row.series_slug}
        )
        cover = row.cover_image
        return {
            "id": row.pk,
            "kind": row.kind,
            "title": row.title,
            "slug": row.slug,
            "excerpt": row.excerpt,
            "company": _company(row.company_name, row.company_slug),
            "tags": [{"name": tag.name, "slug": tag.slug} for tag in tags],
            "people": [
                {
                    "name": person.name,
                    "slug": person.slug,
                    "nickname": person.nickname,
                    "role": person.role,
                    "team": person.team,
                }
                for person in people
            ],
            "job_family": row.job_family or None,
            "series": series,
            "series_part": row.series_part,
            "published_at": _time(row.published_at),
            "original_published_on": _time(row.original_published_on),
            "published_date_known": not date_unknown_of(row.source_key, row.original_published_on),
            "updated_at": _time(row.updated_at),
            "view_count": view_count or 0,
            "reading_minutes": row.reading_minutes,
            "cover_image_url": absolute(cover_url(cover)) if cover else None,
            "cover_alt": row.cover_alt,
            "url": absolute(story_url(row.slug, row.pk)),
        }

    return story_item


# The items of lists, each written as the API's encoder writes it (page_body()), kept for one
# content version: nothing an item shows but its 조회수 changes without moving the version
# (articles/versions.py; its company, series, hashtags and people included), and the count is
# written in apart. A list's page is chosen by its own query under the version (page_of()),
# so a story that leaves the published set leaves every list at once; a token's answers, never
# kept whole (api/cache.py), then read one statement and write no JSON for a story already
# drawn. About 1.2 KB an item: some 3,000 items.
ITEMS_MAX_BYTES = 4 * 1024 * 1024
kept_items = BoundedTexts(ITEMS_MAX_BYTES)
# The pages (a list's filters, page and size) whose items were drawn under a content version
# in this process: the latest 1,000 or so. A page not drawn yet is read with its items' rows
# in one statement (page_rows()); one drawn before reads its ids and counts only.
drawn_pages = BoundedTexts(1000 * 200)


def forget_items(**kwargs):
    """Drop every kept item. A setting can change what an item shows (MEDIA_URL, the
    storages): under test settings the kept items go with any change."""
    kept_items.clear()
    drawn_pages.clear()


setting_changed.connect(forget_items)


def page_drawn(version, chosen: list) -> bool:
    """Whether the page of `chosen` (list_stories(): the filters, page and size) had its items
    drawn under this content version in this process."""
    return version is not None and drawn_pages.get((version.key, tuple(chosen))) is not None


def _dumps(value) -> str:
    return json.dumps(value, cls=RENDERER.encoder_class, **RENDERER.json_dumps_params)


def cut_at_count(item: dict) -> tuple[str, str]:
    """An item (item_maker()) as the API's encoder writes it, cut around its 조회수: what comes
    before the count's digits and what comes after."""
    names = list(item)
    at = names.index("view_count")
    before = _dumps({name: item[name] for name in names[:at]})
    after = _dumps({name: item[name] for name in names[at + 1 :]})
    return f'{before[:-1]}, "view_count": ', f", {after[1:]}"


def page_body(head: dict, items: list[str]) -> str:
    """A page of a list (`head`: its count, page, page size and pages; `items`: each written
    with its 조회수, items_of()) as the API's renderer writes StoryPageOut."""
    return f'{_dumps(head)[:-1]}, "items": [{", ".join(items)}]}}'


def items_of(request: HttpRequest, version, shown: list, rows, chosen: list) -> list[str]:
    """The items of the page of `chosen` (page_drawn()), written, in its order: `shown` its
    (id, stored 조회수), `rows` what page_rows() read of it (or None). Under a content version
    (`version`: None for staff or when nothing may be kept) each item is kept, found by the
    version, the request's scheme and host, and the story, and those not kept are read
    (rows_of()); without one, each is written afresh."""
    if version is None:
        found = rows if rows is not None else rows_of(shown)
        return [_dumps(item) for item in page_items(request, *found)]
    absolute = absolute_of(request)
    site = absolute("/")
    parts = {}
    for pk, _ in shown:
        item = kept_items.get((version.key, site, pk))
        if item is not None:
            parts[pk] = item
    missing = [(pk, count) for pk, count in shown if pk not in parts]
    if missing:
        if rows is None:
            replica.caught_up(version.lsn)  # the rows kept under it are at least as new
            rows = rows_of(missing)
        found, tags, people = rows
        story_item = item_maker(request)
        for row, count in found:
            if row.pk in parts:
                continue
            parts[row.pk] = item = cut_at_count(
                story_item(row, tags.get(row.pk, ()), people.get(row.pk, ()), count)
            )
            kept_items.put((version.key, site, row.pk), item)
    drawn_pages.put((version.key, tuple(chosen)), "", overhead=200)
    # A story withdrawn since its id was read (rows_of() left it out) is left out here too.
    return [f"{parts[pk][0]}{count or 0}{parts[pk][1]}" for pk, count in shown if pk in parts]


def rows_of(shown: list[tuple[int, int | None]]) -> tuple[list, dict, dict]:
    """What page_rows() gives, of a page's stories from their (id, stored 조회수): their rows
    read by their keys in one query, in that order (a story withdrawn since its id was read is
    left out), their hashtags and people in one more."""
    if not shown:
        return [], {}, {}
    found = PAGE_ROWS(Article, ids=[pk for pk, _ in shown], now=clock.now_datetime())
    rows = {row[0]: ItemRow._make(row) for row in found}
    return (
        [(rows[pk], count) for pk, count in shown if pk in rows],
        *card_tags_and_people_of(list(rows)),
    )


def page_items(request: HttpRequest, rows: list, tags: dict, people: dict) -> list[dict]:
    """The items of a page of stories, `rows` their rows and stored 조회수 in the list's order
    (ItemRow, count), `tags` and `people` their hashtags and people by story (page_rows()),
    written as plain values (item_maker()), where model instances and the schema's
    validation cost more than the rest of the request (a page of 20 with a token at 10,000
    stories, in process: 5.8 ms → 1.9 ms)."""
    story_item = item_maker(request)
    return [
        story_item(row, tags.get(row.pk, ()), people.get(row.pk, ()), count) for row, count in rows
    ]


def list_stamp_key(version, filters: StoryFilter) -> str | None:
    """Where a list's list_stamp() is kept: under the content version and the filters that
    choose the list (not its page), since how many stories it holds and their latest edit,
    publication and company change move only with the version, and the aggregate reads every
    row of the list (65 ms at 100,000 stories on SQLite). Nowhere without a version, nor for
    a sync cursor (updated_since), nearly never asked twice."""
    if version is None or filters.updated_since is not None:
        return None
    chosen = sorted(filters.model_dump(mode="json", exclude={"page", "page_size"}).items())
    return "api-list-stamp:" + hashlib.sha256(repr((version.key, chosen)).encode()).hexdigest()


@router.get(
    "/{int:story_id}",
    response=read(StoryDetailOut),
    throttle=[CarriedRateThrottle()],
    summary="스토리 하나(id)",
    url_name="story",
    operation_id="articles_api_stories_get_story",
)
def get_story(request: HttpRequest, response: HttpResponse, story_id: StoryId):
    """A published story with its body, its place in a series and related stories."""
    return detail(request, response, pk=story_id)


@router.get(
    "/by-slug/{slug}",
    response=read(StoryDetailOut),
    throttle=[CarriedRateThrottle()],
    summary="스토리 하나(슬러그)",
    url_name="story-by-slug",
    operation_id="articles_api_stories_get_story_by_slug",
)
def get_story_by_slug(request: HttpRequest, response: HttpResponse, slug: Path[Slug]):
    """The same as by id, found by the story's current slug (Korean slugs percent-encoded)."""
    return detail(request, response, slug=slug)


def detail(request, response, **lookup):
    """A fixed number of queries: the published story with its tags, its people and its
    company's newest stories (one statement, which on PostgreSQL also carries the request's
    rate-limit count: api/throttling.py read_counted()), its series' published parts, and
    the rest of the related stories (ArticleQuerySet.related_links)."""
    allow_only(request, ())
    if "pk" in lookup:
        pk = lookup["pk"]
    else:
        pk = Article.objects.published().filter(**lookup).values_list("pk", flat=True).first()
        if pk is None:
            raise Http404("스토리가 없습니다.")
    now = clock.now_datetime()
    newest, make_newest = Article.objects.newest_links_along(pk, now, RELATED_COUNT)
    article, (tags, people, newest) = read_counted(
        request,
        lambda along: Article.objects.published_story_with(pk, along, now),
        [card_tags_along([pk]), card_people_along([pk]), newest],
        Article,
    )
    if article is None:
        raise Http404("스토리가 없습니다.")
    article.card_tags = tags_by_story_of_along(tags).get(pk, ())
    article.card_people = people_by_story_of_along(people).get(pk, ())
    not_modified = conditional(
        request,
        response,
        etag=story_etag(article),
        last_modified=article.updated_at,
    )
    if not_modified is not None:
        return not_modified
    # Written out as StoryDetailOut dumps it (detail_of()), so ninja has nothing to validate.
    detail = detail_of(request, article, make_newest(newest), now)
    response.content = RENDERER.render(request, detail, response_status=200)
    return response


def detail_of(request: HttpRequest, article: Article, newest: list, now) -> dict:
    """The story exactly as StoryDetailOut dumps it (a test holds the two equal): its item
    (item_maker()), its body and what else a story alone shows, its place in a series, its
    related stories (`newest`, their first pool, read with the story at `now`) and its source.
    `article` has its hashtags (`card_tags`) and people (`card_people`)."""
    story_url = url_maker("articles:story", keyed=True)
    item = item_maker(request)(
        row_of(article), article.card_tags, article.card_people, article.view_count
    )
    related = Article.objects.related_links(
        article, [tag.pk for tag in article.card_tags], RELATED_COUNT, now, newest
    )
    site = article.source_site
    source = (
        {
            "site": site,
            "label": article.source_label,
            "company": article.company.name if article.company else None,
            "url": article.original_url or None,
        }
        if site
        else None
    )
    return {
        **item,
        "body_html": article.body_html,
        "byline": article.byline,
        "description": article.description,
        "original_url": article.original_url,
        "cover_credit": article.cover_credit,
        "version": article.version,
        "series_position": series_position(request, article),
        "related": [link_of(request, link, story_url) for link in related],
        "source": source,
    }


def link_of(request: HttpRequest, link: RelatedLink, story_url) -> dict:
    """A related story as StoryLinkOut dumps it and the API's encoder writes it."""
    return {
        "id": link.pk,
        "kind": link.kind,
        "title": link.title,
        "slug": link.slug,
        "company": _company(link.company_name, link.company_slug),
        "published_at": _time(link.published_at),
        "url": absolute_of(request)(story_url(link.slug, link.pk)),
    }


def series_position(request, article: Article) -> dict | None:
    """The story's place among its series' published parts, as SeriesPositionOut dumps it."""
    if article.series_id is None:
        return None
    parts = Article.objects.parts_of(article.series_id)
    index = next((i for i, part in enumerate(parts) if part.pk == article.pk), None)
    if index is None:  # not among the published parts (defensive: detail reads published)
        return None

    def link(part):
        return {
            "id": part.pk,
            "title": part.title,
            "part": part.series_part,
            "url": absolute_of(request)(part.get_absolute_url()),
        }

    return {
        "series": {"title": article.series.title, "slug": article.series.slug},
        "position": index + 1,
        "total": len(parts),
        "previous": link(parts[index - 1]) if index > 0 else None,
        "next": link(parts[index + 1]) if index + 1 < len(parts) else None,
    }


# --- Writing ---------------------------------------------------------------------------------


@router.get(
    "/{int:story_id}/editor",
    response={200: StoryEditOut, 304: None, 401: ErrorOut, 403: ErrorOut, **READ_ERRORS},
    auth=change_auth,
    throttle=[TokenRateThrottle()],
    summary="편집자가 보는 스토리 하나",
    url_name="story-editor",
    operation_id="articles_api_stories_get_story_for_editor",
)
def get_story_for_editor(request: HttpRequest, response: HttpResponse, story_id: StoryId):
    """A story as the write operations answer it, drafts and scheduled ones included
    (writers see their own, editors all): Markdown body, status and version. Its ETag is
    what PATCH wants in If-Match."""
    allow_only(request, ())
    stories = stories_for(
        request.user, Article.objects.select_related("company", "series", "view_total")
    )
    article = get_object_or_404(stories, pk=story_id)
    not_modified = conditional(
        request, response, etag=story_etag(article), last_modified=article.updated_at, private=True
    )
    if not_modified is not None:
        return not_modified
    return edited(response, article, cache_control="private, no-cache")


@router.post(
    "",
    response={201: StoryEditOut, **WRITE_ERRORS},
    auth=write_auth,
    throttle=[TokenRateThrottle()],
    summary="스토리 초안 만들기",
    url_name="story-create",
    operation_id="articles_api_stories_create_story",
)
@decorate_view(idempotent)
def create_story(
    request: HttpRequest,
    response: HttpResponse,
    payload: StoryIn,
    idempotency_key: IdempotencyKey = None,
):
    """A new draft (token scope stories:write). Server-controlled fields (id, status,
    view_count, version, timestamps) are refused with 422; a taken slug answers 409."""
    allow_only(request, ())
    data = payload.model_dump()
    article = Article(status=StoryStatus.DRAFT, created_by=request.user)
    with atomic_write():
        relations = apply_changes(article, data)
        save_story(
            article,
            by=request.user,
            note="API",
            audit="API로 초안을 만들었습니다",
            via=via(request),
            **relations,
        )
    response["Location"] = request.build_absolute_uri(reverse("api:story", args=[article.pk]))
    return Status(201, edited(response, article))


@router.patch(
    "/{int:story_id}",
    response={200: StoryEditOut, 412: ErrorOut, 428: ErrorOut, **WRITE_ERRORS},
    auth=change_auth,
    throttle=[TokenRateThrottle()],
    summary="스토리 고치기",
    url_name="story-update",
    operation_id="articles_api_stories_update_story",
)
def update_story(
    request: HttpRequest,
    response: HttpResponse,
    story_id: StoryId,
    payload: StoryPatch,
    if_match: IfMatch = None,
):
    """Change the fields sent, nothing else (token scope stories:write; a published story
    also needs stories:publish). The token's user must be allowed to edit the story in the
    admin: writers their own drafts, editors any. If-Match must carry the story's current
    ETag or version: without it 428, with an old one 412, so two editors never overwrite
    each other."""
    allow_only(request, ())
    data = payload.model_dump(exclude_unset=True)
    with atomic_write():
        article = locked_story(story_id)
        if not (can_publish(request.user) or owns(request.user, article)):
            # A story this user may not even see (another writer's): the 404 of a missing id,
            # before any check whose answer would tell that it exists or its version.
            raise Http404
        if if_match is None:
            raise ApiError(428, "If-Match 헤더에 스토리의 ETag나 version을 보내 주세요.")
        check_version(if_match, article)
        if article.status == StoryStatus.PUBLISHED and not request.auth.has_scope(
            Scope.STORIES_PUBLISH
        ):
            raise ApiError(403, "발행된 스토리를 고치려면 stories:publish 권한도 있어야 합니다.")
        if not can_edit(request.user, article):
            raise ApiError(403, "이 스토리를 고칠 권한이 없습니다. 편집자에게 부탁해 주세요.")
        relations = apply_changes(article, data)
        if data:
            labels = [str(Article._meta.get_field(name).verbose_name) for name in data]
            save_story(
                article,
                by=request.user,
                note="API",
                audit=f"API로 고쳤습니다: {', '.join(labels)}",
                via=via(request),
                **relations,
            )
    return edited(response, article)


@router.post(
    "/{int:story_id}/publish",
    response={200: StoryEditOut, 412: ErrorOut, **WRITE_ERRORS},
    auth=publish_auth,
    throttle=[TokenRateThrottle()],
    summary="스토리 발행하기",
    url_name="story-publish",
    operation_id="articles_api_stories_publish_story",
)
@decorate_view(idempotent)
def publish_story(
    request: HttpRequest,
    response: HttpResponse,
    story_id: StoryId,
    payload: Body[PublishIn | None] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
):
    """Publish now, or at `at` (a future time schedules it; readers see it from then on).
    Token scope stories:publish, and a user who may publish in the admin (an editor).
    If-Match is optional here; when sent it must be current."""
    allow_only(request, ())
    at = aware(payload.at, [*BODY, "at"]) if payload is not None else None
    with atomic_write():
        article = locked_story(story_id)
        if if_match is not None:
            check_version(if_match, article)
        article.publish(at)
        save_story(
            article,
            by=request.user,
            note="API 발행",
            audit="API로 발행했습니다",
            via=via(request),
            fields=["status", "published_at", "unpublish_at"],
        )
    return edited(response, article)
