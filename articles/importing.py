"""Bring a TheTeams (더팀스) story-hub page dump into the hub: stories, companies, tags and the
page's curated section as a collection.

Used by `manage.py import_theteams` and by the admin's upload page. One transaction: a dump
either imports whole or writes nothing. Importing the same page again finds each story by its
source key (the page's title), updates what changed and says which stories were created,
updated or left unchanged; a dry run does all of that and rolls back.

What an imported story shows: its hashtags in the order the page lists them (re-importing a
story whose tags were reordered puts them back), its kind as the parser infers it
(articles/theteams/inference.py), a source line ("더팀스에서 가져온 글" and the company) and, as
the dump carries no dates, "날짜 미상" instead of a date (articles/models/provenance.py). Its
published_at is the import time, which only decides visibility and list order: imported
stories sort by their import, earlier stories of the page slightly later, so the page's order
is kept.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from articles import versions
from articles.models import Article, Collection, CollectionItem, Company, Status, Tag, ViewTotal
from articles.models.text import check_visible_text
from articles.services import save_story
from articles.theteams import DumpError, ParsedStory, parse_dump

SOURCE_PREFIX = "theteams:"

IMPORT_NOTE, REIMPORT_NOTE = "더팀스에서 가져옴", "더팀스에서 다시 가져옴"

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
ACTION_LABELS = {CREATED: "새로 만듦", UPDATED: "고침", UNCHANGED: "그대로"}

FOOTNOTE_DEFINITION = re.compile(r"\[\^\w+\]:")
TITLE_MAX_LENGTH = Article._meta.get_field("title").max_length


@dataclass
class StoryOutcome:
    action: str
    article: Article
    parsed: ParsedStory
    changed: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return ACTION_LABELS[self.action]

    @property
    def paragraphs(self) -> int:
        return sum(1 for block in self._blocks if not block.startswith((">", "#", "[^")))

    @property
    def quotes(self) -> int:
        return sum(1 for block in self._blocks if block.startswith(">"))

    @property
    def footnotes(self) -> int:
        return sum(1 for block in self._blocks if FOOTNOTE_DEFINITION.match(block))

    @property
    def _blocks(self) -> list[str]:
        return [b.strip() for b in self.parsed.body_markdown.split("\n\n") if b.strip()]


@dataclass
class ImportReport:
    dry_run: bool
    collection: Collection | None
    collection_action: str | None
    stories: list[StoryOutcome]

    def count(self, action: str) -> int:
        return sum(1 for outcome in self.stories if outcome.action == action)

    @property
    def totals(self) -> str:
        return ", ".join(
            f"{ACTION_LABELS[a]} {self.count(a)}" for a in (CREATED, UPDATED, UNCHANGED)
        )


def import_dump(
    data: bytes | str,
    *,
    kind: str | None = None,
    status: str = Status.PUBLISHED,
    dry_run: bool = False,
    by=None,
) -> ImportReport:
    """Import a page dump as `by` (the editor who uploaded it, or None from the command line).
    Raises DumpError (naming the line) before writing anything."""
    page = parse_dump(
        data, known_companies=Company.objects.values_list("name", flat=True), kind=kind
    )
    for story in page.stories:
        if len(story.title) > TITLE_MAX_LENGTH:
            raise DumpError(
                story.line + 2,
                f"제목이 {len(story.title)}자로 너무 깁니다({TITLE_MAX_LENGTH}자까지).",
            )

    with versions.batch():  # one transaction, one publish of the content version
        now = timezone.now()
        outcomes = [
            # Earlier stories on the page get slightly later times, so "recent" keeps page order.
            # The time is when the story went up here, never shown as its date (provenance.py).
            _import_story(story, now - timedelta(seconds=index), kind=kind, status=status, by=by)
            for index, story in enumerate(page.stories)
        ]
        collection, collection_action = (None, None)
        if page.section_title:
            collection, collection_action = _import_collection(
                page.section_title[: Collection._meta.get_field("title").max_length],
                [outcome.article for outcome in outcomes],
            )
        if dry_run:
            transaction.set_rollback(True)
    return ImportReport(dry_run, collection, collection_action, outcomes)


def _import_story(parsed: ParsedStory, published_at, *, kind: str | None, status: str, by):
    _check_names(parsed)
    company = _company(parsed.company_name)
    tags = [Tag.objects.get_or_create(name=name[:60])[0] for name in parsed.tags]
    source_key = SOURCE_PREFIX + parsed.title
    article = Article.objects.filter(source_key=source_key).first()

    if article is None:
        article = Article(
            source_key=source_key,
            title=parsed.title,
            kind=parsed.kind,
            body=parsed.body_markdown,
            excerpt=parsed.excerpt,
            company=company,
            status=status,
            published_at=published_at if status == Status.PUBLISHED else None,
        )
        _save(article, parsed, by=by, note=IMPORT_NOTE, tags=tags)
        article.view_total = ViewTotal.objects.raise_to(article.pk, parsed.view_count)
        return StoryOutcome(CREATED, article, parsed)

    wanted = {"title": parsed.title, "body": parsed.body_markdown, "company": company}
    # The kind an editor chose survives a re-import unless the import names one; a kind the
    # last import gave and nobody changed follows what the parser infers now.
    if kind is not None:
        wanted["kind"] = kind
    elif parsed.kind != article.kind and _kind_from_the_last_import(article):
        wanted["kind"] = parsed.kind
    changed = [name for name, value in wanted.items() if getattr(article, name) != value]
    for name in changed:
        setattr(article, name, wanted[name])
    # The page's count is where counting started; views counted here since are never lost,
    # and a count is never added twice.
    if parsed.view_count > article.view_count:
        article.view_total = ViewTotal.objects.raise_to(article.pk, parsed.view_count)
        changed.append("view_count")
    # The author's order counts: the same tags in another order are a change.
    new_tags = [tag.pk for tag in tags] != [tag.pk for tag in article.ordered_tags()]
    # The count is not the story's content: it alone makes no new revision.
    edited = [name for name in changed if name != "view_count"]
    if edited or new_tags:
        fields = [*edited, "body_html", "reading_minutes", "excerpt"] if edited else []
        relations = {"tags": tags} if new_tags else {}
        _save(article, parsed, by=by, note=REIMPORT_NOTE, fields=fields, **relations)
    if new_tags:
        changed.append("tags")
    return StoryOutcome(UPDATED if changed else UNCHANGED, article, parsed, changed)


def _kind_from_the_last_import(article: Article) -> bool:
    """Is the story's kind the one its last import gave it (no editor has chosen another)?"""
    last = (
        article.revisions.filter(note__in=[IMPORT_NOTE, REIMPORT_NOTE]).order_by("-number").first()
    )
    return last is not None and last.snapshot.get("kind") == article.kind


def _save(article: Article, parsed: ParsedStory, **options) -> None:
    """Through the one door; a story the rules refuse (a body over the length limit) stops
    the import, naming the story's line in the dump."""
    try:
        save_story(article, **options)
    except ValidationError as error:
        messages = "; ".join(message for message in error.messages)
        raise DumpError(
            parsed.line + 2, f"‘{parsed.title}’을(를) 저장할 수 없습니다: {messages}"
        ) from None


def _check_names(parsed: ParsedStory) -> None:
    """The company's and the tags' names meet the models' rule before a row is made from
    them (the story's title is checked with the story, by save_story)."""
    names = [("회사 이름", parsed.company_name or "")]
    names += [("해시태그", name) for name in parsed.tags]
    for label, name in names:
        try:
            check_visible_text(name)
        except ValidationError as error:
            raise DumpError(
                parsed.line + 2,
                f"‘{parsed.title}’의 {label}을(를) 쓸 수 없습니다: {error.messages[0]}",
            ) from None


def _company(name: str | None) -> Company | None:
    if not name:
        return None
    company = Company.objects.filter(name=name).first()
    return company or Company.objects.create(name=name)


def _import_collection(title: str, articles: list[Article]):
    collection = Collection.objects.filter(title=title).first()
    action = UNCHANGED
    if collection is None:
        collection = Collection.objects.create(title=title)
        action = CREATED
    if CollectionItem.objects.place(collection, articles) and action == UNCHANGED:
        action = UPDATED
    return collection, action
