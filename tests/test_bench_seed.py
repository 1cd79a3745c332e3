"""The benchmark's bulk seeder (bench/seed.py) makes a corpus the site serves as its own:
counts, search documents equal to what index_article() writes, search finding the planted
words, story pages and cards with their pictures. On SQLite and on PostgreSQL."""

import pytest
from django.urls import reverse

from articles.models import Article, ArticleTag, Company, SearchDocument, Tag, ViewTotal
from articles.search import document_of, parse_query, search_stories
from bench import corpus
from bench.pages import story_path
from bench.seed import seed

pytestmark = pytest.mark.django_db

STORIES = 40


@pytest.fixture
def seeded():
    seed(STORIES, pictures=1, log=lambda *args, **kwargs: None)


def test_seeder_writes_every_story_with_its_rows(seeded):
    assert Article.objects.published().count() == STORIES
    assert SearchDocument.objects.count() == STORIES
    assert ViewTotal.objects.count() == STORIES
    assert ArticleTag.objects.filter(position=0).count() == STORIES
    assert Article.objects.filter(people__isnull=False).distinct().count() == STORIES
    assert Company.objects.count() == 50
    assert Tag.objects.count() == 100
    assert Article.objects.filter(is_featured=True).count() == 1
    assert not Article.objects.filter(cover_renditions={}).exists()


def test_seeded_search_documents_are_what_the_site_would_index(seeded):
    stories = Article.objects.select_related("company").prefetch_related("people", "tags")
    for article in stories.filter(pk__in=[1, 17, STORIES]):
        expected = document_of(article)
        stored = SearchDocument.objects.get(pk=article.pk)
        assert stored.title_terms == expected.title_terms
        assert stored.text == expected.text
        # The same pieces; the tags' names may come in another order.
        assert sorted(stored.body_terms.split()) == sorted(expected.body_terms.split())


def test_search_finds_the_planted_words_in_the_seeded_corpus(seeded, client):
    common = search_stories(parse_query(corpus.COMMON_WORD))
    assert common.count() == len(range(0, STORIES, corpus.COMMON_EVERY))
    rare = list(search_stories(parse_query(corpus.RARE_WORD)))
    assert len(rare) == corpus.RARE_COUNT
    assert all(corpus.RARE_WORD in story.title for story in rare)

    response = client.get(reverse("articles:search"), {"q": corpus.RARE_WORD})
    assert response.status_code == 200
    assert f'href="{rare[0].get_absolute_url()}"' in response.content.decode()


def test_seeded_story_pages_and_cards_render_with_their_pictures(seeded, client):
    article = Article.objects.get(pk=8)
    assert story_path(7) == article.get_absolute_url()
    page = client.get(story_path(7))
    assert page.status_code == 200
    html = page.content.decode()
    assert article.title in html
    assert "/media/renditions/bench/covers/0/" in html

    home = client.get("/").content.decode()
    assert Article.objects.get(is_featured=True).title in home
    assert home.count("/media/renditions/bench/covers/") >= 10
    assert "/media/renditions/bench/logos/" in home


def test_seeder_refuses_a_database_that_holds_stories(seeded):
    with pytest.raises(SystemExit, match="already holds stories"):
        seed(1, pictures=1)
