"""What the dump does not say outright: the excerpt, the company and the kind of a story."""

from __future__ import annotations

import re

from articles.theteams.blocks import _Block
from articles.theteams.text import _HANGUL_SYLLABLE, _PARTICLE_SET, _PARTICLES, _WORD

EXCERPT_CHARS = 200

# --------------------------------------------------------------------------------------------
# Excerpt, company, kind
# --------------------------------------------------------------------------------------------

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")


def _excerpt(blocks: list[_Block]) -> str:
    """The first sentences of the body, at most EXCERPT_CHARS characters, plain text."""
    excerpt = ""
    for block in blocks:
        if block.kind != "p":
            continue
        for sentence in _SENTENCE_SPLIT.split(block.texts[0].plain()):
            candidate = f"{excerpt} {sentence}".strip()
            if len(candidate) > EXCERPT_CHARS:
                if not excerpt:
                    return candidate[: EXCERPT_CHARS - 1].rstrip() + "…"
                return excerpt
            excerpt = candidate
    return excerpt


# Particles and copulas that follow a noun; longest first so "에서는" wins over "는".
# Words that start sentences or are too generic to name anybody.
_STOP_STEMS = frozenset(
    {
        "그리고", "하지만", "그래서", "그런데", "그러나", "또한", "이번", "우리", "저희", "지금",
        "정말", "오늘", "이제", "모든", "가장", "있는", "하는", "없는", "통해", "위해", "대한",
        "안녕하세요", "여러분", "이야기", "생각", "사람", "회사", "자신", "때문",
    }
)  # fmt: skip


def _stems(word: str) -> set[str]:
    stems = {word}
    stems.update(
        word[: -len(particle)]
        for particle in _PARTICLES
        if word.endswith(particle) and len(word) - len(particle) >= 2
    )
    return stems


def _count_word(words: list[str], stem: str) -> int:
    return sum(
        1
        for word in words
        if word.startswith(stem) and (word[len(stem) :] in _PARTICLE_SET or word == stem)
    )


def _mentions(text: str, name: str) -> int:
    return len(re.findall(rf"(?<![\uac00-\ud7a3A-Za-z0-9]){re.escape(name)}", text))


def _infer_company(
    title: str,
    blocks: list[_Block],
    tags: list[str],
    known_companies: list[str],
    person: str | None = None,
) -> str | None:
    """Which company the story is about.

    1. A hashtag: one in `known_companies` first, else one that is a word of the title, else
       one mentioned at least twice in the body; ties go to the earlier hashtag (TheTeams lists
       the company's own tag first).
    2. The known company mentioned most often in the title and body.
    3. The most frequent noun stem (particles stripped) among the words of the title and the
       first sentences: a story about a company names it over and over. An interview names its
       interviewee even more often, so `person` (the "(이하 NAME)" alias) is not a candidate.
    """
    body = " ".join(text.plain() for block in blocks for text in block.texts)
    known = {name.casefold(): name for name in known_companies}
    title_words = {stem for word in _WORD.findall(title) for stem in _stems(word)}
    ranked = []
    for order, tag in enumerate(tags):
        mentions = _mentions(body, tag)
        score = (
            tag.casefold() in known,
            tag in title_words or _mentions(title, tag) > 0,
            mentions >= 2,
        )
        if any(score):
            ranked.append((score, -order, tag))
    if ranked:
        best = max(ranked)[2]
        return known.get(best.casefold(), best)

    text = f"{title} {body}"
    counts = [(_mentions(text, name), -order, name) for order, name in enumerate(known_companies)]
    counts = [entry for entry in counts if entry[0] > 0]
    if counts:
        return max(counts)[2]

    words = _WORD.findall(text)
    lead = " ".join(_SENTENCE_SPLIT.split(body)[:3])
    candidates = {
        stem
        for word in _WORD.findall(f"{title} {lead}")
        for stem in _stems(word)
        if len(stem) >= 2
        and _HANGUL_SYLLABLE.search(stem)
        and stem not in _STOP_STEMS
        and stem != person
    }
    scored = [
        (_count_word(words, stem), stem in title_words, len(stem), stem) for stem in candidates
    ]
    scored = [entry for entry in scored if entry[0] >= 2]
    return max(scored)[3] if scored else None


INTERVIEW_TAG = "인터뷰"
_INTERVIEWEE = re.compile(r"\(이하\s*([^\s()]{1,15})\)")
_SPEAKER = re.compile(r"^([\uac00-\ud7a3A-Za-z]{1,12})\s*(?:\([^()]{1,40}\))?\s*:\s")
_TRAILING_ASIDE = re.compile(r"\s*\([^()]{1,20}\)$")
_REPORTED_SPEECH = re.compile(r"(?:밝혔|전했|말했|설명했|강조했|덧붙였)다[.”]")


def _interviewee(text: str) -> str | None:
    """The alias a lede introduces with "(이하 NAME)", if the text keeps using it afterwards."""
    named = _INTERVIEWEE.search(text[: max(400, len(text) // 5)])
    if named and _mentions(text[named.end() :], named.group(1)) >= 2:
        return named.group(1)
    return None


def _paragraph_texts(blocks: list[_Block]) -> list[str]:
    return [block.texts[0].plain() for block in blocks if block.kind == "p"]


def _infer_kind(blocks: list[_Block], tags: list[str] = ()) -> str:
    """interview / feed / news from the shape of the text (and the author's own #인터뷰).

    An interview (TheTeams "인터뷰") is about ONE named interviewee: the lede introduces them
    ("홍길동 디자이너(이하 길동)"), the interviewer's prompts are short paragraphs followed by
    unlabelled answers, and the Q&A runs through the whole story.

    A company culture post ("피드") may contain a mini Q&A too, but it is narrated by the
    company ("저희 팀은 … 참여했습니다", "소개해 드릴게요") and the answers come from a panel of
    employees, each answer labelled inline with the speaker ("민수님(CTO) : …",
    "지영님 (Designer) : …"). Labelled answers from three or more different people are the
    signal that tells such a roundup from an interview; "(이하 NAME)" is the signal for one.

    Unless its author says otherwise: a post tagged #인터뷰 whose body is made of questions
    and answers (at least two questions answered by a labelled speaker, or the shape of an
    interview above) is an interview, panel or not: TheTeams files such a post of mini
    interviews under 인터뷰. The tag alone is not enough (a post about hiring interviews may
    carry it).

    News is recognised only conservatively (reported speech: "밝혔다.", "말했다." …); pass
    `kind="news"` to `parse_dump` for a news page.
    """
    paragraphs = _paragraph_texts(blocks)
    text = " ".join(paragraphs)
    if not paragraphs:
        return "feed"

    has_interviewee = _interviewee(text) is not None

    # Prompts: short paragraphs ending with "?" (maybe plus an aside such as "(사진)"),
    # answered by the next paragraph.
    questions = [
        index
        for index, paragraph in enumerate(paragraphs[:-1])
        if len(paragraph) <= 150
        and _TRAILING_ASIDE.sub("", paragraph).endswith("?")
        and not paragraphs[index + 1].endswith("?")
    ]
    qa_throughout = (
        len(questions) >= 5
        and questions[0] <= len(paragraphs) / 3
        and questions[-1] >= len(paragraphs) * 2 / 3
    )
    labelled_answers = sum(1 for index in questions if _SPEAKER.match(paragraphs[index + 1]))

    speakers = {
        match.group(1).removesuffix("님")
        for paragraph in paragraphs
        if (match := _SPEAKER.match(paragraph))
    }
    panel = len(speakers) >= 3
    interview_shape = (has_interviewee and len(questions) >= 2) or qa_throughout

    if not panel and interview_shape:
        return "interview"
    if INTERVIEW_TAG in tags and (interview_shape or labelled_answers >= 2):
        return "interview"
    polite = len(re.findall(r"(?:요|니다)[.!?]", text))
    reported = len(_REPORTED_SPEECH.findall(text))
    if reported >= 3 and polite * 5 < reported + polite:
        return "news"
    return "feed"
