"""A web worker's heap: fewer allocator arenas and periodic trims (dfl_graph/worker_memory.py), measured on this
process's own resident memory. The soak over a 100k catalogue is `python -m bench.soak` (docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

from dfl_graph.serving import gunicorn_options, init_worker
from dfl_graph.worker_memory import LIBC, Trimmer, limit_arenas


def anonymous_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon in /proc/self/status")


def test_the_trimmer_hands_freed_heap_pages_back_every_n_requests():
    assert LIBC is not None  # the CI machine is glibc Linux: the calls must be there, not silently skipped
    trimmer = Trimmer(every=5)
    blocks = [bytearray(4000) for _ in range(60_000)]  # ~240 MB of small heap blocks (below mmap's threshold)
    kept = blocks[::100]  # pins pages across the heap, so free() alone cannot shrink it from the top
    del blocks
    freed = anonymous_mb()
    for _ in range(4):
        trimmer(None, None, None, None)
    assert anonymous_mb() > freed - 50, "no trim before the 5th request"
    trimmer(None, None, None, None)
    assert anonymous_mb() < freed - 100, "the 5th request trims the freed pages"
    assert len(kept) == 600


def test_gunicorn_workers_limit_their_arenas_and_trim():
    assert limit_arenas(2) is True
    options = gunicorn_options("127.0.0.1", 1, 2)
    assert options["post_fork"] is init_worker
    assert isinstance(options["post_request"], Trimmer) and options["post_request"].every == 200
