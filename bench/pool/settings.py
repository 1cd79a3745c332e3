"""The site's settings plus what only the pooling benchmark needs: a view that leaks pooled
connections on purpose, and (BENCH_DB_MIDDLEWARE=1) a middleware that queries on every request,
like the seed's before_request hook."""

import os

from culture.settings import *  # noqa: F403
from culture.settings import MIDDLEWARE

ROOT_URLCONF = "bench.pool.urls"

if os.environ.get("BENCH_DB_MIDDLEWARE") == "1":
    # After authentication, where a "load the site settings" hook would sit.
    _at = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
    MIDDLEWARE = [
        *MIDDLEWARE[:_at],
        "bench.pool.views.QueryEveryRequestMiddleware",
        *MIDDLEWARE[_at:],
    ]
