"""The admin speaks Korean everywhere, login lockouts (django-axes) included, and the story
list's columns are short enough to fit beside the filters."""

import gettext
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[1] / "locale" / "ko" / "LC_MESSAGES"
AXES_PAGES = ["accessattempt", "accessfailurelog", "accesslog"]


def test_the_admin_index_names_the_lockout_app_and_models_in_korean(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "로그인 잠금" in html
    for name in ["로그인 시도", "로그인 실패", "접속 기록"]:
        assert name in html
    for english in ["Axes", "AXES", "Access attempts", "Access failures", "Access logs"]:
        assert english not in html


@pytest.mark.parametrize("model", AXES_PAGES)
def test_every_lockout_page_has_korean_columns_and_filters(admin_client, model):
    response = admin_client.get(reverse(f"admin:axes_{model}_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>.*?<a [^>]*>([^<]+)</a>', html, re.S)
    headers += re.findall(r'<th scope="col"[^>]*>\s*<div class="text"><span>([^<]+)</span>', html)
    assert headers, html[:2000]
    for header in headers:
        assert re.search(r"[가-힣]", header), (model, header)
    assert "로그인 잠금" in html  # the breadcrumbs


@pytest.mark.parametrize("catalogue", ["django", "djangojs"])
def test_the_compiled_catalogues_hold_every_translation_of_their_source(catalogue):
    source = (LOCALE / f"{catalogue}.po").read_text(encoding="utf-8")
    with (LOCALE / f"{catalogue}.mo").open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    singles = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', source, re.M)
    plurals = re.findall(r'^msgid "(.+)"\nmsgid_plural "(.+)"\nmsgstr\[0\] "(.+)"$', source, re.M)
    assert singles or plurals
    for msgid, msgstr in singles:
        assert translations.gettext(msgid) == msgstr, msgid
    for msgid, plural, msgstr in plurals:
        assert translations.ngettext(msgid, plural, 2) == msgstr, msgid


def test_the_story_list_shows_dates_on_two_short_lines(admin_client):
    ArticleFactory(title="목록 날짜")
    html = admin_client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert re.search(
        r'<td class="field-published_when"><time datetime="[^"]+">\d{4}-\d\d-\d\d<br><small>\d\d:\d\d</small></time></td>',
        html,
    )
    assert 'class="field-updated_when"' in html
    assert "발행 시각" in html
