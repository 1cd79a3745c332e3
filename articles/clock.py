"""The database's clock, which every host shares: whether a scheduled story is out is decided by
it, not by the clock of the host that answers (those drift apart; one that runs 5 s ahead would
show a story 5 s early, and publish "now" 5 s in everyone else's future)."""

import threading
import time
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone

# How often a thread measures its clock against the database's again.
OFFSET_TTL = 300
# How many times it asks at most, and a round trip short enough to stop asking (seconds).
ASKS = 3
GOOD_ENOUGH = 0.005


class _Clock(threading.local):
    offset: float | None = None
    measured: float = 0.0


_clock = _Clock()


def db_now() -> datetime:
    """The database's time now. Publishing "now" uses it, so a story published on a host
    whose clock is off still goes out at the same moment for every host.

    Measures this thread's offset to it on the way, as NTP does: the database's time against
    the midpoint of the local times before and after asking, keeping the quickest of a few
    asks (a slow answer, say from a busy host, would otherwise skew the offset by its delay).
    """
    if connection.vendor == "sqlite":
        moment, offset = timezone.now(), 0.0  # the database is a file on this very host
    else:
        best = None
        with connection.cursor() as cursor:
            for _ in range(ASKS):
                before = timezone.now().timestamp()
                cursor.execute("SELECT clock_timestamp()")
                moment = cursor.fetchone()[0]
                after = timezone.now().timestamp()
                if best is None or after - before < best[0]:
                    best = (after - before, moment.timestamp() - (before + after) / 2)
                if best[0] < GOOD_ENOUGH:
                    break
        offset = best[1]
    _clock.offset = offset
    _clock.measured = time.monotonic()
    return moment


def offset() -> float:
    """Seconds to add to this host's clock to read the database's (measured again every
    OFFSET_TTL seconds)."""
    if _clock.offset is None or time.monotonic() - _clock.measured > OFFSET_TTL:
        db_now()
    return _clock.offset


def now() -> float:
    """The database's time in epoch seconds."""
    return timezone.now().timestamp() + offset()


def now_datetime() -> datetime:
    return datetime.fromtimestamp(now(), tz=UTC)
