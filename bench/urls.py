"""The site's URLs plus two of the benchmark's (bench/pages.py), served only with
bench.settings, on 127.0.0.1:

- /__bench__/fixed/: the site's own fixed 5 KB view, through the site's whole middleware stack:
  the second reference (the first is the bare project, bench/bare/);
- /__bench__/bump/ (POST): moves the content version the way an editor's save of a story does
  (articles/versions.py bump(cards=False), as articles/services.py does), so that every kept
  page and API answer misses; `?cards=1` moves it as any other write does (a company's, a
  hashtag's, a picture's renditions), which also moves what story cards are kept under.
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
        versions.bump(cards=request.GET.get("cards") == "1")
    return HttpResponse("bumped\n", content_type="text/plain")


urlpatterns = [
    path("__bench__/fixed/", fixed),
    path("__bench__/bump/", bump),
    *site_urlpatterns,
]
