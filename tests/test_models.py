from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from articles.models import Article, Collection, State, Status
from articles.roles import visible_to
from articles.services import save_story
from tests import factories as make

pytestmark = pytest.mark.django_db


def test_published_returns_only_due_published_stories():
    live = make.ArticleFactory(title="공개된 글")
    make.ArticleFactory(draft=True, title="초안")
    make.ArticleFactory(in_review=True, title="검토 중")
    make.ArticleFactory(scheduled=True, title="예약")
    make.ArticleFactory(expired=True, title="내린 글")

    assert list(Article.objects.published()) == [live]


def test_scheduled_story_becomes_published_at_its_time_without_any_job():
    story = make.ArticleFactory(scheduled=True)
    assert story not in Article.objects.published()
    assert story in Article.objects.published(now=story.published_at + timedelta(seconds=1))


def test_story_is_withdrawn_exactly_at_unpublish_at():
    story = make.ArticleFactory(unpublish_at=timezone.now() + timedelta(hours=1))
    assert story in Article.objects.published()
    assert story not in Article.objects.published(now=story.unpublish_at)


def test_visible_to_shows_everything_to_editors_and_only_published_to_others():
    live = make.ArticleFactory()
    draft = make.ArticleFactory(draft=True)
    editor = make.UserFactory(superuser=True)
    reader = make.UserFactory()

    assert set(visible_to(editor)) == {live, draft}
    assert list(visible_to(reader)) == [live]
    assert list(visible_to(None)) == [live]


def test_inactive_staff_sees_only_published():
    make.ArticleFactory(draft=True)
    staff = make.UserFactory(superuser=True, is_active=False)
    assert not visible_to(staff).exists()


def test_for_listing_runs_two_queries_whatever_the_number_of_stories(django_assert_num_queries):
    for _ in range(6):
        make.ArticleFactory(tags=[make.TagFactory(), make.TagFactory()])
    with django_assert_num_queries(2):
        stories = list(Article.objects.published().for_listing())
        names = [(s.company.name, [t.name for t in s.tags.all()]) for s in stories]
    assert len(names) == 6


def test_korean_title_gives_readable_korean_slug():
    story = make.ArticleFactory(title="오픈소스 기여로 성장하기: 우리 팀 이야기!", slug="")
    assert story.slug == "오픈소스-기여로-성장하기-우리-팀-이야기"


def test_punctuation_only_title_still_gets_a_slug():
    story = make.ArticleFactory(title="?!…", slug="")
    assert story.slug == "story"


def test_same_title_twice_gives_distinct_slugs():
    first = make.ArticleFactory(title="같은 제목", slug="")
    second = make.ArticleFactory(title="같은 제목", slug="")
    third = make.ArticleFactory(title="같은 제목", slug="")
    assert [first.slug, second.slug, third.slug] == ["같은-제목", "같은-제목-2", "같은-제목-3"]


def test_body_is_rendered_once_at_save_with_reading_time_and_excerpt():
    story = make.ArticleFactory(body="첫 문장입니다. " * 300, excerpt="")
    assert story.body_html.startswith("<p>첫 문장입니다.")
    assert story.reading_minutes == 4  # 1,800 Hangul syllables at 500 a minute
    assert story.excerpt.startswith("첫 문장입니다.")
    assert len(story.excerpt) <= 160


def test_publishing_without_a_date_stamps_now():
    story = make.ArticleFactory(status=Status.PUBLISHED, published_at=None)
    assert story.published_at is not None
    assert story in Article.objects.published()


@override_settings(ARTICLE_BODY_MAX_CHARS=100)
def test_body_over_the_cap_is_refused_with_a_clear_message():
    story = make.ArticleFactory.build(body="가" * 101, company=make.CompanyFactory())
    with pytest.raises(ValidationError, match="본문이 너무 깁니다"):
        save_story(story, by=None)
    assert not Article.objects.exists()


def test_saving_a_stale_instance_keeps_view_counts_added_meanwhile():
    story = make.ArticleFactory()
    stale = Article.objects.get(pk=story.pk)
    make.set_views(story, 5)

    stale.title = "편집자가 고친 제목"
    stale.save()

    story.refresh_from_db()
    assert story.view_count == 5
    assert story.title == "편집자가 고친 제목"


def test_every_save_bumps_the_version():
    story = make.ArticleFactory()
    version = story.version
    story.save()
    story.refresh_from_db()
    assert story.version == version + 1


def test_state_names_each_stage_for_editors():
    assert make.ArticleFactory(draft=True).state == State.DRAFT
    assert make.ArticleFactory(in_review=True).state == State.REVIEW
    assert make.ArticleFactory(scheduled=True).state == State.SCHEDULED
    assert make.ArticleFactory().state == State.PUBLISHED
    assert make.ArticleFactory(expired=True).state == State.UNPUBLISHED


def test_collections_on_home_respect_their_time_box_and_order():
    now = timezone.now()
    second = make.CollectionFactory(position=2)
    first = make.CollectionFactory(position=1)
    make.CollectionFactory(show_on_home=False)
    make.CollectionFactory(starts_at=now + timedelta(days=1))
    make.CollectionFactory(starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1))

    assert list(Collection.objects.on_home(now)) == [first, second]


def test_collection_items_keep_their_order():
    collection = make.CollectionFactory()
    b = make.CollectionItemFactory(collection=collection, position=2).article
    a = make.CollectionItemFactory(collection=collection, position=1).article
    ordered = [item.article for item in collection.items.all()]
    assert ordered == [a, b]


def test_company_and_tag_slugs_are_made_from_korean_names():
    company = make.CompanyFactory(name="한빛 데이터", slug="")
    tag = make.TagFactory(name="#개발 문화")
    assert company.slug == "한빛-데이터"
    assert (tag.name, tag.slug) == ("개발 문화", "개발-문화")


def test_related_stories_order_the_tag_pool_by_shared_tags_then_newest():
    # The tag pool is driven from the story's tags (the through table), so check its order
    # on its own: most shared tags first, newest first among equals, never the story itself
    # nor a hidden story, even one sharing every tag.
    a, b, c = make.TagFactory(), make.TagFactory(), make.TagFactory()
    now = timezone.now()
    story = make.ArticleFactory(tags=[a, b, c], kind="feed", published_at=now - timedelta(days=9))
    one_old = make.ArticleFactory(tags=[a], kind="news", published_at=now - timedelta(days=5))
    one_new = make.ArticleFactory(tags=[c], kind="news", published_at=now - timedelta(days=1))
    two = make.ArticleFactory(tags=[a, b], kind="news", published_at=now - timedelta(days=8))
    make.ArticleFactory(tags=[a, b, c], kind="news", draft=True)
    make.ArticleFactory(tags=[a, b, c], kind="news", published_at=now + timedelta(days=1))

    related = Article.objects.related_links(story, limit=4)

    assert [s.pk for s in related] == [two.pk, one_new.pk, one_old.pk]


def test_on_sqlite_a_storys_text_is_stored_after_every_other_column():
    # Migration 0019: SQLite reads a column stored after a long one by walking that one's
    # overflow pages. A later rebuild of the table (any AlterField of Article on SQLite) puts
    # the text back in its place: move it last again, as 0019 does.
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL keeps long values out of the row (TOAST)")
    with connection.cursor() as cursor:
        columns = [
            column.name
            for column in connection.introspection.get_table_description(
                cursor, Article._meta.db_table
            )
        ]
    assert columns[-2:] == ["body", "body_html"]
