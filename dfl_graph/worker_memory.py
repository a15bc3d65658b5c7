"""Keeping a web worker's heap close to what it holds.

A gunicorn worker answers on 8 threads. glibc's allocator gives each thread an arena of its own (up to 8 per
core), and a freed block inside an arena is reused only by that arena and returned to the system only from its
top: under a mixed load the heap of a worker grew to several times what its caches held (issue 13's soak:
~950 MB against 186 MB of cache budgets). Two glibc calls bound that: fewer arenas, and an occasional
``malloc_trim`` that hands free pages back. Elsewhere (musl, macOS) both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


LIBC = _glibc()


def limit_arenas(arenas: int = 2) -> bool:
    """Let the threads of this process share ``arenas`` arenas (call before they start); whether it took."""
    return bool(LIBC and LIBC.mallopt(M_ARENA_MAX, arenas) == 1)


class Trimmer:
    """Called after each request: every ``every`` requests, return the heap's free pages to the system.
    A trim walks the arenas (a few milliseconds on a worker's heap); one at a time per process."""

    def __init__(self, every: int = 200) -> None:
        self.every = every
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, _worker: object, _request: object, _environ: object, _response: object) -> None:
        """gunicorn's ``post_request`` hook."""
        with self._lock:
            self.count += 1
            due = self.count % self.every == 0
        if due and LIBC is not None:
            LIBC.malloc_trim(0)
