"""ops.http.LazyMessageMiddleware: Django's messages, their storage made only when used."""

from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import empty

from ops.http import LazyMessageMiddleware


def through(view):
    request = RequestFactory().get("/")
    request.session = {}
    response = LazyMessageMiddleware(view)(request)
    return request, response


def test_a_request_that_uses_no_message_makes_no_storage():
    request, response = through(lambda request: HttpResponse("ok"))
    assert request._messages._wrapped is empty
    assert "messages" not in response.cookies


def test_a_message_added_is_stored_and_read_back_on_the_next_request():
    def adds(request):
        messages.success(request, "저장했습니다")
        return HttpResponse("ok")

    request, response = through(adds)
    assert isinstance(request._messages._wrapped, FallbackStorage)
    # Stored where Django's storage puts it (a cookie, as the message is small).
    cookie = response.cookies["messages"].value
    later = RequestFactory().get("/", HTTP_COOKIE=f"messages={cookie}")
    later.session = {}
    shown = []
    LazyMessageMiddleware(lambda r: shown.extend(messages.get_messages(r)) or HttpResponse())(later)
    assert [str(message) for message in shown] == ["저장했습니다"]
