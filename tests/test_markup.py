"""The pieces of HTML written in Python (reader/markup.py): escaped as the template engine
escapes, dates in the reader's time zone, the card's parts present or left out as the story
has them."""

import re
import sys
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.utils import dateformat
from django.utils import timezone as django_timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from articles.listing import with_card_tags
from articles.models import Article, Kind
from articles.rendering import escape_html
from reader import markup
from reader.markup import (
    _WRITTEN_FORMATS,
    _date,
    _e,
    card_html,
    card_links,
    cut,
    kind_label,
    list_drawing,
    story_date_html,
)
from tests.factories import ArticleFactory, CompanyFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "value",
    ["<script>alert(1)</script>", "A & B", "\"quoted\" 'single'", "한글 <b>", 0, 1234, None,
     mark_safe("<em>kept</em>"), ""],
)  # fmt: skip
def test_values_are_escaped_as_the_template_engine_escapes_them(value):
    assert _e(value) == conditional_escape(value)


@pytest.mark.parametrize("format", sorted(_WRITTEN_FORMATS))
@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 5, 9, 3, 7, tzinfo=timezone(timedelta(hours=9))),
        datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC),
        datetime(987, 10, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
        datetime(2026, 7, 4, 12, 0),  # naive
        date(2021, 3, 4),
        date(45, 12, 25),
    ],
)
def test_the_formats_written_directly_are_what_django_s_dateformat_writes(value, format):
    assert _date(value, format) == dateformat.format(value, format)


def card_of(story, popular_days=None):
    row = with_card_tags(Article.objects.card_rows([story.pk]))[0]
    row.recent_views = 7
    return card_html(row, row.card_tags, popular_days)


def test_a_card_escapes_everything_a_writer_typed():
    story = ArticleFactory(
        title='<script>x()</script> & "따옴표"',
        excerpt="<img src=x onerror=y> 요약",
        company=CompanyFactory(name="<b>회사</b>"),
        tags=[TagFactory(name="<i>태그</i>")],
    )
    html = card_of(story)
    for raw in ("<script>", "<img src=x", "<b>", "<i>"):
        assert raw not in html
    assert "&lt;script&gt;x()&lt;/script&gt; &amp; &quot;따옴표&quot;" in html
    assert "&lt;img src=x onerror=y&gt; 요약" in html
    assert '<span class="card-company">' in html
    assert "&lt;b&gt;회사&lt;/b&gt;</span>" in html
    assert "#&lt;i&gt;태그&lt;/i&gt;</a>" in html


def test_a_card_drawn_with_its_list_s_links_is_the_card_drawn_alone():
    story = ArticleFactory(
        title="링크 카드", slug="링크-카드", tags=[TagFactory(name="한글 태그"), TagFactory()]
    )
    row = with_card_tags(Article.objects.card_rows([story.pk]))[0]
    alone = card_html(row, row.card_tags, None)
    assert card_html(row, row.card_tags, None, card_links()) == alone
    assert f'href="{story.get_absolute_url()}"' in alone
    assert all(f'href="{tag.get_absolute_url()}"' in alone for tag in story.tags.all())


def test_cards_drawn_with_their_list_s_zone_and_company_lines_are_the_cards_drawn_alone():
    company = CompanyFactory(name="한 회사")
    first, second = ArticleFactory(company=company), ArticleFactory(company=company)
    other = ArticleFactory(company=CompanyFactory(name="다른 회사"))
    rows = with_card_tags(Article.objects.card_rows([first.pk, second.pk, other.pk]))
    rows[1].company = rows[0].company  # one instance, as a story page's related cards share
    alone = [card_html(row, row.card_tags, None) for row in rows]
    made = list_drawing()
    assert [card_html(row, row.card_tags, None, **made) for row in rows] == alone
    # Each company's line was written once, kept by its instance.
    assert len(made["lines"]) == 2
    assert "다른 회사" in alone[2]
    assert "다른 회사" not in alone[0]


def test_a_card_leaves_out_what_the_story_does_not_have():
    story = ArticleFactory(company=None, tags=[])
    Article.objects.filter(pk=story.pk).update(excerpt="")  # a save derives one from the body
    html = card_of(story)
    assert 'class="card-company"' not in html
    assert 'class="card-excerpt"' not in html
    assert 'class="tag-list"' not in html
    # Without a cover the frame carries the kind's name.
    assert f"<span>{story.get_kind_display()}</span></div>" in html


def test_a_long_excerpt_is_cut_at_120_characters():
    story = ArticleFactory(excerpt="가" * 200)
    assert f'<p class="card-excerpt">{"가" * 119}…</p>' in card_of(story)


def test_the_count_shown_is_the_list_s():
    story = ArticleFactory()
    assert "<span>조회수 0</span>" in card_of(story)
    assert "<span>최근 7일 조회수 7</span>" in card_of(story, popular_days=7)


def test_dates_are_the_readers_day_not_the_servers():
    # 20:00 UTC on 1 March is already 2 March in Seoul (TIME_ZONE).
    story = ArticleFactory(published_at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    html = story_date_html(story, "Y.m.d")
    assert html == '<time datetime="2026-03-02T05:00:00+09:00">2026.03.02</time>\n'
    # A list reads the current time zone once and hands it to each of its stories.
    assert story_date_html(story, "Y.m.d", django_timezone.get_current_timezone()) == html
    with django_timezone.override("Europe/Berlin"):
        berlin = story_date_html(story, "Y.m.d", django_timezone.get_current_timezone())
        assert berlin == story_date_html(story, "Y.m.d")
        assert berlin == '<time datetime="2026-03-01T21:00:00+01:00">2026.03.01</time>\n'


def test_an_imported_story_shows_its_original_date_or_says_it_has_none():
    dated = ArticleFactory(source_key="theteams:옛 글", original_published_on=date(2018, 9, 3))
    assert story_date_html(dated, "Y년 n월 j일") == (
        '<time datetime="2018-09-03">2018년 9월 3일</time>\n'
    )
    zone = django_timezone.get_current_timezone()
    assert story_date_html(dated, "Y.m.d", zone) == story_date_html(dated, "Y.m.d")
    undated = ArticleFactory(source_key="theteams:날짜 없는 글")
    assert "날짜 미상" in story_date_html(undated, "Y.m.d")
    assert story_date_html(undated, "Y.m.d", zone) == story_date_html(undated, "Y.m.d")


def test_kind_labels_are_get_kind_display():
    for kind in Kind.values:
        story = Article(kind=kind)
        assert kind_label(story) == story.get_kind_display()


KOREAN = "개발 문화는 코드 리뷰에서 시작합니다. 온콜과 칸반, 회고를 이야기합니다. "


@pytest.mark.parametrize("length", [1, 2, 5, 119, 120, 121])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "짧은 요약",
        KOREAN * 3,
        (KOREAN * 3)[:120],
        (KOREAN * 3)[:121],
        "x" * 119 + "…",
        "x" * 130 + "…",
        unicodedata.normalize("NFD", KOREAN * 3),  # Hangul jamo: one syllable each after NFC
        "q\u0301" * 100,  # a mark that composes with nothing: not counted
        "섞인 q\u0301 글자 " * 20,
        "🙂 이모지와 함께 " * 20,
    ],
)
def test_a_cut_excerpt_is_what_truncator_cuts(text, length):
    assert cut(text, length) == Truncator(text).chars(length)


def test_the_characters_cut_by_slicing_are_never_combining_marks():
    plain = re.compile(f"[{markup._PLAIN}]")
    assert not [
        code
        for code in range(sys.maxunicode + 1)
        if plain.fullmatch(chr(code)) and unicodedata.combining(chr(code))
    ]


def test_the_popular_list_is_what_its_template_wrote():
    from types import SimpleNamespace

    from django.template import Context, Template

    from reader.markup import popular_items

    with_company = ArticleFactory(
        title='<script>x()</script> & "인기"', company=CompanyFactory(name="<b>회사</b>")
    )
    alone = ArticleFactory(title="회사 없는 글", company=None, slug="회사-없는-글")
    popular = [
        SimpleNamespace(story=with_company, recent_views=1234),
        SimpleNamespace(story=alone, recent_views=0),
    ]
    # The loop the home template had before popular_items() wrote it.
    template = Template(
        '{% for entry in popular %}{% with story=entry.story %}<li><a href="{{ story.'
        'get_absolute_url }}">{{ story.title }}</a> <small>{% if story.company %}{{ story.'
        "company.name }} · {% endif %}이번 주 조회수 {{ entry.recent_views }}</small></li>"
        "{% endwith %}{% endfor %}"
    )
    assert popular_items(popular) == template.render(Context({"popular": popular}))
    assert "<script>" not in popular_items(popular)


@pytest.mark.parametrize(
    "query_string",
    ["", "q=%ED%92%80", "q=a+b&page=3", "page=2&q=x&order=relevance", "q=x&q=y&page=1",
     "tag=%23c%2B%2B&empty=&page=abc", "order=recent"],
)  # fmt: skip
@pytest.mark.parametrize(
    "changes",
    [{"page": 4}, {"page": None}, {"order": "relevance", "page": None}, {"job": None},
     {"q": "새 말 & <b>"}, {}],
)  # fmt: skip
def test_query_with_writes_what_django_s_querystring_tag_writes(query_string, changes):
    from types import SimpleNamespace

    from django.http import QueryDict
    from django.template.defaulttags import querystring

    query_dict = QueryDict(query_string)
    django_s = querystring(SimpleNamespace(request=SimpleNamespace(GET=query_dict)), **changes)
    assert markup.query_with(query_dict, **changes) == django_s
    assert QueryDict(query_string) == query_dict  # left as it was


@pytest.mark.parametrize(
    "text",
    [
        "",
        "결산랩",
        "PostgreSQL로 이사하기 4편: psycopg 커넥션 풀",
        "/stories/13/postgresql%EB%A1%9C/",
        "a & b",
        "<script>alert(1)</script>",
        'say "hi"',
        "it's",
        "&amp; already",
        "> < & \" '",
    ],
)
def test_escape_html_is_what_djangos_escape_writes(text):
    assert escape_html(text) == str(escape(text))
