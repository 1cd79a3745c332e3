"""A bare Django project: the benchmark's ceiling (bench/pages.py).

Nothing of the site: no installed app, no middleware, no database, no template; one URL whose
view returns a fixed 5 KB string. Served by the same gunicorn settings as the site, so what it
costs per request is what Django and gunicorn cost by themselves, and every page is reported
as a multiple of it.
"""

DEBUG = False
SECRET_KEY = "bench-bare-not-secret-" + "x" * 40
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = []
MIDDLEWARE = []
ROOT_URLCONF = "bench.bare.urls"
DATABASES = {}
USE_TZ = True
