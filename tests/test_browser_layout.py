"""What only a browser shows about the layout, at a desktop's and a phone's width: a slim
sticky header, nothing wider than the screen, anchors that land below the header, and text
that stays readable in the reader's dark mode."""

import os
import re

import pytest

from articles.models import Article
from tests import demo_support

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself
# stay synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
VIEWPORTS = [pytest.param(PHONE, id="390px"), pytest.param(DESKTOP, id="1280px")]
FOOTNOTED = "PostgreSQL로 이사하기 3편"

# The text colour of an element and the colour behind it (the first ancestor that paints one).
COLOURS = """
element => {
  let behind = element;
  let background = "rgba(0, 0, 0, 0)";
  while (behind) {
    background = getComputedStyle(behind).backgroundColor;
    if (!/rgba\\(.*, 0\\)$/.test(background) && background !== "transparent") break;
    behind = behind.parentElement;
  }
  return [getComputedStyle(element).color, background];
}
"""


@pytest.fixture
def demo_site(live_server):
    demo_support.demo()
    return live_server.url


def story_path(title_start):
    return Article.objects.get(title__startswith=title_start).get_absolute_url()


def open_page(browser, url, viewport, color_scheme="light"):
    """A new context (one reader's window) at `url`, and the list its console and page errors
    go to. A test that walks several pages goes on in the same page (`page.goto`, after
    emptying the list): a context of its own per page costs a renderer process each."""
    context = browser.new_context(viewport=viewport, locale="ko-KR", color_scheme=color_scheme)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return context, page, errors


def walk(browser, urls, viewport, color_scheme="light"):
    """Each of `urls` in turn in one reader's window: yields (url, page, errors), with the
    errors of that page only."""
    context, page, errors = open_page(browser, urls[0], viewport, color_scheme)
    try:
        for number, url in enumerate(urls):
            if number:
                errors.clear()
                page.goto(url)
            yield url, page, errors
    finally:
        context.close()


def luminance(css_colour):
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3])

    def linear(channel):
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(foreground, background):
    lighter, darker = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_header_is_slim_and_no_page_scrolls_sideways(browser, demo_site, viewport):
    paths = ["/", story_path(FOOTNOTED), "/news/?job=dev", "/people/", "/case-study/pooling/"]
    for url, page, errors in walk(browser, [demo_site + path for path in paths], viewport):
        path = url.removeprefix(demo_site)
        header = page.locator(".site-header").bounding_box()
        assert header["height"] < 80, (path, header)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path, overflow)
        # The brand is whole, the tabs have room, and every tab can be reached: on a phone
        # they scroll inside the header.
        brand = page.locator(".brand")
        assert brand.evaluate("element => element.scrollWidth <= element.clientWidth"), path
        tabs = page.get_by_role("navigation", name="스토리 종류")
        assert tabs.bounding_box()["width"] >= 150, (path, tabs.bounding_box())
        last_tab = tabs.get_by_role("link").last
        last_tab.scroll_into_view_if_needed()
        assert last_tab.is_visible()
        assert errors == [], path


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_footnote_link_lands_its_target_below_the_sticky_header(browser, demo_site, viewport):
    context, page, _ = open_page(browser, demo_site + story_path(FOOTNOTED), viewport)
    page.locator(".story-body a.footnote-ref, .story-body sup a").first.click()
    page.wait_for_function("location.hash.length > 1")
    target_top = page.evaluate(
        "document.getElementById(decodeURIComponent(location.hash.slice(1)))"
        ".getBoundingClientRect().top"
    )
    header_bottom = page.locator(".site-header").bounding_box()["height"]
    assert target_top >= header_bottom
    context.close()


READABLE = [
    ("/", [".card-title a", ".card-excerpt", ".card-meta .kind", ".site-footer a", "h1, h2"]),
    (
        "story",
        [".story-body p", ".story-body a", ".story-body pre code", ".byline", ".company-card"],
    ),
    ("/news/?job=dev", [".empty p", ".empty a", ".filters label"]),
    ("/feed/?job=nonsense", [".notice p", ".notice a"]),
]


@pytest.mark.parametrize("scheme", ["dark", "light"])
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_text_is_readable_in_dark_and_light_mode(browser, demo_site, viewport, scheme):
    urls = [
        demo_site + (story_path(FOOTNOTED) if path == "story" else path) for path, _ in READABLE
    ]
    pages = walk(browser, urls, viewport, color_scheme=scheme)
    for (path, selectors), (_, page, errors) in zip(READABLE, pages, strict=True):
        page_colour = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        dark_page = luminance(page_colour) < 0.05
        assert dark_page == (scheme == "dark"), (path, page_colour)
        for selector in selectors:
            element = page.locator(selector).first
            foreground, background = element.evaluate(COLOURS)
            ratio = contrast(foreground, background)
            assert ratio >= 4.5, (path, selector, foreground, background, round(ratio, 2))
        # The refused filter answers 400 on purpose; the browser reports that as an error.
        assert [e for e in errors if "(Bad Request)" not in e] == [], path


# Two different Hangul syllables, and a private-use character no font draws, on a canvas in
# the page's own font: with a Korean font the three differ; without one, all three are the
# same empty box ("tofu"). The DOM widths tell the same story for a run of each.
TOFU = """
() => {
  const family = getComputedStyle(document.body).fontFamily;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 80;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const draw = (text) => {
    context.clearRect(0, 0, 80, 80);
    context.font = `48px ${family}`;
    context.textBaseline = "top";
    context.fillText(text, 8, 8);
    return context.getImageData(0, 0, 80, 80).data.join(",");
  };
  const width = (text) => {
    const probe = document.createElement("span");
    probe.className = "tofu-probe";
    probe.textContent = text;
    document.body.append(probe);
    const measured = probe.getBoundingClientRect().width;
    probe.remove();
    return measured;
  };
  const box = draw("\\uE000");
  return {
    distinct: draw("가") !== draw("힣"),
    notBoxes: draw("가") !== box && draw("힣") !== box,
    hangulWidth: width("가나다라마바사"),
    boxWidth: width("\\uE000\\uE001\\uE002\\uE003\\uE004\\uE005\\uE006"),
  };
}
"""


def test_hangul_is_drawn_with_a_korean_font_not_as_empty_boxes(browser, demo_site):
    context, page, _ = open_page(browser, demo_site + "/", DESKTOP)
    result = page.evaluate(TOFU)
    missing_font = "Hangul renders as empty boxes: apt-get install fonts-noto-cjk"
    assert result["distinct"], (missing_font, result)
    assert result["notBoxes"], (missing_font, result)
    assert abs(result["hangulWidth"] - result["boxWidth"]) > 1, result
    context.close()
