"""Writing a generation's SQLite index files: a new one, or the previous generation's copied and updated
in place (what harvests and publisher writes publish). Either way a failed build leaves no file behind, so a
generation never keeps a half-written index.

A generation's files are never changed once published (readers open them immutable), so an update starts
from a copy: 1.4 GB of index files at 100k datasets, most of a single-dataset write's time. The web makes
**spare copies** of the generation a write published, in the background (:func:`make_spares`); the next
update takes a spare by renaming it (:func:`copy_of`), waits for one being written, and copies only when
there is none.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)
SPARE = ".spare"  # suffix of a spare copy, beside the file it copies
SPARE_STALLED = 5.0  # seconds without a change after which a spare being written is taken for abandoned

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
    copy_of(previous, path)
    with writing_index(path) as db:
        yield db


def copy_of(previous: Path, path: Path) -> None:
    """Put a copy of ``previous`` at ``path``: its spare (a rename), waiting for it while it is being written
    (a second copy alongside would halve the speed of both), else a copy made here."""
    spare = previous.with_name(previous.name + SPARE)
    while True:
        try:
            os.replace(spare, path)
            return
        except FileNotFoundError:
            if not _spare_being_written(previous):
                break
            time.sleep(0.02)
    try:
        os.replace(spare, path)  # finished just now
    except FileNotFoundError:
        shutil.copyfile(previous, path)


def _spare_being_written(previous: Path) -> bool:
    """Whether a spare of ``previous`` is being written: its temporary file changed in the last few seconds
    (one left by a process that died stops changing)."""
    for part in previous.parent.glob(f".{previous.name}*.part"):
        with contextlib.suppress(FileNotFoundError):
            if time.time() - part.stat().st_mtime < SPARE_STALLED:
                return True
    return False


def is_spare(path: Path) -> bool:
    """A spare copy, or one being written: not part of the generation (a node pulling it leaves them)."""
    return path.name.endswith(SPARE) or (path.name.startswith(".") and path.name.endswith(".part"))


def make_spares(index_dir: Path) -> int:
    """Copy each index file of a published generation to its spare, unless it has one: written to a temporary
    name, synced, then renamed, so a spare is complete or absent. Returns how many were made. Called in the
    background after a write; a generation that is gone meanwhile (collected) ends it quietly."""
    made = 0
    try:
        for index in sorted(index_dir.glob("*.sqlite")):
            spare = index.with_name(index.name + SPARE)
            if spare.exists():
                continue
            fd, part = tempfile.mkstemp(dir=index_dir, prefix=f".{index.name}", suffix=".part")
            try:
                with open(index, "rb") as source, os.fdopen(fd, "wb") as target:
                    shutil.copyfileobj(source, target, 1 << 20)
                    target.flush()
                    os.fsync(target.fileno())
                os.replace(part, spare)
                made += 1
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(part)
    except FileNotFoundError:  # the generation was collected
        log.info("no spare index copies for %s: it is gone", index_dir)
    return made
