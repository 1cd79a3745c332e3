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
from django.utils.safestring import mark_safe

from articles.answers import rendering_under

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


@register.simple_tag(takes_context=True)
def story_card(context, story):
    popular_days = context.get("popular_days")
    version = rendering_under.get()
    if version is None:
        return draw(context, story, popular_days)
    count = story.recent_views if popular_days else story.view_count
    key = (version, story.pk, popular_days, count)
    html = cards.get(key)
    if html is None:
        html = draw(context, story, popular_days)
        cards.put(key, str(html))
    return mark_safe(html)  # the card template's own output, escaped there


def draw(context, story, popular_days):
    card = context.template.engine.get_template(CARD)
    with context.push(story=story, popular_days=popular_days):
        return card.render(context)
