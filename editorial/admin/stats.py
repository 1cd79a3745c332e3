"""The editors' statistics room (조회수 통계) and each story's statistics page, mounted under the
story admin by ArticleAdmin. Editors see every story; writers their own (articles/stats.py reads
only those). Every table can be downloaded as CSV with the same numbers (?csv=<table>)."""

import csv

from django.conf import settings
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from articles import rollup, stats, viewbuffer
from articles.models import Kind
from editorial.admin.charts import bar_chart, first_week_chart

KIND_LABELS = dict(Kind.choices)


def _period(request):
    """The period asked for in the query string, or a 400 page saying what is wrong."""
    try:
        return stats.period_for(
            request.GET.get("days"), request.GET.get("start"), request.GET.get("end")
        ), None
    except stats.PeriodError as error:
        return None, str(error)


def tables_of(summary: stats.Summary) -> dict[str, tuple[str, list[str], list[list]]]:
    """Every table of the room: its title, its header and its rows, for the page and the CSV."""
    return {
        "daily": (
            "일별 조회수",
            ["날짜", "조회수"],
            [[r.key.isoformat(), r.views] for r in summary.daily],
        ),
        "kinds": ("종류별 조회수", ["종류", "조회수"], [[r.label, r.views] for r in summary.kinds]),
        "stories": (
            "많이 읽힌 스토리",
            ["순위", "id", "제목", "종류", "회사", "상태", "조회수"],
            [
                [
                    n,
                    row.article.pk,
                    row.article.title,
                    KIND_LABELS.get(row.article.kind, row.article.kind),
                    row.article.company.name if row.article.company else "",
                    row.article.state.label,
                    row.views,
                ]
                for n, row in enumerate(summary.stories, 1)
            ],
        ),
        "companies": (
            "많이 읽힌 회사",
            ["순위", "회사", "조회수"],
            [[n, r.label, r.views] for n, r in enumerate(summary.companies, 1)],
        ),
        "tags": (
            "많이 읽힌 해시태그",
            ["순위", "해시태그", "조회수"],
            [[n, r.label, r.views] for n, r in enumerate(summary.tags, 1)],
        ),
    }


def csv_response(name: str, period: stats.Period, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{name}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so that spreadsheet programs read the Korean as UTF-8
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return response


def safe_cell(cell):
    """A title that starts like a formula (=, +, -, @) is text to a spreadsheet, not a formula
    it would run (OWASP's CSV injection)."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def freshness(through, rolled_at) -> str:
    if through is None:
        said = "아직 집계한 날이 없어 모든 날을 일별 조회수에서 바로 읽었습니다."
    else:
        when = f" ({timezone.localtime(rolled_at):%Y-%m-%d %H:%M} 집계)" if rolled_at else ""
        said = (
            f"집계 기준 {through:%Y-%m-%d}까지{when}. 그 뒤의 날은 일별 조회수에서 바로 읽어 "
            "지금까지 기록된 조회가 모두 들어 있습니다."
        )
    if viewbuffer.enabled():  # views reach the database at each flush (articles/viewbuffer.py)
        said += (
            f" 조회는 Redis에 모았다가 {settings.VIEW_FLUSH_SECONDS:g}초마다 기록하므로 "
            "방금 들어온 조회는 그만큼 늦게 보입니다."
        )
    return said


class StatsPages:
    """The statistics pages of the story admin (mixed into ArticleAdmin)."""

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("stats/", self.admin_site.admin_view(self.stats_view), name=f"{info}_stats"),
            path(
                "<path:object_id>/stats/",
                self.admin_site.admin_view(self.story_stats_view),
                name=f"{info}_story_stats",
            ),
            *super().get_urls(),
        ]

    def _stats_context(self, request, title, period, error):
        state = rollup.state()
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "period": period,
            "error": error,
            "presets": stats.PRESETS,
            "freshness": freshness(state.through, state.rolled_at),
            "today": timezone.localdate(),
            "days": request.GET.get("days", ""),
            "start": request.GET.get("start", ""),
            "end": request.GET.get("end", ""),
        }

    def stats_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        period, error = _period(request)
        if period is None:
            context = self._stats_context(request, "조회수 통계", None, error)
            return TemplateResponse(request, "admin/editorial/stats.html", context, status=400)
        if rollup.is_behind():
            rollup.roll_up()
        summary = stats.summary(period, stats.visible_ids(request.user))
        tables = tables_of(summary)
        wanted = request.GET.get("csv")
        if wanted:
            if wanted not in tables:
                raise Http404("그런 표가 없습니다.")
            _, header, rows = tables[wanted]
            return csv_response(wanted, period, header, rows)
        context = {
            **self._stats_context(request, "조회수 통계", period, None),
            "summary": summary,
            "tables": tables,
            "daily_chart": bar_chart(f"일별 조회수, {period}", summary.daily),
            "top": [
                (
                    row,
                    first_week_chart(
                        f"{row.article.title}: 발행 후 7일", row.first_week, row.median
                    ),
                )
                for row in summary.stories
            ],
            "csv": {key: csv_url(request, key) for key in tables},
            "kind_max": max([r.views for r in summary.kinds] or [0]) or 1,
            "company_max": max([r.views for r in summary.companies] or [0]) or 1,
            "tag_max": max([r.views for r in summary.tags] or [0]) or 1,
        }
        return TemplateResponse(request, "admin/editorial/stats.html", context)

    def story_stats_view(self, request, object_id):
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404("스토리가 없거나 볼 수 없습니다.")
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        period, error = _period(request)
        title = "스토리 조회수 통계"
        if period is None:
            context = {**self._stats_context(request, title, None, error), "original": article}
            return TemplateResponse(
                request, "admin/editorial/story_stats.html", context, status=400
            )
        story = stats.story_stats(article, period)
        if request.GET.get("csv") == "daily":
            rows = [[r.key.isoformat(), r.views] for r in story.daily]
            return csv_response(f"story-{article.pk}", period, ["날짜", "조회수"], rows)
        if request.GET.get("csv"):
            raise Http404("그런 표가 없습니다.")
        context = {
            **self._stats_context(request, title, period, None),
            "subtitle": str(article),
            "original": article,
            "story": story,
            "daily_csv": csv_url(request, "daily"),
            **story_charts(story),
        }
        return TemplateResponse(request, "admin/editorial/story_stats.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The story's change page shows its last 30 days and totals too."""
        extra_context = dict(extra_context or {})
        article = self.get_object(request, unquote(object_id)) if object_id else None
        if article is not None and self.has_view_or_change_permission(request, article):
            story = stats.story_stats(article, stats.period_for(stats.DEFAULT_DAYS))
            state = rollup.state()
            extra_context.update(
                {
                    "story": story,
                    "freshness": freshness(state.through, state.rolled_at),
                    **story_charts(story),
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)


def csv_url(request, key: str) -> str:
    query = request.GET.copy()
    query["csv"] = key
    return f"?{query.urlencode()}"


def story_charts(story: stats.StoryStats) -> dict:
    days = max(len(story.first_week), len(story.median))
    return {
        "first_week_rows": [
            (
                f"{n + 1}일째",
                story.first_week[n] if n < len(story.first_week) else None,
                story.median[n] if n < len(story.median) else None,
            )
            for n in range(days)
        ],
        "daily_chart": bar_chart(f"일별 조회수, {story.period}", story.daily),
        "first_week_chart": first_week_chart(
            "발행 후 7일: 이 스토리와 같은 종류의 중앙값", story.first_week, story.median
        ),
    }
