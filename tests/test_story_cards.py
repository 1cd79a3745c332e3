"""Story cards kept under what they show (reader/cards.py): drawn once, shown by every list,
kept across other stories' saves, drawn again when anything they show changes, and never a way
for a hidden story back onto a page."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.bounded import BoundedTexts
from articles.models import Article, Kind
from articles.models.common import KIND_URL_NAMES
from articles.models.querysets import ArticleQuerySet
from articles.services import save_story
from reader.cards import cards, forget
from tests.factories import ArticleFactory, CompanyFactory, TagFactory, set_views

pytestmark = pytest.mark.django_db

CHROME = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"}


def html(url, client=None):
    caches["answers"].clear()  # the page is rendered: only its cards may come from the cache
    response = (client or Client()).get(url, **CHROME)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def cards_html():
    """Each card kept (one may be found under two keys: what it shows, and its story and count
    under the content version)."""
    return list({id(html): html for html, _ in cards.entries.values()}.values())


def card_of(page, title):
    start = page.rindex('<article class="card">', 0, page.index(title))
    return page[start : page.index("</article>", start) + len("</article>")]


def test_one_card_is_drawn_once_and_shown_by_every_list():
    ArticleFactory(title="맨 위 이야기", is_featured=True)  # home's lead, not only a card
    story = ArticleFactory(title="카드 하나", company=CompanyFactory(name="카드회사"))
    story.tags.add(TagFactory(name="카드태그", slug="card-tag"))
    first = card_of(html(reverse(KIND_URL_NAMES[story.kind])), "카드 하나")
    drawn = len(cards_html())
    for url in ("/", story.company.get_absolute_url(), "/tags/card-tag/"):
        assert card_of(html(url), "카드 하나") == first
    assert sum("카드 하나" in card for card in cards_html()) == 1  # drawn once, shown four times
    assert len(cards_html()) <= drawn + 1  # at most the lead story's card was added


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
    kept = BoundedTexts(limit=1000)
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
    forget()
    assert related_section(html(older.get_absolute_url())) == related_section(second)


def test_a_story_page_loads_its_company_s_cards_without_reading_the_company_again():
    company = CompanyFactory(name="연관회사")
    stories = [ArticleFactory(title=f"연관 이야기 {n}", company=company) for n in range(6)]
    with CaptureQueriesContext(connection) as cold:
        page = html(stories[0].get_absolute_url())
    loads = [q["sql"] for q in cold.captured_queries if "articles_article_tags" in q["sql"]]
    card_load = [sql for sql in loads if "articles_company" not in sql.split("UNION")[0]]
    assert card_load, loads  # the story's own statement joins its company; the cards' does not
    assert related_section(page).count("연관회사") >= 4
    # Drawn afresh (staff's way, every card with its company read), the cards are the same.
    forget()
    caches["answers"].clear()
    assert related_section(html(stories[1].get_absolute_url())).count("연관회사") >= 4


def test_a_story_moved_to_another_company_meanwhile_shows_its_own_company():
    company, other = CompanyFactory(name="원래회사"), CompanyFactory(name="옮긴회사")
    stay, moved = ArticleFactory(company=company), ArticleFactory(company=company)
    Article.objects.filter(pk=moved.pk).update(company=other)  # after the page read its row
    stories, _ = Article.objects.published_cards_with([stay.pk, moved.pk], [], company=company)
    assert [story.company.name for story in stories] == ["원래회사", "옮긴회사"]
    assert stories[0].company is company


def test_a_crawler_s_next_story_of_a_company_reads_its_related_counts_with_its_row():
    company = CompanyFactory(name="연관회사")
    stories = [ArticleFactory(title=f"연관 이야기 {n}", company=company) for n in range(7)]
    set_views(stories[6], 5)
    first = html(stories[0].get_absolute_url())  # the company's newest stories and cards kept
    # The next story of the company, nothing dropped (a crawler's walk): the content version,
    # then one statement for the story's row, its hashtags, its people and its company's
    # newest stories' 조회수, which find the kept cards: no card is loaded.
    with CaptureQueriesContext(connection) as walk:
        page = Client().get(stories[1].get_absolute_url(), **CHROME).content.decode()
    read = [query["sql"] for query in walk.captured_queries]
    assert len(read) == 2, read
    for table in ("articles_viewtotal", "articles_article_tags", "articles_article_people"):
        assert table in read[1]
    assert related_section(page).count('class="card') == related_section(first).count('class="card')
    assert "조회수 5" in related_section(page)


def test_another_story_s_save_leaves_a_story_page_s_related_cards_unloaded(drawn):
    from articles import versions

    company = CompanyFactory(name="연관회사")
    stories = [ArticleFactory(title=f"연관 이야기 {n}", company=company) for n in range(7)]
    elsewhere = ArticleFactory(title="다른 회사 이야기", published_at=timezone.now() - timedelta(1))
    first = html(stories[0].get_absolute_url())  # the related cards drawn and kept
    elsewhere.title = "다른 회사 이야기, 고침"
    save_story(elsewhere, by=None)  # the content version moves, no card's content does
    versions.current()  # drawn as the first reader after a write draws it
    drawn.clear()
    with CaptureQueriesContext(connection) as walk:
        page = Client().get(stories[1].get_absolute_url(), **CHROME).content.decode()
    # The content version and the story's own statement, which reads its company's newest
    # stories' versions: the kept cards are found by them, none is loaded or drawn.
    assert len(walk) == 2, [query["sql"] for query in walk.captured_queries]
    assert drawn == []
    assert related_section(page) == related_section(first)

    newest = stories[-1]
    newest.title = "연관 이야기, 고친 제목"
    save_story(newest, by=None)  # its own version moves: its card is drawn again
    page = html(stories[1].get_absolute_url())
    assert drawn == ["연관 이야기, 고친 제목"]
    assert "연관 이야기, 고친 제목" in related_section(page)


def test_a_company_renamed_or_a_new_picture_draws_the_related_cards_again(drawn):
    from articles import versions

    company = CompanyFactory(name="옛연관회사")
    stories = [ArticleFactory(title=f"연관 이야기 {n}", company=company) for n in range(6)]
    html(stories[0].get_absolute_url())
    drawn.clear()
    company.name = "새연관회사"
    company.save()
    page = related_section(html(stories[0].get_absolute_url()))
    assert "옛연관회사" not in page
    assert len(drawn) == 4
    drawn.clear()
    Article.objects.filter(pk=stories[-1].pk).update(cover_renditions={"made": "now"})
    versions.bump()  # as articles/pictures.py does after writing a record
    html(stories[0].get_absolute_url())
    assert drawn == [stories[-1].title]


def test_under_a_version_recorded_without_cards_no_card_is_kept_across_versions(monkeypatch):
    """A record written by a host on the code before `cards` (four values): its cards are kept
    under that version alone."""
    from django.core.cache import cache

    from articles import versions

    company = CompanyFactory()
    stories = [ArticleFactory(company=company) for _ in range(6)]
    drawn = versions.draw()
    cache.set(versions.KEY, drawn.record[:4])
    assert versions.current().cards is None
    page = html(stories[0].get_absolute_url())
    assert related_section(page).count('class="card"') == 4
    assert cards.entries
    assert not [key for key in cards.entries if key[0] == "story"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan, without statistics")
def test_a_story_s_statement_seeks_its_company_s_newest_stories_by_company():
    # The company comes from a subquery on the story's key. SQLite once preferred the
    # published listing (every published story, newest first) and tested each story's company
    # on the way: a walk that grew with the number of companies.
    company = CompanyFactory()
    stories = [ArticleFactory(company=company) for _ in range(3)]
    ArticleFactory(company=CompanyFactory())
    with CaptureQueriesContext(connection) as walk:
        Client().get(stories[0].get_absolute_url(), **CHROME)
    # The story's row with what it reads along (its people among them).
    (statement,) = [
        q["sql"] for q in walk.captured_queries if "articles_article_people" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + statement)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "article_company_listing (company_id=? AND status=?" in plan, plan
    assert "article_recent_listing" not in plan, plan


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


@pytest.fixture
def drawn(monkeypatch):
    """The titles of the cards drawn (not taken from the kept ones), in order."""
    from reader import cards as module

    titles = []
    real = module.card_html

    def spy(story, tags, popular_days, links=None, **made):
        titles.append(story.title)
        return real(story, tags, popular_days, links, **made)

    monkeypatch.setattr(module, "card_html", spy)
    return titles


def test_a_card_is_kept_across_another_storys_save_and_drawn_again_after_its_own(drawn):
    tag = TagFactory(name="목록태그")
    stories = [
        ArticleFactory(title=f"목록 이야기 {n}", kind=Kind.FEED, tags=[tag]) for n in range(3)
    ]
    first = html("/feed/")
    assert sorted(drawn) == sorted(s.title for s in stories)
    drawn.clear()
    other = ArticleFactory(title="다른 종류 이야기", kind=Kind.NEWS)
    other.title = "다른 종류 이야기, 고침"
    save_story(other, by=None)  # the content version moves
    again = html("/feed/?page=1")
    assert drawn == []
    assert [card_of(again, s.title) for s in stories] == [card_of(first, s.title) for s in stories]
    assert again.count("#목록태그") == 3  # the hashtags are read with every list

    edited = stories[1]
    edited.title = "목록 이야기, 고친 제목"
    save_story(edited, by=None)
    page = html("/feed/")
    assert drawn == ["목록 이야기, 고친 제목"]
    assert "목록 이야기, 고친 제목" in page
    assert "목록 이야기 1" not in page


def test_a_hashtag_renamed_or_taken_off_shows_on_the_cards(drawn):
    tag = TagFactory(name="옛태그", slug="old-tag")
    story = ArticleFactory(title="태그 이야기", kind=Kind.NEWS, tags=[tag])
    assert "#옛태그" in card_of(html("/news/"), "태그 이야기")
    tag.name = "새태그"
    tag.save()
    card = card_of(html("/news/"), "태그 이야기")
    assert "#새태그" in card
    assert "#옛태그" not in card
    save_story(story, by=None, tags=[])
    assert "#새태그" not in card_of(html("/news/"), "태그 이야기")
    assert drawn == ["태그 이야기"] * 3


def test_a_new_renditions_record_draws_the_cards_again(drawn):
    """The records of a cover's and a logo's renditions are written after the save that
    stored the picture (articles/pictures.py), without a save of the story."""
    from articles import versions
    from articles.models import Article, Company

    story = ArticleFactory(title="그림 이야기", kind=Kind.NEWS)
    html("/news/")
    Article.objects.filter(pk=story.pk).update(cover_renditions={"made": "now"})
    versions.bump()  # as articles/pictures.py does after writing a record
    html("/news/?a=1")
    Company.objects.filter(pk=story.company_id).update(logo_renditions={"made": "now"})
    versions.bump()
    html("/news/?a=2")
    html("/news/?a=3")
    assert drawn == ["그림 이야기"] * 3


def test_home_sends_its_kept_cards_without_loading_their_stories():
    """Home's cards drawn under this content version go out as they are: the second render
    loads only the lead and the week's most read, and the page is the same."""
    tag = TagFactory(name="홈태그")
    for number in range(6):
        ArticleFactory(title=f"홈 이야기 {number}", kind=Kind.INTERVIEW, tags=[tag])
    ArticleFactory(title="홈 머리기사", kind=Kind.NEWS, is_featured=True)

    def loaded_ids(queries):
        [rows] = [q["sql"] for q in queries if '"articles_company"."name"' in q["sql"]]
        return rows[rows.rindex(" IN (") :].count(",") + 1

    with CaptureQueriesContext(connection) as first:
        page = html("/")
    with CaptureQueriesContext(connection) as second:
        again = html("/?again=1")
    assert again == page
    assert page.count("#홈태그") == 4  # the latest four interviews, each card with its tag
    assert loaded_ids(first.captured_queries) == 5  # the lead (also the latest news), 4 cards
    assert loaded_ids(second.captured_queries) == 1  # the lead alone
    assert not [q for q in second.captured_queries if '"articles_article_tags"' in q["sql"]]


def test_a_list_whose_cards_are_kept_loads_no_story_and_shows_the_same_page():
    tag = TagFactory(name="목록태그")
    for number in range(5):
        ArticleFactory(title=f"목록 이야기 {number}", kind=Kind.FEED, tags=[tag])
    first = html("/feed/?page=1")  # every card drawn: the stories and their hashtags read
    with CaptureQueriesContext(connection) as kept:
        again = html("/feed/?page=01")  # another address, rendered again: its cards kept
    assert again.count("#목록태그") == first.count("#목록태그") == 5
    assert [card_of(again, f"목록 이야기 {n}") for n in range(5)] == [
        card_of(first, f"목록 이야기 {n}") for n in range(5)
    ]
    read = [q["sql"] for q in kept.captured_queries]
    assert not [sql for sql in read if '"articles_article_tags"' in sql or "articles_tag" in sql]
    assert not [sql for sql in read if '"articles_article"."title"' in sql]  # ids and counts
    assert len(kept) == 3  # the content version, the count, the page's ids and counts


def test_a_list_whose_cards_are_kept_builds_no_query_of_its_own(monkeypatch):
    for number in range(3):
        ArticleFactory(title=f"지연 목록 {number}", kind=Kind.FEED)
    Article.objects.kind_page(Kind.FEED, 0, 20)  # its compiled query made (once a process)
    built = []
    of_kind = ArticleQuerySet.of_kind

    def counted(self, *args, **kwargs):
        built.append(args)
        return of_kind(self, *args, **kwargs)

    monkeypatch.setattr(ArticleQuerySet, "of_kind", counted)
    first = html("/feed/?page=1")  # no card drawn yet under this version: the page is read whole
    assert len(built) == 1
    # Another address (rendered, not found kept), with the list's count and cards kept: the
    # compiled query reads its ids, and no query of the list is built.
    again = Client().get("/feed/?page=01", **CHROME).content.decode()
    assert len(built) == 1
    assert [card_of(again, f"지연 목록 {n}") for n in range(3)] == [
        card_of(first, f"지연 목록 {n}") for n in range(3)
    ]
    html("/feed/?sort=popular")  # 인기순 is loaded whole, as before
    assert len(built) == 2
    assert built[-1] == (Kind.FEED, "")
