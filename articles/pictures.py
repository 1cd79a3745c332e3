"""When a picture's renditions (articles/renditions.py) are made, and where their record goes.

A cover, logo or photo gets its renditions right after the transaction that stored it
commits: a story's through the one door (articles/services.py save_story), a company's or a
person's through the receivers in articles/apps.py, all by make_renditions_on_commit(). Making them reads
the stored original, so it waits for the commit; it never fails the save that asked for it
(a picture that cannot be read is logged and shown without renditions until
`manage.py rebuild_renditions` makes them). Each record is written with an UPDATE that
matches the picture it was made from, so an edit that replaced the picture meanwhile keeps
its own, and the kept pages are dropped (articles/versions.py) so readers see the pictures.
"""

import logging
from dataclasses import dataclass
from functools import partial

from django.db import models, transaction

from articles import renditions, versions
from articles.models import Article, Company, Person

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Slot:
    """One model's picture: its file field, its record field and the widths it is made in."""

    model: type[models.Model]
    field: str
    record: str
    widths: tuple[int, ...]
    label: str  # what the command's report calls these pictures


SLOTS = (
    Slot(Article, "cover_image", "cover_renditions", renditions.COVER_WIDTHS, "커버"),
    Slot(Company, "logo", "logo_renditions", renditions.BADGE_WIDTHS, "로고"),
    Slot(Person, "photo", "photo_renditions", renditions.BADGE_WIDTHS, "사진"),
)
SLOT_OF = {slot.model: slot for slot in SLOTS}

# What refresh() did.
MADE, CLEARED, UNCHANGED, FAILED, GONE = "made", "cleared", "unchanged", "failed", "gone"


def is_stale(instance) -> bool:
    """Whether `instance`'s record is not of its current picture (a new picture, or a removed
    one that still has a record)."""
    slot = SLOT_OF[type(instance)]
    name = getattr(instance, slot.field).name or ""
    return (getattr(instance, slot.record) or {}).get("source", "") != name


def make_renditions_on_commit(instance) -> None:
    """Make `instance`'s renditions once the current transaction commits, if its picture
    changed. Every writer of a story, company or person calls this after saving."""
    if is_stale(instance):
        transaction.on_commit(partial(refresh, type(instance), instance.pk), robust=True)


def saved(sender, instance, raw=False, **kwargs):
    """post_save receiver for companies and people (articles/apps.py). A fixture being
    loaded (raw) brings its records along."""
    if not raw:
        make_renditions_on_commit(instance)


def refresh(model, pk, *, force=False) -> str:
    """Bring the record of row `pk` in line with its stored picture: make the renditions of
    a new picture, clear the record of a removed one; with `force`, make them again even when
    the record is current. Returns MADE, CLEARED, UNCHANGED, FAILED or GONE (no such row)."""
    slot = SLOT_OF[model]
    row = model.objects.filter(pk=pk).values(slot.field, slot.record).first()
    if row is None:
        return GONE
    name = row[slot.field] or ""
    record = row[slot.record] or {}
    if record.get("source", "") == name and not (force and name):
        return UNCHANGED
    outcome = MADE if name else CLEARED
    new_record = {}
    if name:
        try:
            new_record = renditions.make(name, slot.widths)
        except renditions.RenditionError as error:
            logger.warning("%s %s의 크기별 사본을 만들지 못했습니다: %s", slot.label, pk, error)
            outcome = FAILED
    # Only if the row still holds this picture: an edit meanwhile has its own to make.
    if model.objects.filter(pk=pk, **{slot.field: name}).update(**{slot.record: new_record}):
        versions.bump()
    return outcome


def share_image_url(article: Article) -> str | None:
    """The URL (as the storage gives it: prefix SITE_URL for an absolute one) of the story's
    best cover for a link preview: its largest rendition in the original's format, or the
    original while it has none; None for a story without a cover."""
    if not article.cover_image:
        return None
    url = renditions.largest_url(article.cover_renditions, article.cover_image.name)
    return url or article.cover_image.url
