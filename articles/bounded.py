"""Text kept in this process by key, bounded by the bytes it holds (least recently used first
out): the parts of answers that front doors draw once and reuse (story cards,
reader/cards.py; the items of an API list, api/stories.py)."""

import threading
from collections import OrderedDict


def _bytes(value) -> int:
    """The UTF-8 bytes of a string, or of the strings of a tuple."""
    if isinstance(value, str):
        return len(value.encode())
    return sum(len(part.encode()) for part in value)


class BoundedTexts:
    """A string (or a tuple of strings) by key, at most `limit` bytes of them (strings counted
    as UTF-8 bytes, each entry with `overhead` more for its key and the bookkeeping)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self.entries: OrderedDict[object, tuple[object, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            self.entries.move_to_end(key)
            return entry[0]

    def put(self, key, value, overhead: int = 100) -> None:
        cost = _bytes(value) + overhead
        if cost > self.limit:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self.entries[key] = (value, cost)
            self.size += cost
            while self.size > self.limit:
                _, (_, dropped) = self.entries.popitem(last=False)
                self.size -= dropped

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0
