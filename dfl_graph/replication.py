"""Web nodes: a node pulls published generations from the writer's shared data directory into its own.

A node's data directory is laid out like the writer's (:mod:`dfl_graph.generations`) but holds only what readers
open: each generation's manifest and indexes, and, on the embedded store, its checkpoint (on a remote store the
graphs are in the store, so the checkpoint stays with the writer). :func:`pull` copies the newest published
generation into a staging directory, renames it into place, and only then swaps the node's ``CURRENT``: the node's
web processes see the previous generation or the next, as on the writer's machine, and ``/healthz`` says which.
A generation is immutable once published, so copying it while the writer publishes the next is safe; one the
writer has already dropped (it keeps the last few) fails this pull, and the next pull takes the newer one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dfl_graph.generations import FORMAT_FILE, CatalogueReader, Manifest, StoreError, check_format, generation_dir
from dfl_graph.publish import SECONDS_FILE, collect_garbage, swap_current

COPIED_FILES = ("manifest.json", SECONDS_FILE)


def pull(source: Path, target: Path) -> tuple[int, bool]:
    """Make ``target`` serve the generation ``source`` has published: (that generation, whether it was copied now)."""
    published = CatalogueReader(source).current_generation()
    if published is None:
        raise StoreError(f"{source} has no published generation to pull (run `dfl load` there first)")
    target.mkdir(parents=True, exist_ok=True)
    check_format(target)
    if CatalogueReader(target).current_generation() == published:
        return published, False
    origin = generation_dir(source, published)
    try:
        manifest = Manifest.from_file(origin / "manifest.json")
    except FileNotFoundError:
        raise StoreError(f"generation {published} left {source} while it was being pulled; pull again") from None
    staging = target / "generations" / f".pull-{published:08d}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for name in COPIED_FILES:
            shutil.copy2(origin / name, staging / name)
        shutil.copytree(origin / "indexes", staging / "indexes")
        if manifest.backend == "embedded":
            shutil.copytree(origin / "store", staging / "store")
    except FileNotFoundError:
        shutil.rmtree(staging, ignore_errors=True)
        raise StoreError(f"generation {published} left {source} while it was being pulled; pull again") from None
    if (source / FORMAT_FILE).exists():
        shutil.copy2(source / FORMAT_FILE, target / FORMAT_FILE)
    final = generation_dir(target, published)
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    swap_current(target, published)
    collect_garbage(target, published)
    return published, True


__all__ = ["pull"]
