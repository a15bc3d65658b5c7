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
import os
import tempfile
from pathlib import Path


def runtime_dir(data_dir: Path) -> Path:
    """A private directory for the slot files of servers on one data directory."""
    key = hashlib.sha1(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    directory = Path(tempfile.gettempdir()) / f"dfl-sparql-{os.getuid()}-{key}"
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


class Slot:
    def __init__(self, fd: int, lane: str) -> None:
        self.fd = fd
        self.lane = lane

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
            path = self.paths[(start + i) % self.size]
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return Slot(fd, self.name)
        return None

    def held(self) -> int:
        """How many slots are held right now, by any process (this one's included)."""
        count = 0
        for path in self.paths:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                count += 1
            finally:
                os.close(fd)
        return count
