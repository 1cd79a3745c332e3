"""The read replica on PostgreSQL: the content version carries the primary's WAL position, and a
page is rendered from a replica only once it has replayed it (the replica's alias is a second
connection to the test database; culture's lag switch makes it report an older position)."""

import re
import time

import pytest
from django.core.cache import cache
from django.db import connections
from django.http import HttpResponse
from django.test import Client, RequestFactory

from articles import replica, versions
from articles.replica import REPLICA_ALIAS
from articles.services import save_story
from ops.middleware import ReaderTimeoutsMiddleware
from tests.factories import ArticleFactory
from tests.replica_support import CHROME, DATABASES, Both, replica_alias, replica_down  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.usefixtures("replica_alias"),
    pytest.mark.django_db(transaction=True, databases=DATABASES),
]
LSN = re.compile(r"[0-9A-F]+/[0-9A-F]+")


def test_a_published_version_carries_the_primarys_wal_position_after_the_commit():
    story = ArticleFactory(title="위치를 싣는 글")
    before = replica.position()
    story.title = "고친 제목"
    save_story(story, by=None)
    record = cache.get(versions.KEY)
    version = versions.Version.of(record)
    assert record[3] == version.lsn
    assert LSN.fullmatch(version.lsn)
    # Taken after the write's commit: at or past the position before it, and not past now.
    assert replica.lsn_value(before) <= replica.lsn_value(version.lsn)
    assert replica.lsn_value(version.lsn) <= replica.lsn_value(replica.position())


def test_a_replica_that_has_replayed_the_version_serves_the_page():
    story = ArticleFactory(title="복제본이 따라잡은 글")
    with Both() as queries:
        page = Client().get(story.get_absolute_url(), **CHROME)
    assert "복제본이 따라잡은 글" in page.content.decode()
    assert queries.read_stories("replica")
    assert not queries.read_stories("primary")
    assert Client().get("/readyz").json()["replica"] == "up"


def test_a_replica_behind_the_version_renders_from_the_primary_and_readyz_says_lagging():
    story = ArticleFactory(title="아직 복제되지 않은 글")
    save_story(story, by=None)  # a version with a position
    with replica.reporting_position("0/0"), Both() as queries:
        page = Client().get(story.get_absolute_url(), **CHROME)
        ready = Client().get("/readyz")
    assert page.status_code == 200
    assert "아직 복제되지 않은 글" in page.content.decode()
    assert page["X-Cache"] == "miss"
    assert queries.read_stories("primary")
    assert not queries.read_stories("replica")
    assert ready.status_code == 200
    assert ready.json()["replica"] == "lagging"
    # Rendered from rows at least as new as the version: kept, and served again.
    with Both() as again:
        second = Client().get(story.get_absolute_url(), **CHROME)
    assert second["X-Cache"] == "hit"
    assert not again.read_stories("replica")
    assert not again.read_stories("primary")


def test_the_lag_check_runs_only_when_a_page_is_rendered():
    story = ArticleFactory(title="한 번 그린 글")
    Client().get(story.get_absolute_url(), **CHROME)
    with Both() as queries:
        Client().get(story.get_absolute_url(), **CHROME)
    assert not any("pg_last_wal_replay_lsn" in sql for sql in queries.sql("replica"))


def test_readers_timeouts_hold_on_the_replica_too():
    def view(request):
        with replica.reading_from_replica(), connections[REPLICA_ALIAS].cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
            )
            return HttpResponse(" ".join(cursor.fetchone()))

    response = ReaderTimeoutsMiddleware(view)(RequestFactory().get("/"))
    assert response.content.decode() == "5s 1s"


@pytest.mark.usefixtures("replica_down")
def test_a_replica_on_a_closed_port_falls_back_at_once_and_readyz_says_down():
    story = ArticleFactory(title="복제본이 꺼진 동안의 글")
    client = Client()
    started = time.monotonic()
    page = client.get(story.get_absolute_url(), **CHROME)
    first = time.monotonic() - started
    assert page.status_code == 200
    assert "복제본이 꺼진 동안의 글" in page.content.decode()
    assert first < 2.0
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "cache": "up", "replica": "down"}
