"""Content that browser tests read, made once per test process and restored for the next test.

A browser test runs against the live server, so its database is emptied after it (a
transactional test) and the next one seeds the demo again: about 0.7 s of CPU each, most of a
page-reading browser test's own cost. On SQLite the first test makes the content and keeps a
copy of the test database (SQLite's backup API, into memory) and of the uploaded pictures;
later tests copy both back, which takes milliseconds and gives the same rows, the same keys
and the same files (the live server's own connection reads the restored file). On PostgreSQL
the content is made again for each test. tests/test_demo.py keeps checking the
seed itself.
"""

import atexit
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection

_copies: dict[str, tuple[sqlite3.Connection, Path]] = {}


def content(name: str, make: Callable[[], None]) -> None:
    """Make the content called `name` with make(), or restore what it made in this process."""
    if connection.vendor != "sqlite":
        make()
        return
    connection.ensure_connection()
    kept = _copies.get(name)
    if kept is None:
        make()
        database = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(database)
        media = Path(tempfile.mkdtemp(prefix="demo-media-"))
        atexit.register(shutil.rmtree, media, ignore_errors=True)
        shutil.copytree(settings.MEDIA_ROOT, media, dirs_exist_ok=True)
        _copies[name] = (database, media)
        return
    database, media = kept
    database.backup(connection.connection)
    shutil.copytree(media, settings.MEDIA_ROOT, dirs_exist_ok=True)


def demo() -> None:
    """The demo content (`manage.py seed_demo`)."""
    content("demo", lambda: call_command("seed_demo", verbosity=0))
