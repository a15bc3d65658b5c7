"""The workers' in-process LRU (documents, response bodies, SPARQL answers)."""

from __future__ import annotations

from dfl_graph.memory_cache import MemoryCache


def sized() -> MemoryCache[bytes]:
    return MemoryCache(max_entries=3, max_bytes=10, size_of=lambda _key, value: len(value), max_entry_bytes=6)


def test_least_recently_used_goes_first_when_over_the_byte_budget() -> None:
    cache = sized()
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # "b" is now the least recently used
    cache.put("c", b"1234")
    assert cache.get("b") is None and cache.get("a") == b"1234" and cache.get("c") == b"1234"
    assert cache.size == 8 and len(cache) == 2


def test_entry_limit_and_replacing_a_key() -> None:
    cache = sized()
    for key in "abcd":
        cache.put(key, b"1")
    assert len(cache) == 3 and cache.get("a") is None
    cache.put("d", b"12345")
    assert cache.get("d") == b"12345" and cache.size == 7


def test_a_value_over_the_entry_limit_is_not_kept() -> None:
    cache = sized()
    cache.put("a", b"12")
    cache.put("huge", b"1234567")
    assert not cache.fits(7) and cache.get("huge") is None and cache.get("a") == b"12"
    assert (cache.hits, cache.misses) == (1, 1)


def test_get_or_make_makes_once() -> None:
    cache: MemoryCache[str] = MemoryCache(max_entries=10)
    made = []
    for _ in range(3):
        assert cache.get_or_make("k", lambda: made.append(1) or "value") == "value"
    assert made == [1]
