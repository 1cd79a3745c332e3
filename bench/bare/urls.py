from django.http import HttpResponse
from django.urls import path

# 5 KB, the same bytes as the site's own fixed view (bench/urls.py).
BODY = "<!doctype html><title>bare</title>" + "." * (5 * 1024 - 34)


def bare(request):
    return HttpResponse(BODY)


urlpatterns = [path("", bare)]
