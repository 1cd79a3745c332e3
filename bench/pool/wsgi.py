"""The site's WSGI application; with BENCH_QUERY_AT_IMPORT=1 it also runs a query when it is
imported, which under --preload opens the pool in gunicorn's master before it forks."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.pool.settings")
application = get_wsgi_application()

if os.environ.get("BENCH_QUERY_AT_IMPORT") == "1":
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    connection.close()  # back to the pool, which stays open in this process
