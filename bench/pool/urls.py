from django.urls import path

from bench.pool import views
from culture.urls import handler500
from culture.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("__bench__/leak/", views.leak), *site_urlpatterns]

__all__ = ["handler500", "urlpatterns"]
