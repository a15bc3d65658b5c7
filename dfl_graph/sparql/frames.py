"""The framing between the web process and a query worker: a type byte, a length, a payload.

Over the worker's stdin the web process sends jobs; over its stdout the worker answers with a header
(status and result metadata), data chunks and an end mark. Frames keep the pipe in step, so a worker can
be reused for the next job; when a job is abandoned half-way the worker is killed instead.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time

READY = b"R"  # worker -> web: started (payload: JSON facts about the worker)
JOB = b"Q"  # web -> worker: a query to run (payload: JSON)
HEADER = b"H"  # worker -> web: status and metadata (payload: JSON)
DATA = b"D"  # worker -> web: a chunk of the response body
END = b"E"  # worker -> web: the response is complete

_HEAD = struct.Struct(">cI")
CHUNK = 1 << 16


class WorkerGone(Exception):
    """The worker's pipe closed: it exited or was killed."""


class Timeout(Exception):
    """No complete frame before the deadline."""


def write_frame(fd: int, kind: bytes, payload: bytes = b"") -> None:
    data = memoryview(_HEAD.pack(kind, len(payload)) + payload)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def write_json(fd: int, kind: bytes, value: object) -> None:
    write_frame(fd, kind, json.dumps(value).encode())


class FrameReader:
    """Reads frames from a pipe, with a deadline (``time.monotonic()`` value) per read."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def _fill(self, size: int, deadline: float | None) -> None:
        while len(self.buffer) < size:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout
                ready, _, _ = select.select([self.fd], [], [], left)
                if not ready:
                    raise Timeout
            chunk = os.read(self.fd, max(CHUNK + _HEAD.size, size - len(self.buffer)))
            if not chunk:
                raise WorkerGone
            self.buffer += chunk

    def read(self, deadline: float | None = None) -> tuple[bytes, bytes]:
        self._fill(_HEAD.size, deadline)
        kind, size = _HEAD.unpack_from(self.buffer)
        self._fill(_HEAD.size + size, deadline)
        payload = bytes(self.buffer[_HEAD.size : _HEAD.size + size])
        del self.buffer[: _HEAD.size + size]
        return kind, payload
