"""Queries compiled once and run with new values (articles/prepared.py): the same rows and
instances as the ORM gives for every value, and a refusal for a query that uses a value in a
form the stand-ins cannot follow."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from articles import clock
from articles.listing import (
    card_people_along,
    card_tags_along,
    card_tags_and_people_of,
    people_by_story_of_along,
    tags_by_story_of_along,
)
from articles.models import Article, Status
from articles.models.querysets import LINK_COLUMNS, RelatedLink
from articles.models.states import State
from articles.prepared import Along, NotPreparable, Prepared, read_along
from ops.postgresql.base import numbered
from tests.factories import (
    ArticleFactory,
    CompanyFactory,
    PersonFactory,
    SeriesFactory,
    TagFactory,
    set_views,
)
from tests.prepared_support import prepared_statements

pytestmark = pytest.mark.django_db


def card(story):
    return (
        story.pk,
        story.title,
        story.published_at,
        story.cover_renditions,
        story.company.name if story.company else None,
        story.view_count,
        story.is_featured,
    )


@pytest.fixture
def stories():
    companies = [CompanyFactory(), CompanyFactory(), None]
    made = [
        ArticleFactory(
            company=companies[n % 3], published_at=clock.now_datetime() - timedelta(hours=n)
        )
        for n in range(12)
    ]
    made.append(ArticleFactory(status=Status.DRAFT))
    made.append(ArticleFactory(published_at=timezone.now() + timedelta(days=1)))  # scheduled
    for story in made[:5]:
        set_views(story, random.randint(1, 50))
    return made


def test_published_cards_are_what_the_orm_gives_for_any_ids(stories):
    rng = random.Random(3)
    ids = [story.pk for story in stories]
    for _ in range(20):
        chosen = rng.sample(ids, rng.randint(1, len(ids)))
        expected = Article.objects.published().card_rows(chosen)
        assert [card(s) for s in Article.objects.published_cards(chosen)] == [
            card(s) for s in expected
        ]
    # Hidden stories are left out; the scheduled one is in once its time has come.
    hidden = [stories[-2].pk, stories[-1].pk]
    assert Article.objects.published_cards(hidden) == []
    later = timezone.now() + timedelta(days=2)
    assert [s.pk for s in Article.objects.published_cards(hidden, later)] == [stories[-1].pk]


def test_a_published_story_comes_with_its_company_series_and_count_in_one_query(
    django_assert_num_queries,
):
    story = ArticleFactory(company=CompanyFactory(name="회사"), series=SeriesFactory(title="연재"))
    set_views(story, 7)
    Article.objects.published_story(story.pk)  # compiled once
    with django_assert_num_queries(1):
        found = Article.objects.published_story(story.pk)
        assert (found.company.name, found.series.title, found.view_count) == ("회사", "연재", 7)
        assert found.body_html == story.body_html
    # Its Markdown source is not read with it (a page shows the HTML), but is there if asked.
    assert found.get_deferred_fields() == {"body"}
    assert found.body == story.body
    # Its state is the one its query held: published, as an instance read alone tests it.
    assert found.state == State.PUBLISHED == Article.objects.get(pk=story.pk).state
    found.unpublish()
    assert found.state == State.UNPUBLISHED
    draft = ArticleFactory(status=Status.DRAFT)
    assert Article.objects.published_story(draft.pk) is None
    assert Article.objects.published_story(10**9) is None


def test_a_value_used_in_another_form_is_refused():
    cut = Prepared(lambda model, now: model.objects.filter(published_at__date=now.date()))
    with pytest.raises(NotPreparable):
        cut(Article, now=timezone.now())
    unused = Prepared(lambda model, pk: model.objects.all())
    with pytest.raises(NotPreparable):
        unused(Article, pk=1)
    with pytest.raises(NotPreparable):
        Prepared(lambda model, rate: model.objects.filter(reading_minutes__gt=rate))(
            Article, rate=1.5
        )
    with pytest.raises(NotPreparable):
        Prepared(lambda model, slug: model.objects.filter(slug__icontains=slug))(Article, slug="a")


def test_each_length_of_a_list_is_its_own_compilation(stories):
    ids = [story.pk for story in stories[:6]]
    by_key = Prepared(lambda model, ids: model.objects.filter(pk__in=ids).order_by("pk"))
    for length in (1, 3, 6, 2):
        assert [s.pk for s in by_key(Article, ids=ids[:length])] == sorted(ids[:length])


def test_values_strings_and_shapes(stories):
    newest = Prepared(
        lambda model, count, kind, now: (
            model.objects.published(now)
            .filter(kind=kind)
            .recent()
            .values_list("pk", flat=True)[:count]
        )
    )
    pairs = Prepared(lambda model, slug: model.objects.filter(slug=slug).values_list("pk", "title"))
    now = clock.now_datetime()
    for kind in {story.kind for story in stories}:
        for count in (1, 3):
            expected = list(
                Article.objects.published(now)
                .filter(kind=kind)
                .recent()
                .values_list("pk", flat=True)[:count]
            )
            assert newest(Article, shape={"count": count}, kind=kind, now=now) == expected
    story = stories[4]
    assert pairs(Article, slug=story.slug) == [(story.pk, story.title)]
    assert pairs(Article, slug="없는-슬러그") == []


def test_a_kind_page_is_the_window_of_the_list_the_orm_gives(stories):
    kinds = {story.kind for story in stories}
    families = {story.job_family for story in stories} | {""}
    for kind in kinds:
        for family in families:
            listed = Article.objects.published().filter(kind=kind)
            if family:
                listed = listed.filter(job_family=family)
            expected = [
                (pk, count or 0)
                for pk, count in listed.recent().values_list("pk", "view_total__count")
            ]
            for start, stop in ((0, 2), (1, 4), (0, 20), (5, 9), (30, 40)):
                assert Article.objects.kind_page(kind, start, stop, family) == expected[start:stop]


def test_a_companys_newest_and_a_series_parts_are_what_the_orm_gives(stories):
    for company in {story.company for story in stories if story.company}:
        expected = list(
            Article.objects.published()
            .filter(company=company)
            .recent()
            .values_list("pk", flat=True)
        )
        for count in (1, 3, 7):
            cards = Article.objects.newest_cards_of_company(company, count)
            assert [story.pk for story in cards] == expected[:count]
            assert [card(story) for story in cards] == [
                card(story) for story in Article.objects.published().card_rows(expected[:count])
            ]
    series = SeriesFactory()
    parts = [ArticleFactory(series=series, series_part=part) for part in (2, 1, None)]
    ArticleFactory(series=series, series_part=3, status=Status.DRAFT)
    expected = list(Article.objects.published().series_parts(series.pk))
    assert [part.pk for part in expected] == [parts[1].pk, parts[0].pk, parts[2].pk]
    found = Article.objects.parts_of(series.pk)
    assert [(p.pk, p.slug, p.title, p.series_part) for p in found] == [
        (p.pk, p.slug, p.title, p.series_part) for p in expected
    ]


def test_homes_newest_ids_sent_together_are_each_querys_own(stories):
    for story in stories[:3]:
        Article.objects.filter(pk=story.pk).update(is_featured=True)
    now = clock.now_datetime()
    published = Article.objects.published(now)
    kinds = sorted({story.kind for story in stories})
    for count in (1, 4, 20):
        lead, latest = Article.objects.home_newest(kinds, count, now)
        assert lead == published.filter(is_featured=True).recent().values_list("pk", flat=True)[0]
        for kind in kinds:
            expected = list(published.filter(kind=kind).recent().values_list("pk", flat=True))
            assert latest[kind] == expected[:count]
    Article.objects.update(is_featured=False)
    assert Article.objects.home_newest(kinds, 4, now)[0] is None


def test_a_story_s_tags_people_and_company_newest_read_along_its_row_are_each_read_s_own():
    company = CompanyFactory()
    tags = [TagFactory(name=name) for name in ("나중", "가운데", "처음")]
    people = [PersonFactory(name=name) for name in ("하늘", "가람", "나래", "가람")]
    now = clock.now_datetime()
    story = ArticleFactory(company=company, tags=tags, people=people, published_at=now)
    same_moment = now - timedelta(hours=1)
    for n in range(8):  # newest first by moment, then by id; four share one moment
        newer = ArticleFactory(
            company=company, published_at=same_moment if n < 4 else now - timedelta(days=n)
        )
        set_views(newer, n)
    ArticleFactory(company=company, status=Status.DRAFT)
    ArticleFactory(company=CompanyFactory(), published_at=now)

    newest, make_newest = Article.objects.newest_links_along(story.pk, now, 4)
    counts, make_counts = Article.objects.newest_counts_along(story.pk, now, 4)
    reads = [card_tags_along([story.pk]), card_people_along([story.pk]), newest, counts]
    found, (tag_rows, people_rows, newest_rows, count_rows) = Article.objects.published_story_with(
        story.pk, reads, now
    )

    assert card(found) == card(Article.objects.published_story(story.pk, now))
    expected_tags, expected_people = card_tags_and_people_of([story.pk])
    found_tags = tags_by_story_of_along(tag_rows)
    assert found_tags == expected_tags
    assert [tag.name for tag in found_tags[story.pk]] == ["나중", "가운데", "처음"]
    found_people = people_by_story_of_along(people_rows)
    assert found_people == expected_people
    assert [person.name for person in found_people[story.pk]] == [
        "가람",
        "가람",
        "나래",
        "하늘",
    ]
    newest_stories = Article.objects.of_company(company.pk, now)
    assert (
        make_counts(count_rows)
        == [
            (pk, count or 0, version, None)  # no card stored
            for pk, count, version in newest_stories.values_list(
                "pk", "view_total__count", "version"
            )[:5]
        ]
    )
    links = make_newest(newest_rows)
    assert links == [
        RelatedLink._make(row)
        for row in Article.objects.of_company(company.pk, now).values_list(*LINK_COLUMNS)[:5]
    ]
    assert [link.published_at for link in links] == [now, *[same_moment] * 4]
    # The statement promises no order: the rows are sorted again, whatever order they come in.
    assert make_newest(newest_rows[::-1]) == links
    assert make_counts(count_rows[::-1]) == make_counts(count_rows)
    assert tags_by_story_of_along(tag_rows[::-1]) == found_tags
    assert people_by_story_of_along(people_rows[::-1]) == found_people


def test_what_is_read_along_a_story_s_row_comes_with_no_story():
    lonely = ArticleFactory(company=None, tags=[TagFactory()])
    now = clock.now_datetime()
    newest, make_newest = Article.objects.newest_links_along(lonely.pk, now)
    found, (tag_rows, newest_rows) = Article.objects.published_story_with(
        lonely.pk, [card_tags_along([lonely.pk]), newest], now
    )
    assert found.pk == lonely.pk
    assert len(tags_by_story_of_along(tag_rows)[lonely.pk]) == 1
    assert make_newest(newest_rows) == []  # no company: no company's stories

    draft = ArticleFactory(status=Status.DRAFT, tags=[TagFactory()])
    found, (tag_rows,) = Article.objects.published_story_with(
        draft.pk, [card_tags_along([draft.pk])]
    )
    assert found is None


def test_a_read_that_finds_no_column_of_its_kind_is_refused():
    story = ArticleFactory()
    too_many = Along(tuple((f"{n}", "json") for n in range(5)), "FROM (SELECT 1) AS one")
    with pytest.raises(NotPreparable):
        Article.objects.published_story_with(story.pk, [too_many])


TITLES = Prepared(
    lambda model, now: (
        model.objects.published(now).order_by("pk").values_list("pk", "title", "slug")
    )
)


def test_integers_past_the_integer_columns_are_read_along_as_text_and_come_back_integers():
    stories = [ArticleFactory(title=f"정수 {n}") for n in range(3)]
    # Three integers, one integer column (the key): two go in text columns.
    along = Along(
        (("own.pk", "int"), ("own.pk * 10", "int"), ("NULL", "int")),
        "FROM own WHERE own.pk IN (SELECT own.pk FROM own)",
    )
    rows, (read,) = read_along(TITLES, Article, [along], now=clock.now_datetime())

    assert sorted(rows) == [(story.pk, story.title, story.slug) for story in stories]
    assert sorted(read) == [(story.pk, story.pk * 10, None) for story in stories]
    assert all(type(value) is int for row in read for value in row[:2])


def test_a_read_may_select_from_a_with_query_of_its_own_with_values_of_its_own():
    # Its WITH query goes after `own`, its values after the query's and before the reads'
    # (a write's RETURNING goes there on PostgreSQL: api/throttling.py's count).
    stories = [ArticleFactory(title=f"앞 {n}") for n in range(2)]
    ahead = Along(
        (("doubled.n", "int"), ("doubled.label", "text")),
        "FROM doubled WHERE doubled.n > %s",
        params=(0,),
        ahead="doubled AS (SELECT %s * 2 AS n, %s AS label)",
        ahead_params=(21, "라벨"),
    )
    plain = Along((("own.pk", "int"),), "FROM own WHERE own.title = %s", params=("앞 1",))

    rows, (doubled, titled) = read_along(TITLES, Article, [ahead, plain], now=clock.now_datetime())

    assert sorted(rows) == [(story.pk, story.title, story.slug) for story in stories]
    assert doubled == [(42, "라벨")]
    assert titled == [(stories[1].pk,)]


def by_key_and_moment(model, pk, now):
    return model.objects.published(now).filter(pk=pk).values_list("pk", "title")


@pytest.mark.postgres
def test_a_generic_query_is_prepared_once_and_answers_every_value(stories):
    query = Prepared(by_key_and_moment)
    now = clock.now_datetime()
    published = [story for story in stories if story.status == Status.PUBLISHED][:3]
    before = set(prepared_statements())
    for story in [*published, stories[-1]]:  # the last one is scheduled: no row
        expected = list(by_key_and_moment(Article, story.pk, now))
        assert query(Article, pk=story.pk, now=now) == expected
    # One statement for every call, its values sent apart ($1, $2, …).
    (made,) = set(prepared_statements()) - before
    assert "articles_article" in made
    assert "$1" in made


@pytest.mark.postgres
def test_a_query_whose_plan_follows_its_values_is_planned_for_each(stories):
    query = Prepared(by_key_and_moment, generic=False)
    before = prepared_statements()
    assert query(Article, pk=stories[0].pk, now=clock.now_datetime()) == [
        (stories[0].pk, stories[0].title)
    ]
    assert prepared_statements() == before


@pytest.mark.postgres
def test_a_generic_query_is_not_prepared_behind_pgbouncer(stories, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "PGBOUNCER", True)
    before = prepared_statements()
    assert Prepared(by_key_and_moment)(Article, pk=stories[0].pk, now=clock.now_datetime())
    assert prepared_statements() == before


@pytest.mark.postgres
def test_which_filters_make_an_api_list_and_a_kind_list_generic():
    from api.stories import PAGE_IDS
    from articles.models.querysets import KIND_PAGE

    now = clock.now_datetime()
    assert PAGE_IDS.compiled(Article, None, (0, 20), {"now": now}).generic
    assert not PAGE_IDS.compiled(Article, None, (0, 20), {"now": now, "tag": "x"}).generic
    assert KIND_PAGE.compiled(Article, None, (0, 20), {"now": now, "kind": "feed"}).generic
    assert not KIND_PAGE.compiled(
        Article, None, (0, 20), {"now": now, "kind": "feed", "job_family": "backend"}
    ).generic


def test_a_first_page_has_its_limit_written_and_any_other_page_sends_it(stories):
    now = clock.now_datetime()
    query = Prepared(lambda model, now: model.objects.published(now).recent().values_list("pk"))
    first = query.compiled(Article, None, (0, 3), {"now": now})
    later = query.compiled(Article, None, (3, 6), {"now": now})
    # The first page's size is in its SQL (one compilation per size), so PostgreSQL may keep
    # one plan for it; a later page sends its size and offset.
    assert first.sql.endswith(" LIMIT 3")
    assert later.sql.endswith(" LIMIT %s OFFSET %s")
    assert query.compiled(Article, None, (0, 5), {"now": now}) is not first
    assert query.compiled(Article, None, (0, 3), {"now": now}) is first
    expected = list(Article.objects.published(now).recent().values_list("pk"))
    for start, stop in ((0, 3), (3, 6), (0, 5), (6, 100), (0, 0)):
        assert query(Article, window=(start, stop), now=now) == expected[start:stop]


@pytest.mark.postgres
def test_small_and_large_keys_run_one_prepared_statement(stories):
    query = Prepared(
        lambda model, ids, now: model.objects.published(now).by_key(ids).values_list("pk")
    )
    with connection.cursor() as cursor:
        # None prepared on this connection (psycopg forgets its own on seeing this), so that
        # none is dropped to make room while the test counts.
        cursor.execute("DEALLOCATE ALL")
    now = clock.now_datetime()
    published = stories[0].pk
    # Keys on either side of 32,768 and 2**31: psycopg would send them as int2, int4, int8,
    # and prepare the statement again for each set of types.
    for ids in ([published, 7], [40_000, published], [3_000_000_000, 1]):
        expected = list(Article.objects.published(now).by_key(ids).values_list("pk"))
        assert (published,) in expected or published not in ids
        assert query(Article, ids=ids, now=now) == expected
    assert len(prepared_statements()) == 1


def test_placeholders_are_numbered_as_postgresql_writes_them():
    assert numbered("a = %s AND b IN (%s, %s)") == "a = $1 AND b IN ($2, $3)"
    # %% is a literal %, whatever follows it.
    assert numbered("t LIKE 'x%%' AND u = %s") == "t LIKE 'x%' AND u = $1"
    assert numbered("%%%s, %%s, 100%%") == "%$1, %s, 100%"
    with pytest.raises(ValueError, match="only %s and %%"):
        numbered("a = %(name)s")


@pytest.mark.postgres
def test_a_long_prepared_statement_with_many_values_answers_each_call(stories):
    # Longer than 4 KB and with more than 50 values: the statements psycopg would parse again
    # on every call. Each call answers its own values, and a literal % is sent as one.
    published = [story for story in stories if story.status == Status.PUBLISHED]
    padding = " OR ".join(f"id = {-n}" for n in range(1, 400))
    sql = (
        "SELECT id, '100%%' FROM articles_article "
        f"WHERE (id IN ({', '.join(['%s'] * 60)}) OR {padding}) AND title LIKE %s ORDER BY id"
    )
    assert len(sql) > 4096
    hits = numbered.cache_info().hits
    with connection.preparing_cursor() as cursor:
        for chosen in (published[:2], published[2:5]):
            keys = [story.pk for story in chosen] + [0] * (60 - len(chosen))
            cursor.execute(sql, [*keys, "%"])
            assert cursor.fetchall() == sorted((story.pk, "100%") for story in chosen)
    # Its placeholders were found once: the second call reused them.
    assert numbered.cache_info().hits == hits + 1
    (made,) = [statement for statement in prepared_statements() if "100%'" in statement]
    assert "$61" in made
