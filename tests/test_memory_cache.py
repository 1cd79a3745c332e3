"""The answers cache is bounded by bytes as well as entries (ops/memory_cache.py): the least
recently used answers go first to make room, an answer larger than the bound is not kept, and
the count of bytes stays right through replacements, deletions, expiry, culls and clears."""

import threading
import uuid

from django.conf import settings
from django.core.cache import caches

from ops.memory_cache import BytesBoundedLocMemCache

PAGE = 10_000  # bytes of one answer's text


def bounded(max_bytes=None, max_entries=1000) -> BytesBoundedLocMemCache:
    options = {"MAX_ENTRIES": max_entries}
    if max_bytes:
        options["MAX_BYTES"] = max_bytes
    return BytesBoundedLocMemCache(f"test-{uuid.uuid4().hex}", {"OPTIONS": options})


def counted(cache) -> int:
    """What the bytes are, counted afresh."""
    return sum(len(key) + len(value) for key, value in cache._cache.items())


def test_the_site_s_answers_cache_is_bounded_by_bytes():
    answers = caches["answers"]
    assert isinstance(answers, BytesBoundedLocMemCache)
    assert answers._max_bytes == settings.CACHES["answers"]["OPTIONS"]["MAX_BYTES"] > 0


def test_the_least_recently_used_go_first_to_make_room():
    cache = bounded(max_bytes=5 * PAGE)
    for name in "abcd":
        cache.set(name, "x" * PAGE)
    assert cache.get("a") is not None  # a is now the most recently used
    cache.set("e", "y" * PAGE)
    cache.set("f", "z" * PAGE)
    assert cache.get("b") is None
    assert cache.get("c") is None
    assert all(cache.get(name) is not None for name in "adef")
    assert cache.kept_bytes == counted(cache) <= 5 * PAGE


def test_an_answer_larger_than_the_bound_is_not_kept_nor_an_older_one_under_its_key():
    cache = bounded(max_bytes=3 * PAGE)
    cache.set("page", "small")
    cache.set("other", "kept")
    cache.set("page", "x" * (4 * PAGE))
    assert cache.get("page") is None
    assert cache.get("other") == "kept"
    assert cache.kept_bytes == counted(cache)


def test_the_count_follows_replacements_deletions_expiry_culls_and_clears():
    cache = bounded(max_bytes=100 * PAGE, max_entries=10)
    cache.set("page", "x" * PAGE)
    cache.set("page", "x" * 10)  # replaced by a smaller one
    assert cache.kept_bytes == counted(cache) < PAGE
    cache.set("gone", "x" * PAGE, timeout=-1)  # expired at once
    assert cache.get("gone") is None
    cache.delete("page")
    assert cache.kept_bytes == counted(cache) == 0
    for n in range(25):  # past MAX_ENTRIES: Django's cull drops a third at a time
        cache.set(f"n{n}", "x" * 100)
    assert len(cache._cache) <= 10
    assert cache.kept_bytes == counted(cache)
    cache.set("count", 1)
    cache.incr("count", 10**30)  # a longer pickle under the same key
    assert cache.get("count") == 10**30 + 1
    assert cache.kept_bytes == counted(cache)
    cache.clear()
    assert cache.kept_bytes == 0
    assert cache.get("n24") is None


def test_without_max_bytes_it_is_django_s_cache():
    cache = bounded(max_entries=3)
    for n in range(3):
        cache.set(n, "x" * PAGE)
    assert all(cache.get(n) is not None for n in range(3))
    assert cache.kept_bytes == counted(cache)


def test_threads_keep_the_count_right():
    cache = bounded(max_bytes=20 * PAGE)

    def work(n):
        for i in range(200):
            cache.set(f"{n}-{i % 30}", "x" * (PAGE // (1 + i % 5)))
            cache.get(f"{n}-{(i * 7) % 30}")
            if i % 11 == 0:
                cache.delete(f"{n}-{i % 30}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.kept_bytes == counted(cache) <= 20 * PAGE


def test_instances_of_one_name_share_the_count():
    name = f"shared-{uuid.uuid4().hex}"
    params = {"OPTIONS": {"MAX_BYTES": 10 * PAGE}}
    first, second = BytesBoundedLocMemCache(name, params), BytesBoundedLocMemCache(name, params)
    first.set("a", "x" * PAGE)
    assert second.kept_bytes == first.kept_bytes == counted(second) > PAGE
    second.delete("a")
    assert first.kept_bytes == 0
