"""The site's URLs plus two of the benchmark's (bench/pages.py), served only with
bench.settings, on 127.0.0.1:

- /__bench__/fixed/: the site's own fixed 5 KB view, through the site's whole middleware stack:
  the second reference (the first is the bare project, bench/bare/);
- /__bench__/bump/ (POST): moves the content version the way every content write does
  (articles/versions.py bump()), so that every kept page and API answer misses.
"""

from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from articles import versions
from bench.bare.urls import BODY
from culture.urls import urlpatterns as site_urlpatterns


def fixed(request):
    """No template, no query, a fixed 5 KB body, through the site's middleware."""
    return HttpResponse(BODY)


@csrf_exempt
def bump(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    with transaction.atomic():
        versions.bump()
    return HttpResponse("bumped\n", content_type="text/plain")


urlpatterns = [
    path("__bench__/fixed/", fixed),
    path("__bench__/bump/", bump),
    *site_urlpatterns,
]
