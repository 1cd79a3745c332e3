"""Reader pages are read-only: another method gets a 405 in the site's style (with Allow), not
Django's English CSRF page. A real CSRF failure gets a Korean page; the admin's forms keep
their CSRF check."""

import re

import pytest
from django.test import Client

from tests import factories as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client():
    """A client that checks CSRF like a real deployment."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def reader_urls():
    company = make.CompanyFactory(slug="methods-co")
    person = make.PersonFactory(slug="methods-person", company=company)
    tag = make.TagFactory(name="메서드")
    series = make.SeriesFactory(slug="methods-series")
    story = make.ArticleFactory(company=company, people=[person], tags=[tag], series=series)
    collection = make.CollectionItemFactory(article=story).collection
    return [
        "/",
        "/interviews/",
        "/feed/",
        "/news/",
        story.get_absolute_url(),
        f"/stories/{story.pk}/",
        "/companies/",
        company.get_absolute_url(),
        person.get_absolute_url(),
        "/tags/",
        tag.get_absolute_url(),
        collection.get_absolute_url(),
        series.get_absolute_url(),
        "/robots.txt",
        "/feeds/atom/",
        "/feeds/atom/interviews/",
        f"/companies/{company.slug}/atom/",
        f"/tags/{tag.slug}/atom/",
    ]


def assert_styled_405(response):
    html = response.content.decode()
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert 'lang="ko"' in html
    assert "이 주소에서는 할 수 없는 요청입니다" in html
    assert "스토리 홈으로" in html
    assert "CSRF" not in html


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_reader_pages_answer_other_methods_with_a_styled_405(csrf_client, reader_urls, method):
    for url in reader_urls:
        response = getattr(csrf_client, method)(url)
        assert response.status_code == 405, (method, url, response.status_code)
        assert_styled_405(response)


def test_the_audit_examples(csrf_client, reader_urls):
    assert_styled_405(csrf_client.delete("/"))
    assert_styled_405(csrf_client.post(reader_urls[5]))  # /stories/<id>/


def test_reader_pages_still_answer_get_and_head(csrf_client, reader_urls):
    for url in reader_urls:
        response = csrf_client.get(url, follow=True)
        assert response.status_code == 200, url
        assert csrf_client.head(url, follow=True).status_code == 200, url


def test_a_405_is_not_cached_for_the_next_reader(csrf_client):
    make.ArticleFactory(title="지워지지 않는 글")
    assert csrf_client.delete("/feed/").status_code == 405
    response = csrf_client.get("/feed/")
    assert response.status_code == 200
    assert "지워지지 않는 글" in response.content.decode()


def test_the_search_form_keeps_its_csrf_check(csrf_client):
    response = csrf_client.post("/search/", {"q": "코드"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "요청을 확인하지 못했습니다" in html
    assert csrf_client.get("/search/", {"q": "코드"}).status_code == 200


def test_search_with_a_valid_token_but_another_method_is_a_405(client):
    # The test client skips the CSRF check: what is left is the method.
    assert_styled_405(client.post("/search/", {"q": "코드"}))


def test_csrf_failure_page_is_in_korean_and_hides_the_english_reason(csrf_client):
    make.UserFactory(username="editor", superuser=True)
    csrf_client.get("/admin/login/")
    response = csrf_client.post(
        "/admin/login/",
        {
            "username": "editor",
            "password": make.PASSWORD,
            "csrfmiddlewaretoken": "x" * 64,
        },
    )
    html = response.content.decode()
    assert response.status_code == 403
    assert 'lang="ko"' in html
    assert "요청을 확인하지 못했습니다" in html
    assert "새로 고친 뒤 다시 보내 주세요" in html
    assert "CSRF verification failed" not in html
    assert "CSRF token" not in html  # Django's English reason stays in the log


def test_admin_login_still_works_with_its_csrf_token(csrf_client):
    make.UserFactory(username="editor", superuser=True)
    login_page = csrf_client.get("/admin/login/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
    response = csrf_client.post(
        "/admin/login/?next=/admin/",
        {"username": "editor", "password": make.PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert csrf_client.get("/admin/").status_code == 200


def test_admin_forms_keep_their_csrf_check(csrf_client):
    editor = make.UserFactory(username="editor", superuser=True)
    csrf_client.force_login(editor)
    response = csrf_client.post("/admin/articles/tag/add/", {"name": "몰래태그"})
    assert response.status_code == 403
    assert "요청을 확인하지 못했습니다" in response.content.decode()
