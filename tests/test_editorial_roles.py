"""Roles: writers write their own drafts, editors publish, admins manage accounts. Every refusal
is checked with the POST a writer could craft by hand, not by looking for a hidden button."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, PreviewLink, Revision, State, Status
from articles.roles import ROLE_PERMISSIONS, sync_roles, visible_to
from tests.editorial_support import action, change_url, split, story_data
from tests.factories import ArticleFactory, StaffFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_draft(writer):
    return ArticleFactory(title="내 초안", draft=True, created_by=writer)


@pytest.fixture
def others_draft():
    other = StaffFactory(username="writer-lee", role="writer")
    return ArticleFactory(title="남의 초안", draft=True, created_by=other)


def codenames(group_name):
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=group_name).permissions.select_related("content_type")
    }


def test_the_migration_creates_the_three_roles_with_their_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= {"writer", "editor", "admin"}
    writer, editor, admin = codenames("writer"), codenames("editor"), codenames("admin")
    assert "articles.change_article" in writer
    assert "articles.publish_article" not in writer
    assert "articles.publish_article" in editor
    assert "articles.change_company" in editor
    assert not {p for p in writer | editor if p.startswith("auth.")}
    assert {"auth.change_user", "auth.change_group", "tokens.add_apitoken"} <= admin
    assert editor <= admin


def test_the_migration_and_editorial_roles_agree():
    before = {name: codenames(name) for name in ROLE_PERMISSIONS}
    sync_roles()
    assert {name: codenames(name) for name in ROLE_PERMISSIONS} == before


def test_publish_permission_exists_for_stories():
    permission = Permission.objects.get(codename="publish_article")
    assert permission.content_type.model == "article"


# --- Writers -----------------------------------------------------------------------------------


def test_a_writer_creates_a_draft_they_own(client, writer):
    response = client.post(reverse("admin:articles_article_add"), story_data(title="첫 글"))
    assert response.status_code == 302, response.content.decode()[:2000]
    story = Article.objects.get(title="첫 글")
    assert story.created_by == writer
    assert story.status == Status.DRAFT


def test_a_writer_edits_their_own_draft(client, writer, own_draft):
    response = client.post(change_url(own_draft), story_data(own_draft, title="고친 초안"))
    assert response.status_code == 302
    own_draft.refresh_from_db()
    assert own_draft.title == "고친 초안"


def test_a_writer_named_as_author_may_edit_the_draft(client, writer, others_draft):
    others_draft.authors.add(writer)
    response = client.post(change_url(others_draft), story_data(others_draft, title="함께 쓴 글"))
    assert response.status_code == 302
    others_draft.refresh_from_db()
    assert others_draft.title == "함께 쓴 글"


def test_a_writer_sees_only_their_own_stories(client, writer, own_draft, others_draft):
    response = client.get(reverse("admin:articles_article_changelist"))
    titles = [str(story) for story in response.context["cl"].result_list]
    assert titles == ["내 초안"]


def test_the_status_choices_of_a_writer_are_draft_and_review(client, writer, own_draft):
    response = client.get(change_url(own_draft))
    form = response.context["adminform"].form
    assert [value for value, _ in form.fields["status"].choices] == ["draft", "review"]
    assert "published_at" not in form.fields
    assert "is_featured" not in form.fields


def test_a_writer_cannot_publish_through_the_change_form(client, writer, own_draft):
    response = client.post(
        change_url(own_draft), story_data(own_draft, status="published", title="몰래 발행")
    )
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    own_draft.refresh_from_db()
    assert (own_draft.status, own_draft.title) == (Status.DRAFT, "내 초안")
    assert not Article.objects.published().exists()


def test_a_writer_cannot_publish_through_the_add_form(client, writer):
    response = client.post(
        reverse("admin:articles_article_add"), story_data(title="바로 발행", status="published")
    )
    assert response.status_code == 200
    assert not Article.objects.filter(title="바로 발행").exists()


def test_a_writer_cannot_schedule_or_feature_a_story(client, writer, own_draft):
    tomorrow = timezone.now() + timedelta(days=1)
    data = story_data(
        own_draft, status="review", is_featured="on", **split("published_at", tomorrow)
    )
    response = client.post(change_url(own_draft), data)
    assert response.status_code == 302
    own_draft.refresh_from_db()
    assert own_draft.status == Status.REVIEW
    assert own_draft.published_at is None
    assert own_draft.is_featured is False


@pytest.mark.parametrize("name", ["publish_now", "unpublish_now", "move_to_draft"])
def test_a_writer_cannot_run_publishing_actions(client, writer, own_draft, name):
    review = ArticleFactory(in_review=True, created_by=writer)
    response = action(client, name, own_draft, review)
    assert response.status_code == 302  # the action is not offered: back to the list
    assert set(Article.objects.values_list("status", flat=True)) == {"draft", "review"}
    assert not LogEntry.objects.exists()


def test_the_publishing_actions_are_not_offered_to_writers(client, writer, own_draft):
    response = client.get(reverse("admin:articles_article_changelist"))
    offered = [value for value, _ in response.context["action_form"].fields["action"].choices]
    assert "submit_for_review" in offered
    assert not {"publish_now", "unpublish_now", "move_to_draft"} & set(offered)


def test_publishing_actions_refuse_a_writer_even_when_called_directly(rf, writer, own_draft):
    request = rf.post("/")
    request.user = writer
    model_admin = site._registry[Article]
    for name in ("publish_now", "unpublish_now", "move_to_draft"):
        with pytest.raises(PermissionDenied):
            getattr(model_admin, name)(request, Article.objects.all())
    own_draft.refresh_from_db()
    assert own_draft.status == Status.DRAFT


def test_a_writer_submits_their_draft_for_review(client, writer, own_draft, others_draft):
    response = action(client, "submit_for_review", own_draft, others_draft)
    assert response.status_code == 302
    own_draft.refresh_from_db()
    others_draft.refresh_from_db()
    assert own_draft.status == Status.REVIEW
    assert others_draft.status == Status.DRAFT  # not in the writer's queryset at all
    assert LogEntry.objects.get().change_message == "검토 요청"


def test_a_writer_cannot_open_or_change_another_writers_draft(client, writer, others_draft):
    assert client.get(change_url(others_draft)).status_code == 302  # "no such story"
    response = client.post(change_url(others_draft), story_data(others_draft, title="가로채기"))
    assert response.status_code == 302
    others_draft.refresh_from_db()
    assert others_draft.title == "남의 초안"


def test_a_writer_cannot_change_their_story_once_it_is_published(client, writer):
    story = ArticleFactory(title="발행된 내 글", created_by=writer)
    page = client.get(change_url(story))
    assert page.status_code == 200  # they may read it
    assert not page.context["has_change_permission"]
    response = client.post(change_url(story), story_data(story, title="발행 후 고침"))
    assert response.status_code == 403
    story.refresh_from_db()
    assert story.title == "발행된 내 글"


def test_a_writer_cannot_delete_another_story_or_a_published_one(client, writer, others_draft):
    published = ArticleFactory(created_by=writer)
    delete_other = reverse("admin:articles_article_delete", args=[others_draft.pk])
    assert client.post(delete_other, {"post": "yes"}).status_code == 302
    delete_own = reverse("admin:articles_article_delete", args=[published.pk])
    assert client.post(delete_own, {"post": "yes"}).status_code == 403
    response = action(client, "delete_selected", published, others_draft, post="yes")
    assert response.status_code == 403
    assert Article.objects.count() == 2


def test_a_writer_deletes_their_own_draft_and_it_is_audited(client, writer, own_draft):
    url = reverse("admin:articles_article_delete", args=[own_draft.pk])
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Article.objects.exists()
    entry = LogEntry.objects.get(action_flag=DELETION)
    assert (entry.user, entry.object_repr) == (writer, "내 초안")


def test_a_writer_cannot_restore_or_share_another_story(client, writer, others_draft):
    assert Revision.objects.filter(article=others_draft, number=1).exists()
    base = reverse("admin:articles_article_change", args=[others_draft.pk]).removesuffix("change/")
    assert client.post(base + "revisions/1/restore/").status_code == 404
    assert client.get(base + "revisions/").status_code == 404
    assert client.post(base + "preview-links/", {"days": 7}).status_code == 404
    assert not PreviewLink.objects.exists()


def test_a_writer_cannot_restore_their_published_story(client, writer):
    story = ArticleFactory(created_by=writer)
    assert Revision.objects.filter(article=story, number=1).exists()
    url = reverse("admin:articles_article_restore", args=[story.pk, 1])
    assert client.post(url).status_code == 403


@pytest.mark.parametrize("role", ["writer", "editor"])
@pytest.mark.parametrize(
    "url",
    [
        "admin:auth_user_changelist",
        "admin:auth_user_add",
        "admin:auth_group_changelist",
        "admin:auth_group_add",
    ],
)
def test_writers_and_editors_cannot_reach_users_or_groups(client, role, url):
    user = StaffFactory(role=role)
    client.force_login(user)
    assert client.get(reverse(url)).status_code == 403
    assert client.post(reverse(url), {"name": "해커", "username": "x"}).status_code == 403
    assert not Group.objects.filter(name="해커").exists()


def test_a_writer_cannot_give_themselves_a_role(client, writer):
    editor = Group.objects.get(name="editor")
    url = reverse("admin:auth_user_change", args=[writer.pk])
    response = client.post(url, {"username": writer.username, "groups": [editor.pk]})
    assert response.status_code == 403
    assert not writer.groups.filter(name="editor").exists()


def test_a_writer_cannot_import_stories_that_would_be_published(client, writer):
    url = reverse("admin:articles_article_import_theteams")
    assert client.get(url).status_code == 403
    assert client.post(url, {"dump": "", "confirm": "1"}).status_code == 403


def test_a_writer_cannot_change_companies(client, writer):
    assert client.get(reverse("admin:articles_company_add")).status_code == 403


def test_a_writer_may_add_tags_to_their_draft(client, writer, own_draft):
    tag = TagFactory(name="회고")
    response = client.post(change_url(own_draft), story_data(own_draft, hashtags=[tag.pk]))
    assert response.status_code == 302
    assert list(own_draft.tags.all()) == [tag]


# --- Editors and admins ------------------------------------------------------------------------


def test_an_editor_edits_any_story_and_publishes_it(client, editor, others_draft):
    response = client.post(
        change_url(others_draft), story_data(others_draft, status="published", title="발행합니다")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    others_draft.refresh_from_db()
    assert others_draft.is_public
    assert LogEntry.objects.filter(change_message="발행", user=editor).exists()


def test_an_editor_publishes_and_unpublishes_with_actions_and_both_are_audited(
    client, editor, others_draft
):
    action(client, "publish_now", others_draft)
    others_draft.refresh_from_db()
    assert others_draft.is_public
    action(client, "unpublish_now", others_draft)
    others_draft.refresh_from_db()
    assert others_draft.state == State.UNPUBLISHED
    messages = list(
        LogEntry.objects.filter(object_id=str(others_draft.pk))
        .order_by("action_time", "pk")
        .values_list("change_message", flat=True)
    )
    assert messages == ["발행", "발행 취소"]
    assert set(LogEntry.objects.values_list("user", flat=True)) == {editor.pk}


def test_an_editor_cannot_manage_api_tokens_but_an_admin_can(client):
    editor = StaffFactory(role="editor")
    client.force_login(editor)
    assert client.get(reverse("admin:tokens_apitoken_changelist")).status_code == 403
    admin = StaffFactory(role="admin")
    client.force_login(admin)
    assert client.get(reverse("admin:tokens_apitoken_changelist")).status_code == 200
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200


def test_the_user_list_shows_roles_in_korean(client):
    admin = StaffFactory(username="boss", role="admin")
    StaffFactory(username="writer-choi", role="writer")
    client.force_login(admin)
    html = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "작성자 (writer)" in html
    assert "관리자 (admin)" in html


def test_on_the_site_a_writer_previews_their_own_drafts_but_not_others(client, writer):
    own = ArticleFactory(title="내 미리보기", draft=True, created_by=writer)
    other = ArticleFactory(title="남의 미리보기", draft=True)
    page = client.get(own.get_absolute_url())
    assert page.status_code == 200
    assert 'class="preview-banner"' in page.content.decode()
    assert client.get(other.get_absolute_url()).status_code == 404
    assert set(visible_to(writer)) == {own}


def test_authors_are_picked_from_the_staff_without_opening_the_user_admin(
    client, writer, own_draft
):
    colleague = StaffFactory(username="writer-oh", role="writer")
    outsider = StaffFactory(username="reader", is_staff=False)
    field = client.get(change_url(own_draft)).context["adminform"].form.fields["authors"]
    assert {writer, colleague} <= set(field.queryset)
    assert outsider not in field.queryset
    response = client.post(change_url(own_draft), story_data(own_draft, authors=[colleague.pk]))
    assert response.status_code == 302
    assert list(own_draft.authors.all()) == [colleague]
