"""The API's answers to anonymous reads come from a per-process cache filed under the content
version (api/cache.py): the same bytes and headers, no query but the version read,
never stale after a save, a publication, a scheduled time or a deletion, never for tokens or
staff, and still counted by the rate limit."""

import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import cache as api_cache
from api.stories import forget_items
from articles import answers, versions
from articles.models import Article, Status
from articles.services import save_story
from culture.env import parse_rate
from reader import viewcount
from tests.api_support import (
    API,
    RESOURCE_PATHS,
    bearer,
    error_of,
    story_with_everything,
    url,
)
from tests.factories import (
    ArticleFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Headers that differ between any two answers, cached or not.
PER_REQUEST = {"X-Request-ID", "X-Cache"}


@pytest.fixture
def story():
    return story_with_everything("캐시될 스토리")


PATHS = [
    *RESOURCE_PATHS,
    "/stories?kind=feed&ordering=popular&page_size=5",
    "/stories?q=" + quote("캐시"),
]


def get(client, path, **extra):
    """A GET and the SQL it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **extra)
    return response, [query["sql"] for query in queries.captured_queries]


def only_the_version_read(queries) -> bool:
    """A hit reads the shared content version (a row of the database cache here, a Redis GET
    in production) and nothing else."""
    return len(queries) == 1 and "culture_cache" in queries[0]


def headers(response) -> dict:
    return {name: value for name, value in response.items() if name not in PER_REQUEST}


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [item["title"] for item in response.json()["items"]]


# --- A hit --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_a_hit_serves_the_same_bytes_and_headers_without_a_query(client, story, path):
    first, first_queries = get(client, url(path, story))
    second, second_queries = get(Client(), url(path, story))

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert headers(second) == headers(first)
    assert {"ETag", "Last-Modified", "Cache-Control", "Vary"} <= set(headers(second))
    assert second["X-Request-ID"] != first["X-Request-ID"]
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")
    assert len(first_queries) > 1
    assert only_the_version_read(second_queries), second_queries


def test_with_a_shared_cache_outside_the_database_a_hit_runs_no_query_at_all(
    client, story, settings, django_assert_num_queries
):
    # Redis in production; a process-local cache stands in for it here.
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    settings.API_THROTTLE_RATES = {"read": parse_rate("100/min"), "write": None}
    client.get(f"{API}/stories")
    client.get(f"{API}/stories/{story.pk}")

    with django_assert_num_queries(0):
        listed = client.get(f"{API}/stories")
        detail = client.get(f"{API}/stories/{story.pk}")
    assert titles(listed) == ["캐시될 스토리"]
    assert detail.json()["id"] == story.pk


def test_the_query_string_is_normalised_for_the_key(client, story):
    first, _ = get(client, f"{API}/stories?kind=feed&page_size=5")
    second, queries = get(client, f"{API}/stories?page_size=5&kind=feed")

    assert second.content == first.content
    assert only_the_version_read(queries)


def test_each_host_has_its_own_answers_since_they_carry_absolute_urls(client, story):
    client.get(f"{API}/stories/{story.pk}")

    other = client.get(f"{API}/stories/{story.pk}", HTTP_HOST="localhost")

    assert other.json()["url"].startswith("http://localhost/")


def test_a_head_is_served_from_the_cache_without_a_body(client, story):
    first = client.get(f"{API}/stories/{story.pk}")

    with CaptureQueriesContext(connection) as queries:
        head = client.head(f"{API}/stories/{story.pk}")

    assert head.status_code == 200
    assert head.content == b""
    assert head["ETag"] == first["ETag"]
    assert int(head["Content-Length"]) == len(first.content)
    assert only_the_version_read([query["sql"] for query in queries.captured_queries])


# --- Conditional requests -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/stories", "/stories/{id}", "/companies/spoqa"])
def test_a_hit_answers_304_to_a_current_etag_or_date(client, story, path):
    first = client.get(url(path, story))

    by_etag, etag_queries = get(client, url(path, story), headers={"If-None-Match": first["ETag"]})
    by_date, date_queries = get(
        client, url(path, story), headers={"If-Modified-Since": first["Last-Modified"]}
    )
    stale, _ = get(client, url(path, story), headers={"If-None-Match": 'W/"old"'})
    # The 304 the operation itself gives (a request with a token skips the cache).
    uncached = client.get(
        url(path, story), headers={"If-None-Match": first["ETag"], "Authorization": "Bearer x"}
    )

    assert uncached.status_code == 304
    assert uncached["Cache-Control"] == "no-cache"  # a token's answer is kept by no edge
    assert first["X-Content-Version"] == versions.current().key  # what the edge bans it by
    for response, queries in ((by_etag, etag_queries), (by_date, date_queries)):
        assert response.status_code == 304
        assert response.content == b""
        # The anonymous answer may be kept by the edge, banned by its content version.
        shared = headers(response)
        assert shared.pop("Cache-Control").startswith("public, max-age=0, s-maxage=")
        assert shared == {
            name: value for name, value in headers(uncached).items() if name != "Cache-Control"
        }
        assert (response["ETag"], response["Last-Modified"]) == (
            first["ETag"],
            first["Last-Modified"],
        )
        assert only_the_version_read(queries)
    assert stale.status_code == 200
    assert stale.content == first.content


def test_a_conditional_request_that_misses_fills_the_cache_and_still_answers_304(client, story):
    etag = client.get(f"{API}/stories")["ETag"]
    Client().get(f"{API}/stories")  # the same answer from the cache
    answers.front().clear()  # as after a restart, or in another worker

    missed = client.get(f"{API}/stories", headers={"If-None-Match": etag})
    hit, queries = get(Client(), f"{API}/stories")

    assert missed.status_code == 304
    assert missed["ETag"] == etag
    assert hit.status_code == 200
    assert only_the_version_read(queries)


# --- Never stale --------------------------------------------------------------------------


def test_an_edit_shows_at_once_in_lists_and_details(client, story):
    etag = client.get(f"{API}/stories/{story.pk}")["ETag"]
    assert titles(client.get(f"{API}/stories")) == ["캐시될 스토리"]

    story.title = "고친 제목"
    save_story(story, by=None)

    assert titles(client.get(f"{API}/stories")) == ["고친 제목"]
    detail = client.get(f"{API}/stories/{story.pk}", headers={"If-None-Match": etag})
    assert detail.status_code == 200
    assert detail.json()["title"] == "고친 제목"
    assert client.get(f"{API}/series/pool").json()["stories"][0]["title"] == "고친 제목"


def test_an_edit_of_a_company_shows_at_once(client, story):
    assert client.get(f"{API}/companies/spoqa").json()["name"] == story.company.name

    story.company.name = "새 이름"
    story.company.save()

    assert client.get(f"{API}/companies/spoqa").json()["name"] == "새 이름"
    assert client.get(f"{API}/stories").json()["items"][0]["company"]["name"] == "새 이름"


def test_new_tags_show_at_once(client, story):
    client.get(f"{API}/stories/{story.pk}")

    story.tags.add(TagFactory(name="새태그"))

    tags = [tag["name"] for tag in client.get(f"{API}/stories/{story.pk}").json()["tags"]]
    assert tags == ["개발팀", "새태그"]


def test_a_publication_shows_at_once(client, story, token):
    draft = ArticleFactory(title="초안", draft=True)
    assert titles(client.get(f"{API}/stories")) == ["캐시될 스토리"]
    error_of(client.get(f"{API}/stories/{draft.pk}"), 404)

    published = client.post(
        f"{API}/stories/{draft.pk}/publish", content_type="application/json", headers=bearer(token)
    )
    assert published.status_code == 200

    assert titles(client.get(f"{API}/stories")) == ["초안", "캐시될 스토리"]
    assert client.get(f"{API}/stories/{draft.pk}").status_code == 200


def test_a_scheduled_story_goes_live_at_its_time_without_a_save(client, story, monkeypatch):
    scheduled = ArticleFactory(title="예약된 글", scheduled=True)
    leaving = ArticleFactory(
        title="곧 내릴 글",
        published_at=story.published_at - timedelta(days=1),
        unpublish_at=scheduled.published_at,
    )
    assert titles(client.get(f"{API}/stories")) == ["캐시될 스토리", "곧 내릴 글"]
    error_of(client.get(f"{API}/stories/{scheduled.pk}"), 404)

    later = scheduled.published_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert titles(client.get(f"{API}/stories")) == ["예약된 글", "캐시될 스토리"]
    assert client.get(f"{API}/stories/{scheduled.pk}").json()["title"] == "예약된 글"
    error_of(client.get(f"{API}/stories/{leaving.pk}"), 404)


def test_a_deletion_shows_at_once(client, story):
    assert client.get(f"{API}/stories/{story.pk}").status_code == 200
    assert client.get(f"{API}/stories").json()["count"] == 1

    story.delete()

    error_of(client.get(f"{API}/stories/{story.pk}"), 404)
    assert client.get(f"{API}/stories").json()["count"] == 0
    error_of(client.get(f"{API}/series/pool"), 404)


def test_a_withdrawn_story_disappears_at_once(client, story):
    client.get(f"{API}/stories/by-slug/{quote(story.slug)}")
    assert client.get(f"{API}/collections").json()["count"] == 1

    story.status = Status.DRAFT
    save_story(story, by=None)

    error_of(client.get(f"{API}/stories/by-slug/{quote(story.slug)}"), 404)
    assert client.get(f"{API}/collections").json()["count"] == 0


def test_a_version_drawn_before_the_commit_of_a_save_is_replaced_at_the_commit(
    client, story, django_capture_on_commit_callbacks
):
    before = versions.current()
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "고친 제목"
        save_story(story, by=None)
        # A reader on another connection still reads the rows before the commit and adds
        # the version it drew for them (with Redis it sees the dropped record before the
        # commit does).
        cache.add(versions.KEY, before.record, versions.READER_TTL)

    assert versions.current().number == before.number + 1
    assert cache.get(versions.KEY)[0] == before.number + 1


def test_view_counts_in_a_cached_answer_are_at_most_a_minute_old(client, story, monkeypatch):
    assert client.get(f"{API}/stories/{story.pk}").json()["view_count"] == 0
    viewcount.record_view(story.pk)  # a reader on the site: no save, no new version

    assert client.get(f"{API}/stories/{story.pk}").json()["view_count"] == 0

    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + api_cache.COUNTS_TIMEOUT + 1)
    assert client.get(f"{API}/stories/{story.pk}").json()["view_count"] == 1


# --- Who gets cached answers --------------------------------------------------------------


def behind_the_cache(story, title):
    """Change a story without a signal, as only a bug could: then an answer with the old
    title can only have come from the cache."""
    Article.objects.filter(pk=story.pk).update(title=title)


def test_token_requests_are_never_served_from_the_cache_nor_fill_it(client, story, token):
    client.get(f"{API}/stories/{story.pk}")  # an anonymous reader fills the cache
    behind_the_cache(story, "몰래 바꾼 제목")

    with_token = client.get(f"{API}/stories/{story.pk}", headers=bearer(token))
    assert with_token.json()["title"] == "몰래 바꾼 제목"
    assert client.get(f"{API}/stories/{story.pk}").json()["title"] == "캐시될 스토리"

    answers.front().clear()
    client.get(f"{API}/stories", headers=bearer(token))  # a token's answer is not kept
    behind_the_cache(story, "또 바꾼 제목")
    # (Its items are, under the content version, as a reader's are: only a write that moves
    # the version changes them, tests/test_api_story_answers.py.)
    forget_items()
    assert titles(client.get(f"{API}/stories")) == ["또 바꾼 제목"]


def test_staff_are_never_served_from_the_cache_nor_fill_it(client, story):
    staff = Client()
    staff.force_login(UserFactory(superuser=True))
    client.get(f"{API}/stories")
    behind_the_cache(story, "몰래 바꾼 제목")

    assert titles(staff.get(f"{API}/stories")) == ["몰래 바꾼 제목"]
    assert titles(client.get(f"{API}/stories")) == ["캐시될 스토리"]

    answers.front().clear()
    staff.get(f"{API}/stories/{story.pk}")
    behind_the_cache(story, "또 바꾼 제목")
    assert client.get(f"{API}/stories/{story.pk}").json()["title"] == "또 바꾼 제목"


def test_a_signed_in_reader_who_is_not_staff_gets_cached_answers(client, story):
    client.get(f"{API}/stories")
    reader = Client()
    reader.force_login(UserFactory())

    _, queries = get(reader, f"{API}/stories")

    assert not any("articles_article" in sql for sql in queries)


# --- What is not kept ---------------------------------------------------------------------


def test_errors_are_never_kept(client, story):
    for path in ("/stories/999999", "/stories?page=0", "/stories?status=draft"):
        first = client.get(API + path)
        second = client.get(API + path)
        assert first.status_code == second.status_code >= 400
        assert first.json()["request_id"] != second.json()["request_id"]
    assert not answers.front()._cache


def test_sync_cursors_are_not_kept(client, story):
    since = quote((timezone.now() - timedelta(days=2)).isoformat())

    first = client.get(f"{API}/stories?updated_since={since}")
    second, queries = get(client, f"{API}/stories?updated_since={since}")

    assert titles(first) == titles(second) == ["캐시될 스토리"]
    assert len(queries) > 1
    assert not answers.front()._cache  # nothing was filed


def test_large_answers_are_served_but_not_kept(client, story, monkeypatch):
    monkeypatch.setattr(api_cache, "MAX_BYTES", 100)

    first = client.get(f"{API}/stories")
    second, queries = get(client, f"{API}/stories")

    assert first.content == second.content
    assert len(queries) > 1


def test_the_schema_and_the_editor_view_are_not_cached(client, story, token):
    client.get(f"{API}/openapi.json")
    client.get(f"{API}/stories/{story.pk}/editor", headers=bearer(token))

    assert not answers.front()._cache


# --- Rate limits --------------------------------------------------------------------------


def test_hits_count_against_the_rate_limit(client, story, settings):
    settings.API_THROTTLE_RATES = {"read": parse_rate("4/min"), "write": None}
    cache.clear()

    first = client.get(f"{API}/stories")  # a miss, kept
    hits = [get(client, f"{API}/stories") for _ in range(2)]
    not_modified = client.get(f"{API}/stories", headers={"If-None-Match": first["ETag"]})
    limited = client.get(f"{API}/stories")

    assert first.status_code == 200
    assert [response.status_code for response, _ in hits] == [200, 200]
    assert all(not any("articles_" in sql for sql in queries) for _, queries in hits)
    assert not_modified.status_code == 304
    error_of(limited, 429, "throttled")
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert client.get(f"{API}/stories", REMOTE_ADDR="10.0.0.2").status_code == 200
