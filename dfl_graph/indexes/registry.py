"""The index builders every published generation gets, in the order they run (see :mod:`dfl_graph.indexes`).

The catalogue index first, then the search index that reads it, then the source-records index; the SPARQL
store (mostly a bulk load in Rust) and the SPARQL shape index read from it alongside them in a thread, and
the trusted readers' shape index (read from the generation's store, when it has restricted graphs) in another.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dfl_graph.indexes import IndexBuilder
from dfl_graph.indexes.catalogue import build_catalogue_index
from dfl_graph.indexes.source_records import build_source_records
from dfl_graph.search.build import build_search_index
from dfl_graph.sparql.shape_index import build_restricted_shape_index, build_sparql_indexes
from dfl_graph.store import CatalogueStore
from dfl_graph.uris import Uris

if TYPE_CHECKING:
    from dfl_graph.backends import StoreBackend

BUILDERS: tuple[IndexBuilder, ...] = (
    IndexBuilder("catalogue", build_catalogue_index),
    IndexBuilder("search", build_search_index),
    IndexBuilder("source_records", build_source_records),
    IndexBuilder("sparql_store", build_sparql_indexes, concurrent=True),
    IndexBuilder("sparql_restricted", build_restricted_shape_index, concurrent=True),
)


def open_writer(data_dir: Path | str, uris: Uris, backend: StoreBackend | None = None) -> CatalogueStore:
    """The writer's handle on a data directory, publishing generations with every index the product reads.

    On a remote store (``backend``) the public SPARQL endpoint sends queries to that store, so the embedded
    SPARQL store and its shape index are not built."""
    if backend is None or backend.name == "embedded":
        return CatalogueStore(data_dir, uris, BUILDERS, backend)
    embedded_only = ("sparql_store", "sparql_restricted")
    return CatalogueStore(data_dir, uris, [b for b in BUILDERS if b.name not in embedded_only], backend)


__all__ = ["BUILDERS", "open_writer"]
