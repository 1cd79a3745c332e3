"""The number of published stories the database keeps as stories are written
(articles/tally.py), and the API list's stamp made from it."""

from datetime import timedelta

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.utils import timezone

from api.common import list_stamp
from api.stories import StoryFilter, filtered
from articles import tally
from articles.models import Article, Company
from articles.models.common import Status
from tests import factories as make

pytestmark = pytest.mark.django_db


def tallied() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT stories FROM {tally.TABLE} WHERE id = 1")
        row = cursor.fetchone()
    return None if row is None else row[0]


def with_status_published() -> int:
    return Article.objects.filter(status=Status.PUBLISHED).count()


def counted(now=None) -> dict:
    """The stamp as the aggregate over every published story gives it."""
    return list_stamp(Article.objects.published(now), whole=False)


def test_the_tally_follows_every_write_through_the_door_or_around_it():
    start = tallied()
    stories = [make.ArticleFactory() for _ in range(3)]
    make.ArticleFactory(draft=True)
    make.ArticleFactory(scheduled=True)
    assert tallied() == start + 4 == with_status_published()

    # Around the door: QuerySet.update(), raw SQL, bulk_create(), a delete.
    Article.objects.filter(pk=stories[0].pk).update(status=Status.DRAFT)
    assert tallied() == start + 3
    Article.objects.filter(pk=stories[0].pk).update(title="바뀐 제목")  # status untouched
    assert tallied() == start + 3
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE articles_article SET status = %s WHERE id = %s",
            [Status.PUBLISHED, stories[0].pk],
        )
    assert tallied() == start + 4
    copies = [
        Article(
            title=f"복사 {n}",
            slug=f"copy-{n}",
            body="본문",
            status=Status.PUBLISHED,
            published_at=timezone.now(),
            company=stories[1].company,
        )
        for n in range(5)
    ]
    Article.objects.bulk_create(copies)
    assert tallied() == start + 9
    Article.objects.filter(pk__in=[story.pk for story in stories]).delete()
    assert tallied() == start + 6 == with_status_published()


@pytest.mark.parametrize("trait", make.HIDDEN_TRAITS)
def test_the_whole_stamp_is_the_aggregate_at_every_moment(trait):
    """A scheduled story counts once its moment has passed, a withdrawn one no longer does: the
    stamp from the tally agrees with the aggregate now and two days on."""
    now = timezone.now()
    make.ArticleFactory()
    make.ArticleFactory(company=None)
    make.ArticleFactory(**{trait: True})
    make.ArticleFactory(
        published_at=now - timedelta(days=1), unpublish_at=now + timedelta(days=1)
    )  # withdrawn tomorrow
    for moment in (now, now + timedelta(days=2)):
        stamp = tally.published_stamp(moment)
        assert stamp == counted(moment)
    assert tally.published_stamp(now)["count"] == 3
    later = tally.published_stamp(now + timedelta(days=2))["count"]
    assert later == 2 + (trait == "scheduled")


def test_the_latest_company_change_is_of_a_company_with_a_published_story():
    now = timezone.now()
    shown = make.ArticleFactory()
    hidden = make.ArticleFactory(draft=True)
    Company.objects.filter(pk=hidden.company_id).update(updated_at=now + timedelta(hours=2))
    Company.objects.filter(pk=shown.company_id).update(updated_at=now + timedelta(hours=1))
    stamp = tally.published_stamp(now)
    assert stamp["company_updated"] == now + timedelta(hours=1)
    assert stamp == counted(now)


def test_with_no_row_the_list_is_counted_and_ensure_puts_the_row_back():
    make.ArticleFactory()
    make.ArticleFactory(scheduled=True)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {tally.TABLE}")
    assert tally.published_stamp(timezone.now()) is None
    stories = filtered(StoryFilter())
    assert list_stamp(stories, whole=True) == counted()
    assert list_stamp(stories, whole=True)["count"] == 1

    tally.ensure()
    assert tallied() == 2
    assert list_stamp(filtered(StoryFilter()), whole=True) == counted()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite rebuilds tables on ALTER")
def test_a_trigger_a_table_rebuild_dropped_is_put_back_after_migrate():
    """Django rebuilds a SQLite table for most ALTERs, which drops its triggers; migrate's
    post_migrate puts them back and counts again."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER articles_tally_insert")
    make.ArticleFactory()  # not counted: no trigger
    assert tallied() == with_status_published() - 1

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert tallied() == with_status_published()
    make.ArticleFactory()
    assert tallied() == with_status_published()


@pytest.mark.postgres
def test_truncating_the_stories_empties_the_tally():
    make.ArticleFactory()
    assert tallied() >= 1
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks: TRUNCATE may run
        cursor.execute("TRUNCATE articles_article CASCADE")
    assert tallied() == 0
    make.ArticleFactory()
    assert tallied() == 1
