"""Korean-aware search: the bigram index, the /search/ page, and keeping the index in sync."""

import random
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import answers, versions
from articles import search as search_module
from articles.listing import card_tags_and_texts_of
from articles.models import Article, SearchDocument, Status
from articles.search import (
    MAX_QUERY_LENGTH,
    bigrams,
    fts5_match,
    parse_query,
    search_pages,
    search_stories,
    snippet,
    tsquery,
)
from articles.services import save_story
from tests.factories import ArticleFactory, CompanyFactory, PersonFactory, TagFactory
from tests.prepared_support import rows_reversed

pytestmark = pytest.mark.django_db

ON_SQLITE = connection.vendor == "sqlite"
# The seed's three stories, by company: an interview, a post on connection pooling, a culture post.
INTERVIEW, POOLING = "오픈서베이", "스포카"


def find(client, q, **params):
    response = client.get(reverse("articles:search"), {"q": q, **params})
    assert response.status_code == 200
    return response


def found(response):
    page = response.context["page"]
    return [story.title for story in page] if page else []


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


# --- Cutting text into index pieces --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("풀링은", "풀링 링은"),
        ("연결 풀을 쓴다", "연결 풀을 쓴다"),
        ("데이터베이스", "데이 이터 터베 베이 이스"),
        ("풀", "풀"),
        ("QueuePool과 TimeoutError", "queuepool 과 timeouterror"),
        ("pool_size=5, max_overflow=10", "pool size 5 max overflow 10"),
        ("Jira와 Slack으로", "jira 와 slack 으로"),
        ("“따옴표”·가운뎃점… (괄호)", "따옴 옴표 가운 운뎃 뎃점 괄호"),
        ("ＱｕｅｕｅＰｏｏｌ", "queuepool"),
        ("", ""),
    ],
)
def test_text_is_indexed_as_hangul_bigrams_and_whole_lowercase_latin_words(text, expected):
    assert bigrams(text) == expected


def test_query_words_become_quoted_phrases_anded_together():
    query = parse_query("연결 풀 QueuePool go")
    assert fts5_match(query) == '("연결") AND ("풀"*) AND ("queuepool"*) AND ("go")'
    assert tsquery(query) == "('연결') & ('풀':*) & ('queuepool':*) & ('go')"
    assert fts5_match(parse_query("풀링은"), "title_terms") == 'title_terms : (("풀링 링은"))'


def test_synonyms_widen_a_query_word():
    assert fts5_match(parse_query("병특")) == '("병특" OR "병역 역특 특례")'
    assert tsquery(parse_query("타임아웃")) == "('타임' <-> '임아' <-> '아웃' | 'timeout':*)"


@pytest.mark.parametrize(
    "raw",
    ["\"*()%_'\\", "NEAR AND OR NOT", '"풀링" OR -연결 ^풀*', "title_terms:풀링", "a'); DROP"],
)
def test_no_query_syntax_survives_parsing(raw):
    expression = fts5_match(parse_query(raw))
    # Outside the quoted pieces only the operators this module writes itself remain.
    outside = expression.split('"')[::2]
    assert set("".join(outside)) <= set("()ANDOR *")


# --- Finding the seed's stories ------------------------------------------------------------


@pytest.fixture
def seed_stories(seed_file):
    call_command("import_theteams", str(seed_file), stdout=StringIO())


@pytest.mark.seed
@pytest.mark.parametrize(
    ("q", "company"),
    [
        ("풀링", POOLING),
        ("연결 풀", POOLING),
        ("병특", INTERVIEW),
        ("QueuePool", POOLING),
        ("pool_size", POOLING),
        ("오픈서베이", INTERVIEW),
    ],
)
def test_seed_queries_find_their_story_first(client, seed_stories, q, company):
    page = find(client, q).context["page"]
    assert page[0].company_name == company


@pytest.mark.seed
def test_seed_query_words_are_marked_in_the_results(client, seed_stories):
    html = find(client, "연결 풀").content.decode()
    assert "<mark>연결</mark> <mark>풀</mark>" in html
    assert "검색 결과 <strong>" in html


@pytest.mark.seed
def test_a_transliteration_finds_the_latin_word_through_the_synonym_list(client, seed_stories):
    page = find(client, "타임아웃").context["page"]
    assert POOLING in [story.company_name for story in page]


@pytest.mark.seed
def test_title_matches_rank_the_interview_first_for_its_title_word(seed_stories):
    stories = list(search_stories(parse_query("병특")))
    assert stories[0].company.name == INTERVIEW
    assert stories[0].title_hit


# --- What is found -------------------------------------------------------------------------


def test_one_syllable_and_latin_words_match_as_prefixes(client):
    ArticleFactory(title="커넥션 풀링 정리", body="QueuePool을 씁니다.")
    assert found(find(client, "풀")) == ["커넥션 풀링 정리"]
    assert found(find(client, "queue")) == ["커넥션 풀링 정리"]
    assert found(find(client, "링정")) == []


def test_every_word_must_match(client):
    ArticleFactory(title="배포 자동화", body="매일 배포합니다.")
    ArticleFactory(title="배포 회고", body="장애를 돌아봅니다.")
    assert found(find(client, "배포 장애")) == ["배포 회고"]


def test_company_people_nicknames_and_tags_are_searched(client):
    company = CompanyFactory(name="바이트플로우")
    ArticleFactory(
        title="온보딩 이야기",
        company=company,
        people=[PersonFactory(name="한서연", nickname="레드")],
        tags=[TagFactory(name="온콜")],
    )
    for q in ["바이트플로우", "한서연", "레드", "온콜"]:
        assert found(find(client, q)) == ["온보딩 이야기"], q


def test_drafts_scheduled_and_unpublished_stories_are_never_found(client):
    ArticleFactory(title="공개된 비밀번호 정책")
    ArticleFactory(title="초안 비밀번호 정책", draft=True)
    ArticleFactory(title="검토 비밀번호 정책", in_review=True)
    ArticleFactory(title="예약 비밀번호 정책", scheduled=True)
    ArticleFactory(title="내린 비밀번호 정책", expired=True)
    response = find(client, "비밀번호")
    assert found(response) == ["공개된 비밀번호 정책"]
    assert response.context["page"].paginator.count == 1
    assert "검색 결과 <strong>1</strong>개" in response.content.decode()


def test_stories_with_every_word_in_the_title_come_first_then_the_newest(client):
    ArticleFactory(title="연결 풀 크기 정하기", published_at=ago(days=30))
    ArticleFactory(title="장애 회고", body="연결 풀이 모자랐습니다.", published_at=ago(days=2))
    ArticleFactory(title="연결 끊김", body="풀 설정을 바꿨습니다.", published_at=ago(hours=1))
    assert found(find(client, "연결 풀")) == ["연결 풀 크기 정하기", "연결 끊김", "장애 회고"]


def test_relevance_order_ranks_by_weighted_matches_after_title_matches(client):
    ArticleFactory(title="무효화 전략", body="규칙을 정리합니다.", published_at=ago(days=9))
    ArticleFactory(title="캐시", body="무효화, 무효화, 또 무효화.", published_at=ago(days=5))
    ArticleFactory(
        title="로그", body="긴 로그 이야기 끝에 무효화 한 번 " * 5, published_at=ago(hours=1)
    )
    assert found(find(client, "무효화")) == ["무효화 전략", "로그", "캐시"]
    assert found(find(client, "무효화", order="relevance")) == ["무효화 전략", "캐시", "로그"]


# --- Snippets ------------------------------------------------------------------------------


def test_snippet_shows_a_window_around_the_first_match_with_the_words_marked():
    text = "가" * 300 + " 커넥션 풀링은 연결을 다시 씁니다. " + "나" * 300
    html = snippet(text, parse_query("풀링 연결"))
    assert html.startswith("…")
    assert html.endswith("…")
    assert "<mark>풀링</mark>은 <mark>연결</mark>을" in html
    assert len(html) < 260


def test_snippet_falls_back_to_the_excerpt_when_the_body_has_no_match():
    html = snippet("본문에는 없습니다.", parse_query("요약"), fallback="요약에만 있는 낱말")
    assert html == "<mark>요약</mark>에만 있는 낱말"


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ("온콜", ("온콜",)),
        ("온콜 문화", ("문화", "온콜")),
        ("연결-풀링", ("연결",)),  # a word's later runs follow its first
        ("QueuePool", ()),  # Latin: the case is folded
        ("풀링 pool", ()),
        ("2024년", ()),
    ],
)
def test_snippet_words_are_the_hangul_starts_of_the_query_s_words(q, words):
    assert search_module.snippet_words(parse_query(q)) == words


def snippets_of(response) -> list[str]:
    return re.findall(r'<p class="search-snippet">(.*?)</p>', response.content.decode(), re.S)


@pytest.mark.parametrize("many", [False, True])
def test_a_result_whose_text_lacks_the_words_is_read_only_as_far_as_its_snippet(
    client, many, monkeypatch
):
    """Its snippet (the excerpt, else the text's start with … when it goes on) is what the
    whole text gives; a text that holds a word is read whole. On PostgreSQL only (SQLite reads
    every text whole). `many`: a search walked newest first (TitleFirstPages)."""
    if many:
        monkeypatch.setattr(search_module, "WALK_FROM", 2)
    long_text = " ".join(["낱말이 이어지는 긴 본문입니다"] * 40)
    stories = [
        # The word in the title only: no excerpt (the text's start), an excerpt, a short body.
        ArticleFactory(title="온콜 이야기 하나", body=long_text),
        ArticleFactory(title="온콜 이야기 둘", excerpt="요약에 쓴 말", body=long_text),
        ArticleFactory(title="온콜 이야기 셋", body="짧은 본문"),
        # The word far into the text, and at its start.
        ArticleFactory(title="이야기 넷", body=long_text + " 끝에 온콜 당번"),
        ArticleFactory(title="이야기 다섯", body="온콜 당번으로 시작하는 " + long_text),
    ]
    # A save derives an excerpt from the body when it has none; one cleared behind it (a bulk
    # update) leaves the text's start to the snippet.
    blank = [stories[0].pk, stories[2].pk, stories[3].pk]
    Article.objects.filter(pk__in=blank).update(excerpt="")
    stories = [Article.objects.get(pk=story.pk) for story in stories]
    query = parse_query("온콜")
    expected = []
    for story in sorted(stories, key=lambda story: story.published_at, reverse=True):
        text = SearchDocument.objects.get(article=story).text
        expected.append(
            (story.title.startswith("온콜"), snippet(text, query, fallback=story.excerpt))
        )
    # The title's matches first, each part newest first.
    expected = [html for _, html in sorted(expected, key=lambda pair: not pair[0])]

    with CaptureQueriesContext(connection) as queries:
        shown = snippets_of(find(client, "온콜"))

    assert shown == expected
    assert any("…" in html and "<mark>" not in html for html in shown)
    if connection.vendor == "postgresql":
        read = [
            query["sql"] for query in queries.captured_queries if "STRPOS(d.text" in query["sql"]
        ]
        assert read
        assert all("SUBSTR(d.text" in sql for sql in read)


def test_a_latin_word_reads_each_text_whole(client):
    ArticleFactory(title="QueuePool 이야기", excerpt="", body="본문 " * 200)
    with CaptureQueriesContext(connection) as queries:
        assert len(snippets_of(find(client, "queuepool"))) == 1
    assert not any("SUBSTR" in query["sql"].upper() for query in queries.captured_queries)


def test_markup_in_a_story_or_the_query_is_shown_escaped(client):
    ArticleFactory(title="<b>굵은</b> 보안 점검", body="`<script>alert(1)</script>` 보안 점검 결과")
    html = find(client, "보안 <script>").content.decode()
    assert "<script>alert" not in html
    html = find(client, "보안 script").content.decode()
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in html
    assert "&lt;b&gt;굵은&lt;/b&gt; <mark>보안</mark>" in html
    assert "<b>굵은" not in html


# --- The page ------------------------------------------------------------------------------


def test_every_page_has_a_search_form(client):
    html = client.get(reverse("articles:home")).content.decode()
    assert 'role="search"' in html
    assert 'type="search" name="q"' in html
    assert f'action="{reverse("articles:search")}"' in html


def test_empty_query_shows_a_prompt_and_runs_no_search_query(client, django_assert_num_queries):
    versions.current()  # drawn once per content change, not per page
    # The one query is the read of the shared content version (the page cache's key).
    with django_assert_num_queries(1):
        response = find(client, "   ")
    assert "무엇을 찾을까요?" in response.content.decode()
    assert response.context["page"] is None


@pytest.mark.parametrize(
    "q", ["\"*()%_'\\", "%%%", "___", "---", "^^^", '""', "()", "*", "·…“”", "\\", "\x00"]
)
def test_a_query_of_symbols_only_gives_a_friendly_page(client, q):
    response = find(client, q)
    assert "찾을 글자나 숫자가 없습니다" in response.content.decode()


@pytest.mark.parametrize(
    "q", ["풀링 AND OR NOT", '"풀링', "-풀링 ^연결", "풀링*", "(풀링)", "풀링' --", "pool_size%"]
)
def test_query_operators_typed_by_a_reader_are_ignored(client, q):
    ArticleFactory(title="커넥션 풀링 연결 정리", body="pool_size를 정합니다. and or not")
    assert found(find(client, q)) == ["커넥션 풀링 연결 정리"]


@pytest.mark.parametrize(
    "q",
    ["NEAR(풀링 연결)", "title_terms:풀링", "{title_terms}:풀링", "풀링' OR 1=1 --", "a:* & !b"],
)
def test_query_syntax_glued_to_words_is_searched_as_words_not_run(client, q):
    ArticleFactory(title="커넥션 풀링 연결 정리")
    html = find(client, q).content.decode()
    assert "검색 결과 <strong>" in html


def test_an_overlong_query_is_cut_and_the_page_says_so(client):
    ArticleFactory(title="긴 검색어")
    response = find(client, "긴 " + "가" * 500)
    html = response.content.decode()
    assert f"앞 {MAX_QUERY_LENGTH}자로 찾았습니다" in html
    assert len(response.context["query"].text) == MAX_QUERY_LENGTH
    assert "맞는 스토리가 없습니다" in html


def test_pagination_keeps_the_query(client):
    for number in range(25):
        ArticleFactory(title=f"회고 {number}", published_at=ago(hours=number + 1))
    response = find(client, "회고")
    assert response.context["page"].paginator.count == 25
    assert 'href="?q=%ED%9A%8C%EA%B3%A0&amp;page=2"' in response.content.decode()
    second = find(client, "회고", page=2)
    assert found(second) == [f"회고 {number}" for number in range(20, 25)]


@pytest.mark.parametrize("reverse", [False, True])
def test_pages_follow_the_title_first_order_across_the_title_matches(client, reverse, monkeypatch):
    if reverse:  # the statement promises no order
        monkeypatch.setattr(search_module, "read_along", rows_reversed(search_module.read_along))
    # The page sorts the matches' ids and then loads that page's cards (TitleFirstPages):
    # page after page, the stories come in search_stories()' order, the title matches first.
    for number in range(15):
        ArticleFactory(title=f"회고 {number}", published_at=ago(days=number + 1))
        ArticleFactory(
            title=f"장애 {number}", body="회고를 했습니다.", published_at=ago(hours=number + 1)
        )
    ArticleFactory(title="회고 초안", status=Status.DRAFT)
    expected = [story.title for story in search_stories(parse_query("회고"))]
    assert len(expected) == 30
    assert expected[:15] == [f"회고 {number}" for number in range(15)]
    pages = [find(client, "회고", page=number) for number in (1, 2)]
    assert found(pages[0]) + found(pages[1]) == expected
    assert [story.title_hit for story in pages[0].context["page"]] == [True] * 15 + [False] * 5


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("title_matches", [2, 9])
def test_pages_cut_by_walking_the_newest_stories_keep_the_title_first_order(
    monkeypatch, title_matches, reverse
):
    # Past WALK_FROM matches each part (title matches, the others) is cut on its own: a large
    # part by walking the newest stories, a small one among many by sorting its dates. Every
    # window gives what sorting all the matches gives, hidden stories never among them.
    monkeypatch.setattr(search_module, "WALK_FROM", 4)
    # On SQLite the title's matches are counted up to 5: a window past them counts them all.
    monkeypatch.setattr(search_module, "TITLE_COUNTED", 5)
    if reverse:  # the statement promises no order
        monkeypatch.setattr(search_module, "read_along", rows_reversed(search_module.read_along))
    tags = [TagFactory(name="나중"), TagFactory(name="먼저")]
    for number in range(title_matches):
        ArticleFactory(
            title=f"회고 {number}", published_at=ago(hours=3 * number + 1), tags=tags[::-1]
        )
    for number in range(11 - title_matches):
        ArticleFactory(
            title=f"장애 {number}",
            body="회고를 했습니다.",
            published_at=ago(hours=3 * number + 2),
            tags=tags[number % 2 :],
        )
    ArticleFactory(title="회고 초안", status=Status.DRAFT)
    ArticleFactory(title="예정된 회고", published_at=timezone.now() + timedelta(days=1))
    ArticleFactory(title="장애", body="회고", unpublish_at=ago(hours=1), published_at=ago(days=3))
    query = parse_query("회고")
    expected = list(search_stories(query).values_list("pk", "title_hit"))
    assert len(expected) == 11
    assert sum(hit for _, hit in expected) == title_matches
    pages = search_pages(query)
    assert pages.count() == 11
    bounded = connection.vendor == "sqlite" and title_matches >= 5
    # All the matches; the title's (at least 5 when bounded); whether that is exact.
    assert pages._counted() == (11, 5, False) if bounded else (11, title_matches, True)
    for start in range(12):
        for stop in range(start + 1, 16):
            page = pages[start:stop]
            assert [(story.pk, story.title_hit) for story in page] == expected[start:stop]
            # Each with its hashtags and search text, read with the page.
            tags, texts = card_tags_and_texts_of([story.pk for story in page])
            assert [(story.card_tags, story.search_text) for story in page] == [
                (tags.get(story.pk, ()), texts.get(story.pk, "")) for story in page
            ]
    assert pages._counted() == (11, title_matches, True)


@pytest.mark.parametrize("keys_follow_dates", [True, False])
def test_a_walk_among_the_newest_stories_gives_what_walking_them_all_gives(
    monkeypatch, keys_follow_dates
):
    # While a page is rendered for readers, SQLite looks for a walked part's newest among the
    # newest stories first (_reach()): every window is still what sorting all the matches
    # gives, where keys follow dates and where they do not, where the newest hold enough of
    # the part (the others, 3 in 4 stories: found there in one statement) and where they do
    # not (the title's, 1 in 4: looked for again), with stories of the same moment and hidden
    # stories among them.
    monkeypatch.setattr(search_module, "WALK_FROM", 4)
    monkeypatch.setattr(search_module, "TITLE_COUNTED", 5)
    monkeypatch.setattr(search_module, "REACH_PER_RESULT", 3)
    moment = ago(hours=50)
    for number in range(36):
        hours = 100 - number if keys_follow_dates else number
        ArticleFactory(
            title=f"회고 {number}" if number % 4 == 0 else f"장애 {number}",
            body="회고를 했습니다.",
            published_at=moment if number in (16, 17, 18) else ago(hours=hours),
        )
    ArticleFactory(title="회고 초안", status=Status.DRAFT)
    ArticleFactory(title="예정된 회고", published_at=timezone.now() + timedelta(days=1))
    ArticleFactory(title="회고", unpublish_at=ago(minutes=1), published_at=ago(minutes=2))
    query = parse_query("회고")
    expected = list(search_stories(query).values_list("pk", "title_hit"))
    assert len(expected) == 36
    asked = []
    with_relations = search_module._with_relations
    monkeypatch.setattr(
        search_module,
        "_with_relations",
        lambda prepared, shape=None, **values: (
            asked.append("since" in values) or with_relations(prepared, shape, **values)
        ),
    )
    ways = set()
    token = answers.rendering_under.set("test-version")
    try:
        for start in range(37):
            for stop in range(start + 1, 39):
                asked.clear()
                page = search_pages(query)[start:stop]
                assert [(story.pk, story.title_hit) for story in page] == expected[start:stop]
                ways.add(tuple(asked))
    finally:
        answers.rendering_under.reset(token)
    if connection.vendor == "sqlite" and keys_follow_dates:
        # Found among the newest in one statement; looked for again; both parts' windows.
        assert {(True,), (True, False), (True, False, True)} <= ways, ways


@pytest.mark.parametrize("page", ["0", "-1", "abc", "999", "1.5", ""])
def test_bad_page_numbers_give_a_real_page(client, page):
    for number in range(3):
        ArticleFactory(title=f"테스트 {number}")
    assert len(found(find(client, "테스트", page=page))) == 3


def test_search_page_runs_the_same_number_of_queries_whatever_the_results(
    client, django_assert_num_queries
):
    for number in range(25):
        ArticleFactory(title=f"회고 {number}", tags=[TagFactory(), TagFactory()])
    for number in range(2):
        ArticleFactory(title=f"온보딩 {number}", tags=[TagFactory()])
    # The content version (the page cache's key; each of these pages is rendered), the count,
    # the page of stories with their company, their tags and text (one statement, in the
    # title-first order; two in the relevance order).
    versions.current()  # drawn once per content change, not per page
    for q in ["회고", "온보딩"]:
        with django_assert_num_queries(3):
            find(client, q)
    with django_assert_num_queries(4):
        find(client, "회고", order="relevance")
    with django_assert_num_queries(2):
        find(client, "없는낱말")


def test_an_unknown_order_falls_back_to_title_first(client):
    ArticleFactory(title="정렬")
    response = find(client, "정렬", order="'; DROP TABLE")
    assert response.context["order"] == "recent"
    assert found(response) == ["정렬"]


# --- Keeping the index in sync -------------------------------------------------------------


def test_editing_a_story_updates_what_finds_it(client):
    story = ArticleFactory(title="모놀리스 분리", excerpt="요약", body="서비스를 나눴습니다.")
    story.title = "마이크로서비스 통합"
    story.body = "다시 합쳤습니다."
    save_story(story, by=None)
    assert found(find(client, "모놀리스")) == []
    assert found(find(client, "나눴")) == []
    assert found(find(client, "통합")) == ["마이크로서비스 통합"]
    assert found(find(client, "합쳤")) == ["마이크로서비스 통합"]


def test_publishing_a_draft_makes_it_findable_without_reindexing(client):
    story = ArticleFactory(title="숨은 글", draft=True)
    assert found(find(client, "숨은")) == []
    story.publish()
    save_story(story, by=None, fields=["status", "published_at", "unpublish_at"])
    assert found(find(client, "숨은")) == ["숨은 글"]


def test_deleting_a_story_deletes_its_search_document(client):
    story = ArticleFactory(title="지울 글")
    ArticleFactory(title="남을 글")
    story.delete()
    Article.objects.filter(title="남을 글").delete()
    assert not SearchDocument.objects.exists()
    assert found(find(client, "지울")) == []


def test_tags_and_people_set_in_the_admin_are_searchable(admin_client, client):
    story = ArticleFactory(title="관리자 편집")
    tag = TagFactory(name="카오스엔지니어링")
    person = PersonFactory(name="문하늘", nickname="블루")
    published = timezone.localtime(story.published_at)
    response = admin_client.post(
        reverse("admin:articles_article_change", args=[story.pk]),
        {
            "kind": "feed", "title": "관리자 편집", "slug": story.slug, "excerpt": "",
            "base_version": story.version,
            "body": story.body, "byline": "", "job_family": "", "series_part": "",
            "status": "published", "hashtags": [tag.pk], "people": [person.pk],
            "company": story.company_id,
            "published_at_0": published.strftime("%Y-%m-%d"),
            "published_at_1": published.strftime("%H:%M:%S"),
            "unpublish_at_0": "", "unpublish_at_1": "", "meta_description": "",
            "original_url": "", "cover_alt": "", "cover_credit": "", "cover_focus": "center",
            "collection_items-TOTAL_FORMS": "0", "collection_items-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert found(find(client, "카오스")) == ["관리자 편집"]
    assert found(find(client, "블루")) == ["관리자 편집"]


def test_renaming_a_company_person_or_tag_reaches_the_stories_that_show_it(client):
    company = CompanyFactory(name="옛회사")
    person = PersonFactory(name="옛이름", nickname="")
    tag = TagFactory(name="옛태그")
    ArticleFactory(title="이름 바뀐 글", company=company, people=[person], tags=[tag])
    other = ArticleFactory(title="상관없는 글")
    other_document = SearchDocument.objects.get(article=other).body_terms

    company.name = "새회사"
    company.save()
    person.name, person.nickname = "새이름", "별명"
    person.save()
    tag.name = "새태그"
    tag.save()

    for old in ("옛회사", "옛이름", "옛태그"):
        assert found(find(client, old)) == [], old
    for new in ("새회사", "새이름", "별명", "새태그"):
        assert found(find(client, new)) == ["이름 바뀐 글"], new
    assert SearchDocument.objects.get(article=other).body_terms == other_document


def test_saving_a_company_without_renaming_it_reindexes_nothing():
    company = CompanyFactory(name="그대로회사")
    ArticleFactory.create_batch(3, company=company)
    company.one_liner = "소개만 바꿈"
    with CaptureQueriesContext(connection) as full_save:
        company.save()
    with CaptureQueriesContext(connection) as partial_save:
        company.save(update_fields=["one_liner"])
    touched = [
        q["sql"]
        for q in full_save.captured_queries + partial_save.captured_queries
        if "searchdocument" in q["sql"]
    ]
    assert touched == []
    # A save naming only other fields does not even read the old name.
    assert not any(
        '"name"' in q["sql"] for q in partial_save.captured_queries if q["sql"].startswith("SELECT")
    )


def test_deleting_a_tag_or_person_takes_its_name_out_of_the_index(client):
    tag = TagFactory(name="사라질태그")
    person = PersonFactory(name="떠난사람", nickname="")
    ArticleFactory(title="남은 글", tags=[tag], people=[person])
    assert found(find(client, "사라질태그")) == ["남은 글"]
    tag.delete()
    person.delete()
    assert found(find(client, "사라질태그")) == []
    assert found(find(client, "떠난사람")) == []
    assert found(find(client, "남은")) == ["남은 글"]


def test_reindex_command_catches_up_after_bulk_changes(client):
    ArticleFactory(title="벌크 수정 전")
    Article.objects.update(title="벌크 수정 후")
    assert found(find(client, "수정 후")) == []
    SearchDocument.objects.all().delete()
    ArticleFactory(title="그대로인 글")
    out = StringIO()
    call_command("reindex_search", stdout=out)
    assert "스토리 2개의 검색 색인을 다시 만들었습니다" in out.getvalue()
    assert found(find(client, "수정 후")) == ["벌크 수정 후"]
    assert found(find(client, "그대로")) == ["그대로인 글"]
    assert SearchDocument.objects.count() == 2


@pytest.mark.skipif(not ON_SQLITE, reason="the FTS5 table exists only on SQLite")
def test_sqlite_fts_table_follows_its_documents():
    def matches(word):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rowid FROM articles_search_fts WHERE articles_search_fts MATCH %s",
                [f'"{word}"'],
            )
            return [row[0] for row in cursor.fetchall()]

    story = ArticleFactory(title="트리거 확인")
    assert matches("트리") == [story.pk]
    story.title = "바뀐 제목"
    save_story(story, by=None)
    assert matches("트리") == []
    assert matches("바뀐") == [story.pk]
    story.delete()
    assert matches("바뀐") == []


@pytest.mark.postgres
def test_postgres_index_is_a_weighted_tsvector_with_a_gin_index():
    story = ArticleFactory(title="제목 낱말", body="본문 낱말")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'articles_searchdocument'"
            " AND indexdef LIKE '%%USING gin (document)%%'"
        )
        assert cursor.fetchone() is not None
        cursor.execute(
            "SELECT document::text FROM articles_searchdocument WHERE article_id = %s",
            [story.pk],
        )
        (document,) = cursor.fetchone()
    assert re.search(r"'제목':1A\b", document)
    assert re.search(r"'본문':\d+B\b", document)


def test_the_longest_body_an_editor_may_save_is_indexed(client, settings):
    # Random syllables make every bigram a new word: the worst case for PostgreSQL's
    # 1 MB tsvector limit.
    rng = random.Random(1)
    body = "".join(
        chr(rng.randrange(0xAC00, 0xD7A4)) for _ in range(settings.ARTICLE_BODY_MAX_CHARS)
    )
    ArticleFactory(title="아주 긴 글", excerpt="요약", body=body)
    assert found(find(client, body[:4])) == ["아주 긴 글"]


# Characters that try the word boundaries: Latin of every case, digits, Hangul syllables and
# jamo, letters whose case changes their length or class, the underscore, spaces, punctuation.
BOUNDARY_ALPHABET = "aAbBpPoOlLqQuUeEzZ09_ -.·/풀링연결가힣ㄱㅏßİıſKÉéΣσς①"


def test_the_highlighter_finds_what_one_regular_expression_of_the_words_would():
    """_Finder tests the Latin boundaries itself instead of compiling them (their classes
    cost the re compiler a millisecond a query): it must find exactly what re.finditer() over
    the alternation of the words' full patterns finds, as the highlighter did before."""
    from articles.search import _pattern

    rng = random.Random(15)
    words = ["pool", "poo", "pool풀링", "풀링pool", "연결 pool", "q", "ab", "queuepool", "풀", "é"]
    for _ in range(400):
        query = parse_query(" ".join(rng.sample(words, rng.randint(1, 3))))
        if not query:
            continue
        terms = {t.pattern for group in query.groups for t in group}
        reference = re.compile(
            "|".join(f"(?:{p})" for p in sorted(terms, key=len, reverse=True)), re.IGNORECASE
        )
        finder = _pattern(query)
        for _ in range(25):
            text = "".join(rng.choice(BOUNDARY_ALPHABET) for _ in range(rng.randint(0, 40)))
            if rng.random() < 0.5:
                text = text[:10] + rng.choice(words) + text[10:]
            expected = [m.span() for m in reference.finditer(text) if m.end() > m.start()]
            assert list(finder.finditer(text)) == expected, (query.text, text)
