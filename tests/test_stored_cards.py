"""Story cards stored with their stories (articles/models/cards.py, reader/stored_cards.py):
drawn once by `manage.py draw_cards` for every process, used by a story page only while they
show what the story shows now and were drawn where cards are drawn now."""

import io
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, StoredCard
from articles.services import save_story
from reader.cards import COUNT_MARK, forget
from tests.factories import ArticleFactory, CompanyFactory, TagFactory, set_views

pytestmark = pytest.mark.django_db

CHROME = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"}


def draw_cards(*args) -> str:
    out = io.StringIO()
    call_command("draw_cards", *args, stdout=out)
    return out.getvalue()


def page(story):
    """The story's page as a reader's new process renders it (nothing kept in memory): its
    HTML and the statements it ran."""
    Client().get(story.get_absolute_url(), **CHROME)  # the content version read and kept
    caches["answers"].clear()
    forget()
    with CaptureQueriesContext(connection) as ran:
        response = Client().get(story.get_absolute_url(), **CHROME)
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in ran.captured_queries]


def related(html):
    start = html.index('<section class="section related"')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def company_stories():
    company = CompanyFactory(name="저장회사")
    tag = TagFactory(name="저장태그")
    stories = [
        ArticleFactory(title=f"저장 이야기 {n}", company=company, tags=[tag]) for n in range(6)
    ]
    return company, tag, stories


def test_draw_cards_stores_each_published_story_s_card_once(company_stories):
    hidden = [ArticleFactory(draft=True), ArticleFactory(scheduled=True)]
    assert "카드 6개" in draw_cards()
    assert set(StoredCard.objects.values_list("article_id", flat=True)) == {
        story.pk for story in company_stories[2]
    }
    assert not StoredCard.objects.filter(article__in=hidden).exists()
    assert "카드 0개" in draw_cards()  # all current: none drawn again
    assert "카드 6개" in draw_cards("--all")
    card = StoredCard.objects.get(article=company_stories[2][0])
    assert card.html.count(COUNT_MARK) == 1


def test_a_story_page_shows_the_stored_cards_without_loading_or_drawing_them(company_stories):
    _, _, stories = company_stories
    set_views(stories[5], 41)
    drawn_here, loaded = page(stories[0])
    draw_cards()
    stored, ran = page(stories[0])
    # The same page; the content version's read and the story's statement, nothing else.
    assert stored == drawn_here
    assert len(ran) == 2, ran
    assert "조회수 41" in related(stored)
    assert len(loaded) == 3  # drawn in process: the related cards' statement too


def test_a_stored_card_shows_the_count_of_now(company_stories):
    _, _, stories = company_stories
    draw_cards()
    set_views(stories[5], 977)
    html, ran = page(stories[0])
    assert "조회수 977" in related(html)
    assert len(ran) == 2


@pytest.mark.parametrize(
    "change",
    ["company renamed", "hashtag renamed", "story saved", "renditions recorded"],
)
def test_a_stored_card_that_no_longer_shows_its_story_is_not_used(company_stories, change):
    company, tag, stories = company_stories
    draw_cards()
    newest = stories[5]
    if change == "company renamed":
        company.name = "새이름회사"
        company.save()
        shown = "새이름회사"
    elif change == "hashtag renamed":
        tag.name = "새태그"
        tag.save()
        shown = "#새태그"
    elif change == "story saved":
        newest.title = "고친 제목"
        save_story(newest, by=None)
        shown = "고친 제목"
    else:
        record = {
            "source": newest.cover_image.name or "covers/x.jpg",
            "formats": ["jpg"],
            "sizes": [[320, 180]],
        }
        Article.objects.filter(pk=newest.pk).update(
            cover_image=record["source"], cover_renditions=record
        )
        shown = "320w"
    html, ran = page(stories[0])
    assert shown in related(html)
    assert len(ran) == 3, ran  # the cards no longer current were loaded and drawn
    # Drawn again, the card is current and used.
    assert "카드 0개" not in draw_cards()
    again, ran = page(stories[0])
    assert again == html
    assert len(ran) == 2


def test_a_card_stored_where_cards_are_drawn_otherwise_is_not_used(company_stories, settings):
    _, _, stories = company_stories
    draw_cards()
    settings.MEDIA_URL = "/other-media/"  # the stored cards' context is another's now
    html, ran = page(stories[0])
    assert len(ran) == 3
    assert "저장 이야기 5" in related(html)


def test_a_card_stored_by_other_code_is_not_used(company_stories, monkeypatch):
    from reader import cards

    _, _, stories = company_stories
    draw_cards()
    monkeypatch.setattr(cards, "_CODE", "the code of a later deploy")
    forget()  # the context is worked out again, with the new code
    _, ran = page(stories[0])
    assert len(ran) == 3
    assert "카드 6개" in draw_cards()  # drawn again where cards are drawn now
    _, ran = page(stories[0])
    assert len(ran) == 2


def test_a_stored_card_of_a_story_withdrawn_never_shows(company_stories):
    _, _, stories = company_stories
    draw_cards()
    withdrawn = stories[5]
    withdrawn.unpublish_at = timezone.now() - timedelta(minutes=1)
    save_story(withdrawn, by=None)
    html, _ = page(stories[0])
    assert "저장 이야기 5" not in related(html)
    assert "저장 이야기 4" in related(html)


def test_draw_cards_refuses_a_batch_below_one():
    with pytest.raises(CommandError, match="--batch"):
        draw_cards("--batch", "0")
