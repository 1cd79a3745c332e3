"""What lists show of a story besides its own row, read as plain values: its hashtags, the
people in it, its 조회수. Each is one written-out query for a whole list (the ORM took several
times as long to build such a query and to make its model instances as the database took to
answer it), shared by the reader's cards (reader/cards.py) and the API's lists."""

from typing import NamedTuple

from django.db import connections

from articles.models import Article, ArticleTag, Company, Person, SearchDocument, Tag, ViewTotal
from articles.models.common import url_of


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


def _rows(model, sql: str, ids, extra=()) -> list[tuple]:
    """The rows of `sql` (its tables named {table}, {links} and its columns by their own names,
    quoted here; each `{ids}` the placeholders of `ids`, `extra` the values of the
    placeholders after them), on `model`'s database."""
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
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _grouped(rows, make) -> dict[int, tuple]:
    """{story id: the tuple of `make(*values)` of its rows (story id, *values), in order}."""
    found = {}
    for article_id, *values in rows:
        found.setdefault(article_id, []).append(make(*values))
    return {article_id: tuple(made) for article_id, made in found.items()}


def _attach(stories, attribute: str, of_stories) -> list:
    """Give each of `stories` what `of_stories(ids)` gives for its id (an empty tuple when
    nothing)."""
    stories = list(stories)
    found = of_stories([story.pk for story in stories]) if stories else {}
    for story in stories:
        setattr(story, attribute, found.get(story.pk, ()))
    return stories


def card_tags_of(ids) -> dict[int, tuple[CardTag, ...]]:
    """{story id: its hashtags in its own order (CardTag)} for the stories of `ids` that have
    any, in one query."""
    if not ids:
        return {}
    sql = (
        "SELECT l.article_id, t.id, t.name, t.slug FROM {tag_links} l "
        "JOIN {tags} t ON t.id = l.tag_id WHERE l.article_id IN ({ids}) "
        "ORDER BY l.article_id, l.position, l.id"
    )
    return _grouped(_rows(ArticleTag, sql, ids), CardTag)


def card_tags_and_people_of(ids) -> tuple[dict[int, tuple], dict[int, tuple]]:
    """({story id: its hashtags in its own order (CardTag)}, {story id: the people in it by
    name (CardPerson)}) for the stories of `ids` that have any, in one statement (a UNION ALL
    of the two reads, each row marked by its part): one round trip instead of two."""
    if not ids:
        return {}, {}
    sql = (
        "SELECT 0, l.article_id, l.position, l.id, t.id, t.name, t.slug, NULL, NULL, NULL "
        "FROM {tag_links} l JOIN {tags} t ON t.id = l.tag_id WHERE l.article_id IN ({ids}) "
        "UNION ALL "
        "SELECT 1, l.article_id, NULL, NULL, p.id, p.name, p.slug, p.nickname, p.role, p.team "
        "FROM {people_links} l JOIN {people} p ON p.id = l.person_id "
        "WHERE l.article_id IN ({ids}) "
        # A tag's place in its story, a person's name (in the database's collation) and key.
        "ORDER BY 1, 2, 3, 4, 6, 5"
    )
    tags, people = [], []
    for part, article_id, _, _, pk, name, slug, nickname, role, team in _rows(ArticleTag, sql, ids):
        if part == 0:
            tags.append((article_id, pk, name, slug))
        else:
            people.append((article_id, pk, name, slug, nickname, role, team))
    return _grouped(tags, CardTag), _grouped(people, CardPerson)


def with_tags_and_people(stories) -> list:
    """`stories`, each given `card_tags`: its hashtags in its own order (CardTag), and
    `card_people`: the people in it by name (CardPerson), for all of them in one statement."""
    stories = list(stories)
    tags, people = card_tags_and_people_of([story.pk for story in stories]) if stories else ({}, {})
    for story in stories:
        story.card_tags = tags.get(story.pk, ())
        story.card_people = people.get(story.pk, ())
    return stories


def with_card_tags_and_people(stories, story) -> list:
    """`stories`, each given `card_tags` (with_card_tags()), and `story` (one of them) given
    `story_people`: the people in it by name, as Person with their company's name (what a
    story page shows of them), for all of them in one statement (a UNION ALL of the two
    reads): a story page's own hashtags, its related cards' and its people."""
    stories = list(stories)
    sql = (
        "SELECT 0, l.article_id, l.position, l.id, t.id, t.name, t.slug, "
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL "
        "FROM {tag_links} l JOIN {tags} t ON t.id = l.tag_id WHERE l.article_id IN ({ids}) "
        "UNION ALL "
        "SELECT 1, l.article_id, NULL, NULL, p.id, p.name, p.slug, p.nickname, p.role, p.team, "
        "p.photo, p.photo_renditions, p.company_id, c.name "
        "FROM {people_links} l JOIN {people} p ON p.id = l.person_id "
        "LEFT JOIN {companies} c ON c.id = p.company_id WHERE l.article_id = %s "
        # A tag's place in its story; a person's name (in the database's collation) and key.
        "ORDER BY 1, 2, 3, 4, 6, 5"
    )
    renditions = Person._meta.get_field("photo_renditions")
    connection = connections[Person.objects.db]
    tags, people = [], []
    for row in _rows(ArticleTag, sql, [item.pk for item in stories], extra=[story.pk]):
        part, article_id, _, _, pk, name, slug, nickname, role, team, *more = row
        if part == 0:
            tags.append((article_id, pk, name, slug))
            continue
        photo, photo_renditions, company_id, company_name = more
        people.append(
            Person(
                id=pk,
                name=name,
                slug=slug,
                nickname=nickname,
                role=role,
                team=team,
                photo=photo,
                photo_renditions=renditions.from_db_value(photo_renditions, None, connection),
                company=Company(id=company_id, name=company_name) if company_id else None,
            )
        )
    found = _grouped(tags, CardTag)
    for item in stories:
        item.card_tags = found.get(item.pk, ())
    story.story_people = people
    return stories


def card_tags_and_texts_of(ids) -> tuple[dict[int, tuple], dict[int, str]]:
    """({story id: its hashtags in its own order (CardTag)}, {story id: its search text (the
    plain text search results are cut from)}) for the stories of `ids` that have any, in one
    statement (a UNION ALL of the two reads): a search results page's."""
    if not ids:
        return {}, {}
    sql = (
        "SELECT 0, l.article_id, l.position, l.id, t.id, t.name, t.slug "
        "FROM {tag_links} l JOIN {tags} t ON t.id = l.tag_id WHERE l.article_id IN ({ids}) "
        "UNION ALL "
        "SELECT 1, d.article_id, NULL, NULL, NULL, d.text, NULL "
        "FROM {documents} d WHERE d.article_id IN ({ids}) "
        "ORDER BY 1, 2, 3, 4"
    )
    tags, texts = [], {}
    for part, article_id, _, _, pk, name, slug in _rows(ArticleTag, sql, ids):
        if part == 0:
            tags.append((article_id, pk, name, slug))
        else:
            texts[article_id] = name
    return _grouped(tags, CardTag), texts


def with_card_tags_and_texts(stories) -> list:
    """`stories`, each given `card_tags` (with_card_tags()) and `search_text`: its search
    document's plain text ("" without one), for all of them in one statement."""
    stories = list(stories)
    tags, texts = card_tags_and_texts_of([story.pk for story in stories]) if stories else ({}, {})
    for story in stories:
        story.card_tags = tags.get(story.pk, ())
        story.search_text = texts.get(story.pk, "")
    return stories


def with_card_tags(stories) -> list:
    """`stories`, each given `card_tags`: its hashtags in its own order (CardTag), for all of
    them in one query."""
    return _attach(stories, "card_tags", card_tags_of)


def view_totals(ids) -> dict[int, int]:
    """{story id: its stored 조회수} of the stories of `ids` that have a ViewTotal row, in one
    query."""
    if not ids:
        return {}
    sql = "SELECT article_id, {count} FROM {totals} WHERE article_id IN ({ids})"
    return dict(_rows(ViewTotal, sql, ids))
