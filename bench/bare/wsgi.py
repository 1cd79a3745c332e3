import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare.settings"
application = get_wsgi_application()
# As the site starts (culture/wsgi.py): the ceiling runs on the same footing.
gc.freeze()
