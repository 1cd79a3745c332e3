"""A reader's walk through the site in headless Chromium: home → tab → story → tag → company →
search, with what they see checked on the way, and screenshots of home and a story (in a
temporary folder; bin/screenshots saves them to docs/screenshots for the README)."""

import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from articles.models import Company
from tests import demo_support

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself
# stay synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
VIEWS = re.compile(r"조회수\s*(\d+)")


@pytest.fixture
def site(live_server, seed_file):
    def make():
        call_command("seed_demo", verbosity=0)
        with open(os.devnull, "w") as quiet:
            call_command("import_theteams", str(seed_file), verbosity=0, stdout=quiet)

    demo_support.content("demo and the seed page", make)
    return live_server.url


class Reader:
    """One browser context (one reader) that records every console error and page error."""

    def __init__(self, browser, viewport=DESKTOP):
        self.context = browser.new_context(viewport=viewport, locale="ko-KR")
        self.page = self.context.new_page()
        self.errors = []
        self.page.on(
            "console",
            lambda message: message.type == "error" and self.errors.append(message.text),
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def views(self) -> int:
        return int(VIEWS.search(self.page.locator(".byline .views").inner_text())[1])

    def close(self):
        self.context.close()


@pytest.mark.seed
def test_a_reader_walks_from_home_to_search(browser, site):
    reader = Reader(browser)
    page = reader.page

    page.goto(site + "/")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.get_by_role("navigation", name="스토리 종류").is_visible()
    assert page.get_by_role("heading", name="개발에 관심있다면 꼭 읽어야하는 글").is_visible()

    page.get_by_role("link", name="인터뷰", exact=True).click()
    page.wait_for_url("**/interviews/")
    assert page.get_by_role("heading", level=1).inner_text() == "인터뷰"
    page.get_by_role(
        "link", name="오픈서베이가 구성원과 함께하는 방식, 병특 Z세대에게 묻다"
    ).click()

    assert page.get_by_role("heading", level=1).inner_text().startswith("오픈서베이가")
    first_count = reader.views()
    assert page.locator(".story-body blockquote").count() >= 3

    # A second reader (a fresh browser) adds exactly one view; a reload does not.
    other = Reader(browser)
    other.page.goto(page.url)
    assert other.views() == first_count + 1
    other.page.reload()
    assert other.views() == first_count + 1
    other.close()

    page.goto(site + "/feed/")
    page.get_by_role("link", name="SQLAlchemy의 연결 풀링 이해하기").click()
    assert page.locator(".story-body .footnotes li").count() == 2
    hiring = page.locator(".company-card")
    assert "스포카" in hiring.inner_text()
    page.get_by_role("link", name="#개발팀").click()
    page.wait_for_url("**/tags/**")
    assert page.get_by_role("heading", level=1).inner_text() == "#개발팀"
    assert page.get_by_role("link", name="SQLAlchemy의 연결 풀링 이해하기").is_visible()

    page.goto(site + "/")
    page.get_by_role("link", name="코드 리뷰, 왜 하루를 넘기지 않을까요?").first.click()
    company_link = page.locator(".company-card h2 a")
    company_name = company_link.inner_text()
    assert page.locator(".company-card a.button").get_attribute("href").startswith("https://")
    company_link.click()
    assert page.get_by_role("heading", level=1).inner_text() == company_name

    page.get_by_role("searchbox").fill("연결 풀")
    page.get_by_role("searchbox").press("Enter")
    page.wait_for_url("**/search/**")
    first_result = page.locator("main article").first
    assert "SQLAlchemy의 연결 풀링 이해하기" in first_result.inner_text()
    assert first_result.locator("mark").count() >= 1

    assert reader.errors == []
    reader.close()


@pytest.fixture
def demo_site(live_server):
    demo_support.demo()
    return live_server.url


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """Where screenshots go: a temporary folder, so a test run never changes the repository;
    bin/screenshots points SCREENSHOTS_DIR at docs/screenshots to refresh the README's."""
    chosen = os.environ.get("SCREENSHOTS_DIR")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# The screenshots show the demo content only: the seed page's text stays out of the repository.
@pytest.mark.parametrize(("name", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_screenshots_of_home_and_a_story(browser, demo_site, screenshots, name, viewport):
    reader = Reader(browser, viewport)

    reader.page.goto(demo_site + "/")
    reader.page.screenshot(path=screenshots / f"home-{name}.png")
    reader.page.get_by_role("link", name=re.compile("^PostgreSQL로 이사하기 3편")).first.click()
    reader.page.locator(".story-body").wait_for()
    reader.page.screenshot(path=screenshots / f"story-{name}.png")
    overflows = [overflow_of(reader.page)]
    company = Company.objects.annotate(n=Count("articles")).order_by("-n", "name").first()
    reader.page.goto(demo_site + company.get_absolute_url())
    reader.page.screenshot(path=screenshots / f"company-{name}.png")
    overflows.append(overflow_of(reader.page))
    reader.page.emulate_media(color_scheme="dark")
    reader.page.goto(demo_site + "/")
    reader.page.screenshot(path=screenshots / f"home-dark-{name}.png")
    overflows.append(overflow_of(reader.page))

    # Nothing may overflow the phone's width.
    assert overflows == [0, 0, 0]
    assert reader.errors == []
    reader.close()


def overflow_of(page) -> int:
    return max(
        0,
        page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        ),
    )


def test_keyboard_users_can_skip_to_the_content(browser, live_server):
    reader = Reader(browser)
    reader.page.goto(live_server.url + "/")
    reader.page.keyboard.press("Tab")
    skip = reader.page.locator(".skip-link")
    assert skip.evaluate("element => element === document.activeElement")
    assert skip.bounding_box()["x"] >= 0  # shown on focus
    reader.close()
