"""GET /api/v1/stats/summary and /api/v1/stats/stories/{id}: the statistics room's numbers for
programs. A staff session or a token with the stats:read scope; editors see every story,
writers their own only (another's story is a 404, as in the admin). Days are Seoul days and
periods include both ends; `through` says up to which day the rollup had gone (later days are
read live, so the numbers are current either way)."""

from datetime import date
from typing import Annotated

from django.http import Http404
from ninja import Path, Query, Router, Schema, security
from ninja.errors import AuthorizationError

from api.common import allow_only
from api.errors import ApiError
from api.schemas import ID_MAX, ErrorOut
from articles import rollup, stats
from articles.models import Article
from articles.roles import stories_for
from tokens.auth import TokenAuth
from tokens.models import Scope

VIEW_PERMISSION = "articles.view_article"


class SessionAuthIsStaff(security.SessionAuthIsStaff):
    """A staff session whose user may see stories in the admin (writers too). It keeps
    ninja's class name: the OpenAPI schema names its security scheme after it."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user and not user.has_perm(VIEW_PERMISSION):
            raise AuthorizationError(message="스토리를 볼 권한이 없어 통계도 볼 수 없습니다.")
        return user


router = Router(
    tags=["stats"],
    auth=[SessionAuthIsStaff(), TokenAuth(scope=Scope.STATS_READ, perms=[VIEW_PERMISSION])],
)

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


Days = Annotated[
    int | None,
    Query(description="최근 며칠(어제까지): 7, 30, 90. start·end와 함께 쓰지 않습니다."),
]
Start = Annotated[date | None, Query(description="시작일(한국 시간, 포함), YYYY-MM-DD")]
End = Annotated[date | None, Query(description="끝일(한국 시간, 포함, 오늘까지), YYYY-MM-DD")]
StoryId = Annotated[int, Path(ge=1, le=ID_MAX, description="스토리 id")]


class PeriodOut(Schema):
    start: date
    end: date
    days: int
    preset: int | None
    timezone: str


class DayOut(Schema):
    day: date
    views: int


class NamedOut(Schema):
    key: str
    name: str
    views: int


class StoryRowOut(Schema):
    id: int
    title: str
    kind: str
    company: str | None
    state: str
    views: int
    first_week: list[int]
    kind_median: list[float]


class SummaryOut(Schema):
    period: PeriodOut
    through: date | None
    scoped: bool
    total: int
    today: int
    daily: list[DayOut]
    kinds: list[NamedOut]
    top_stories: list[StoryRowOut]
    top_companies: list[NamedOut]
    top_tags: list[NamedOut]


class StoryStatsOut(Schema):
    id: int
    title: str
    kind: str
    period: PeriodOut
    through: date | None
    total: int
    today: int
    all_time: int
    daily: list[DayOut]
    first_week: list[int]
    kind_median: list[float]


PERIOD_PARAMS = frozenset({"days", "start", "end"})


def _period(request, days, start, end) -> stats.Period:
    allow_only(request, PERIOD_PARAMS)
    try:
        return stats.period_for(days, start, end)
    except stats.PeriodError as error:
        raise ApiError(400, str(error)) from None


def _period_out(period: stats.Period) -> dict:
    return {
        "start": period.start,
        "end": period.end,
        "days": period.days,
        "preset": period.preset,
        "timezone": "Asia/Seoul",
    }


def _catch_up() -> None:
    if rollup.is_behind():
        rollup.roll_up()


@router.get(
    "/summary",
    response={200: SummaryOut, **ERRORS},
    summary="조회수 통계 요약",
    operation_id="stats_summary",
    url_name="stats-summary",
    description=(
        "기간의 전체·일별·종류별 조회수와 많이 읽힌 스토리·회사·해시태그. 기간은 `days`(7, 30, "
        "90: 어제까지) 또는 `start`와 `end`(한국 시간, 양 끝 포함, 366일까지)로 고릅니다. 작성자는 "
        "자기 스토리만 셉니다. 스태프 세션이나 `stats:read` 권한의 토큰이 있어야 합니다."
    ),
)
def summary(request, days: Days = None, start: Start = None, end: End = None):
    period = _period(request, days, start, end)
    _catch_up()
    found = stats.summary(period, stats.visible_ids(request.user))
    return {
        "period": _period_out(period),
        "through": found.through,
        "scoped": found.scoped,
        "total": found.total,
        "today": found.today,
        "daily": [{"day": row.key, "views": row.views} for row in found.daily],
        "kinds": [{"key": row.key, "name": row.label, "views": row.views} for row in found.kinds],
        "top_stories": [
            {
                "id": row.article.pk,
                "title": row.article.title,
                "kind": row.article.kind,
                "company": row.article.company.name if row.article.company else None,
                "state": row.article.state.value,
                "views": row.views,
                "first_week": row.first_week,
                "kind_median": row.median,
            }
            for row in found.stories
        ],
        "top_companies": [
            {"key": row.key.slug, "name": row.label, "views": row.views} for row in found.companies
        ],
        "top_tags": [
            {"key": row.key.slug, "name": row.label, "views": row.views} for row in found.tags
        ],
    }


@router.get(
    "/stories/{story_id}",
    response={200: StoryStatsOut, **ERRORS},
    summary="스토리 하나의 조회수 통계",
    operation_id="stats_story",
    url_name="stats-story",
    description=(
        "스토리의 일별 조회수, 기간 합계, 오늘 지금까지, 전체 조회수, 발행 후 7일과 같은 종류의 "
        "중앙값. 작성자에게 남의 스토리는 없는 스토리와 같은 404입니다."
    ),
)
def story(request, story_id: StoryId, days: Days = None, start: Start = None, end: End = None):
    period = _period(request, days, start, end)
    article = (
        stories_for(request.user, Article.objects.defer("body", "body_html"))
        .filter(pk=story_id)
        .first()
    )
    if article is None:
        raise Http404
    found = stats.story_stats(article, period)
    return {
        "id": article.pk,
        "title": article.title,
        "kind": article.kind,
        "period": _period_out(period),
        "through": found.through,
        "total": found.total,
        "today": found.today,
        "all_time": found.all_time,
        "daily": [{"day": row.key, "views": row.views} for row in found.daily],
        "first_week": found.first_week,
        "kind_median": found.median,
    }
