"""The API's schemas, named by role: *Out for what it answers, *In / *Patch for what it reads,
*Filter for the query string of a list. Every field is listed; nothing is exposed by default.

Input schemas forbid unknown fields, so a client that sends a server-controlled field (id,
status, view_count, version, timestamps) hears about it instead of being silently ignored.
Every string the API reads refuses NUL characters and lone surrogates, which no database
column can store, and is capped at its column's length.
"""

import re
from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from articles.models import SLUG_MAX_LENGTH, Article, JobFamily, Kind, Tag
from articles.models.text import check_visible_text, nfc

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
PAGE_MAX = 10_000
# The story ids a client may name: a BigAutoField's range.
ID_MAX = 2**63 - 1
SERIES_PART_MAX = 32767  # PositiveSmallIntegerField
TAGS_MAX = 30
PEOPLE_MAX = 30


# A surrogate code point stands alone in a Python string: no UTF-8 text can hold it.
SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value: str) -> str:
    """Refuse what no database column can hold: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "NUL 문자(\\u0000)는 쓸 수 없습니다.")
    if SURROGATE.search(value):
        raise PydanticCustomError("lone_surrogate", "짝이 없는 서로게이트 문자는 쓸 수 없습니다.")
    return value


def visible(value: str) -> str:
    """The models' rule for titles, names, slugs and tags (articles/models/text.py), for
    what the API reads before a model sees it (a slug in a path, a tag's name)."""
    try:
        check_visible_text(value)
    except DjangoValidationError as error:
        raise PydanticCustomError(error.code, error.messages[0]) from None
    return value


def web_url(value: str) -> str:
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError:
            raise PydanticCustomError(
                "url", "http:// 또는 https://로 시작하는 올바른 주소를 적어 주세요."
            ) from None
    return value


def tag_name(value: str) -> str:
    name = nfc(value).strip().lstrip("#").strip()
    if not name:
        raise PydanticCustomError("tag_name", "해시태그 이름이 비었습니다.")
    return name


def Text(max_length: int, *, min_length: int | None = 0, strip: bool = True):
    """A string of at most `max_length` characters that a database can store."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=strip, min_length=min_length, max_length=max_length),
        AfterValidator(storable),
    ]


def column(model, name: str, *, min_length: int | None = 0):
    """A string as long as the model's column takes (its max_length): the length is said once,
    on the model. (ninja's ModelSchema would take it from there too, but it would also make
    every blank column nullable and rename the fields' titles: a different public schema.)"""
    return Text(model._meta.get_field(name).max_length, min_length=min_length)


# In NFC, as the models keep slugs: an NFD slug (macOS, some clients) names the same row.
Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SLUG_MAX_LENGTH, pattern=r"^[-\w]+$"),
    AfterValidator(storable),
    AfterValidator(nfc),
    AfterValidator(visible),
]
Url = Annotated[column(Article, "original_url", min_length=None), AfterValidator(web_url)]
TagName = Annotated[
    column(Tag, "name", min_length=None), AfterValidator(tag_name), AfterValidator(visible)
]
SeriesPart = Annotated[int, Field(ge=1, le=SERIES_PART_MAX)]
# ARTICLE_BODY_MAX_CHARS is checked when the story is saved; this cap only keeps a request
# body under the API's byte limit from turning into an absurd string.
Body = Text(1_000_000, strip=False)


# The fields a client writes, each type once: StoryIn gives them defaults, StoryPatch none.
Title = column(Article, "title", min_length=1)
Excerpt = column(Article, "excerpt")
Byline = column(Article, "byline")
MetaDescription = column(Article, "meta_description")
Caption = column(Article, "cover_alt")
PeopleSlugs = Annotated[list[Slug], Field(max_length=PEOPLE_MAX)]
TagNames = Annotated[list[TagName], Field(max_length=TAGS_MAX)]
# The page of a list and its size, in every list's query string.
PageNumber = Annotated[int, Field(ge=1, le=PAGE_MAX)]
PageSize = Annotated[int, Field(ge=1, le=PAGE_SIZE_MAX)]
# What a company, a tag or a collection answers as its number of published stories.
StoryCount = Annotated[int, Field(description="발행된 스토리 수")]


# --- Errors ----------------------------------------------------------------------------------


class FieldErrorOut(Schema):
    loc: list[str | int] = Field(description='어디가 틀렸는지. 예: ["body", "payload", "title"]')
    message: str
    type: str


class ErrorOut(Schema):
    """Every error of the API, whatever its status."""

    status: int = Field(description="HTTP 상태 코드와 같습니다.")
    code: str = Field(description="오류의 종류. 예: not_found, validation_error, throttled")
    message: str = Field(description="사람이 읽을 설명")
    errors: list[FieldErrorOut] = Field(description="422에서 틀린 입력값들")
    request_id: str = Field(description="X-Request-ID 헤더와 같습니다. 문의할 때 알려 주세요.")


# --- Building blocks (never answered on their own, so absent from the OpenAPI schema) -----------


def absolute_url(context, path: str) -> str:
    return context["request"].build_absolute_uri(path)


def media_url(context, field) -> str | None:
    return absolute_url(context, field.url) if field else None


def media_url_of(name: str) -> staticmethod:
    """The resolver of a `…_url` field: the absolute address of the object's image in its
    field `name`, or None without one."""

    def resolve(obj, context) -> str | None:
        return media_url(context, getattr(obj, name))

    return staticmethod(resolve)


class Linked(Schema):
    """Fills the `url` field that each subclass declares (where it wants it in its order)
    with the absolute address of the object's page on the reader site."""

    @staticmethod
    def resolve_url(obj, context) -> str:
        return absolute_url(context, obj.get_absolute_url())


class Named(Schema):
    name: str
    slug: str


class Titled(Schema):
    title: str
    slug: str


class Strict(Schema):
    """What a client sends: an unknown field is a 422, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PageOut(Schema):
    """The envelope of every list (api/pagination.py); page_schema() adds its `items`."""

    count: int
    page: int
    page_size: int
    pages: int


def page_schema(name: str, item: type, *, count: str | None = None) -> type[PageOut]:
    """The page of a list of `item`, named as clients know it (StoryPageOut, …);
    `count` describes what is counted when that needs saying."""
    annotations = {"items": list[item]}
    namespace = {"__annotations__": annotations, "__module__": __name__, "__qualname__": name}
    if count is not None:
        annotations["count"] = int
        namespace["count"] = Field(description=count)
    return type(name, (PageOut,), namespace)


# --- Companies, people, tags, series, collections ----------------------------------------------


class CompanyRefOut(Named):
    pass


class PersonRefOut(Named):
    nickname: str
    role: str = Field(description="스토리에 나온 당시의 직무")
    team: str


class TagOut(Named):
    pass


class SeriesRefOut(Titled):
    pass


class CompanyOut(Named, Linked):
    one_liner: str
    location: str
    size: str
    logo_url: str | None
    story_count: StoryCount
    url: str

    resolve_logo_url = media_url_of("logo")


class CompanyDetailOut(CompanyOut):
    description: str
    website: str
    hiring_url: str
    tech_stack: list[str]
    people: list[PersonRefOut]

    @staticmethod
    def resolve_tech_stack(obj) -> list[str]:
        return obj.tech_list


class PersonOut(Named, Linked):
    nickname: str
    role: str
    team: str
    company: CompanyRefOut | None
    photo_url: str | None
    story_count: int = Field(description="등장한 발행 스토리 수")
    url: str

    resolve_photo_url = media_url_of("photo")


class PersonDetailOut(PersonOut):
    bio: str


class TagCountOut(Named, Linked):
    story_count: StoryCount
    url: str


# --- Stories -----------------------------------------------------------------------------------


class StoryHead(Linked):
    """What every representation of a story starts with."""

    id: int
    kind: Kind
    title: str
    slug: str

    @staticmethod
    def resolve_job_family(obj) -> str | None:
        return obj.job_family or None


class StoryOut(StoryHead):
    """A story as a card: what every list gives."""

    excerpt: str
    company: CompanyRefOut | None
    tags: list[TagOut]
    people: list[PersonRefOut] = Field(description="스토리에 나오는 사람들(글쓴이가 아님)")
    job_family: JobFamily | None
    series: SeriesRefOut | None
    series_part: int | None
    published_at: datetime
    original_published_on: date | None = Field(
        description="다른 곳에 먼저 실린 글이 처음 실린 날(알 때만)"
    )
    published_date_known: bool = Field(
        description="독자에게 보일 날짜를 아는지. 원문에 날짜가 없는 가져온 글은 false이고 "
        "‘날짜 미상’으로 보입니다(published_at은 이 사이트에 공개된 시각)."
    )

    @staticmethod
    def resolve_published_date_known(obj) -> bool:
        return not obj.date_unknown

    # A list's page and a story read with their relations as plain values (api/stories.py
    # with_relations); a series' parts with them prefetched.
    @staticmethod
    def resolve_tags(obj) -> list:
        tags = getattr(obj, "card_tags", None)
        return list(obj.tags.all()) if tags is None else list(tags)

    @staticmethod
    def resolve_people(obj) -> list:
        people = getattr(obj, "card_people", None)
        return list(obj.people.all()) if people is None else list(people)

    updated_at: datetime
    view_count: int
    reading_minutes: int = Field(description="읽는 시간(분)")
    cover_image_url: str | None
    cover_alt: str
    url: str = Field(description="독자가 보는 스토리 페이지의 절대 주소")

    resolve_cover_image_url = media_url_of("cover_image")


class StorySourceOut(Schema):
    """Where an imported story came from."""

    site: str = Field(description="가져온 사이트. 예: 더팀스")
    label: str = Field(description="독자에게 보이는 출처 문구. 예: 더팀스에서 가져온 글")
    company: str | None = Field(description="글의 회사")
    url: str | None = Field(description="원문 주소(알 때만)")


class StoryLinkOut(StoryHead):
    company: CompanyRefOut | None
    published_at: datetime
    url: str


class SeriesPartOut(Schema):
    id: int
    title: str
    part: int | None
    url: str


class SeriesPositionOut(Schema):
    series: SeriesRefOut
    position: int = Field(description="시리즈에서 몇 번째인지(1부터)")
    total: int = Field(description="발행된 편 수")
    previous: SeriesPartOut | None
    next: SeriesPartOut | None


class StoryDetailOut(StoryOut):
    """A story with its body, its place in a series and stories like it."""

    body_html: str = Field(description="렌더링하고 정리한 본문 HTML")
    byline: str
    description: str = Field(description="검색엔진과 링크 미리보기용 설명")
    original_url: str = Field(description="다른 곳에 먼저 실린 글이면 원문 주소")
    cover_credit: str
    version: int = Field(description="고칠 때마다 1씩 늘어납니다. If-Match에 씁니다.")
    series_position: SeriesPositionOut | None
    related: list[StoryLinkOut]
    source: StorySourceOut | None = Field(description="가져온 글이면 그 출처, 아니면 null")

    @staticmethod
    def resolve_source(obj) -> dict | None:
        if not obj.source_site:
            return None
        return {
            "site": obj.source_site,
            "label": obj.source_label,
            "company": obj.company.name if obj.company else None,
            "url": obj.original_url or None,
        }


StoryPageOut = page_schema("StoryPageOut", StoryOut, count="필터에 맞는 발행 스토리 수")


class PageQuery(Strict):
    page: PageNumber = 1
    page_size: PageSize = PAGE_SIZE_DEFAULT


class StoryIn(Strict):
    """A new story. It is always saved as a draft; publishing is its own step."""

    kind: Kind = Kind.FEED
    title: Title
    slug: Slug | None = Field(None, description="비워 두면 제목으로 만듭니다.")
    excerpt: Excerpt = ""
    body: Body = Field("", description="Markdown 본문")
    company: Slug | None = Field(None, description="회사 슬러그")
    people: PeopleSlugs = Field([], description="인물 슬러그들")
    tags: TagNames = Field([], description="해시태그 이름들(# 없이)")
    job_family: JobFamily | None = None
    series: Slug | None = Field(None, description="시리즈 슬러그")
    series_part: SeriesPart | None = None
    byline: Byline = ""
    original_url: Url = ""
    meta_description: MetaDescription = ""
    cover_alt: Caption = ""
    cover_credit: Caption = ""


class StoryPatch(Strict):
    """Only the fields sent change. Send If-Match with the story's ETag or version."""

    kind: Kind = None
    title: Title = None
    slug: Slug = None
    excerpt: Excerpt = None
    body: Body = None
    company: Slug | None = None
    people: PeopleSlugs = None
    tags: TagNames = None
    job_family: JobFamily | None = None
    series: Slug | None = None
    series_part: SeriesPart | None = None
    byline: Byline = None
    original_url: Url = None
    meta_description: MetaDescription = None
    cover_alt: Caption = None
    cover_credit: Caption = None


class PublishIn(Strict):
    at: datetime | None = Field(
        None, description="발행 시각. 비우면 지금, 미래면 그때 공개(예약 발행)."
    )


class StoryEditOut(StoryHead):
    """A story as its editors see it, drafts included: what the write operations answer."""

    excerpt: str
    body: str
    body_html: str
    company: CompanyRefOut | None
    people: list[PersonRefOut]
    tags: list[TagOut]
    job_family: JobFamily | None
    series: SeriesRefOut | None
    series_part: int | None
    byline: str
    original_url: str
    meta_description: str
    cover_alt: str
    cover_credit: str
    status: Literal["draft", "review", "published"]
    state: str = Field(description="초안, 검토 중, 예약, 발행, 내림")
    is_public: bool = Field(description="지금 독자에게 보이는지")
    published_at: datetime | None
    unpublish_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    url: str

    @staticmethod
    def resolve_state(obj) -> str:
        return obj.state.label


# --- Series and collections ---------------------------------------------------------------------


class SeriesOut(Titled, Linked):
    description: str
    story_count: int = Field(description="발행된 편 수")
    url: str


class SeriesDetailOut(SeriesOut):
    stories: list[StoryOut] = Field(description="발행된 편, 순서대로(100편까지)")

    @staticmethod
    def resolve_stories(obj) -> list:
        return obj.published_parts


class CollectionOut(Titled, Linked):
    description: str
    position: int = Field(description="홈에서의 순서(작을수록 위)")
    on_home: bool = Field(description="지금 홈에 보이는지")
    story_count: StoryCount
    url: str


class CollectionItemOut(Schema):
    position: int
    story: StoryOut

    @staticmethod
    def resolve_story(obj):
        return obj.article


class CollectionDetailOut(CollectionOut):
    items: list[CollectionItemOut] = Field(
        description="발행된 스토리, 편집자가 정한 순서대로(100개까지)"
    )

    @staticmethod
    def resolve_items(obj) -> list:
        return obj.visible_items


# --- Pages of the lists -------------------------------------------------------------------------

CompanyPageOut = page_schema("CompanyPageOut", CompanyOut)
PersonPageOut = page_schema("PersonPageOut", PersonOut)
TagPageOut = page_schema("TagPageOut", TagCountOut)
SeriesPageOut = page_schema("SeriesPageOut", SeriesOut)
CollectionPageOut = page_schema("CollectionPageOut", CollectionOut)
