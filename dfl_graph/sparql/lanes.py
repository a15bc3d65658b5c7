"""Admission slots shared by every process of one server: ``flock`` on a few slot files.

gunicorn runs several web processes, each with its own query workers; a cap on concurrent queries only
means something if it is counted across them. A slot is an exclusive ``flock`` on one of N files: taking
one costs a few system calls, and the kernel releases it if the holder dies, so a killed process never
leaks a slot.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mmap
import os
import struct
import tempfile
from pathlib import Path


def runtime_dir(data_dir: Path) -> Path:
    """A private directory for the slot files of servers on one data directory."""
    key = hashlib.sha1(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    directory = Path(tempfile.gettempdir()) / f"dfl-sparql-{os.getuid()}-{key}"
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


class Slot:
    def __init__(self, fd: int, lane: str, index: int) -> None:
        self.fd = fd
        self.lane = lane
        self.index = index

    def release(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)  # closing the only descriptor drops the lock
            self.fd = -1


class Lane:
    """N slots, each held by at most one query at a time across all processes."""

    def __init__(self, directory: Path, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self.paths = [directory / f"{name}-{i}.slot" for i in range(size)]
        for path in self.paths:
            path.touch(exist_ok=True)

    def try_acquire(self) -> Slot | None:
        """A free slot, or None when all are held. Starts at a varying slot to spread contention."""
        start = os.getpid() % self.size
        for i in range(self.size):
            index = (start + i) % self.size
            fd = os.open(self.paths[index], os.O_RDWR | os.O_CLOEXEC)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return Slot(fd, self.name, index)
        return None

    def is_held(self, index: int) -> bool:
        """Whether slot ``index`` is held right now, by any process (this one included)."""
        fd = os.open(self.paths[index], os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False


class SharedInts:
    """A fixed row of 64-bit integers in a memory-mapped file of the runtime directory, read and written by
    every process of the server without locks: each entry is a hint written whole by one holder."""

    _INT = struct.Struct("q")

    def __init__(self, path: Path, count: int) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            size = self._INT.size * count
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size)
        finally:
            os.close(fd)

    def __getitem__(self, index: int) -> int:
        return self._INT.unpack_from(self._map, index * self._INT.size)[0]

    def __setitem__(self, index: int, value: int) -> None:
        self._INT.pack_into(self._map, index * self._INT.size, value)


class Seniority:
    """When the query holding each slot of a lane started (CLOCK_MONOTONIC ns, 0 for none), shared by the
    server's processes, so that the lane can let its youngest queries run first. An entry whose slot is no
    longer held (its process died) is ignored."""

    def __init__(self, lane: Lane) -> None:
        self.lane = lane
        self._started = SharedInts(lane.paths[0].with_name(f"{lane.name}.started"), lane.size)

    def record(self, slot: Slot, started_ns: int) -> None:
        self._started[slot.index] = started_ns

    def younger(self, slot: Slot, started_ns: int) -> int:
        """How many other queries of the lane started after ``started_ns`` and still hold their slot."""
        count = 0
        for index in range(self.lane.size):
            if index == slot.index:
                continue
            other = self._started[index]
            if (other > started_ns or (other == started_ns and index > slot.index)) and self.lane.is_held(index):
                count += 1
        return count
