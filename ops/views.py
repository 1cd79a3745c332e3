"""Operators' pages: liveness and readiness probes, the database status page, the case study."""

import re
import sys

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import Error as DatabaseError
from django.db import connections
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views import defaults
from django.views.decorators.cache import never_cache

from articles import replica, versions
from articles.roles import can_operate
from ops.availability import (
    DATABASE_UNREACHABLE,
    RETRY_AFTER,
    log_unavailable,
    unavailable_reason,
    unavailable_response,
)
from ops.case_study import load as case_study_document
from ops.status import database_status, file_mtime

CASE_STUDY_PATH = settings.BASE_DIR / "docs" / "pooling.md"
CASE_STUDY_KO_PATH = settings.BASE_DIR / "docs" / "pooling.ko.md"
CHARTS_DIR = settings.BASE_DIR / "docs" / "pooling"
CHART_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.png")
# docs/pooling.md links its charts relative to itself, so they also show when the file is
# read in the repository; on the site they are served by case_study_chart.
CHART_SRC = 'src="pooling/'


@never_cache
def healthz(request):
    """Liveness: the process answers. It touches no database, so a database outage never
    makes an orchestrator restart healthy workers (and the probe never takes a connection)."""
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


@never_cache
def readyz(request):
    """Readiness: a connection can be had and answers. 503 when it cannot, so a load balancer
    stops sending traffic to this process until it can. The shared cache is reported but
    never fails the probe: without it the site still serves, uncached (articles/answers.py),
    and taking every host out of rotation for it would turn a degraded site into a down one.
    So is the read replica, for the same reason: reads fall back to the primary."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        reason = unavailable_reason(exc) or DATABASE_UNREACHABLE
        log_unavailable(request, reason, exc)
        # The database cache is down with its database; do not wait for it twice.
        cache_state = "down" if cache_in_database() else cache_state_now()
        response = JsonResponse(
            {"status": "unavailable", "reason": reason, "cache": cache_state}, status=503
        )
        response["Retry-After"] = str(RETRY_AFTER[reason])
        return response
    return JsonResponse(
        {"status": "ready", "cache": cache_state_now(), "replica": replica_state_now()}
    )


def cache_state_now() -> str:
    try:
        cache.get("readyz")
    except Exception:
        return "down"
    return "up"


def replica_state_now() -> str:
    """The read replica: "none", "up", "down" or "lagging" (it has not replayed the current
    content version). Never fails the probe: without the replica, reads go to the primary."""
    if not replica.configured():
        return "none"
    try:
        version = versions.Version.of(cache.get(versions.KEY))
    except Exception:
        version = None
    return replica.state(version.lsn if version is not None else None)


def cache_in_database() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")


@never_cache
@staff_member_required
def database(request):
    if not can_operate(request.user):
        raise PermissionDenied("운영 상태는 편집자와 관리자만 볼 수 있습니다.")
    status = database_status()
    # "pool.max_waiting" cannot be looked up in a template (the dot).
    max_waiting = status["knobs"].get("pool.max_waiting")
    return render(request, "ops/database.html", {"status": status, "max_waiting": max_waiting})


def case_study(request, language="ko"):
    """연결 풀링 사례 연구: in Korean (docs/pooling.ko.md) with the English original
    (docs/pooling.md) one link away; both show the benchmark's latest tables."""
    mtimes = (file_mtime(CASE_STUDY_KO_PATH), file_mtime(CASE_STUDY_PATH))
    document = case_study_document(CASE_STUDY_KO_PATH, CASE_STUDY_PATH, language, mtimes)
    if document is None:
        raise Http404("사례 연구 문서가 아직 없습니다.")
    chart_root = reverse("ops:case-study-chart", args=["x.png"]).removesuffix("x.png")
    html = document.html.replace(CHART_SRC, f'src="{chart_root}')
    return render(
        request,
        "ops/case_study.html",
        {
            "title": document.title,
            "language": language,
            "body_html": mark_safe(html),  # rendered and sanitised by articles/rendering.py
        },
    )


def case_study_chart(request, name):
    if not CHART_NAME.fullmatch(name):
        raise Http404("그래프가 없습니다.")
    path = CHARTS_DIR / name
    if not path.is_file():
        raise Http404("그래프가 없습니다.")
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=3600"
    return response


def server_error(request):
    """handler500: a 503 when the error was "no connection could be had" (raised in a
    middleware rather than a view), else Django's plain 500 page."""
    exc = sys.exc_info()[1]
    reason = unavailable_reason(exc)
    if reason is not None:
        return unavailable_response(request, reason, exc)
    return defaults.server_error(request)
