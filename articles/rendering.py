"""Markdown to safe HTML, done once when a story is saved.

markdown-it-py parses CommonMark with raw HTML switched off, adds footnotes and heading anchors,
and nh3 (the Rust ammonia sanitiser) then keeps only the tags and attributes listed below. The
sanitiser is the second wall: even if a plugin let something through, no script, event handler
or `javascript:` URL survives it.
"""

import html
import math
import re
import resource
import signal
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.html import strip_tags
from django.utils.text import slugify
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin


def escape_html(text: str) -> str:
    """html.escape(text), what Django's escape() runs: a text with none of the five characters
    it replaces (most titles, names, dates and snippets) comes back as it is, without its five
    passes of str.replace() (a search page escapes about 260 pieces, a card a dozen)."""
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return html.escape(text)
    return text


ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "del", "em", "figcaption", "figure", "h2", "h3",
    "h4", "h5", "h6", "hr", "img", "li", "ol", "p", "pre", "section", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id", "class"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "code": {"class"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "li": {"id", "class"},
    "ol": {"class", "start"},
    "p": {"class"},
    "section": {"class"},
    "sup": {"class", "id"},
    "hr": {"class"},
    "th": {"class"}, "td": {"class"},
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto"}

# Korean readers read about 500 characters a minute; Latin text is counted in words.
HANGUL_CHARS_PER_MINUTE = 500
WORDS_PER_MINUTE = 220
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9_]+")


# Heading ids are prefixed: a heading "main" must not repeat the layout's id="main" (the skip
# link's target), nor "csrfmiddlewaretoken" or "proto" shadow a form field or a DOM property
# by name, and no heading can take a footnote's id (fn1, fnref1).
HEADING_ID_PREFIX = "h-"


ANCHOR_LEVELS = {"h2", "h3", "h4"}


def _anchor_slug(title: str) -> str:
    # Korean headings keep their letters so that "#h-연결-풀링" reads as what it links to.
    return HEADING_ID_PREFIX + (slugify(title, allow_unicode=True) or "section")


def _heading_anchors(state) -> None:
    """Give h2–h4 an id from their text ("h-연결-풀링", then "h-연결-풀링-1"…), and point a
    link in the body to a heading by its unprefixed id ("#연결-풀링", as tables of contents
    were written before ids had a prefix) at the heading.

    (mdit-py-plugins' anchors plugin numbers repeated headings by trying "-1", "-2"… from
    the start each time: 20,000 equal headings took 88 s. The next number per text is kept
    here.)"""
    ids: set[str] = set()
    next_number: dict[str, int] = {}
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open" or token.tag not in ANCHOR_LEVELS:
            continue
        title = "".join(
            child.content
            for child in state.tokens[index + 1].children or ()
            if child.type in ("text", "code_inline")
        )
        base = candidate = _anchor_slug(title)
        number = next_number.get(base, 0)
        while candidate in ids:
            number += 1
            candidate = f"{base}-{number}"
        next_number[base] = number
        ids.add(candidate)
        token.attrSet("id", candidate)
    for token in state.tokens:
        for child in token.children or ():
            href = child.attrGet("href") if child.type == "link_open" else None
            if not href or not href.startswith("#"):
                continue
            target = HEADING_ID_PREFIX + unquote(href[1:])
            if target in ids:
                child.attrSet("href", state.md.normalizeLink("#" + target))


_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
    .use(footnote_plugin)
)
_markdown.core.ruler.push("heading_anchors", _heading_anchors)


def check_body_length(body: str) -> None:
    limit = settings.ARTICLE_BODY_MAX_CHARS
    if len(body) > limit:
        raise ValidationError(
            "본문이 너무 깁니다: %(length)s자입니다. %(limit)s자 이하로 줄여 주세요.",
            code="body_too_long",
            params={"length": f"{len(body):,}", "limit": f"{limit:,}"},
        )


# A table column's alignment, which markdown-it writes as a style attribute: the site's
# Content-Security-Policy allows no inline style, so it becomes a class (site.css).
_CELL_ALIGN = re.compile(r'<(th|td) style="text-align:(left|center|right)">')


# A paragraph that is one emphasis and nothing else ("*사진 왼쪽이 한결입니다*") is a photo's
# caption, as Markdown writers set it under a picture and the TheTeams import marks one: it
# gets the caption class (site.css) instead of reading as an italic sentence of the text.
_CAPTION = re.compile(r"<p><em>((?:(?!</?(?:em|p)\b).)*)</em></p>", re.DOTALL)


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def _only_https_pictures(element: str, attribute: str, value: str) -> str | None:
    """Pictures load over https or from this site (a relative address) only: an http://
    picture would be blocked by the browser (mixed content, and img-src in the CSP) and show
    as broken."""
    if element == "img" and attribute == "src":
        scheme = _SCHEME.match(value)
        return value if scheme is None or scheme[1].lower() == "https" else None
    return value


def render_markdown(body: str) -> str:
    """Render an editor's Markdown to HTML that is safe to show without escaping."""
    html = _CELL_ALIGN.sub(r'<\1 class="align-\2">', _markdown.render(body))
    html = _CAPTION.sub(r'<p class="caption"><em>\1</em></p>', html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        # Links in a body are the authors' (user-generated content), never the site's.
        link_rel="noopener noreferrer nofollow ugc",
        strip_comments=True,
        attribute_filter=_only_https_pictures,
    )


# Bodies up to this many characters render in the process that saves them: markdown-it-py's
# slowest constructs (unclosed brackets, images and links, repeated) take at most about 0.3 s
# of CPU at this size. Longer ones render in a child process allowed RENDER_CPU_SECONDS of
# CPU (the kernel stops it past that, RLIMIT_CPU) and RENDER_WALL_SECONDS in all, so a body
# built to be slow (199,000 characters of them took 12 s) is refused in bounded time instead
# of holding a worker, while the longest ordinary story (0.6 s of CPU) still renders on a
# busy machine (bench/rendering.py, docs/performance.md).
RENDER_IN_PROCESS_MAX_CHARS = 20_000
RENDER_CPU_SECONDS = 1
RENDER_WALL_SECONDS = 5.0
_PROJECT_DIR = Path(__file__).resolve().parent.parent


class RenderTimeout(Exception):
    """The body did not render within its time."""


@lru_cache(maxsize=4)
def render_body(body: str) -> str:
    """render_markdown() in bounded time: RenderTimeout when a long body takes too long.
    The last few results are kept, so the check before a save and the save render once."""
    if len(body) <= RENDER_IN_PROCESS_MAX_CHARS:
        return render_markdown(body)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "articles.rendering", str(RENDER_CPU_SECONDS)],
            input=body.encode(),
            capture_output=True,
            timeout=RENDER_WALL_SECONDS,
            cwd=_PROJECT_DIR,
        )
    except subprocess.TimeoutExpired:
        raise RenderTimeout from None
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise RenderTimeout
    if done.returncode:
        raise RuntimeError(f"The renderer failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode()


def check_body_renders(body: str) -> None:
    """A body must render in bounded time (a field validator, after the length's)."""
    if len(body) > settings.ARTICLE_BODY_MAX_CHARS:
        return  # check_body_length says so; no time is spent on it here
    try:
        render_body(body)
    except RenderTimeout:
        raise ValidationError(
            "본문이 너무 복잡해서 제시간에 그리지 못했습니다. 짝이 맞지 않는 괄호([, ![, [a]( "
            "같은 것)나 강조 기호가 아주 많이 반복되지 않는지 확인하고 줄여 주세요.",
            code="body_too_complex",
        ) from None


def plain_text(html: str) -> str:
    """The visible text of rendered HTML, whitespace collapsed (for excerpts and search)."""
    return " ".join(strip_tags(html).split())


def reading_minutes(text: str) -> int:
    hangul = len(_HANGUL.findall(text))
    words = len(_LATIN_WORD.findall(text))
    minutes = hangul / HANGUL_CHARS_PER_MINUTE + words / WORDS_PER_MINUTE
    return max(1, math.ceil(minutes))


def excerpt_from(text: str, limit: int = 160) -> str:
    """The first sentences of `text` that fit in `limit` characters, cut at a word if needed."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    sentence_end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    if sentence_end >= limit // 2:
        return cut[: sentence_end + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


if __name__ == "__main__":
    # The child process of render_body(): Markdown on stdin, HTML on stdout, stopped by the
    # kernel (SIGXCPU) after the CPU seconds it is given.
    cpu_seconds = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    sys.stdout.buffer.write(render_markdown(sys.stdin.buffer.read().decode("utf-8")).encode())
