"""Browser windows for the browser tests, lent from a pool instead of opened for each test.

Opening a browser context and its first page costs Chromium about a second of CPU (a renderer
process, Playwright's own scripts in it, the site's styles, scripts and fonts read cold): with
a context or two per test, that was a third of the suite's CPU. The `browser` a test gets
opens contexts as Playwright's Browser does, but a context the test closes (or leaves open)
goes back to a pool and comes out again, emptied, for the next test that asks with the same
locale and init scripts: its cookies and permissions cleared, the routes and listeners the
test added removed, a blank document, the viewport and colour scheme the new test asks for.
What carries over is what one reader's browser keeps anyway: its HTTP cache (the site's pages
say max-age=0, so they are asked for again) and its compiled scripts.
"""

from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

from django.db import connections

# Playwright's own defaults for a context that names none.
DEFAULT_VIEWPORT = {"width": 1280, "height": 720}
OPTIONS = {"viewport", "locale", "color_scheme"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_session(executable: Path):
    """Headless Chromium at `executable`, driven by Playwright's sync API, for the duration.

    Playwright leaves its event loop marked as running in this thread until it stops, and
    meanwhile Django keeps this thread's connections in a store of their own (asgiref's Local:
    a context variable where a loop runs). A connection the thread had open before, as
    Django's test database set-up leaves one, would stay out of the pool for good: every
    connection is given back first."""
    from playwright.sync_api import sync_playwright

    connections.close_all()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class LentPage:
    """A pooled page as the test sees it: Playwright's Page, remembering the listeners the
    test adds so that they can be taken off when the page goes back."""

    def __init__(self, page):
        self._page = page
        self._listeners = []

    def on(self, event, handler):
        self._listeners.append((event, handler))
        self._page.on(event, handler)

    def __getattr__(self, name):
        return getattr(self._page, name)

    def empty(self) -> None:
        for event, handler in self._listeners:
            self._page.remove_listener(event, handler)
        self._listeners.clear()
        self._page.unroute_all(behavior="ignoreErrors")
        self._page.goto("about:blank")


class LentContext:
    """One person's window: init scripts first, then its one page (new_page), then close()."""

    def __init__(self, pool, options: dict):
        self._pool = pool
        self._options = options
        self._scripts = []
        self._real = None
        self.page = None

    def add_init_script(self, script: str) -> None:
        if self._real is not None:
            raise RuntimeError("A lent context takes its init scripts before its page.")
        self._scripts.append(script)

    def new_page(self) -> LentPage:
        if self.page is not None:
            raise RuntimeError("A lent context has one page.")
        self._key = (self._options.get("locale"), tuple(self._scripts))
        self._real, page = self._pool.take(self._key, self._options)
        self.page = LentPage(page)
        return self.page

    def close(self) -> None:
        if self._real is None:
            return
        real, page, self._real = self._real, self.page, None
        self._pool.give_back(self._key, real, page)


class PagePool:
    """The session's open contexts with their page, free ones by (locale, init scripts)."""

    def __init__(self, browser):
        self.browser = browser
        self.free = defaultdict(list)

    def take(self, key, options: dict):
        if self.free[key]:
            context, page = self.free[key].pop()
        else:
            locale, scripts = key
            context = self.browser.new_context(**({"locale": locale} if locale else {}))
            for script in scripts:
                context.add_init_script(script)
            page = context.new_page()
        page.set_viewport_size(options.get("viewport") or DEFAULT_VIEWPORT)
        page.emulate_media(color_scheme=options.get("color_scheme", "light"))
        return context, page

    def give_back(self, key, context, page: LentPage) -> None:
        try:
            page.empty()
            context.clear_cookies()
            context.clear_permissions()
        except Exception:  # a page left in a state it cannot leave: not lent again
            context.close()
            return
        self.free[key].append((context, page._page))


class LendingBrowser:
    """What a browser test gets as `browser`: new_context() as Playwright's, from the pool."""

    def __init__(self, pool: PagePool):
        self.pool = pool
        self.lent = []

    def new_context(self, **options) -> LentContext:
        unknown = set(options) - OPTIONS
        if unknown:
            raise TypeError(f"A lent context takes only {sorted(OPTIONS)}, not {sorted(unknown)}")
        context = LentContext(self.pool, options)
        self.lent.append(context)
        return context

    def give_back_all(self) -> None:
        for context in self.lent:
            context.close()
        self.lent.clear()
