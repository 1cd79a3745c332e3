"""The story hub's content, one module per concern; everything is importable from here."""

from articles.models.collections import Collection, CollectionItem
from articles.models.common import (
    KIND_URL_NAMES,
    POPULAR_WINDOW_DAYS,
    RELATED_COUNT,
    SLUG_MAX_LENGTH,
    Focus,
    HttpsURLField,
    JobFamily,
    Kind,
    Status,
    cover_upload_to,
    generated_name,
    logo_upload_to,
    photo_upload_to,
    unique_slug,
)
from articles.models.entities import Company, Person, Series, Tag
from articles.models.ordered import ArticleTag, tags_in_order
from articles.models.rollup import (
    FIRST_DAYS,
    WINDOWS,
    DayCompanyViews,
    DayKindViews,
    DayTagViews,
    FirstWeekViews,
    KindCurve,
    RollupState,
    StoryWindowViews,
)
from articles.models.search_document import SearchDocument
from articles.models.states import State
from articles.models.stats import COUNT_MAX, DailyView, ViewFlush, ViewTotal
from articles.models.stories import Article, by_views, has_published
from articles.models.versioning import ContentVersion
from articles.models.workflow import (
    PREVIEW_DAYS,
    PREVIEW_MAX_DAYS,
    PreviewLink,
    Revision,
    default_preview_expiry,
    preview_token_digest,
)

__all__ = [
    "COUNT_MAX",
    "FIRST_DAYS",
    "KIND_URL_NAMES",
    "POPULAR_WINDOW_DAYS",
    "PREVIEW_DAYS",
    "PREVIEW_MAX_DAYS",
    "RELATED_COUNT",
    "SLUG_MAX_LENGTH",
    "WINDOWS",
    "Article",
    "ArticleTag",
    "Collection",
    "CollectionItem",
    "Company",
    "ContentVersion",
    "DailyView",
    "DayCompanyViews",
    "DayKindViews",
    "DayTagViews",
    "FirstWeekViews",
    "Focus",
    "HttpsURLField",
    "JobFamily",
    "Kind",
    "KindCurve",
    "Person",
    "PreviewLink",
    "Revision",
    "RollupState",
    "SearchDocument",
    "Series",
    "State",
    "Status",
    "StoryWindowViews",
    "Tag",
    "ViewFlush",
    "ViewTotal",
    "by_views",
    "cover_upload_to",
    "default_preview_expiry",
    "generated_name",
    "has_published",
    "logo_upload_to",
    "photo_upload_to",
    "preview_token_digest",
    "tags_in_order",
    "unique_slug",
]
