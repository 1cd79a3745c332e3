"""Hardening: login brute force is throttled per user and address, every page carries a
Content-Security-Policy without inline script and the other security headers, companies and
people that stories name cannot be deleted by accident, and `check --deploy` is clean."""

import os
import sys

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from articles.models import Company, Person
from ops.http import client_ip
from tests.factories import PASSWORD, ArticleFactory, CompanyFactory, PersonFactory, StaffFactory
from tests.process_support import run

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def login(client, username, password, address="203.0.113.7"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def test_five_wrong_passwords_lock_that_user_out_from_that_address(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    StaffFactory(username="target", role="editor")
    client = Client()
    for _ in range(4):
        assert login(client, "target", "wrong").status_code == 200  # the form again
    locked = login(client, "target", "wrong")
    assert locked.status_code == 429
    assert "로그인을 잠시 막았습니다" in locked.content.decode()
    # Even the right password is refused during the cool-off.
    response = login(client, "target", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_user_and_address(settings):
    StaffFactory(username="target", role="editor")
    StaffFactory(username="colleague", role="editor")
    attacker = Client()
    for _ in range(5):
        login(attacker, "target", "wrong")
    assert login(attacker, "target", PASSWORD).status_code == 429
    # The same user from another address, and another user from the same address, still log in.
    assert login(Client(), "target", PASSWORD, address="198.51.100.2").status_code == 302
    assert login(Client(), "colleague", PASSWORD).status_code == 302


def test_a_good_login_resets_the_count(settings):
    StaffFactory(username="forgetful", role="writer")
    client = Client()
    for _ in range(4):
        login(client, "forgetful", "wrong")
    assert login(client, "forgetful", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert login(client, "forgetful", "wrong").status_code == 200


def test_behind_a_proxy_the_client_is_the_address_the_proxy_appended(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.9"


@pytest.mark.parametrize(
    "path", ["/", "/feed/", LOGIN, "/api/v1/docs", "/api/v1/stories", "/no-such-page/"]
)
def test_every_answer_carries_a_csp_without_inline_script(client, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if " " in part)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_story_pages_and_the_admin_work_under_the_policy(client):
    story = ArticleFactory(title="정책 아래의 글")
    page = client.get(story.get_absolute_url())
    assert page.status_code == 200
    assert "Content-Security-Policy" in page
    assert 'type="application/ld+json"' in page.content.decode()
    editor = StaffFactory(role="editor")
    client.force_login(editor)
    for url in (
        reverse("admin:index"),
        reverse("admin:articles_article_changelist"),
        reverse("admin:articles_article_change", args=[story.pk]),
        reverse("admin:articles_article_revisions", args=[story.pk]),
        reverse("admin:articles_article_preview_links", args=[story.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Content-Security-Policy" in response
        assert ' style="' not in response.content.decode(), url  # no inline style attributes


def test_security_headers_are_set(client):
    response = client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = response["Permissions-Policy"]
    assert "camera=()" in policy
    assert "geolocation=()" in policy


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-for-the-deploy-check",
        "ALLOWED_HOSTS": "stories.example.com",
        "DEBUG": "false",
        "SECURE_SSL": "true",
    }
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- Nothing that stories name is deleted by accident ------------------------------------------


def test_a_company_with_stories_cannot_be_deleted(editor_client):
    company = CompanyFactory(name="지킬회사")
    ArticleFactory(title="회사의 글", company=company)
    url = reverse("admin:articles_company_delete", args=[company.pk])
    page = editor_client.get(url).content.decode()
    assert "회사의 글" in page
    assert "보호" in page
    assert editor_client.post(url, {"post": "yes"}).status_code == 200
    assert Company.objects.filter(pk=company.pk).exists()


def test_a_person_featured_in_a_story_cannot_be_deleted(editor_client):
    person = PersonFactory(name="인터뷰이")
    story = ArticleFactory(title="인터뷰 글", people=[person])
    url = reverse("admin:articles_person_delete", args=[person.pk])
    page = editor_client.get(url).content.decode()
    assert "인터뷰 글" in page
    assert reverse("admin:articles_article_change", args=[story.pk]) in page
    assert editor_client.post(url, {"post": "yes"}).status_code == 200
    assert Person.objects.filter(pk=person.pk).exists()
    response = editor_client.post(
        reverse("admin:articles_person_changelist"),
        {"action": "delete_selected", "_selected_action": [person.pk], "post": "yes"},
    )
    assert response.status_code == 200
    assert Person.objects.filter(pk=person.pk).exists()


def test_a_person_in_no_story_can_be_deleted(editor_client):
    person = PersonFactory(name="퇴사자", company=None)
    url = reverse("admin:articles_person_delete", args=[person.pk])
    assert editor_client.post(url, {"post": "yes"}).status_code == 302
    assert not Person.objects.filter(pk=person.pk).exists()
