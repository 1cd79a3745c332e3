"""The read replica's router (articles/replica.py) without a replica alias: its rules, and that
without DATABASE_REPLICA_URL nothing changes."""

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connections

from articles import replica
from articles.models import Article, ViewTotal
from articles.replica import REPLICA_ALIAS, ReplicaRouter
from ops import replica as replica_requests

# --- Without a replica: nothing changes ------------------------------------------------------


def test_without_a_replica_there_is_no_router_and_no_middleware(client, db):
    assert django_settings.DATABASE_ROUTERS == []
    assert REPLICA_ALIAS not in connections.settings
    assert not replica.configured()
    response = client.get("/readyz")
    assert response.json()["replica"] == "none"
    with pytest.raises(MiddlewareNotUsed):
        replica_requests.ReplicaMiddleware(lambda request: None)


# --- The router ------------------------------------------------------------------------------


@pytest.fixture
def usable(monkeypatch):
    """The router's view of a replica that answers (no connection is made)."""
    monkeypatch.setattr(replica, "replica_usable", lambda: True)


def test_content_reads_go_to_the_replica_only_inside_a_readers_request(usable):
    router = ReplicaRouter()
    assert router.db_for_read(Article) == DEFAULT_DB_ALIAS
    with replica.reading_from_replica():
        assert router.db_for_read(Article) == REPLICA_ALIAS
        assert router.db_for_read(ViewTotal) == REPLICA_ALIAS
        with replica.primary():
            assert router.db_for_read(Article) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Article) == REPLICA_ALIAS
    assert router.db_for_read(Article) == DEFAULT_DB_ALIAS


def test_sessions_users_and_writes_stay_on_the_primary(usable):
    from django.contrib.auth.models import User
    from django.contrib.sessions.models import Session

    from tokens.models import ApiToken

    router = ReplicaRouter()
    with replica.reading_from_replica():
        for model in (User, Session, ApiToken):
            assert router.db_for_read(model) == DEFAULT_DB_ALIAS
        assert router.db_for_write(Article) == DEFAULT_DB_ALIAS
        assert router.allow_relation(Article(), Article())


def test_migrations_run_on_the_primary_only():
    router = ReplicaRouter()
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "articles")
    assert not router.allow_migrate(REPLICA_ALIAS, "articles")
    assert not router.allow_migrate(REPLICA_ALIAS, "auth")


def test_use_primary_lasts_to_the_end_of_the_readers_block(usable):
    router = ReplicaRouter()
    with replica.reading_from_replica():
        replica.use_primary()
        assert router.db_for_read(Article) == DEFAULT_DB_ALIAS
    with replica.reading_from_replica():
        assert router.db_for_read(Article) == REPLICA_ALIAS


def test_each_thread_has_its_own_choice(usable):
    import threading

    router = ReplicaRouter()
    seen = {}
    inside, checked = threading.Event(), threading.Event()

    def other_thread():
        inside.wait(5)
        seen["other"] = router.db_for_read(Article)
        checked.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with replica.reading_from_replica():
        inside.set()
        checked.wait(5)
        seen["mine"] = router.db_for_read(Article)
    thread.join(5)
    assert seen == {"other": DEFAULT_DB_ALIAS, "mine": REPLICA_ALIAS}


def test_lsns_compare_as_numbers_not_text():
    assert replica.lsn_value("0/A") > replica.lsn_value("0/9")
    assert replica.lsn_value("1/0") > replica.lsn_value("0/FFFFFFFF")
    assert replica.lsn_value("16/B374D848") == (0x16 << 32) | 0xB374D848
