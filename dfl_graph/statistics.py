"""Catalogue statistics for ``dfl stats``: counts over a published snapshot."""

from __future__ import annotations

from pyoxigraph import NamedNode

from dfl_graph.queries import query_text
from dfl_graph.store import Snapshot


def _counts(snapshot: Snapshot, graphs: list[NamedNode]) -> dict[str, int]:
    if not graphs:
        return {"datasets": 0, "distributions": 0, "publishers": 0}
    row = next(iter(snapshot.store.query(query_text("catalogue-statistics"), default_graph=graphs)))
    return {name: int(row[name].value) for name in ("datasets", "distributions", "publishers")}


def catalogue_statistics(snapshot: Snapshot) -> dict:
    everything = _counts(snapshot, [NamedNode(g) for g in snapshot.manifest.graphs])
    public = _counts(snapshot, snapshot.public_graphs)
    return {
        "generation": snapshot.generation,
        "published_at": snapshot.manifest.published_at,
        **everything,
        "public_datasets": public["datasets"],
        "quads": sum(info["quads"] for info in snapshot.manifest.graphs.values()),
        "graphs": snapshot.manifest.graphs,
    }
