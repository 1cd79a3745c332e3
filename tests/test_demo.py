from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from articles.models import (
    Article,
    Collection,
    CollectionItem,
    Company,
    DailyView,
    Kind,
    Person,
    Series,
    State,
    Tag,
)

pytestmark = pytest.mark.django_db


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (Article, Company, Person, Tag, Series, Collection, CollectionItem, DailyView)
    } | {"versions": sorted(Article.objects.values_list("pk", "version", "updated_at"))}


def test_demo_content_fills_an_empty_site():
    output = seed()
    published = Article.objects.published()

    assert "데모 콘텐츠를 만들었습니다" in output
    assert Company.objects.count() >= 4
    assert Person.objects.count() >= 8
    assert published.count() >= 24
    assert min(published.filter(kind=kind).count() for kind in Kind.values) >= 6
    assert Collection.objects.on_home().exists()
    assert Series.objects.filter(articles__series_part=2).exists()
    assert published.filter(is_featured=True).count() == 1
    bodies = list(published.values_list("body_html", flat=True))
    assert sum("<blockquote>" in html for html in bodies) >= 6
    assert sum('class="footnote-ref"' in html for html in bodies) >= 6
    assert sum("<pre><code" in html for html in bodies) >= 6
    assert Tag.objects.filter(articles__in=published).distinct().count() >= 10


def test_demo_content_keeps_a_draft_and_a_scheduled_story_hidden():
    seed()
    hidden = Article.objects.exclude(pk__in=Article.objects.published())
    assert {story.state for story in hidden} == {State.DRAFT, State.SCHEDULED}


def test_running_the_demo_command_twice_changes_nothing():
    seed("--with-admin")
    before = snapshot()

    output = seed("--with-admin")

    assert snapshot() == before
    assert "바꾼 것이 없습니다" in output
    assert get_user_model().objects.filter(username="admin", is_superuser=True).count() == 1


def test_demo_command_leaves_an_editors_changes_alone():
    seed()
    story = Article.objects.published().first()
    story.title = "편집자가 바꾼 제목"
    story.save()
    count = Article.objects.count()

    seed()

    assert Article.objects.count() == count
    story.refresh_from_db()
    assert story.title == "편집자가 바꾼 제목"
