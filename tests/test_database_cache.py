"""The shared cache's table without Redis (ops/database_cache.py): a read of one key answers
what Django's DatabaseCache answers (present, missing, expired and then deleted, versioned,
prefixed), in one statement."""

import uuid
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.core.cache.backends.base import CacheKeyWarning
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ops.database_cache import LeanDatabaseCache
from tests.prepared_support import prepared_statements

pytestmark = pytest.mark.django_db


def pair(**params):
    """The lean cache and Django's own on the site's table, with the same parameters."""
    return LeanDatabaseCache("culture_cache", params), DatabaseCache("culture_cache", params)


def stored_keys() -> set:
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM culture_cache")
        return {key for (key,) in cursor.fetchall()}


def test_the_site_s_shared_cache_is_the_lean_one_without_redis():
    assert isinstance(caches["default"], LeanDatabaseCache)


@pytest.mark.parametrize(
    "value", [1, "스토리", {"version": (7, 1.5, None, "0/0")}, None, [b"\x00", 2.5]]
)
def test_a_value_reads_back_as_django_reads_it(value):
    lean, django = pair()
    key = uuid.uuid4().hex
    django.set(key, value)
    assert lean.get(key, "missing") == django.get(key, "missing") == value
    lean.set(key, ("again", value))
    assert django.get(key) == lean.get(key) == ("again", value)


def test_a_missing_key_gives_the_default():
    lean, django = pair()
    key = uuid.uuid4().hex
    assert lean.get(key) is None
    assert lean.get(key, "default") == django.get(key, "default") == "default"


def test_an_expired_entry_is_missing_and_deleted():
    lean, django = pair()
    key = uuid.uuid4().hex
    lean.set(key, "old", timeout=60)
    made = lean.make_key(key)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE culture_cache SET expires = %s WHERE cache_key = %s",
            [timezone.now() - timedelta(seconds=1), made],
        )
    assert made in stored_keys()
    assert lean.get(key, "gone") == "gone"
    assert made not in stored_keys()
    assert django.get(key, "gone") == "gone"


def test_versions_and_prefixes_name_the_same_entries_as_django_s():
    lean, django = pair(KEY_PREFIX="site", VERSION=3)
    key = uuid.uuid4().hex
    django.set(key, "third")
    django.set(key, "fourth", version=4)
    assert lean.get(key) == "third"
    assert lean.get(key, version=4) == "fourth"
    assert pair()[0].get(key) is None  # another prefix, another entry


def test_a_read_is_one_statement():
    lean, _ = pair()
    key = uuid.uuid4().hex
    lean.set(key, "once")
    with CaptureQueriesContext(connection) as queries:
        assert lean.get(key) == "once"
        assert lean.get(uuid.uuid4().hex) is None
    assert len(queries) == 2
    assert all("culture_cache" in query["sql"] for query in queries)


def test_a_key_django_would_warn_about_warns_here_too():
    lean, django = pair()
    with pytest.warns(CacheKeyWarning, match="memcached") as lean_warnings:
        lean.get("a key with spaces")
    with pytest.warns(CacheKeyWarning, match="memcached") as django_warnings:
        django.get("a key with spaces")
    assert [str(w.message) for w in lean_warnings] == [str(w.message) for w in django_warnings]


@pytest.mark.postgres
def test_a_read_is_prepared_by_the_server_once_on_postgresql():
    lean, _ = pair()
    lean.set("prepared", "yes")
    assert lean.get("prepared") == "yes"
    assert lean.get("missing") is None
    # Both reads ran the one statement the server keeps, its key sent apart.
    assert [statement for statement in prepared_statements() if "culture_cache" in statement] == [
        'SELECT "value", "expires" FROM "culture_cache" WHERE "cache_key" = $1'
    ]
