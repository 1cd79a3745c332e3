"""Many readers at once, as the tests of 조회수 and of locks send them."""

import threading
import time

from django.db import close_old_connections
from django.test import Client

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"


def read_at_once(path: str, readers: int, *, wait: float = 60) -> list[tuple]:
    """`readers` new browsers (each a counted view) GET `path` at the same moment; each gives
    (status, headers, finished at), or (the error, {}, finished at)."""
    start = threading.Barrier(readers)
    answers = []

    def read():
        try:
            start.wait()
            response = Client().get(path, HTTP_USER_AGENT=CHROME)
            answers.append((response.status_code, dict(response.headers), time.monotonic()))
        except Exception as error:  # a failed reader must fail the test, not vanish
            answers.append((repr(error), {}, time.monotonic()))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=wait)
    return answers
