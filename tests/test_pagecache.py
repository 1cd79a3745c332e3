"""Cached pages for readers: served fast, never stale, never shown to staff."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import clock, versions
from articles.services import save_story
from tests.factories import (
    ArticleFactory,
    CollectionFactory,
    CollectionItemFactory,
    TagFactory,
    UserFactory,
    set_views,
)
from tests.readers_support import beacon

pytestmark = pytest.mark.django_db

CHROME = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"}


def let_time_pass(monkeypatch, seconds: float) -> None:
    """Move this host's idea of the database's clock (articles/clock.py, which scheduling
    reads) forward, as if `seconds` had passed, without waiting for them (until the test
    ends)."""
    monkeypatch.setattr(clock._clock, "offset", clock.offset() + seconds)


def get(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **CHROME)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_a_second_reader_gets_the_cached_page_with_one_query(client):
    ArticleFactory(title="캐시될 글")
    first, first_queries = get(client, "/feed/")
    second, second_queries = get(Client(), "/feed/")
    assert second == first
    assert first_queries > second_queries == 1  # the shared content version


def test_saving_a_story_shows_at_once(client):
    story = ArticleFactory(title="처음 제목")
    get(client, "/feed/")
    story.title = "고친 제목"
    save_story(story, by=None)
    html, _ = get(client, "/feed/")
    assert "고친 제목" in html
    assert "처음 제목" not in html


def test_changing_tags_shows_at_once(client):
    story = ArticleFactory(title="태그 바꿀 글")
    get(client, story.get_absolute_url())
    story.tags.add(TagFactory(name="새태그"))
    html, _ = get(Client(), story.get_absolute_url())
    assert "#새태그" in html


def test_the_homes_choice_is_kept_for_its_version_and_chosen_again_after_a_change(
    client, monkeypatch
):
    story = ArticleFactory(title="모음의 첫 글")
    CollectionItemFactory(collection=CollectionFactory(title="첫 모음"), article=story)
    versions.current()  # drawn once per content change, not per page
    _, first_queries = get(client, "/?a=1")
    # Another address under the same version: which stories and collections the page shows
    # is not asked again (the kinds' newest, the collections, their stories), only what each
    # render asks (the version, the cards' counts, the stories not kept as cards).
    with CaptureQueriesContext(connection) as queries:
        again = Client().get("/?a=2", **CHROME).content.decode()
    asked = [query["sql"] for query in queries.captured_queries]
    assert first_queries == 7
    assert len(asked) == 3, asked
    assert not [sql for sql in asked if "UNION ALL" in sql or "articles_collection" in sql]
    assert "첫 모음" in again
    assert "모음의 첫 글" in again

    # A save moves the version: the next address chooses again.
    later = CollectionFactory(title="새 모음")
    CollectionItemFactory(collection=later, article=ArticleFactory(title="새 모음의 글"))
    heading = ">새 모음</a></h2>"  # the collection's own section, not its story's card
    html, _ = get(Client(), "/?a=3")
    assert heading in html
    assert "새 모음의 글" in html

    # So does a scheduled moment passing: a collection's time box ends.
    later.ends_at = clock.now_datetime() + timedelta(minutes=5)
    later.save()
    assert heading in get(Client(), "/?a=4")[0]
    let_time_pass(monkeypatch, 600)
    assert heading not in get(Client(), "/?a=5")[0]


def test_deleting_a_story_removes_it_at_once(client):
    story = ArticleFactory(title="지울 글")
    url = story.get_absolute_url()
    get(client, url)
    story.delete()
    assert client.get(url, **CHROME).status_code == 404
    assert "지울 글" not in get(client, "/feed/")[0]


def test_a_scheduled_story_appears_at_its_time_without_a_save(client, monkeypatch):
    ArticleFactory(title="이미 공개된 글")
    scheduled = ArticleFactory(
        title="곧 공개될 글", published_at=timezone.now() + timedelta(seconds=1.5)
    )
    assert "곧 공개될 글" not in get(client, "/feed/")[0]
    assert client.get(scheduled.get_absolute_url(), **CHROME).status_code == 404

    let_time_pass(monkeypatch, 1.6)

    assert "곧 공개될 글" in get(client, "/feed/")[0]
    assert client.get(scheduled.get_absolute_url(), **CHROME).status_code == 200


def test_an_unpublish_time_takes_effect_without_a_save(client, monkeypatch):
    story = ArticleFactory(title="곧 내릴 글", unpublish_at=timezone.now() + timedelta(seconds=1.5))
    assert "곧 내릴 글" in get(client, "/feed/")[0]
    let_time_pass(monkeypatch, 1.6)
    assert "곧 내릴 글" not in get(client, "/feed/")[0]
    assert client.get(story.get_absolute_url(), **CHROME).status_code == 404


def test_the_cached_story_page_shows_the_live_view_count():
    story = ArticleFactory()
    counts = []
    for _ in range(3):
        client = Client()
        html, _ = get(client, story.get_absolute_url())
        counts.append(html.count(f"조회수 <strong>{len(counts)}</strong>"))  # as of its render
        assert beacon(client, story.pk).status_code == 204
    assert counts == [1, 1, 1]
    story.refresh_from_db()
    assert story.view_count == 3


def test_a_reload_shows_the_current_count_without_counting(client):
    story = ArticleFactory()
    get(client, story.get_absolute_url())
    set_views(story, 41)
    html, _ = get(client, story.get_absolute_url())
    assert "조회수 <strong>41</strong>" in html


def test_staff_never_get_a_cached_page(client):
    story = ArticleFactory(title="공개 글")
    draft = ArticleFactory(title="초안 글", draft=True)
    get(Client(), "/feed/")
    get(Client(), story.get_absolute_url())

    client.force_login(UserFactory(superuser=True))
    preview = client.get(draft.get_absolute_url(), **CHROME)
    page = client.get(story.get_absolute_url(), **CHROME)

    assert preview.status_code == 200
    assert "미리보기" in preview.content.decode()
    assert "미리보기" not in page.content.decode()
    assert "seen" not in page.cookies  # staff visits do not count


def test_readers_never_see_a_staff_preview_from_the_cache(client):
    draft = ArticleFactory(title="초안 글", draft=True)
    staff = Client()
    staff.force_login(UserFactory(superuser=True))
    staff.get(draft.get_absolute_url(), **CHROME)
    assert client.get(draft.get_absolute_url(), **CHROME).status_code == 404
