"""How many stories are published, kept by the database as they are written.

The API's whole list answers its `count` and its Last-Modified on every miss (api/common.py
list_stamp()). Counting the published stories reads an index entry for each: 31.6 ms at
100,000 stories on SQLite against 0.4 ms at 1,000, paid by every worker after every edit. So the
database keeps the number of rows whose status is PUBLISHED in one row of its own table,
moved by triggers on the stories' table in the writing transaction itself: every write is
counted, through the door or not (a bulk seed's COPY, QuerySet.update(), raw SQL, a fixture).

A story published at a moment still to come (예약) or already withdrawn (내림) keeps that
status: those are subtracted when asked, each read from its own short index range (they are
few), so the number is right at every moment with no job to run (states.py). The latest edit,
publication and company change come from indexes walked newest first, each stopping at the
first published story.

The table and its triggers are created by migration 0025_published_tally, outside Django's
models, so that a flush or a fixture never writes the row itself. Django rebuilds a SQLite
table for most ALTERs, which drops its triggers: after every migrate (and a test database's
flush), ensure() puts back any trigger that is missing and counts again. A database without
the row is answered by counting, as before."""

from datetime import UTC, datetime

from django.db import connections, router, transaction
from django.db.models import Exists, OuterRef

from articles.models import Article, Company
from articles.models.common import Status
from articles.models.states import State
from articles.prepared import Prepared

TABLE = "articles_published_tally"
PUBLISHED = Status.PUBLISHED.value

# (name, event, condition, change): one trigger each on both databases.
TRIGGERS = (
    ("articles_tally_insert", "INSERT", f"NEW.status = '{PUBLISHED}'", "+ 1"),
    ("articles_tally_delete", "DELETE", f"OLD.status = '{PUBLISHED}'", "- 1"),
    (
        "articles_tally_update",
        "UPDATE OF status",
        f"(OLD.status = '{PUBLISHED}') <> (NEW.status = '{PUBLISHED}')",
        f"+ CASE WHEN NEW.status = '{PUBLISHED}' THEN 1 ELSE -1 END",
    ),
)

# The rows the triggers count, counted afresh: when the table is made, and after a migrate.
COUNTED = f"SELECT COUNT(*) FROM articles_article WHERE status = '{PUBLISHED}'"
RECOUNT = f"UPDATE {TABLE} SET stories = ({COUNTED}) WHERE id = 1"
CREATE_ROW = f"INSERT INTO {TABLE} (id, stories) SELECT 1, ({COUNTED})"


def _sqlite_statements() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON articles_article "
        f"FOR EACH ROW WHEN {condition} BEGIN "
        f"UPDATE {TABLE} SET stories = stories {change} WHERE id = 1; END"
        for name, event, condition, change in TRIGGERS
    ]


def _postgresql_statements() -> list[str]:
    statements = []
    for name, event, condition, change in TRIGGERS:
        statements += [
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN UPDATE {TABLE} SET stories = stories {change} WHERE id = 1; "
            "RETURN NULL; END $$",
            f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON articles_article "
            f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION {name}()",
        ]
    # TRUNCATE (a PostgreSQL test database's flush) fires no row trigger.
    statements += [
        "CREATE OR REPLACE FUNCTION articles_tally_truncate() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN UPDATE {TABLE} SET stories = 0 WHERE id = 1; "
        "RETURN NULL; END $$",
        "CREATE OR REPLACE TRIGGER articles_tally_truncate AFTER TRUNCATE ON articles_article "
        "FOR EACH STATEMENT EXECUTE FUNCTION articles_tally_truncate()",
    ]
    return statements


def trigger_statements(vendor: str) -> list[str]:
    """The statements that create (or put back) the triggers."""
    return _postgresql_statements() if vendor == "postgresql" else _sqlite_statements()


def create(schema_editor) -> None:
    """Migration 0025: the table, its one row counted now, and the triggers."""
    schema_editor.execute(
        f"CREATE TABLE {TABLE} (id integer NOT NULL PRIMARY KEY CHECK (id = 1), "
        "stories bigint NOT NULL)"
    )
    schema_editor.execute(CREATE_ROW)
    for statement in trigger_statements(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop(schema_editor) -> None:
    """Migration 0025 reversed."""
    postgresql = schema_editor.connection.vendor == "postgresql"
    names = [name for name, *_ in TRIGGERS] + (["articles_tally_truncate"] if postgresql else [])
    for name in names:
        if postgresql:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON articles_article")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    schema_editor.execute(f"DROP TABLE {TABLE}")


def ensure(using: str = "default") -> None:
    """After a migrate or a flush: on SQLite, put back any trigger a table rebuild dropped and
    count again (one writer at a time: the count is exact). PostgreSQL rebuilds no table and
    its TRUNCATE trigger keeps the row right through a flush: only a missing row is counted.
    Nothing to do before migration 0025 has run."""
    connection = connections[using]
    if not router.allow_migrate_model(using, Article):
        return  # a replica: it has the primary's table, triggers and row
    if TABLE not in connection.introspection.table_names():
        return
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {TABLE} WHERE id = 1")
        present = cursor.fetchone() is not None
        if connection.vendor != "postgresql":
            for statement in trigger_statements(connection.vendor):
                cursor.execute(statement)
            if present:
                cursor.execute(RECOUNT)
        if not present:
            cursor.execute(CREATE_ROW)


def ensured(sender, using="default", **kwargs) -> None:
    """post_migrate receiver (articles/apps.py)."""
    ensure(using)


def _moment(value):
    """A time read in a raw row, as an aware UTC datetime (SQLite gives it naive or as text,
    in UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


# The parts of the stamp, compiled once per process (articles/prepared.py): the keys of the
# stories published at a moment still to come and of the withdrawn ones, the latest edit and
# publication among published stories, and the latest change of a company with one.
SCHEDULED = Prepared(
    lambda model, now: model.objects.order_by().in_state(State.SCHEDULED, now).values_list("pk")
)
WITHDRAWN = Prepared(
    lambda model, now: model.objects.order_by().in_state(State.UNPUBLISHED, now).values_list("pk")
)
LATEST_EDIT = Prepared(
    lambda model, now: (
        model.objects.published(now).order_by("-updated_at").values_list("updated_at")[:1]
    )
)
LATEST_PUBLICATION = Prepared(
    lambda model, now: (
        model.objects.published(now).order_by("-published_at").values_list("published_at")[:1]
    )
)
LATEST_COMPANY_CHANGE = Prepared(
    lambda model, now: (
        model.objects.filter(Exists(Article.objects.published(now).filter(company=OuterRef("pk"))))
        .order_by("-updated_at")
        .values_list("updated_at")[:1]
    )
)


def published_stamp(now) -> dict | None:
    """What api/common.py list_stamp() answers for all the stories published at `now`: how
    many there are, and the latest edit, publication and company change among them. None
    when the database keeps no tally: count them.

    One statement, so that all of it is one moment's: the tally less the scheduled and the
    withdrawn stories (their own index ranges), and each maximum from an index walked newest
    first (article_recent_change, article_recent_listing, company_recent_change)."""
    scheduled, withdrawn, *latest = (
        SCHEDULED.statement(Article, now=now),
        WITHDRAWN.statement(Article, now=now),
        LATEST_EDIT.statement(Article, now=now),
        LATEST_PUBLICATION.statement(Article, now=now),
        LATEST_COMPANY_CHANGE.statement(Company, now=now),
    )
    parts = [scheduled, withdrawn, *latest]
    sql = (
        f"SELECT (SELECT stories FROM {TABLE} WHERE id = 1), "
        f"(SELECT COUNT(*) FROM ({scheduled.sql}) scheduled), "
        f"(SELECT COUNT(*) FROM ({withdrawn.sql}) withdrawn), "
        + ", ".join(f"({part.sql})" for part in latest)
    )
    (alias,) = {part.alias for part in parts}
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [value for part in parts for value in part.params])
        tallied, scheduled_count, withdrawn_count, *moments = cursor.fetchone()
    if tallied is None:
        return None
    updated, published, company_updated = (_moment(value) for value in moments)
    return {
        "count": tallied - scheduled_count - withdrawn_count,
        "updated": updated,
        "published": published,
        "company_updated": company_updated,
    }
