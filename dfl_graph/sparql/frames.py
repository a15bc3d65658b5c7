"""The messages between the web process and a query worker, over a ``multiprocessing`` pipe.

Each message is a type byte and a payload. The web process sends jobs; the worker answers with a header
(status and result metadata), data chunks and an end mark. Messages keep the pipe in step, so a worker
can be reused for the next job; when a job is abandoned half-way the worker is killed instead.
"""

from __future__ import annotations

import json
import time
from multiprocessing.connection import Connection

READY = b"R"  # worker -> web: started (payload: JSON facts about the worker)
JOB = b"Q"  # web -> worker: a query to run (payload: JSON)
OPEN = b"O"  # web -> worker: open this store now (payload: its directory); the worker answers END
HEADER = b"H"  # worker -> web: status and metadata (payload: JSON)
DATA = b"D"  # worker -> web: a chunk of the response body
END = b"E"  # worker -> web: the response is complete

CHUNK = 1 << 16


class WorkerGone(Exception):
    """The worker's pipe closed: it exited or was killed."""


class Timeout(Exception):
    """No message before the deadline."""


def write_frame(conn: Connection, kind: bytes, payload: bytes = b"") -> None:
    conn.send_bytes(kind + payload)


def write_json(conn: Connection, kind: bytes, value: object) -> None:
    write_frame(conn, kind, json.dumps(value).encode())


class FrameReader:
    """Reads messages from a pipe, with a deadline (a ``time.monotonic()`` value) per read."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def read(self, deadline: float | None = None) -> tuple[bytes, bytes]:
        try:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not self.conn.poll(left):
                    raise Timeout
            message = self.conn.recv_bytes()
        except (EOFError, OSError):
            raise WorkerGone from None
        return message[:1], message[1:]
