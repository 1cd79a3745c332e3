import json
import threading
import time

from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseBadRequest


def leak(request):
    """Hand a pooled connection to a thread Django does not manage, which holds it in an open
    transaction for `hold` seconds: the Django form of "a session never returned". The
    response waits until the thread has its connection and says when it got it, so the
    benchmark knows when the leak ends."""
    try:
        hold = min(float(request.GET.get("hold", "3")), 30.0)
    except ValueError:
        return HttpResponseBadRequest("hold must be a number of seconds")
    acquired = threading.Event()
    info = {}

    def hold_connection():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                info["acquired_at"] = time.time()
                acquired.set()
                time.sleep(hold)
        except Exception as exc:  # reported to the benchmark, which counts it
            info["error"] = repr(exc)
        finally:
            acquired.set()
            connection.close()

    threading.Thread(target=hold_connection, daemon=True).start()
    acquired.wait(timeout=hold + 30)
    status = 200 if "acquired_at" in info else 503
    return HttpResponse(json.dumps(info), status=status, content_type="application/json")


class QueryEveryRequestMiddleware:
    """The seed's before_request lesson: one query on every request, so even endpoints that
    need no database take a connection."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return self.get_response(request)
