from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from culture.api import api
from ops import media
from reader.shared_cache import shared
from reader.sitemaps import SITEMAPS

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("sitemap.xml", shared(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("", include("ops.urls")),
    path("", include("reader.urls")),
]

# A "no database connection" raised in a middleware becomes a 503 here (ops/middleware.py).
handler500 = "ops.views.server_error"

# /media/, when the site serves uploads itself (ops/media.py says when).
urlpatterns += media.urlpatterns()
