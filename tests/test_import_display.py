"""How imported stories show: hashtags in the author's order, no invented date, the source.

The dump is read from ../shared/seed at run time (never copied into the project).
"""

import re

import pytest
from django.urls import reverse

from articles.models import Article, Tag
from tests.editorial_support import story_data
from tests.factories import ArticleFactory
from tests.test_import import imported, run_import, seed_blocks

pytestmark = pytest.mark.django_db


def seed_tag_order(seed_file) -> list[list[str]]:
    """Each story's hashtags as its body line lists them (the trailing run of #words)."""
    orders = []
    for _, body in seed_blocks(seed_file):
        run = re.search(r"(?:#\S+\s*)+$", body)
        orders.append(list(dict.fromkeys(re.findall(r"#(\S+)", run.group()))) if run else [])
    return orders


def shown_tags(html: str) -> list[str]:
    """The hashtags of the story page's own tag line, in the order shown."""
    line = re.search(r'<p class="tag-list" aria-label="해시태그">(.*?)</p>', html, re.DOTALL)
    return re.findall(r">#([^<]+)</a>", line.group(1)) if line else []


@pytest.mark.seed
def test_hashtags_keep_the_authors_order_on_the_story_page_cards_and_api(client, seed_file):
    run_import(seed_file)
    expected = seed_tag_order(seed_file)
    assert any(order != sorted(order) for order in expected)  # the order is not alphabetical
    for story, order in zip(imported(seed_file), expected, strict=True):
        assert [tag.name for tag in story.ordered_tags()] == order
        assert shown_tags(client.get(story.get_absolute_url()).content.decode()) == order
        detail = client.get(f"/api/v1/stories/{story.pk}").json()
        assert [tag["name"] for tag in detail["tags"]] == order
        listed = Article.objects.filter(pk=story.pk).for_listing().get()
        assert [tag.name for tag in listed.tags.all()] == order


@pytest.mark.seed
def test_reimport_puts_reordered_tags_back_in_the_authors_order(seed_file):
    run_import(seed_file)
    story = imported(seed_file)[1]
    story.set_tags(sorted(story.ordered_tags(), key=lambda tag: tag.name))
    version = Article.objects.get(pk=story.pk).version

    output = run_import(seed_file)

    assert "고침 1" in output
    assert [tag.name for tag in story.ordered_tags()] == seed_tag_order(seed_file)[1]
    assert Article.objects.get(pk=story.pk).version == version + 1
    assert "그대로 3" in run_import(seed_file)


def test_set_tags_orders_drops_and_dedupes():
    story = ArticleFactory()
    a, b, c = (Tag.objects.create(name=name) for name in ("가", "나", "다"))
    story.set_tags([c, a, b])
    assert story.ordered_tags() == [c, a, b]
    story.set_tags([b, c, b])
    assert story.ordered_tags() == [b, c]
    assert list(story.tag_links.values_list("position", flat=True)) == [0, 1]


def test_the_admin_keeps_the_order_the_tags_were_picked_in(admin_client):
    story = ArticleFactory()
    a, b, c = (Tag.objects.create(name=name) for name in ("가", "나", "다"))
    story.set_tags([c, a])
    url = reverse("admin:articles_article_change", args=[story.pk])
    page = admin_client.get(url).content.decode()
    picked = re.search(r'<select name="hashtags".*?</select>', page, re.DOTALL).group()
    assert re.findall(r'<option value="(\d+)" selected', picked) == [str(c.pk), str(a.pk)]

    response = admin_client.post(url, story_data(story, hashtags=[b.pk, c.pk, a.pk]))

    assert response.status_code == 302
    assert story.ordered_tags() == [b, c, a]


def test_listing_prefetch_gives_each_story_its_own_order_once():
    first, second = ArticleFactory(), ArticleFactory()
    a, b, c = (Tag.objects.create(name=name) for name in ("가", "나", "다"))
    first.set_tags([c, a, b])
    second.set_tags([a, b, c])
    listed = Article.objects.filter(pk__in=[first.pk, second.pk]).for_listing().in_bulk()
    assert list(listed[first.pk].tags.all()) == [c, a, b]
    assert list(listed[second.pk].tags.all()) == [a, b, c]
    assert second.ordered_tags() == [a, b, c]
