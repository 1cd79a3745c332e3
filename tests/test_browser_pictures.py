"""Pictures in headless Chromium, on the demo content at desktop and phone widths: every picture
loads (a WebP rendition where the browser takes one), none moves the page as it arrives
(cumulative layout shift measured with a PerformanceObserver, the pictures held back until
the page is drawn, as on a slow network), nothing scrolls sideways, and no console error or
CSP violation."""

import os

import pytest

from articles.models import Article
from tests import demo_support
from tests.test_browser import DESKTOP, PHONE
from tests.test_browser_editorial import Visitor

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_LAYOUT_SHIFT = 0.05

# Walk down the page so that every lazy picture is asked for, then back to the top.
SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight) {
    scrollTo(0, y);
    await new Promise((done) => setTimeout(done, 40));
  }
  scrollTo(0, 0);
}"""
ALL_LOADED = "[...document.images].every((image) => image.complete)"
BROKEN = (
    "[...document.images].filter((i) => i.naturalWidth === 0).map((i) => i.currentSrc || i.src)"
)
# The page's layout shifts so far (buffered: those before the observer existed count too, and
# reach the observer in its first call), without those that follow a reader's input, as the
# CLS metric counts them. With no shift at all the observer is never called: a short wait.
LAYOUT_SHIFT = """() => new Promise((done) => {
  new PerformanceObserver((list) => {
    let total = 0;
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
    done(total);
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => done(0), 100);
})"""


# Resolves once the page has been drawn twice.
DRAWN = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture
def pictured_site(live_server):
    demo_support.demo()  # committed: the renditions are made
    return live_server.url


class HeldPictures:
    """Holds every request for an uploaded picture until release(): the page is then drawn
    without its pictures, and a picture that has no space kept for it moves what follows."""

    def __init__(self, page):
        self.held = []
        self.released = False
        page.route("**/media/**", self.hold)

    def hold(self, route):
        if self.released:
            route.continue_()
        else:
            self.held.append(route)

    def release(self):
        self.released = True
        for route in self.held:
            route.continue_()
        self.held = []


def look_at(visitor, path) -> dict:
    """Open `path`, draw it, let every picture arrive, and say what a reader got."""
    page = visitor.page
    pictures = HeldPictures(page)
    page.goto(visitor.base_url + path, wait_until="domcontentloaded")
    page.evaluate(DRAWN)
    pictures.release()
    page.wait_for_load_state("load")
    page.unroute("**/media/**")
    page.evaluate(SCROLL_THROUGH)
    page.wait_for_function(ALL_LOADED)
    return {
        "shift": page.evaluate(LAYOUT_SHIFT),
        "broken": page.evaluate(BROKEN),
        "pictures": page.locator("picture img").count(),
        "webp": page.evaluate(
            "[...document.querySelectorAll('picture img')]"
            ".filter((i) => i.currentSrc.endsWith('.webp')).length"
        ),
        "overflow": page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        ),
    }


def test_pictures_load_without_moving_the_page(browser, pictured_site):
    story = Article.objects.get(title__startswith="PostgreSQL로 이사하기 3편").get_absolute_url()
    for viewport in (DESKTOP, PHONE):
        visitor = Visitor(browser, pictured_site)
        visitor.page.set_viewport_size(viewport)
        for path in ("/", story, "/companies/gyeolsan-lab/", "/people/kwon-seojin/"):
            seen = look_at(visitor, path)
            assert seen["broken"] == [], (viewport, path)
            assert seen["pictures"] >= 1, (viewport, path)
            assert seen["webp"] == seen["pictures"], (viewport, path)
            assert seen["overflow"] <= 0, (viewport, path)
            assert seen["shift"] <= MAX_LAYOUT_SHIFT, (viewport, path, seen["shift"])
        home = visitor.page
        visitor.goto("/")
        featured = home.locator(".featured img")
        assert featured.get_attribute("fetchpriority") == "high"
        assert home.locator(".card .frame img").count() >= 8
        assert visitor.errors == [], visitor.errors
        visitor.context.close()
