"""WSGI entry point: `gunicorn culture.wsgi` (see gunicorn.conf.py for the settings)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "culture.settings")

django_application = get_wsgi_application()

# A story's 조회수 beacon is counted before Django's handler (reader/beacon.py BeaconGate).
from reader.beacon import BeaconGate  # noqa: E402 (the apps must be loaded first, above)

application = BeaconGate(django_application)

# What a worker has loaded by now (Django, the apps, the URLs, the settings) lives as long as
# the worker: frozen, the garbage collector's full collections stop walking it. On a story page
# missed in every cache the collector cost about 120 us a request, a third less with this
# (docs/performance.md). The benchmark's bare ceiling (bench/bare/wsgi.py) starts the same way.
gc.freeze()
