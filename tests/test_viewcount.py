"""조회수: one view per reader who is shown a story (its page, then the page's beacon: tests of
the beacon itself are in tests/test_beacon.py), never for bots, HEAD, staff or a quick reload;
exact when many readers arrive at once."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, DailyView
from reader.viewcount import COOKIE_NAME, REPEAT_WINDOW_SECONDS
from tests.factories import ArticleFactory, UserFactory
from tests.readers_support import CHROME, read_at_once, read_story

pytestmark = pytest.mark.django_db


def views(story):
    story.refresh_from_db()
    return story.view_count


def visit(client, story, method="get", agent=CHROME):
    if method == "head":  # a HEAD shows nothing: no script runs, no beacon
        response = client.head(story.get_absolute_url(), HTTP_USER_AGENT=agent)
    else:
        response = read_story(client, story.get_absolute_url(), agent)
    assert response.status_code == 200
    return response


def test_a_reader_counts_one_view_and_the_next_reader_sees_it():
    story = ArticleFactory()
    first = visit(Client(), story)
    assert "조회수 <strong>0</strong>" in first.content.decode()  # as of its render
    assert views(story) == 1
    assert "조회수 <strong>1</strong>" in visit(Client(), story).content.decode()


def test_each_new_browser_counts():
    story = ArticleFactory()
    for _ in range(3):
        visit(Client(), story)
    assert views(story) == 3


def test_a_reload_within_30_minutes_does_not_count_again():
    story = ArticleFactory()
    client = Client()
    first = visit(client, story)
    visit(client, story)
    visit(client, story)

    assert views(story) == 1
    assert not first.cookies  # the page sets none: a cache may keep it
    cookie = client.cookies[COOKIE_NAME]  # the beacon's, sent to the beacon only
    assert cookie["max-age"] == REPEAT_WINDOW_SECONDS
    assert cookie["path"] == "/views/"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"


def test_an_expired_cookie_entry_counts_again():
    story = ArticleFactory()
    client = Client()
    client.cookies[COOKIE_NAME] = f"{story.pk}-{int(time.time()) - 1}"
    visit(client, story)
    assert views(story) == 1


def test_the_cookie_remembers_several_stories():
    first, second = ArticleFactory(), ArticleFactory()
    client = Client()
    visit(client, first)
    visit(client, second)
    visit(client, first)
    visit(client, second)
    assert (views(first), views(second)) == (1, 1)


def test_garbage_in_the_cookie_is_ignored():
    story = ArticleFactory()
    client = Client()
    client.cookies[COOKIE_NAME] = "nonsense.1-x.-.<script>"
    visit(client, story)
    assert views(story) == 1


def test_head_requests_do_not_count():
    story = ArticleFactory()
    visit(Client(), story, method="head")
    assert views(story) == 0


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; Yeti/1.1; +https://naver.me/spd)",
        "facebookexternalhit/1.1",
        "kakaotalk-scrap/1.0",
        "Slackbot-LinkExpanding 1.0",
        "curl/8.5.0",
        "python-requests/2.32",
        "",
    ],
)
def test_known_bots_do_not_count(agent):
    story = ArticleFactory()
    visit(Client(), story, agent=agent)
    assert views(story) == 0


def test_staff_views_and_previews_do_not_count():
    story = ArticleFactory()
    draft = ArticleFactory(draft=True)
    client = Client()
    client.force_login(UserFactory(superuser=True))
    visit(client, story)
    visit(client, draft)
    assert (views(story), views(draft)) == (0, 0)


def test_views_are_recorded_per_day():
    story = ArticleFactory()
    for _ in range(4):
        visit(Client(), story)
    assert list(DailyView.objects.values_list("article", "day", "count")) == [
        (story.pk, timezone.localdate(), 4)
    ]


def test_an_editors_save_and_readers_views_both_survive():
    story = ArticleFactory(title="원래 제목")
    editor_copy = Article.objects.get(pk=story.pk)  # opened in the admin before the views
    for _ in range(5):
        visit(Client(), story)
    editor_copy.title = "고친 제목"
    editor_copy.save()

    story.refresh_from_db()
    assert (story.title, story.view_count) == ("고친 제목", 5)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_cookieless_views_add_exactly_n(unbounded_pool_queue):
    story = ArticleFactory()
    readers = 24

    answers = read_at_once(story.get_absolute_url(), readers)

    assert [status for status, _, _ in answers] == [200] * readers
    assert views(story) == readers
    assert DailyView.objects.get(article=story).count == readers


def test_a_view_never_writes_the_storys_row():
    story = ArticleFactory()
    before = Article.objects.values_list("version", "updated_at").get(pk=story.pk)

    with CaptureQueriesContext(connection) as queries:
        visit(Client(), story)

    written = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]
    assert written
    assert not any(Article._meta.db_table in sql.split("SELECT")[0] for sql in written)
    assert Article.objects.values_list("version", "updated_at").get(pk=story.pk) == before
    assert views(story) == 1
