"""Markdown to safe HTML, done once when a story is saved.

markdown-it-py parses CommonMark with raw HTML switched off, adds footnotes and heading anchors,
and nh3 (the Rust ammonia sanitiser) then keeps only the tags and attributes listed below. The
sanitiser is the second wall: even if a plugin let something through, no script, event handler
or `javascript:` URL survives it.
"""

import math
import re

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.html import strip_tags
from django.utils.text import slugify
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin

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


def _anchor_slug(title: str) -> str:
    # Korean headings keep their letters so that "#연결-풀링" reads as what it links to.
    return slugify(title, allow_unicode=True) or "section"


_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
    .use(footnote_plugin)
    .use(anchors_plugin, min_level=2, max_level=4, slug_func=_anchor_slug, permalinkSymbol="#")
)


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
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_only_https_pictures,
    )


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
