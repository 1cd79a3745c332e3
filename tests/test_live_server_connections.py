"""The browser tests' live server gives every request's pool connection back (tests/conftest.py
ConnectionsBack), whatever the test client does meanwhile in another thread."""

import http.client
import time
from urllib.parse import urlsplit

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection

from tests.factories import ArticleFactory

pytestmark = pytest.mark.postgres


@pytest.mark.skipif(
    not connection.settings_dict["OPTIONS"].get("pool"), reason="needs DB_POOL=true (as CI sets)"
)
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
