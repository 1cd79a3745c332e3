"""스토리 홈's content (the featured story, the collections, the week's most read and each
kind's newest), written in Python: the `content` part of templates/reader/home.html's frame
(reader/frame.py, reader/views.py home).

The template engine spent about a millisecond of every home it rendered on the page around its
cards, kept or not (a tag call for each of some thirty cards, the loops, the conditions, the
inheritance). This writes the same HTML, byte for byte: each piece of literal text is the
template's, each value escaped as the engine escapes it (markup._e), and the cards, the cover
and the most read are the functions the tags call."""

from reader.cards import cards_html, grid_html
from reader.markup import _e, cover_html, kind_label, popular_items

FEATURED_COVER_SIZES = "(min-width: 72rem) 38rem, (min-width: 48rem) 55vw, 100vw"
EMPTY = '<p class="empty">아직 공개된 스토리가 없습니다. 편집실에서 첫 스토리를 발행해 보세요.</p>'


def home_content(featured, collections, popular, latest) -> str:
    """The content block of 스토리 홈 from the view's values (reader/views.py home)."""
    collected = "".join(_collection(collection) for collection in collections)
    newest = "".join(_latest(kind, stories) for kind, stories in latest)
    return (
        '\n<h1 class="visually-hidden">스토리 홈</h1>\n'
        f"{_featured(featured) if featured else ''}\n\n"
        f"{collected}\n\n"
        f"{_popular(popular) if popular else ''}\n\n"
        f"{newest}\n\n"
        f"{'' if featured else EMPTY}\n"
    )


def _featured(story) -> str:
    company = f" <span>{_e(story.company.name)}</span>" if story.company else ""
    return (
        '\n<section class="featured" aria-labelledby="featured-title">\n'
        f"  {cover_html(story, FEATURED_COVER_SIZES, eager=True)}\n"
        '  <div class="featured-text">\n'
        f'  <p class="card-meta"><span class="kind kind-{_e(story.kind)}">'
        f"{_e(kind_label(story))}</span>{company}</p>\n"
        f'  <h2 id="featured-title"><a href="{_e(story.get_absolute_url())}">'
        f"{_e(story.title)}</a></h2>\n"
        f"  <p>{_e(story.excerpt)}</p>\n"
        f'  <p class="card-foot"><span>조회수 {_e(story.view_count)}</span></p>\n'
        "  </div>\n"
        "</section>\n"
    )


def _collection(collection) -> str:
    key = _e(collection.pk)
    lead = (
        f'<p class="section-lead">{_e(collection.description)}</p>'
        if collection.description
        else ""
    )
    return (
        f'\n<section class="section" aria-labelledby="collection-{key}">\n'
        f'  <h2 id="collection-{key}"><a href="{_e(collection.get_absolute_url)}">'
        f"{_e(collection.title)}</a></h2>\n"
        f"  {lead}\n"
        '  <div class="grid">\n'
        f"    {cards_html(collection.visible)}\n"
        "  </div>\n"
        "</section>\n"
    )


def _popular(popular) -> str:
    return (
        '\n<section class="section" aria-labelledby="popular-title">\n'
        '  <h2 id="popular-title">이번 주 인기 스토리</h2>\n'
        '  <ol class="popular-list">\n'
        f"    {popular_items(popular)}\n"
        "  </ol>\n"
        "</section>\n"
    )


def _latest(kind, stories) -> str:
    value = _e(kind.value)
    return (
        f'\n<section class="section" aria-labelledby="latest-{value}">\n'
        f'  <h2 id="latest-{value}">최신 {_e(kind.label)}</h2>\n'
        f"  {grid_html(stories)}\n"
        "</section>\n"
    )
