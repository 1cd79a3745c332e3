"""Revisions: every save keeps a version with who and when; the admin lists them, compares any
two (the body line by line, the rest field by field) and restores any of them as a new one."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Revision, Status
from articles.revisions import record_revision, snapshot
from articles.services import restore_revision
from editorial.compare import compare
from tests.editorial_support import action, change_url, story_data
from tests.factories import ArticleFactory, PersonFactory, TagFactory

pytestmark = pytest.mark.django_db

BODY_V1 = "## 시작\n\n첫 문단입니다.\n\n> “작게 자주 배포합니다”\n\n끝 문단입니다."
BODY_V2 = (
    "## 시작\n\n첫 문단을 고쳤습니다.\n\n> “작게 자주 배포합니다”\n\n끝 문단입니다.\n\n덧붙인 문단."
)


@pytest.fixture
def editor(log_in):
    return log_in("editor", first_name="한결")


@pytest.fixture
def story(editor):
    return ArticleFactory(title="처음 제목", body=BODY_V1, draft=True, created_by=editor)


def revisions_url(article):
    return reverse("admin:articles_article_revisions", args=[article.pk])


def test_saving_in_the_admin_keeps_the_previous_state_and_the_new_one(client, editor, story):
    response = client.post(change_url(story), story_data(story, title="새 제목", body=BODY_V2))
    assert response.status_code == 302
    first, second = Revision.objects.filter(article=story).order_by("number")
    assert (first.number, first.snapshot["title"]) == (1, "처음 제목")
    assert (second.number, second.snapshot["title"], second.author) == (2, "새 제목", editor)
    assert second.snapshot["body"] == BODY_V2
    assert second.article_version == Article.objects.get(pk=story.pk).version
    assert timezone.now() - second.created_at < timedelta(minutes=1)


def test_a_story_older_than_its_history_keeps_its_state_before_the_first_edit(
    client, editor, story
):
    Revision.objects.filter(article=story).delete()  # a row from before revisions were kept
    client.post(change_url(story), story_data(story, title="새 제목"))
    first, second = Revision.objects.filter(article=story).order_by("number")
    assert (first.snapshot["title"], first.note) == ("처음 제목", "기록 시작 전 상태")
    assert (second.snapshot["title"], second.author) == ("새 제목", editor)


def test_an_untouched_body_and_publication_time_survive_a_browser_save(client, editor):
    published = timezone.now().replace(microsecond=123456) - timedelta(days=2)
    story = ArticleFactory(body=BODY_V1, published_at=published, created_by=editor)
    # A browser posts the textarea with CRLF line breaks and the time in whole seconds.
    data = story_data(story, body=BODY_V1.replace("\n", "\r\n"), excerpt="요약만 고침")
    response = client.post(change_url(story), data)
    assert response.status_code == 302
    story.refresh_from_db()
    assert (story.body, story.published_at) == (BODY_V1, published)
    latest = Revision.objects.filter(article=story).order_by("number").last()
    assert latest.snapshot["body"] == BODY_V1
    messages = LogEntry.objects.filter(object_id=str(story.pk)).values_list(
        "change_message", flat=True
    )
    assert not any("발행" in message for message in messages)
    assert not any("body" in message for message in messages)


def test_a_story_added_in_the_admin_starts_with_revision_1(client, editor):
    response = client.post(reverse("admin:articles_article_add"), story_data(title="새 글"))
    assert response.status_code == 302
    revision = Revision.objects.get()
    assert (revision.number, revision.author, revision.note) == (1, editor, "처음 저장")


def test_a_snapshot_holds_the_editable_fields_with_tag_and_people_ids(story):
    tags = [TagFactory(name="회고"), TagFactory(name="배포")]
    person = PersonFactory()
    story.set_tags(tags)
    story.people.set([person])
    data = snapshot(story)
    assert data["tags"] == [tag.pk for tag in tags]  # in the story's order
    assert data["people"] == [person.pk]
    assert data["company"] == story.company_id
    assert data["status"] == "draft"
    assert "view_count" not in data
    assert "body_html" not in data


def test_the_history_page_lists_every_version_with_who_and_when(client, editor, story):
    client.post(change_url(story), story_data(story, title="둘째 제목"))
    story.refresh_from_db()
    client.post(change_url(story), story_data(story, title="셋째 제목"))
    response = client.get(revisions_url(story))
    html = response.content.decode()
    assert response.status_code == 200
    assert [r.number for r in response.context["revisions"]] == [3, 2, 1]
    assert "한결" in html
    assert '3번 <span class="current">(지금)</span>' in html
    assert "1번으로 복원" in html
    latest = Revision.objects.get(article=story, number=3)
    assert f"{timezone.localtime(latest.created_at):%Y-%m-%d %H:%M}" in html


def test_the_change_form_links_to_the_history(client, editor, story):
    html = client.get(change_url(story)).content.decode()
    assert revisions_url(story) in html
    assert reverse("admin:articles_article_preview_links", args=[story.pk]) in html


def test_compare_shows_the_body_line_by_line_and_other_fields_side_by_side(client, editor, story):
    tag = TagFactory(name="코드리뷰")
    client.post(
        change_url(story), story_data(story, title="새 제목", body=BODY_V2, hashtags=[tag.pk])
    )
    response = client.get(
        reverse("admin:articles_article_compare", args=[story.pk]), {"a": 1, "b": 2}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<del>첫 문단입니다.</del>" in html
    assert "<ins>첫 문단을 고쳤습니다.</ins>" in html
    assert "<ins>덧붙인 문단.</ins>" in html
    assert "<span>끝 문단입니다.</span>" in html  # context
    labels = {change.label: (change.before, change.after) for change in response.context["changes"]}
    assert labels["제목"] == ("처음 제목", "새 제목")
    assert labels["해시태그"] == ("—", "#코드리뷰")
    assert "상태" not in labels
    # Version 2 is the story as it is now: only the older one can be restored.
    assert "1번으로 복원" in html
    assert "2번으로 복원" not in html


def test_compare_reads_choices_times_and_references_as_words(editor, story):
    first = record_revision(story, editor)
    story.status = Status.PUBLISHED
    story.published_at = timezone.now() + timedelta(days=2)
    story.save()
    second = record_revision(story, editor)
    changes = {change.label: (change.before, change.after) for change in compare(first, second)[0]}
    assert changes["상태"] == ("초안", "발행")
    when = timezone.localtime(story.published_at)
    assert changes["발행 시각"] == ("—", f"{when:%Y-%m-%d %H:%M}")


def test_compare_with_a_missing_version_goes_back_to_the_history(client, editor, story):
    response = client.get(
        reverse("admin:articles_article_compare", args=[story.pk]), {"a": 1, "b": 9}
    )
    assert response.status_code == 302
    assert response.url == revisions_url(story)


def test_restore_brings_back_an_old_version_as_a_new_revision_and_is_audited(client, editor):
    old_tag, new_tag = TagFactory(name="옛태그"), TagFactory(name="새태그")
    story = ArticleFactory(
        title="처음 제목", body=BODY_V1, draft=True, created_by=editor, tags=[old_tag]
    )
    client.post(
        change_url(story), story_data(story, title="고친 제목", body=BODY_V2, hashtags=[new_tag.pk])
    )
    restore = reverse("admin:articles_article_restore", args=[story.pk, 1])
    response = client.post(restore)
    assert response.status_code == 302
    assert response.url == change_url(story)
    story.refresh_from_db()
    assert (story.title, story.body) == ("처음 제목", BODY_V1)
    assert list(story.tags.all()) == [old_tag]
    assert "첫 문단입니다." in story.body_html
    latest = Revision.objects.filter(article=story).latest("number")
    assert (latest.number, latest.note, latest.author) == (3, "복원: 1번에서", editor)
    entry = LogEntry.objects.filter(object_id=str(story.pk), action_flag=CHANGE).latest("pk")
    assert (entry.change_message, entry.user) == ("1번 버전으로 복원", editor)


def test_restore_keeps_the_publication_state(editor):
    story = ArticleFactory(title="발행된 글")
    first = record_revision(story, editor)
    Article.objects.filter(pk=story.pk).update(status=Status.DRAFT, published_at=None)
    story.refresh_from_db()
    story.title = "초안으로 돌린 뒤 고침"
    story.save()
    restore_revision(first, editor)
    story.refresh_from_db()
    assert story.title == "발행된 글"
    assert story.status == Status.DRAFT  # restoring never publishes
    assert not Article.objects.published().exists()


def test_restore_skips_a_slug_now_taken_by_another_story(editor, story):
    first = record_revision(story, editor)
    old_slug = story.slug
    story.slug = "새-슬러그"
    story.save()
    ArticleFactory(slug=old_slug)  # free again, and taken by another story
    restore_revision(first, editor)
    story.refresh_from_db()
    assert story.slug == "새-슬러그"


def test_restore_needs_a_post(client, editor, story):
    record_revision(story, editor)
    url = reverse("admin:articles_article_restore", args=[story.pk, 1])
    assert client.get(url).status_code == 405


def test_restore_needs_the_csrf_token(editor, story):
    record_revision(story, editor)
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post(reverse("admin:articles_article_restore", args=[story.pk, 1]))
    assert response.status_code == 403
    assert Revision.objects.filter(article=story).count() == 2  # the story's first, and ours


def test_publishing_actions_are_revisions_too(client, editor, story):
    action(client, "publish_now", story)
    revision = Revision.objects.filter(article=story).latest("number")
    assert (revision.note, revision.snapshot["status"]) == ("발행", "published")


def test_deleting_a_story_is_audited_with_who_and_when(client, editor, story):
    response = client.post(
        reverse("admin:articles_article_delete", args=[story.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    entry = LogEntry.objects.get(action_flag=DELETION)
    assert (entry.user, entry.object_repr, entry.object_id) == (editor, "처음 제목", str(story.pk))
    assert timezone.now() - entry.action_time < timedelta(minutes=1)


def test_bulk_deletion_is_audited_for_each_story(client, editor, story):
    other = ArticleFactory(title="둘째 글", draft=True)
    action(client, "delete_selected", story, other, post="yes")
    assert not Article.objects.exists()
    assert set(
        LogEntry.objects.filter(action_flag=DELETION).values_list("object_repr", flat=True)
    ) == {"처음 제목", "둘째 글"}
