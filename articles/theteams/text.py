"""Sentence boundaries in a body whose paragraphs ran into each other."""

from __future__ import annotations

import re

_HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
_WHITESPACE_RUN = re.compile(r"\s+")
# Particles a Korean word may carry after its stem, longest first.
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


# A gap as long as this (spaces and no-break spaces) is a block boundary of the page's layout:
# the empty paragraph TheTeams' editor puts around a question, a photo or a pull quote.
# Two spaces are a plain paragraph break; no gap at all is a break the dump glued shut.
WIDE_GAP = 3
START_GAP = 99  # the body's first segment: nothing comes before it


def _segments(body: str) -> list[tuple[str, int]]:
    """Split at the breaks that survived as whitespace: [(segment, length of the gap before)].

    A run of two or more spaces/no-break spaces is a lost break; so is a single no-break
    space right after a sentence end (the dump's trace of a <br>: "…였나요?\xa0네, …").
    """
    segments = []
    last, gap = 0, START_GAP
    for match in _WHITESPACE_RUN.finditer(body):
        run = match.group()
        if len(run) >= 2 or (run == "\xa0" and _sentence_ends_before(body, match.start())):
            segments.append((body[last : match.start()], gap))
            last, gap = match.end(), len(run)
    segments.append((body[last:], gap))
    return [(segment, gap) for segment, gap in segments if segment.strip()]


# "(클릭)" is what a text dump keeps of a button or a linked banner ("…궁금하다면? (클릭)"):
# the address behind it is lost, so the marker is dropped and the words before it stay as
# text. fidelity_text() leaves the markers out, as it does the footnotes' ↩ back-links.
DEAD_LINK = re.compile(r"[ \xa0]?\((?:클릭|click)\)", re.IGNORECASE)


def _drop_dead_links(text: str) -> str:
    return DEAD_LINK.sub("", text)
