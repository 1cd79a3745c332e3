"""What the status page and GET /api/v1/ops/db show: the connection strategy in force, every
knob, this process's pool, and the server's view of who holds which connection."""

import json
import os
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import connections

from ops.availability import pool_stats

RESULTS_PATH = settings.BASE_DIR / "docs" / "pooling" / "results.json"
# The gunicorn settings this process was started with (gunicorn.conf.py reads the same names).
GUNICORN_VARIABLES = (
    "GUNICORN_WORKERS",
    "GUNICORN_WORKER_CLASS",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
)
# Longest query text shown for an idle-in-transaction session: enough to recognise it.
QUERY_PREVIEW_CHARS = 200


def describe_strategy(config: Mapping) -> str:
    """Name the connection strategy of a DATABASES entry, for the status page."""
    if "sqlite" in config.get("ENGINE", ""):
        return "sqlite"
    # Django treats a falsy "pool" ({} included) as no pool; so does this.
    if (config.get("OPTIONS") or {}).get("pool"):
        return "pool"
    if config.get("CONN_MAX_AGE", 0) == 0:
        return "connect-per-request"
    return "persistent"


def database_status(alias: str = "default") -> dict:
    config = settings.DATABASES[alias]
    options = config.get("OPTIONS", {})
    connection = connections[alias]
    status = {
        "alias": alias,
        "strategy": describe_strategy(config),
        "vendor": connection.vendor,
        "process": {"pid": os.getpid(), "threads": threading.active_count()},
        "knobs": _knobs(config),
        "gunicorn": {name: os.environ.get(name, "") for name in GUNICORN_VARIABLES},
        "pool": pool_stats(alias),
        "server": None,
        "results": case_study_headline(),
    }
    if connection.vendor == "postgresql":
        status["server"] = _server(connection, options.get("application_name", ""))
    return status


def _knobs(config) -> dict[str, str]:
    options = config.get("OPTIONS", {})
    knobs = {
        "CONN_MAX_AGE": config.get("CONN_MAX_AGE"),
        "CONN_HEALTH_CHECKS": config.get("CONN_HEALTH_CHECKS"),
        "DISABLE_SERVER_SIDE_CURSORS": config.get("DISABLE_SERVER_SIDE_CURSORS", False),
    }
    for key in ("application_name", "connect_timeout", "options"):
        if key in options:
            knobs[key] = options[key]
    pool = options.get("pool")
    if isinstance(pool, dict):
        knobs.update({f"pool.{key}": value for key, value in pool.items()})
    elif pool:
        knobs["pool"] = pool
    # Values as text: None (keep forever) must read as such, not vanish.
    return {key: str(value) for key, value in knobs.items()}


def _server(connection, application_name: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), "
            "current_setting('max_connections')::int, "
            "current_setting('superuser_reserved_connections')::int, "
            "pg_backend_pid()"
        )
        version, max_connections, reserved, own_pid = cursor.fetchone()
        # Client sessions only: the checkpointer and other background workers hold no slot
        # that an application could want.
        cursor.execute(
            "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        by_state = [{"key": key, "count": count} for key, count in cursor.fetchall()]
        cursor.execute(
            "SELECT coalesce(nullif(application_name, ''), '(none)'), count(*), "
            "count(*) FILTER (WHERE state = 'active'), "
            "count(*) FILTER (WHERE state = 'idle'), "
            "count(*) FILTER (WHERE state LIKE 'idle in transaction%%') "
            "FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        by_application = [
            {"key": key, "count": count, "active": active, "idle": idle, "in_transaction": itx}
            for key, count, active, idle, itx in cursor.fetchall()
        ]
        # The leak suspects: sessions that opened a transaction and stopped talking.
        cursor.execute(
            "SELECT pid, coalesce(application_name, ''), coalesce(usename, ''), "
            "coalesce(datname, ''), state, "
            "extract(epoch FROM now() - xact_start)::float, "
            "extract(epoch FROM now() - state_change)::float, left(query, %s) "
            "FROM pg_stat_activity WHERE state LIKE 'idle in transaction%%' "
            "ORDER BY xact_start",
            [QUERY_PREVIEW_CHARS],
        )
        idle_in_transaction = [
            {
                "pid": pid,
                "application_name": app,
                "user": user,
                "database": database,
                "state": state,
                "transaction_seconds": round(xact_age or 0.0, 1),
                "idle_seconds": round(idle_age or 0.0, 1),
                "query": query or "",
            }
            for pid, app, user, database, state, xact_age, idle_age, query in cursor.fetchall()
        ]
    total = sum(row["count"] for row in by_state)
    return {
        "version": version,
        "max_connections": max_connections,
        "superuser_reserved_connections": reserved,
        "connections": total,
        "own_pid": own_pid,
        "application_name": application_name,
        "by_state": by_state,
        "by_application": by_application,
        "idle_in_transaction": idle_in_transaction,
    }


def case_study_headline() -> list[dict]:
    """The benchmark's headline rows (docs/pooling/results.json), for comparison."""
    return _headline(file_mtime(RESULTS_PATH))


def file_mtime(path: Path) -> float:
    """When `path` last changed, 0.0 when it is missing (cache keys for files read once)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=1)
def _headline(mtime: float) -> list[dict]:
    if not mtime:
        return []
    try:
        data = json.loads(RESULTS_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    rows = data.get("headline", [])
    return [
        {
            "label": str(row.get("label", "")),
            "requests_per_second": float(row.get("requests_per_second") or 0),
            "p50_ms": float(row.get("p50_ms") or 0),
            "p99_ms": float(row.get("p99_ms") or 0),
            "server_connections_max": int(row.get("server_connections_max") or 0),
            "errors": int(row.get("errors") or 0),
        }
        for row in rows
        if isinstance(row, dict)
    ]
