"""The browser tests give every pool connection back: their live server after each request
(tests/conftest.py ConnectionsBack), whatever the test client does meanwhile in another thread,
and the test process when Playwright starts (tests/browser_support.py chromium_session())."""

import http.client
import time
from urllib.parse import urlsplit

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection

from tests.conftest import CHROMIUM
from tests.factories import ArticleFactory
from tests.postgres_support import needs_pool, run_django

pytestmark = pytest.mark.postgres


@needs_pool
@pytest.mark.django_db(transaction=True)
def test_a_kept_alive_request_gives_its_connection_back_while_the_signal_is_off(live_server):
    story = ArticleFactory()
    connection.close()  # this thread's connection goes back to the pool
    pool = connection.pool
    address = urlsplit(live_server.url)
    browser = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    # What the test client does, for every thread, while it closes a response of its own.
    request_finished.disconnect(close_old_connections)
    try:
        browser.request("GET", story.get_absolute_url())
        response = browser.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Connection", "").lower() != "close"  # the socket stays
        deadline = time.monotonic() + 5
        while (
            pool.get_stats()["pool_available"] < pool.get_stats()["pool_size"]
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        stats = pool.get_stats()
    finally:
        request_finished.connect(close_old_connections)
        browser.close()
    assert stats["pool_available"] == stats["pool_size"], stats


CHROMIUM_AFTER_A_CONNECTION = f"""
from pathlib import Path
from django.db import connection
from tests.browser_support import chromium_session
connection.ensure_connection()  # left open, as Django's test database set-up leaves one
with chromium_session(Path({str(CHROMIUM)!r})):
    connection.close()
    stats = connection.pool.get_stats()
print(json.dumps({{"size": stats["pool_size"], "available": stats["pool_available"]}}))
"""


@needs_pool
@pytest.mark.browser
def test_a_connection_open_when_playwright_starts_goes_back_to_the_pool():
    """Once Playwright's loop runs in the thread, Django no longer sees the connection the
    thread opened before: given back only if it was given back first."""
    stats = run_django(
        CHROMIUM_AFTER_A_CONNECTION,
        DB_POOL="true",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="2",
        DJANGO_ALLOW_ASYNC_UNSAFE="true",  # as the browser tests run: Playwright's loop runs
    )
    assert stats["available"] == stats["size"], stats
