"""The database's clock, which every host shares: whether a scheduled story is out is decided by
it, not by the clock of the host that answers (those drift apart; one that runs 5 s ahead would
show a story 5 s early, and publish "now" 5 s in everyone else's future)."""

import threading
import time
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone

# How often a process measures its clock against the database's again.
OFFSET_TTL = 300


class _Clock(threading.local):
    offset: float | None = None
    measured: float = 0.0


_clock = _Clock()


def db_now() -> datetime:
    """The database's time now (one query). Publishing "now" uses it, so a story published on
    a host whose clock is off still goes out at the same moment for every host."""
    if connection.vendor == "sqlite":
        moment, offset = timezone.now(), 0.0  # the database is a file on this very host
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            moment = cursor.fetchone()[0]
        offset = moment.timestamp() - timezone.now().timestamp()
    _clock.offset = offset
    _clock.measured = time.monotonic()
    return moment


def now() -> float:
    """The database's time in epoch seconds, from this process's clock and its measured
    offset (measured again every OFFSET_TTL seconds)."""
    if _clock.offset is None or time.monotonic() - _clock.measured > OFFSET_TTL:
        db_now()
    return timezone.now().timestamp() + _clock.offset


def now_datetime() -> datetime:
    return datetime.fromtimestamp(now(), tz=UTC)
