"""The readers' limits on the session (ops/postgresql/base.py), on a real PostgreSQL: every
reader's query runs with them and no one else's does, whatever the connection strategy, and a
connection that already holds the limits wanted is given no statement.

Behind PgBouncer, where they are set per transaction instead, tests/test_faults_postgres.py."""

import pytest
from django.db import connection

from tests.postgres_support import run_django, server_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

REQUESTS = """
import psycopg
from django.core.signals import request_finished
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from ops.middleware import ReaderTimeoutsMiddleware

# The backend's own statements go through psycopg's Connection.execute (Django's queries
# through cursors): these are the limits' round trips.
sent = []
execute = psycopg.Connection.execute

def spied(self, query, *args, **kwargs):
    sent.append(str(query))
    return execute(self, query, *args, **kwargs)

psycopg.Connection.execute = spied

def settings_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
        return list(cursor.fetchone())

def plain(request):
    return [settings_now(), settings_now()]

def atomic_first(request):
    with transaction.atomic():
        inside = settings_now()
    return [inside, settings_now()]

def rolled_back(request):
    try:
        with transaction.atomic():
            inside = settings_now()
            raise RuntimeError
    except RuntimeError:
        pass
    return [inside, settings_now()]

def serve(method, view):
    request = getattr(RequestFactory(), method)("/")
    response = ReaderTimeoutsMiddleware(lambda r: HttpResponse(json.dumps(view(r))))(request)
    request_finished.send(sender=None)  # the connection goes back to its pool, or is closed
    return json.loads(response.content)

def statements():
    taken = [s for s in sent if s]  # "" is the pool's health check, asked only when needed
    sent.clear()
    return taken

seen = {}
seen["readers"] = [serve("get", plain) for _ in range(3)]
seen["readers sent"] = statements()
seen["editor"] = serve("post", plain)
seen["editor sent"] = statements()
seen["reader again"] = serve("get", plain)
statements()
seen["editor, atomic first"] = serve("post", atomic_first)
seen["editor, atomic first sent"] = statements()
seen["reader, atomic first"] = serve("get", atomic_first)
seen["reader rolled back"] = serve("get", rolled_back)
seen["editor rolled back"] = serve("post", rolled_back)
statements()
seen["outside any request"] = settings_now()
print(json.dumps(seen))
"""

STRATEGIES = {
    "pool": {"DB_POOL": "true", "DB_POOL_MIN_SIZE": "1", "DB_POOL_MAX_SIZE": "1"},
    "persistent": {"DB_POOL": "false", "CONN_MAX_AGE": "600"},
    "per-request": {"DB_POOL": "false", "CONN_MAX_AGE": "0"},
}
READER = ["1500ms", "2500ms"]
SESSION = ["70ms", "3500ms"]  # DB_LOCK_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS
SETS = "SELECT set_config('lock_timeout', '1500ms', false), set_config('statement_timeout', '2500ms', false)"
RESETS = "RESET lock_timeout; RESET statement_timeout"


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_readers_and_only_readers_run_with_the_limits_set_once_per_connection(strategy):
    result = run_django(
        REQUESTS,
        DATABASE_URL=server_url(connection.settings_dict["NAME"]),
        DB_READER_LOCK_TIMEOUT_MS="1500",
        DB_READER_STATEMENT_TIMEOUT_MS="2500",
        DB_LOCK_TIMEOUT_MS="70",
        DB_STATEMENT_TIMEOUT_MS="3500",
        **STRATEGIES[strategy],
    )

    assert result["readers"] == [[READER, READER]] * 3
    assert result["editor"] == [SESSION, SESSION]
    assert result["reader again"] == [READER, READER]
    if strategy == "per-request":
        # A new connection for every request: each reader's sets them, nothing to take back.
        assert result["readers sent"] == [SETS] * 3
        assert result["editor sent"] == []
    else:
        # The connection kept across requests holds them: set once, taken back once.
        assert result["readers sent"] == [SETS]
        assert result["editor sent"] == [RESETS]
    # An editor's transaction that began before its first query, on a connection a reader
    # left: its own values inside it (for that transaction only), and after it.
    assert result["editor, atomic first"] == [SESSION, SESSION]
    if strategy == "pool":
        # Taken from the pool as the transaction begins: set back for the session, before it.
        assert result["editor, atomic first sent"] == [RESETS]
    elif strategy == "persistent":
        # Already open: for the transaction inside it, for the session after it.
        assert result["editor, atomic first sent"] == [
            "SET LOCAL lock_timeout TO DEFAULT; SET LOCAL statement_timeout TO DEFAULT",
            RESETS,
        ]
    assert result["reader, atomic first"] == [READER, READER]
    # A transaction rolled back takes nothing with it that the connection relies on.
    assert result["reader rolled back"] == [READER, READER]
    assert result["editor rolled back"] == [SESSION, SESSION]
    assert result["outside any request"] == SESSION


def test_a_readers_limits_hold_in_a_transaction_of_its_own_on_a_connection_without_them():
    # The tests' own connection is inside the test's transaction: the reader's limits are set
    # for that transaction only and the session keeps its own.
    from django.http import HttpResponse
    from django.test import RequestFactory

    from ops.middleware import ReaderTimeoutsMiddleware

    def shown(request):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
            )
            return HttpResponse(" ".join(cursor.fetchone()))

    reader = ReaderTimeoutsMiddleware(shown)(RequestFactory().get("/"))
    editor = ReaderTimeoutsMiddleware(shown)(RequestFactory().post("/"))

    assert reader.content.decode() == "1s 5s"
    assert editor.content.decode() == "0 0"
    assert getattr(connection.connection, "reader_limits", None) is None
