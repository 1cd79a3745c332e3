"""How many documents hold each index piece, kept by PostgreSQL (articles/search_frequency.py),
and the search counts made from it."""

import pytest
from django.db import connection, transaction

from articles import search, search_frequency
from articles.models import Article, SearchDocument
from articles.search import TitleFirstPages, parse_query
from articles.services import save_story
from tests import factories as make
from tests.factories import HIDDEN_TRAITS

pytestmark = pytest.mark.django_db


def kept() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT lexeme, documents, titles FROM {search_frequency.TABLE} "
            "WHERE documents <> 0 OR titles <> 0"
        )
        return {lexeme: (documents, titles) for lexeme, documents, titles in cursor.fetchall()}


def recounted() -> dict:
    """Every piece of every document, counted afresh."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lexeme, SUM(documents), SUM(titles) FROM ("
            f"{search_frequency._pieces(search_frequency.DOCUMENTS, '+')}) AS pieces "
            "GROUP BY lexeme"
        )
        return {lexeme: (documents, titles) for lexeme, documents, titles in cursor.fetchall()}


@pytest.mark.postgres
def test_the_counts_follow_every_write_of_a_document_through_the_door_or_around_it():
    start = kept()
    assert start == recounted()
    first = make.ArticleFactory(title="온콜 당번 이야기", body="배포 전에 온콜을 정합니다.")
    second = make.ArticleFactory(title="배포 이야기", body="온콜 없는 배포")
    make.ArticleFactory(draft=True, title="초안 온콜")
    assert kept()["온콜"][0] - start.get("온콜", (0, 0))[0] == 3
    assert kept() == recounted()

    # Through the door: a new title; around it: QuerySet.update(), raw SQL, bulk_create().
    first.title = "장애 대응 이야기"
    save_story(first, by=None, validate=False)
    assert kept() == recounted()
    SearchDocument.objects.filter(pk=second.pk).update(title_terms="온콜")
    assert kept() == recounted()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE articles_searchdocument SET body_terms = body_terms || ' 칸반' "
            "WHERE article_id = %s",
            [first.pk],
        )
    assert kept() == recounted()
    SearchDocument.objects.filter(pk=first.pk).delete()
    assert kept() == recounted()
    SearchDocument.objects.bulk_create(
        [SearchDocument(article=first, title_terms="온콜 복사", body_terms="", text="")]
    )
    assert kept() == recounted()

    # A delete (the story's document goes with it), and every document rewritten.
    Article.objects.filter(pk=second.pk).delete()
    assert kept() == recounted()
    search.reindex()
    assert kept() == recounted()


@pytest.mark.postgres
def test_a_rewrite_in_bulk_is_counted_once_at_its_end_and_undone_with_its_transaction():
    make.ArticleFactory(title="온콜 이야기")
    before = kept()
    with transaction.atomic():
        with search_frequency.paused():
            SearchDocument.objects.update(title_terms="칸반")
            assert kept() == before  # the triggers stand still…
        assert kept() == recounted()  # …and everything is counted at the end
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s, true)", [search_frequency.PAUSE])
            assert cursor.fetchone()[0] == "off"
        SearchDocument.objects.update(title_terms="온콜")
        assert kept() == recounted()
        transaction.set_rollback(True)
    assert kept() == before


@pytest.mark.postgres
def test_truncating_the_documents_empties_the_counts():
    make.ArticleFactory(title="온콜 이야기")
    assert kept()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks: TRUNCATE may run
        cursor.execute("TRUNCATE articles_searchdocument")
    assert kept() == {}
    make.ArticleFactory(title="온콜 이야기")
    assert kept() == recounted()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_writer_of_the_counts_holds_the_content_versions_row_first():
    """So a story's save (its document, then the version) and a company's rename (the version,
    then its stories' documents) wait for each other instead of deadlocking."""
    from tests.postgres_support import own_connection

    story = make.ArticleFactory(title="온콜 이야기")  # its save made the version's row
    with own_connection("frequency-lock-test") as other, transaction.atomic():
        SearchDocument.objects.filter(pk=story.pk).update(title_terms="장애")
        with pytest.raises(Exception, match="could not obtain lock"):
            other.execute(
                "SELECT 1 FROM articles_contentversion WHERE id = 1 FOR NO KEY UPDATE NOWAIT"
            )


def counts(q: str) -> tuple[int, int]:
    pages = TitleFirstPages(parse_query(q))
    return pages.count(), pages._titled()


@pytest.mark.parametrize("hidden_per_match", [0, 1000])
@pytest.mark.parametrize("trait", HIDDEN_TRAITS)
def test_a_word_of_one_piece_is_counted_as_its_matches_are(trait, hidden_per_match, monkeypatch):
    """On PostgreSQL from the kept counts (FREQUENT_MATCHES): the same numbers as counting the
    matches, with hidden stories matching in the title and the body; and counted as other
    words are where hidden stories are many for the word's documents (HIDDEN_PER_MATCH)."""
    monkeypatch.setattr(search, "HIDDEN_PER_MATCH", hidden_per_match)
    make.ArticleFactory(title="온콜 당번", body="배포")
    make.ArticleFactory(title="배포 이야기", body="온콜 당번을 정합니다")
    make.ArticleFactory(title="온콜 회고", body="온콜")
    make.ArticleFactory(**{trait: True}, title="온콜 초안", body="온콜")
    make.ArticleFactory(**{trait: True}, title="초안", body="온콜")
    make.ArticleFactory(**{trait: True}, title="비밀", body="아무것도")
    assert counts("온콜") == (3, 2)
    assert counts("배포") == (2, 1)
    assert counts("당번") == (2, 1)
    assert counts("비밀") == (0, 0)
    assert counts("없음") == (0, 0)


@pytest.mark.parametrize(
    ("q", "piece"),
    [
        ("온콜", "온콜"),
        ("  온콜 ", "온콜"),
        ("ab", "ab"),
        ("v2", "v2"),
        ("데이터", None),  # a phrase of two pieces
        ("풀", None),  # a prefix
        ("queue", None),  # a Latin prefix
        ("온콜 배포", None),  # two words
        ("병특", None),  # and its synonym
        ("온콜!", "온콜"),
    ],
)
def test_only_a_word_of_one_whole_piece_is_counted_from_the_kept_counts(q, piece):
    assert search._one_piece(parse_query(q)) == piece


def frequency_objects() -> tuple[int, int, bool]:
    """The search frequency's triggers and functions in the database, and whether its table is."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE %s), "
            "(SELECT COUNT(*) FROM pg_proc WHERE proname LIKE %s), to_regclass(%s) IS NOT NULL",
            ["articles_search_frequency%", "articles_search_frequency%", search_frequency.TABLE],
        )
        return cursor.fetchone()


@pytest.mark.postgres
def test_migration_0026_reversed_drops_every_trigger_function_and_the_table_and_made_again():
    make.ArticleFactory(title="온콜 당번 이야기", body="배포 전에 온콜을 정합니다.")
    assert frequency_objects() == (4, 5, True)
    with connection.schema_editor() as editor:
        search_frequency.drop(editor)
    assert frequency_objects() == (0, 0, False)
    with connection.schema_editor() as editor:
        search_frequency.create(editor)
    assert frequency_objects() == (4, 5, True)
    assert kept() == recounted()
