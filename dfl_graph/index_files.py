"""Writing a generation's SQLite index files: a new one, or the previous generation's copied and updated
in place (what harvests publish). Either way a failed build leaves no file behind, so a generation never
keeps a half-written index."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

# An index file is written once, by one builder, and published only when complete: no journal needed.
FAST_WRITES = "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"


class StaleIndex(Exception):
    """The previous generation's index has another schema: the builder rebuilds instead."""


@contextlib.contextmanager
def writing_index(path: Path) -> Iterator[sqlite3.Connection]:
    """``path`` opened for writing, with :data:`FAST_WRITES`: committed and closed on success; deleted on any
    error (``StaleIndex`` included)."""
    db = sqlite3.connect(path)
    try:
        db.executescript(FAST_WRITES)
        yield db
        db.commit()
    except BaseException:
        db.close()
        path.unlink(missing_ok=True)
        raise
    db.close()


@contextlib.contextmanager
def copy_for_update(previous: Path, path: Path) -> Iterator[sqlite3.Connection]:
    """The previous index copied to ``path`` and opened for an in-place update (see :func:`writing_index`)."""
    shutil.copyfile(previous, path)
    with writing_index(path) as db:
        yield db
