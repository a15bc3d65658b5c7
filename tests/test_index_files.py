"""Spare copies of a generation's index files (dfl_graph/index_files.py): an update takes a complete spare,
waits for one being written, and copies the file itself when a spare was abandoned half-written."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from dfl_graph.index_files import SPARE_STALLED, copy_of, make_spares


def test_an_update_takes_a_spare_and_copies_when_there_is_none(tmp_path: Path) -> None:
    previous, path = tmp_path / "catalogue.sqlite", tmp_path / "next.sqlite"
    previous.write_bytes(b"published index")
    assert make_spares(tmp_path) == 1
    spare = tmp_path / "catalogue.sqlite.spare"
    inode = spare.stat().st_ino
    copy_of(previous, path)
    assert path.stat().st_ino == inode and not spare.exists()
    copy_of(previous, tmp_path / "again.sqlite")  # no spare left: a copy
    assert (tmp_path / "again.sqlite").read_bytes() == b"published index"
    assert previous.read_bytes() == b"published index"


def test_an_update_waits_for_a_spare_being_written(tmp_path: Path) -> None:
    previous, path = tmp_path / "search.sqlite", tmp_path / "next.sqlite"
    previous.write_bytes(b"x" * 1000)
    part = tmp_path / ".search.sqlite1234.part"
    part.write_bytes(b"")
    inode = part.stat().st_ino

    def write_slowly() -> None:
        with part.open("ab") as handle:
            for _ in range(10):
                handle.write(b"x" * 100)
                handle.flush()
                time.sleep(0.05)
        os.replace(part, tmp_path / "search.sqlite.spare")

    writer = threading.Thread(target=write_slowly)
    writer.start()
    copy_of(previous, path)
    writer.join()
    assert path.stat().st_ino == inode, "the update copied the file instead of waiting for the spare"
    assert path.read_bytes() == previous.read_bytes()


def test_an_abandoned_spare_is_not_waited_for(tmp_path: Path) -> None:
    previous, path = tmp_path / "search.sqlite", tmp_path / "next.sqlite"
    previous.write_bytes(b"published")
    part = tmp_path / ".search.sqlite99.part"
    part.write_bytes(b"publ")
    stalled = time.time() - SPARE_STALLED - 1
    os.utime(part, (stalled, stalled))
    update = threading.Thread(target=copy_of, args=(previous, path), daemon=True)
    update.start()
    update.join(timeout=60)
    assert not update.is_alive(), "it waits for a spare nobody is writing"
    assert path.read_bytes() == b"published" and part.exists()
