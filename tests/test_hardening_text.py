"""Titles, names, slugs and tags refuse bidirectional controls and values nobody can see:
one rule on the model fields (articles/models/text.py), read by the admin's forms, the API
(422) and the importer."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from articles.importing import import_dump
from articles.models import Article, Collection, Company, Person, Series, Tag
from articles.theteams import DumpError
from tests.api_support import API, bearer, editor, token_for
from tests.editorial_support import story_data
from tests.test_import import story_dump

pytestmark = pytest.mark.django_db

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069", "\u200e", "\u200f", "\u061c"]  # fmt: skip
INVISIBLE = ["\u200b", "\u200b\u200c\u200d", "\ufeff", " \u3164 ", "\u2800", "\u0301"]


@pytest.mark.parametrize("mark", BIDI)
def test_a_bidirectional_control_is_refused_in_a_title(mark):
    story = Article(title=f"공지{mark}사항", kind="feed", body="본문")
    with pytest.raises(ValidationError) as refused:
        story.full_clean()
    [error] = refused.value.error_dict["title"]
    assert error.code == "bidi_control"
    assert f"U+{ord(mark):04X}" in error.messages[0]


@pytest.mark.parametrize("value", INVISIBLE)
def test_a_title_nobody_can_see_is_refused(value):
    with pytest.raises(ValidationError) as refused:
        Article(title=value, kind="feed", body="본문").full_clean()
    assert refused.value.error_dict["title"][0].code == "invisible"


@pytest.mark.parametrize(
    ("model", "field", "values"),
    [
        (Company, "name", {"slug": "co"}),
        (Company, "slug", {"name": "회사"}),
        (Person, "name", {"slug": "person"}),
        (Person, "nickname", {"name": "김개발", "slug": "person"}),
        (Person, "slug", {"name": "김개발"}),
        (Tag, "name", {"slug": "tag"}),
        (Tag, "slug", {"name": "태그"}),
        (Series, "title", {"slug": "series"}),
        (Series, "slug", {"title": "연재"}),
        (Collection, "title", {"slug": "collection"}),
        (Collection, "slug", {"title": "모음"}),
        (Article, "slug", {"title": "제목", "kind": "feed"}),
    ],
)
@pytest.mark.parametrize("value", ["이름\u202e거꾸로", "\u3164\u3164"])
def test_every_name_and_slug_follows_the_same_rule(model, field, values, value):
    with pytest.raises(ValidationError) as refused:
        model(**values, **{field: value}).full_clean()
    assert {e.code for e in refused.value.error_dict[field]} & {"bidi_control", "invisible"}


def test_ordinary_korean_text_with_marks_and_spaces_passes():
    Article(title="아랍어 اَلْعَرَبِيَّة 와 한국어, 그리고 🙂", slug="ok", body="").clean_fields(
        exclude={"kind"}
    )


def test_the_api_answers_422_naming_the_field(client):
    token = token_for(editor(), "stories:write")

    def create(**payload):
        return client.post(
            f"{API}/stories",
            data=json.dumps({"title": "제목", "kind": "feed", **payload}),
            content_type="application/json",
            headers=bearer(token),
        )

    for payload, loc, code in [
        ({"title": "공지\u202e사항"}, "title", "bidi_control"),
        ({"title": "\u200b\u200b"}, "title", "invisible"),
        ({"slug": "\u3164"}, "slug", "invisible"),
        ({"tags": ["좋은\u2066태그"]}, "tags", "bidi_control"),
    ]:
        response = create(**payload)
        assert response.status_code == 422, (payload, response.content)
        [error] = response.json()["errors"]
        assert loc in error["loc"]
        assert error["type"] == code
    assert not Article.objects.exists()
    assert not Tag.objects.exists()


@pytest.mark.parametrize(
    ("url_name", "data", "field"),
    [
        ("admin:articles_article_add", story_data(title="공지\u202e사항"), "title"),
        ("admin:articles_tag_add", {"name": "\u200b", "slug": "tag"}, "name"),
        ("admin:articles_tag_add", {"name": "태그", "slug": "\u3164"}, "slug"),
    ],
)
def test_the_admin_shows_a_form_error(admin_client, url_name, data, field):
    response = admin_client.post(reverse(url_name), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("공지\u202e사항", "첫 문장입니다.둘째 문장입니다."),
        ("멀쩡한 제목", "첫 문장입니다.둘째 문장입니다. #좋은\u202e태그"),
    ],
)
def test_the_importer_refuses_with_a_clear_message(title, body):
    with pytest.raises(DumpError) as refused:
        import_dump(story_dump(title, body))
    assert "U+202E" in str(refused.value)
    assert not Article.objects.exists()
    assert not Tag.objects.exists()
