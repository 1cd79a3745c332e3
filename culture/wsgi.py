"""WSGI entry point: `gunicorn culture.wsgi` (see gunicorn.conf.py for the settings)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "culture.settings")

application = get_wsgi_application()
