"""When the server last began answering a request, shared by all its web processes.

Long SPARQL queries should run on time the server does not need (:mod:`dfl_graph.sparql.pool`), and
SCHED_IDLE alone does not give that on a small machine: a runaway at the lowest priority still fills the
caches and memory bandwidth the web processes need, and doubled their tail latency when measured. So the
pool needs to know whether requests are coming in. Every request start writes the time (CLOCK_MONOTONIC,
which all processes share) into a one-entry :class:`~dfl_graph.sparql.lanes.SharedInts` in the runtime
directory; the pool reads it. A write that races another only shifts a hint by a few microseconds.
"""

from __future__ import annotations

import time
from pathlib import Path

from dfl_graph.sparql.lanes import SharedInts


class Activity:
    def __init__(self, directory: Path) -> None:
        self._latest = SharedInts(directory / "activity", 1)

    def mark(self) -> None:
        """A request has started."""
        self._latest[0] = time.monotonic_ns()

    def quiet_for(self) -> float:
        """Seconds since the latest request started (in any process of the server)."""
        return (time.monotonic_ns() - self._latest[0]) / 1e9
