"""The public endpoint's limits, from :class:`dfl_graph.config.Settings` and a few ``DFL_*`` variables.

The main limits are Settings fields (``query_timeout``, ``max_query_length``, ``max_result_rows``,
``max_result_bytes``, ``max_concurrent_queries``); the finer knobs below are read from ``settings.extra``
or the environment, with defaults sized for a small (2-core) server.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from dfl_graph.config import Settings


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # seconds a query may run before its worker is killed
    max_query_length: int = 20_000  # characters of query text
    max_rows: int = 100_000  # solutions (or triples) in one result
    max_bytes: int = 50_000_000  # bytes in one result
    max_concurrent: int = 4  # queries starting up at once, across the server's processes
    max_long: int = 8  # queries past `slow_after` at once; more are stopped with 503 (they only cost memory)
    turns_after: float = 2.0  # then long queries run youngest first, and yield to requests
    long_running: int = 1  # of the queries past `turns_after`, how many (the youngest) run; the others wait
    slow_after: float = 0.5  # a query running longer moves to the long lane, at the lowest CPU priority
    cache_bytes: int = 64 << 20  # result cache budget of each web process
    worker_memory_mb: int = 2048  # address-space cap of each query worker
    spare_workers: int = 1  # idle workers each web process keeps started
    max_idle_workers: int = 3

    @property
    def retry_after(self) -> int:
        """Seconds a client should wait before retrying when the endpoint is full."""
        return max(1, math.ceil(self.slow_after * 2))

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        def knob(name: str, default, cast):
            value = settings.extra.get(name, os.environ.get("DFL_" + name.upper()))
            return default if value in (None, "") else cast(value)

        timeout = float(settings.query_timeout)
        return cls(
            timeout=timeout,
            max_query_length=settings.max_query_length,
            max_rows=settings.max_result_rows,
            max_bytes=settings.max_result_bytes,
            max_concurrent=max(1, settings.max_concurrent_queries),
            # Long queries run at SCHED_IDLE, so room for more of them costs memory, not CPU; a query turned
            # away when the lane is full has already run `slow_after` at normal priority, for nothing.
            max_long=max(1, knob("max_long_queries", 2 * settings.max_concurrent_queries, int)),
            turns_after=min(knob("query_turns_after", 2.0, float), timeout),
            long_running=max(1, knob("long_running_queries", 1, int)),
            slow_after=min(knob("slow_query_after", 0.5, float), timeout),
            cache_bytes=knob("query_cache_mb", 64, int) << 20,
            worker_memory_mb=knob("query_memory_mb", 2048, int),
            spare_workers=knob("spare_query_workers", 1, int),
        )
