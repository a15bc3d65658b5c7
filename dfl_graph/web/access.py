"""How views reach the catalogue: the published snapshot of this worker, opened once and reopened
when a newer generation is published."""

from __future__ import annotations

from flask import current_app

from dfl_graph.config import Settings
from dfl_graph.indexes.catalogue import CatalogueIndex
from dfl_graph.store import CatalogueReader, Snapshot


def settings() -> Settings:
    return current_app.extensions["dfl.settings"]


def reader() -> CatalogueReader:
    return current_app.extensions["dfl.reader"]


def snapshot() -> Snapshot:
    """The current published snapshot (cheap: a stat of CURRENT when nothing changed)."""
    return reader().snapshot()


def catalogue_index(current: Snapshot | None = None) -> CatalogueIndex:
    """The catalogue index of a snapshot (default: the current one), opened once per generation per worker."""
    current = current or snapshot()
    opened: dict = current_app.extensions.setdefault("dfl.catalogue_indexes", {})
    key = str(current.directory)
    index = opened.get(key)
    if index is None:
        for stale in list(opened)[:-2]:  # keep the last few: requests may still be on an older generation
            opened.pop(stale, None)
        index = opened[key] = CatalogueIndex.of(current)
    return index
