"""What lists show of a story besides its own row, read as plain values: its hashtags, the
people in it, its 조회수. Each is one written-out query for a whole list (the ORM took several
times as long to build such a query and to make its model instances as the database took to
answer it), shared by the reader's cards (reader/cards.py) and the API's lists."""

from typing import NamedTuple

from django.db import connections

from articles.models import Article, ArticleTag, Company, Person, SearchDocument, Tag, ViewTotal
from articles.models.common import url_of
from articles.prepared import Along


class CardTag(NamedTuple):
    """A hashtag as a list shows it (read as plain values, not as a Tag)."""

    pk: int
    name: str
    slug: str

    def get_absolute_url(self) -> str:
        return url_of(Tag.url_name, self.slug)


class CardPerson(NamedTuple):
    """A person in a story as a list shows them (read as plain values, not as a Person)."""

    pk: int
    name: str
    slug: str
    nickname: str
    role: str
    team: str


def _statement(model, sql: str, ids, extra=()) -> tuple[str, list, str]:
    """`sql` ready to run on `model`'s database, and its parameters and database: its tables
    named {table}, {links} and its columns by their own names, quoted here; each `{ids}` the
    placeholders of `ids`, `extra` the values of the placeholders after them."""
    connection = connections[model.objects.db]
    quote = connection.ops.quote_name
    params = list(ids) * sql.count("{ids}") + list(extra)
    sql = sql.format(
        ids=", ".join(["%s"] * len(ids)),
        tags=quote(Tag._meta.db_table),
        tag_links=quote(ArticleTag._meta.db_table),
        people=quote(Person._meta.db_table),
        companies=quote(Company._meta.db_table),
        people_links=quote(Article.people.through._meta.db_table),
        documents=quote(SearchDocument._meta.db_table),
        totals=quote(ViewTotal._meta.db_table),
        count=quote("count"),
    )
    return sql, params, connection.alias


_sources: dict[tuple[str, str], str] = {}


def _source(model, sql: str) -> str:
    """_statement()'s SQL of `sql`, which has no `{ids}`, made once per database."""
    key = (sql, model.objects.db)
    found = _sources.get(key)
    if found is None:
        found = _sources[key] = _statement(model, sql, ())[0]
    return found


def _rows(model, sql: str, ids, extra=()) -> list[tuple]:
    """The rows of `sql` (_statement())."""
    sql, params, alias = _statement(model, sql, ids, extra)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _grouped(rows, make) -> dict[int, tuple]:
    """{story id: the tuple of `make(*values)` of its rows (story id, *values), in order}."""
    found = {}
    for article_id, *values in rows:
        found.setdefault(article_id, []).append(make(*values))
    return {article_id: tuple(made) for article_id, made in found.items()}


def _attach(stories, of_stories, **defaults) -> list:
    """Give each of `stories` what `of_stories(ids)` gives for its id: one {story id: value}
    per attribute of `defaults`, in their order, each story given its value or the default."""
    stories = list(stories)
    found = of_stories([story.pk for story in stories]) if stories else [{}] * len(defaults)
    for story in stories:
        for (attribute, default), values in zip(defaults.items(), found, strict=True):
            setattr(story, attribute, values.get(story.pk, default))
    return stories


# The hashtags of the stories {ids}: link `l`, tag `t`.
TAG_LINKS = "FROM {tag_links} l JOIN {tags} t ON t.id = l.tag_id"
TAGS_OF = TAG_LINKS + " WHERE l.article_id IN ({ids})"


def card_tags_of(ids) -> dict[int, tuple[CardTag, ...]]:
    """{story id: its hashtags in its own order (CardTag)} for the stories of `ids` that have
    any, in one query."""
    if not ids:
        return {}
    sql = (
        f"SELECT l.article_id, t.id, t.name, t.slug {TAGS_OF} "
        "ORDER BY l.article_id, l.position, l.id"
    )
    return _grouped(_rows(ArticleTag, sql, ids), CardTag)


def _tags_and(
    ids, columns: list[str], source: str, extra=(), counts: bool = False
) -> tuple[dict, list[tuple], dict[int, int]]:
    """card_tags_of(ids) and the rows of another read in one statement (a UNION ALL of the two,
    each row marked by its part): one round trip instead of two. The other read selects
    `columns` (its story's id, a key, a name, then any others) from `source` (its FROM and
    WHERE, `{ids}` and `extra`'s placeholders in it); its rows come back as those columns,
    each story's by name (in the database's collation), then key. With `counts`, the stored
    조회수 of the stories of `ids` (view_totals()) are read in the same statement (else the
    third value is empty)."""
    article, key, name, *rest = columns
    width = max(1, len(rest))  # the hashtags' rows give their slug after the name
    tag_rest = ", ".join(["t.slug", *["NULL"] * (width - 1)])
    other_rest = ", ".join([*rest, *["NULL"] * (width - len(rest))])
    # After the other read's (PostgreSQL types a UNION's NULL columns from the branches before
    # them), with its own placeholders for `ids`, whose values follow `extra`'s.
    counted = ""
    if counts:
        nulls = ", ".join(["NULL"] * width)
        marks = ", ".join(["%s"] * len(ids))
        counted = (
            f"UNION ALL SELECT 2, article_id, NULL, NULL, {{count}}, NULL, {nulls} "
            f"FROM {{totals}} WHERE article_id IN ({marks}) "
        )
        extra = [*extra, *ids]
    sql = (
        f"SELECT 0, l.article_id, l.position, l.id, t.id, t.name, {tag_rest} {TAGS_OF} "
        f"UNION ALL SELECT 1, {article}, NULL, NULL, {key}, {name}, {other_rest} FROM {source} "
        f"{counted}"
        # A tag's place in its story; the other rows' name and key.
        "ORDER BY 1, 2, 3, 4, 6, 5"
    )
    tags, others, totals = [], [], {}
    for part, article_id, _, _, *values in _rows(ArticleTag, sql, ids, extra):
        if part == 0:
            tags.append((article_id, *values[:3]))
        elif part == 1:
            others.append((article_id, *values[: 2 + len(rest)]))
        else:
            totals[article_id] = values[0]
    return _grouped(tags, CardTag), others, totals


# A person in a story: who they are (CardPerson's columns), and what a story page shows more.
PERSON_COLUMNS = ["l.article_id", "p.id", "p.name", "p.slug", "p.nickname", "p.role", "p.team"]
PEOPLE_OF = "{people_links} l JOIN {people} p ON p.id = l.person_id"
# The Person fields of PERSON_COLUMNS after the story's id, and of the photo.
PERSON_FIELDS = ("id", "name", "slug", "nickname", "role", "team", "photo")


def card_tags_and_people_of(ids) -> tuple[dict[int, tuple], dict[int, tuple]]:
    """({story id: its hashtags in its own order (CardTag)}, {story id: the people in it by
    name (CardPerson)}) for the stories of `ids` that have any, in one statement."""
    if not ids:
        return {}, {}
    tags, people, _ = _tags_and(ids, PERSON_COLUMNS, PEOPLE_OF + " WHERE l.article_id IN ({ids})")
    return tags, _grouped(people, CardPerson)


def with_tags_and_people(stories) -> list:
    """`stories`, each given `card_tags`: its hashtags in its own order (CardTag), and
    `card_people`: the people in it by name (CardPerson), for all of them in one statement."""
    return _attach(stories, card_tags_and_people_of, card_tags=(), card_people=())


def story_reads(story, ids, *, counts: bool = False) -> tuple[dict[int, tuple], dict[int, int]]:
    """A story page's reads besides its row, in one statement: `story` given `card_tags` (its
    hashtags in its own order, CardTag) and `story_people` (the people in it by name, as
    Person with their company's name: what the page shows of them), and the hashtags of the
    stories of `ids` (its related cards'), with their stored 조회수 when `counts`:
    ({story id: hashtags}, {story id: 조회수, for those that have a count})."""
    tags, rows, totals = _tags_and(
        [story.pk, *ids],
        [*PERSON_COLUMNS, *STORY_PERSON_COLUMNS],
        STORY_PEOPLE_OF + " WHERE l.article_id = %s",
        extra=[story.pk],
        counts=counts,
    )
    story.card_tags = tags.get(story.pk, ())
    story.story_people = _story_people(row[1:] for row in rows)
    return tags, totals


# What a story page shows more of a person than a card: their photo and their company's name.
STORY_PERSON_COLUMNS = ["p.photo", "p.photo_renditions", "p.company_id", "c.name"]
STORY_PEOPLE_OF = PEOPLE_OF + " LEFT JOIN {companies} c ON c.id = p.company_id"


def _story_people(rows) -> list[Person]:
    """The people of a story page from rows of PERSON_COLUMNS (but the story's id) and
    STORY_PERSON_COLUMNS, as Person with their company's name."""
    renditions = Person._meta.get_field("photo_renditions")
    connection = connections[Person.objects.db]
    return [
        Person(
            **dict(zip(PERSON_FIELDS, values, strict=True)),
            photo_renditions=renditions.from_db_value(shown, None, connection),
            company=Company(id=company_id, name=company_name) if company_id else None,
        )
        for *values, shown, company_id, company_name in rows
    ]


def story_people_along(story_id: int) -> Along:
    """The people of a story page (story_reads()'s) as a read along the story's row
    (articles/prepared.py read_along()); in order by story_people_of_along()."""
    kinds = {"p.id": "int", "p.photo_renditions": "json", "p.company_id": "int"}
    columns = [*PERSON_COLUMNS[1:], *STORY_PERSON_COLUMNS]
    return Along(
        (
            ("ROW_NUMBER() OVER (ORDER BY p.name, p.id)", "int"),
            *((column, kinds.get(column, "text")) for column in columns),
        ),
        _source(Person, f"FROM {STORY_PEOPLE_OF} WHERE l.article_id = %s"),
        (story_id,),
    )


def story_people_of_along(rows) -> list[Person]:
    """The people of story_people_along()'s rows by name, then key."""
    return _story_people(row[1:] for row in sorted(rows, key=lambda row: row[0]))


# A hashtag read along another query's rows (articles/prepared.py read_along()): its story,
# its place and link there, and the tag's key, name and slug.
TAG_ALONG = (
    ("l.article_id", "int"),
    ("l.position", "int"),
    ("l.id", "int"),
    ("t.id", "int"),
    ("t.name", "text"),
    ("t.slug", "text"),
)
# A person in a story read along another query's rows: the story, the person's place in it by
# name (in the database's collation), then key, and CardPerson's columns.
PERSON_ALONG = (
    ("l.article_id", "int"),
    ("ROW_NUMBER() OVER (PARTITION BY l.article_id ORDER BY p.name, p.id)", "int"),
    *((column, "int" if column == "p.id" else "text") for column in PERSON_COLUMNS[1:]),
)


def _stories(column: str, ids=None) -> tuple[str, tuple]:
    """Where `column` is one of the stories of `ids`, or with None of the stories the query
    read along selects (its rows `own`, their ids named "pk"), and the values it takes."""
    if ids is None:
        return f"{column} IN (SELECT own.pk FROM own)", ()
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", tuple(ids)


def card_tags_along(ids=None) -> Along:
    """The hashtags of the stories of `ids` (None: of the query's own, _stories()) as a read
    along another query's rows (read_along()); by story, in each story's order, by
    tags_by_story_of_along()."""
    where, params = _stories("l.article_id", ids)
    return Along(TAG_ALONG, f"{_source(ArticleTag, TAG_LINKS)} WHERE {where}", params)


def card_people_along(ids=None) -> Along:
    """The people in the stories of `ids` (None: the query's own, _stories()) as a read along
    another query's rows (read_along()); by story, in order, by people_by_story_of_along()."""
    where, params = _stories("l.article_id", ids)
    return Along(PERSON_ALONG, f"{_source(Person, f'FROM {PEOPLE_OF}')} WHERE {where}", params)


def texts_along(words: tuple[str, ...] = (), head: int = 0) -> Along:
    """The search texts (the plain text search results are cut from) of the stories the query
    read along selects (_stories()): (story, text) rows. On PostgreSQL with `words`, (story,
    text, the text's length) rows, and a text that holds none of them is read only as far as
    its first `head` characters: words a snippet cuts around when it finds one
    (articles/search.py snippet_words()), so from such a text it needs only its start and its
    length. Each word is looked for as written. SQLite reads the texts in this process, where
    looking for the words and measuring cost more than reading a text whole."""
    where, _ = _stories("d.article_id")
    source = f"{_source(SearchDocument, 'FROM {documents} d')} WHERE {where}"
    if not words or connections[SearchDocument.objects.db].vendor != "postgresql":
        return Along((("d.article_id", "int"), ("d.text", "text")), source)
    held = " OR ".join(["STRPOS(d.text, %s) > 0"] * len(words))
    text = f"CASE WHEN {held} THEN d.text ELSE SUBSTR(d.text, 1, {int(head)}) END"
    columns = (("d.article_id", "int"), (text, "text"), ("LENGTH(d.text)", "int"))
    return Along(columns, source, tuple(words))


def people_by_story_of_along(rows) -> dict[int, tuple[CardPerson, ...]]:
    """{story id: the people in it by name, then key} of card_people_along()'s rows."""
    ordered = sorted(rows, key=lambda row: row[:2])
    return _grouped(((row[0], *row[2:]) for row in ordered), CardPerson)


def tags_by_story_of_along(rows) -> dict[int, tuple[CardTag, ...]]:
    """{story id: its hashtags in its own order} of card_tags_along()'s rows."""
    return _grouped(((row[0], *row[3:]) for row in sorted(rows)), CardTag)


def card_tags_and_texts_of(ids) -> tuple[dict[int, tuple], dict[int, str]]:
    """({story id: its hashtags in its own order (CardTag)}, {story id: its search text (the
    plain text search results are cut from)}) for the stories of `ids` that have any, in one
    statement: a search results page's."""
    if not ids:
        return {}, {}
    tags, texts, _ = _tags_and(
        ids, ["d.article_id", "NULL", "d.text"], "{documents} d WHERE d.article_id IN ({ids})"
    )
    return tags, {article_id: text for article_id, _, text in texts}


def with_card_tags_and_texts(stories) -> list:
    """`stories`, each given `card_tags` (with_card_tags()) and `search_text`: its search
    document's plain text ("" without one), for all of them in one statement."""
    return _attach(stories, card_tags_and_texts_of, card_tags=(), search_text="")


def with_card_tags(stories) -> list:
    """`stories`, each given `card_tags`: its hashtags in its own order (CardTag), for all of
    them in one query."""
    return _attach(stories, lambda ids: (card_tags_of(ids),), card_tags=())


def view_totals(ids) -> dict[int, int]:
    """{story id: its stored 조회수} of the stories of `ids` that have a ViewTotal row, in one
    query."""
    if not ids:
        return {}
    sql = "SELECT article_id, {count} FROM {totals} WHERE article_id IN ({ids})"
    return dict(_rows(ViewTotal, sql, ids))
