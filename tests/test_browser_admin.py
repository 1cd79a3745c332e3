"""The editors' room in headless Chromium: the live Markdown preview while typing, a story
list that fits at 1280 px and kinds that do not break on a phone, without a CSP violation."""

import os

import pytest

from articles.models import Kind
from tests.factories import ArticleFactory, CompanyFactory, StaffFactory
from tests.test_browser_editorial import Visitor

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def editor_visitor(browser, live_server):
    StaffFactory(username="editor-han", role="editor")
    visitor = Visitor(browser, live_server.url)
    visitor.log_in("editor-han")
    yield visitor
    visitor.close()


def test_the_body_is_previewed_while_typing_and_errors_are_shown(editor_visitor, settings):
    page = editor_visitor.page
    editor_visitor.goto("/admin/articles/article/add/")
    preview = page.locator(".markdown-preview-body")
    page.fill("#id_body", "## 배포 이야기\n\n> “작게 자주”\n\n**굵게**<script>alert(1)</script>")
    page.locator(".markdown-preview-body h2", has_text="배포 이야기").wait_for()
    assert preview.locator("blockquote").inner_text() == "“작게 자주”"
    assert preview.locator("strong").inner_text() == "굵게"
    assert preview.locator("script").count() == 0
    # Beside the body at this width, not below it.
    body_box = page.locator("#id_body").bounding_box()
    pane_box = page.locator(".markdown-preview").bounding_box()
    assert pane_box["x"] >= body_box["x"] + body_box["width"] - 1
    assert abs(pane_box["y"] - body_box["y"]) < 5

    # An error from the endpoint is shown where the editor looks.
    settings.ARTICLE_BODY_MAX_CHARS = 20
    page.fill("#id_body", "가" * 21)
    status = page.locator(".markdown-preview-status.errornote")
    status.wait_for()
    assert "20자 이하로 줄여 주세요" in status.inner_text()
    # The browser reports the refused request itself; nothing else went wrong (no CSP report).
    assert editor_visitor.errors
    assert all("413" in error for error in editor_visitor.errors), editor_visitor.errors


def test_the_story_list_fits_at_1280_and_kinds_stay_whole_on_a_phone(editor_visitor):
    company = CompanyFactory(name="한땀클래스")
    for kind in Kind.values:
        ArticleFactory(
            kind=kind, company=company, title="병특으로 시작한 첫 회사, 3년 뒤에 남은 것"
        )
    page = editor_visitor.page
    editor_visitor.goto("/admin/articles/article/")
    results = page.locator("#changelist .results")
    assert results.evaluate("element => element.scrollWidth <= element.clientWidth")
    last_header = page.locator("#result_list thead th").last.bounding_box()
    assert (
        last_header["x"] + last_header["width"]
        <= results.bounding_box()["x"] + results.bounding_box()["width"] + 1
    )

    page.set_viewport_size({"width": 390, "height": 844})
    line_height = page.locator("#result_list td.field-kind").first.evaluate(
        "cell => parseFloat(getComputedStyle(cell).lineHeight) || 20"
    )
    for cell in page.locator("#result_list td.field-kind").all():
        assert cell.inner_text() in {"인터뷰", "피드", "뉴스"}
        text_height = cell.evaluate(
            "cell => { const r = document.createRange(); r.selectNodeContents(cell);"
            " return r.getBoundingClientRect().height; }"
        )
        assert text_height < 1.5 * line_height, cell.inner_text()
    assert editor_visitor.errors == []
