"""Index files updated in place from the previous generation's copy (what harvests publish)."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path


class StaleIndex(Exception):
    """The previous generation's index has another schema: the builder rebuilds instead."""


@contextlib.contextmanager
def copy_for_update(previous: Path, path: Path) -> Iterator[sqlite3.Connection]:
    """The previous index copied to ``path`` and opened for an in-place update: committed and closed on
    success; deleted on any error (``StaleIndex`` included), so a generation never keeps a half-updated one."""
    shutil.copyfile(previous, path)
    db = sqlite3.connect(path)
    try:
        yield db
        db.commit()
    except BaseException:
        db.close()
        path.unlink(missing_ok=True)
        raise
    db.close()
