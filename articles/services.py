"""The one door for story writes.

Every writer of a story (the admin's form and its actions, the API, the TheTeams import, a
revision restore, the demo seed) saves it through save_story(), which does every step a save
needs, in one transaction:

    validate (Article.clean() and the field and table rules) → save → set tags, people and
    authors → re-index search → record the revision → write the history line → move the
    content version, so that no kept answer shows the old story (articles/versions.py) →
    once committed, remove a cover it replaced and make the renditions of a new one
    (articles/uploads.py, articles/pictures.py)

and deletes through delete_stories(). So no caller has to remember a step, and no signal
receiver does one behind its back. What is changed outside this door (companies, people, tags,
series and collections, edited in the admin; view counts, counted by readers) is said where it
happens: articles/apps.py and reader/viewcount.py.
"""

from django.contrib.admin.models import ADDITION
from django.db import transaction

from articles import uploads, versions
from articles.models import Article, Person, Revision, Tag
from articles.pictures import make_renditions_on_commit
from articles.revisions import (
    FOREIGN_KEYS,
    KEPT_ON_RESTORE,
    SCALAR_FIELDS,
    ensure_baseline,
    log_change,
    publication_message,
    record_revision,
)
from articles.search import index_article

RELATIONS = ("tags", "people", "authors")


def save_story(
    article: Article,
    *,
    by,
    note: str = "",
    audit: str = "",
    via: str = "",
    fields=None,
    validate: bool = True,
    **relations,
) -> Revision:
    """Save `article` as `by` (a user, or None for the import and the demo seed) and return
    the revision it becomes.

    - `note`: the revision's note ("처음 저장", "복원: 3번에서").
    - the history line (LogEntry, what the admin's 히스토리 shows) says what happened to the
      story's publication ("발행", "예약 발행: …", "발행 취소") when it changed, else `audit`
      when given; `via` is added in brackets (which API token did it).
    - `fields`: save only these (an action that changed one or two fields).
    - `validate=False` when the caller has just run the same checks (the admin's ModelForm
      runs Article.full_clean()).
    - `tags`, `people`, `authors`: the story's new relations, each left alone when absent.
    """
    unknown = set(relations) - set(RELATIONS)
    if unknown:
        raise TypeError(f"save_story() got unknown relations: {sorted(unknown)}")
    created = article._state.adding
    with transaction.atomic():
        if validate:
            article.full_clean(exclude=_unsaved_fields(article, fields))
        if not created:
            ensure_baseline(article.pk)
        before = None if created else article.stored_publication
        pictures = uploads.stored_names(article, fields)
        article.save(update_fields=fields)
        uploads.discard_replaced(article, pictures)
        # The relations as set, so that the index and the revision need not read them back.
        related = {name: [] for name in RELATIONS} if created else {}
        for name, values in relations.items():
            if values is not None:
                related[name] = list(values)
                if name == "tags":  # in the given order (ArticleTag.position)
                    article.set_tags(related[name])
                else:
                    getattr(article, name).set(related[name])
        index_article(article, fields=None if relations else fields, related=related, new=created)
        revision = record_revision(article, by, note=note, related=related, first=created)
        line = publication_message(before, article) or audit
        if line:
            kind = {"action_flag": ADDITION} if created and line == audit else {}
            log_change(by, article, f"{line} ({via})" if via else line, **kind)
        # The save moved the story's own version, which its card is kept under.
        versions.bump(cards=False)
        make_renditions_on_commit(article)
    return revision


def delete_stories(stories) -> int:
    """Delete these stories (their search documents, revisions, preview links and day counts
    go with them) and drop the cached pages. Returns how many stories were deleted."""
    with transaction.atomic():
        doomed = Article.objects.filter(pk__in=[story.pk for story in stories])
        # Their covers go once the delete commits (articles/uploads.py).
        uploads.discard_on_commit(doomed.values_list("cover_image", flat=True))
        deleted = doomed.delete()[1]
        versions.bump(cards=False)  # no other story's card shows them
    return deleted.get(Article._meta.label, 0)


def restore_revision(revision: Revision, by) -> Revision:
    """Write the revision's content back to its story as a new revision ("복원: 3번에서").

    The publication state (status, times, featured) stays as it is now. References that no
    longer exist are skipped; a slug or series part now taken by another story is kept as
    it is now rather than failing the restore."""
    with transaction.atomic():
        article = Article.objects.select_for_update(no_key=True).get(pk=revision.article_id)
        data = revision.snapshot
        for name in SCALAR_FIELDS:
            if name in KEPT_ON_RESTORE or name not in data:
                continue
            value = data[name]
            if name in FOREIGN_KEYS:
                model = FOREIGN_KEYS[name]
                value = value if value and model.objects.filter(pk=value).exists() else None
                setattr(article, f"{name}_id", value)
            elif name == "cover_image":
                # A cover replaced since was removed from the storage: the story keeps its own.
                if not value or article.cover_image.storage.exists(value):
                    article.cover_image.name = value or ""
            elif name == "slug":
                if not Article.objects.filter(slug=value).exclude(pk=article.pk).exists():
                    article.slug = value
            else:
                setattr(article, name, value)
        if article.series_part is not None and (
            article.series_id is None or article.series_part_taken()
        ):
            article.series_part = None
        users = Article.authors.field.related_model.objects
        return save_story(
            article,
            by=by,
            note=f"복원: {revision.number}번에서",
            audit=f"{revision.number}번 버전으로 복원",
            tags=in_order(Tag, data.get("tags", [])),
            people=Person.objects.filter(pk__in=data.get("people", [])),
            authors=users.filter(pk__in=data.get("authors", [])),
        )


def in_order(model, pks: list) -> list:
    """The rows of `model` with these keys, in the order of `pks` (missing ones skipped)."""
    rows = model.objects.in_bulk(pks)
    return [rows[pk] for pk in pks if pk in rows]


def _unsaved_fields(article: Article, fields) -> set[str]:
    """With `fields`, only those are checked: the others are as the table has them."""
    if fields is None:
        return set()
    return {f.name for f in article._meta.concrete_fields} - set(fields)
