"""The editorial workflow in headless Chromium: a writer drafts and sends for review, an editor
shares a preview link, restores a version, schedules and publishes; a stranger opens the preview
without logging in. Any console error or Content-Security-Policy violation fails the test."""

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article, PreviewLink, Revision, Status
from tests.factories import PASSWORD, ArticleFactory, PersonFactory, StaffFactory, TagFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself
# stay synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Reported twice on purpose: as an event (with the directive) and as a console error.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
});
"""


class Visitor:
    """One browser context (one person), recording console errors, page errors and CSP
    violations."""

    def __init__(self, browser, base_url, **options):
        self.base_url = base_url
        options = {"locale": "ko-KR", "viewport": {"width": 1280, "height": 900}} | options
        self.context = browser.new_context(**options)
        self.context.add_init_script(REPORT_CSP_VIOLATIONS)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on(
            "console",
            lambda message: (
                message.type == "error" and self.errors.append(f"{self.page.url}: {message.text}")
            ),
        )
        self.page.on("pageerror", lambda error: self.errors.append(f"{self.page.url}: {error}"))
        self.page.on(
            "response",
            lambda response: (
                response.status >= 400 and self.errors.append(f"{response.status} {response.url}")
            ),
        )

    def goto(self, path):
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        return response

    def log_in(self, username):
        self.goto("/admin/login/?next=/admin/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("input[type=submit]")
        self.page.wait_for_url("**/admin/")

    def close(self):
        self.context.close()


@pytest.fixture
def staff():
    return {
        "writer": StaffFactory(username="writer-kim", first_name="김작가", role="writer"),
        "editor": StaffFactory(username="editor-park", first_name="박편집", role="editor"),
    }


def test_the_site_the_admin_and_the_api_docs_raise_no_csp_violation(browser, live_server, staff):
    person = PersonFactory(name="정인터뷰")
    story = ArticleFactory(
        title="정책을 지키는 이야기", people=[person], tags=[TagFactory(name="보안")]
    )
    visitor = Visitor(browser, live_server.url)

    for path in ("/", story.get_absolute_url(), "/admin/login/"):
        assert visitor.goto(path).status == 200, path
    visitor.goto("/api/v1/docs")
    visitor.page.locator(".swagger-ui .info").wait_for()
    assert "컬처 스토리 API" in visitor.page.locator(".swagger-ui .info").inner_text()
    visitor.page.locator(".opblock-summary").first.click()  # expand an operation

    visitor.log_in("editor-park")
    change = f"/admin/articles/article/{story.pk}/change/"
    for path in (
        "/admin/",
        "/admin/articles/article/",
        "/admin/articles/article/?state=published",
        "/admin/articles/article/add/",
        change,
        f"/admin/articles/article/{story.pk}/revisions/",
        f"/admin/articles/article/{story.pk}/preview-links/",
        "/admin/articles/company/add/",
    ):
        assert visitor.goto(path).status == 200, path
    # The widgets that build markup with script: autocomplete, calendar, prepopulated slug.
    visitor.goto(change)
    visitor.page.locator(".field-hashtags .select2-selection").click()
    visitor.page.locator(".field-hashtags .select2-search__field").fill("보")
    visitor.page.locator(".select2-results__option", has_text="#보안").wait_for()
    visitor.page.keyboard.press("Escape")
    visitor.page.locator("#id_authors_input").fill("writer")  # the staff picker's filter
    visitor.page.locator("#calendarlink0").click()
    visitor.page.locator(".calendarbox").first.wait_for()
    visitor.goto(story.get_absolute_url())  # a story page for staff: the preview markup
    visitor.page.wait_for_load_state("networkidle")  # whatever the last page still fetches
    assert visitor.errors == []

    # The watch itself works: markup with an inline style is refused and reported.
    visitor.page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')"
    )
    visitor.page.wait_for_timeout(200)
    assert any("CSP violation: style-src" in error for error in visitor.errors), visitor.errors
    visitor.close()


def test_from_draft_to_review_preview_restore_schedule_and_publish(browser, live_server, staff):
    # --- A writer writes a draft and sends it for review --------------------------------------
    writer = Visitor(browser, live_server.url)
    writer.log_in("writer-kim")
    page = writer.page
    writer.goto("/admin/articles/article/add/")
    assert page.locator("#id_status option").all_inner_texts() == ["초안", "검토 중"]
    assert page.locator("#id_published_at_0").count() == 0  # not a writer's to set
    page.fill("#id_title", "우리 팀의 배포 이야기")
    page.fill("#id_body", "## 시작\n\n첫 번째 판의 문단입니다.")
    page.locator("input[name=_continue]").first.click()
    page.wait_for_url(re.compile(r".*/change/$"))
    story = Article.objects.get(title="우리 팀의 배포 이야기")
    assert (story.status, story.created_by.username) == (Status.DRAFT, "writer-kim")

    page.fill("#id_body", "## 시작\n\n두 번째 판에서 고친 문단입니다.")
    page.locator("input[name=_continue]").first.click()
    page.locator(".messagelist .success").wait_for()

    writer.goto("/admin/articles/article/")
    actions = page.locator("select[name=action] option").all_inner_texts()
    assert "지금 발행하기" not in " ".join(actions)
    page.check(f"input[name=_selected_action][value='{story.pk}']")
    page.select_option("select[name=action]", "submit_for_review")
    page.locator("button[name=index]").click()
    page.locator(".messagelist .success").wait_for()
    assert "검토 중" in page.locator(f"tr:has(input[value='{story.pk}'])").inner_text()
    assert writer.errors == []
    writer.close()

    # --- An editor shares a preview link -------------------------------------------------------
    editor = Visitor(browser, live_server.url)
    editor.log_in("editor-park")
    page = editor.page
    editor.goto(f"/admin/articles/article/{story.pk}/change/")
    page.get_by_role("link", name="미리보기 링크").click()
    page.locator("input[type=submit][value='미리보기 링크 만들기']").click()
    preview_url = page.locator("#new-preview-url").input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/preview/{story.pk}/[\w-]+/", preview_url)
    assert PreviewLink.objects.get().created_by.username == "editor-park"

    # --- A stranger opens it without logging in ----------------------------------------------
    stranger = Visitor(browser, live_server.url)
    response = stranger.page.goto(preview_url)
    assert response.status == 200
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    assert "no-store" in response.headers["cache-control"]
    banner = stranger.page.locator(".preview-banner")
    assert "미리보기" in banner.inner_text()
    assert "두 번째 판에서 고친 문단입니다." in stranger.page.locator(".story-body").inner_text()
    assert stranger.errors == []
    stranger.close()
    assert Article.objects.get(pk=story.pk).view_count == 0

    # --- The editor compares two versions and restores the first -------------------------------
    editor.goto(f"/admin/articles/article/{story.pk}/change/")
    page.get_by_role("link", name="버전 기록").click()
    rows = page.locator("table.revisions tbody tr")
    assert rows.count() == Revision.objects.filter(article=story).count() == 3
    assert "김작가" in rows.first.inner_text()
    page.locator("input[name=a][value='1']").check()
    page.locator("input[name=b][value='2']").check()
    page.locator("input[type=submit][value='고른 두 버전 비교']").click()
    assert page.locator(".body-diff del").inner_text() == "첫 번째 판의 문단입니다."
    assert page.locator(".body-diff ins").inner_text() == "두 번째 판에서 고친 문단입니다."
    page.get_by_role("button", name="1번으로 복원").click()
    page.locator(".messagelist .success").wait_for()
    assert "1번 버전으로 복원했습니다" in page.locator(".messagelist").inner_text()
    assert page.locator("#id_body").input_value() == "## 시작\n\n첫 번째 판의 문단입니다."
    assert Revision.objects.filter(article=story).latest("number").note == "복원: 1번에서"

    # --- Schedules it for tomorrow, then publishes it now ---------------------------------------
    tomorrow = timezone.localtime() + timedelta(days=1)
    page.select_option("#id_status", "published")
    page.fill("#id_published_at_0", tomorrow.strftime("%Y-%m-%d"))
    page.fill("#id_published_at_1", "09:30:00")
    page.locator("input[name=_save]").first.click()
    page.locator(".messagelist .success").wait_for()
    row = page.locator(f"tr:has(input[value='{story.pk}'])")
    assert f"예약 ({tomorrow:%Y-%m-%d} 09:30)" in row.inner_text()
    assert not Article.objects.published().filter(pk=story.pk).exists()

    page.check(f"input[name=_selected_action][value='{story.pk}']")
    page.select_option("select[name=action]", "publish_now")
    page.locator("button[name=index]").click()
    page.locator(".messagelist .success").wait_for()
    assert "발행" in row.inner_text()
    assert "예약" not in row.inner_text()
    assert Article.objects.published().filter(pk=story.pk).exists()
    assert editor.errors == []
    editor.close()

    # --- Readers see it; the preview link now leads to the public page -------------------------
    reader = Visitor(browser, live_server.url)
    reader.page.goto(preview_url)
    assert reader.page.url.endswith(Article.objects.get(pk=story.pk).get_absolute_url())
    assert reader.page.locator(".preview-banner").count() == 0
    assert reader.errors == []
    reader.close()
