"""Answers rendered for readers, kept and served again while the content they show is current.

One mechanism for every cached answer: reader pages (reader/views.py's cached_for_readers), the
story page (its HTML, with the 조회수 filled in per request) and the API's anonymous reads
(api/cache.py). An answer is filed under the content version (articles/versions.py): any
write, and any scheduled moment passing, moves the version and so orphans every answer kept
before it. An entry also never outlives the version's window by the serving host's clock.

Where answers live: each process keeps a small front cache in memory (CACHES["answers"]); with
PAGE_CACHE=redis they are also kept in Redis (CACHES["shared_answers"]), so N hosts × W
workers render a page once per version instead of once each. A cache that cannot be reached
means rendering without caching, never an error.

With a read replica, an answer is rendered from it only once it has replayed the version the
answer is filed under (find()); until then from the primary, whose rows are as new as the
version or newer, as without a replica.

Only anonymous readers get cached answers: staff, who see previews and the admin's links, and
API clients with a token always get a fresh render.
"""

import hashlib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

from articles import clock, replica, versions
from articles.models.common import same_url_context

# Answers that show view counts ("popular", lists): they may be this old.
LIST_TIMEOUT = 60
STORY_TIMEOUT = 600
# Answers that change only when content is saved (or comes due): companies, people, tags.
CONTENT_TIMEOUT = 600
# What the X-Cache header says of an answer.
HIT, SHARED_HIT, MISS, OFF = "hit", "hit-shared", "miss", "off"


# While an answer is rendered to be kept: the key of the version it is filed under. Parts of
# the answer (story cards, reader/cards.py) may be kept under it too; outside such a render
# (staff, previews, a cache that is down) it is None and nothing is kept.
rendering_under: ContextVar[str | None] = ContextVar("rendering_under", default=None)
# Within such a render: the version's `cards` (articles/versions.py), under which a story card
# is kept with its story's own version across every write that changes no card.
cards_under: ContextVar[int | None] = ContextVar("cards_under", default=None)


def front():
    return caches["answers"]


def shared():
    return caches["shared_answers"] if "shared_answers" in settings.CACHES else None


def is_reader(request) -> bool:
    """Anyone but staff. Checking the session cookie first spares anonymous readers the
    session lookup."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return True
    return not request.user.is_staff


@dataclass(frozen=True)
class Slot:
    """Where an answer is filed: its key under the current version (None: keep nothing now),
    the version's window, and how the lookup went."""

    key: str | None
    version: versions.Version | None
    how: str


def find(kind: str, address: str) -> tuple[object, Slot]:
    """The kept answer of `kind` for `address` (None when there is none), and its slot."""
    version = versions.current()
    if version is None:
        return None, Slot(None, None, OFF)
    digest = hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    key = f"{kind}:{version.key}:{digest}"
    entry, how = _lookup(key)
    if entry is None:
        # The caller renders next: from rows at least as new as the version, never from a
        # replica that has not replayed it yet (then from the primary, articles/replica.py).
        replica.caught_up(version.lsn)
    return entry, Slot(key, version, how)


def keep(slot: Slot, entry, timeout: int) -> None:
    """Keep `entry` in its slot for `timeout` seconds at most, and never past the window."""
    if slot.key is None:
        return
    left = slot.version.seconds_left(clock.now())
    _keep(slot.key, entry, timeout if left is None else max(1, min(timeout, int(left))))


def answer(kind: str, address: str, render: Callable, *, timeout: int) -> tuple[object, str]:
    """The kept answer of `kind` for `address`, or render() it and keep it.

    render() returns the answer and whether to keep it (a picklable entry; not an error page
    or a response that sets a cookie). Returns the answer and how it was got (HIT,
    SHARED_HIT, MISS, or OFF when the cache cannot be used now)."""
    entry, slot = find(kind, address)
    if entry is not None:
        return entry, slot.how
    keeping = slot.key is not None
    token = rendering_under.set(slot.version.key if keeping else None)
    cards_token = cards_under.set(slot.version.cards if keeping else None)
    try:
        with same_url_context():
            entry, worth_keeping = render()
    finally:
        rendering_under.reset(token)
        cards_under.reset(cards_token)
    if worth_keeping:
        keep(slot, entry, timeout)
    return entry, slot.how


def kept(key: str | None, compute: Callable, timeout: int, *, shared_too: bool = False):
    """compute(), kept in this process's answers cache under `key` for `timeout` seconds: a
    part of answers that only a content change can change (a list's count, a company's newest
    stories), when `key` names the content version. None: computed every time (nothing may be
    kept now).

    `shared_too`: also kept in the shared store (PAGE_CACHE=redis), for a plain value that
    costs more than a round trip to it, so that one worker of one host computes it per
    content version instead of each worker of each host (the API list's count and stamp: for
    a list narrowed by a hashtag, an aggregate over each of its stories)."""
    if key is None:
        return compute()
    value = _lookup(key)[0] if shared_too else front().get(key)
    if value is None:
        value = compute()
        if shared_too:
            _keep(key, value, timeout)
        else:
            front().set(key, value, timeout)
    return value


def _lookup(key: str) -> tuple[object, str]:
    entry = front().get(key)
    if entry is not None:
        return entry, HIT
    store = shared()
    if store is None:
        return None, MISS
    try:
        entry = store.get(key)
    except Exception:
        versions.complain()
        return None, MISS
    if entry is None:
        return None, MISS
    front().set(key, entry, LIST_TIMEOUT)
    return entry, SHARED_HIT


def _keep(key: str, entry, timeout: int) -> None:
    front().set(key, entry, timeout)
    store = shared()
    if store is not None:
        try:
            store.set(key, entry, timeout)
        except Exception:
            versions.complain()
