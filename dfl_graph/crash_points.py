"""Named points in the write path where a test can make the process die (``kill -9`` of itself).

Crash safety is a promise about *every* moment of a write: whatever instant a ``dfl load``, ``dfl harvest``
or ``dfl restore`` dies at, the next one succeeds and nothing published is lost. Sleeping and killing from
outside hits random moments and flakes on a loaded machine; so the writer names its moments instead, and
``tests/test_crashes.py`` sets::

    DFL_CRASH_AT=<point>[:<n>]

to make the process SIGKILL itself the ``n``-th time (default: the first) it reaches ``<point>``. Unset (as
always outside those tests), :func:`crash_point` is one dictionary lookup. :data:`POINTS` lists every point;
a name not in it is a programming error, so a test cannot silently name a point that no longer exists.
"""

from __future__ import annotations

import os
import signal

ENVIRONMENT = "DFL_CRASH_AT"

POINTS = {
    "write-started": "the primary is marked dirty, nothing written yet",
    "bulk-batch": "a batch of quads was sent to the bulk loader (the n-th batch with :n)",
    "bulk-loaded": "the bulk loader finished, the store is not compacted yet",
    "compacted": "the primary was compacted after a bulk write",
    "removed": "an in-place write removed its old quads, the new ones are not written yet",
    "added": "an in-place write added a batch of quads (the n-th batch with :n)",
    "registered": "the written graphs were registered in the system graph",
    "checkpoint-started": "the generation's directory exists, the checkpoint is being made",
    "checkpointed": "the primary was checkpointed into the new generation",
    "manifest-written": "the new generation's manifest is written",
    "builder-started": "an index builder started (the n-th builder with :n)",
    "builder-finished": "an index builder finished (the n-th builder with :n)",
    "indexes-built": "every index of the new generation is built",
    "current-staged": "the new CURRENT is written to a temporary file, not renamed yet",
    "current-swapped": "CURRENT names the new generation; the primary is still marked dirty",
    "garbage-collected": "old generations were removed",
    "recovery-started": "a recovery removed the dirty primary and has not restored it yet",
    "restore-parsed": "a dump to restore is parsed, nothing written yet",
    "harvest-fetched": "a harvest fetched and mapped its source, nothing written yet",
    "load-mapped": "a load read and mapped its file and planned the write, nothing written yet",
}

_armed: dict[str, int] = {}


def _arm() -> None:
    spec = os.environ.get(ENVIRONMENT)
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name not in POINTS:
        raise ValueError(f"{ENVIRONMENT}={spec!r}: no such crash point; known: {', '.join(POINTS)}")
    _armed[name] = int(nth or 1)


def crash_point(name: str) -> None:
    """Die here (SIGKILL, no clean-up of any kind) if a test armed this point; else do nothing."""
    if name not in _armed:
        return
    _armed[name] -= 1
    if _armed[name] <= 0:
        os.kill(os.getpid(), signal.SIGKILL)


_arm()
