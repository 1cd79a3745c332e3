"""The machine's speed: one Django view with no middleware and no database, served by the
same gunicorn settings as the site (DJANGO_SETTINGS_MODULE=bench.pool.bare).

Its requests/s and CPU per request, measured in the same run as the strategies, say how fast
the machine was: runs on different machines compare by their fraction of this ceiling.
"""

from django.http import HttpResponse
from django.urls import path

from culture.settings import *  # noqa: F403

MIDDLEWARE = []
ROOT_URLCONF = "bench.pool.bare"


def bare(request):
    return HttpResponse(b"ok\n", content_type="text/plain")


urlpatterns = [path("", bare), path("healthz", bare), path("bare/", bare)]
