"""The database cache's table, so that `migrate` is all a site without Redis needs.

Rate limits are counted in Django's cache, which must be shared by every worker: Redis when
REDIS_URL is set, otherwise settings.CACHES names this table (DatabaseCache). Creating it here
rather than with `manage.py createcachetable` keeps bin/demo, the tests and a fresh deploy to
one command. The table is harmless, and unused, on a site with Redis.
"""

from django.core.management import call_command
from django.db import migrations

CACHE_TABLE = "culture_cache"


def create_cache_table(apps, schema_editor):
    call_command(
        "createcachetable", CACHE_TABLE, database=schema_editor.connection.alias, verbosity=0
    )


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("tokens", "0001_api_token")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table, elidable=False)]
