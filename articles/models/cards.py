"""Story cards kept with their stories: drawn once for every worker and every host.

A reader's process keeps the cards it draws (reader/cards.py), but a process meets most
stories' cards for the first time: at 100,000 stories a story page's related cards were
loaded and drawn on most misses. A StoredCard row holds a story's card as drawn by
`manage.py draw_cards` (reader/), with its 조회수 left as a mark that the reader fills in.

A stored card is used only while it shows what the story would show now. With its HTML it
keeps `shown`: everything the card shows but the count (the story's version, which every save
through the door moves, and its cover's renditions record; its company's name, slug, logo and
logo record; its hashtags in order), written by the database itself with shown_sql() in the
same statement that read what the card was drawn from. A reader's statement compares it with
the same expression over the rows as they are now, so a story saved, a company renamed, a
hashtag renamed or taken off, a new renditions record leave the stored card unused until it
is drawn again: never a stale card, only a card drawn in process as before. `context` says
where it was drawn (reader/cards.py drawn_where(): the code that draws it, the media URLs,
the time zone, the language, the URLs); a card drawn elsewhere is not used.
"""

from django.db import models

from articles.models.entities import Company, Tag
from articles.models.ordered import ArticleTag

__all__ = ["Shown", "StoredCard", "StoredHtml", "shown_sql"]

# Between the values shown_sql() writes, and between the hashtags: characters no name, slug or
# record holds (the unit and record separators of ASCII).
UNIT, RECORD = "\x1f", "\x1e"


class StoredCard(models.Model):
    """A story's card as drawn by `manage.py draw_cards`, kept while what it shows is current
    (see the module)."""

    article = models.OneToOneField(
        "articles.Article",
        verbose_name="스토리",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="stored_card",
    )
    shown = models.TextField("보여 주는 것")
    context = models.CharField("그린 곳", max_length=64)
    html = models.TextField("HTML")

    class Meta:
        # Written by draw_cards only: no permissions to grant.
        default_permissions = ()
        verbose_name = "저장된 카드"
        verbose_name_plural = "저장된 카드"

    def __str__(self):
        return f"{self.article_id}"


def shown_sql(connection, story: str) -> str:
    """SQL for what the card of the story whose row is `story` (a table or an alias in the
    statement, with the story table's columns) shows but its count, as one text: the story's
    version and cover renditions, its company's name, slug, logo and logo renditions, and its
    hashtags in order. NULL and '' are told apart; every value is written the same way on
    every connection (JSON as the database stores it)."""
    postgres = connection.vendor == "postgresql"
    quote = connection.ops.quote_name
    # The story model, named by the card's key (its module reads these expressions).
    article = StoredCard._meta.get_field("article").related_model

    def text(expression: str) -> str:
        return f"({expression})::text" if postgres else f"CAST({expression} AS TEXT)"

    def value(expression: str) -> str:
        # A present value is written after a 'v', NULL as 'n'.
        return f"COALESCE('v' || {text(expression)}, 'n')"

    def column(model, name: str) -> str:
        return model._meta.get_field(name).column

    # Of the story's own row, its version (moved by every save through the door, which
    # rewrites the rest: reader/cards.py files a kept card the same way) and the record of
    # its cover's renditions (written after the save, on its own).
    parts = [
        value(f"{story}.{quote(column(article, 'version'))}"),
        value(f"{story}.{quote(column(article, 'cover_renditions'))}"),
    ]
    company = f" || '{UNIT}' || ".join(
        value(f"c.{quote(column(Company, name))}")
        for name in ("name", "slug", "logo", "logo_renditions")
    )
    parts.append(
        value(
            f"(SELECT {company} FROM {quote(Company._meta.db_table)} c "
            f"WHERE c.id = {story}.{quote(column(article, 'company'))})"
        )
    )
    links, tags = quote(ArticleTag._meta.db_table), quote(Tag._meta.db_table)
    article_id = quote(column(ArticleTag, "article"))
    tag_id = quote(column(ArticleTag, "tag"))
    one = (
        f"{text('t.id')} || '{UNIT}' || t.{quote(column(Tag, 'name'))} || '{UNIT}' || "
        f"t.{quote(column(Tag, 'slug'))}"
    )
    where = f"FROM {links} l JOIN {tags} t ON t.id = l.{tag_id} WHERE l.{article_id} = {story}.id"
    if postgres:
        hashtags = f"(SELECT string_agg({one}, '{RECORD}' ORDER BY l.position, l.id) {where})"
    else:
        # SQLite 3.40 has no ORDER BY within an aggregate: it concatenates an ordered
        # subquery's rows in their order. Were it ever not to, the text would differ from the
        # one stored and the card would be drawn in process: never a wrong card.
        hashtags = (
            f"(SELECT group_concat(one, '{RECORD}') FROM "
            f"(SELECT {one} AS one {where} ORDER BY l.position, l.id))"
        )
    parts.append(value(hashtags))
    return f" || '{UNIT}' || ".join(parts)


class _OfTheRow(models.Func):
    """An expression over the query's story row: named through its key (a column, so the
    query names the row's table however it aliases it)."""

    output_field = models.TextField()

    def __init__(self):
        super().__init__(models.F("pk"))

    def as_sql(self, compiler, connection, **extra):
        story = compiler.quote_name_unless_alias(self.source_expressions[0].alias)
        return self.sql(connection, story), []


class Shown(_OfTheRow):
    """What the row's card shows now (shown_sql())."""

    def sql(self, connection, story: str) -> str:
        return f"({shown_sql(connection, story)})"


class StoredHtml(_OfTheRow):
    """The row's stored card while it shows what the row shows now: its context, RECORD,
    then its HTML; else NULL."""

    def sql(self, connection, story: str) -> str:
        quote = connection.ops.quote_name
        return (
            f"(SELECT s.{quote('context')} || '{RECORD}' || s.{quote('html')} "
            f"FROM {quote(StoredCard._meta.db_table)} s "
            f"WHERE s.{quote('article_id')} = {story}.id "
            f"AND s.{quote('shown')} = ({shown_sql(connection, story)}))"
        )
