"""Story cards drawn once and kept with their stories (articles/models/cards.py StoredCard), for
every worker and every host: `manage.py draw_cards` draws the published stories' cards that
are not stored, or whose stored card no longer shows what the story shows (store_cards()).

A story page reads the stored cards of its company's newest stories with its own row and uses
each that is current (reader/cards.py related_for_readers()); any other card is drawn in the
reader's process as before. So the command is never needed for a page to be right, only for
it to be cheap: run it after a deploy, an import or a seed, and every few minutes (a story
saved since, a company renamed, a new renditions record), as deploy/draw-cards.timer does."""

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation

from articles import clock
from articles.listing import card_tags_along, tags_by_story_of_along
from articles.models import Article, Shown, StoredCard
from articles.models.querysets import PUBLISHED_CARDS_SHOWN
from articles.prepared import read_along
from reader.cards import COUNT_MARK, drawn_where
from reader.markup import card_html, count_span, list_drawing

BATCH = 500


def unstored_ids(everything: bool = False) -> list[int]:
    """The published stories whose card is not stored as it would be drawn now (all of them
    with `everything`), by key."""
    stories = Article.objects.published().order_by("pk")
    if not everything:
        current = StoredCard.objects.filter(
            article=OuterRef("pk"), shown=OuterRef("shown"), context=drawn_where()
        )
        stories = stories.annotate(shown=Shown()).filter(~Exists(current))
    return list(stories.values_list("pk", flat=True))


def store_cards(ids) -> int:
    """Draw the cards of the published stories of `ids` and store them with what each shows
    (read in the same statement as what they are drawn from, so the two always agree); the
    number stored. A story no longer published is left out."""
    stories, (rows,) = read_along(
        PUBLISHED_CARDS_SHOWN, Article, [card_tags_along(ids)], ids=list(ids),
        now=clock.now_datetime(),
    )  # fmt: skip
    tags = tags_by_story_of_along(rows)
    where = drawn_where()
    made = list_drawing()
    drawn = []
    for story in stories:
        html = card_html(story, tags.get(story.pk, ()), None, **made)
        count = count_span(str(story.view_count))
        if html.count(count) != 1:
            continue  # never: the count is the card's only unescaped "<span>조회수"
        html = html.replace(count, count_span(COUNT_MARK))
        drawn.append(StoredCard(article_id=story.pk, shown=story.shown, context=where, html=html))
    with transaction.atomic():
        StoredCard.objects.bulk_create(
            drawn,
            update_conflicts=True,
            unique_fields=["article"],
            update_fields=["shown", "context", "html"],
        )
    return len(drawn)


def draw_all(everything: bool = False, batch: int = BATCH) -> tuple[int, int]:
    """Store the card of every published story that lacks a current one, in batches, as
    readers see it (the site's language and time zone); (stored, looked at)."""
    stored = 0
    with translation.override(settings.LANGUAGE_CODE), timezone.override(None):
        ids = unstored_ids(everything)
        for start in range(0, len(ids), batch):
            stored += store_cards(ids[start : start + batch])
    return stored, len(ids)
