"""What the page's layout says about a block: questions, captions and numbered lists.

The dump keeps no markup, but its gaps and its words still show what a block was:

- **Questions** become bold paragraphs, as the site's own interviews mark them.
  In an interview, TheTeams' editor leaves an empty paragraph before each of the
  interviewer's prompts: a prompt is a short block (at most QUESTION_CHARS characters) ending a
  sentence that follows a wide gap (WIDE_GAP spaces or more) and is answered right away (the
  next block follows with no wide gap). The lede (the first block) is never one.
  In any story, a short block ending with "?" that is followed by an answer labelled with its
  speaker ("진우님(CTO) : …") is a question too (a panel of mini interviews).
- **Captions** become paragraphs that are all emphasis (the renderer styles them as captions):
  the text after a pull quote's closing ” (the quote was printed on a photo), a short block
  without a sentence end standing alone between wide gaps (the caption under a portrait), and
  text glued in front of a labelled question that opens with the company's name (the caption
  of the photo above it: "…대경님" + "<company> 기술본부는 …?").
- **Numbered lists**: a section (a heading and the blocks after it) whose items the story
  refers to by number ("4번 이후부터는", "위의 <heading word> 기준, 7번에…") keeps its numbers:
  the first N blocks of the section become a list 1–N, N being the highest number referred to,
  when the section has that many short blocks (at least 3, each at most LIST_ITEM_CHARS).

The rules only change a block's kind or cut a block in two; no character is added but the
Markdown marks, and none is dropped or moved (the fidelity promise of page.py).
"""

from __future__ import annotations

import re

from articles.theteams.blocks import _SECTION_WORDS, _Block, _Text
from articles.theteams.inference import _SPEAKER, _TRAILING_ASIDE
from articles.theteams.text import WIDE_GAP, _sentence_ends_before

QUESTION_CHARS = 150
CAPTION_CHARS = 80
LIST_ITEM_CHARS = 300
MIN_LIST_ITEMS = 3

# "4번 이후", "7번에 해당": an item referred to by its number; not "2번째" (the second).
_ITEM_REFERENCE = re.compile(r"(?<![\d.])([1-9]\d?)번(?!째)")
_OPENERS = "“‘(\"'[「『《〈"


def mark_structure(blocks: list[_Block], *, interview: bool, company: str | None) -> None:
    """Mark questions, captions and numbered lists in `blocks` (in place)."""
    _mark_lists(blocks)
    _mark_labelled_questions(blocks, company)
    if interview:
        for index in range(1, len(blocks)):
            if _is_prompt(blocks, index):
                blocks[index].kind = "question"
    for index in range(1, len(blocks)):
        if _is_lone_caption(blocks, index):
            blocks[index].kind = "caption"


def _text(block: _Block) -> str:
    return block.texts[0].plain()


def _next(blocks: list[_Block], index: int) -> _Block | None:
    return blocks[index + 1] if index + 1 < len(blocks) else None


def _is_prompt(blocks: list[_Block], index: int) -> bool:
    block, answer = blocks[index], _next(blocks, index)
    if block.kind != "p" or block.gap < WIDE_GAP or answer is None:
        return False
    text = _text(block)
    return (
        len(text) <= QUESTION_CHARS
        and _sentence_ends_before(text, len(text))
        and answer.kind == "p"
        and answer.gap < WIDE_GAP
    )


def _is_lone_caption(blocks: list[_Block], index: int) -> bool:
    block, after = blocks[index], _next(blocks, index)
    if block.kind != "p" or block.gap < WIDE_GAP or after is None or after.gap < WIDE_GAP:
        return False
    text = _text(block)
    return (
        len(text) <= CAPTION_CHARS
        and not _sentence_ends_before(text, len(text))
        and text not in _SECTION_WORDS
        and not text.endswith((":", ",", "-"))
    )


def _mark_labelled_questions(blocks: list[_Block], company: str | None) -> None:
    index = 0
    while index < len(blocks) - 1:
        block, answer = blocks[index], blocks[index + 1]
        text = _text(block)
        if (
            block.kind == "p"
            and answer.kind == "p"
            and _SPEAKER.match(_text(answer))
            and _TRAILING_ASIDE.sub("", text).endswith("?")
        ):
            caption = _glued_caption(block.texts[0], company)
            if caption is not None:
                blocks.insert(index, _Block("caption", [caption], block.gap))
                block.gap = 0
                index += 1
            if len(_text(block)) <= QUESTION_CHARS:
                block.kind = "question"
        index += 1


def _glued_caption(text: _Text, company: str | None) -> _Text | None:
    """Cut off (and return) the caption glued in front of a question that opens with the
    company's name; None, and `text` unchanged, when there is none."""
    if not company or text.refs:
        return None
    raw = text.raw
    for match in reversed(list(re.finditer(re.escape(company), raw))):
        start = match.start()
        if start > 0 and not raw[start - 1].isspace() and raw[start - 1] not in _OPENERS:
            caption = _Text(raw[:start].strip())
            text.raw = raw[start:]
            return caption
    return None


def _heading_words(heading: _Block) -> list[str]:
    words = re.findall(r"[\uac00-\ud7a3A-Za-z]{2,}", _text(heading))
    # "생애주기" from "큐 풀의 생애주기": a word's stem without a trailing particle.
    return [re.sub(r"(?:의|은|는|이|가|을|를|과|와)$", "", word) for word in words]


def _mark_lists(blocks: list[_Block]) -> None:
    while _mark_one_list(blocks):
        pass


def _mark_one_list(blocks: list[_Block]) -> bool:
    """Turn the first section that qualifies into a list; False when none does."""
    headings = [index for index, block in enumerate(blocks) if block.kind == "heading"]
    for position, start in enumerate(headings):
        end = headings[position + 1] if position + 1 < len(headings) else len(blocks)
        section = list(range(start + 1, end))
        words = _heading_words(blocks[start])
        highest = 0
        for index, block in enumerate(blocks):
            if block.kind != "p":
                continue
            text = _text(block)
            for match in _ITEM_REFERENCE.finditer(text):
                near = text[max(0, match.start() - 20) : match.start()]
                if index in section or any(word in near for word in words):
                    highest = max(highest, int(match.group(1)))
        items = section[:highest]
        if (
            highest >= MIN_LIST_ITEMS
            and len(items) == highest
            and all(
                blocks[i].kind == "p" and len(_text(blocks[i])) <= LIST_ITEM_CHARS for i in items
            )
        ):
            first = blocks[items[0]]
            first.kind, first.texts = "list", [blocks[i].texts[0] for i in items]
            del blocks[items[1] : items[-1] + 1]
            return True
    return False
