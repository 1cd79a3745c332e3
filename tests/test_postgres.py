"""What only PostgreSQL can show: the live connection and the native pool's settings."""

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_connection_is_postgresql_and_names_itself():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('application_name')")
        (name,) = cursor.fetchone()
    assert name == settings.DATABASES["default"]["OPTIONS"]["application_name"]


def test_pool_settings_reach_the_live_pool():
    pool_options = settings.DATABASES["default"]["OPTIONS"].get("pool")
    if not pool_options:
        pytest.skip("the native pool is off (DB_POOL=false)")
    connection.ensure_connection()
    stats = connection.pool.get_stats()
    assert stats["pool_min"] == pool_options["min_size"]
    assert stats["pool_max"] == pool_options["max_size"]
    assert connection.pool.timeout == pool_options["timeout"]
