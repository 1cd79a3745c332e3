"""The page: decoding a dump, finding its story blocks, and the fidelity promise."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from articles.theteams.blocks import _Block, _blocks, _markdown
from articles.theteams.inference import (
    _excerpt,
    _infer_company,
    _infer_kind,
    _interviewee,
    _paragraph_texts,
)
from articles.theteams.structure import mark_structure
from articles.theteams.text import _drop_dead_links

# What the package exports (articles/theteams/__init__.py).
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

_BOM = "\ufeff"
_VIEW_LINE = re.compile(r"^조회수(?:\s+(\S+))?$")
_VIEW_COUNT = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)$")


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

    That is the source body minus its trailing hashtag run, the ↩ markers and the "(클릭)"
    markers of lost links (text.py, DEAD_LINK).
    """
    core, _tags = _split_hashtags(source_body)
    return "".join(ch for ch in _drop_dead_links(core) if not ch.isspace() and ch != "↩")


def is_faithful(parsed: ParsedStory) -> bool:
    """True if every character of `fidelity_text(source)` appears in the Markdown, in order."""
    remaining = iter(ch for ch in parsed.body_markdown if not ch.isspace())
    return all(ch in remaining for ch in fidelity_text(parsed.source_body))


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
    blocks, footnotes = _blocks(_drop_dead_links(core))
    shape = _infer_kind(blocks, tags)
    person = _interviewee(" ".join(_paragraph_texts(blocks))) if shape == "interview" else None
    company = _infer_company(
        title, [*blocks, _Block("p", footnotes)], tags, known_companies, person
    )
    excerpt = _excerpt(blocks)
    kind = kind or shape
    mark_structure(blocks, interview=kind == "interview", company=company)
    return ParsedStory(
        line=line,
        title=title,
        view_count=view_count,
        source_body=source_body,
        body_markdown=_markdown(blocks, footnotes),
        tags=tags,
        company_name=company,
        kind=kind,
        excerpt=excerpt,
    )
