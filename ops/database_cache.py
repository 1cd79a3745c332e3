"""Django's database cache, with a lean read of one key.

Without Redis the shared cache is a table (settings.CACHES["default"]), and every reader's
request reads one key of it: the content version (articles/versions.py). Django's
DatabaseCache.get() goes through get_many(), which builds its statement, quotes its names and
makes a new DateTimeField to find the expiry's converters on every call: on PostgreSQL the
read cost the worker about three times the round trip it makes. Here the statement is
written once per database alias and the expiry's expression once per process, and on
PostgreSQL the server prepares it once per connection (ops/postgresql/base.py); what is read,
how an expired entry is treated (deleted, not returned) and every other method are Django's.
"""

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, models, router
from django.utils.timezone import now

# What Django's get_many() makes on every call to find the expiry column's converters.
EXPIRES = models.Expression(output_field=models.DateTimeField())


class LeanDatabaseCache(DatabaseCache):
    def __init__(self, table, params):
        super().__init__(table, params)
        self._reads: dict[str, str] = {}

    def _read_one(self, connection) -> str:
        sql = self._reads.get(connection.alias)
        if sql is None:
            quote = connection.ops.quote_name
            sql = (
                f"SELECT {quote('value')}, {quote('expires')} FROM {quote(self._table)} "
                f"WHERE {quote('cache_key')} = %s"
            )
            self._reads[connection.alias] = sql
        return sql

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        connection = connections[router.db_for_read(self.cache_model_class)]
        # Prepared by the server once per connection on PostgreSQL (ops/postgresql/base.py).
        with connection.preparing_cursor() as cursor:
            cursor.execute(self._read_one(connection), [key])
            row = cursor.fetchone()
        if row is None:
            return default
        value, expires = row
        for converter in [
            *connection.ops.get_db_converters(EXPIRES),
            *EXPIRES.get_db_converters(connection),
        ]:
            expires = converter(expires, EXPIRES, connection)
        if expires < now():
            self._base_delete_many([key])
            return default
        return pickle.loads(base64.b64decode(connection.ops.process_clob(value).encode()))
