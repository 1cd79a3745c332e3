"""The API's absolute URLs (api/common.py absolute_of): what request.build_absolute_uri()
answers, for the paths the API writes and for anything else."""

import pytest
from django.test import RequestFactory

from api.common import absolute_of

LOCATIONS = [
    "/stories/12/%ED%92%80%EB%A7%81/",
    "/media/covers/2026/12/a.jpg",
    "/stories/1/slug/?page=2#top",
    "/스토리/한글/",  # not yet a URI: quoted by build_absolute_uri()
    "/a b/",
    "/a/./b/",
    "/a/../b/",
    "//evil.example/x",
    "relative/path",
    "",
    "https://cdn.example/covers/a.jpg",
    '/quote"d/<x>/',
    "/{braces}|pipe^caret`tick/",
    "/~user/(x)+[y]=z;$&!*@'/",
    "/%/",
]


@pytest.mark.parametrize(
    ("host", "secure"),
    [("testserver", False), ("stories.example:8443", True), ("127.0.0.1", False)],
)
@pytest.mark.parametrize("location", LOCATIONS)
def test_absolute_urls_are_django_s(settings, host, secure, location):
    settings.ALLOWED_HOSTS = [host.partition(":")[0]]
    request = RequestFactory().get("/api/v1/stories", HTTP_HOST=host, secure=secure)
    assert absolute_of(request)(location) == request.build_absolute_uri(location)


def test_the_function_is_made_once_a_request():
    request = RequestFactory().get("/api/v1/stories")
    assert absolute_of(request) is absolute_of(request)
