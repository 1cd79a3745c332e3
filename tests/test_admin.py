"""The editors' admin: every page renders, search works, slugs and actions behave."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Collection, State, Status
from tests import factories as make
from tests.editorial_support import split

pytestmark = pytest.mark.django_db

MODELS = ["article", "company", "person", "tag", "series", "collection", "dailyview"]


@pytest.fixture
def content():
    company = make.CompanyFactory(name="누리랩스")
    person = make.PersonFactory(name="박하늘", company=company)
    tag = make.TagFactory(name="코드리뷰")
    series = make.SeriesFactory()
    story = make.ArticleFactory(
        title="코드 리뷰를 즐겁게", company=company, people=[person], tags=[tag], series=series,
        series_part=1,
    )  # fmt: skip
    collection = make.CollectionItemFactory(article=story).collection
    return {
        "article": story, "company": company, "person": person, "tag": tag, "series": series,
        "collection": collection,
    }  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_renders(admin_client, content, model):
    response = admin_client.get(reverse(f"admin:articles_{model}_changelist"))
    assert response.status_code == 200
    assert "편집실" in response.content.decode()


@pytest.mark.parametrize("model", [m for m in MODELS if m != "dailyview"])
def test_every_add_page_renders(admin_client, model):
    response = admin_client.get(reverse(f"admin:articles_{model}_add"))
    assert response.status_code == 200
    assert "<form" in response.content.decode()


@pytest.mark.parametrize("model", [m for m in MODELS if m != "dailyview"])
def test_every_change_page_renders(admin_client, content, model):
    obj = content[model]
    response = admin_client.get(reverse(f"admin:articles_{model}_change", args=[obj.pk]))
    assert response.status_code == 200
    assert str(obj) in response.content.decode()


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        ("article", "즐겁게", "코드 리뷰를 즐겁게"),
        ("article", "누리랩스", "코드 리뷰를 즐겁게"),
        ("company", "누리", "누리랩스"),
        ("person", "하늘", "박하늘"),
        ("tag", "리뷰", "코드리뷰"),
    ],
)
def test_changelist_search_finds_rows(admin_client, content, model, query, expected):
    make.ArticleFactory(
        title="다른 이야기", company=make.CompanyFactory(name="다른회사"),
        people=[make.PersonFactory(name="최바다")], tags=[make.TagFactory(name="인프라")],
    )  # fmt: skip
    url = reverse(f"admin:articles_{model}_changelist")
    response = admin_client.get(url, {"q": query})
    assert expected in response.content.decode()
    assert [str(row) for row in response.context["cl"].result_list] == [str(content[model])]


def test_changelist_shows_scheduled_time(admin_client):
    make.ArticleFactory(title="다음 주 발행", scheduled=True)
    response = admin_client.get(reverse("admin:articles_article_changelist"))
    assert "예약 <small>(" in response.content.decode()


def story_form(**overrides):
    data = {
        "kind": "feed", "title": "", "slug": "", "excerpt": "", "body": "본문입니다.",
        "byline": "", "job_family": "", "series_part": "", "status": "draft",
        "published_at_0": "", "published_at_1": "", "unpublish_at_0": "", "unpublish_at_1": "",
        "meta_description": "", "original_url": "", "cover_alt": "", "cover_credit": "", "cover_focus": "center",
        "collection_items-TOTAL_FORMS": "0", "collection_items-INITIAL_FORMS": "0",
    }  # fmt: skip
    data.update(overrides)
    return data


def add_story(client, **fields):
    """The story add form posted with `fields` over an empty new story."""
    return client.post(reverse("admin:articles_article_add"), story_form(**fields))


def test_editor_creates_story_with_korean_title_and_gets_korean_slug(admin_client):
    response = add_story(
        admin_client, title="우리는 왜 PostgreSQL로 옮겼나", slug="우리는-왜-postgresql로-옮겼나"
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    story = Article.objects.get()
    assert story.slug == "우리는-왜-postgresql로-옮겼나"
    assert story.created_by.username == "admin"


def test_two_stories_with_the_same_title_get_distinct_slugs_not_an_error(admin_client):
    for _ in range(2):
        response = add_story(admin_client, title="같은 제목", slug="같은-제목")
        assert response.status_code == 302
    assert sorted(Article.objects.values_list("slug", flat=True)) == ["같은-제목", "같은-제목-2"]


def test_a_typed_slug_that_is_taken_gives_a_form_error(admin_client):
    make.ArticleFactory(slug="내-슬러그")
    response = add_story(admin_client, title="다른 제목", slug="내-슬러그")
    assert response.status_code == 200
    assert "다른 스토리가 쓰고 있습니다" in response.content.decode()


def test_hostile_body_is_saved_but_rendered_harmlessly(admin_client):
    body = '<script>alert(1)</script>\n\n[클릭](javascript:alert(1))\n\n<b onclick="x()">굵게</b>'
    response = add_story(admin_client, title="보안 점검", body=body)
    assert response.status_code == 302
    story = Article.objects.get()
    assert story.body == body
    assert "<script" not in story.body_html
    assert 'href="javascript' not in story.body_html
    assert "<b " not in story.body_html


def test_scheduled_story_saved_in_admin_is_not_published_yet(admin_client):
    tomorrow = timezone.localtime() + timedelta(days=1)
    response = add_story(
        admin_client, title="내일 나갈 글", status="published", **split("published_at", tomorrow)
    )
    assert response.status_code == 302
    story = Article.objects.get()
    assert story.state == State.SCHEDULED
    assert not Article.objects.published().exists()


def test_unpublish_before_publish_is_a_form_error(admin_client):
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    response = add_story(
        admin_client,
        title="순서가 틀린 글",
        status="published",
        **split("published_at", noon),
        **split("unpublish_at", noon - timedelta(days=1)),
    )
    assert response.status_code == 200
    assert "내릴 시각은 발행 시각보다 뒤여야 합니다" in response.content.decode()
    assert not Article.objects.exists()


def test_view_count_cannot_be_written_from_the_change_form(admin_client):
    story = make.ArticleFactory(title="조회수 지키기")
    make.set_views(story, 42)
    response = admin_client.post(
        reverse("admin:articles_article_change", args=[story.pk]),
        story_form(
            title="조회수 지키기", slug=story.slug, status="published", view_count="0",
            base_version=str(story.version),
            published_at_0=timezone.localtime(story.published_at).strftime("%Y-%m-%d"),
            published_at_1=timezone.localtime(story.published_at).strftime("%H:%M:%S"),
        ),
    )  # fmt: skip
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.view_count == 42


def test_publish_and_unpublish_actions(admin_client):
    draft = make.ArticleFactory(draft=True)
    url = reverse("admin:articles_article_changelist")
    admin_client.post(url, {"action": "publish_now", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED
    assert draft in Article.objects.published()

    admin_client.post(url, {"action": "unpublish_now", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft not in Article.objects.published()
    assert draft.state == State.UNPUBLISHED


def test_view_on_site_leads_to_the_story_page(admin_client, content):
    story = content["article"]
    response = admin_client.get(reverse("admin:articles_article_change", args=[story.pk]))
    assert "사이트에서 보기" in response.content.decode()
    redirect = admin_client.get(
        reverse("admin:view_on_site", args=[response.context["content_type_id"], story.pk])
    )
    assert redirect.status_code == 302
    assert redirect.url.endswith(story.get_absolute_url())
    page = admin_client.get(story.get_absolute_url())
    assert story.title in page.content.decode()


def test_autocomplete_finds_companies_people_and_tags(admin_client, content):
    url = reverse("admin:autocomplete")
    for field, term, expected in [
        ("company", "누리", "누리랩스"),
        ("people", "하늘", "박하늘"),
        ("tags", "리뷰", "#코드리뷰"),
    ]:
        response = admin_client.get(
            url,
            {"term": term, "app_label": "articles", "model_name": "article", "field_name": field},
        )
        assert response.status_code == 200
        assert expected in [row["text"] for row in response.json()["results"]]


def test_collection_items_are_edited_inline_in_order(admin_client):
    first, second = make.ArticleFactory(title="첫째"), make.ArticleFactory(title="둘째")
    response = admin_client.post(
        reverse("admin:articles_collection_add"),
        {
            "title": "이달의 추천", "slug": "monthly", "description": "", "position": "0",
            "show_on_home": "on", "starts_at_0": "", "starts_at_1": "", "ends_at_0": "",
            "ends_at_1": "",
            "items-TOTAL_FORMS": "2", "items-INITIAL_FORMS": "0",
            "items-0-position": "2", "items-0-article": str(first.pk),
            "items-1-position": "1", "items-1-article": str(second.pk),
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    collection = Collection.objects.get(slug="monthly")
    assert [i.article.title for i in collection.items.all()] == ["둘째", "첫째"]
