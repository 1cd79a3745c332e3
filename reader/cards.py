"""{% story_card story %}: a story card's HTML, rendered once per content version and reused by
every list that shows the story (home, the kind lists, a company's, a tag's, related stories).

A card is kept only while an answer for readers is being rendered (articles/answers.py
rendering_under), filed under that answer's content version: any write (the story, its
company, a tag) and any scheduled moment moves the version on every host at once, so a kept
card never outlives what it shows, and a story that leaves the published set is simply no
longer in any list's query (the lists choose the stories; the cards only draw them). The
조회수 the card shows is part of the key. Staff renders, previews and renders without a
usable cache draw every card afresh.

The cards live in this process, in a cache bounded by the bytes of HTML it holds (least
recently used first out)."""

import threading
from collections import OrderedDict

from django import template
from django.db.models import QuerySet, prefetch_related_objects
from django.utils.safestring import mark_safe

from articles import answers
from articles.answers import rendering_under
from articles.models import RELATED_COUNT, Article, ViewTotal
from articles.models.querysets import card_tags

register = template.Library()
CARD = "includes/story_card.html"
# About 1.3 KB a card: some 6,000 cards, every card of a large site's first pages.
MAX_BYTES = 8 * 1024 * 1024


class BoundedCards:
    """Card HTML by key, at most `limit` bytes of it (strings counted as UTF-8 bytes)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self.entries: OrderedDict[tuple, tuple[str, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            self.entries.move_to_end(key)
            return entry[0]

    def put(self, key, html: str) -> None:
        cost = len(html.encode()) + 100  # the key and the bookkeeping
        if cost > self.limit:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self.entries[key] = (html, cost)
            self.size += cost
            while self.size > self.limit:
                _, (_, dropped) = self.entries.popitem(last=False)
                self.size -= dropped

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


cards = BoundedCards(MAX_BYTES)


class KeptCard:
    """A story in a list whose card was found kept: what {% story_card %} sends again."""

    __slots__ = ("html", "pk")

    def __init__(self, pk: int, html: str):
        self.pk, self.html = pk, html


def related_for_readers(article, tag_ids) -> list:
    """A story page's related stories (Article.objects.published().related_to()), for a page
    rendered for readers under a content version.

    A company's stories share their first pool (its newest stories), so its ids are kept per
    company and version: the next page of the same company asks no query for them. With the
    ids known, a story whose card is kept (by its 조회수, one query for all of them) is not
    loaded at all. The first page of a company pays what related_to() pays, never more."""
    published = Article.objects.published()
    version = rendering_under.get()
    if version is None or not article.company_id:
        return published.related_to(article, tag_ids, limit=RELATED_COUNT)
    store = answers.front()
    key = f"related-company:{version}:{article.company_id}"
    newest = store.get(key)
    if newest is None:
        newest = published.newest_of_company(article.company_id, RELATED_COUNT + 1)
        store.set(key, newest, answers.STORY_TIMEOUT)
        return published.related_to(article, tag_ids, RELATED_COUNT, company_newest=newest)
    chosen = published.related_ids(article, tag_ids, RELATED_COUNT, company_newest=newest)
    counts = dict(
        ViewTotal.objects.filter(article_id__in=chosen).values_list("article_id", "count")
    )
    kept = {}
    for pk in chosen:
        html = cards.get(_card_key(version, pk, None, counts.get(pk, 0)))
        if html is not None:
            kept[pk] = KeptCard(pk, html)
    loaded = {
        story.pk: story for story in published.cards_of([pk for pk in chosen if pk not in kept])
    }
    return [kept.get(pk) or loaded[pk] for pk in chosen if pk in kept or pk in loaded]


def drawable(stories, popular_days=None):
    """A list page's stories (a for_listing() queryset), read, with their hashtags loaded only
    for the stories whose card is not kept: a page whose cards are all kept reads no hashtag
    and makes no Tag. Anything else (a render that keeps no cards, a list already read) is
    given back as it is."""
    version = rendering_under.get()
    if version is None or not isinstance(stories, QuerySet):
        return stories
    joined = stories.query.select_related
    if not (isinstance(joined, dict) and "view_total" in joined):
        return stories  # not for_listing(): a card's key would cost a query per story
    rows = list(stories.prefetch_related(None))
    undrawn = [story for story in rows if cards.get(_key(version, story, popular_days)) is None]
    if undrawn:
        prefetch_related_objects(undrawn, card_tags())
    return rows


def _key(version, story, popular_days) -> tuple:
    count = story.recent_views if popular_days else story.view_count
    return _card_key(version, story.pk, popular_days, count)


def _card_key(version, pk, popular_days, count) -> tuple:
    """A kept card's key: the content version, the story, and the count it shows."""
    return (version, pk, popular_days, count)


@register.simple_tag(takes_context=True)
def story_card(context, story):
    if isinstance(story, KeptCard):
        return mark_safe(story.html)  # the card template's own output, escaped there
    popular_days = context.get("popular_days")
    version = rendering_under.get()
    if version is None:
        return draw(context, story, popular_days)
    key = _key(version, story, popular_days)
    html = cards.get(key)
    if html is None:
        html = draw(context, story, popular_days)
        cards.put(key, str(html))
    return mark_safe(html)  # the card template's own output, escaped there


def draw(context, story, popular_days):
    card = context.template.engine.get_template(CARD)
    with context.push(story=story, popular_days=popular_days):
        return card.render(context)
