"""The Atom feeds as a feed reader sees them: valid Atom (an author for every entry), entry ids
that survive an edit, and the same rule as the pages for what a feed may name."""

import xml.etree.ElementTree as ET

import pytest
from django.conf import settings

from articles.models import Kind
from tests.factories import ArticleFactory, CompanyFactory, TagFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS = ["/feeds/atom/", "/feeds/atom/news/", "/companies/{company}/atom/", "/tags/{tag}/atom/"]


def atom(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def entries_by_title(feed):
    return {entry.findtext(f"{ATOM}title"): entry for entry in feed.iter(f"{ATOM}entry")}


def author_name(element):
    return element.findtext(f"{ATOM}author/{ATOM}name")


@pytest.fixture
def stories():
    company = CompanyFactory(name="바이라인없는회사", slug="no-byline-co")
    tag = TagFactory(name="피드태그")
    return {
        "anonymous": ArticleFactory(
            title="누가 썼는지 모르는 글", kind=Kind.NEWS, company=None, tags=[tag]
        ),
        "bylined": ArticleFactory(
            title="기자가 쓴 글", kind=Kind.NEWS, byline="김기자", company=company, tags=[tag]
        ),
        "company": ArticleFactory(
            title="회사 이름으로 나간 글", kind=Kind.NEWS, company=company, tags=[tag]
        ),
        "company_slug": company.slug,
        "tag_slug": tag.slug,
    }


@pytest.mark.parametrize("url", FEEDS)
def test_every_feed_has_a_feed_level_author_so_every_entry_has_one(client, stories, url):
    feed = atom(client, url.format(company=stories["company_slug"], tag=stories["tag_slug"]))

    assert author_name(feed) == settings.SITE_NAME == "컬처 스토리"
    entries = list(feed.iter(f"{ATOM}entry"))
    assert entries
    for entry in entries:
        # RFC 4287 §4.1.1: an entry either takes the feed's author or names its own.
        assert entry.find(f"{ATOM}author") is None or author_name(entry)


def test_entries_keep_the_author_they_have(client, stories):
    entries = entries_by_title(atom(client, "/feeds/atom/"))

    assert author_name(entries["기자가 쓴 글"]) == "김기자"
    assert author_name(entries["회사 이름으로 나간 글"]) == "바이라인없는회사"
    assert entries["누가 썼는지 모르는 글"].find(f"{ATOM}author") is None  # the feed's author


def test_an_empty_feed_is_still_valid_atom(client):
    company = CompanyFactory(slug="quiet-co")
    feed = atom(client, f"/companies/{company.slug}/atom/")
    assert author_name(feed) == settings.SITE_NAME
    assert feed.findtext(f"{ATOM}id")
    assert feed.findtext(f"{ATOM}updated")
    assert feed.find(f"{ATOM}entry") is None


def test_entry_id_is_the_story_number_and_survives_a_new_slug(client, stories):
    story = stories["bylined"]
    before = entries_by_title(atom(client, "/feeds/atom/"))["기자가 쓴 글"]
    assert before.findtext(f"{ATOM}id") == f"{settings.SITE_URL}/stories/{story.pk}/"
    assert story.slug not in before.findtext(f"{ATOM}id")

    story.slug = "새-주소"
    story.title = "제목도 바뀐 글"
    story.save()
    after = entries_by_title(atom(client, "/feeds/atom/"))["제목도 바뀐 글"]

    assert after.findtext(f"{ATOM}id") == before.findtext(f"{ATOM}id")
    assert after.find(f"{ATOM}link").get("href").endswith(story.get_absolute_url())


def test_entry_ids_are_the_same_in_every_feed(client, stories):
    ids = set()
    for url in FEEDS:
        feed = atom(client, url.format(company=stories["company_slug"], tag=stories["tag_slug"]))
        ids.add(entries_by_title(feed)["기자가 쓴 글"].findtext(f"{ATOM}id"))
    assert len(ids) == 1


def test_a_tag_only_hidden_stories_carry_has_no_feed(client):
    secret = TagFactory(name="곧나올기능")
    ArticleFactory(title="예약된 발표", scheduled=True, tags=[secret])
    ArticleFactory(title="초안", draft=True, tags=[secret])

    response = client.get(f"/tags/{secret.slug}/atom/")

    assert response.status_code == 404
    assert "곧나올기능" not in response.content.decode()


def test_a_company_without_published_stories_keeps_its_feed(client):
    # As the API: a company has its card (hiring link, people) with or without stories.
    company = CompanyFactory(name="준비중회사", slug="getting-ready")
    ArticleFactory(draft=True, company=company)
    assert atom(client, f"/companies/{company.slug}/atom/").find(f"{ATOM}entry") is None
