"""Which of a request's reads may go to the read replica (articles/replica.py routes them).

A request reads the content from the replica when it is an anonymous reader's GET or HEAD:

- not a write (any other method reads and writes the primary);
- not staff (editors see what they just saved, and previews), not under the admin;
- not the API with a token (clients that write read back what they wrote);
- not a reader within REPLICA_STICKY_SECONDS of their own write. A write that succeeds (a
  status below 400) sets a signed cookie, so that the next pages of the same browser read the
  primary until the replica has surely replayed it. The cookie is signed with SECRET_KEY and
  its age is checked from the signature's own timestamp, so a client can neither forge one
  nor keep one alive (it only ever costs the primary a read anyway).

Without DATABASE_REPLICA_URL the middleware removes itself (MiddlewareNotUsed).
"""

from django.core.exceptions import MiddlewareNotUsed
from django.core.signing import BadSignature

from articles import replica
from articles.answers import is_reader
from ops.middleware import admin_prefix

COOKIE_NAME = "primary"
SALT = "ops.replica.sticky"
READ_METHODS = frozenset({"GET", "HEAD"})


def wrote_recently(request) -> bool:
    """Whether this browser carries a valid cookie from its own recent write."""
    if COOKIE_NAME not in request.COOKIES:
        return False
    try:
        request.get_signed_cookie(
            COOKIE_NAME, salt=SALT, max_age=replica.settings_value("STICKY_SECONDS", 5.0)
        )
    except (BadSignature, KeyError):
        return False  # forged, altered or expired: an ordinary reader
    return True


def reads_from_replica(request) -> bool:
    return (
        request.method in READ_METHODS
        and "authorization" not in request.headers
        and not request.path_info.startswith(admin_prefix())
        and not wrote_recently(request)
        and is_reader(request)
    )


def remember_write(request, response) -> None:
    """After a successful write, keep this browser on the primary for a few seconds."""
    seconds = replica.settings_value("STICKY_SECONDS", 5.0)
    response.set_signed_cookie(
        COOKIE_NAME,
        "1",
        salt=SALT,
        max_age=seconds,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


class ReplicaMiddleware:
    def __init__(self, get_response):
        if not replica.configured():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        if reads_from_replica(request):
            with replica.reading_from_replica():
                return self.get_response(request)
        response = self.get_response(request)
        if (
            request.method not in READ_METHODS
            and request.method != "OPTIONS"
            and response.status_code < 400
            and "authorization" not in request.headers
            and getattr(request, "wrote_content", True)  # the 조회수 beacon says it did not
        ):
            remember_write(request, response)
        return response
