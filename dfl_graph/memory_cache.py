"""The in-process caches of a web worker (documents, response bodies, SPARQL answers): one thread-safe LRU,
bounded in entries and, for values that have a size, in bytes.

Keys carry the store generation, so a publish needs no invalidation: old entries just age out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class MemoryCache(Generic[V]):
    """Least recently used out first, once over ``max_entries`` or over ``max_bytes`` (as ``size_of`` counts
    a key and its value); a value bigger than ``max_entry_bytes`` is not kept, so one huge answer cannot
    flush everything else."""

    def __init__(
        self,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        size_of: Callable[[Hashable, V], int] = lambda _key, _value: 0,
        max_entry_bytes: int | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes if max_entry_bytes is not None else max_bytes
        self.size_of = size_of
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def fits(self, size: int) -> bool:
        """Whether a value of ``size`` bytes would be kept."""
        return self.max_entry_bytes is None or size <= self.max_entry_bytes

    def put(self, key: Hashable, value: V) -> None:
        size = self.size_of(key, value)
        if not self.fits(size):
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._items and (
                (self.max_bytes is not None and self._bytes > self.max_bytes)
                or (self.max_entries is not None and len(self._items) > self.max_entries)
            ):
                _, (_, evicted) = self._items.popitem(last=False)
                self._bytes -= evicted

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found

    @property
    def size(self) -> int:
        """Bytes held, as ``size_of`` counts them."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
