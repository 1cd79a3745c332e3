"""The statistics room and a story's chart in headless Chromium, as an editor and as a writer,
at 1280 and 390 px (and in dark mode): the charts are drawn, nothing scrolls sideways, and no
console error or CSP violation. STATS_SCREENSHOTS=<folder> keeps a screenshot of each page."""

import os
from pathlib import Path

import pytest

from articles import rollup
from tests.factories import StaffFactory
from tests.stats_support import make_history
from tests.test_browser_editorial import Visitor

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def shoot(page, name):
    folder = os.environ.get("STATS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def sideways(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def drawn_bars(page) -> int:
    return page.locator("svg.chart rect.chart-bar").evaluate_all(
        "bars => bars.filter(bar => bar.getBoundingClientRect().width > 0).length"
    )


@pytest.mark.parametrize("role", ["editor", "writer"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_room_and_a_story_chart_draw_on_a_desktop_and_a_phone(
    browser, live_server, role, scheme
):
    history = make_history()
    rollup.roll_up()
    if role == "editor":
        StaffFactory(username="editor-stats", role="editor")
        username, story = "editor-stats", history.stories[1]
    else:
        username, story = history.writer.username, history.stories[0]
    visitor = Visitor(browser, live_server.url, color_scheme=scheme)
    page = visitor.page
    try:
        visitor.log_in(username)
        for size, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            visitor.goto("/admin/articles/article/stats/?days=30")
            assert page.locator("h1").inner_text() == "조회수 통계"
            assert drawn_bars(page) == 30
            assert page.locator("svg.chart polyline.chart-story").count() >= 1
            assert page.locator("svg.chart title").first.text_content().startswith("일별 조회수")
            assert sideways(page) <= 0, (size, sideways(page))
            if role == "writer":
                assert history.stories[1].title not in page.content()
            shoot(page, f"room-{role}-{size}-{scheme}")

            visitor.goto(f"/admin/articles/article/{story.pk}/stats/?days=30")
            assert drawn_bars(page) == 30
            assert page.locator("svg.chart polyline").count() >= 1
            assert sideways(page) <= 0, (size, sideways(page))
            shoot(page, f"story-{role}-{size}-{scheme}")

            visitor.goto(f"/admin/articles/article/{story.pk}/change/")
            assert drawn_bars(page) == 30
            assert sideways(page) <= 0, (size, sideways(page))
            shoot(page, f"change-{role}-{size}-{scheme}")
        assert visitor.errors == []
    finally:
        visitor.close()
