"""The story list's columns are short enough to fit beside the filters."""

import re

import pytest
from django.urls import reverse

from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

def test_the_story_list_shows_dates_on_two_short_lines(admin_client):
    ArticleFactory(title="목록 날짜")
    html = admin_client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert re.search(
        r'<td class="field-published_when"><time datetime="[^"]+">\d{4}-\d\d-\d\d<br><small>\d\d:\d\d</small></time></td>',
        html,
    )
    assert 'class="field-updated_when"' in html
    assert "발행 시각" in html
