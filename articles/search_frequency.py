"""How many search documents hold each index piece, kept by PostgreSQL as documents are written.

A search page says how many published stories match (TitleFirstPages.count() in
articles/search.py). PostgreSQL counts a tsquery's matches by visiting every matching row: a
common word's 5,000 matches at 100,000 stories cost 6-8 ms, a cost that grows with the corpus
on every new query for it. A word of one index piece (a two-syllable Korean word, the commonest
query there is: 온콜, 배포, 장애) matches exactly the documents whose tsvector holds that piece,
so its count is the length of that piece's list, which the database keeps here:
one row per piece (`lexeme`), how many documents hold it anywhere (`documents`) and in the
title (`titles`). The count of published matches is that less the matches among the hidden
stories, read through their keys (search.py FREQUENT_MATCHES; where they are many for the
word's documents, the matches are counted instead).

Triggers on articles_searchdocument move the rows in the writing statement itself, each
statement's documents counted together (transition tables): a document written, rewritten or
deleted, through the door or not. The rows a statement touches are locked in one order, and
only under the content version's row (articles/versions.py), which every content write takes
before it commits anyway: two writers never hold pieces the other waits for. (Without that
row, on a database no write has bumped yet, an advisory lock stands in for it.)

A bulk rewrite of every document (reindex(), the benchmark's seed) pauses the triggers for its
transaction (paused()) and counts every piece once at its end (rebuild()), one statement
instead of one per batch.

SQLite needs none of this: FTS5 counts a word's matches from its own index without reading a
row (0.24 ms for 5,000 matches), so there is no table there. Created by migration
0026_search_frequency."""

from contextlib import contextmanager

from django.db import connection, transaction

TABLE = "articles_search_frequency"
DOCUMENTS = "articles_searchdocument"
VERSION = "articles_contentversion"
# set_config() name that pauses the triggers for one transaction (paused()).
PAUSE = "articles.search_frequency_paused"
# Stands in for the content version's row before the first content write made it.
ADVISORY_KEY = 0x5EA2C4_F4E0


def _pieces(rows: str, sign: str) -> str:
    """Every piece of every document of `rows`, with its change to `documents` and `titles`."""
    return (
        f"SELECT unnest(tsvector_to_array(document)) AS lexeme, {sign}1 AS documents, "
        f"0 AS titles FROM {rows} "
        f"UNION ALL SELECT unnest(tsvector_to_array(title_document)), 0, {sign}1 FROM {rows}"
    )


def _add(changes: str) -> str:
    """Add the summed changes to the rows, in the pieces' order; a piece no statement changes
    in sum (a rewrite that kept it) is not touched."""
    return (
        f"INSERT INTO {TABLE} AS kept (lexeme, documents, titles) "
        f"SELECT lexeme, SUM(documents), SUM(titles) FROM ({changes}) AS changes "
        "GROUP BY lexeme HAVING SUM(documents) <> 0 OR SUM(titles) <> 0 ORDER BY lexeme "
        "ON CONFLICT (lexeme) DO UPDATE SET documents = kept.documents + excluded.documents, "
        "titles = kept.titles + excluded.titles"
    )


# (event, transition tables, the rows that say whether the statement wrote any, the changes):
# one statement trigger each.
TRIGGERS = (
    ("insert", "NEW TABLE AS new_rows", "new_rows", _pieces("new_rows", "+")),
    ("delete", "OLD TABLE AS old_rows", "old_rows", _pieces("old_rows", "-")),
    (
        "update",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "new_rows",
        f"{_pieces('new_rows', '+')} UNION ALL {_pieces('old_rows', '-')}",
    ),
)

# Every writer of the table takes the content version's row first (see the module's text).
LOCK_FUNCTION = (
    "CREATE OR REPLACE FUNCTION articles_search_frequency_lock() RETURNS void "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"PERFORM 1 FROM {VERSION} WHERE id = 1 FOR NO KEY UPDATE; "
    f"IF NOT FOUND THEN PERFORM pg_advisory_xact_lock({ADVISORY_KEY}); END IF; "
    "END $$"
)

COUNT_ALL = _add(_pieces(DOCUMENTS, "+"))


def _statements() -> list[str]:
    statements = [LOCK_FUNCTION]
    for event, tables, rows, changes in TRIGGERS:
        name = f"articles_search_frequency_{event}"
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF current_setting('{PAUSE}', true) = 'on' "
            f"OR NOT EXISTS (SELECT 1 FROM {rows}) THEN RETURN NULL; END IF; "
            f"PERFORM articles_search_frequency_lock(); {_add(changes)}; "
            "RETURN NULL; END $$",
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON {DOCUMENTS} "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    # TRUNCATE (a PostgreSQL test database's flush) fires no row's change.
    statements += [
        "CREATE OR REPLACE FUNCTION articles_search_frequency_truncate() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN DELETE FROM {TABLE}; RETURN NULL; END $$",
        f"CREATE TRIGGER articles_search_frequency_truncate AFTER TRUNCATE ON {DOCUMENTS} "
        "FOR EACH STATEMENT EXECUTE FUNCTION articles_search_frequency_truncate()",
    ]
    return statements


def create(schema_editor) -> None:
    """Migration 0026: the table, counted now, and its triggers (PostgreSQL only)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE TABLE {TABLE} (lexeme text NOT NULL PRIMARY KEY, "
        "documents integer NOT NULL, titles integer NOT NULL)"
    )
    for statement in _statements():
        schema_editor.execute(statement)
    schema_editor.execute(COUNT_ALL)


def drop(schema_editor) -> None:
    """Migration 0026 reversed."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for event in [*(event for event, *_ in TRIGGERS), "truncate"]:
        name = f"articles_search_frequency_{event}"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {DOCUMENTS}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")
    schema_editor.execute("DROP FUNCTION IF EXISTS articles_search_frequency_lock()")
    schema_editor.execute(f"DROP TABLE {TABLE}")


def kept() -> bool:
    """Whether the database keeps the table (PostgreSQL, migration 0026 applied)."""
    return connection.vendor == "postgresql" and TABLE in connection.introspection.table_names()


def rebuild() -> None:
    """Count every piece of every document again, in the caller's transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT articles_search_frequency_lock()")
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(COUNT_ALL)


@contextmanager
def paused():
    """For a rewrite of many documents: the triggers stand still until the transaction ends,
    and every piece is counted once at the block's end. Nothing on SQLite, nor before
    migration 0026."""
    if not kept():
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [PAUSE])
        yield
        rebuild()
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'off', true)", [PAUSE])
