"""Turns "no database connection could be had" into a 503 with Retry-After.

Django wraps every middleware and the view in convert_exception_to_response, so by the time an
exception could reach a wrapping middleware it has already become a 500. Two hooks catch it
instead, and both end in ops.availability.unavailable_response():

- process_exception() here, for exceptions from views (and from TemplateResponse rendering).
  Keep this middleware last in MIDDLEWARE: process_exception runs innermost first.
- ops.views.server_error (handler500), for exceptions raised in other middleware, e.g. the
  session being saved in SessionMiddleware.process_response when the pool is exhausted.
"""

from ops.availability import unavailable_reason, unavailable_response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        reason = unavailable_reason(exception)
        if reason is None:
            return None
        return unavailable_response(request, reason, exception)
