"""Writing stories through the API with a scoped token: drafts, version-checked edits,
publishing, conflicts, atomicity and the admin history."""

import json
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import IntegrityError
from django.utils import timezone

from articles.models import Article, Status, Tag
from tests.api_support import API, WRITER_PERMS, bearer, editor, error_of, post_json, token_for
from tests.factories import ArticleFactory, CompanyFactory, PersonFactory, SeriesFactory, set_views

pytestmark = pytest.mark.django_db


def patch(client, story, payload, token, if_match=None):
    headers = bearer(token)
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.patch(
        f"{API}/stories/{story.pk}",
        data=json.dumps(payload),
        content_type="application/json",
        headers=headers,
    )


def test_create_makes_a_draft_that_readers_cannot_see(client, token, user):
    company = CompanyFactory(slug="spoqa")
    person = PersonFactory(slug="red")

    response = post_json(
        client,
        "/stories",
        {
            "title": "스포카 개발팀의 하루",
            "kind": "interview",
            "body": "## 아침\n\n스탠드업으로 시작합니다.",
            "company": "spoqa",
            "people": ["red"],
            "tags": ["#스포카", "개발팀"],
            "job_family": "dev",
        },
        token,
    )

    assert response.status_code == 201, response.content
    body = response.json()
    story = Article.objects.get(pk=body["id"])
    assert (story.status, story.title, story.company, story.created_by) == (
        Status.DRAFT,
        "스포카 개발팀의 하루",
        company,
        user,
    )
    assert list(story.people.all()) == [person]
    assert sorted(story.tags.values_list("name", flat=True)) == ["개발팀", "스포카"]
    assert body["status"] == "draft"
    assert body["is_public"] is False
    assert body["slug"] == "스포카-개발팀의-하루"
    assert '<h2 id="h-아침">' in body["body_html"]
    assert response["Location"] == f"http://testserver{API}/stories/{story.pk}"
    assert response["ETag"] == f'W/"story{story.pk}-v1-' + response["ETag"].split("-")[-1]
    error_of(client.get(f"{API}/stories/{story.pk}"), 404)
    assert client.get(f"{API}/stories").json()["count"] == 0

    entry = LogEntry.objects.get(object_id=str(story.pk))
    assert (entry.user, entry.action_flag) == (user, ADDITION)
    assert "API" in entry.change_message
    assert token[:11] in entry.change_message


@pytest.mark.parametrize(
    "field",
    ["id", "status", "view_count", "version", "created_at", "updated_at", "published_at",
     "body_html", "reading_minutes", "created_by", "source_key", "is_featured"],
)  # fmt: skip
def test_server_controlled_fields_are_refused(client, token, field):
    response = post_json(client, "/stories", {"title": "제목", field: 1}, token)

    body = error_of(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "payload", field]
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({}, ["body", "payload", "title"]),
        ({"title": "   "}, ["body", "payload", "title"]),
        ({"title": "x" * 201}, ["body", "payload", "title"]),
        ({"title": "널\u0000문자"}, ["body", "payload", "title"]),
        ({"title": "제목", "body": "본문\u0000"}, ["body", "payload", "body"]),
        ({"title": "제목", "slug": "공백 있는 슬러그"}, ["body", "payload", "slug"]),
        ({"title": "제목", "kind": "essay"}, ["body", "payload", "kind"]),
        ({"title": "제목", "company": "nobody"}, ["body", "payload", "company"]),
        ({"title": "제목", "people": ["nobody"]}, ["body", "payload", "people"]),
        ({"title": "제목", "series": "nothing"}, ["body", "payload", "series"]),
        ({"title": "제목", "series_part": 1}, ["body", "payload", "series_part"]),
        ({"title": "제목", "series_part": 2**40}, ["body", "payload", "series_part"]),
        (
            {"title": "제목", "original_url": "javascript:alert(1)"},
            ["body", "payload", "original_url"],
        ),
        ({"title": "제목", "tags": ["#"]}, ["body", "payload", "tags", 0]),
        ({"title": "제목", "tags": ["t"] * 31}, ["body", "payload", "tags"]),
    ],
)
def test_bad_input_answers_422_with_the_field(client, token, payload, loc):
    body = error_of(post_json(client, "/stories", payload, token), 422, "validation_error")

    assert loc in [error["loc"] for error in body["errors"]]
    assert not Article.objects.exists()


def test_lone_surrogates_are_refused(client, token):
    raw = '{"title": "\\ud800 반쪽"}'
    response = client.post(
        f"{API}/stories", data=raw, content_type="application/json", headers=bearer(token)
    )

    body = error_of(response, 422)
    assert body["errors"][0]["loc"] == ["body", "payload", "title"]


def test_a_body_over_the_editor_limit_is_refused(client, token, settings):
    settings.ARTICLE_BODY_MAX_CHARS = 10

    body = error_of(post_json(client, "/stories", {"title": "제목", "body": "가" * 11}, token), 422)

    assert body["errors"][0]["loc"] == ["body", "payload", "body"]


def test_a_taken_slug_is_a_409_not_a_500(client, token):
    ArticleFactory(slug="taken")

    body = error_of(post_json(client, "/stories", {"title": "제목", "slug": "taken"}, token), 409)

    assert body["code"] == "conflict"
    assert body["errors"][0]["loc"] == ["body", "payload", "slug"]


def test_a_unique_constraint_hit_by_a_concurrent_write_is_a_409(client, token):
    with mock.patch.object(Article, "save", side_effect=IntegrityError("article_unique_slug")):
        error_of(post_json(client, "/stories", {"title": "제목"}, token), 409, "conflict")


def test_a_taken_series_part_is_a_409(client, token):
    series = SeriesFactory(slug="pool")
    ArticleFactory(series=series, series_part=1)

    response = post_json(
        client, "/stories", {"title": "2편", "series": "pool", "series_part": 1}, token
    )

    assert error_of(response, 409)["errors"][0]["loc"] == ["body", "payload", "series_part"]


def test_a_failing_write_leaves_nothing_behind(client, token):
    with mock.patch.object(LogEntry.objects, "log_actions", side_effect=RuntimeError("boom")):
        response = post_json(client, "/stories", {"title": "제목", "tags": ["새태그"]}, token)

    body = error_of(response, 500, "server_error")
    assert "boom" not in json.dumps(body)
    assert "Traceback" not in response.content.decode()
    assert not Article.objects.exists()
    assert not Tag.objects.exists()


def test_patch_needs_if_match(client, token):
    story = ArticleFactory(draft=True)

    error_of(patch(client, story, {"title": "새 제목"}, token), 428, "precondition_required")

    story.refresh_from_db()
    assert story.title != "새 제목"


def test_patch_refuses_if_match_any_so_nobody_overwrites_unseen_changes(client, token):
    story = ArticleFactory(draft=True)

    body = error_of(
        patch(client, story, {"title": "덮어쓰기"}, token, if_match="*"),
        428,
        "precondition_required",
    )

    assert "If-Match: *" in body["message"]
    story.refresh_from_db()
    assert story.title != "덮어쓰기"


def test_patch_with_a_stale_version_is_refused_so_edits_never_cross(client, token):
    story = ArticleFactory(draft=True)
    first = patch(client, story, {"title": "첫 편집자"}, token, if_match=str(story.version))
    assert first.status_code == 200

    second = patch(client, story, {"title": "둘째 편집자"}, token, if_match=str(story.version))

    error_of(second, 412, "precondition_failed")
    story.refresh_from_db()
    assert (story.title, story.version) == ("첫 편집자", 2)


def test_patch_takes_the_etag_and_changes_only_the_fields_sent(client, token, user):
    story = ArticleFactory(
        draft=True, title="원래 제목", excerpt="원래 요약", byline="원래 바이라인"
    )
    etag = client.get(f"{API}/stories/{story.pk}/editor", headers=bearer(token))["ETag"]

    response = patch(
        client,
        story,
        {"title": "새 제목", "tags": ["새태그"], "company": None, "job_family": None},
        token,
        if_match=etag,
    )

    assert response.status_code == 200, response.content
    story.refresh_from_db()
    assert (story.title, story.excerpt, story.byline) == ("새 제목", "원래 요약", "원래 바이라인")
    assert story.company is None
    assert list(story.tags.values_list("name", flat=True)) == ["새태그"]
    assert response.json()["version"] == story.version == 2
    assert response["ETag"] != etag
    entry = LogEntry.objects.get(object_id=str(story.pk), action_flag=CHANGE)
    assert entry.user == user
    assert "제목" in entry.change_message
    assert "해시태그" in entry.change_message


def test_patch_refuses_null_for_fields_that_cannot_be_empty(client, token):
    story = ArticleFactory(draft=True)

    for field in ("title", "kind", "body", "tags", "slug"):
        response = patch(client, story, {field: None}, token, if_match=str(story.version))
        assert error_of(response, 422)["errors"][0]["loc"][:3] == ["body", "payload", field]


def test_patch_never_overwrites_views_counted_meanwhile(client, token):
    story = ArticleFactory(draft=True, view_count=5)
    version = story.version
    set_views(story, story.view_count + 3)

    patch(client, story, {"title": "고침"}, token, if_match=str(version))

    story.refresh_from_db()
    assert story.view_count == 8


def test_patch_of_a_missing_story_is_404(client, token):
    error_of(patch(client, Article(pk=424242), {"title": "x"}, token, if_match="1"), 404)


def test_changing_a_published_story_needs_the_publish_scope(client, user):
    story = ArticleFactory()
    writer = token_for(user, "stories:write")

    response = patch(client, story, {"title": "몰래 고침"}, writer, if_match=str(story.version))

    error_of(response, 403, "forbidden")
    publisher = token_for(user, "stories:write", "stories:publish")
    response = patch(client, story, {"title": "고침"}, publisher, if_match=str(story.version))
    assert response.status_code == 200


def test_publish_now_makes_the_story_public(client, token, user):
    story = ArticleFactory(draft=True)

    response = post_json(client, f"/stories/{story.pk}/publish", {}, token)

    assert response.status_code == 200, response.content
    assert response.json()["is_public"] is True
    assert client.get(f"{API}/stories/{story.pk}").status_code == 200
    entry = LogEntry.objects.filter(object_id=str(story.pk), action_flag=CHANGE).get()
    assert "발행" in entry.change_message
    assert entry.user == user


def test_publish_without_a_body_publishes_now(client, token):
    story = ArticleFactory(draft=True)

    response = client.post(
        f"{API}/stories/{story.pk}/publish",
        data="",
        content_type="application/json",
        headers=bearer(token),
    )

    assert response.status_code == 200, response.content
    assert Article.objects.published().filter(pk=story.pk).exists()


def test_publish_at_a_future_time_schedules_the_story(client, token):
    story = ArticleFactory(draft=True)
    at = timezone.now() + timedelta(days=2)

    response = post_json(client, f"/stories/{story.pk}/publish", {"at": at.isoformat()}, token)

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["is_public"]) == ("예약", False)
    error_of(client.get(f"{API}/stories/{story.pk}"), 404)


def test_publishing_again_clears_a_passed_unpublish_time(client, token):
    story = ArticleFactory(expired=True)

    post_json(client, f"/stories/{story.pk}/publish", {}, token)

    story.refresh_from_db()
    assert story.unpublish_at is None
    assert story.is_public


def test_publish_needs_the_publish_scope(client, user):
    story = ArticleFactory(draft=True)
    writer = token_for(user, "stories:write")

    error_of(post_json(client, f"/stories/{story.pk}/publish", {}, writer), 403, "forbidden")
    story.refresh_from_db()
    assert story.status == Status.DRAFT


def test_publish_checks_if_match_when_sent(client, token):
    story = ArticleFactory(draft=True)

    response = post_json(client, f"/stories/{story.pk}/publish", {}, token, **{"If-Match": "99"})

    error_of(response, 412)


def test_publish_refuses_a_time_it_cannot_store(client, token):
    story = ArticleFactory(draft=True)

    response = post_json(
        client, f"/stories/{story.pk}/publish", {"at": "9999-12-31T23:59:59-12:00"}, token
    )

    assert error_of(response, 422)["errors"][0]["loc"] == ["body", "payload", "at"]


def test_editors_read_drafts_with_their_token(client, token):
    story = ArticleFactory(draft=True, body="# 초안")

    response = client.get(f"{API}/stories/{story.pk}/editor", headers=bearer(token))

    assert response.status_code == 200
    assert (response.json()["body"], response.json()["status"]) == ("# 초안", "draft")
    assert response["Cache-Control"] == "private, no-cache"
    again = client.get(
        f"{API}/stories/{story.pk}/editor",
        headers={**bearer(token), "If-None-Match": response["ETag"]},
    )
    assert again.status_code == 304
    error_of(client.get(f"{API}/stories/{story.pk}/editor"), 401)


@pytest.mark.django_db(transaction=True)
def test_two_editors_saving_the_same_version_at_once_never_both_win():
    """Both send the version they read; the row lock (SQLite: the write lock taken when the
    transaction starts) makes the second wait, see the new version and get 412."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.test import Client

    raw = token_for(editor())
    story = ArticleFactory(draft=True)
    barrier = threading.Barrier(2)

    def save(title):
        try:
            barrier.wait()
            return patch(Client(), story, {"title": title}, raw, if_match=str(story.version))
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(save, ["편집자 A", "편집자 B"]))

    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r for r in responses if r.status_code == 200).json()["title"]
    story.refresh_from_db()
    assert (story.title, story.version) == (winner, 2)


def test_a_writer_edits_only_their_own_drafts(client):
    writer = editor("writer", perms=WRITER_PERMS)
    raw = token_for(writer, "stories:write", "stories:publish")
    own = Article.objects.get(
        pk=post_json(client, "/stories", {"title": "내 초안"}, raw).json()["id"]
    )
    others = ArticleFactory(draft=True)

    assert patch(client, own, {"title": "고친 초안"}, raw, if_match="1").status_code == 200
    # Another writer's draft answers the 404 of a missing id, whatever If-Match says: neither
    # its existence nor its version shows.
    for if_match in ("1", "99", None):
        hidden = error_of(patch(client, others, {"title": "남의 초안"}, raw, if_match), 404)
        missing = error_of(
            patch(client, Article(pk=others.pk + 1000), {"title": "x"}, raw, if_match), 404
        )
        assert hidden["message"] == missing["message"]
    assert client.get(f"{API}/stories/{own.pk}/editor", headers=bearer(raw)).status_code == 200
    error_of(client.get(f"{API}/stories/{others.pk}/editor", headers=bearer(raw)), 404)


def test_a_writer_cannot_publish_even_with_the_scope(client):
    writer = editor("writer", perms=WRITER_PERMS)
    raw = token_for(writer, "stories:write", "stories:publish")
    story = Article.objects.get(
        pk=post_json(client, "/stories", {"title": "내 초안"}, raw).json()["id"]
    )

    error_of(post_json(client, f"/stories/{story.pk}/publish", {}, raw), 403, "forbidden")
    story.refresh_from_db()
    assert story.status == Status.DRAFT


def test_every_api_write_is_a_revision_editors_can_compare_and_restore(client, token, user):
    from articles.models import Revision

    story_id = post_json(client, "/stories", {"title": "첫 판"}, token).json()["id"]
    story = Article.objects.get(pk=story_id)
    patch(client, story, {"title": "둘째 판"}, token, if_match="1")
    post_json(client, f"/stories/{story_id}/publish", {}, token)

    revisions = list(Revision.objects.filter(article_id=story_id).order_by("number"))
    assert [r.snapshot["title"] for r in revisions] == ["첫 판", "둘째 판", "둘째 판"]
    assert {r.author for r in revisions} == {user}
    assert revisions[-1].snapshot["status"] == "published"
