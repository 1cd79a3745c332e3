"""No lost edits: two editors open the same story; the one who saves second is told who saved
in between and when, and nothing of the first save is overwritten."""

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from articles.models import Article, DailyView, Revision
from tests.conftest import ON_POSTGRES
from tests.editorial_support import action, change_url, story_data
from tests.factories import ArticleFactory, StaffFactory, set_views

SEOUL = ZoneInfo("Asia/Seoul")


def editor_client(username):
    client = Client()
    user = StaffFactory(username=username, role="editor")
    client.force_login(user)
    return client, user


@pytest.fixture
def story():
    """A draft both editors open."""
    return ArticleFactory(title="원래 제목", draft=True)


@pytest.fixture
def alice():
    """The first editor's browser."""
    return editor_client("alice")[0]


@pytest.mark.django_db
def test_the_second_of_two_editors_gets_a_conflict_naming_who_saved_and_when(story, alice):
    bob, _ = editor_client("bob")

    # Both open the change form: each gets the version it started from.
    alice_form = alice.get(change_url(story)).context["adminform"].form
    bob_form = bob.get(change_url(story)).context["adminform"].form
    assert alice_form["base_version"].value() == bob_form["base_version"].value() == 1
    assert 'name="base_version"' in alice.get(change_url(story)).content.decode()

    assert alice.post(change_url(story), story_data(story, title="앨리스 제목")).status_code == 302
    response = bob.post(change_url(story), story_data(story, title="밥 제목"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert len(errors) == 1
    saved = Revision.objects.filter(article=story).latest("number")
    seoul_time = saved.created_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")
    assert "alice" in errors[0]
    assert seoul_time in errors[0]
    assert "새로 고친" in errors[0]
    assert seoul_time in response.content.decode()
    story.refresh_from_db()
    assert story.title == "앨리스 제목"
    # Bob's text is still in the form he sees, so he can copy it before reloading.
    assert "밥 제목" in response.content.decode()


@pytest.mark.django_db
def test_after_reloading_the_second_editor_can_save(client, story, alice):
    bob, _ = editor_client("bob")
    alice.post(change_url(story), story_data(story, title="앨리스 제목"))
    story.refresh_from_db()  # bob reloads
    assert bob.post(change_url(story), story_data(story, title="밥 제목")).status_code == 302
    story.refresh_from_db()
    assert story.title == "밥 제목"


@pytest.mark.django_db
def test_an_action_run_while_the_form_was_open_is_not_overwritten(story, alice):
    stale = story_data(story, title="앨리스 제목")
    action(alice, "publish_now", story)
    response = alice.post(change_url(story), stale)
    assert response.status_code == 200
    assert "alice" in response.context["adminform"].form.non_field_errors()[0]
    story.refresh_from_db()
    assert story.is_public


@pytest.mark.django_db
def test_a_change_without_the_version_it_started_from_is_refused(story, alice):
    response = alice.post(change_url(story), story_data(story, title="새 제목", base_version=""))
    assert response.status_code == 200
    assert "새로 고친" in response.context["adminform"].form.non_field_errors()[0]
    story.refresh_from_db()
    assert story.title == "원래 제목"


@pytest.mark.django_db
def test_a_change_made_outside_the_admin_is_named_as_such(story, alice):
    stale = story_data(story, title="앨리스 제목")
    Article.objects.get(pk=story.pk).save()  # an import, say: no revision
    response = alice.post(change_url(story), stale)
    assert "다른 작업" in response.context["adminform"].form.non_field_errors()[0]


@pytest.mark.django_db
def test_view_counts_counted_while_the_form_was_open_are_kept(alice):
    story = ArticleFactory(title="조회수")
    data = story_data(story, title="조회수 그대로", view_count="0")
    set_views(story, 77)
    DailyView.objects.create(article=story, day=timezone.localdate(), count=77)
    assert alice.post(change_url(story), data).status_code == 302
    story.refresh_from_db()
    assert (story.title, story.view_count) == ("조회수 그대로", 77)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_from_the_same_version_never_both_win():
    """Two requests in two threads, each with its own connection, posting at the same moment:
    the row lock makes the second wait for the first and then see the new version."""
    assert ON_POSTGRES
    story = ArticleFactory(title="원래 제목", draft=True)
    clients = [editor_client(name)[0] for name in ("alice", "bob")]
    data = [story_data(story, title=f"{name} 제목") for name in ("alice", "bob")]
    barrier = threading.Barrier(2)
    statuses = {}

    def save(index):
        try:
            barrier.wait(timeout=10)
            statuses[index] = clients[index].post(change_url(story), data[index]).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses.values()) == [200, 302]
    story.refresh_from_db()
    winner = "alice" if statuses[0] == 302 else "bob"
    assert story.title == f"{winner} 제목"
    assert story.version == 2
    assert timezone.now() - story.updated_at < timedelta(minutes=1)
