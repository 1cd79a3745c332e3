"""Korean-aware story search on SQLite and on PostgreSQL.

Korean glues particles to words (풀링은, 풀을, 연결이), so whole-word full-text search misses
most queries, and trigrams cannot index the one- and two-syllable words Korean is made of. So
text is indexed as Hangul bigrams: every run of syllables becomes its overlapping two-syllable
pieces ("풀링은" → "풀링 링은"); a lone syllable stays as it is; Latin letters and digits stay
whole words, lower-cased. Python computes this text once per save, for both databases, so the
index and the query are always cut the same way:

- a query word of two or more syllables is the phrase of its bigrams (an exact substring match);
- a one-syllable word, and a Latin word of three or more letters, match as a prefix
  ("풀" finds 풀링, "queue" finds QueuePool);
- punctuation splits words ("pool_size" is the phrase "pool size"), and every word must match.

Where the index lives (created by migration 0003_search_index):

- SQLite: the FTS5 table articles_search_fts reads SearchDocument's bigram columns (an
  external-content table); triggers on articles_searchdocument keep it in step.
- PostgreSQL: SearchDocument.document, a stored tsvector generated from the same columns with
  to_tsvector('simple', …) (title weight A, the rest B), and title_document (the title alone),
  each with a GIN index. Neither pg_trgm nor the server's locale is involved. Triggers also
  keep how many documents hold each piece (articles/search_frequency.py): a word of one piece
  is counted from that.

Keeping it in sync: every story write goes through articles.services.save_story(), which calls
index_article() once the tags and people are set, and deleting a story deletes its document
(CASCADE). Renaming a company, person or tag, or deleting a tag or person, re-indexes the
stories that name it (signals wired in ArticlesConfig.ready()). QuerySet.update(),
bulk_create() and raw SQL bypass all of that: run `manage.py reindex_search` after them.

Ranking: stories with every query word in the title first, then the newest. order="relevance"
keeps title matches first but then ranks by bm25 (SQLite) or ts_rank (PostgreSQL), the title
counting ten times the body, instead of by date; its cost grows with the number of matches.
"""

import functools
import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    F,
    FloatField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils.safestring import SafeString, mark_safe

from articles import answers, clock, search_frequency
from articles.listing import (
    card_tags_along,
    tags_by_story_of_along,
    texts_along,
    with_card_tags_and_texts,
)
from articles.models import Article, SearchDocument, by_views
from articles.models.provenance import Provenance
from articles.models.states import State
from articles.prepared import Prepared, read_along
from articles.rendering import escape_html, plain_text

MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 10
# A Latin query word this long or longer also matches longer words that start with it.
LATIN_PREFIX_MIN = 3
# A longer "word" (a hash, a base64 blob) is cut here, in the index and in the query alike.
MAX_WORD_LENGTH = 60
# PostgreSQL refuses a tsvector over 1 MB, so the text after this many pieces (about 50,000
# characters of Korean) is not indexed, on either database. PostgreSQL also stops counting
# positions at 16,383: past about 16,000 pieces its words still match, its phrases may not.
MAX_INDEX_TOKENS = 50_000
SNIPPET_WIDTH = 160

ORDER_TITLE_FIRST = "recent"
ORDER_RELEVANCE = "relevance"
ORDERS = {ORDER_TITLE_FIRST: "제목 일치 · 최신순", ORDER_RELEVANCE: "관련도순"}

# Query-side only, and short on purpose: every entry widens results. A word typed by a reader
# also finds these words.
SYNONYMS = {
    "병특": ("병역특례",),
    "타임아웃": ("timeout",),
}

FTS_TABLE = "articles_search_fts"
# bm25() weights per FTS5 column (title_terms, body_terms); ts_rank() weights for D, C, B, A.
BM25_WEIGHTS = "10.0, 1.0"
TS_RANK_WEIGHTS = "{0.1, 0.1, 0.1, 1.0}"

_SYLLABLES = "\uac00-\ud7a3"
# A run of Hangul syllables, or a run of other letters and digits ("_" is punctuation).
_RUN = re.compile(rf"[{_SYLLABLES}]+|[^\W_{_SYLLABLES}]+")
_LATIN_REST = rf"[^\W_{_SYLLABLES}]*"
_LATIN_BEFORE = rf"(?<![^\W_{_SYLLABLES}])"
_GAP = r"[\W_]*"


def _is_hangul(run: str) -> bool:
    return "\uac00" <= run[0] <= "\ud7a3"


def _runs(text: str) -> list[str]:
    # NFKC composes jamo typed one by one and folds full-width Latin ("ＱｕｅｕｅＰｏｏｌ").
    return _RUN.findall(unicodedata.normalize("NFKC", text).lower())


def _tokens_of_run(run: str) -> list[str]:
    if not _is_hangul(run):
        return [run[:MAX_WORD_LENGTH]]
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokens(text: str) -> list[str]:
    """The index pieces of `text`, in order."""
    return [token for run in _runs(text) for token in _tokens_of_run(run)]


def bigrams(text: str, limit: int | None = None) -> str:
    """The index text of `text`: "연결 풀링은 QueuePool" → "연결 풀링 링은 queuepool"."""
    pieces = tokens(text)
    return " ".join(pieces if limit is None else pieces[:limit])


# --- Documents ----------------------------------------------------------------------------


def build_document(*, title: str, excerpt: str, body_html: str, names: list[str]) -> dict:
    """The SearchDocument fields of one story. `names` are its company's, people's (and their
    nicknames) and tags' names; they are indexed with the body, before it."""
    # strip_tags() leaves entities as they are ("&lt;script&gt;"): the snippet escapes again.
    text = html.unescape(plain_text(body_html))
    return {
        "title_terms": bigrams(title),
        "body_terms": bigrams("\n".join([excerpt, *names, text]), limit=MAX_INDEX_TOKENS),
        "text": text,
    }


def names_of(article: Article, related=None) -> list[str]:
    """The names the story's document holds; `related` may already hold its people and tags
    (name -> objects), which are then not read again."""
    related = related or {}
    names = [article.company.name] if article.company_id else []
    for person in related["people"] if "people" in related else article.people.all():
        names += [person.name, person.nickname]
    tags = related["tags"] if "tags" in related else article.tags.all()
    names += [tag.name for tag in tags]
    return [name for name in names if name]


# Saves that change none of these leave the document as it was (view counts, status, dates).
INDEXED_FIELDS = frozenset({"title", "excerpt", "body", "body_html", "company", "company_id"})


def document_of(article: Article, related=None) -> SearchDocument:
    """The story's search document, unsaved."""
    fields = build_document(
        title=article.title,
        excerpt=article.excerpt,
        body_html=article.body_html,
        names=names_of(article, related),
    )
    return SearchDocument(article=article, **fields)


def index_article(article: Article, *, fields=None, related=None, new=False) -> None:
    """Write the story's search document. `fields` are the update_fields of the save that
    triggered this (None for a full save); a save of none of INDEXED_FIELDS costs nothing.

    Drafts and scheduled stories are indexed too: search filters with published() when it
    runs, so a scheduled story appears on time without anything re-indexing it.

    `related` may hold the story's people and tags (see names_of); `new`: the story was just
    created, so it has no document yet."""
    if fields is not None and not INDEXED_FIELDS.intersection(fields):
        return
    # An UPDATE, then an INSERT if there was no row yet. On SQLite a trigger re-indexes the row
    # only when its bigram text really changed.
    document_of(article, related).save(force_insert=new)


# The names a story's document holds of its company, people and tags (see names_of).
NAMED_FIELDS = {"Company": ("name",), "Person": ("name", "nickname"), "Tag": ("name",)}


def _stories_naming(instance):
    relation = {"Company": "company", "Person": "people", "Tag": "tags"}[type(instance).__name__]
    return Article.objects.filter(**{relation: instance})


def _index_stories(stories) -> None:
    for article in stories.select_related("company").prefetch_related("people", "tags"):
        index_article(article)


def remember_names(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """pre_save of Company, Person and Tag: note the indexed names before the save."""
    fields = NAMED_FIELDS[sender.__name__]
    if (
        raw
        or instance.pk is None
        or (update_fields is not None and not set(fields) & set(update_fields))
    ):
        return
    instance._names_before_save = sender.objects.filter(pk=instance.pk).values(*fields).first()


def reindex_renamed(sender, instance, created=False, raw=False, **kwargs) -> None:
    """post_save of Company, Person and Tag: a new name reaches the stories that show it."""
    before = instance.__dict__.pop("_names_before_save", None)
    if raw or created or before is None:
        return
    if any(before[field] != getattr(instance, field) for field in before):
        _index_stories(_stories_naming(instance))


def remember_stories(sender, instance, **kwargs) -> None:
    """pre_delete of Person and Tag: the stories that named it (their rows go with it)."""
    instance._stories_before_delete = list(_stories_naming(instance).values_list("pk", flat=True))


def reindex_after_delete(sender, instance, **kwargs) -> None:
    """post_delete of Person and Tag: those stories no longer match its name."""
    ids = instance.__dict__.pop("_stories_before_delete", [])
    if ids:
        _index_stories(Article.objects.filter(pk__in=ids))


def reindex(batch_size: int = 500) -> int:
    """Rebuild every story's search document in one transaction; returns how many."""
    stories = (
        Article.objects.select_related("company").prefetch_related("people", "tags").order_by("pk")
    )
    count = 0
    # Every document's pieces are counted once at the end (search_frequency.py).
    with transaction.atomic(), search_frequency.paused():
        SearchDocument.objects.all().delete()
        batch = []
        for article in stories.iterator(chunk_size=batch_size):
            batch.append(document_of(article))
            if len(batch) >= batch_size:
                SearchDocument.objects.bulk_create(batch)
                count += len(batch)
                batch = []
        SearchDocument.objects.bulk_create(batch)
        count += len(batch)
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                # Rebuilt from articles_searchdocument: whatever drifted is gone.
                cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
            elif connection.vendor == "postgresql":
                # Until autovacuum got to them, the GIN index's pending list (where a bulk
                # insert lands) and missing statistics would make the planner read every
                # tsvector instead: 100–200 ms a query at 10,000 stories instead of 1 ms.
                for index in ("articles_search_document_gin", "articles_search_title_gin"):
                    cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
                cursor.execute("ANALYZE articles_searchdocument")
    return count


# --- Queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One query word: a phrase of index pieces, the last one maybe a prefix."""

    tokens: tuple[str, ...]
    prefix: bool
    pattern: str  # a regular expression finding the word in plain text, for <mark>
    # The same without its two classes (what _Finder tests itself): the word's runs and the
    # gaps between them; whether it starts with a Latin run (no Latin letter or digit may come
    # just before it) and whether a Latin prefix's rest is taken after it.
    literal: str
    latin_start: bool
    latin_rest: bool


@dataclass(frozen=True)
class Query:
    """A reader's query, parsed. False when there is nothing to look for."""

    text: str  # what the reader typed, spaces collapsed, cut at MAX_QUERY_LENGTH
    groups: tuple[tuple[Term, ...], ...]  # every group must match; any Term of a group will do
    truncated: bool = False

    def __bool__(self) -> bool:
        return bool(self.groups)


def _term(word: str) -> Term | None:
    runs = _runs(word)
    if not runs:
        return None
    pieces = [token for run in runs for token in _tokens_of_run(run)]
    last = runs[-1]
    prefix = len(last) == 1 if _is_hangul(last) else len(last) >= LATIN_PREFIX_MIN
    parts, literal = [], []
    for run in runs:
        part = re.escape(run[:MAX_WORD_LENGTH])
        parts.append(part if _is_hangul(run) else _LATIN_BEFORE + part)
        literal.append(part)
    pattern = _GAP.join(parts)
    latin_rest = prefix and not _is_hangul(last)
    if latin_rest:
        pattern += _LATIN_REST
    return Term(
        tuple(pieces),
        prefix,
        pattern,
        literal=_GAP.join(literal),
        latin_start=not _is_hangul(runs[0]),
        latin_rest=latin_rest,
    )


def parse_query(raw: str | None) -> Query:
    """Split what a reader typed into words. Nothing of it reaches a database as syntax:
    only the pieces of `tokens()` (letters, digits, syllables) do, each one quoted."""
    text = " ".join((raw or "").split())
    truncated = len(text) > MAX_QUERY_LENGTH
    text = text[:MAX_QUERY_LENGTH].strip()
    groups = []
    for word in text.split()[:MAX_QUERY_WORDS]:
        key = "".join(_runs(word))
        alternatives = []
        for variant in (word, *SYNONYMS.get(key, ())):
            term = _term(variant)
            if term is not None and term not in alternatives:
                alternatives.append(term)
        if alternatives and tuple(alternatives) not in groups:
            groups.append(tuple(alternatives))
    return Query(text=text, groups=tuple(groups), truncated=truncated)


def fts5_match(query: Query, column: str | None = None) -> str:
    """The FTS5 MATCH expression of `query`: every piece inside double quotes, so no
    operator (AND, NEAR, -, ^, *, parentheses) a reader typed can reach FTS5 as syntax."""

    def phrase(term: Term) -> str:
        quoted = '"' + " ".join(term.tokens).replace('"', '""') + '"'
        return quoted + ("*" if term.prefix else "")

    groups = ["(" + " OR ".join(phrase(term) for term in group) + ")" for group in query.groups]
    expression = " AND ".join(groups)
    return f"{column} : ({expression})" if column else expression


def tsquery(query: Query) -> str:
    """The to_tsquery('simple', …) text of `query`: every piece quoted as a lexeme."""

    def lexeme(token: str, last: bool, prefix: bool) -> str:
        quoted = "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"
        return quoted + (":*" if last and prefix else "")

    def phrase(term: Term) -> str:
        last = len(term.tokens) - 1
        return " <-> ".join(
            lexeme(token, i == last, term.prefix) for i, token in enumerate(term.tokens)
        )

    return " & ".join(
        "(" + " | ".join(phrase(term) for term in group) + ")" for group in query.groups
    )


def matching_ids(query: Query, *, title_only: bool = False) -> RawSQL:
    """The ids of every story (hidden ones too) whose document matches `query`: a subquery
    for callers that filter and order stories themselves."""
    return _matching(match_text(query, title_only=title_only), title_only=title_only)


def match_text(query: Query, *, title_only: bool = False) -> str:
    """What the index is asked for `query`: an FTS5 MATCH expression or a tsquery."""
    if connection.vendor == "postgresql":
        return tsquery(query)
    return fts5_match(query, "title_terms" if title_only else None)


def _matching(text: str, *, title_only: bool, since: int | None = None) -> RawSQL:
    """`since` (SQLite): only the stories whose key is at least that."""
    if connection.vendor == "postgresql":
        column = "title_document" if title_only else "document"
        return RawSQL(
            f"SELECT article_id FROM articles_searchdocument "
            f"WHERE {column} @@ to_tsquery('simple', %s)",
            [text],
        )
    if since is not None:
        return RawSQL(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid >= %s",
            [text, since],
        )
    return RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [text])


def _hit(title: str) -> Case:
    return Case(
        When(pk__in=_matching(title, title_only=True), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


# The documented order: every word in the title first, then the newest.
TITLE_FIRST = (F("title_hit").desc(), F("published_at").desc(), F("pk").desc())


def _title_first(stories, match: str, title: str, now):
    """`stories` (search results, or the plain rows when only their ids are wanted) published
    at `now` matching `match`, with `title_hit` (`title`: the title's match), in the documented
    order."""
    return (
        stories.published(now)
        .annotate(title_hit=_hit(title))
        .filter(pk__in=_matching(match, title_only=False))
        .order_by(*TITLE_FIRST)
    )


def search_stories(query: Query, *, order: str = ORDER_TITLE_FIRST):
    """Published stories matching every word of `query`, as search results (_results(): what a
    result shows, but for the hashtags, which the search page reads as plain values) with
    `title_hit` (every word is in the title). A query with nothing to look for finds nothing.

    The body's text is left out on purpose: the database sorts every match before it cuts a
    page, and it would carry each story's whole text through that sort. add_highlights()
    reads the text of the page's stories only."""
    if not query:
        return Article.objects.none()
    title, now = match_text(query, title_only=True), clock.now_datetime()
    if order != ORDER_RELEVANCE:
        return _title_first(_results(Article), match_text(query), title, now)
    stories = _results(Article).published(now).annotate(title_hit=_hit(title))
    newest = [F("published_at").desc(), F("pk").desc()]
    if connection.vendor == "postgresql":
        rank = SearchDocument.objects.filter(article=OuterRef("pk")).annotate(
            rank=RawSQL(
                f"ts_rank('{TS_RANK_WEIGHTS}', document, to_tsquery('simple', %s))",
                [tsquery(query)],
                output_field=FloatField(),
            )
        )
        return (
            stories.filter(pk__in=matching_ids(query))
            .annotate(rank=Subquery(rank.values("rank")))
            .order_by(F("title_hit").desc(), F("rank").desc(), *newest)
        )
    # bm25() only works in the query that runs MATCH, so the FTS5 table is joined, not
    # asked in a subquery; extra() is the ORM's way to join a table it has no model for.
    # The unary + keeps SQLite from using the rowid as a lookup into the FTS5 table: it would
    # then scan the stories and run the MATCH once per story (90 s at 10,000 matches) instead
    # of running it once and looking each match up by its primary key.
    # The SQL is fixed; the reader's query travels as a parameter.
    return stories.extra(
        tables=[FTS_TABLE],
        where=[f"+{FTS_TABLE}.rowid = articles_article.id", f"{FTS_TABLE} MATCH %s"],
        params=[fts5_match(query)],
        select={"rank": f"bm25({FTS_TABLE}, {BM25_WEIGHTS})"},
    ).order_by(F("title_hit").desc(), "rank", *newest)


# A search with more matches than this cuts its pages by walking the stories newest first (see
# TitleFirstPages); one with fewer sorts all its matches.
WALK_FROM = 300


class TitleFirstPages:
    """search_stories() in the title-first order, as the search page's paginator reads it.

    The order is two parts, each newest first: the stories with every word in the title, then
    the other matches. count() counts the matches and the title's in one query, from the search
    index's own documents less those of hidden stories (HIDDEN_MATCHES, PUBLISHED_MATCHES; on
    PostgreSQL a word of one piece from the documents' kept count, FREQUENT_MATCHES). On
    SQLite the title's are counted only up to TITLE_COUNTED, each count being a pass over every
    match: a window past that many reads the title's exact count then (_titled()).

    A page of a search with few matches (up to WALK_FROM) sorts them all on (title hit, date)
    and loads that page's results, in one query. Sorting thousands (a common word) made the
    database visit every match to cut one page: 25 ms for 5,000 matches at 100,000 stories.
    So a part with many matches is cut in its own order, the published listing index's, which
    the database walks newest first until the page is full; a part with few among many (a
    common word rare in titles, where that walk would read the whole index) has its matches'
    dates read without order and sorted here. Neither database can choose this itself: both
    estimate a full-text match's selectivity blindly (PostgreSQL guessed 500 matches for 5 and
    walked 100,000 stories)."""

    def __init__(self, query: Query):
        self.query = query
        self._counts = None

    def count(self) -> int:
        return self._counted()[0]

    def _counted(self) -> tuple[int, int, bool]:
        """How many published stories match; how many in the title; whether that is their
        exact count (or at least TITLE_COUNTED)."""
        if self._counts is None:
            match = match_text(self.query)
            title = match_text(self.query, title_only=True)
            now = clock.now_datetime()
            if connection.vendor == "sqlite":
                ((matched, titled),) = HIDDEN_MATCHES(
                    Article, now=now, extra=(match, match, title, TITLE_COUNTED)
                )
                self._counts = (matched, titled, titled < TITLE_COUNTED)
            elif piece := _one_piece(self.query):
                (((matched, titled),),) = FREQUENT_MATCHES(
                    Article, now=now, extra=(piece, HIDDEN_PER_MATCH, title, match, title, match)
                )
                self._counts = (matched, titled, True)
            else:
                ((matched, titled),) = PUBLISHED_MATCHES(Article, now=now, extra=(title, match))
                self._counts = (matched, titled, True)
        return self._counts

    def _titled(self) -> int:
        """How many published stories match in the title, exactly."""
        matched, titled, exact = self._counted()
        if not exact:
            title = match_text(self.query, title_only=True)
            ((titled,),) = HIDDEN_TITLE_MATCHES(
                Article, now=clock.now_datetime(), extra=(title, title)
            )
            self._counts = (matched, titled, True)
        return titled

    def __getitem__(self, window: slice) -> list["SearchResult"]:
        if not isinstance(window, slice):
            raise TypeError("TitleFirstPages is read a page (a slice) at a time.")
        start, stop = window.start or 0, window.stop
        matched, titled, _ = self._counted()
        if stop <= start or start >= matched:
            return []
        if stop > titled:
            titled = self._titled()
        others = matched - titled
        now = clock.now_datetime()
        title = match_text(self.query, title_only=True)
        words = snippet_words(self.query)
        if matched <= WALK_FROM:
            shape = {"start": start, "stop": stop}
            match = match_text(self.query)
            rows, relations = _with_relations(
                SORTED_PAGE, shape=shape, words=words, match=match, title=title, now=now
            )
            # In the page's order again (TITLE_FIRST): the statement around it keeps none.
            rows.sort(key=lambda row: (row[-1], row[PUBLISHED_AT], row[0]), reverse=True)
            return [SearchResult(row[:-1], row[-1], *relations) for row in rows]
        # The title matches, then the others: each newest first.
        parts = [
            ({"title": title}, titled),
            ({"title": title, "match": match_text(self.query)}, others),
        ]
        page = []
        for number, (values, size) in enumerate(parts):
            cut = slice(max(0, start), max(0, stop))  # this part's share of the window
            start, stop = start - size, stop - size
            if cut.start >= min(cut.stop, size):
                continue
            page += _newest(size, cut, number == 0, words, now=now, **values)
        return page


# What a search result shows of its story's own row (reader/markup.py search_result(): kind,
# title and snippet, date, link) and what add_highlights() reads.
RESULT_FIELDS = (
    "kind",
    "title",
    "slug",
    "excerpt",
    "published_at",
    "original_published_on",
    "source_key",
)


def _results(model):
    """Stories as search results, but for their hashtags (the search page reads those as plain
    values, reader/cards.py with_card_tags): only the columns a result shows, with its
    company's name (`company_name`, None without one) and its stored 조회수 (`stored_count`)
    as values of its row."""
    return model.objects.only(*RESULT_FIELDS).annotate(
        company_name=F("company__name"), stored_count=by_views()
    )


# A result's row as plain values (_results()' columns, by name), for SearchResult.
RESULT_COLUMNS = ("pk", *RESULT_FIELDS, "company_name", "stored_count")
PUBLISHED_AT = RESULT_COLUMNS.index("published_at")


def _with_relations(
    prepared: Prepared, shape=None, *, words=(), **values
) -> tuple[list, tuple[dict, dict]]:
    """The rows of a query of search results (`prepared`, its rows RESULT_COLUMNS first),
    read with their stories' hashtags and search texts in the same statement
    (articles/prepared.py read_along()), in no order: (rows, ({story id: hashtags}, {story
    id: (search text, its length or None)})). On PostgreSQL a text holding none of `words`
    (snippet_words()) is read only as far as its snippet needs."""
    along = [card_tags_along(), texts_along(words, SNIPPET_WIDTH)]
    rows, (tags, texts) = read_along(prepared, Article, along, shape, **values)
    # (A text read whole comes without its length: it is its own.)
    texts = {pk: (text, size[0] if size else None) for pk, text, *size in texts}
    return rows, (tags_by_story_of_along(tags), texts)


def results_read(pages):
    """What the search page reads a page of `pages` (search_pages()) with: the title-first
    order's results come with their hashtags and texts; the relevance order's stories are
    given them (with_card_tags_and_texts())."""
    return list if isinstance(pages, TitleFirstPages) else with_card_tags_and_texts


class SearchResult(Provenance):
    """A story of the search page's title-first pages, read as the plain values of its row
    (RESULT_COLUMNS) and `title_hit`: what a result shows and what add_highlights() reads,
    under the names a story has, with its `card_tags` and `search_text` (as
    with_card_tags_and_texts() gives them; read with the page, _with_relations()).
    add_highlights() gives it its `marked_title` and `snippet`. A model instance of those
    columns cost about 20 us each, 0.4 ms a page."""

    def __init__(self, row, title_hit: bool, tags: dict, texts: dict):
        self.__dict__.update(zip(RESULT_COLUMNS, row, strict=True))
        self.title_hit = title_hit
        self.card_tags = tags.get(self.pk, ())
        self.search_text, self.search_length = texts.get(self.pk, ("", None))


def _part(model, now, title, match=None, since=None, reach_at=None):
    """The published stories matching in the title, or (with `match`) elsewhere only; with
    `since` and `reach_at` (SQLite, _reach()), only those with a key at least `since` and a
    date at least `reach_at`."""
    published = model.objects.published(now)
    if since is not None:
        published = published.filter(published_at__gte=reach_at)
    if match is None:
        return published.filter(pk__in=_matching(title, title_only=True, since=since))
    return published.filter(pk__in=_matching(match, title_only=False, since=since)).exclude(
        pk__in=_matching(title, title_only=True, since=since)
    )


NEWEST = ("-published_at", "-pk")


def _hidden(model, now):
    """The keys of every story readers may not see at `now`: each state but PUBLISHED
    (states.py), each read from its own index range."""
    hidden = [
        model.objects.in_state(state, now).order_by().values_list("pk")
        for state in State
        if state != State.PUBLISHED
    ]
    return hidden[0].union(*hidden[1:], all=True)


def _counted_among_published(sql, connection, titled: str):
    """`titled`: "bounded" (the matches, and the title's up to a bound) or "exact" (the
    title's matches only)."""
    # A match count is the search index's own count of its documents (no story's row read)
    # less the matches among the hidden stories, which are few and found from the states'
    # indexes; the matches are walked by the index and looked up in that short list. Counting
    # published matches the other way read each match's state: 25 ms for 5,000 matches at
    # 100,000 stories (3.5 ms from the index of story states), and growing with the matches.
    # Counting the title's matches up to a bound stops there: a count of all 5,000 cost
    # 0.24 ms at 100,000 stories, one up to 301 0.07 ms.
    count = f"(SELECT COUNT(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
    published = f"{count}) - {count} AND rowid IN hidden)"
    if titled == "exact":
        return f"WITH hidden(id) AS ({sql}) SELECT {published}"
    bounded = (
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
        "AND rowid NOT IN hidden LIMIT %s))"
    )
    return f"WITH hidden(id) AS ({sql}) SELECT {published}, {bounded}"


# A part of a search this long is walked (WALK_FROM): on SQLite its title's matches are counted
# only this far unless a window needs more.
TITLE_COUNTED = WALK_FROM + 1
# SQLite: how many published stories match, and how many in the title up to a bound (the call's
# `extra`: the match expression twice, the title's, the bound); how many in the title (the
# title's expression twice).
HIDDEN_MATCHES = Prepared(
    _hidden,
    rewrite=functools.partial(_counted_among_published, titled="bounded"),
    generic=False,
)
HIDDEN_TITLE_MATCHES = Prepared(
    _hidden, rewrite=functools.partial(_counted_among_published, titled="exact"), generic=False
)


# A tsquery's placeholder, and the two counts of the documents `d` a statement reads: all of
# them, and those matching in the title (the title's tsquery).
TSQUERY = "to_tsquery('simple', %s)"
COUNTS = f"COUNT(*), COUNT(*) FILTER (WHERE d.title_document @@ {TSQUERY})"


def _matches_of_published(select: str) -> str:
    """`select` over the documents matching the match's tsquery but those of hidden stories."""
    return (
        f"SELECT {select} FROM articles_searchdocument d WHERE d.document @@ {TSQUERY} "
        "AND d.article_id NOT IN (SELECT id FROM hidden)"
    )


def _counted_among_published_documents(sql, connection):
    # The documents matching, less those of hidden stories (few, found from the states'
    # indexes and hashed once), each tested for the title on its own row: one pass over the
    # matches' documents. Counting the stories instead (each match's state read from the
    # stories' index, the title's matches hashed apart) took 21-35 ms on the server for 5,000
    # matches at 100,000 stories, in three processes (a parallel plan), against 7-11 ms.
    return f"WITH hidden(id) AS ({sql}) {_matches_of_published(COUNTS)}"


# PostgreSQL: how many published stories match, and how many in the title: the call's `extra`
# gives the title's tsquery, then the match's.
PUBLISHED_MATCHES = Prepared(_hidden, rewrite=_counted_among_published_documents, generic=False)


def _counted_from_frequency(sql, connection):
    # A word of one piece: how many documents hold it, and in the title, kept by the database
    # (articles/search_frequency.py), less the matches among the hidden stories' documents,
    # each read by its key. No match's row is read: a common word at 100,000 stories cost 6-8
    # ms counted the other way. But each hidden story's document is read whole (its tsvector,
    # about 4 kB out of line), some ten times a match's visit: with 2,000 drafts at 100,000
    # stories that took 36 ms. So the kept count is used only where the word's documents
    # outnumber the hidden stories HIDDEN_PER_MATCH times; otherwise the matches are counted
    # as PUBLISHED_MATCHES counts them. Only the branch taken is run.
    return (
        f"WITH hidden(id) AS ({sql}), "
        "piece AS (SELECT COALESCE(SUM(documents), 0) AS documents, "
        "COALESCE(SUM(titles), 0) AS titles "
        f"FROM {search_frequency.TABLE} WHERE lexeme = %s) "
        "SELECT CASE WHEN piece.documents > %s * (SELECT COUNT(*) FROM hidden) THEN ("
        "SELECT ARRAY[piece.documents - COUNT(*), piece.titles - COUNT(*) FILTER "
        f"(WHERE d.title_document @@ {TSQUERY})] "
        "FROM hidden JOIN articles_searchdocument d ON d.article_id = hidden.id "
        f"WHERE d.document @@ {TSQUERY}) "
        f"ELSE ({_matches_of_published(f'ARRAY[{COUNTS}]')}) END "
        "FROM piece"
    )


# Reading a hidden story's document costs about this many visits to a match's row.
HIDDEN_PER_MATCH = 10
# PostgreSQL, a word of one piece (_one_piece()): the same two counts, as an array; the call's
# `extra` gives the piece, HIDDEN_PER_MATCH, then the title's tsquery and the match's, twice.
FREQUENT_MATCHES = Prepared(_hidden, rewrite=_counted_from_frequency, generic=False)


def _one_piece(query: Query) -> str | None:
    """The index piece a query is, if it is one whole piece: a word of two Korean syllables,
    or of one or two Latin letters or digits. The database's parser makes those one lexeme
    exactly as written (any non-ASCII letter is a letter to it), so the document count kept
    for that lexeme is the word's count of matches. None for anything else (a phrase, a
    prefix, synonyms, several words)."""
    if len(query.groups) != 1 or len(query.groups[0]) != 1:
        return None
    (term,) = query.groups[0]
    if term.prefix or len(term.tokens) != 1:
        return None
    (piece,) = term.tokens
    if (len(piece) == 2 and _is_hangul(piece)) or (piece.isascii() and piece.isalnum()):
        return piece
    return None


# A search's queries, compiled once (articles/prepared.py): a page of a search with few
# matches, sorted whole; a window of a part with many, walked newest first; the dates of a
# small part among many. Each is planned for its word (generic=False): a word in 5 stories
# and one in 5,000 are best read in different ways. (PostgreSQL's one plan for every word of
# the count read the whole index: 251 ms for the common word at 100,000 stories and 121 ms for
# the rare one, against 4.4 and 0.07 ms planned for each word.)
SORTED_PAGE = Prepared(
    lambda model, start, stop, match, title, now: (
        _results(model)
        .annotate(title_hit=_hit(title))
        .filter(pk__in=_title_first(model.objects, match, title, now).values("pk")[start:stop])
        .order_by(*TITLE_FIRST)
        .values_list(*RESULT_COLUMNS, "title_hit")
    ),
    generic=False,
)
NEWEST_OF_PART = Prepared(
    lambda model, start, stop, **values: (
        _results(model)
        .filter(pk__in=_part(model, **values).order_by(*NEWEST).values("pk")[start:stop])
        .order_by(*NEWEST)
        .values_list(*RESULT_COLUMNS)
    ),
    generic=False,
)
DATES_OF_PART = Prepared(
    lambda model, **values: _part(model, **values).order_by().values_list("published_at", "pk"),
    generic=False,
)
RESULTS_BY_KEY = Prepared(
    lambda model, ids: _results(model).filter(pk__in=ids).values_list(*RESULT_COLUMNS)
)
# SQLite: how many of a window of the newest published stories there are, their smallest key
# and their oldest date (_reach()).
NEWEST_REACH = Prepared(
    lambda model, now: (
        model.objects.published(now).order_by(*NEWEST).values_list("pk", "published_at")
    ),
    rewrite=lambda sql, connection: (
        f"WITH newest(id, at) AS ({sql}) SELECT COUNT(*), MIN(id), MIN(at) FROM newest"
    ),
)


# SQLite: a part walked newest first is looked for first among the newest stories, this many
# for each story up to the window's end (_reach()).
REACH_PER_RESULT = 50


def _reach(now, stop: int) -> tuple[int, datetime] | None:
    """SQLite: the smallest key and the oldest date among the newest REACH_PER_RESULT × `stop`
    published stories at `now`, kept per content version while a page is rendered for readers;
    None when there are fewer, or nothing may be kept.

    FTS5 cannot test one story for a match cheaply (about 0.14 ms a story), so a walk newest
    first asks it for every match and keeps them in a temporary index: 1.0-1.7 ms for 5,000
    matches at 100,000 stories. Asked only for the matches from the newest stories' smallest
    key on, among the stories from their oldest date on, it finds the newest where keys follow
    dates (stories published as they are written): 0.23 ms. Where they do not, it asks for
    more, and costs what the whole walk costs."""
    version = answers.rendering_under.get()
    if version is None:
        return None
    size = REACH_PER_RESULT * stop

    def reach():
        ((count, since, oldest),) = NEWEST_REACH(Article, window=(0, size), now=now)
        # SQLite's datetimes are UTC text (what MIN() of the column gives).
        return (since, datetime.fromisoformat(oldest).replace(tzinfo=UTC)) if count == size else ()

    return answers.kept(f"search-reach:{version}:{size}", reach, answers.CONTENT_TIMEOUT) or None


def _newest(size: int, window: slice, title_hit: bool, words, **values) -> list[SearchResult]:
    """The search results of a part (`size` stories, each `title_hit` or not) newest first,
    [window]; their texts read as _with_relations() reads them for `words`."""
    if size > WALK_FROM:
        shape = {"start": window.start, "stop": window.stop}
        reach = _reach(values["now"], window.stop) if connection.vendor == "sqlite" else None
        if reach is not None:
            since, oldest = reach
            rows, relations = _with_relations(
                NEWEST_OF_PART, shape=shape, words=words, since=since, reach_at=oldest, **values
            )
            # The newest of the part when the window is full and all newer than the reach's
            # oldest: every match before them is among the newest stories, so was asked for.
            if len(rows) == window.stop - window.start and all(
                row[PUBLISHED_AT] > oldest for row in rows
            ):
                return _newest_first(rows, title_hit, relations)
        rows, relations = _with_relations(NEWEST_OF_PART, shape=shape, words=words, **values)
        return _newest_first(rows, title_hit, relations)
    dated = sorted(DATES_OF_PART(Article, **values), reverse=True)
    keys = [pk for _, pk in dated[window]]
    if not keys:
        return []
    rows, relations = _with_relations(RESULTS_BY_KEY, words=words, ids=keys)
    found = {row[0]: row for row in rows}
    return [SearchResult(found[pk], title_hit, *relations) for pk in keys if pk in found]


def _newest_first(rows, title_hit: bool, relations) -> list[SearchResult]:
    # Newest first again (NEWEST): the statement around them keeps none.
    rows.sort(key=lambda row: (row[PUBLISHED_AT], row[0]), reverse=True)
    return [SearchResult(row, title_hit, *relations) for row in rows]


def search_pages(query: Query, *, order: str = ORDER_TITLE_FIRST):
    """What the search page paginates: search_stories(), read page by page as cheaply as the
    order allows. The relevance order ranks every match anyway and is paged as it is."""
    if query and order != ORDER_RELEVANCE:
        return TitleFirstPages(query)
    return search_stories(query, order=order)


# --- Highlighting -------------------------------------------------------------------------


def _latin(char: str) -> bool:
    r"""Whether `char` is in the class [^\W_가-힣]: a letter or digit, not a Hangul syllable."""
    return char.isalnum() and not "\uac00" <= char <= "\ud7a3"


class _Finder:
    """The query's words in a text, found exactly as re.finditer() over the alternation of
    their patterns (longest first) would, without compiling that alternation: its classes of
    every letter but the Hangul syllables cost the re compiler a bitmap of 11,172 characters
    each, about a millisecond for a query of one Latin word, which a new query pays on every
    worker. Each alternative is compiled without them (its runs and the gaps between them) and
    what they tested is tested here: no Latin letter or digit just before a word that starts
    with a Latin run (a lookbehind before any later Latin run always holds: a gap or a Hangul
    syllable comes before it), and the rest of a Latin prefix taken after it."""

    def __init__(self, terms):
        self.alternatives = [
            (re.compile(term.literal, re.IGNORECASE), term.latin_start, term.latin_rest)
            for term in terms
        ]
        self.any = re.compile("|".join(f"(?:{term.literal})" for term in terms), re.IGNORECASE)

    def _at(self, text: str, start: int) -> int | None:
        """Where the first alternative that matches at `start` ends (None: none does)."""
        for pattern, latin_start, latin_rest in self.alternatives:
            found = pattern.match(text, start)
            if found is None or (latin_start and start and _latin(text[start - 1])):
                continue
            end = found.end()
            if latin_rest:
                while end < len(text) and _latin(text[end]):
                    end += 1
            return end
        return None

    def finditer(self, text: str):
        """(start, end) of each match, left to right, none overlapping."""
        position = 0
        while position <= len(text):
            candidate = self.any.search(text, position)
            if candidate is None:
                return
            start = candidate.start()
            end = self._at(text, start)
            if end is None:
                position = start + 1
                continue
            yield start, end
            position = end if end > start else start + 1

    def search(self, text: str) -> tuple[int, int] | None:
        return next(self.finditer(text), None)


# A word made only of Hangul syllables, which have no case: found in a text exactly as written.
_SYLLABLES = re.compile("[\uac00-\ud7a3]+")


@functools.lru_cache(maxsize=32)
def snippet_words(query: Query) -> tuple[str, ...]:
    """Strings a text must hold for snippet() to find the query in it: the first run of each
    of its words (every match of a word starts with it, as written), when each is Hangul
    syllables only: they have no case, so IGNORECASE finds them exactly where a plain search
    for the string does (PostgreSQL's STRPOS, articles/listing.py texts_along()). () when some
    word starts otherwise: then only the whole text can tell."""
    words = []
    for term in {term for group in query.groups for term in group}:
        first = term.literal.split(_GAP, 1)[0]
        if term.latin_start or not _SYLLABLES.fullmatch(first):
            return ()
        words.append(first)
    return tuple(sorted(set(words)))


@functools.lru_cache(maxsize=32)
def _pattern(query: Query) -> _Finder | None:
    terms = {term.pattern: term for group in query.groups for term in group}
    if not terms:
        return None
    return _Finder([terms[pattern] for pattern in sorted(terms, key=len, reverse=True)])


def _marked(text: str, pattern: _Finder | None) -> str:
    """`text` escaped, with each match of `pattern` in <mark>. Every piece of the text goes
    through html.escape() (what Django's escape() runs, without its lazy-string wrapper and
    SafeString for each piece: escape_html()); only the <mark> tags are added as markup."""
    if pattern is None:
        return escape_html(text)
    pieces, end = [], 0
    for start, stop in pattern.finditer(text):
        if stop == start:
            continue
        marked = escape_html(text[start:stop])
        pieces += [escape_html(text[end:start]), "<mark>", marked, "</mark>"]
        end = stop
    pieces.append(escape_html(text[end:]))
    return "".join(pieces)


def highlight(text: str, query: Query) -> SafeString:
    """All of `text`, escaped, with the query's words in <mark>."""
    return mark_safe(_marked(text, _pattern(query)))  # every piece was escaped


def snippet(
    text: str,
    query: Query,
    *,
    fallback: str = "",
    width: int = SNIPPET_WIDTH,
    length: int | None = None,
):
    """About `width` characters of `text` around the query's first match, escaped, with the
    matched words in <mark>. When the words are not in `text` (they were in the title or a
    tag) the start of `fallback` is used instead. `length`: the whole text's, when `text` is
    only its first `width` characters, read so because none of the query's snippet_words()
    is in it (articles/listing.py texts_along())."""
    pattern = _pattern(query)
    match = pattern.search(text) if pattern and text else None
    size = len(text) if length is None else length
    if match is None:
        if fallback:
            text, size = fallback, len(fallback)
        text = text or ""
        start = 0
    else:
        start = max(0, match[0] - width // 3)
        if start:
            # Start at a word, not inside one, when one begins close by.
            space = text.find(" ", start, match[0])
            if space != -1 and space - start < 20:
                start = space + 1
    end = start + width
    if end < size:
        space = text.rfind(" ", end - 20, end)
        if space > start and (match is None or space > match[1]):
            end = space
    window = text[start:end].strip()
    before = "…" if start > 0 else ""
    after = "…" if end < size else ""
    return mark_safe(before + _marked(window, pattern) + after)  # every piece was escaped


def add_highlights(stories, query: Query) -> None:
    """Give each found story `marked_title` and `snippet` (both escaped HTML), from its
    `search_text`, read with its hashtags (articles/listing.py with_card_tags_and_texts())."""
    for story in stories:
        story.marked_title = highlight(story.title, query)
        story.snippet = snippet(
            story.search_text,
            query,
            fallback=story.excerpt,
            length=getattr(story, "search_length", None),
        )
