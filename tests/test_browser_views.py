"""조회수 in headless Chromium, with the story page served as a cache in front of the site would
serve it (the same bytes, never reaching Django): each new reader still counts once, through
the page's beacon, and a reload counts nothing; no console error or CSP violation."""

import os
import time

import pytest

from articles.models import ViewTotal
from reader import beacon
from tests.factories import ArticleFactory
from tests.test_browser_editorial import Visitor

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def views(story) -> int:
    return ViewTotal.objects.filter(article=story).values_list("count", flat=True).first() or 0


def settles_at(story, expected: int, seconds: float = 5) -> int:
    deadline = time.monotonic() + seconds
    while views(story) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return views(story)


class Edge:
    """Answers the story page from one stored copy, as a cache in front of the site would:
    the request never reaches the site. Everything else (scripts, styles, the beacon) goes
    through."""

    def __init__(self, page, path, stored):
        self.hits = 0
        self.stored = stored
        page.route(f"**{path}", self.answer)

    def answer(self, route):
        self.hits += 1
        route.fulfill(status=200, headers=self.stored["headers"], body=self.stored["body"])


def show(visitor, path) -> int:
    """Open the story; give the status of the beacon it sent."""
    with visitor.page.expect_response("**/views/**") as sent:
        visitor.goto(path)
    return sent.value.status


def test_a_cached_story_page_counts_each_new_reader_once_and_no_reload(
    browser, live_server, monkeypatch
):
    story = ArticleFactory(title="캐시된 페이지도 셉니다")
    path = story.get_absolute_url()
    gated = []  # the beacons the site's WSGI gate answered (as in production: culture/wsgi.py)
    respond = beacon.BeaconGate._respond
    monkeypatch.setattr(
        beacon.BeaconGate,
        "_respond",
        lambda gate, request, pk: gated.append(pk) or respond(gate, request, pk),
    )

    first = Visitor(browser, live_server.url)
    stored = first.page.request.get(live_server.url + path, headers={"User-Agent": "Mozilla/5.0"})
    assert stored.ok
    assert "public" in stored.headers["cache-control"]
    assert "set-cookie" not in stored.headers
    kept = {"headers": dict(stored.headers), "body": stored.body()}

    assert show(first, path) == 204
    assert settles_at(story, 1) == 1
    assert show(first, path) == 204  # a reload: answered, not counted
    assert settles_at(story, 1, seconds=0.5) == 1

    for reader in range(2, 4):  # new readers, each given the stored copy
        visitor = Visitor(browser, live_server.url)
        edge = Edge(visitor.page, path, kept)
        assert show(visitor, path) == 204
        assert edge.hits == 1
        assert settles_at(story, reader) == reader
        visitor.page.reload()
        visitor.page.wait_for_load_state("load")
        assert settles_at(story, reader, seconds=0.5) == reader
        assert visitor.errors == [], visitor.errors
        visitor.close()

    assert first.errors == [], first.errors
    first.close()
    assert gated == [story.pk] * 6  # two by the first reader, two by each of the others
