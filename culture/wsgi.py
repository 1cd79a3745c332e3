"""WSGI entry point: `gunicorn culture.wsgi` (see gunicorn.conf.py for the settings)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "culture.settings")

django_application = get_wsgi_application()

# A story's 조회수 beacon is counted before Django's handler (reader/beacon.py BeaconGate).
from reader.beacon import BeaconGate  # noqa: E402 (the apps must be loaded first, above)

application = BeaconGate(django_application)
