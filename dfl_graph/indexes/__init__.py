"""Indexes derived from the store in the same publish step that changes it: what an index builder is.

The store is the source of truth; pages, feeds and search read these instead of sorting and grouping the
whole catalogue with SPARQL on every request. Each builder writes its own file in the generation's
``indexes/`` folder, from the generation's read-only snapshot. The builders the product uses are listed in
:mod:`dfl_graph.indexes.registry`; :class:`dfl_graph.publish.Publisher` runs them. This module imports neither
the store nor any builder, so the store, the publisher and the builders never import each other in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dfl_graph.generations import Snapshot


class BuildIndex(Protocol):
    """Builds one index of a new generation.

    ``snapshot`` is the generation, opened read-only; ``target`` its directory (write into
    ``target / "indexes"``); ``previous`` the previous generation's directory (None for the first), whose
    index it may copy and update when ``target`` holds a ``changes.json`` (see
    :class:`dfl_graph.generations.Delta`); ``changed`` the names of the sources this write changed. An exception
    fails the publish: the generation is not published.
    """

    def __call__(self, snapshot: Snapshot, target: Path, previous: Path | None, changed: frozenset[str]) -> None: ...


@dataclass(frozen=True)
class IndexBuilder:
    """A registered builder: its name (in ``build-seconds.json`` and crash points), what it runs, and whether
    it runs alongside the others in a thread (``concurrent``: it reads only the store, and spends its time in
    Rust, which releases the GIL) or in registration order (later builders may read earlier ones' files)."""

    name: str
    build: BuildIndex
    concurrent: bool = False


__all__ = ["BuildIndex", "IndexBuilder"]
