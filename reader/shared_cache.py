"""HTTP caching of anonymous reader pages by the caches in front of the site (a CDN; Varnish in
the cluster run) and by browsers.

An anonymous reader's page is the same for every anonymous reader until the content version
changes (articles/versions.py), so it says so:

- `Cache-Control: public, max-age=0, s-maxage=N, stale-while-revalidate=M`: shared caches may
  keep it N seconds (EDGE_MAX_AGE) and serve it M seconds longer (EDGE_STALE_SECONDS) while they
  fetch a new one; browsers ask again every time (max-age=0), cheaply, with If-None-Match.
  s-maxage never reaches past the end of the version's window: a scheduled story goes live on
  time at the edge too, with no ban.
- `ETag`: the content version and the address. Any host answers a matching If-None-Match
  with 304 before rendering anything, since every host reads the same version.
- `X-Content-Version`: what the edges are told to drop after a write (articles/edge.py).

Staff, previews and any answer that sets a cookie are `private, no-store`
(ops.http.PrivateAnswersMiddleware). A page shows what it showed when rendered: 조회수 and
"popular this week" may be up to N + M seconds older at the edge (plus the page cache's own
LIST_TIMEOUT for lists).
"""

import zlib
from functools import wraps

from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

from articles import answers, clock, edge, versions

READ_METHODS = ("GET", "HEAD")


def shared(view):
    """Let caches in front of the site keep this view's anonymous answers (see above)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in READ_METHODS or not answers.is_reader(request):
            return view(request, *args, **kwargs)
        version = versions.current()
        if version is None:  # the shared cache is down: no version to name the page by
            return view(request, *args, **kwargs)
        etag = f'"{version.key}-{zlib.crc32(request.get_full_path().encode()):08x}"'
        not_modified = get_conditional_response(request, etag=etag)
        if not_modified is not None:
            return _shareable(not_modified, version, etag)
        with versions.pinned(version):
            response = view(request, *args, **kwargs)
        if response.status_code != 200 or response.cookies or _said(response):
            return response
        _shareable(response, version, etag)
        # A feed also says when it last changed: a reader that asks If-Modified-Since gets a 304.
        modified = parse_http_date_safe(response.get("Last-Modified", ""))
        return get_conditional_response(
            request, etag=etag, last_modified=modified, response=response
        )

    return wrapper


def _shareable(response, version, etag):
    edge.share(response, version, clock.now())
    response["ETag"] = etag
    return response


def _said(response) -> bool:
    """Whether the view already said how its answer is kept (private, no-store, a max-age)."""
    return response.has_header("Cache-Control")
