"""How views reach the catalogue: the published snapshot of this worker, opened once and reopened
when a newer generation is published."""

from __future__ import annotations

from flask import current_app

from dfl_graph.config import Settings
from dfl_graph.store import CatalogueReader, Snapshot


def settings() -> Settings:
    return current_app.extensions["dfl.settings"]


def reader() -> CatalogueReader:
    return current_app.extensions["dfl.reader"]


def snapshot() -> Snapshot:
    """The current published snapshot (cheap: a stat of CURRENT when nothing changed)."""
    return reader().snapshot()
