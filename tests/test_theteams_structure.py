"""What the dump's layout says about its blocks (articles/theteams/structure.py): interview
questions, photo captions, numbered lists, dead "(클릭)" links and the kind a #인터뷰 tag gives.

The real dump is read from ../shared/seed at run time; the synthetic bodies are invented.
"""

import re

import pytest

from articles.theteams import fidelity_text, is_faithful, parse_dump
from tests.test_theteams_parser import SEED_DIR, SEED_FILE, make_dump, paragraphs, render

WIDE_GAP = re.compile(r"[ \xa0]{3,}")


@pytest.fixture(scope="module")
def seed_stories():
    if not SEED_FILE.is_file():
        pytest.skip(f"seed dump {SEED_FILE.name} is absent from {SEED_DIR}")
    return parse_dump(SEED_FILE.read_bytes()).stories


def bold_paragraphs(markdown: str) -> list[str]:
    return [block[2:-2] for block in paragraphs(markdown) if re.fullmatch(r"\*\*.+\*\*", block)]


def caption_paragraphs(markdown: str) -> list[str]:
    return [block[1:-1] for block in paragraphs(markdown) if re.fullmatch(r"\*[^*].*[^*]\*", block)]


def source_blocks_after_wide_gaps(source: str) -> list[str]:
    """The dump's blocks that follow a run of three or more (no-break) spaces."""
    return [part for part in WIDE_GAP.split(source)[1:] if part.strip()]


# ------------------------------------------------------------------------------------------
# The seed dump
# ------------------------------------------------------------------------------------------


@pytest.mark.seed
def test_seed_interview_questions_are_bold_and_counted_against_the_dump(seed_stories):
    interview = seed_stories[0]
    questions = bold_paragraphs(interview.body_markdown)
    # The interviewer speaks 14 times in the dump (counted by reading it), each time after a
    # wide gap and answered at once: each question opens such a block, in the dump's order.
    assert len(questions) == 14
    after_gaps = source_blocks_after_wide_gaps(interview.source_body)
    starts = [
        next(i for i, block in enumerate(after_gaps) if block.startswith(question))
        for question in questions
    ]
    assert starts == sorted(set(starts))
    for question, start in zip(questions, starts, strict=True):
        assert len(after_gaps[start].strip()) > len(question)  # the answer follows it
    blocks = paragraphs(interview.body_markdown)
    for index, block in enumerate(blocks):
        if block.startswith("**"):
            answer = blocks[index + 1]
            assert not answer.startswith(("**", "*", ">")), answer[:20]
    assert not blocks[0].startswith("**")  # the lede is not a question
    assert render(interview.body_markdown).count("<p><strong>") == 14


@pytest.mark.seed
def test_seed_interview_captions_are_emphasised_paragraphs(seed_stories):
    interview = seed_stories[0]
    captions = caption_paragraphs(interview.body_markdown)
    assert len(captions) == 2
    source = interview.source_body
    for caption in captions:
        assert caption in source
    # One stands alone between wide gaps (a portrait), one follows a pull quote's closing ”.
    portrait, after_quote = captions
    assert re.search(rf"[ \xa0]{{3,}}{re.escape(portrait)}[ \xa0]{{3,}}", source)
    assert re.search(rf"”\s+{re.escape(after_quote)}", source)
    assert render(interview.body_markdown).count("<p><em>") == 2


@pytest.mark.seed
def test_seed_dead_click_links_are_dropped_and_the_rest_is_kept(seed_stories):
    interview = seed_stories[0]
    assert interview.source_body.count("(클릭)") == 2
    for story in seed_stories:
        assert "(클릭)" not in story.body_markdown
        assert "(클릭)" not in fidelity_text(story.source_body)
        assert is_faithful(story)
    # The words of the call-out stay as plain text, not as a question.
    blocks = re.split(r"[ \xa0]{2,}", interview.source_body)
    callouts = [
        " ".join(block.replace("(클릭)", "").split()) for block in blocks if "(클릭)" in block
    ]
    assert len(callouts) == 2
    for callout in callouts:
        assert callout in paragraphs(interview.body_markdown)


@pytest.mark.seed
def test_seed_lifecycle_list_is_numbered_one_to_seven(seed_stories):
    markdown = seed_stories[1].body_markdown
    lists = [block for block in paragraphs(markdown) if block.startswith("1. ")]
    assert len(lists) == 1
    items = lists[0].split("\n")
    assert [item.split(". ", 1)[0] for item in items] == [str(n) for n in range(1, 8)]
    assert items[4].startswith("5. 4번 ")  # "from step 4 on" refers to a number again
    html = render(markdown)
    assert html.count("<li>") == 7
    assert "<ol>" in html
    # The list follows the heading the story names when it refers to the last item.
    heading = re.search(r"^## (.+)$\n\n1\. ", markdown, flags=re.MULTILINE)
    assert heading
    word = heading.group(1).split()[-1].removesuffix("의")
    assert re.search(rf"{re.escape(word)}.{{0,20}}7번", markdown)


@pytest.mark.seed
def test_seed_mini_interviews_tagged_interview_are_interviews(seed_stories):
    coinone = seed_stories[2]
    assert "인터뷰" in coinone.tags
    assert coinone.kind == "interview"
    questions = bold_paragraphs(coinone.body_markdown)
    assert len(questions) == 4
    blocks = paragraphs(coinone.body_markdown)
    for index, block in enumerate(blocks):
        if block.startswith("**"):
            assert re.match(r"\S{1,12}\s*(\([^)]*\))?\s*: ", blocks[index + 1])
    # The photo captions glued in front of two questions are cut off as captions.
    assert all(question.lstrip("“").startswith("코인원") for question in questions)
    assert len(caption_paragraphs(coinone.body_markdown)) == 2


# ------------------------------------------------------------------------------------------
# Synthetic dumps
# ------------------------------------------------------------------------------------------

GAP = "\xa0\xa0\xa0"
BREAK = "\xa0\xa0"
INTERVIEW = (
    "바다상회 백엔드 개발자 한결(이하 한결)을 만났습니다. 한결은 배포를 맡고 있어요."
    f"{GAP}바다상회 한결 백엔드 개발자{GAP}한결, 안녕하세요!{BREAK}안녕하세요. 한결입니다."
    f"{GAP}요즘 무슨 일을 하세요?\xa0배포 도구를 고칩니다. 한결은 꼼꼼해요."
    f"{GAP}팀 소개가 궁금하다면? (클릭){GAP}한결에게 팀이란 무엇인가요?"
    f"{BREAK}한결은 팀이 곧 동료라고 답했어요. 한결다운 답이에요."
)


def test_synthetic_interview_prompts_captions_and_dead_links():
    [story] = parse_dump(make_dump(("3", "한결을 만나다", INTERVIEW))).stories
    assert story.kind == "interview"
    assert paragraphs(story.body_markdown) == [
        "바다상회 백엔드 개발자 한결(이하 한결)을 만났습니다. 한결은 배포를 맡고 있어요.",
        "*바다상회 한결 백엔드 개발자*",
        "**한결, 안녕하세요!**",
        "안녕하세요. 한결입니다.",
        "**요즘 무슨 일을 하세요?**",
        "배포 도구를 고칩니다. 한결은 꼼꼼해요.",
        "팀 소개가 궁금하다면?",
        "**한결에게 팀이란 무엇인가요?**",
        "한결은 팀이 곧 동료라고 답했어요. 한결다운 답이에요.",
    ]
    assert is_faithful(story)


def test_synthetic_feed_keeps_its_wide_gap_blocks_as_paragraphs():
    [story] = parse_dump(make_dump(("3", "한결을 만나다", INTERVIEW)), kind="feed").stories
    assert bold_paragraphs(story.body_markdown) == []


PANEL = (
    "바다상회 개발팀을 소개합니다.배포는 어떻게 하나요?민수님(CTO) : 하루에 열 번 합니다."
    "리뷰는 어떻게 하나요?지영님 (Designer) : 모두가 봅니다.쉬는 날은요?"
    "도윤님 (Engineer) : 금요일 오후는 쉽니다.관심 부탁드립니다!"
)


@pytest.mark.parametrize(
    ("tags", "kind"),
    [("#바다상회 #기업문화", "feed"), ("#바다상회 #인터뷰", "interview")],
)
def test_synthetic_panel_is_an_interview_only_when_tagged_so(tags, kind):
    [story] = parse_dump(make_dump(("5", "개발팀 소개", f"{PANEL}{tags}"))).stories
    assert story.kind == kind
    # Questions answered by a labelled speaker are marked either way.
    assert bold_paragraphs(story.body_markdown) == [
        "배포는 어떻게 하나요?",
        "리뷰는 어떻게 하나요?",
        "쉬는 날은요?",
    ]


STEPS = "배포 이야기입니다.배포 단계배포를 시작하면 코드를 받습니다.테스트를 돌립니다."
NUMBERED = (
    "1. 배포를 시작하면 코드를 받습니다.\n2. 테스트를 돌립니다.\n3. 이미지를 만듭니다.\n"
    "4. 서버에 올립니다."
)


@pytest.mark.parametrize(
    ("rest", "numbered"),
    [
        # Steps the text refers to by number ("3번", "4번까지") become a list 1–4.
        ("이미지를 만듭니다.서버에 올립니다.3번에서 멈춥니다.4번까지 끝나면 알립니다.", NUMBERED),
        # "2번째" (the second time) refers to no step: no list.
        ("2번째 시도에서 됐습니다.끝입니다.", None),
    ],
)
def test_synthetic_steps_referred_to_by_number_become_a_numbered_list(rest, numbered):
    [story] = parse_dump(make_dump(("6", "배포 단계", STEPS + rest))).stories
    blocks = paragraphs(story.body_markdown)
    assert blocks[1] == "## 배포 단계"
    assert (blocks[2] if blocks[2].startswith("1. ") else None) == numbered
    assert is_faithful(story)
