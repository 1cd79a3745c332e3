"""Story cards kept per content version (reader/cards.py): drawn once, shown by every list,
gone with what they show, and never a way for a hidden story back onto a page."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.models import Kind
from articles.models.common import KIND_URL_NAMES
from articles.services import save_story
from reader.cards import BoundedCards, cards
from tests.factories import ArticleFactory, CompanyFactory, TagFactory, set_views

pytestmark = pytest.mark.django_db

CHROME = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"}


def html(url, client=None):
    caches["answers"].clear()  # the page is rendered: only its cards may come from the cache
    response = (client or Client()).get(url, **CHROME)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def cards_html():
    return [html for html, _ in cards.entries.values()]


def card_of(page, title):
    start = page.rindex('<article class="card">', 0, page.index(title))
    return page[start : page.index("</article>", start) + len("</article>")]


def test_one_card_is_drawn_once_and_shown_by_every_list():
    ArticleFactory(title="맨 위 이야기", is_featured=True)  # home's lead, not only a card
    story = ArticleFactory(title="카드 하나", company=CompanyFactory(name="카드회사"))
    story.tags.add(TagFactory(name="카드태그", slug="card-tag"))
    first = card_of(html(reverse(KIND_URL_NAMES[story.kind])), "카드 하나")
    drawn = len(cards.entries)
    for url in ("/", story.company.get_absolute_url(), "/tags/card-tag/"):
        assert card_of(html(url), "카드 하나") == first
    assert sum("카드 하나" in card for card in cards_html()) == 1  # drawn once, shown four times
    assert len(cards.entries) <= drawn + 1  # at most the lead story's card was added


def test_a_story_withdrawn_leaves_every_list_and_related_list_at_once():
    company = CompanyFactory()
    tag = TagFactory(slug="shared-tag")
    kept = ArticleFactory(title="남는 이야기", company=company, tags=[tag])
    gone = ArticleFactory(title="내릴 이야기", company=company, tags=[tag])
    lists = ["/", company.get_absolute_url(), "/tags/shared-tag/", kept.get_absolute_url()]
    for url in lists:
        assert "내릴 이야기" in html(url)
    assert cards.entries
    gone.unpublish()
    save_story(gone, by=None)
    for url in lists:
        assert "내릴 이야기" not in html(url), url


def test_a_story_scheduled_later_is_never_a_card_even_after_its_company_was():
    company = CompanyFactory()
    ArticleFactory(title="공개 이야기", company=company)
    html(company.get_absolute_url())
    ArticleFactory(
        title="예약 이야기", company=company, published_at=timezone.now() + timedelta(days=1)
    )
    for url in ("/", company.get_absolute_url()):
        assert "예약 이야기" not in html(url)


def test_a_company_renamed_shows_its_new_name_on_the_cards():
    company = CompanyFactory(name="옛이름회사")
    ArticleFactory(title="회사 이야기", company=company, kind=Kind.INTERVIEW)
    assert "옛이름회사" in card_of(html("/interviews/"), "회사 이야기")
    company.name = "새이름회사"
    company.save()
    card = card_of(html("/interviews/"), "회사 이야기")
    assert "새이름회사" in card
    assert "옛이름회사" not in card


def test_a_card_shows_the_count_of_its_page():
    story = ArticleFactory(title="조회 이야기", kind=Kind.INTERVIEW)
    assert "조회수 0" in card_of(html("/interviews/"), "조회 이야기")
    set_views(story, 42)
    assert "조회수 42" in card_of(html("/interviews/"), "조회 이야기")


def test_staff_pages_keep_no_cards(admin_client):
    ArticleFactory(title="직원이 보는 이야기")
    html("/", admin_client)
    assert not cards.entries


def test_the_cards_are_bounded_by_bytes_least_recently_used_first_out():
    kept = BoundedCards(limit=1000)
    for number in range(10):
        kept.put(number, "가" * 100)  # 300 bytes of UTF-8 and 100 of bookkeeping
        kept.get(0)  # the first is always in use
    assert kept.size <= 1000
    assert set(kept.entries) == {0, 9}
    kept.put("huge", "x" * 2000)
    assert kept.get("huge") is None


def related_section(page):
    start = page.index('<section class="section related"')
    return page[start : page.index("</section>", start)]


def test_the_next_story_of_a_company_shows_the_same_related_cards_with_fewer_queries():
    company = CompanyFactory(name="연관회사")
    stories = [ArticleFactory(title=f"연관 이야기 {n}", company=company) for n in range(7)]
    set_views(stories[5], 12)
    oldest, older = stories[0], stories[1]
    with CaptureQueriesContext(connection) as cold:
        first = html(oldest.get_absolute_url())  # the company's newest ids are kept now
    with CaptureQueriesContext(connection) as warm:
        second = html(older.get_absolute_url())  # its cards too
    assert related_section(second) == related_section(first)
    assert [s.title in related_section(first) for s in reversed(stories)] == [True] * 4 + [
        False
    ] * 3
    assert "조회수 12" in related_section(second)
    assert len(warm) <= len(cold) - 3  # no pool query, no card loaded, no tag prefetch

    # Drawn afresh, with nothing kept, the related cards are the same.
    caches["answers"].clear()
    cards.clear()
    assert related_section(html(older.get_absolute_url())) == related_section(second)


def test_a_kept_company_list_never_brings_back_a_withdrawn_story():
    company = CompanyFactory()
    stories = [ArticleFactory(title=f"회사 이야기 {n}", company=company) for n in range(6)]
    html(stories[0].get_absolute_url())
    newest = stories[-1]
    newest.unpublish()
    save_story(newest, by=None)
    page = html(stories[1].get_absolute_url())
    assert newest.title not in page
    assert stories[1].title in html(stories[0].get_absolute_url())


def test_a_list_whose_cards_are_kept_reads_no_hashtags_and_shows_the_same_page():
    tag = TagFactory(name="목록태그")
    for number in range(5):
        ArticleFactory(title=f"목록 이야기 {number}", kind=Kind.FEED, tags=[tag])
    html("/feed/")  # the content version drawn, the answers' cache warm
    cards.clear()
    with CaptureQueriesContext(connection) as drawn:
        first = html("/feed/?page=1")  # every card drawn: their hashtags read
    with CaptureQueriesContext(connection) as kept:
        again = html("/feed/?page=01")  # another address, rendered again: its cards kept
    assert again.count("#목록태그") == first.count("#목록태그") == 5
    assert [card_of(again, f"목록 이야기 {n}") for n in range(5)] == [
        card_of(first, f"목록 이야기 {n}") for n in range(5)
    ]
    assert [q for q in kept.captured_queries if '"articles_tag"' in q["sql"]] == []
    assert len(kept) == len(drawn) - 1
