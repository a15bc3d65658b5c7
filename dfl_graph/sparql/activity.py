"""When the server last began answering a request, shared by all its web processes.

Long SPARQL queries should run on time the server does not need (:mod:`dfl_graph.sparql.pool`), and
SCHED_IDLE alone does not give that on a small machine: a runaway at the lowest priority still fills the
caches and memory bandwidth the web processes need, and doubled their tail latency when measured. So the
pool needs to know whether requests are coming in. Every request start writes the time (CLOCK_MONOTONIC,
which all processes share) into one 8-byte slot of a memory-mapped file in the runtime directory; the
pool reads it. A write that races another only shifts a hint by a few microseconds.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
from pathlib import Path

_SLOT = struct.Struct("q")


class Activity:
    def __init__(self, directory: Path) -> None:
        fd = os.open(directory / "activity", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if os.fstat(fd).st_size < _SLOT.size:
                os.ftruncate(fd, _SLOT.size)
            self._map = mmap.mmap(fd, _SLOT.size)
        finally:
            os.close(fd)

    def mark(self) -> None:
        """A request has started."""
        _SLOT.pack_into(self._map, 0, time.monotonic_ns())

    def quiet_for(self) -> float:
        """Seconds since the latest request started (in any process of the server)."""
        return (time.monotonic_ns() - _SLOT.unpack_from(self._map, 0)[0]) / 1e9
