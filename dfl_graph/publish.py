"""Publishing a write: the primary's checkpoint becomes the next generation, with every index built, and
only then is ``CURRENT`` swapped (an atomic rename), so readers see the previous catalogue or the next.

The publisher runs the index builders it is given (:mod:`dfl_graph.indexes.registry` lists the product's):
the sequential ones in order while the concurrent ones run alongside in threads. Each builder's wall time
goes to the generation's ``build-seconds.json`` (the benchmarks read it). A builder that fails fails the
publish; the writer then restores its primary from the published generation (:mod:`dfl_graph.store`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import Store

from dfl_graph.crash_points import crash_point
from dfl_graph.generations import (
    FRESH_TRIPLES,
    Delta,
    Manifest,
    Snapshot,
    generation_dir,
    now,
)

if TYPE_CHECKING:
    from dfl_graph.indexes import IndexBuilder
    from dfl_graph.store import CatalogueStore

KEEP_GENERATIONS = 3
SECONDS_FILE = "build-seconds.json"


class Publisher:
    """Turns the writer's primary into the next published generation (see the module docstring)."""

    def __init__(self, store: CatalogueStore, builders: Sequence[IndexBuilder]) -> None:
        self.store = store
        self.builders = tuple(builders)

    def publish(self, changed: frozenset[str] = frozenset(), delta: Delta | None = None) -> int:
        """Checkpoint the primary as the next generation, build its indexes, then swap CURRENT.

        With a ``delta`` (an in-place write), it is published as ``changes.json`` for the index builders,
        and the quad counts are the previous generation's plus the delta's (no count over the store).
        """
        store = self.store
        data_dir = store.data_dir
        previous = store.generation
        generation = previous + 1
        target = generation_dir(data_dir, generation)
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        crash_point("checkpoint-started")
        graphs = store.checkpoint(target / "store", delta, previous)
        crash_point("checkpointed")
        if delta is not None:
            delta.write(target, changed)
        store.stage_fresh_triples(target)
        checkpoint = Store.read_only(str(target / "store"))
        previous_dir = generation_dir(data_dir, previous) if previous else None
        stored = self._store_graphs(checkpoint, generation, graphs, previous_dir, changed)
        public = tuple(sorted(g for g, i in graphs.items() if i["public"]))
        manifest = Manifest(
            generation, now(), public, graphs, store.uris.base, stored=stored, backend=store.backend.name
        )
        (target / "manifest.json").write_text(manifest.to_json())
        crash_point("manifest-written")
        (target / "indexes").mkdir()
        snapshot = Snapshot(target, manifest, checkpoint)  # builders read the checkpoint: the same graphs, at hand
        # the generation that this one pushes out of the kept ones is removed while the indexes are built (freeing
        # a generation's files took 0.27 s at 100k datasets); readers moved on from it two generations ago
        collector = threading.Thread(target=_remove, args=(expired(data_dir, generation),), name="dfl-collect")
        collector.start()
        try:
            seconds = self._build(snapshot, target, previous_dir, changed)
        finally:
            collector.join()
        del snapshot, checkpoint
        shutil.rmtree(target / FRESH_TRIPLES, ignore_errors=True)  # large, and of no use once the indexes exist
        (target / SECONDS_FILE).write_text(json.dumps(seconds))
        crash_point("indexes-built")
        store.backend.switch(generation, stored)
        swap_current(data_dir, generation)
        crash_point("current-swapped")
        collect_garbage(data_dir, generation)
        store.backend.collect_garbage(kept_stored_graphs(data_dir))
        crash_point("garbage-collected")
        return generation

    def _store_graphs(
        self,
        checkpoint: Store,
        generation: int,
        graphs: dict[str, dict],
        previous: Path | None,
        changed: frozenset[str],
    ) -> dict[str, str]:
        """Have the backend store the generation's graphs (on a remote store: those that changed, under new
        names). A graph changed if its source did, if its quad count did, or if it is new; the system graph
        changes with every write, and a restore may change any graph."""
        before = Manifest.from_file(previous / "manifest.json") if previous else None
        kept = before.stored if before is not None else {}
        counts = before.graphs if before is not None else {}
        system = self.store.uris.system_graph()
        rewrite = [
            graph
            for graph, info in {**graphs, system: {"source": None}}.items()
            if graph == system
            or graph not in kept
            or "restore" in changed
            or info.get("source") in changed
            or info.get("quads") != counts.get(graph, {}).get("quads")
        ]
        return self.store.backend.store_graphs(
            checkpoint, generation, rewrite, {g: kept[g] for g in [*graphs, system] if g in kept and g not in rewrite}
        )

    def _build(self, snapshot: Snapshot, target: Path, previous: Path | None, changed: frozenset[str]) -> dict:
        seconds: dict[str, float] = {}

        def build(builder: IndexBuilder) -> None:
            crash_point("builder-started")
            started = time.perf_counter()
            builder.build(snapshot, target, previous, changed)
            seconds[builder.name] = round(time.perf_counter() - started, 3)
            crash_point("builder-finished")

        concurrent = [b for b in self.builders if b.concurrent]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, len(concurrent)), thread_name_prefix="dfl-index") as pool:
            alongside = [pool.submit(build, builder) for builder in concurrent]
            try:
                for builder in self.builders:
                    if not builder.concurrent:
                        build(builder)
            finally:
                for future in alongside:
                    future.result()  # its error, if any, fails the publish (after the others have stopped)
        seconds["all_indexes"] = round(time.perf_counter() - started, 3)  # wall time, builders overlapping
        return seconds


def swap_current(data_dir: Path, generation: int) -> None:
    """Name ``generation`` in CURRENT by an atomic rename of a complete temporary file."""
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".CURRENT")
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{generation}\n")
        handle.flush()
        os.fsync(handle.fileno())
    crash_point("current-staged")
    os.replace(tmp, data_dir / "CURRENT")


def kept_stored_graphs(data_dir: Path) -> list[dict[str, str]]:
    """The stored-graph maps of the generations still kept (what a remote store must not drop)."""
    maps = []
    for manifest in sorted((data_dir / "generations").glob("*/manifest.json")):
        with contextlib.suppress(OSError, ValueError, KeyError):
            maps.append(Manifest.from_file(manifest).stored)
    return maps


def collect_garbage(data_dir: Path, current: int) -> None:
    """Keep the last few generations (readers that opened an older one finish their request on it), and
    nothing newer than ``current`` (what a write that died left half-built)."""
    _remove(expired(data_dir, current) + _generations(data_dir, lambda number: number > current))
    for stale in data_dir.glob(".CURRENT*"):
        stale.unlink(missing_ok=True)


def expired(data_dir: Path, current: int) -> list[Path]:
    """The generations older than those kept once ``current`` is published."""
    return _generations(data_dir, lambda number: number <= current - KEEP_GENERATIONS)


def _generations(data_dir: Path, which: Callable[[int], bool]) -> list[Path]:
    root = data_dir / "generations"
    if not root.exists():
        return []
    return sorted(child for child in root.iterdir() if child.name.isdigit() and which(int(child.name)))


def _remove(directories: list[Path]) -> None:
    for directory in directories:
        shutil.rmtree(directory, ignore_errors=True)
