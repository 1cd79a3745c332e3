"""Django's local-memory cache, bounded by bytes as well as by entries.

The readers' answers (pages, story pages, API reads) are kept in each worker's memory (the
"answers" cache). Bounded by entries only, what it holds grows with the pages: 2,000 story
pages of a long-read site weigh several times 2,000 short ones. OPTIONS MAX_BYTES bounds the
bytes it keeps (the pickled values, which is what LocMemCache stores, plus their keys): a new
answer first drops the least recently used ones until it fits, and an answer larger than the
whole bound is not kept. MAX_ENTRIES and its culling stay as Django has them.

The sizes are shared like Django's own storage (per cache name, by every instance of every
thread of the process) and changed under its lock.
"""

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

_sizes: dict[str, dict[str, int]] = {}
_totals: dict[str, list[int]] = {}


class BytesBoundedLocMemCache(LocMemCache):
    def __init__(self, name, params):
        super().__init__(name, params)
        self._max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES") or 0) or None
        self._sizes = _sizes.setdefault(name, {})
        self._total = _totals.setdefault(name, [0])

    @property
    def kept_bytes(self) -> int:
        return self._total[0]

    def _forget(self, key) -> None:
        self._total[0] -= self._sizes.pop(key, 0)

    def _set(self, key, value, timeout=DEFAULT_TIMEOUT):
        size = len(key) + len(value)
        if self._max_bytes is not None:
            if size > self._max_bytes:
                self._delete(key)  # not kept; an older answer under the key must not stay
                return
            self._forget(key)
            while self._cache and self._total[0] + size > self._max_bytes:
                oldest, _ = self._cache.popitem()  # the least recently used
                self._expire_info.pop(oldest, None)
                self._forget(oldest)
        super()._set(key, value, timeout)
        self._forget(key)
        self._sizes[key] = size
        self._total[0] += size

    def _cull(self):
        super()._cull()
        for key in [key for key in self._sizes if key not in self._cache]:
            self._forget(key)

    def _delete(self, key):
        self._forget(key)
        return super()._delete(key)

    def clear(self):
        with self._lock:
            self._cache.clear()
            self._expire_info.clear()
            self._sizes.clear()
            self._total[0] = 0

    def incr(self, key, delta=1, version=None):
        value = super().incr(key, delta, version)
        made = self.make_and_validate_key(key, version=version)
        with self._lock:
            if made in self._cache:
                self._forget(made)
                self._sizes[made] = len(made) + len(self._cache[made])
                self._total[0] += self._sizes[made]
        return value
