"""Operators' behaviour on any database: the 503 when no connection can be had, the probes, the
status page's access rules, the case study page and the serving checks behind gunicorn.conf.py."""

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import psycopg_pool
import pytest
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, ProgrammingError, connection
from django.db.backends.signals import connection_created
from django.test import Client
from django.urls import reverse

from culture.database import POSTGRES_ENGINE
from culture.workers import (
    name_connections,
    serving_problems,
    serving_warnings,
    threads_per_process,
)
from ops.availability import (
    DATABASE_UNREACHABLE,
    LOCK_TIMEOUT,
    POOL_EXHAUSTED,
    POOL_QUEUE_FULL,
    STATEMENT_TIMEOUT,
    unavailable_reason,
)
from tests.factories import StaffFactory, UserFactory
from tokens.models import ApiToken

REPO = Path(__file__).resolve().parents[1]


def wrapped(cause: BaseException, django_class=OperationalError) -> BaseException:
    """What Django raises: its own error class with psycopg's error as the cause."""
    try:
        try:
            raise cause
        except Exception as exc:
            raise django_class(str(exc)) from exc
    except Exception as outer:
        return outer


def pool_timeout():
    return wrapped(psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec"))


@pytest.fixture
def no_database(monkeypatch):
    """Every attempt to use the default connection fails as an exhausted pool does."""

    def refuse(*args, **kwargs):
        raise pool_timeout()

    monkeypatch.setattr(connection, "ensure_connection", refuse)


# --- which errors mean "no connection" -------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (pool_timeout(), POOL_EXHAUSTED),
        (wrapped(psycopg_pool.TooManyRequests("the pool has already 2 requests waiting")), POOL_QUEUE_FULL),
        (psycopg_pool.PoolTimeout("raised by the pool itself"), POOL_EXHAUSTED),
        (wrapped(psycopg.OperationalError("connection failed: Connection refused")), DATABASE_UNREACHABLE),
        (wrapped(psycopg.errors.AdminShutdown("terminating connection")), DATABASE_UNREACHABLE),
        (wrapped(psycopg.errors.CannotConnectNow("the database system is starting up")), DATABASE_UNREACHABLE),
        (wrapped(psycopg.errors.TooManyConnections("too many clients")), DATABASE_UNREACHABLE),
        (wrapped(psycopg.InterfaceError("the connection is closed"), InterfaceError), DATABASE_UNREACHABLE),
        (wrapped(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")), STATEMENT_TIMEOUT),
        (wrapped(psycopg.errors.QueryCanceled("canceling statement due to user request")), STATEMENT_TIMEOUT),
        (wrapped(psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")), LOCK_TIMEOUT),
        (wrapped(psycopg.errors.LockNotAvailable("could not obtain lock on row")), LOCK_TIMEOUT),
        (wrapped(psycopg.errors.SerializationFailure("could not serialize")), None),
        (wrapped(psycopg.errors.DeadlockDetected("deadlock detected")), None),
        (wrapped(psycopg.errors.UndefinedTable("relation does not exist"), ProgrammingError), None),
        (wrapped(sqlite3.OperationalError("database is locked")), None),
        (OperationalError("no cause at all"), None),
        (ValueError("not a database error"), None),
    ],
)  # fmt: skip
def test_only_errors_that_mean_the_database_cannot_serve_now_become_503(error, reason):
    assert unavailable_reason(error) == reason


# --- the 503 -----------------------------------------------------------------------------


def home_page_503(client, retry_after: str) -> str:
    """The home page's answer when the database cannot serve: a 503 that asks to come back
    after `retry_after` seconds and is never cached. Returns its HTML."""
    response = client.get(reverse("articles:home"))
    assert response.status_code == 503
    assert response["Retry-After"] == retry_after
    assert response["Cache-Control"] == "no-store"
    return response.content.decode()


def test_page_without_a_connection_answers_503_in_the_site_style(client, no_database, caplog):
    caplog.set_level(logging.WARNING)
    html = home_page_503(client, "2")
    assert "잠시 후 다시 시도해 주세요" in html
    assert "데이터베이스 연결을 얻지 못했습니다" in html
    assert 'class="site-footer"' in html  # the site's own layout, drawn without the database
    records = [r for r in caplog.records if r.name == "ops.database"]
    assert len(records) == 1
    assert "pool-exhausted" in records[0].getMessage()
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_api_without_a_connection_answers_503_json(client, no_database):
    response = client.get("/api/v1/stories")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    body = response.json()
    assert body["status"] == 503
    assert "데이터베이스" in body["message"]


def test_database_error_raised_in_a_middleware_is_a_503_too(monkeypatch):
    """A session read in middleware fails before any view runs: handler500 answers 503."""
    from django.contrib.sessions.middleware import SessionMiddleware

    def refuse(self, request):
        raise pool_timeout()

    monkeypatch.setattr(SessionMiddleware, "process_request", refuse)
    response = Client(raise_request_exception=False).get(reverse("ops:healthz"))
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "잠시 후 다시 시도해 주세요" in response.content.decode()


def test_other_database_errors_stay_errors(monkeypatch):
    def fail(*args, **kwargs):
        raise wrapped(psycopg.errors.DeadlockDetected("deadlock detected"))

    monkeypatch.setattr(connection, "ensure_connection", fail)
    response = Client(raise_request_exception=False).get(reverse("articles:home"))
    assert response.status_code == 500


# A statement or a lock timeout on the server, and what the reader is told of it.
server_timeouts = pytest.mark.parametrize(
    ("error", "message"),
    [
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), "제시간에"),
        (psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"), "잠그고"),
    ],
    ids=["statement", "lock"],
)


@server_timeouts
def test_a_statement_or_lock_timeout_is_a_503_page_with_retry_after(
    client, monkeypatch, caplog, error, message
):
    def time_out(*args, **kwargs):
        raise wrapped(error)

    monkeypatch.setattr(connection, "ensure_connection", time_out)
    caplog.set_level(logging.WARNING)
    html = home_page_503(client, "5")
    assert message in html
    assert "잠시 후 다시 시도해 주세요" in html
    records = [r.getMessage() for r in caplog.records if r.name == "ops.database"]
    assert len(records) == 1
    assert str(error) in records[0]


@server_timeouts
def test_a_statement_or_lock_timeout_in_the_api_is_a_json_503_with_retry_after(
    client, monkeypatch, error, message
):
    def time_out(*args, **kwargs):
        raise wrapped(error)

    monkeypatch.setattr(connection, "ensure_connection", time_out)
    response = client.get("/api/v1/stories")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == 503
    assert message in body["message"]


# --- probes ------------------------------------------------------------------------------


def test_healthz_opens_no_database_connection():
    """No `db` fixture: pytest-django would fail any attempt to connect; the signal counts
    connections opened anyway (the seed's before_request lesson)."""
    opened = []

    def count(sender, connection, **kwargs):
        opened.append(connection.alias)

    connection_created.connect(count)
    failures = []
    got_request_exception.connect(lambda **kw: failures.append(kw), weak=False)
    try:
        response = Client().get(reverse("ops:healthz"))
    finally:
        connection_created.disconnect(count)
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert opened == []
    assert failures == []


@pytest.mark.django_db
def test_readyz_answers_ready_when_the_database_answers(client):
    response = client.get(reverse("ops:readyz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "cache": "up", "replica": "none"}


def test_readyz_answers_503_when_no_connection_can_be_had(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise wrapped(psycopg.OperationalError("connection failed: Connection refused"))

    monkeypatch.setattr(connection, "ensure_connection", refuse)
    response = client.get(reverse("ops:readyz"))
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": "database-unreachable",
        "cache": "down",  # the cache is a table in that database
    }
    assert response["Retry-After"] == "5"


# --- the status page and its API -------------------------------------------------------


@pytest.mark.django_db
def test_status_page_sends_anonymous_visitors_to_the_login(client):
    response = client.get(reverse("ops:database"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


@pytest.mark.django_db
def test_status_page_is_closed_to_readers_who_are_not_staff(client):
    client.force_login(UserFactory())
    response = client.get(reverse("ops:database"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


@pytest.mark.django_db
def test_status_page_shows_an_operator_the_strategy_and_every_knob(client, settings):
    client.force_login(StaffFactory(role="editor"))
    response = client.get(reverse("ops:database"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "데이터베이스 연결 상태" in html
    assert f"pid {os.getpid()}" in html
    for knob in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"):
        assert knob in html
    if connection.vendor == "sqlite":
        assert '<strong id="strategy">sqlite</strong>' in html
        assert "풀을 쓰지 않습니다" in html


@pytest.mark.django_db
def test_ops_api_refuses_anonymous_callers_and_readers(client):
    assert client.get("/api/v1/ops/db").status_code == 401
    client.force_login(UserFactory())
    assert client.get("/api/v1/ops/db").status_code == 401


@pytest.mark.django_db
def test_ops_api_answers_an_operators_session(client):
    client.force_login(StaffFactory(role="editor"))
    response = client.get("/api/v1/ops/db")
    assert response.status_code == 200
    body = response.json()
    assert body["alias"] == "default"
    assert body["process"]["pid"] == os.getpid()
    assert "CONN_MAX_AGE" in body["knobs"]
    assert isinstance(body["results"], list)


@pytest.mark.django_db
def test_ops_api_answers_a_token_with_the_ops_scope_only(client):
    user = StaffFactory(role="editor")
    _, ops = ApiToken.issue(user=user, name="monitoring", scopes=["ops:read"])
    _, writer = ApiToken.issue(user=user, name="editor", scopes=["stories:write"])
    response = client.get("/api/v1/ops/db", headers={"Authorization": f"Bearer {ops}"})
    assert response.status_code == 200
    assert response.json()["strategy"]
    refused = client.get("/api/v1/ops/db", headers={"Authorization": f"Bearer {writer}"})
    assert refused.status_code == 403


@pytest.mark.django_db
def test_a_writer_is_refused_the_operators_room_everywhere(client):
    """Server addresses, the process list and the pool's figures are for editors and admins."""
    writer = StaffFactory(role="writer")
    client.force_login(writer)
    assert client.get(reverse("ops:database")).status_code == 403
    response = client.get("/api/v1/ops/db")
    assert response.status_code == 403
    assert "편집자와 관리자" in response.json()["message"]
    client.logout()
    _, raw = ApiToken.issue(user=writer, name="monitoring", scopes=["ops:read"])
    by_token = client.get("/api/v1/ops/db", headers={"Authorization": f"Bearer {raw}"})
    assert by_token.status_code == 403


def test_ops_api_documents_every_answer_it_gives(client):
    """bin/fuzz-api checks every answer against the schema: the refusals must be in it, in
    the API's one error shape."""
    schema = client.get("/api/v1/openapi.json").json()
    responses = schema["paths"]["/api/v1/ops/db"]["get"]["responses"]
    assert {"200", "401", "403", "503"} <= set(responses)
    for status in ("401", "403", "503"):
        content = responses[status]["content"]["application/json"]["schema"]
        assert content == {"$ref": "#/components/schemas/ErrorOut"}
    fields = set(schema["components"]["schemas"]["ErrorOut"]["properties"])
    anonymous = client.get("/api/v1/ops/db")
    assert anonymous.status_code == 401
    assert set(anonymous.json()) == fields


# --- the case study -------------------------------------------------------------------


@pytest.mark.django_db
def test_case_study_page_renders_the_write_up_and_its_charts(client):
    response = client.get(reverse("ops:case-study"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "QueuePool" in html
    chart_root = reverse("ops:case-study-chart", args=["throughput.png"])
    assert f'src="{chart_root}"' in html
    chart = client.get(chart_root)
    assert chart.status_code == 200
    assert chart["Content-Type"] == "image/png"
    assert b"".join(chart.streaming_content).startswith(b"\x89PNG")


@pytest.mark.django_db
def test_case_study_charts_serve_only_charts(client):
    for name in ["..%2Fpooling.md", "results.json", "nope.png"]:
        assert client.get(f"/case-study/pooling/charts/{name}").status_code == 404


@pytest.mark.django_db
def test_footer_links_the_case_study(client):
    html = client.get(reverse("articles:home")).content.decode()
    assert f'href="{reverse("ops:case-study")}"' in html


# --- serving: the rules gunicorn.conf.py applies --------------------------------------

POOLED = {
    "default": {
        "ENGINE": POSTGRES_ENGINE,
        "OPTIONS": {"application_name": "culture-web", "connect_timeout": 5,
                    "pool": {"min_size": 2, "max_size": 4, "timeout": 5.0}},
    }
}  # fmt: skip


def test_a_pool_that_fits_the_threads_passes():
    assert serving_problems(POOLED, worker_class="gthread", threads=4, worker_timeout=30) == []
    assert serving_problems(POOLED, worker_class="sync", threads=1, worker_timeout=30) == []


def test_a_pool_smaller_than_the_threads_is_refused():
    problems = serving_problems(POOLED, worker_class="gthread", threads=8, worker_timeout=30)
    assert len(problems) == 1
    assert "DB_POOL_MAX_SIZE (4)" in problems[0]
    assert "8 request threads" in problems[0]


def test_a_pool_timeout_not_below_the_worker_timeout_is_refused():
    problems = serving_problems(POOLED, worker_class="gthread", threads=4, worker_timeout=5)
    assert any("DB_POOL_TIMEOUT (5 s)" in problem for problem in problems)
    assert any("DB_CONNECT_TIMEOUT" in problem for problem in problems)


def with_queue(max_waiting) -> dict:
    pool = {"min_size": 4, "max_size": 4, "timeout": 5.0}
    if max_waiting is not None:
        pool["max_waiting"] = max_waiting
    return {"default": {"ENGINE": POSTGRES_ENGINE, "OPTIONS": {"pool": pool}}}


@pytest.mark.parametrize("max_waiting", [1, 2, 3])
def test_a_queue_below_the_threads_raises_no_warning(max_waiting):
    assert serving_warnings(with_queue(max_waiting), worker_class="gthread", threads=4) == []


@pytest.mark.parametrize("max_waiting", [None, 0, 4, 9])
def test_a_queue_that_lets_every_thread_wait_is_warned_about(max_waiting):
    warnings = serving_warnings(with_queue(max_waiting), worker_class="gthread", threads=4)
    assert len(warnings) == 1
    assert "DB_POOL_MAX_WAITING" in warnings[0]
    assert "all 4 request threads" in warnings[0]


def test_one_thread_per_worker_needs_no_queue_bound():
    assert serving_warnings(with_queue(0), worker_class="sync", threads=1) == []


def test_no_pool_no_queue_warning():
    sqlite = {"default": {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {}}}
    assert serving_warnings(sqlite, worker_class="gthread", threads=4) == []


def test_sync_workers_with_threads_count_as_threaded():
    assert threads_per_process("sync", 1) == 1
    assert threads_per_process("sync", 4) == 4
    assert threads_per_process("gthread", 4) == 4


def test_each_worker_names_its_connections_after_its_pid():
    databases = {
        "default": {"ENGINE": POSTGRES_ENGINE, "OPTIONS": {}},
        "local": {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {}},
    }
    name_connections(databases, pid=4321)
    assert databases["default"]["OPTIONS"]["application_name"] == "culture-web:4321"
    name_connections(databases, pid=99)  # a worker forked again keeps one suffix
    assert databases["default"]["OPTIONS"]["application_name"] == "culture-web:99"
    assert "application_name" not in databases["local"]["OPTIONS"]


def _check_config(**env) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DB_", "GUNICORN_", "SQLITE_", "CONN_"))
    }
    environment.update(env)
    return subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "--check-config"],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_gunicorn_config_checks_cleanly_with_the_defaults():
    result = _check_config(DATABASE_URL="postgres://app@127.0.0.1:5432/culture", DB_POOL="true")
    assert result.returncode == 0, result.stderr


def test_gunicorn_config_refuses_a_pool_timeout_above_the_worker_timeout():
    result = _check_config(
        DATABASE_URL="postgres://app@127.0.0.1:5432/culture",
        DB_POOL="true",
        DB_POOL_TIMEOUT="45",
    )
    assert result.returncode != 0
    assert "DB_POOL_TIMEOUT (45 s) is not below the worker timeout (30 s)" in result.stderr


@pytest.mark.parametrize(("name", "value"), [("GUNICORN_WORKERS", "abc"), ("DB_POOL", "maybe")])
def test_gunicorn_config_refuses_a_bad_value_in_one_line_naming_the_variable(name, value):
    result = _check_config(**{name: value})

    assert result.returncode != 0
    assert f"gunicorn.conf.py: {name} must be " in result.stderr
    assert f"got {value!r}." in result.stderr
    assert "Traceback" not in result.stderr
