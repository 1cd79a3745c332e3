"""The content version on many hosts: no race or clock can make a host keep a stale answer, and a
cache outage degrades the site instead of taking it down (articles/versions.py, answers.py)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.utils import timezone

from articles import answers, clock, versions
from articles.models import Article, ContentVersion
from articles.services import save_story
from tests.api_support import bearer, editor, token_for
from tests.conftest import ON_POSTGRES
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"}


@pytest.fixture(autouse=True)
def fresh_clock():
    clock._clock.offset = None
    yield
    clock._clock.offset = None


def read(path, client=None):
    response = (client or Client()).get(path, **BROWSER)
    return response.status_code, response.get("X-Cache"), response.content.decode()


# --- Writers and readers -------------------------------------------------------------------


def test_a_write_moves_the_number_when_it_commits(django_capture_on_commit_callbacks):
    story = ArticleFactory()
    before = versions.current()
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "고친 제목"
        save_story(story, by=None)
    after = versions.current()
    assert after.number == before.number + 1
    assert after.key != before.key
    assert ContentVersion.objects.get().number == after.number


def test_a_story_s_save_leaves_the_cards_number_and_any_other_write_moves_it(
    django_capture_on_commit_callbacks,
):
    story = ArticleFactory()
    with django_capture_on_commit_callbacks(execute=True):
        versions.bump()  # a company's, a hashtag's, a picture's renditions
    before = versions.current()
    row = ContentVersion.objects.get()
    assert before.cards == row.number - row.story_saves
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "카드 밖 저장"
        save_story(story, by=None)
    after = versions.current()
    assert (after.number, after.cards) == (before.number + 1, before.cards)
    with django_capture_on_commit_callbacks(execute=True):
        story.company.name = "새 이름"
        story.company.save()
    moved = versions.current()
    assert (moved.number, moved.cards) == (after.number + 1, after.cards + 1)


def test_a_host_running_the_code_before_story_saves_moves_the_cards_number_with_each_write(
    django_capture_on_commit_callbacks,
):
    """The old statement moved the number alone (and inserted the row without the column)."""
    from django.db import connection

    ContentVersion.objects.all().delete()
    table = connection.ops.quote_name(ContentVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (id, number) VALUES (1, 1)")
    first = versions.draw()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET number = number + 1 WHERE id = 1")
    second = versions.draw()
    assert (first.cards, second.cards) == (1, 2)


def test_a_record_written_before_versions_carried_cards_keeps_no_card_across_versions():
    old = versions.Version.of((12, 1_800_000_000.0, None, None))
    assert (old.number, old.cards) == (12, None)
    assert versions.Version.of(old.record) == old
    assert versions.Version.of((12, 1_800_000_000.0, None, None, 9)).cards == 9


def test_a_batch_of_writes_publishes_once_after_all_of_them(django_capture_on_commit_callbacks):
    stories = ArticleFactory.create_batch(3)
    before = versions.current()
    with (
        mock.patch.object(versions, "announce", wraps=versions.announce) as announce,
        django_capture_on_commit_callbacks(execute=True),
        versions.batch(),
    ):
        for story in stories:
            story.title = f"{story.title} (고침)"
            save_story(story, by=None)
        assert announce.call_count == 0
    assert announce.call_count == 1
    after = versions.current()
    assert after.number == before.number + 3  # every write moved the counter
    assert ContentVersion.objects.get().number == after.number


def failing_import():
    try:
        with versions.batch():
            versions.bump()
            raise RuntimeError("the import fails half way")
    except RuntimeError:
        pass


def test_a_failed_batch_publishes_nothing_and_the_next_write_publishes_again(
    django_capture_on_commit_callbacks,
):
    story = ArticleFactory()
    with (
        mock.patch.object(versions, "announce", wraps=versions.announce) as announce,
        django_capture_on_commit_callbacks(execute=True),
    ):
        failing_import()
        assert announce.call_count == 0
        story.title = "두 번째 쓰기"
        save_story(story, by=None)
    assert announce.call_count == 1
    assert versions.current().number == ContentVersion.objects.get().number


def test_a_reader_adds_a_record_only_where_none_is_and_only_for_a_short_while():
    ArticleFactory()
    cache.delete(versions.KEY)
    with mock.patch.object(cache, "add", wraps=cache.add) as add:
        drawn = versions.current()
    assert add.call_args.args[:2] == (versions.KEY, drawn.record)
    assert add.call_args.args[2] <= versions.READER_TTL

    mine = versions.Version(drawn.number + 5, drawn.since, None)  # a writer's, newer
    cache.set(versions.KEY, mine.record, 60)
    assert versions.current() == mine  # a reader never replaces it


def test_the_window_ends_at_the_next_scheduled_moment_and_the_key_moves_with_it(monkeypatch):
    ArticleFactory()
    scheduled = ArticleFactory(scheduled=True)
    version = versions.current()
    assert version.until == pytest.approx(scheduled.published_at.timestamp())

    later = scheduled.published_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    moved = versions.current()
    assert moved.number == version.number
    assert moved.since == pytest.approx(scheduled.published_at.timestamp())
    assert moved.key != version.key


def test_a_kept_answer_never_outlives_the_window():
    ArticleFactory(published_at=timezone.now() - timedelta(days=1))
    ArticleFactory(title="곧 나올 글", published_at=timezone.now() + timedelta(seconds=20))
    with mock.patch.object(answers.front(), "set", wraps=answers.front().set) as kept:
        read("/feed/")
    assert kept.call_args.args[2] <= 20


def test_a_scheduled_story_shows_on_every_page_at_its_moment(monkeypatch):
    ArticleFactory(title="이미 나온 글")
    scheduled = ArticleFactory(title="예약해 둔 글", scheduled=True)
    for path in ("/", "/feed/", scheduled.get_absolute_url(), "/api/v1/stories"):
        assert "예약해 둔 글" not in read(path)[2], path
    monkeypatch.setattr(timezone, "now", lambda: scheduled.published_at + timedelta(seconds=1))
    for path in ("/", "/feed/", scheduled.get_absolute_url(), "/api/v1/stories"):
        assert "예약해 둔 글" in read(path)[2], path


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="the database's clock differs from the host's")
def test_a_host_whose_clock_runs_ahead_shows_nothing_early(monkeypatch):
    """The database's clock decides: a host 5 s ahead measures its offset and neither
    shows a story due in 3 s nor publishes "now" into the others' future."""
    ArticleFactory(title="이미 나온 글")
    due = ArticleFactory(title="3초 뒤의 글", published_at=timezone.now() + timedelta(seconds=3))
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(seconds=5))

    assert due not in Article.objects.published()
    assert "3초 뒤의 글" not in read("/feed/")[2]
    draft = ArticleFactory(draft=True)
    draft.publish()
    assert abs((draft.published_at - real_now()).total_seconds()) < 1


# --- A cache outage -------------------------------------------------------------------------


class DownCache:
    """A cache whose server cannot be reached."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache down")

        return fail


@pytest.fixture
def cache_goes_down(monkeypatch):
    """Call it to take the shared cache down (after making what the test needs)."""

    def go_down():
        down = DownCache()
        monkeypatch.setattr(versions, "cache", down)
        monkeypatch.setattr("ops.views.cache", down)

    return go_down


def test_pages_and_the_api_are_served_uncached_while_the_cache_is_down(client, cache_goes_down):
    story = ArticleFactory(title="캐시 없이도")
    cache_goes_down()
    for path in ("/", "/feed/", story.get_absolute_url(), "/search/?q=캐시", "/api/v1/stories"):
        status, how, html = read(path)
        assert (status, how) == (200, "off"), path
        assert f"/stories/{story.pk}/" in html, path
    assert not answers.front()._cache  # nothing was kept under a version nobody can move


def test_readyz_says_the_cache_is_down_and_stays_ready(client, cache_goes_down):
    cache_goes_down()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "cache": "down", "replica": "none"}


def test_a_save_while_the_cache_is_down_fails_cleanly(editor_client, cache_goes_down):
    story = ArticleFactory(title="그대로인 제목")
    cache_goes_down()
    url = f"/admin/articles/article/{story.pk}/change/"
    data = {
        "kind": story.kind, "title": "바꾸려던 제목", "slug": story.slug, "excerpt": story.excerpt,
        "body": story.body, "status": story.status, "base_version": story.version,
        "published_at_0": timezone.localtime(story.published_at).strftime("%Y-%m-%d"),
        "published_at_1": timezone.localtime(story.published_at).strftime("%H:%M:%S"),
        "company": story.company_id, "cover_focus": story.cover_focus,
    }  # fmt: skip
    response = editor_client.post(url, data)
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "공유 캐시" in response.content.decode()
    story.refresh_from_db()
    assert story.title == "그대로인 제목"


def test_the_api_refuses_a_write_with_a_503_while_the_cache_is_down(client, cache_goes_down):
    token = token_for(editor(), "stories:write")
    cache_goes_down()
    response = client.post(
        "/api/v1/stories",
        {"title": "못 쓰는 글"},
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert not Article.objects.filter(title="못 쓰는 글").exists()


# --- Answers shared by every host ------------------------------------------------------------


def test_with_a_shared_store_a_second_host_gets_the_page_without_rendering(settings):
    settings.CACHES = {
        **settings.CACHES,
        "shared_answers": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    caches["shared_answers"].clear()
    ArticleFactory(title="공유되는 글")
    assert read("/feed/")[1] == "miss"
    answers.front().clear()  # another host: its own memory is empty
    status, how, html = read("/feed/")
    assert (status, how) == (200, "hit-shared")
    assert "공유되는 글" in html
    assert read("/feed/")[1] == "hit"


@pytest.mark.parametrize("shared", [True, False], ids=["shared-store", "memory-only"])
def test_with_a_shared_store_one_host_counts_the_api_list_for_all(settings, monkeypatch, shared):
    """The API list's count and stamp (every published story read) is computed once per
    content version for every worker of every host, when there is a shared store."""
    import api.stories

    if shared:
        settings.CACHES = {
            **settings.CACHES,
            "shared_answers": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        }
        caches["shared_answers"].clear()
    ArticleFactory(title="세는 글")
    token = token_for(editor())
    counted = []
    stamp = api.stories.list_stamp
    monkeypatch.setattr(
        api.stories,
        "list_stamp",
        lambda *args, **kwargs: counted.append(1) or stamp(*args, **kwargs),
    )
    lists = []
    for _ in range(2):
        answers.front().clear()  # each time another host: its own memory is empty
        response = Client().get("/api/v1/stories", headers=bearer(token))
        assert response.status_code == 200
        lists.append((response.json()["count"], response["Last-Modified"]))
    assert lists[0] == lists[1]
    assert lists[0][0] == 1
    assert len(counted) == (1 if shared else 2)


def test_offset_is_measured_once_per_period(django_assert_num_queries):
    clock.now()
    with django_assert_num_queries(0):
        clock.now()
    if connection.vendor == "sqlite":
        assert clock._clock.offset == 0


def test_two_moments_within_one_second_are_two_windows():
    first = versions.Version(7, 1_800_000_000.2, None)
    second = versions.Version(7, 1_800_000_000.7, None)
    assert first.key != second.key
