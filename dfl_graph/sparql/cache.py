"""Results of read-only queries, kept within a memory budget (least recently used out first).

Keyed by everything that decides the bytes of an answer: the store generation, the query text, the
dataset, the substitutions, the format and the caps. A new generation changes every key, so a publish
needs no invalidation: old entries just age out.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedAnswer:
    header: dict
    body: bytes


def cache_key(*parts: object) -> str:
    """A compact key (and ETag) for the parts that determine an answer."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16)
    return digest.hexdigest()


class ResultCache:
    def __init__(self, budget_bytes: int, max_entry_fraction: float = 0.125) -> None:
        self.budget = budget_bytes
        self.max_entry = int(budget_bytes * max_entry_fraction)
        self._entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _cost(key: str, answer: CachedAnswer) -> int:
        return len(answer.body) + len(key) + 512

    def get(self, key: str) -> CachedAnswer | None:
        with self._lock:
            answer = self._entries.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return answer

    def fits(self, size: int) -> bool:
        return size <= self.max_entry

    def put(self, key: str, answer: CachedAnswer) -> None:
        cost = self._cost(key, answer)
        if cost > self.max_entry:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= self._cost(key, old)
            self._entries[key] = answer
            self._size += cost
            while self._size > self.budget and self._entries:
                old_key, old_answer = self._entries.popitem(last=False)
                self._size -= self._cost(old_key, old_answer)

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._entries)
