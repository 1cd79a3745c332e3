"""Faults on a real PostgreSQL: a lock held by someone else never makes a reader hang.

- A table locked by a migration (ACCESS EXCLUSIVE): readers whose page must be read from it get
  a 503 with Retry-After after DB_READER_LOCK_TIMEOUT_MS, while the lock is still held; readers
  of a story whose page is cached are served and counted, since counting never reads the
  stories' table.
- A story's row held by an editor's transaction: readers' counted views of it are not held up,
  and every one counts.
- The readers' limits last for their request's transaction only, on a direct connection and
  behind PgBouncer in transaction mode.
"""

import contextlib
import time

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client

from articles.models import Article
from tests.factories import ArticleFactory
from tests.postgres_support import PgBouncer, own_connection, run_django, server_url
from tests.readers_support import read_at_once, read_story

# More readers than one worker's threads (unbounded_pool_queue, tests/conftest.py).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("unbounded_pool_queue"),
]

READERS = 6
# The longest a held lock waits for the readers before letting go; readers that were still
# waiting for it then answer after it was released, and the test says so.
HOLD_AT_MOST = 20.0


@contextlib.contextmanager
def held(*statements: str):
    """Another session runs `statements` in a transaction and keeps it open for the duration;
    yields a dict whose "released" is the moment it let go."""
    moment = {}
    with own_connection("fault-tests") as other:
        other.execute("BEGIN")
        for statement in statements:
            other.execute(statement)
        try:
            yield moment
        finally:
            moment["released"] = time.monotonic()
            other.execute("ROLLBACK")


def table_lock():
    return f"LOCK TABLE {Article._meta.db_table} IN ACCESS EXCLUSIVE MODE"


def views(story) -> int:
    story.refresh_from_db()
    return story.view_count


def test_readers_of_a_locked_table_answer_503_while_it_is_still_locked():
    ArticleFactory.create_batch(3)
    caches["answers"].clear()

    with held(table_lock()) as lock:
        answers = read_at_once("/", READERS, wait=HOLD_AT_MOST)

    assert [status for status, _, _ in answers] == [503] * READERS
    assert all(headers["Retry-After"] == "5" for _, headers, _ in answers)
    assert max(finished for _, _, finished in answers) < lock["released"]


def test_a_cached_story_is_served_and_counted_while_its_table_is_locked():
    story = ArticleFactory()
    caches["answers"].clear()
    # A first reader: the page and the beacon's answer are kept, the story's count has a row.
    assert read_story(Client(), story.get_absolute_url()).status_code == 200

    with held(table_lock()) as lock:
        answers = read_at_once(story.get_absolute_url(), READERS, wait=HOLD_AT_MOST)

    assert [status for status, _, _ in answers] == [200] * READERS
    assert max(finished for _, _, finished in answers) < lock["released"]
    assert views(story) == 1 + READERS


@pytest.mark.parametrize(
    "editor",
    [
        "UPDATE articles_article SET title = '편집 중' WHERE id = {pk}",
        # What an editor's save takes first (articles/revisions.py, api/editing.py).
        "SELECT id FROM articles_article WHERE id = {pk} FOR NO KEY UPDATE",
    ],
    ids=["update", "save-lock"],
)
@pytest.mark.parametrize("first_view", [True, False], ids=["first-view", "later-view"])
def test_counted_views_of_a_story_an_editor_holds_are_not_held_up(editor, first_view):
    story = ArticleFactory()
    if not first_view:
        read_story(Client(), story.get_absolute_url())
    before = views(story)

    with held(editor.format(pk=story.pk)) as lock:
        answers = read_at_once(story.get_absolute_url(), READERS, wait=HOLD_AT_MOST)

    assert [status for status, _, _ in answers] == [200] * READERS
    assert max(finished for _, _, finished in answers) < lock["released"]
    assert views(story) == before + READERS


# --- the readers' timeouts on a direct connection and behind PgBouncer --------------------

READER_REQUEST = """
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from ops.middleware import ReaderTimeoutsMiddleware

def settings_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
        return list(cursor.fetchone())

seen = {}
def view(request):
    seen["reader"] = [settings_now(), settings_now()]
    return HttpResponse("ok")

ReaderTimeoutsMiddleware(view)(RequestFactory().get("/"))
seen["after"] = [settings_now() for _ in range(8)]
print(json.dumps(seen))
"""


@pytest.mark.parametrize("through", ["direct", "pgbouncer"])
def test_a_readers_timeouts_last_for_its_request_only(through):
    name = connection.settings_dict["NAME"]
    env = {"DB_READER_LOCK_TIMEOUT_MS": "1500", "DB_READER_STATEMENT_TIMEOUT_MS": "2500"}
    if through == "direct":
        result = run_django(READER_REQUEST, DATABASE_URL=server_url(name), **env)
    else:
        bouncer = PgBouncer()
        bouncer.start()
        try:
            result = run_django(
                READER_REQUEST, DATABASE_URL=bouncer.url(name), DB_PGBOUNCER="true", **env
            )
        finally:
            bouncer.stop()

    assert result["reader"] == [["1500ms", "2500ms"]] * 2
    # The next queries, in autocommit (behind PgBouncer on any of its server connections), see
    # the server's defaults again.
    assert result["after"] == [["0", "0"]] * 8
