"""How imported stories show: hashtags in the author's order, no invented date, the source.

The dump is read from ../shared/seed at run time (never copied into the project).
"""

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.importing import IMPORT_NOTE, SOURCE_PREFIX
from articles.models import Article, Collection, Tag
from articles.models.provenance import IMPORT_SOURCES
from articles.services import save_story
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


# ------------------------------------------------------------------------------------------
# Dates: none is invented
# ------------------------------------------------------------------------------------------


def import_day_labels() -> list[str]:
    today = timezone.localdate()
    return [f"{today:%Y.%m.%d}", f"{today.year}년 {today.month}월 {today.day}일"]


@pytest.mark.seed
def test_imported_stories_show_an_unknown_date_not_the_import_day(client, seed_file):
    run_import(seed_file)
    stories = imported(seed_file)
    pages = [client.get(story.get_absolute_url()) for story in stories]
    pages += [client.get(reverse(name)) for name in ("articles:interviews", "articles:feed")]
    pages.append(client.get(Collection.objects.get().get_absolute_url()))
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "날짜 미상" in html
        for label in import_day_labels():
            assert label not in html
    for story, page in zip(stories, pages, strict=False):
        html = page.content.decode()
        assert "발행 <time" not in html
        assert '"datePublished"' not in html  # the page's structured data claims no date
        detail = client.get(f"/api/v1/stories/{story.pk}").json()
        assert detail["published_date_known"] is False
        assert detail["original_published_on"] is None


@pytest.mark.seed
def test_imported_stories_sort_by_their_import_in_page_order(seed_file):
    run_import(seed_file)
    titles = [title for title, _ in seed_blocks(seed_file)]
    listed = [a.title for a in Article.objects.published().recent() if a.title in titles]
    assert listed == titles


def test_a_known_original_date_is_shown_instead():
    story = ArticleFactory(source_key="theteams:제목", original_published_on=date(2018, 9, 3))
    assert story.shown_date == date(2018, 9, 3)
    assert not story.date_unknown


def test_only_stories_from_an_import_source_can_have_an_unknown_date():
    demo = ArticleFactory(source_key="demo:제목")  # the demo seed's own key: written here
    assert demo.source_site is None
    assert demo.shown_date == demo.published_at
    assert not demo.date_unknown


def test_original_date_on_the_page_and_a_story_written_here_keeps_its_date(client):
    imported_story = ArticleFactory(
        source_key="theteams:옛 글", original_published_on=date(2018, 9, 3)
    )
    html = client.get(imported_story.get_absolute_url()).content.decode()
    assert '원문 발행 <time datetime="2018-09-03">2018년 9월 3일</time>' in html
    assert "날짜 미상" not in html
    written_here = ArticleFactory()
    html = client.get(written_here.get_absolute_url()).content.decode()
    day = timezone.localtime(written_here.published_at)
    assert f'발행 <time datetime="{day.isoformat()}">{day.year}년 {day.month}월 {day.day}일' in html
    assert "날짜 미상" not in html
    assert 'class="story-source"' not in html
    assert client.get(f"/api/v1/stories/{written_here.pk}").json()["source"] is None


# ------------------------------------------------------------------------------------------
# The source line
# ------------------------------------------------------------------------------------------


@pytest.mark.seed
def test_imported_stories_say_where_they_come_from(client, seed_file):
    run_import(seed_file)
    assert SOURCE_PREFIX.rstrip(":") in IMPORT_SOURCES
    for story in imported(seed_file):
        html = client.get(story.get_absolute_url()).content.decode()
        line = re.search(r'<p class="story-source">(.*?)</p>', html, re.DOTALL)
        assert line
        assert line.group(1).startswith("더팀스에서 가져온 글 · ")
        assert f'href="{story.company.get_absolute_url()}">{story.company.name}</a>' in line.group(
            1
        )
        source = client.get(f"/api/v1/stories/{story.pk}").json()["source"]
        assert source == {
            "site": "더팀스",
            "label": "더팀스에서 가져온 글",
            "company": story.company.name,
            "url": None,  # the dump carries no address
        }


def test_the_source_line_links_the_original_when_there_is_one(client):
    story = ArticleFactory(source_key="theteams:글", original_url="https://example.com/글")
    html = client.get(story.get_absolute_url()).content.decode()
    assert '· <a href="https://example.com/글" rel="noopener">원문 보기</a></p>' in html
    assert client.get(f"/api/v1/stories/{story.pk}").json()["source"]["url"] == story.original_url


# ------------------------------------------------------------------------------------------
# The kind on a re-import
# ------------------------------------------------------------------------------------------


@pytest.mark.seed
@pytest.mark.parametrize(("note", "kind"), [(IMPORT_NOTE, "interview"), ("", "feed")])
def test_reimport_corrects_a_kind_only_an_import_gave(seed_file, note, kind):
    """As an older import filed the mini interviews (as 피드), a re-import files them as 인터뷰;
    a kind an editor chose stays."""
    run_import(seed_file)
    story = imported(seed_file)[2]
    story.kind = "feed"
    save_story(story, by=None, note=note, fields=["kind"])

    run_import(seed_file)

    story.refresh_from_db()
    assert story.kind == kind
    assert "그대로 3" in run_import(seed_file)


def test_the_openapi_schema_only_gains_the_new_fields(client):
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    card, detail = schemas["StoryOut"]["properties"], schemas["StoryDetailOut"]["properties"]
    assert {"published_at", "original_published_on", "published_date_known"} <= set(card)
    assert {"source", "original_url", "published_at"} <= set(detail)
    assert set(schemas["StorySourceOut"]["properties"]) == {"site", "label", "company", "url"}


def test_the_feed_gives_no_published_date_it_does_not_know(client):
    undated = ArticleFactory(title="날짜 없는 글", source_key="theteams:날짜 없는 글")
    dated = ArticleFactory(
        title="날짜 있는 글",
        source_key="theteams:날짜 있는 글",
        original_published_on=date(2018, 9, 3),
    )
    feed = client.get(reverse("articles:feed-all")).content.decode()
    entries = {title: entry for entry in feed.split("<entry>")[1:] for title in
               (undated.title, dated.title) if f"<title>{title}</title>" in entry}  # fmt: skip
    assert "<published>" not in entries[undated.title]
    assert "<updated>" in entries[undated.title]
    assert "<published>2018-09-03T00:00:00" in entries[dated.title]
