"""Preview links: a secret URL that shows one unpublished story to someone without an account,
until it expires or is revoked; never cached, never indexed, never counted."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, DailyView, PreviewLink, preview_token_digest
from tests.factories import ArticleFactory, StaffFactory

pytestmark = pytest.mark.django_db

URL = re.compile(r'value="(http://testserver/preview/\d+/[A-Za-z0-9_-]+/)"')


@pytest.fixture
def draft():
    return ArticleFactory(title="인터뷰 초안", draft=True, body="인터뷰이가 확인할 “인용”입니다.")


def links_url(article):
    return reverse("admin:articles_article_preview_links", args=[article.pk])


def issue(article, user=None, **kwargs):
    link, token = PreviewLink.issue(article, user, **kwargs)
    return link, PreviewLink.url_for(article.pk, token)


def test_an_editor_creates_a_link_and_sees_its_url_once(client, editor, draft):
    response = client.post(links_url(draft), {"days": 7})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    url = URL.search(page)[1]
    assert "한 번만" in page
    assert URL.search(client.get(links_url(draft)).content.decode()) is None  # shown once
    link = PreviewLink.objects.get()
    assert link.created_by == editor
    assert abs(link.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    entry = LogEntry.objects.get(object_id=str(draft.pk))
    assert entry.change_message.startswith("미리보기 링크 만듦")
    assert Client().get(url).status_code == 200


def test_the_default_expiry_is_seven_days(draft):
    link, _ = issue(draft)
    assert timedelta(days=6, hours=23) < link.expires_at - link.created_at <= timedelta(days=7)


def test_the_token_is_stored_only_as_a_digest(draft):
    link, url = issue(draft)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 32
    assert link.token_hash == preview_token_digest(token)
    assert not PreviewLink.objects.filter(token_hash=token).exists()
    assert token not in str(PreviewLink.objects.values().get())


def test_a_link_shows_the_draft_without_login_with_a_banner(draft):
    _, url = issue(draft)
    response = Client().get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "인터뷰 초안" in html
    assert "“인용”" in html
    assert 'class="preview-banner"' in html
    assert "미리보기" in html


def test_a_preview_is_never_cached_nor_indexed(draft):
    _, url = issue(draft)
    response = Client().get(url)
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_a_preview_counts_no_views(draft):
    _, url = issue(draft)
    reader = Client()
    for _ in range(3):
        assert reader.get(url).status_code == 200
    Client().get(url)
    draft.refresh_from_db()
    assert draft.view_count == 0
    assert not DailyView.objects.exists()


def test_an_expired_link_is_404(draft):
    link, url = issue(draft)
    PreviewLink.objects.filter(pk=link.pk).update(
        created_at=timezone.now() - timedelta(days=8),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert Client().get(url).status_code == 404


def test_a_revoked_link_is_404_at_once(draft):
    link, url = issue(draft)
    reader = Client()
    assert reader.get(url).status_code == 200
    link.revoked_at = timezone.now()
    link.save()
    assert reader.get(url).status_code == 404


def test_an_unknown_token_is_404(draft):
    issue(draft)
    url = reverse("articles:preview", args=[draft.pk, "A" * 32])
    assert Client().get(url).status_code == 404


def test_a_link_works_only_for_its_own_story(draft):
    other = ArticleFactory(title="다른 초안", draft=True)
    _, url = issue(draft)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert Client().get(reverse("articles:preview", args=[other.pk, token])).status_code == 404


def test_once_the_story_is_public_the_link_leads_to_its_page(draft):
    _, url = issue(draft)
    Article.objects.filter(pk=draft.pk).update(
        status="published", published_at=timezone.now() - timedelta(minutes=1)
    )
    response = Client().get(url)
    assert response.status_code == 302
    assert response.url == Article.objects.get(pk=draft.pk).get_absolute_url()


def test_a_scheduled_story_shows_when_it_goes_out(draft):
    when = timezone.now() + timedelta(days=2)
    Article.objects.filter(pk=draft.pk).update(status="published", published_at=when)
    _, url = issue(draft)
    html = Client().get(url).content.decode()
    assert "예약" in html
    assert timezone.localtime(when).strftime("%H:%M") in html


def test_a_preview_answers_only_get_and_head(draft):
    _, url = issue(draft)
    assert Client().post(url).status_code == 405


def test_an_editor_revokes_a_link_from_the_admin(client, editor, draft):
    link, url = issue(draft, editor)
    page = client.get(links_url(draft)).content.decode()
    assert link.hint in page
    assert "사용 중" in page
    revoke = reverse("admin:articles_article_revoke_preview", args=[draft.pk, link.pk])
    assert client.get(revoke).status_code == 405
    assert client.post(revoke).status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert Client().get(url).status_code == 404
    assert "취소됨" in client.get(links_url(draft)).content.decode()
    assert LogEntry.objects.filter(change_message__startswith="미리보기 링크 취소").exists()


def test_a_link_of_another_story_cannot_be_revoked_through_this_one(client, editor, draft):
    other = ArticleFactory(draft=True)
    link, _ = issue(other, editor)
    revoke = reverse("admin:articles_article_revoke_preview", args=[draft.pk, link.pk])
    assert client.post(revoke).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_a_link_lasts_at_most_thirty_days(client, editor, draft):
    response = client.post(links_url(draft), {"days": 365})
    assert response.status_code == 200
    assert not PreviewLink.objects.exists()


def test_a_writer_makes_links_for_their_own_draft_only(client):
    writer = StaffFactory(role="writer")
    client.force_login(writer)
    own = ArticleFactory(draft=True, created_by=writer)
    other = ArticleFactory(draft=True)
    assert client.post(links_url(own), {"days": 3}).status_code == 302
    assert client.post(links_url(other), {"days": 3}).status_code == 404
    assert list(PreviewLink.objects.values_list("article", flat=True)) == [own.pk]
