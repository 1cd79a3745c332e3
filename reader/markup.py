"""The small pieces of HTML that lists repeat, written in Python: a picture from its renditions,
a company's logo badge, a person's avatar badge, a story's cover frame and its date, and the
story card made of them (reader/cards.py keeps the cards it draws).

A card drawn by the template engine cost about 0.36 ms, nearly all of it the engine's own
work (some 60 variable lookups and four nested includes a card); these functions write the
same HTML in a fraction of that. Every value is escaped as the template engine escapes it
(conditional_escape(), checked against it in tests), dates are formatted by Django's date filter after the conversion to local
time the engine applies. Templates use the pieces through this library's tags
({% load markup %}: picture, logo, avatar, cover, story_date), so each piece has this one
definition."""

import functools
import re
import unicodedata
from datetime import datetime
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, add_truncation_text, calculate_truncate_chars_length
from django.utils.timezone import template_localtime
from django.utils.translation import pgettext

from articles.models import Tag
from articles.models.common import Kind, fixed_url, url_context, url_maker
from articles.rendering import escape_html

register = template.Library()

# The cover of a card, and how wide it is drawn at each screen width.
CARD_COVER_SIZES = "(min-width: 72rem) 17rem, (min-width: 36rem) 50vw, 100vw"
CARD_EXCERPT_LENGTH = 120


# The formats the pages use, written directly as Django's dateformat writes them (each of its
# letters is one field: c isoformat(), Y the year in four digits, m and d two, n and j as they
# are): a tenth of its cost, which parses the format on every call. A test holds each to
# dateformat.format().
_WRITTEN_FORMATS = {
    "c": lambda value: value.isoformat(),
    "Y.m.d": lambda value: f"{value.year:04d}.{value.month:02d}.{value.day:02d}",
    "Y년 n월 j일": lambda value: f"{value.year:04d}년 {value.month}월 {value.day}일",
    "Ymd": lambda value: f"{value.year:04d}{value.month:02d}{value.day:02d}",
}


def _date(value, format) -> str:
    """The date filter's output for a value already in local time: Django's dateformat with
    `format` as it is (the date filter looks the format up among the named ones first, and
    none of ours is one)."""
    written = _WRITTEN_FORMATS.get(format)
    return written(value) if written is not None else dateformat.format(value, format)


# What get_kind_display() gives for each kind (a story's kind is always one of them), read
# from a dict: the model's method builds its choices' mapping on every call (4 µs a card).
KIND_LABELS = dict(Kind.choices)


def kind_label(story) -> str:
    return KIND_LABELS.get(story.kind, story.kind)


def _e(value) -> str:
    """conditional_escape() without its lazy-string wrapper: what the engine writes for
    {{ value }} (Django's escape() is html.escape())."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape_html(str(value))


@register.simple_tag(name="picture")
def picture_tag(picture, sizes="", eager=False, decorative=False, css_class="") -> SafeString:
    """One <picture> from its renditions (articles/renditions.py Picture): WebP first, the
    original's format for the rest, width and height so nothing moves when it loads. `eager`:
    the one picture that leads the page (fetched first, never lazily); `decorative`: alt=""
    where the text beside it says the same."""
    return mark_safe(
        picture_html(picture, sizes, eager=eager, decorative=decorative, css_class=css_class)
    )


def picture_html(picture, sizes, *, eager=False, decorative=False, css_class="") -> str:
    sizes = _e(sizes)
    source = (
        f'<source type="image/webp" srcset="{_e(picture.webp_srcset)}" sizes="{sizes}">'
        if picture.webp_srcset
        else ""
    )
    alt = "" if decorative else _e(picture.alt)
    css = f' class="{_e(css_class)}"' if css_class else ""
    loading = ' fetchpriority="high"' if eager else ' loading="lazy"'
    return (
        f'<picture>{source}<img src="{_e(picture.src)}" srcset="{_e(picture.srcset)}" '
        f'sizes="{sizes}" width="{picture.width}" height="{picture.height}" alt="{alt}"{css} '
        f'decoding="async"{loading}></picture>'
    )


def _badge(kind, picture, letter_of, size, sizes, decorative, eager) -> str:
    if picture:
        inner = picture_html(picture, sizes, eager=eager, decorative=decorative)
        return f'<span class="badge badge-{_e(size)} badge-{kind}">{inner}</span>'
    return (
        f'<span class="badge badge-{_e(size)} badge-{kind} badge-blank" aria-hidden="true">'
        f"{_e(letter_of[:1])}</span>"
    )


@register.simple_tag
def logo(company, size, sizes, decorative=False, eager=False) -> SafeString:
    """A company's logo in a square badge (size: xs, sm, md, lg), or its first letter on a
    tinted badge when it has none. `decorative`: the company's name is written beside it."""
    return mark_safe(logo_html(company, size, sizes, decorative=decorative, eager=eager))


def logo_html(company, size, sizes, *, decorative=False, eager=False) -> str:
    return _badge("logo", company.logo_picture, company.name, size, sizes, decorative, eager)


@register.simple_tag
def avatar(person, size, sizes, decorative=False, eager=False) -> SafeString:
    """A person's photo in a round badge (size: sm, md, lg), or the first letter of their name
    on a tinted circle when there is none. `decorative`: the name is written beside it."""
    return mark_safe(avatar_html(person, size, sizes, decorative=decorative, eager=eager))


def avatar_html(person, size, sizes, *, decorative=False, eager=False) -> str:
    return _badge("avatar", person.photo_picture, person.name, size, sizes, decorative, eager)


@register.simple_tag
def cover(story, sizes, eager=False) -> SafeString:
    """A story's cover cropped to the 16:9 frame of a card (keeping the editor's focal point),
    or, for a story without one, the frame drawn in CSS with its company's name or kind."""
    return mark_safe(cover_html(story, sizes, eager=eager))


def cover_html(story, sizes, *, eager=False) -> str:
    picture = story.cover
    if picture:
        inner = picture_html(picture, sizes, eager=eager, css_class=f"focus-{story.cover_focus}")
        return f'<div class="frame">{inner}</div>'
    label = (story.company.name if story.company else "") or kind_label(story)
    return (
        f'<div class="frame frame-blank frame-{_e(story.kind)}" aria-hidden="true">'
        f"<span>{_e(label)}</span></div>"
    )


@register.simple_tag
def story_date(story, format) -> SafeString:
    """A story's date as readers see it (Article.shown_date) in the date filter's `format`. An
    imported story whose source gave no date says so instead of showing the day it was
    imported."""
    return mark_safe(story_date_html(story, format))


# Characters none of which is a combining mark (unicodedata.combining(): a test checks every
# one): ASCII, Hangul syllables, general punctuation (… and quotation marks). A text of only
# these, the usual excerpt, counts one character each.
_PLAIN = "\x00-\x7f\uac00-\ud7a3\u2000-\u206f"
_NOT_PLAIN = re.compile(f"[^{_PLAIN}]")


def cut(text: str, length: int) -> str:
    """Truncator(text).chars(length): at most `length` characters, an ellipsis in the last
    place of a longer text. Truncator counts the characters one by one in Python to skip
    combining marks (a third of a card's cost); a text of characters that are never marks
    (_PLAIN), the usual, is cut by slicing, any other is left to Truncator."""
    text = unicodedata.normalize("NFC", text)
    if len(text) <= length:
        return text
    if _NOT_PLAIN.search(text) is not None:
        return Truncator(text).chars(length)
    # Truncator's ellipsis, translated once (each of the two helpers would look it up again).
    ellipsis = pgettext("String to return when truncating text", "%(truncated_text)s…")
    kept = text[: calculate_truncate_chars_length(length, ellipsis)]
    return add_truncation_text(kept, ellipsis)


def story_date_html(story, format, zone=None) -> str:
    """`zone`: the current time zone when the caller has read it (once for a list; reading it
    costs more than the conversion)."""
    shown = story.shown_date
    if shown:
        if zone is not None and isinstance(shown, datetime) and shown.tzinfo is not None:
            local = shown.astimezone(zone)  # what template_localtime() does with an aware one
        else:
            local = template_localtime(shown)
        return f'<time datetime="{_e(_date(local, "c"))}">{_e(_date(local, format))}</time>\n'
    if story.date_unknown:
        return '<span class="date-unknown" title="가져온 원문에 날짜가 없습니다">날짜 미상</span>\n'
    return "\n"


def card_links() -> tuple:
    """The url_maker()s of a card's links, a story's page and a tag's: made once for a list of
    cards (each reads where URLs are reversed now, more than the link itself costs)."""
    return url_maker("articles:story", keyed=True), url_maker(Tag.url_name)


def list_drawing() -> dict:
    """What card_html() is given for the cards of one list (a page's, a batch of draw_cards'),
    each made once: its links, the current time zone, and the company lines drawn so far."""
    return {"links": card_links(), "zone": timezone.get_current_timezone(), "lines": {}}


def count_span(shown: str) -> str:
    """A card's 조회수 of all time, `shown` written as it is (escaped by the caller)."""
    return f"<span>조회수 {shown}</span>"


def card_html(story, tags, popular_days, links=None, *, zone=None, lines=None) -> str:
    """A story card: its cover, kind, company, title, excerpt, 조회수 (of the last
    `popular_days` days on a 인기순 list), date and hashtags (`tags`, CardTag or Tag).
    For a list, made once for all its cards (list_drawing()): `links`, card_links(); `zone`,
    the current time zone; `lines`, a dict in which each company's line (its logo and name) is
    kept by the company instance, so the cards of one company (a story page's related ones)
    write it once."""
    story_url, tag_url = links or card_links()
    company = story.company
    company_line = ""
    if company:
        company_line = None if lines is None else lines.get(id(company))
        if company_line is None:
            company_line = (
                f'<span class="card-company">{logo_html(company, "xs", "20px", decorative=True)}'
                f"{_e(company.name)}</span>"
            )
            if lines is not None:
                lines[id(company)] = company_line
    excerpt = (
        f'<p class="card-excerpt">{_e(cut(story.excerpt, CARD_EXCERPT_LENGTH))}</p>'
        if story.excerpt
        else ""
    )
    if popular_days:
        count = f"<span>최근 {_e(popular_days)}일 조회수 {_e(story.recent_views)}</span>"
    else:
        count = count_span(_e(story.view_count))
    hashtags = (
        '\n  <p class="tag-list">'
        + "".join(f'<a href="{_e(tag_url(tag.slug))}">#{_e(tag.name)}</a> ' for tag in tags)
        + "</p>\n  "
        if tags
        else ""
    )
    return (
        '<article class="card">\n'
        f"  {cover_html(story, CARD_COVER_SIZES)}\n"
        '  <p class="card-meta">\n'
        f'    <span class="kind kind-{_e(story.kind)}">{_e(kind_label(story))}</span>\n'
        f"    {company_line}\n"
        "  </p>\n"
        f'  <h3 class="card-title"><a href="{_e(story_url(story.slug, story.pk))}">'
        f"{_e(story.title)}</a></h3>\n"
        f"  {excerpt}\n"
        '  <p class="card-foot">\n'
        f"    {count}\n"
        f"    {story_date_html(story, 'Y.m.d', zone)}\n"
        "  </p>\n"
        f"  {hashtags}\n"
        "</article>\n"
    )


# --- Every page's frame (templates/base.html) ----------------------------------------------

# The header's tabs: (URL name, label).
TABS = (
    ("home", "스토리 홈"),
    ("interviews", "인터뷰"),
    ("feed", "피드"),
    ("news", "뉴스"),
)
TAB_NAMES = frozenset(tab for tab, _ in TABS)
FOOTER_LINKS = (
    ("articles:companies", "회사"),
    ("articles:people", "사람"),
    ("articles:tags", "해시태그"),
    ("ops:case-study", "연결 풀링 사례 연구"),
    ("admin:index", "편집실 로그인"),
)


@register.simple_tag(takes_context=True)
def site_header(context) -> SafeString:
    """The site's header: its name, the kind tabs (the current one marked) and, but on the
    search page, the search box."""
    match = getattr(context.get("request"), "resolver_match", None)
    name = (match.url_name if match else None) or ""
    shown = name if name in TAB_NAMES or name == "search" else ""
    site_name, search_max_length = context.get("SITE_NAME"), context.get("SEARCH_MAX_LENGTH")
    return _header(shown, url_context(), site_name, search_max_length)


# The header and the footer are made once for what they show (a handful a process: the
# current tab, or the search page, and where the URLs are reversed), and made again after a
# setting changes (forget_chrome()).
@functools.cache
def _header(name, where, site_name, search_max_length) -> SafeString:
    current = ' aria-current="page"'
    tabs = "".join(
        f'      <a href="{_e(fixed_url("articles:" + tab, where))}"'
        f"{current if name == tab else ''}>{label}</a>\n"
        for tab, label in TABS
    )
    search = ""
    if name != "search":
        action = _e(fixed_url("articles:search", where))
        search = (
            f'    <a class="header-search-link" href="{action}">검색</a>\n'
            f'    <form class="header-search" role="search" action="{action}" method="get">\n'
            '      <label class="visually-hidden" for="header-search-q">스토리 검색</label>\n'
            '      <input id="header-search-q" type="search" name="q" '
            f'maxlength="{_e(search_max_length)}" placeholder="스토리 검색" '
            'autocomplete="off">\n'
            '      <button type="submit">검색</button>\n'
            "    </form>\n"
            "    \n"
        )
    return mark_safe(
        '\n<header class="site-header">\n'
        '  <div class="container header-row">\n'
        f'    <a class="brand" href="{_e(fixed_url("articles:home", where))}">'
        f"{_e(site_name)}</a>\n"
        '    <nav class="tabs" aria-label="스토리 종류">\n'
        f"{tabs}"
        "    </nav>\n"
        f"    \n{search}"
        "  </div>\n"
        "</header>\n\n"
    )


@register.simple_tag(takes_context=True)
def site_footer(context) -> SafeString:
    return _footer(url_context(), context.get("SITE_NAME"))


@functools.cache
def _footer(where, site_name) -> SafeString:
    links = "".join(
        f'      <a href="{_e(fixed_url(name, where))}">{label}</a>\n'
        for name, label in FOOTER_LINKS
    )
    return mark_safe(
        '<footer class="site-footer">\n'
        '  <div class="container footer-row">\n'
        f"    <p>기업 문화를 엿보는 엔지니어링 스토리, {_e(site_name)}</p>\n"
        '    <nav aria-label="사이트 안내">\n'
        f"{links}"
        "    </nav>\n"
        "  </div>\n"
        "</footer>\n"
    )


def forget_chrome(**kwargs) -> None:
    _header.cache_clear()
    _footer.cache_clear()


setting_changed.connect(forget_chrome)


@register.simple_tag(takes_context=True)
def share_tags(context, share) -> SafeString:
    return mark_safe(share_tags_html(share, context.get("SITE_NAME")))


def share_tags_html(share, site_name) -> str:
    """Link previews (reader/share.py ShareTags): canonical, OpenGraph and Twitter, absolute
    from SITE_URL."""
    image = share.image
    alt = _e(image.alt)
    size = (
        f'<meta property="og:image:width" content="{_e(image.width)}">\n'
        f'  <meta property="og:image:height" content="{_e(image.height)}">\n  '
        if image.width
        else ""
    )
    times = "".join(
        f'<meta property="article:{name}" content="{_e(_date(template_localtime(value), "c"))}">\n  '
        for name, value in (
            ("published_time", share.published_time),
            ("modified_time", share.modified_time),
        )
        if value
    )
    tags = "".join(f'<meta property="article:tag" content="{_e(tag)}">\n  ' for tag in share.tags)
    return (
        "\n"
        f'  <link rel="canonical" href="{_e(share.canonical_url)}">\n'
        f'  <meta property="og:type" content="{_e(share.type)}">\n'
        f'  <meta property="og:site_name" content="{_e(site_name)}">\n'
        '  <meta property="og:locale" content="ko_KR">\n'
        f'  <meta property="og:title" content="{_e(share.title)}">\n'
        f'  <meta property="og:description" content="{_e(share.description)}">\n'
        f'  <meta property="og:url" content="{_e(share.url)}">\n'
        f'  <meta property="og:image" content="{_e(image.url)}">\n'
        f'  {size}<meta property="og:image:alt" content="{alt}">\n'
        f'  {times}{tags}<meta name="twitter:card" content="{_e(share.twitter_card)}">\n'
        f'  <meta name="twitter:image:alt" content="{alt}">\n'
    )


@register.simple_tag
def popular_items(popular) -> SafeString:
    """The items of 스토리 홈's 이번 주 인기 list: each entry's story (its link, title and
    company) and its views of the week, the story links made with the pattern read once."""
    story_url = url_maker("articles:story", keyed=True)
    items = []
    for entry in popular:
        story = entry.story
        company = f"{_e(story.company.name)} · " if story.company else ""
        items.append(
            f'<li><a href="{_e(story_url(story.slug, story.pk))}">{_e(story.title)}</a> '
            f"<small>{company}이번 주 조회수 {_e(entry.recent_views)}</small></li>"
        )
    return mark_safe("".join(items))


def query_with(query_dict, **changes) -> str:
    """What {% querystring %} (Django's) writes for `query_dict` (request.GET) with `changes`: a
    value (a number or a string) replaces the key's values where the key stood, or comes last;
    None removes the key. Without the tag's copy of the QueryDict, a deep copy that cost more
    than the rest of a page link (a test holds the two equal)."""
    pairs = dict(query_dict.lists())
    for key, value in changes.items():
        if value is None:
            pairs.pop(key, None)
        else:
            pairs[key] = [value]
    if not pairs and not query_dict:
        return ""
    return "?" + "&".join(
        urlencode({key: value}) for key, values in pairs.items() for value in values
    )


@register.simple_tag(takes_context=True)
def pagination(context, page) -> SafeString:
    """A list's page links (pagination_html()) for the request's query string."""
    return mark_safe(pagination_html(context["request"].GET, page))


def pagination_html(query_dict, page) -> str:
    """The links to a list's previous and next pages and where this one is, kept in the
    query string (`query_dict`, request.GET) of the page; a line break alone for a list of
    one page."""
    if not page.has_other_pages():
        return "\n"
    previous = following = ""
    if page.has_previous():
        link = _e(query_with(query_dict, page=page.previous_page_number()))
        previous = f'<a rel="prev" href="{link}">이전</a>'
    if page.has_next():
        link = _e(query_with(query_dict, page=page.next_page_number()))
        following = f'<a rel="next" href="{link}">다음</a>'
    return (
        '\n<nav class="pagination" aria-label="페이지">\n'
        f"  {previous}\n"
        f'  <span aria-current="page">{_e(page.number)} / {_e(page.paginator.num_pages)}</span>\n'
        f"  {following}\n"
        "</nav>\n\n"
    )


@register.simple_tag
def search_results(stories) -> SafeString:
    """The stories of a page of search results (search_result() each), their links made with
    the pattern read once for the page, and each hashtag's link once for the page (most
    results share a few hashtags)."""
    links = card_links()
    zone = timezone.get_current_timezone() if settings.USE_TZ else None
    tag_links = {}
    return mark_safe("".join(search_result(story, links, zone, tag_links) for story in stories))


def search_result(story, links, zone, tag_links: dict) -> str:
    """One story in the search results (articles/search.py add_highlights() marks its title and
    cuts its snippet): kind, company, title, snippet, 조회수, date and hashtags. `links`:
    card_links(); `zone`: the current time zone; `tag_links`: the page's hashtag links made so
    far, by (slug, name)."""
    story_url, tag_url = links
    company = f"<span>{_e(story.company_name)}</span>" if story.company_name is not None else ""
    snippet = f'<p class="search-snippet">{_e(story.snippet)}</p>' if story.snippet else ""
    shown = []
    for tag in story.card_tags:
        link = tag_links.get((tag.slug, tag.name))
        if link is None:
            link = tag_links[tag.slug, tag.name] = (
                f'<a href="{_e(tag_url(tag.slug))}">#{_e(tag.name)}</a>'
            )
        shown.append(link)
    tags = "".join(shown)
    return (
        '\n    <li><article class="search-result">\n'
        '      <p class="card-meta">\n'
        f'        <span class="kind kind-{_e(story.kind)}">{_e(kind_label(story))}</span>\n'
        f"        {company}\n"
        "      </p>\n"
        f'      <h2 class="search-result-title"><a href="{_e(story_url(story.slug, story.pk))}">'
        f"{_e(story.marked_title)}</a></h2>\n"
        f"      {snippet}\n"
        '      <p class="card-foot">\n'
        f"        <span>조회수 {_e(story.stored_count)}</span>\n"
        f"        {story_date_html(story, 'Y.m.d', zone)}\n"
        f"        {tags}\n"
        "      </p>\n"
        "    </article></li>\n    "
    )
