"""Tests for the pure TheTeams (더팀스) dump parser in articles/theteams.py.

The real dump in ../shared/seed is read at run time and never copied into the project; the
synthetic dumps below are invented text. No database is needed.
"""

import dataclasses
import re

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from articles.theteams import (
    DumpError,
    ParsedPage,
    ParsedStory,
    fidelity_text,
    is_faithful,
    parse_dump,
)
from tests.conftest import SEED_DIR

SEED_FILE = SEED_DIR / "000_66209d255b7218c4.txt"
NAVIGATION = {"스토리 홈", "인터뷰", "피드", "뉴스"}

_markdown = MarkdownIt("commonmark", {"html": False}).use(footnote_plugin)


def render(markdown: str) -> str:
    return _markdown.render(markdown)


def paragraphs(markdown: str) -> list[str]:
    return [block for block in markdown.split("\n\n") if block.strip()]


def make_dump(*stories: tuple[str, str, str], section: str | None = "이번 주 추천 글") -> str:
    """A dump in TheTeams' layout from (view count, title, body) triples."""
    lines = ["스토리 홈", "", "인터뷰", "", "피드", "", "뉴스", ""]
    if section:
        lines.append(section)
    for views, title, body in stories:
        lines += [f"조회수 {views}", "", title, "", body]
    lines += ["", "회사 이야기를 모으는 곳", "", "로그인", "", "/", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# The real seed dump
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    if not SEED_DIR.is_dir():
        pytest.skip(f"seed directory {SEED_DIR} is absent (it lives outside the repository)")
    if not SEED_FILE.is_file():
        pytest.skip(f"seed dump {SEED_FILE.name} is absent from {SEED_DIR}")
    return SEED_FILE.read_text(encoding="utf-8").split("\n")


@pytest.fixture(scope="module")
def seed_page(seed_lines) -> ParsedPage:
    return parse_dump(SEED_FILE.read_bytes())


@pytest.fixture(scope="module")
def seed_stories(seed_page) -> list[ParsedStory]:
    return seed_page.stories


def expected_blocks(lines: list[str]) -> list[tuple[int, int, str, str]]:
    """(line, view count, title, body) read straight from the dump, independently of the parser."""
    blocks = []
    for index, line in enumerate(lines):
        match = re.fullmatch(r"조회수 (\d+)", line.strip())
        if match:
            following = [text for text in lines[index + 1 :] if text.strip()]
            blocks.append((index + 1, int(match.group(1)), following[0].strip(), following[1]))
    return blocks


@pytest.mark.seed
def test_seed_has_three_stories_with_the_dumps_titles_and_view_counts(seed_lines, seed_stories):
    expected = expected_blocks(seed_lines)
    assert len(seed_stories) == 3
    assert [story.view_count for story in seed_stories] == [669, 2528, 3589]
    assert [(s.line, s.view_count, s.title) for s in seed_stories] == [e[:3] for e in expected]
    assert "오픈서베이" in seed_stories[0].title
    assert "SQLAlchemy" in seed_stories[1].title
    assert "코인원" in seed_stories[2].title


@pytest.mark.seed
def test_seed_story_line_points_at_its_view_count_line(seed_lines, seed_stories):
    for story in seed_stories:
        assert seed_lines[story.line - 1] == f"조회수 {story.view_count}"


@pytest.mark.seed
def test_seed_source_body_is_the_body_line_verbatim(seed_lines, seed_stories):
    assert [story.source_body for story in seed_stories] == [
        body for *_, body in expected_blocks(seed_lines)
    ]


@pytest.mark.seed
def test_seed_section_title_is_the_first_non_navigation_line(seed_lines, seed_page):
    first_block = next(i for i, line in enumerate(seed_lines) if line.startswith("조회수"))
    header = [line.strip() for line in seed_lines[:first_block] if line.strip()]
    assert header[:4] == ["스토리 홈", "인터뷰", "피드", "뉴스"]
    assert seed_page.section_title == next(line for line in header if line not in NAVIGATION)


@pytest.mark.seed
def test_seed_companies(seed_stories):
    assert [story.company_name for story in seed_stories] == ["오픈서베이", "스포카", "코인원"]


@pytest.mark.seed
def test_seed_companies_with_known_companies_given():
    if not SEED_FILE.is_file():
        pytest.skip(f"seed dump is absent from {SEED_DIR}")
    page = parse_dump(SEED_FILE.read_bytes(), known_companies=["코인원", "스포카", "오픈서베이"])
    assert [story.company_name for story in page.stories] == ["오픈서베이", "스포카", "코인원"]


@pytest.mark.seed
def test_seed_kinds(seed_stories):
    assert [story.kind for story in seed_stories] == ["interview", "feed", "interview"]


@pytest.mark.seed
def test_seed_tags_come_from_the_trailing_hashtag_run(seed_stories):
    interview, sqlalchemy, coinone = seed_stories
    assert interview.tags == []
    assert sqlalchemy.tags[0] == "스포카"
    assert {"스포카", "개발팀"} <= set(sqlalchemy.tags)
    assert coinone.tags[0] == "코인원"
    assert {"코인원", "인터뷰", "기업문화"} <= set(coinone.tags)
    for story in seed_stories:
        assert len(story.tags) == len(set(story.tags))
        assert all(not tag.startswith("#") and tag.strip() == tag for tag in story.tags)


@pytest.mark.seed
def test_seed_hashtags_are_removed_from_the_markdown(seed_stories):
    for story in seed_stories:
        for tag in story.tags:
            assert f"#{tag}" not in story.body_markdown
    # "C#" in a list of languages is not a hashtag and stays in the text.
    assert "C#" in seed_stories[2].body_markdown


@pytest.mark.seed
def test_seed_markdown_is_faithful_to_the_source(seed_stories):
    for story in seed_stories:
        assert is_faithful(story), story.title


@pytest.mark.seed
def test_seed_paragraphs_are_restored(seed_stories):
    for story in seed_stories:
        assert len(paragraphs(story.body_markdown)) >= 20, story.title
        # Blocks are single lines except block quotes that span a lost break and lists.
        for block in paragraphs(story.body_markdown):
            assert "\n" not in block or block.startswith(("> ", "1. "))


@pytest.mark.seed
def test_seed_interview_pull_quotes_become_block_quotes(seed_stories):
    markdown = seed_stories[0].body_markdown
    quote_starts = [line for line in markdown.split("\n") if line.startswith("> “")]
    assert len(quote_starts) >= 2
    # Each pull quote is closed inside its block quote.
    for block in paragraphs(markdown):
        if block.startswith("> “"):
            assert block.endswith("”")
    assert render(markdown).count("<blockquote>") == len(quote_starts)


@pytest.mark.seed
def test_seed_footnotes_become_markdown_footnotes(seed_stories):
    markdown = seed_stories[1].body_markdown
    definitions = re.findall(r"^\[\^(\d+)\]: ", markdown, flags=re.MULTILINE)
    references = re.findall(r"\[\^(\d+)\](?!:)", markdown)
    assert definitions == ["1", "2"]
    assert references == ["1", "2"]
    assert "↩" not in markdown
    # Each reference sits right after the word it was glued to.
    assert re.search(r"[가-힣]\[\^1\] ", markdown)
    assert re.search(r"[가-힣]\[\^2\] ", markdown)
    # The definitions come last.
    assert paragraphs(markdown)[-2].startswith("[^1]: ")
    assert paragraphs(markdown)[-1].startswith("[^2]: ")
    for story in (seed_stories[0], seed_stories[2]):
        assert "[^" not in story.body_markdown


@pytest.mark.seed
def test_seed_footnotes_render_as_a_footnotes_section(seed_stories):
    html = render(seed_stories[1].body_markdown)
    assert '<section class="footnotes">' in html
    assert html.count('class="footnote-item"') == 2
    assert 'href="#fn1"' in html
    assert 'href="#fn2"' in html


@pytest.mark.seed
def test_seed_block_quotes_render_as_blockquote(seed_stories):
    html = render(seed_stories[0].body_markdown)
    assert html.count("<blockquote>") >= 2
    assert "<blockquote>\n<p>“" in html


@pytest.mark.seed
def test_seed_numbers_are_not_taken_for_footnote_references(seed_stories):
    interview, sqlalchemy, _ = seed_stories
    assert "2번째" in interview.body_markdown
    assert "18년" in interview.body_markdown
    assert "1:1" in interview.body_markdown
    assert re.search(r"^5\. 4번 ", sqlalchemy.body_markdown, flags=re.MULTILINE)


@pytest.mark.seed
def test_seed_decimals_domains_and_abbreviations_are_not_split(seed_stories):
    _, sqlalchemy, coinone = seed_stories
    assert "0.7부터" in sqlalchemy.body_markdown
    assert "session.close()" in sqlalchemy.body_markdown
    assert "blog.naver.com" in coinone.body_markdown
    assert "Node.js" in coinone.body_markdown
    assert "a.k.a" in coinone.body_markdown
    assert "...blog.naver.com" in coinone.body_markdown  # an ellipsis is not a sentence end
    broken_starts = ("7부터", "naver", "com", "js", "k.a", "close()", ".")
    for story in seed_stories:
        for paragraph in paragraphs(story.body_markdown):
            assert not paragraph.startswith(broken_starts), paragraph[:20]


@pytest.mark.seed
def test_seed_glued_sentences_are_separated(seed_stories):
    _, sqlalchemy, coinone = seed_stories
    lines = sqlalchemy.body_markdown.split("\n")
    firsts = [re.sub(r"^\d+\. ", "", line).split(" ", 1)[0] for line in lines]
    assert "SQLAlchemy는" in firsts  # a sentence end glued to a Latin word
    assert "4번" in firsts  # a sentence end glued to a digit
    coinone_blocks = paragraphs(coinone.body_markdown)
    assert any(block.endswith(":-)") for block in coinone_blocks)  # emoticon ends a paragraph
    assert any(block.endswith(":)") for block in coinone_blocks)


@pytest.mark.seed
def test_seed_glued_headings_become_markdown_headings(seed_stories):
    markdown = seed_stories[1].body_markdown
    headings = re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)
    assert len(headings) >= 3
    assert "마치며" in headings
    assert all(len(heading) <= 50 for heading in headings)
    html = render(markdown)
    assert html.count("<h2>") == len(headings)


@pytest.mark.seed
def test_seed_source_emphasis_markers_do_not_garble_rendering(seed_stories):
    html = render(seed_stories[2].body_markdown)
    assert html.count("<em>") == html.count("<p><em>")  # captions only
    assert "*데일리스크럼" in html
    assert "pool_size" in render(seed_stories[1].body_markdown)


@pytest.mark.seed
def test_seed_excerpts_are_short_plain_leading_sentences(seed_stories):
    for story in seed_stories:
        assert 0 < len(story.excerpt) <= 200
        assert "\n" not in story.excerpt
        assert not any(mark in story.excerpt for mark in ("[^", "> ", "## ", "\\"))
        assert story.source_body.startswith(story.excerpt[:15])
        assert story.excerpt.endswith((".", "!", "?", "…"))


@pytest.mark.seed
def test_seed_kind_override_applies_to_every_story():
    if not SEED_FILE.is_file():
        pytest.skip(f"seed dump is absent from {SEED_DIR}")
    page = parse_dump(SEED_FILE.read_text(encoding="utf-8"), kind="news")
    assert [story.kind for story in page.stories] == ["news", "news", "news"]


@pytest.mark.seed
def test_seed_parse_is_deterministic(seed_page):
    assert parse_dump(SEED_FILE.read_bytes()) == seed_page


# ------------------------------------------------------------------------------------------
# Synthetic dumps (invented text)
# ------------------------------------------------------------------------------------------

TECH_BODY = (
    "안녕하세요. 바다상회 인프라팀 개발자 한결입니다.오늘은 바다상회가 배포 파이프라인을 "
    "어떻게 바꿨는지 소개합니다.바다상회는 작년에 빌드 도구를 버전 2.0으로 올렸고, 그 덕에 "
    "평균 배포 시간이 0.7분 줄었습니다.배포 과정 요약배포 과정은 세 단계로 나뉩니다. "
    "먼저 테스트를 돌리고, 다음으로 이미지를 만들고, 마지막으로 서버에 올립니다.자세한 "
    "설정은 docs.example.com에서 볼 수 있습니다.정말 뿌듯했어요 :)다음 글에서는 모니터링을 "
    "다루겠습니다.#바다상회 #인프라 #바다상회"
)


def test_synthetic_dump_parses_titles_tags_and_section():
    page = parse_dump(make_dump(("1,204", "바다상회의 배포 이야기", TECH_BODY)))
    assert page.section_title == "이번 주 추천 글"
    [story] = page.stories
    assert story.line == 10
    assert story.view_count == 1204
    assert story.title == "바다상회의 배포 이야기"
    assert story.tags == ["바다상회", "인프라"]
    assert story.company_name == "바다상회"
    assert story.kind == "feed"
    assert is_faithful(story)


def test_synthetic_sentence_splitting_keeps_decimals_versions_domains_and_emoticons():
    [story] = parse_dump(make_dump(("7", "바다상회의 배포 이야기", TECH_BODY))).stories
    blocks = paragraphs(story.body_markdown)
    assert blocks[0] == "안녕하세요. 바다상회 인프라팀 개발자 한결입니다."
    assert "버전 2.0으로" in story.body_markdown
    assert "0.7분" in story.body_markdown
    assert "docs.example.com에서" in story.body_markdown
    assert "정말 뿌듯했어요 :)" in blocks
    assert blocks[-1] == "다음 글에서는 모니터링을 다루겠습니다."
    assert "## 배포 과정 요약" in blocks
    assert "#바다상회" not in story.body_markdown


def test_synthetic_crlf_and_bom_give_the_same_result_as_lf():
    text = make_dump(("12", "바다상회의 배포 이야기", TECH_BODY))
    plain = parse_dump(text)
    assert parse_dump(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()) == plain
    assert parse_dump("\ufeff" + text.replace("\n", "\r\n")) == plain
    assert not plain.stories[0].source_body.endswith("\r")


def test_synthetic_story_without_hashtags():
    body = (
        "푸른숲랩은 작은 팀입니다.푸른숲랩의 하루는 짧은 회의로 시작합니다.회의는 10분이면 끝나요."
    )
    [story] = parse_dump(make_dump(("3", "푸른숲랩의 하루", body), section=None)).stories
    assert story.tags == []
    assert story.company_name == "푸른숲랩"
    assert paragraphs(story.body_markdown) == [
        "푸른숲랩은 작은 팀입니다.",
        "푸른숲랩의 하루는 짧은 회의로 시작합니다.",
        "회의는 10분이면 끝나요.",
    ]
    assert story.excerpt == " ".join(paragraphs(story.body_markdown))


def test_synthetic_section_title_is_none_without_a_curated_line():
    page = parse_dump(make_dump(("3", "제목 하나", "본문 문장입니다."), section=None))
    assert page.section_title is None


def test_synthetic_kind_override_and_validation():
    text = make_dump(("5", "바다상회의 배포 이야기", TECH_BODY), ("6", "둘째 글", "짧은 본문."))
    page = parse_dump(text, kind="interview")
    assert {story.kind for story in page.stories} == {"interview"}
    with pytest.raises(ValueError, match="kind") as excinfo:
        parse_dump(text, kind="essay")
    assert not isinstance(excinfo.value, DumpError)


def test_synthetic_without_footnotes_digits_stay_as_they_are():
    body = "방법1 하나를 고르면 단계2 없이 끝납니다.그 결과 2번째 시도에서 18년 기록을 넘었습니다."
    [story] = parse_dump(make_dump(("9", "숫자가 많은 글", body))).stories
    assert "[^" not in story.body_markdown
    assert "방법1 하나를" in story.body_markdown
    assert "단계2 없이" in story.body_markdown


def test_synthetic_footnotes_are_linked_in_order():
    body = (
        "캐시는 메모리에 둡니다1 그래서 빠릅니다.디스크 캐시도 씁니다2 가끔은요.마무리합니다."
        "메모리 캐시는 재시작하면 사라집니다. ↩디스크 캐시는 느리지만 오래 갑니다. ↩#캐시"
    )
    [story] = parse_dump(make_dump(("11", "캐시 이야기", body))).stories
    markdown = story.body_markdown
    assert "둡니다[^1] 그래서" in markdown
    assert "씁니다[^2] 가끔은요." in markdown
    assert "[^1]: 메모리 캐시는 재시작하면 사라집니다." in markdown
    assert "[^2]: 디스크 캐시는 느리지만 오래 갑니다." in markdown
    assert "↩" not in markdown
    assert story.tags == ["캐시"]
    assert is_faithful(story)
    html = render(markdown)
    assert html.count('class="footnote-item"') == 2


def test_synthetic_footnotes_without_matching_references_are_left_alone():
    body = (
        "캐시는 메모리에 둡니다1 그래서 빠릅니다.마무리합니다.첫째 설명입니다. ↩둘째 설명입니다. ↩"
    )
    [story] = parse_dump(make_dump(("11", "캐시 이야기", body))).stories
    assert "[^" not in story.body_markdown
    assert story.body_markdown.count("↩") == 2
    assert is_faithful(story)


def test_synthetic_pull_quote_with_a_lost_break_and_a_caption():
    body = (
        "첫 문단입니다.\xa0\xa0“작게 시작해서\xa0\xa0크게 키우는 팀이에요”"
        "\xa0(사진 왼쪽이 한결입니다)\xa0\xa0\xa0마지막 문단입니다."
    )
    [story] = parse_dump(make_dump(("2", "인용이 있는 글", body))).stories
    assert paragraphs(story.body_markdown) == [
        "첫 문단입니다.",
        "> “작게 시작해서\n> 크게 키우는 팀이에요”",
        "*(사진 왼쪽이 한결입니다)*",
        "마지막 문단입니다.",
    ]
    assert "<blockquote>" in render(story.body_markdown)


def test_synthetic_inline_quotes_are_not_block_quotes_or_split():
    body = "팀장은 “천천히.빨리”라고 말했습니다.그 말이 기억에 남아요."
    [story] = parse_dump(make_dump(("2", "말버릇", body))).stories
    assert paragraphs(story.body_markdown) == [
        "팀장은 “천천히.빨리”라고 말했습니다.",
        "그 말이 기억에 남아요.",
    ]


def test_synthetic_accidental_markdown_is_escaped_without_losing_characters():
    body = (
        "목록을 정리합니다.1. 첫 항목은 *굵게* 보일 뻔했습니다.\xa0\xa0# 제목처럼 보이는 줄"
        "\xa0\xa0- 대시로 시작하는 줄\xa0\xa0[링크](http://example.com) 같은 글자와 "
        "a_b_c, _밑줄_도 그대로입니다.\xa0\xa0> 꺾쇠로 시작합니다."
    )
    [story] = parse_dump(make_dump(("4", "기호가 많은 글", body))).stories
    assert is_faithful(story)
    html = render(story.body_markdown)
    for tag in ("<em>", "<strong>", "<h1>", "<ol", "<ul", "<a ", "<blockquote>"):
        assert tag not in html
    assert "1. 첫 항목은 *굵게*" in html
    assert "# 제목처럼" in html
    assert "[링크](http://example.com)" in html
    assert "a_b_c" in story.body_markdown  # intraword underscores need no escape


def test_synthetic_hashtag_run_only_at_the_end():
    body = "우리는 C#과 #태그처럼 보이는 글자를 씁니다.끝입니다.#가나 #다라 #가나"
    [story] = parse_dump(make_dump(("1", "태그 글", body))).stories
    assert story.tags == ["가나", "다라"]
    assert "#태그처럼" in story.body_markdown
    assert "C#과" in story.body_markdown
    assert fidelity_text(body) == "우리는C#과#태그처럼보이는글자를씁니다.끝입니다."


def test_fidelity_text_drops_hashtags_back_links_and_whitespace():
    assert fidelity_text("가 나.\xa0\xa0다 ↩라 ↩#마 #바") == "가나.다라"
    assert fidelity_text("해시 없음 1:1") == "해시없음1:1"


def test_is_faithful_detects_lost_or_reordered_characters():
    [story] = parse_dump(make_dump(("7", "바다상회의 배포 이야기", TECH_BODY))).stories
    assert is_faithful(story)
    lost = dataclasses.replace(story, body_markdown=story.body_markdown.replace("0.7", "07"))
    assert not is_faithful(lost)
    first, second, *rest = paragraphs(story.body_markdown)
    swapped = dataclasses.replace(story, body_markdown="\n\n".join([second, first, *rest]))
    assert not is_faithful(swapped)


def test_synthetic_company_from_known_companies_when_no_hashtag_matches():
    # "#후기" is neither in the title nor repeated in the body, so it does not name a company.
    body = (
        "오늘은 사내 행사를 소개합니다.행사는 별빛공방과 함께했습니다."
        "별빛공방 팀이 준비했어요.#후기"
    )
    [story] = parse_dump(
        make_dump(("8", "사내 행사 소식", body)), known_companies=["구름다리", "별빛공방"]
    ).stories
    assert story.company_name == "별빛공방"


def test_synthetic_company_prefers_a_known_hashtag():
    body = (
        "별빛공방과 구름다리가 만났습니다.구름다리 이야기가 많지만 글쓴이는 별빛공방입니다."
        "#별빛공방 #구름다리"
    )
    [story] = parse_dump(
        make_dump(("8", "두 회사 이야기", body)), known_companies=["별빛공방"]
    ).stories
    assert story.company_name == "별빛공방"


def test_synthetic_company_is_none_when_nothing_repeats():
    [story] = parse_dump(make_dump(("8", "짧은 글", "한 문장뿐입니다."))).stories
    assert story.company_name is None


INTERVIEW_BODY = (
    "구름다리에서 삼 년째 일하는 디자이너 이하늘(이하 하늘)을 만났습니다. 하늘은 매일 아침 "
    "산책으로 하루를 엽니다.\xa0\xa0하늘, 자기소개 부탁해요.\xa0\xa0안녕하세요. 구름다리 "
    "디자이너 하늘입니다.\xa0\xa0구름다리에 합류한 계기가 뭔가요?\xa0\xa0친구의 추천이었어요."
    "\xa0\xa0요즘 가장 몰두하는 일은 무엇인가요?\xa0\xa0새 로고 작업이에요.\xa0\xa0"
    "팀 분위기는 어떤가요?\xa0\xa0서로 솔직하게 말하는 편이에요.\xa0\xa0"
    "앞으로의 목표는 무엇인가요?\xa0\xa0더 많은 사람이 쓰는 화면을 만들고 싶어요.\xa0\xa0"
    "마지막으로 하고 싶은 말이 있나요?\xa0\xa0하늘과 함께할 동료를 기다립니다."
)


def test_synthetic_interview_is_recognised():
    [story] = parse_dump(make_dump(("30", "구름다리 디자이너를 만나다", INTERVIEW_BODY))).stories
    assert story.kind == "interview"
    assert story.company_name == "구름다리"
    assert is_faithful(story)


def test_synthetic_panel_of_labelled_speakers_is_a_feed():
    body = (
        "구름다리 개발팀을 소개합니다.구름다리 개발팀은 어떻게 일하나요?"
        "민수님 (Backend) : 매일 짧게 공유합니다.가장 좋은 점은 무엇인가요?"
        "지영님 (Frontend) : 자율성이 높아요.어떤 동료를 원하나요?"
        "태호님 (QA) : 질문을 잘하는 분이요.입사 후 첫 주는 어떤가요?"
        "민수님 (Backend) : 온보딩 문서를 함께 읽어요.팀의 목표는 무엇인가요?"
        "지영님 (Frontend) : 더 빠른 화면이에요.구름다리에 지원해 주세요!"
    )
    [story] = parse_dump(make_dump(("30", "구름다리 개발팀 이야기", body))).stories
    assert story.kind == "feed"


def test_synthetic_news_can_be_recognised_from_reported_speech():
    body = (
        "구름다리가 새 서비스를 출시했다고 밝혔다.구름다리 대표는 사용자가 늘었다고 말했다."
        "업계는 성장세가 이어질 것이라고 전했다.구름다리는 내년 해외 진출을 검토한다고 설명했다."
    )
    [story] = parse_dump(make_dump(("30", "구름다리, 새 서비스 출시", body))).stories
    assert story.kind == "news"
