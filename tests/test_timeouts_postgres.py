"""Statement and lock timeouts on a real PostgreSQL: what the server raises when a request runs
out of time is answered with a 503 and Retry-After, on pages and in the API."""

import logging
import os

import pytest
from django.db import connection
from django.urls import reverse

from tests.factories import ArticleFactory
from tests.postgres_support import SLEEP_OUTCOME, own_connection, run_django

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# An advisory lock number of the tests' own.
HELD_KEY = 7_100_001


def first_query_runs_out_of(kind: str):
    """An execute_wrapper whose first query instead outlasts a 50 ms `kind` timeout on the
    server (SET LOCAL: the test's transaction ends it)."""
    done = []

    def wrapper(execute, sql, params, many, context):
        if done:
            return execute(sql, params, many, context)
        done.append(sql)
        if kind == "statement":
            execute("SET LOCAL statement_timeout = 50", None, False, context)
            return execute("SELECT pg_sleep(2)", None, False, context)
        execute("SET LOCAL lock_timeout = 50", None, False, context)
        return execute(f"SELECT pg_advisory_xact_lock({HELD_KEY})", None, False, context)

    return wrapper


@pytest.fixture
def held_lock():
    """Another session holds the advisory lock the lock-timeout query waits for."""
    with own_connection("timeout-tests") as other:
        other.execute("SELECT pg_advisory_lock(%s)", [HELD_KEY])
        yield
        other.execute("SELECT pg_advisory_unlock(%s)", [HELD_KEY])


@pytest.mark.parametrize(
    ("kind", "server_says", "message"),
    [
        ("statement", "canceling statement due to statement timeout", "제시간에"),
        ("lock", "canceling statement due to lock timeout", "잠그고"),
    ],
    ids=["statement", "lock"],
)
def test_a_page_that_runs_out_of_time_on_the_server_answers_503(
    client, caplog, held_lock, kind, server_says, message
):
    story = ArticleFactory()
    caplog.set_level(logging.WARNING)

    with connection.execute_wrapper(first_query_runs_out_of(kind)):
        response = client.get(story.get_absolute_url())

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert message in response.content.decode()
    logged = [r.getMessage() for r in caplog.records if r.name == "ops.database"]
    assert len(logged) == 1
    assert f"{kind}-timeout" in logged[0]
    assert server_says in logged[0]


@pytest.mark.parametrize(("kind", "message"), [("statement", "제시간에"), ("lock", "잠그고")])
def test_an_api_request_that_runs_out_of_time_on_the_server_answers_json_503(
    client, held_lock, kind, message
):
    ArticleFactory()

    with connection.execute_wrapper(first_query_runs_out_of(kind)):
        response = client.get("/api/v1/stories")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert message in response.json()["message"]


def test_readyz_reports_a_statement_timeout_as_not_ready(client):
    with connection.execute_wrapper(first_query_runs_out_of("statement")):
        response = client.get(reverse("ops:readyz"))

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["reason"]) == ("unavailable", "statement-timeout")
    assert body["cache"] in {"up", "down"}


# --- DB_STATEMENT_TIMEOUT_MS and DB_LOCK_TIMEOUT_MS on a direct connection ----------------

SESSION = (
    SLEEP_OUTCOME
    + """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
    shown = cursor.fetchone()
    error = sleep_outcome(cursor)
print(json.dumps({"shown": shown, "error": error}))
"""
)


@pytest.mark.parametrize("pool", ["false", "true"])
def test_the_timeouts_reach_every_direct_session_from_its_start(pool):
    result = run_django(
        SESSION,
        DATABASE_URL=os.environ["DATABASE_URL"],
        DB_POOL=pool,
        DB_STATEMENT_TIMEOUT_MS="150",
        DB_LOCK_TIMEOUT_MS="70",
    )

    assert result == {"shown": ["150ms", "70ms"], "error": "57014"}
