from django.http import HttpResponse
from django.urls import path

from culture.urls import urlpatterns as site_urlpatterns

BARE_BODY = "<!doctype html><title>bare</title>" + "." * (5 * 1024 - 34)


def bare(request):
    """The ceiling: no template, no query, a fixed 5 KB body."""
    return HttpResponse(BARE_BODY)


urlpatterns = [path("__bench__/bare/", bare), *site_urlpatterns]
