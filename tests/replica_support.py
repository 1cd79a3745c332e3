"""A read replica for tests: the alias "replica" as a second connection to the test database
(what Django's TEST MIRROR does), or to a server that is not there, with the router on.

A second connection sees only committed rows, so the tests that read through it run with
django_db(transaction=True, databases=DATABASES)."""

import copy
import socket
from pathlib import Path

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext, override_settings

from articles import replica
from articles.replica import REPLICA_ALIAS

CHROME = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"}


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def install() -> dict:
    """Add the alias (before the test databases are checked: a module-scoped fixture)."""
    primary = connections.settings["default"]
    config = copy.deepcopy(primary)
    config["TEST"] = {**primary["TEST"], "MIRROR": "default"}
    config.update({"STICKY_SECONDS": 5.0, "RETRY_SECONDS": 5.0})
    connections.settings[REPLICA_ALIAS] = config
    replica.health.reset()
    return config


def close(alias: str = REPLICA_ALIAS) -> None:
    """Close the alias's connection, and its pool (DB_POOL=true), whose connections would
    otherwise keep the test database from being dropped."""
    connection = connections[alias]
    connection.close()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()


def uninstall() -> None:
    if REPLICA_ALIAS in connections.settings:
        close()
        del connections[REPLICA_ALIAS]
        del connections.settings[REPLICA_ALIAS]
    replica.health.reset()


@pytest.fixture(scope="module")
def replica_alias():
    """The replica's alias on the test database, with the router, for a whole module (whose
    tests name it: django_db(databases=DATABASES))."""
    install()
    with override_settings(DATABASE_ROUTERS=["articles.replica.ReplicaRouter"]):
        yield
    uninstall()


@pytest.fixture
def replica_down(replica_alias):
    """The replica's alias pointing where nothing answers, for one test."""
    replica_connection = connections[REPLICA_ALIAS]
    close()
    config = replica_connection.settings_dict
    saved = copy.deepcopy(config)
    if replica_connection.vendor == "sqlite":
        config["NAME"] = Path("/nonexistent-replica-dir/replica.sqlite3")
    else:
        config["HOST"], config["PORT"] = "127.0.0.1", closed_port()
        config["OPTIONS"]["connect_timeout"] = 1
        config["OPTIONS"].pop("pool", None)
    replica.health.reset()
    yield
    close()
    config.clear()
    config.update(saved)
    replica.health.reset()


DATABASES = ["default", REPLICA_ALIAS]


class Both:
    """The queries a block ran on the primary and on the replica."""

    def __enter__(self):
        self.primary = CaptureQueriesContext(connections["default"])
        self.replica = CaptureQueriesContext(connections[REPLICA_ALIAS])
        self.primary.__enter__()
        self.replica.__enter__()
        return self

    def __exit__(self, *exc):
        self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)

    def sql(self, which: str) -> list[str]:
        return [query["sql"] for query in getattr(self, which).captured_queries]

    def read_stories(self, which: str) -> bool:
        return any(sql.startswith('SELECT "articles_article"."id"') for sql in self.sql(which))
