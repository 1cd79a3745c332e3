"""A body cut into blocks (paragraphs, quotes, headings, footnotes) and written as Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from articles.theteams.text import _NOT_A_START, _WHITESPACE_RUN, _segments, _split_glued

# --------------------------------------------------------------------------------------------
# Body → blocks
# --------------------------------------------------------------------------------------------


@dataclass
class _Text:
    """A run of source text plus the footnote references found in it."""

    raw: str
    refs: dict[int, tuple[int, str]] = field(default_factory=dict)  # start -> (end, label)

    def plain(self) -> str:
        out, i = [], 0
        while i < len(self.raw):
            if i in self.refs:
                i = self.refs[i][0]
                continue
            out.append(self.raw[i])
            i += 1
        return _squash("".join(out))


@dataclass
class _Block:
    kind: str  # "p", "heading", "quote", "question", "caption", "list" (texts are its items)
    texts: list[_Text]
    gap: int = 0  # the whitespace run before it in the dump (0: glued to the previous block)


def _squash(text: str) -> str:
    return _WHITESPACE_RUN.sub(" ", text).strip()


def _pull_quote(segment: str) -> tuple[str, str] | None:
    """A segment that opens with “ and whose ” ends it or is followed by a space (+ caption)."""
    if not segment.startswith("“"):
        return None
    end = segment.find("”")
    if end == -1 or "“" in segment[1:end] or end > 300:
        return None
    if end == len(segment) - 1 or segment[end + 1].isspace():
        return segment[: end + 1], segment[end + 1 :].strip()
    return None


def _units(segments: list[tuple[str, int]]) -> list[tuple[str, list[str], int]]:
    """Group segments into ("quote", lines, gap) for stand-alone pull quotes, else
    ("text", [segment], gap); `gap` is the whitespace run before the unit.

    A pull quote may itself contain a lost break ("“…시작해서␣␣크게 …팀이에요”"): when a
    segment opens a quote that one of the next two segments closes, the lines are merged back.
    Text after the closing ” is the caption of the photo the quote was printed on: a
    ("caption", [text], 0) unit.
    """
    units: list[tuple[str, list[str], int]] = []
    i = 0
    while i < len(segments):
        segment, gap = segments[i]
        lines: list[str] | None = None
        caption = ""
        consumed = 1
        quote = _pull_quote(segment)
        if quote:
            lines, caption = [quote[0]], quote[1]
        elif segment.startswith("“") and "”" not in segment and len(segment) <= 200:
            for ahead in range(i + 1, min(i + 3, len(segments))):
                following = segments[ahead][0]
                if "“" in following:
                    break
                closed = _pull_quote("“" + following)
                if closed:
                    lines = [segment, *(s for s, _ in segments[i + 1 : ahead]), closed[0][1:]]
                    caption = closed[1]
                    consumed = ahead - i + 1
                    break
                if "”" in following:
                    break
        if lines is None:
            units.append(("text", [segment], gap))
        else:
            units.append(("quote", lines, gap))
            if caption:
                units.append(("caption", [caption], 0))
        i += consumed
    return units


# Section headings glued to their section ("…합니다.마치며Redis의 …"). Connective forms in
# -며/-면서 never take a particle, so such a word glued to the next one is a heading.
_SECTION_WORDS = ("들어가며", "들어가면서", "마치며", "마치면서", "맺으며", "나가며", "정리하며")


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _heading_split(paragraph: str) -> int | None:
    """Where a heading glued to its first sentence ends, or None.

    Detected when the fragment is short, has no sentence end, and the text glued after it
    starts with the fragment's own first word(s): "배포 과정 요약배포 과정은 …",
    "캐시의 수명캐시는 …", "Redis의 기본 정책: 메모리 한도(maxmemory)Redis는 …".
    Headings without such an echo ("알맞은 설정값운영 환경에서는 …") stay text.
    """
    for word in _SECTION_WORDS:
        if paragraph.startswith(word) and len(paragraph) > len(word) + 10:
            nxt = paragraph[len(word)]
            if not nxt.isspace() and nxt not in _NOT_A_START:
                return len(word)
    first_word = re.split(r"\s", paragraph, maxsplit=1)[0]
    limit = min(len(paragraph) // 3, 50)
    for i in range(len(first_word) + 1, limit):
        if paragraph[i - 1].isspace() or paragraph[i].isspace():
            continue
        if not (paragraph[i].isalnum() and (paragraph[i - 1].isalnum() or paragraph[i - 1] == ")")):
            continue
        head = paragraph[:i]
        if any(mark in head for mark in ".!?…↩“”"):
            break
        shared = _common_prefix(paragraph, paragraph[i:])
        if shared >= 2 and shared >= len(first_word) - 1 and " " in head:
            return i
    return None


def _blocks(core: str) -> tuple[list[_Block], list[_Text]]:
    """Body text (hashtags already removed) → blocks and trailing footnote definitions."""
    blocks: list[_Block] = []
    for unit_kind, parts, gap in _units(_segments(core.strip())):
        if unit_kind != "text":
            blocks.append(_Block(unit_kind, [_Text(part.strip()) for part in parts], gap))
            continue
        for paragraph, glued in _split_glued(parts[0]):
            whole_quote = _pull_quote(paragraph)
            if whole_quote and not whole_quote[1]:
                blocks.append(_Block("quote", [_Text(paragraph)], gap))
                gap = 0
                continue
            split = _heading_split(paragraph) if glued else None
            if split:
                blocks.append(_Block("heading", [_Text(paragraph[:split].strip())], gap))
                paragraph, gap = paragraph[split:].strip(), 0
            blocks.append(_Block("p", [_Text(paragraph)], gap))
            gap = 0

    footnotes: list[_Text] = []
    while blocks and blocks[-1].kind == "p" and blocks[-1].texts[0].raw.rstrip().endswith("↩"):
        footnotes.insert(0, blocks.pop().texts[0])
    if footnotes and not _link_footnotes(blocks, footnotes):
        blocks.extend(_Block("p", [text]) for text in footnotes)  # left as they are
        footnotes = []
    for text in footnotes:
        text.raw = re.sub(r"(?:\s*↩)+\s*$", "", text.raw)
    return blocks, footnotes


# A footnote reference is a number glued to the end of a Hangul word and followed by a space,
# punctuation or the end: "사용한1 경우", "쓰고2 나서". Not "2번째", "18년", "1:1", "0.7", "4번".
_FOOTNOTE_REF = re.compile(r"(?<=[\uac00-\ud7a3])(\d{1,2})(?![\d\uac00-\ud7a3A-Za-z])(?![.:,]\d)")


def _link_footnotes(blocks: list[_Block], footnotes: list[_Text]) -> bool:
    """Mark references 1..n, in order, each exactly once; False (no change) otherwise."""
    slots = [text for block in blocks for text in block.texts] + footnotes
    found: dict[int, list[tuple[_Text, int, int]]] = {}
    for order, text in enumerate(slots):
        for match in _FOOTNOTE_REF.finditer(text.raw):
            found.setdefault(int(match.group(1)), []).append((text, order, match.start()))
    n = len(footnotes)
    previous = (-1, -1)
    chosen = []
    for number in range(1, n + 1):
        hits = found.get(number, [])
        if len(hits) != 1:
            return False
        text, order, start = hits[0]
        own = len(slots) - n + number - 1  # a definition cannot refer to itself
        if (order, start) <= previous or order == own:
            return False
        previous = (order, start)
        chosen.append((text, start, number))
    for text, start, number in chosen:
        text.refs[start] = (start + len(str(number)), str(number))
    return True


# --------------------------------------------------------------------------------------------
# Markdown output
# --------------------------------------------------------------------------------------------

_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_LIST_MARKER = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")


def _escape(text: _Text) -> str:
    """Markdown for a run of text: only backslashes are added, so no character is lost."""
    raw = text.raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        if i in text.refs:
            end, label = text.refs[i]
            out.append(f"[^{label}]")
            i = end
            continue
        ch = raw[i]
        before = raw[i - 1] if i else " "
        after = raw[i + 1] if i + 1 < len(raw) else " "
        if (
            ch in "\\`*[]"
            or (ch == "_" and not (before.isalnum() and after.isalnum()))
            or (ch == "~" and "~" in (before, after))
            or (ch == "<" and (after.isalpha() or after in "/!?"))
            or (ch == "&" and _ENTITY.match(raw, i))
        ):
            out.append("\\")
        out.append(ch)
        i += 1
    result = _squash("".join(out))
    marker = _LIST_MARKER.match(result)
    if marker:
        return f"{marker.group(1)}\\{result[marker.end(1) :]}"
    if result[:1] in ("#", ">", "+", "-", "=", "|"):
        return "\\" + result
    return result


def _markdown(blocks: list[_Block], footnotes: list[_Text]) -> str:
    parts = []
    for block in blocks:
        if block.kind == "quote":
            parts.append("\n".join(f"> {_escape(text)}" for text in block.texts))
        elif block.kind == "heading":
            heading = _escape(block.texts[0])
            if heading.endswith("#"):  # would be read as the heading's closing sequence
                heading = heading[:-1] + "\\#"
            parts.append(f"## {heading}")
        elif block.kind == "question":  # as the site's interviews mark their questions
            parts.append(f"**{_escape(block.texts[0])}**")
        elif block.kind == "caption":  # a paragraph that is all emphasis: a caption
            parts.append(f"*{_escape(block.texts[0])}*")
        elif block.kind == "list":
            parts.append(
                "\n".join(f"{n}. {_escape(item)}" for n, item in enumerate(block.texts, 1))
            )
        else:
            parts.append(_escape(block.texts[0]))
    parts.extend(f"[^{number}]: {_escape(text)}" for number, text in enumerate(footnotes, 1))
    return "\n\n".join(part for part in parts if part.strip())
