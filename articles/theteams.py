"""Parse a text dump of a TheTeams (더팀스) story-hub page into structured stories.

The dump is what a browser's "save as text" gives for a story-hub page: a few navigation lines,
a curated section title, then one block per story::

    조회수 669
    (blank)
    <title line>
    (blank)
    <the whole body on ONE line>

followed by footer lines. Saving as text lost the HTML structure: paragraphs run into each
other ("…입니다.Redis는…"), some block boundaries survive only as runs of (no-break)
spaces, pull quotes stand alone between such runs, footnote texts sit at the end of the body
each ending with " ↩", their references are bare digits glued to a word ("사용한1"), and the
story's hashtags trail the body.

This module is pure (stdlib only, no Django): `parse_dump` turns the dump into `ParsedStory`
objects with the body restored to Markdown, and `is_faithful` checks the promise the importer
makes: every visible character of the source body (minus the hashtag run and the ↩ markers)
is still in the Markdown, in the same order. Restoration only ever *inserts* characters
(newlines, "> ", "## ", "[^n]", backslash escapes) or changes whitespace; it never drops or
reorders anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "KINDS",
    "DumpError",
    "ParsedPage",
    "ParsedStory",
    "fidelity_text",
    "is_faithful",
    "parse_dump",
]

KINDS = ("interview", "feed", "news")

NAVIGATION_LINES = frozenset({"스토리 홈", "스토리홈", "인터뷰", "피드", "뉴스"})

MAX_TITLE_CHARS = 200
EXCERPT_CHARS = 200

_BOM = "\ufeff"
_HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
_VIEW_LINE = re.compile(r"^조회수(?:\s+(\S+))?$")
_VIEW_COUNT = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)$")
_WHITESPACE_RUN = re.compile(r"\s+")


class DumpError(ValueError):
    """The dump cannot be parsed. The message starts with the 1-based line ("3행: …")."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.reason = message
        super().__init__(f"{line}행: {message}" if line is not None else message)


@dataclass(frozen=True)
class ParsedStory:
    line: int  # 1-based line of the story's `조회수` line
    title: str
    view_count: int
    source_body: str  # the body line exactly as in the dump, without its line break
    body_markdown: str
    tags: list[str]  # hashtags without "#", in order, de-duplicated
    company_name: str | None
    kind: str  # one of KINDS
    excerpt: str  # first sentence(s), at most EXCERPT_CHARS characters, plain text


@dataclass(frozen=True)
class ParsedPage:
    section_title: str | None
    stories: list[ParsedStory]


# --------------------------------------------------------------------------------------------
# Decoding and block structure
# --------------------------------------------------------------------------------------------


def _line_of(data: bytes | str, offset: int) -> int:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, offset) + 1  # type: ignore[arg-type]


def _is_control(code: int) -> bool:
    return (code < 32 and code not in (9, 10, 12, 13)) or code == 127


def _check_binary(data: bytes | str) -> None:
    codes = data if isinstance(data, bytes) else [ord(ch) for ch in data]
    nul = data.find(b"\x00" if isinstance(data, bytes) else "\x00")  # type: ignore[arg-type]
    if nul != -1:
        raise DumpError(
            _line_of(data, nul), "NUL 바이트가 있습니다. 텍스트가 아닌 바이너리 파일로 보입니다."
        )
    controls = [i for i, code in enumerate(codes) if _is_control(code)]
    if controls and len(controls) * 3 > len(codes):
        raise DumpError(
            _line_of(data, controls[0]),
            f"제어 문자가 많습니다({len(controls)}/{len(codes)}). "
            "텍스트가 아닌 바이너리 파일로 보입니다.",
        )


def _decode(data: bytes | bytearray | memoryview | str) -> str:
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if isinstance(data, bytes):
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        _check_binary(data)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DumpError(
                _line_of(data, exc.start),
                f"UTF-8로 읽을 수 없는 바이트가 있습니다(0x{data[exc.start]:02x}, "
                f"{exc.start}번째 바이트). 파일을 UTF-8로 저장해 주세요.",
            ) from None
    elif isinstance(data, str):
        text = data.removeprefix(_BOM)
        _check_binary(text)
    else:
        raise TypeError(f"bytes 또는 str이 필요합니다: {type(data).__name__}")
    if not text.strip():
        raise DumpError(1, "입력이 비어 있습니다.")
    # Universal newlines, but without str.splitlines(), which also splits at \x1c, \u2028, …
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_dump(
    data: bytes | str,
    *,
    known_companies: Iterable[str] = (),
    kind: str | None = None,
) -> ParsedPage:
    """Parse a TheTeams story-hub dump. Raises `DumpError` (naming the line) on bad input."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind는 {', '.join(KINDS)} 중 하나여야 합니다: {kind!r}")
    companies = [name.strip() for name in known_companies if name and name.strip()]

    lines = _decode(data).split("\n")
    view_lines: list[tuple[int, int]] = []  # (0-based index, view count)
    for index, raw in enumerate(lines):
        match = _VIEW_LINE.match(raw.strip())
        if not match:
            continue
        count = match.group(1)
        if count is None:
            raise DumpError(index + 1, "'조회수' 뒤에 숫자가 없습니다.")
        if not _VIEW_COUNT.match(count):
            raise DumpError(index + 1, f"조회수가 숫자가 아닙니다: {count!r}")
        view_lines.append((index, int(count.replace(",", ""))))

    if not view_lines:
        first = next(i for i, raw in enumerate(lines) if raw.strip())
        raise DumpError(
            first + 1,
            f"'조회수 N' 줄로 시작하는 스토리 블록이 없습니다(전체 {len(lines)}행). "
            "더팀스 스토리 페이지를 텍스트로 저장한 파일인지 확인해 주세요.",
        )

    section_title = next(
        (
            raw.strip()
            for raw in lines[: view_lines[0][0]]
            if raw.strip() and raw.strip() not in NAVIGATION_LINES
        ),
        None,
    )

    stories = []
    for position, (index, count) in enumerate(view_lines):
        end = view_lines[position + 1][0] if position + 1 < len(view_lines) else len(lines)
        filled = [(i, lines[i]) for i in range(index + 1, end) if lines[i].strip()]
        if not filled:
            raise DumpError(index + 1, f"'조회수 {count}' 다음에 제목 줄이 없습니다.")
        title_index, title_line = filled[0]
        title = title_line.strip()
        if len(title) > MAX_TITLE_CHARS:
            raise DumpError(
                index + 1,
                f"'조회수 {count}' 다음에 제목 줄이 없습니다: {title_index + 1}행은 "
                f"{len(title)}자로 제목이라기엔 너무 깁니다(본문으로 보입니다).",
            )
        if len(filled) < 2:
            raise DumpError(title_index + 1, f"제목 {title!r} 다음에 본문 줄이 없습니다.")
        # Later lines up to the next block (footer, stray captions) are ignored.
        source_body = filled[1][1]
        stories.append(
            _build_story(
                line=index + 1,
                title=title,
                view_count=count,
                source_body=source_body,
                known_companies=companies,
                kind=kind,
            )
        )
    return ParsedPage(section_title=section_title, stories=stories)


# --------------------------------------------------------------------------------------------
# Hashtags and the fidelity promise
# --------------------------------------------------------------------------------------------

_TRAILING_TAG = re.compile(r"#([^\s#]+)$")


def _split_hashtags(body: str) -> tuple[str, list[str]]:
    """Split off the trailing run of `#tag` tokens: (body without the run, tags in order)."""
    found: list[str] = []
    cut = len(body)
    while True:
        head = body[:cut].rstrip()
        match = _TRAILING_TAG.search(head)
        if not match:
            break
        name = match.group(1).rstrip(".,;:!?")
        before = head[match.start() - 1] if match.start() else " "
        # "C#" or "issue#12" are not hashtags; "#2" is a number, not a tag.
        if (before.isascii() and before.isalnum()) or not any(ch.isalpha() for ch in name):
            break
        found.append(name)
        cut = match.start()
        if not before.isspace():  # glued to the last sentence ("지원해 주세요!#회사"): run ends
            break
    tags = list(dict.fromkeys(reversed(found)))
    return (body[:cut] if found else body), tags


def fidelity_text(source_body: str) -> str:
    """The characters the import promises to keep, whitespace removed.

    That is the source body minus its trailing hashtag run and minus the ↩ markers.
    """
    core, _tags = _split_hashtags(source_body)
    return "".join(ch for ch in core if not ch.isspace() and ch != "↩")


def is_faithful(parsed: ParsedStory) -> bool:
    """True if every character of `fidelity_text(source)` appears in the Markdown, in order."""
    remaining = iter(ch for ch in parsed.body_markdown if not ch.isspace())
    return all(ch in remaining for ch in fidelity_text(parsed.source_body))


# --------------------------------------------------------------------------------------------
# Sentence boundaries
# --------------------------------------------------------------------------------------------

_TERMINATORS = ".!?…"
_CLOSERS = ")]”\u2019\"'」』》〉"  # \u2019: right single quotation mark
_NOT_A_START = _TERMINATORS + _CLOSERS + ",;:·~/-"
_EMOTICONS = (":-)", ":)", ";-)", ";)", ":-D", ":D", "^^", "^_^", "^-^")
_MAY_END = frozenset(_TERMINATORS + _CLOSERS + "↩▼" + "".join(e[-1] for e in _EMOTICONS))
# After a sentence-final "." a short lowercase run is a file extension, not a new sentence
# ("결과.csv를"), unlike "입니다.max_size: …" or "입니다.Redis는".
_EXTENSION = re.compile(r"[a-z][a-z0-9]{0,3}(?![A-Za-z0-9_])")


def _is_hangul(ch: str) -> bool:
    return bool(ch) and _HANGUL_SYLLABLE.match(ch) is not None


def _matching_open_paren(text: str, close: int) -> int:
    depth = 0
    for i in range(close, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _sentence_ends_before(text: str, i: int) -> bool:
    """Does a sentence end right before index i?

    Sentence ends: "!" or "?"; "." after a Hangul syllable or a closing bracket (so "0.7",
    "Node.js", "a.k.a", "blog.naver.com" and "feat." never qualify); never an ellipsis; an
    emoticon (":-)", ":)", "^^"); each optionally followed by closing quotes/brackets
    ("…입니다.)", "…요?”"); and a parenthetical aside that follows a finished sentence
    ("좋았어요. (사진: …)다음 문단").
    """
    if text.endswith(_EMOTICONS, 0, i):
        return True
    j = i
    while j > 0 and text[j - 1] in _CLOSERS:
        j -= 1
    if j == 0:
        return False
    mark = text[j - 1]
    if mark in "!?":
        return True
    if mark == ".":
        before = text[j - 2] if j >= 2 else ""
        if before in ".…":
            return False
        return _is_hangul(before) or (before != "" and before in _CLOSERS)
    closers = text[j:i]
    if ")" in closers:
        opening = _matching_open_paren(text, j + closers.rindex(")"))
        if opening >= 2 and text[opening - 1].isspace():
            return _sentence_ends_before(text, opening - 1)
    return False


def _glued_boundary(text: str, i: int) -> bool:
    """Is there a lost paragraph break between text[i-1] and text[i] (no space between)?"""
    previous, start = text[i - 1], text[i]
    if previous.isspace() or start.isspace():
        return False
    # A straight quote opens a quotation when an even number of them precede it.
    opens_quote = start in "'\"" and text.count(start, 0, i) % 2 == 0
    if start in _NOT_A_START and not opens_quote:
        return False
    if previous in "↩▼":  # a footnote's back-link, a "see below" arrow
        return True
    if _HANGUL_SYLLABLE.match(start) and _ends_with_domain(text, i):
        return True
    if not _sentence_ends_before(text, i):
        return False
    return not (previous == "." and _EXTENSION.match(text, i))


# A link card's domain glued to the next paragraph: "…example.com지난주에 …". A domain followed
# by a particle ("naver.com에서") is part of its sentence.
_DOMAIN_BEFORE = re.compile(
    r"(?<![\w-])(?:[a-z0-9-]+\.)+(?:com|net|org|io|kr|co|me|dev|app|ai|jp|info|biz)$",
    re.IGNORECASE,
)


def _ends_with_domain(text: str, i: int) -> bool:
    if not _DOMAIN_BEFORE.search(text, max(0, i - 80), i):
        return False
    word = _WORD.match(text, i)
    return word is not None and not word.group().startswith(_PARTICLES)


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """Inline double/single curly-quoted spans: no paragraph break is restored inside them."""
    spans = []
    for opening, closing, limit in (("“", "”", 300), ("\u2018", "\u2019", 100)):
        for match in re.finditer(re.escape(opening), text):
            start = match.start()
            end = text.find(closing, start + 1)
            again = text.find(opening, start + 1)
            if end != -1 and (again == -1 or end < again) and end - start <= limit:
                spans.append((start, end))
    return spans


def _split_glued(segment: str) -> list[tuple[str, bool]]:
    """Split a segment at glued sentence boundaries: [(paragraph, glued_to_previous)]."""
    inside = bytearray(len(segment) + 1)
    for start, end in _quote_spans(segment):
        inside[start + 1 : end + 1] = b"\x01" * (end - start)
    pieces: list[tuple[str, bool]] = []
    last = 0
    for i in range(1, len(segment)):
        previous = segment[i - 1]
        if previous not in _MAY_END and not (previous.isascii() and previous.isalpha()):
            continue
        if inside[i]:
            continue
        if _glued_boundary(segment, i):
            pieces.append((segment[last:i], bool(pieces) or last > 0))
            last = i
    pieces.append((segment[last:], last > 0))
    return [(piece.strip(), glued) for piece, glued in pieces if piece.strip()]


def _segments(body: str) -> list[str]:
    """Split at the breaks that survived as whitespace.

    A run of two or more spaces/no-break spaces is a lost break; so is a single no-break
    space right after a sentence end (the dump's trace of a <br>: "…였나요?\xa0네, …").
    """
    segments = []
    last = 0
    for match in _WHITESPACE_RUN.finditer(body):
        run = match.group()
        if len(run) >= 2 or (run == "\xa0" and _sentence_ends_before(body, match.start())):
            segments.append(body[last : match.start()])
            last = match.end()
    segments.append(body[last:])
    return [segment for segment in segments if segment.strip()]


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
    kind: str  # "p", "heading", "quote"
    texts: list[_Text]


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


def _units(segments: list[str]) -> list[tuple[str, list[str]]]:
    """Group segments into ("quote", lines) for stand-alone pull quotes, else ("text", [s]).

    A pull quote may itself contain a lost break ("“…시작해서␣␣크게 …팀이에요”"): when a
    segment opens a quote that one of the next two segments closes, the lines are merged back.
    Text after the closing ” (a photo caption) becomes its own unit.
    """
    units: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(segments):
        segment = segments[i]
        lines: list[str] | None = None
        caption = ""
        consumed = 1
        quote = _pull_quote(segment)
        if quote:
            lines, caption = [quote[0]], quote[1]
        elif segment.startswith("“") and "”" not in segment and len(segment) <= 200:
            for ahead in range(i + 1, min(i + 3, len(segments))):
                following = segments[ahead]
                if "“" in following:
                    break
                closed = _pull_quote("“" + following)
                if closed:
                    lines = [segment, *segments[i + 1 : ahead], closed[0][1:]]
                    caption = closed[1]
                    consumed = ahead - i + 1
                    break
                if "”" in following:
                    break
        if lines is None:
            units.append(("text", [segment]))
        else:
            units.append(("quote", lines))
            if caption:
                units.append(("text", [caption]))
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
    for unit_kind, parts in _units(_segments(core.strip())):
        if unit_kind == "quote":
            blocks.append(_Block("quote", [_Text(part.strip()) for part in parts]))
            continue
        for paragraph, glued in _split_glued(parts[0]):
            whole_quote = _pull_quote(paragraph)
            if whole_quote and not whole_quote[1]:
                blocks.append(_Block("quote", [_Text(paragraph)]))
                continue
            split = _heading_split(paragraph) if glued else None
            if split:
                blocks.append(_Block("heading", [_Text(paragraph[:split].strip())]))
                paragraph = paragraph[split:].strip()
            blocks.append(_Block("p", [_Text(paragraph)]))

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
        else:
            parts.append(_escape(block.texts[0]))
    parts.extend(f"[^{number}]: {_escape(text)}" for number, text in enumerate(footnotes, 1))
    return "\n\n".join(part for part in parts if part.strip())


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
_PARTICLES = tuple(
    sorted(
        {
            "의", "가", "이", "는", "은", "도", "에", "를", "을", "와", "과", "로", "만", "랑",
            "께", "나", "에서", "에게", "으로", "까지", "부터", "처럼", "보다", "이나", "이랑",
            "에서는", "에서도", "에서의", "에게는", "으로는", "으로도", "으로서", "로서",
            "로는", "로도", "와의", "과의", "만의", "만큼", "에는", "에도", "이라는", "라는",
            "이란", "란", "입니다", "이다", "이고", "이며", "이에요", "예요", "이죠", "죠",
            "들", "들의", "들이", "들은", "들을", "들과", "들에게",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip
_PARTICLE_SET = frozenset(_PARTICLES)
_WORD = re.compile(r"[\uac00-\ud7a3A-Za-z0-9]+")
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


def _infer_kind(blocks: list[_Block]) -> str:
    """interview / feed / news from the shape of the text.

    An interview (TheTeams "인터뷰") is about ONE named interviewee: the lede introduces them
    ("홍길동 디자이너(이하 길동)"), the interviewer's prompts are short paragraphs followed by
    unlabelled answers, and the Q&A runs through the whole story.

    A company culture post ("피드") may contain a mini Q&A too, but it is narrated by the
    company ("저희 팀은 … 참여했습니다", "소개해 드릴게요") and the answers come from a panel of
    employees, each answer labelled inline with the speaker ("민수님(CTO) : …",
    "지영님 (Designer) : …"). Labelled answers from three or more different people are the
    signal that tells such a roundup from an interview; "(이하 NAME)" is the signal for one.

    News is recognised only conservatively (reported speech: "밝혔다.", "말했다." …); pass
    `kind="news"` to `parse_dump` for a news page.
    """
    paragraphs = _paragraph_texts(blocks)
    text = " ".join(paragraphs)
    if not paragraphs:
        return "feed"

    has_interviewee = _interviewee(text) is not None

    # Prompts: short paragraphs ending with "?" (maybe plus an aside such as "(클릭)"),
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

    speakers = {
        match.group(1).removesuffix("님")
        for paragraph in paragraphs
        if (match := _SPEAKER.match(paragraph))
    }
    panel = len(speakers) >= 3

    if not panel and ((has_interviewee and len(questions) >= 2) or qa_throughout):
        return "interview"
    polite = len(re.findall(r"(?:요|니다)[.!?]", text))
    reported = len(_REPORTED_SPEECH.findall(text))
    if reported >= 3 and polite * 5 < reported + polite:
        return "news"
    return "feed"


def _build_story(
    *,
    line: int,
    title: str,
    view_count: int,
    source_body: str,
    known_companies: list[str],
    kind: str | None,
) -> ParsedStory:
    core, tags = _split_hashtags(source_body)
    blocks, footnotes = _blocks(core)
    shape = _infer_kind(blocks)
    person = _interviewee(" ".join(_paragraph_texts(blocks))) if shape == "interview" else None
    return ParsedStory(
        line=line,
        title=title,
        view_count=view_count,
        source_body=source_body,
        body_markdown=_markdown(blocks, footnotes),
        tags=tags,
        company_name=_infer_company(
            title, [*blocks, _Block("p", footnotes)], tags, known_companies, person
        ),
        kind=kind or shape,
        excerpt=_excerpt(blocks),
    )
