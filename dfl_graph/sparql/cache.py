"""Results of read-only queries, kept within a memory budget (least recently used out first).

Keyed by everything that decides the bytes of an answer: the store generation, the query text, the
dataset, the substitutions, the format and the caps. A new generation changes every key, so a publish
needs no invalidation: old entries just age out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dfl_graph.memory_cache import MemoryCache


@dataclass(frozen=True)
class CachedAnswer:
    header: dict
    body: bytes


def cache_key(*parts: object) -> str:
    """A compact key (and ETag) for the parts that determine an answer."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16)
    return digest.hexdigest()


def result_cache(budget_bytes: int, max_entry_fraction: float = 0.125) -> MemoryCache[CachedAnswer]:
    """The answers of a web process, within ``budget_bytes``; one answer at most ``max_entry_fraction`` of it."""
    return MemoryCache(
        max_bytes=budget_bytes,
        size_of=lambda key, answer: len(answer.body) + len(str(key)) + 512,
        max_entry_bytes=int(budget_bytes * max_entry_fraction),
    )
