"""A story card's HTML (cards_html()), rendered once for what it shows and reused by every
list that shows the story (home, the kind lists, a company's, a tag's, related stories,
search), across content changes: a save of another story leaves this card as it was.
grid_html() ({% story_grid stories %} in templates) lays a list's cards out.

A card is filed under everything it shows (card_key()): its story's own version (moved by
every save of the story, through the one door, articles/services.py), its cover's renditions
record (written after the save), its company's name and logo, its hashtags (read with the list,
one small query: with_card_tags()) and the 조회수 it shows. So no write anywhere can leave a
card showing old text, and a write elsewhere does not cost a card drawn again. Which stories a
list shows is the list's own query, asked under the content version (articles/versions.py);
the cards only draw them, so a story that leaves the published set leaves every list at once.

Within one content version a kept card is also found by its story and count alone
(version_key()): nothing a card shows changes without moving the version, so a list whose
cards were all drawn under the current version reads no hashtags. Across versions it is found
by its story, its story's own version and its count (story_key()), under the version's
`cards` (articles/versions.py): a count moved by every write that may change what a card
shows besides its story's own row (a company, a hashtag, a picture). A story page reads its
company's newest stories' versions with its row, so after another story's save its related
cards that are kept are still not loaded at all.

A story page's related cards may also come stored with their stories (articles/models/cards.py,
drawn by `manage.py draw_cards`: reader/stored_cards.py), read with the page's own row: a
card that shows what its story shows now and was drawn where cards are drawn now
(drawn_where()) is neither loaded nor drawn, in any process, its 조회수 filled in.

A card is kept only while an answer for readers is being rendered (articles/answers.py
rendering_under): staff renders and previews draw every card afresh. The cards live in this
process, in a cache bounded by the bytes it holds (least recently used first out)."""

import functools
import hashlib
from pathlib import Path

import django
from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, pgettext

from articles import clock, renditions
from articles.answers import cards_under, rendering_under
from articles.bounded import BoundedTexts
from articles.listing import (
    CardTag,
    card_tags_along,
    story_people_along,
    story_people_of_along,
    story_reads,
    tags_by_story_of_along,
    view_totals,
    with_card_tags,
)
from articles.models import RELATED_COUNT, Article
from articles.models import common as common_models
from articles.models import stories as story_models
from articles.models.cards import RECORD
from articles.models.common import url_context
from reader import markup
from reader.markup import card_html, card_links, list_drawing

register = template.Library()
# About 1.3 KB a card: some 6,000 cards, every card of a large site's first pages.
MAX_BYTES = 8 * 1024 * 1024
# What an entry costs beside its HTML: its key (the hashtags, the renditions records) and the
# bookkeeping.
KEY_BYTES = 400

cards = BoundedTexts(MAX_BYTES)
# The content versions some card was last drawn under: the latest 32 (each entry is counted
# as 100 bytes).
drawn_under = BoundedTexts(32 * 100)


def forget(**kwargs):
    """Drop every kept card. A setting can change what a card shows (MEDIA_URL, the storages,
    the time zone): under test settings the kept cards go with any change."""
    cards.clear()
    drawn_under.clear()
    _drawn_where.cache_clear()


# A stored card's 조회수 (articles/models/cards.py): written where the count goes, filled in
# when the card is read. No text a card shows can hold it: all of it is escaped ("<" is
# written "&lt;").
COUNT_MARK = "<count>"
# The code that draws a card (the markup, the pictures' URLs, the kinds' labels and a story's
# date, Django's escaping and cutting): a stored card drawn by other code is not used.
_CODE = hashlib.sha256(
    b"".join(
        Path(module.__file__).read_bytes()
        for module in (markup, renditions, common_models, story_models)
    )
    + django.get_version().encode()
).hexdigest()


def drawn_where() -> str:
    """Where a card is drawn now, as a stored card keeps it (StoredCard.context): the code
    that draws it and everything else its HTML depends on but the story (the media storage and
    its URL, the time zone, the language and its ellipsis, the URLs of stories and hashtags)."""
    return _drawn_where(timezone.get_current_timezone_name(), get_language(), url_context())


@functools.lru_cache(maxsize=16)
def _drawn_where(zone: str, language, urls) -> str:
    story_url, tag_url = card_links()
    ellipsis = pgettext("String to return when truncating text", "%(truncated_text)s…")
    default = settings.STORAGES.get("default", {})
    where = (_CODE, settings.MEDIA_URL, repr(default), zone, language, ellipsis)
    where += (story_url("slug", 1), tag_url("slug"))
    return hashlib.sha256(repr(where).encode()).hexdigest()[:32]


setting_changed.connect(forget)


def shown_tags(story) -> tuple:
    """The hashtags `story`'s card shows: read with its list, else the story's own."""
    tags = getattr(story, "card_tags", None)
    if tags is None:
        tags = tuple(CardTag(tag.pk, tag.name, tag.slug) for tag in story.ordered_tags())
    return tags


def card_key(story, tags, popular_days) -> tuple:
    """Everything a card shows, as the key it is kept under."""
    company = story.company
    return (
        story.pk,
        story.version,
        repr(story.cover_renditions),
        None
        if company is None
        else (company.pk, company.name, company.logo.name, repr(company.logo_renditions)),
        tags,
        popular_days,
        shown_count(story, popular_days),
    )


def version_key(version: str, pk: int, popular_days, count: int) -> tuple:
    """A kept card's second key, good for one content version: its story and its count."""
    return ("version", version, pk, popular_days, count)


def story_key(cards_version: int, pk: int, version: int, popular_days, count: int) -> tuple:
    """A kept card's third key, good while no write changes what cards show but their own
    stories (the content version's `cards`): its story, its story's version and its count."""
    return ("story", cards_version, pk, version, popular_days, count)


def shown_count(story, popular_days) -> int:
    return story.recent_views if popular_days else story.view_count


class KeptCard:
    """A story in a list whose card was found kept: what cards_html() sends again."""

    __slots__ = ("html", "pk")

    def __init__(self, pk: int, html: str):
        self.pk, self.html = pk, html


def published_story_for_readers(pk: int):
    """The story `pk` if it is published (Article.objects.published_story()), read with what
    its page shows besides its row in the same statement (articles/prepared.py read_along()):
    its hashtags (`card_tags`), its people (`story_people`), and its company's newest stories,
    the first pool of its related stories: their ids, 조회수 and versions, newest first
    (`company_newest`, related_for_readers())."""
    now = clock.now_datetime()
    newest, make_newest = Article.objects.newest_counts_along(pk, now, RELATED_COUNT)
    article, (tags, people, newest_rows) = Article.objects.published_story_with(
        pk, [card_tags_along([pk]), story_people_along(pk), newest], now
    )
    if article is not None:
        article.card_tags = tags_by_story_of_along(tags).get(pk, ())
        article.story_people = story_people_of_along(people)
        article.company_newest = make_newest(newest_rows)
    return article


def related_for_readers(article) -> list:
    """A story page's related stories (Article.objects.related_ids()) as cards.

    Read with its row (published_story_for_readers()), `article` has its hashtags, its people
    and its company's newest stories with their 조회수 and versions (`company_newest`): a kept
    card is found by its story, version and count (story_key()), or under this content
    version by its story and count, without loading the story, and the others are loaded by
    their keys with their hashtags (one statement, none when every card is kept). Only a
    company with too few stories to fill the list asks for more (the tags' and the kind's
    picks, and their counts).

    Otherwise (staff, previews: every card drawn afresh) the company's newest are loaded as
    cards, and `article` is given its own hashtags (`card_tags`) and people (`story_people`)
    with the related cards' hashtags (one statement: articles/listing.py story_reads())."""
    newest = getattr(article, "company_newest", None)
    if newest is None:
        loaded = {}
        if article.company_id:
            rows = Article.objects.newest_cards_of_company(article.company, RELATED_COUNT + 1)
            loaded = {story.pk: story for story in rows}
        chosen = Article.objects.related_ids(article, list(loaded), limit=RELATED_COUNT)
        tags, _ = story_reads(article, chosen)
        stories = [loaded[pk] for pk in chosen if pk in loaded]
        stories += Article.objects.published_cards([pk for pk in chosen if pk not in loaded])
        kept = {}
    else:
        counts = {pk: count for pk, count, _, _ in newest}
        chosen = Article.objects.related_ids(article, list(counts), limit=RELATED_COUNT)
        others = [pk for pk in chosen if pk not in counts]
        if others:
            counts.update(view_totals(others))
        version = rendering_under.get()
        kept = {}
        if version:
            kept = _found(version, ((pk, counts.get(pk, 0)) for pk in chosen))
            kept.update(_found_by_story(cards_under.get(), newest, chosen, kept))
        missing = [pk for pk in chosen if pk not in kept]
        if missing:
            kept.update(_stored(newest, missing, version, cards_under.get()))
            missing = [pk for pk in chosen if pk not in kept]
        # The company's own newest, the usual related cards, are loaded without their company.
        own = article.company if article.company_id and not others else None
        stories, (rows,) = Article.objects.published_cards_with(
            missing, [card_tags_along(missing)], company=own
        )
        tags = tags_by_story_of_along(rows)
    for story in stories:
        story.card_tags = tags.get(story.pk, ())
        if story.company_id is not None and story.company_id == article.company_id:
            # The page's own company (read with the story's row): its logo's <picture> is
            # made once for the page, not once a card.
            story.company = article.company
    return in_order(chosen, kept, {story.pk: story for story in stories})


def in_order(ids, kept: dict, loaded: dict) -> list:
    """The cards of `ids` in that order: each kept one, else the loaded story; an id found in
    neither (no longer published) is left out."""
    return [kept.get(pk) or loaded[pk] for pk in ids if pk in kept or pk in loaded]


def kept_cards(ids) -> dict:
    """{story id: KeptCard} of the stories of `ids` (chosen from the published ones by the
    render asking) whose card was drawn under this content version, found by story and 조회수
    (one query for the counts, asked only once some card was drawn under this version): those
    stories need not be loaded at all. Empty outside a render for readers."""
    version = rendering_under.get()
    if version is None or not ids or drawn_under.get(version) is None:
        return {}
    counts = view_totals(ids)
    return _found(version, ((pk, counts.get(pk, 0)) for pk in ids))


def _found_by_story(cards_version: int | None, newest, chosen, kept: dict) -> dict:
    """{story id: KeptCard} of the stories of `chosen` not in `kept` whose (id, 조회수, version)
    `newest` gives and whose card is kept under `cards_version` (story_key())."""
    if cards_version is None:
        return {}
    wanted = set(chosen).difference(kept)
    found = {}
    for pk, count, version, _ in newest:
        if pk in wanted:
            html = cards.get(story_key(cards_version, pk, version, None, count))
            if html is not None:
                found[pk] = KeptCard(pk, html)
    return found


def _stored(newest, wanted, version: str | None, cards_version: int | None) -> dict:
    """{story id: KeptCard} of the stories of `wanted` whose stored card `newest` gives (it
    shows what the story shows now: articles/models/cards.py) and was drawn where cards are
    drawn now (drawn_where()), its 조회수 filled in. Within a render for readers each is kept
    in this process as a drawn card is (under `version` and `cards_version`)."""
    found = {}
    where = None
    for pk, count, story_version, stored in newest:
        if stored is None or pk not in wanted:
            continue
        context, _, html = stored.partition(RECORD)
        where = where or drawn_where()
        if context != where:
            continue
        html = html.replace(COUNT_MARK, str(count))
        found[pk] = KeptCard(pk, html)
        if version:
            cards.put(version_key(version, pk, None, count), html)
            if cards_version is not None:
                cards.put(story_key(cards_version, pk, story_version, None, count), html)
            drawn_under.put(version, "")
    return found


def _found(version: str, shown) -> dict:
    """{story id: KeptCard} of the (story id, 조회수) of `shown` whose card is kept under
    `version`."""
    kept = {}
    for pk, count in shown:
        html = cards.get(version_key(version, pk, None, count))
        if html is not None:
            kept[pk] = KeptCard(pk, html)
    return kept


class DeferredList:
    """A list's queryset built (by `build`()) only when rows are read from it. A kind list's
    page whose ids come from a compiled query (drawable()'s `shown`), whose count is kept and
    whose cards are all kept never builds it: building the ORM query, its page's slice and
    the clone without prefetches cost a kind list miss about 0.7 ms of its 6. It answers what
    a Paginator asks of a list: count() and a slice (DeferredSlice)."""

    def __init__(self, model, build):
        self.model = model
        self.build = build

    @cached_property
    def queryset(self):
        return self.build()

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, key):
        return DeferredSlice(self, key)


class DeferredSlice:
    """A page of a DeferredList: the queryset's slice, made when asked for (resolve())."""

    def __init__(self, whole: DeferredList, key):
        self.whole, self.key, self.model = whole, key, whole.model

    def resolve(self):
        return self.whole.queryset[self.key]


def drawable(stories, popular_days=None, shown=None):
    """A list page's stories (a for_listing() queryset, or a DeferredSlice of one), read as
    cards. Once some card was drawn under this content version, the page's ids and counts are
    read first and only the stories whose card is not kept are loaded (a page whose cards are
    all kept loads no story and reads no hashtag); before that, the page is loaded whole. The
    hashtags of the cards to draw are read as plain values (with_card_tags()). Anything else
    (a list already read) is given back as it is. A 인기순 list (`popular_days`) is loaded
    whole: its cards show the count of the window, which the list's query sums. `shown`(),
    when given, reads the page's ids and counts in its stead (a compiled query of the same
    list), and a DeferredSlice is then never made into its queryset."""
    deferred = isinstance(stories, DeferredSlice)
    if not deferred and not isinstance(stories, QuerySet):
        return stories
    version = rendering_under.get()
    if popular_days is None and version is not None and drawn_under.get(version) is not None:
        if shown is not None:
            shown = shown()
        else:
            rows = without_prefetch(stories.resolve() if deferred else stories)
            shown = [(pk, count or 0) for pk, count in rows.values_list("pk", "view_total__count")]
        kept = _found(version, shown)
        ids = [pk for pk, _ in shown]
        # The others as cards, with their hashtags (card_rows() leaves out an id it lacks).
        loaded = stories.model.objects.card_rows([pk for pk in ids if pk not in kept])
        return in_order(ids, kept, {story.pk: story for story in with_card_tags(loaded)})
    rows = list(without_prefetch(stories.resolve() if deferred else stories))
    with_card_tags(undrawn(rows, popular_days))
    return rows


def without_prefetch(stories):
    """A queryset without its prefetches (the hashtags as Tags: cards read theirs as plain
    values); anything else as it is."""
    return stories.prefetch_related(None) if isinstance(stories, QuerySet) else stories


def undrawn(stories, popular_days=None) -> list:
    """The stories of `stories` whose card was not drawn under the current content version
    (all of them outside a render for readers)."""
    version = rendering_under.get()
    if version is None:
        return list(stories)
    return [
        story
        for story in stories
        if cards.get(version_key(version, story.pk, popular_days, shown_count(story, popular_days)))
        is None
    ]


@register.simple_tag(takes_context=True)
def story_grid(context, stories):
    return mark_safe(grid_html(stories, context.get("popular_days")))


def grid_html(stories, popular_days=None) -> str:
    """A grid of story cards (cards_html()), or the line that says there is none yet."""
    if not stories:
        return '\n<p class="empty">아직 공개된 스토리가 없습니다.</p>\n\n'
    return f'\n<div class="grid">\n  {cards_html(stories, popular_days)}\n</div>\n\n'


def cards_html(stories, popular_days=None) -> str:
    """The cards of `stories` one after the other, their links, the time zone and each
    company's line made once (`popular_days`: the window of 인기순 whose views they show, or
    None)."""
    made = list_drawing()
    return "".join(_card(story, popular_days, made) for story in stories)


def _card(story, popular_days, made) -> str:
    """A story's card, kept or drawn (`made`: list_drawing())."""
    if isinstance(story, KeptCard):
        return story.html  # card_html()'s output, escaped there
    version = rendering_under.get()
    if version is None:
        return card_html(story, shown_tags(story), popular_days, **made)
    count = shown_count(story, popular_days)
    quick = version_key(version, story.pk, popular_days, count)
    html = cards.get(quick)
    if html is None:
        tags = shown_tags(story)
        key = card_key(story, tags, popular_days)
        html = cards.get(key)
        if html is None:
            html = card_html(story, tags, popular_days, **made)
            cards.put(key, html, KEY_BYTES)
        cards.put(quick, html)
        cards_version = cards_under.get()
        if cards_version is not None:
            cards.put(story_key(cards_version, story.pk, story.version, popular_days, count), html)
        drawn_under.put(version, "")
    return html  # card_html()'s output, escaped there
