"""The story page's own content (its article, the company card, the people, the related
stories), written in Python: the `content` part of templates/reader/story.html's frame
(reader/frame.py, reader/views.py story_html).

The template engine spent about a millisecond on this part of every story page it rendered
(some 90 variable lookups, 40 conditions, a loop per list), as much as the queries that read
the story; this writes the same HTML, byte for byte, in a fraction of that. It follows the
template it replaced line by line: each piece of literal text is the template's, each value
is escaped as the engine escapes it (markup._e), dates are formatted as its date filter does
after the conversion to local time (markup._date), and the shared pieces (dates, pictures,
badges, the card grid) are the functions the tags call."""

from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from reader.cards import grid_html
from reader.markup import (
    _date,
    _e,
    avatar_html,
    kind_label,
    logo_html,
    picture_html,
    story_date_html,
)

COVER_SIZES = "(min-width: 45rem) 42rem, calc(100vw - 2rem)"


def story_content(context: dict) -> SafeString:
    """The content block of a story page from the view's values (reader/views.py
    story_html)."""
    article = context["article"]
    series_position = context.get("series_position")
    pieces = [
        "\n",
        _preview_banner(article) if context.get("is_preview") else "",
        '\n<div class="story-layout">\n<article class="story"',
        f' data-count-url="{_e(context["count_url"])}"' if context.get("count_url") else "",
        ">\n",
        _head(article, context.get("view_count"), series_position, context.get("series_parts")),
        _cover(article) if article.cover_image else "",
        f'\n  <div class="story-body">{article.body_html}</div>\n  ',
        _original(article),
        "\n  ",
        _tags(context.get("tags")),
        "\n\n  ",
        _series_nav(article, context.get("series_previous"), context.get("series_next"))
        if series_position
        else "",
        '\n</article>\n\n<aside class="story-aside">\n  ',
        _company_card(article.company) if article.company else "",
        "\n  ",
        _people(context.get("people"), article.company),
        "\n</aside>\n</div>\n\n",
        _related(context.get("related")),
        "\n",
    ]
    return mark_safe("".join(pieces))


def _local(value, format) -> str:
    """{{ value|date:format }}: the date filter converts to local time first."""
    return _date(template_localtime(value), format)


def _preview_banner(article) -> str:
    state = article.state
    due = (
        f", {_e(_local(article.published_at, 'Y년 n월 j일 H:i'))} 공개"
        if state == "scheduled"
        else ""
    )
    return (
        '<p class="preview-banner" role="status">미리보기 — 이 스토리는 아직 독자에게 보이지 '
        f"않습니다 (상태: {_e(state.label)}{due}).</p>"
    )


def _head(article, view_count, series_position, series_parts) -> str:
    company = article.company
    company_link = (
        f'<a href="{_e(company.get_absolute_url())}">{_e(company.name)}</a>' if company else ""
    )
    byline = f"<span>{_e(article.byline)}</span>" if article.byline else ""
    date_unknown = article.date_unknown
    shown = ""
    if article.shown_date or date_unknown:
        if article.original_published_on:
            said = "원문 발행 "
        elif not date_unknown:
            said = "발행 "
        else:
            said = ""
        shown = f"<span>{said}{story_date_html(article, 'Y년 n월 j일')}</span>"
    edited = ""
    published, updated = article.published_at, article.updated_at
    if published and _local(updated, "Ymd") != _local(published, "Ymd") and updated > published:
        edited = (
            f'<span>수정 <time datetime="{_e(_local(updated, "c"))}">'
            f"{_e(_local(updated, 'Y년 n월 j일'))}</time></span>"
        )
    source = ""
    if article.source_site:
        on_company = f" · {company_link}" if company else ""
        original = (
            f' · <a href="{_e(article.original_url)}" rel="noopener">원문 보기</a>'
            if article.original_url
            else ""
        )
        source = f'<p class="story-source">{_e(article.source_label)}{on_company}{original}</p>'
    badge = ""
    if series_position:
        series = article.series
        badge = (
            f'\n    <p class="series-badge"><a href="{_e(series.get_absolute_url())}">'
            f"{_e(series.title)}</a> · <span>{_e(series_position)}/"
            f"{_e(len(series_parts))}</span></p>\n    "
        )
    return (
        '  <header class="story-head">\n'
        '    <p class="card-meta">\n'
        f'      <a class="kind kind-{_e(article.kind)}" href="{_e(article.kind_list_url)}">'
        f"{_e(kind_label(article))}</a>\n"
        f"      {company_link}\n"
        "    </p>\n"
        f"    <h1>{_e(article.title)}</h1>\n"
        '    <p class="byline">\n'
        f"      {byline}\n"
        f"      {shown}\n"
        f"      {edited}\n"
        f'      <span class="views">조회수 <strong>{_e(view_count)}</strong></span>\n'
        f"      <span>{_e(article.reading_minutes)}분 읽기</span>\n"
        "    </p>\n"
        f"    {source}\n"
        f"    {badge}\n"
        "  </header>\n  "
    )


def _cover(article) -> str:
    picture = article.cover
    if picture:
        shown = picture_html(picture, COVER_SIZES, eager=True)
    else:
        alt = article.cover_alt or article.title
        shown = f'<img src="{_e(article.cover_image.url)}" alt="{_e(alt)}" decoding="async">'
    credit = f"<figcaption>{_e(article.cover_credit)}</figcaption>" if article.cover_credit else ""
    return f'\n  <figure class="cover">{shown}{credit}</figure>\n  '


def _original(article) -> str:
    if not article.original_url or article.source_site:
        return ""
    return (
        f'<p class="original">이 글은 <a href="{_e(article.original_url)}" rel="noopener">원문</a>'
        "에 먼저 실렸습니다.</p>"
    )


def _tags(tags) -> str:
    if not tags:
        return ""
    links = "".join(f'<a href="{_e(tag.get_absolute_url())}">#{_e(tag.name)}</a> ' for tag in tags)
    return f'<p class="tag-list" aria-label="해시태그">{links}</p>'


def _series_nav(article, previous, following) -> str:
    back = (
        f'<a rel="prev" href="{_e(previous.get_absolute_url())}">← 이전 편: {_e(previous.title)}</a>'
        if previous
        else "<span></span>"
    )
    forward = (
        f'<a rel="next" href="{_e(following.get_absolute_url())}">다음 편: {_e(following.title)} →</a>'
        if following
        else ""
    )
    return (
        f'\n  <nav class="series-nav" aria-label="시리즈 {_e(article.series.title)}">\n'
        f"    {back}\n"
        f"    {forward}\n"
        "  </nav>\n  "
    )


def _company_card(company) -> str:
    one_liner = f"<p>{_e(company.one_liner)}</p>" if company.one_liner else ""
    location = f"<span>{_e(company.location)}</span>" if company.location else ""
    size = f"<span>{_e(company.size)}</span>" if company.size else ""
    hiring = (
        f'<p><a class="button" href="{_e(company.hiring_url)}" rel="noopener">'
        f"{_e(company.name)} 채용 중 · 지원하기</a></p>"
        if company.hiring_url
        else ""
    )
    return (
        '\n  <section class="company-card" aria-labelledby="company-title">\n'
        '    <h2 id="company-title" class="with-badge">'
        f"{logo_html(company, 'md', '48px', decorative=True)}"
        f'<a href="{_e(company.get_absolute_url())}">{_e(company.name)}</a></h2>\n'
        f"    {one_liner}\n"
        f'    <p class="company-facts">{location}{size}</p>\n'
        f"    {hiring}\n"
        "  </section>\n  "
    )


def _people(people, story_company) -> str:
    if not people:
        return ""
    items = []
    for person in people:
        role = _e(person.role) if person.role else ""
        team = f" · {_e(person.team)}" if person.team else ""
        elsewhere = (
            f" · {_e(person.company.name)}"
            if person.company and person.company != story_company
            else ""
        )
        badge = avatar_html(person, "md", "48px", decorative=True)
        items.append(
            '\n      <li class="with-badge">'
            f'{badge}<span><a href="{_e(person.get_absolute_url())}">{_e(person)}</a>\n'
            f'        <span class="person-role">{role}{team}{elsewhere}</span></span></li>\n    '
        )
    return (
        '\n  <section class="people" aria-labelledby="people-title">\n'
        '    <h2 id="people-title">이 스토리의 사람들</h2>\n'
        f"    <ul>{''.join(items)}</ul>\n"
        "  </section>\n  "
    )


def _related(related) -> str:
    if not related:
        return ""
    return (
        '\n<section class="section related" aria-labelledby="related-title">\n'
        '  <h2 id="related-title">함께 읽으면 좋은 스토리</h2>\n'
        f"  {grid_html(related)}\n"
        "</section>\n"
    )
