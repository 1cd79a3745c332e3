"""A 조회수 at the column's largest value stays there: no REAL on SQLite, no 500 anywhere."""

import pytest
from django.db import connection
from django.test import Client

from tests.factories import ArticleFactory, set_views
from tests.readers_support import read_story

pytestmark = pytest.mark.django_db

LARGEST = 2**63 - 1
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


def stored(story):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count FROM articles_viewtotal WHERE article_id = %s", [story.pk])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("start", [LARGEST - 1, LARGEST])
def test_a_count_at_the_largest_value_saturates_and_everything_still_answers(start):
    story = ArticleFactory()
    set_views(story, start)

    for _ in range(2):  # two new readers
        page = read_story(Client(), story.get_absolute_url(), CHROME)
        assert page.status_code == 200
    page = Client().get(story.get_absolute_url(), HTTP_USER_AGENT=CHROME)
    assert f"<strong>{LARGEST}</strong>" in page.content.decode()

    value = stored(story)
    assert type(value) is int
    assert value == LARGEST
    api = Client().get(f"/api/v1/stories/{story.pk}")
    assert api.status_code == 200
    assert api.json()["view_count"] == LARGEST
    listing = Client().get("/api/v1/stories?ordering=popular")
    assert listing.status_code == 200
    assert listing.json()["items"][0]["view_count"] == LARGEST
