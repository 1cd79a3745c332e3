"""Telling the HTTP caches in front of the site (a CDN; Varnish in the cluster run) that the
content changed.

Every anonymous page carries the content version it was rendered under (the response header
X-Content-Version, beside its ETag). When a writer publishes a new version (versions.announce(),
after its commit), each edge in EDGE_BAN_URLS gets `BAN /` with that header, and drops every
object rendered under another version (deploy/varnish.vcl). Objects rendered under the new
version stay.

A ban only tests the objects an edge holds when it arrives. A page whose render began before
the commit and reaches the edge after the ban would be kept with old rows, so the ban is sent
again EDGE_REBAN_SECONDS later (a render cannot outlast the reader's statement timeout). A
version that changes by itself, at a scheduled moment, sends no ban: pages are never kept at
the edge past the end of their version's window (their s-maxage stops there).

An edge that cannot be reached is logged, not raised: the write has committed, and the edge's
copies expire after s-maxage.
"""

import http.client
import logging
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.cache import patch_cache_control

logger = logging.getLogger("articles.edge")

HEADER = "X-Content-Version"
TIMEOUT_SECONDS = 1.0


def share(response, version, now) -> None:
    """Let shared caches keep `response`, an anonymous answer rendered under `version`:
    `public, max-age=0, s-maxage=EDGE_MAX_AGE, stale-while-revalidate=EDGE_STALE_SECONDS`
    (never past the end of the version's window), and the version they are banned by."""
    keep, stale = settings.EDGE_MAX_AGE, settings.EDGE_STALE_SECONDS
    left = version.seconds_left(now)
    if left is not None:  # nothing kept, nor served stale, past the window's end
        keep = max(0, min(keep, int(left)))
        stale = max(0, min(stale, int(left) - keep))
    patch_cache_control(
        response, public=True, max_age=0, s_maxage=keep, stale_while_revalidate=stale
    )
    response[HEADER] = version.key


_latest = {"key": None}
_latest_lock = threading.Lock()


def ban_other_versions(key: str) -> None:
    """Ask every edge to drop what was rendered under any version but `key`, now and once more
    after EDGE_REBAN_SECONDS (unless this process has banned for a newer version since)."""
    edges = settings.EDGE_BAN_URLS
    if not edges:
        return
    with _latest_lock:
        _latest["key"] = key
    send_ban(edges, key)
    delay = settings.EDGE_REBAN_SECONDS
    if delay:
        timer = threading.Timer(delay, _ban_again, args=(edges, key))
        timer.daemon = True
        timer.start()


def _ban_again(edges: list[str], key: str) -> None:
    with _latest_lock:
        if _latest["key"] != key:
            return  # a newer version was banned for since: that ban covers this one
    send_ban(edges, key)


def send_ban(edges: list[str], key: str) -> list[str]:
    """Send the ban to each edge; return those that did not take it (and log them)."""
    failed = []
    for edge in edges:
        parts = urlsplit(edge)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        try:
            connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
            try:
                connection.request("BAN", parts.path or "/", headers={HEADER: key})
                status = connection.getresponse().status
            finally:
                connection.close()
        except OSError as error:
            failed.append(edge)
            logger.warning("The edge %s could not be told of version %s: %s", edge, key, error)
            continue
        if status != 200:
            failed.append(edge)
            logger.warning("The edge %s refused the ban of version %s: %s", edge, key, status)
    return failed
