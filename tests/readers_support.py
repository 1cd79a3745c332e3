"""Many readers at once, as the tests of 조회수 and of locks send them."""

import threading
import time

from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


def beacon(client, story_id: int, agent: str = CHROME, **headers):
    """What the story page's script sends (static/js/views.js): a same-origin POST."""
    return client.post(
        reverse("articles:count-view", args=[story_id]),
        HTTP_USER_AGENT=agent,
        HTTP_SEC_FETCH_SITE="same-origin",
        **headers,
    )


def read_story(client, path: str, agent: str = CHROME):
    """A browser showing a story: the page, then the beacon its script sends (a page rendered
    for staff has none). Gives the page's answer; the beacon's must be a 204 (counted or not:
    the server decides)."""
    page = client.get(path, HTTP_USER_AGENT=agent)
    if page.status_code == 200 and b"data-count-url=" in page.content:
        counted = beacon(client, int(path.split("/")[2]), agent)
        assert counted.status_code == 204, (counted.status_code, counted.content)
    return page


def read_at_once(path: str, readers: int, *, wait: float = 60) -> list[tuple]:
    """`readers` new browsers (each a counted view) show the story at `path` at the same
    moment (its page, then its beacon); each gives (status, headers, finished at), or (the
    error, {}, finished at)."""
    start = threading.Barrier(readers)
    answers = []

    def read():
        try:
            start.wait()
            response = read_story(Client(), path)
            answers.append((response.status_code, dict(response.headers), time.monotonic()))
        except Exception as error:  # a failed reader must fail the test, not vanish
            answers.append((repr(error), {}, time.monotonic()))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=wait)
    return answers
