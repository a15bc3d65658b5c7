"""Where the catalogue's graphs are stored and queried: the embedded Oxigraph store, or a remote SPARQL 1.1 store.

Every reader of a published generation (views, index builders, the SPARQL endpoint) reads it through one small
interface, :class:`GraphStore`: pyoxigraph's own reading API (``query`` with a dataset, ``quads_for_pattern``,
``dump``), which ``pyoxigraph.Store`` already is. The writer's side of a backend is :class:`StoreBackend`: what
publishing a generation does to the store readers use, and how a reader opens a generation.

* :mod:`~dfl_graph.backends.embedded`: the generation's RocksDB checkpoint, opened read-only (the default);
* :mod:`~dfl_graph.backends.sparql_http`: a remote store (Virtuoso, Fuseki, GraphDB, Neptune, QLever...) over the
  SPARQL 1.1 Query, Update and Graph Store protocols, chosen by ``DFL_STORE=sparql+http://...``.

What a generation is on a remote store: the **graph registry version** (each logical graph, e.g.
``{base}/graph/{source}``, is stored under a name of its own per write, ``{logical}#dfl-stored-{generation}``,
and the generation's manifest says which stored graph each logical graph is) plus **the indexes built for it**
(search, catalogue index), which the web nodes hold. Graphs are written under their new names before the
registry switches to them in one update, so a reader never meets a half-written graph; a stored graph is
dropped only when no kept generation names it. See docs/architecture.md ("Store backends").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from pyoxigraph import NamedNode, Quad, QueryBoolean, QuerySolutions, QueryTriples, RdfFormat, Variable

if TYPE_CHECKING:
    from pyoxigraph import BlankNode, DefaultGraph, Literal, Store

    from dfl_graph.generations import Manifest

    Term = NamedNode | BlankNode | Literal


class GraphStore(Protocol):
    """What a reader asks of a generation's graphs (the subset of ``pyoxigraph.Store`` the product uses).

    Graph names are always the logical ones (``{base}/graph/{source}``), whatever the store keeps them as.
    """

    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        default_graph: Sequence[NamedNode | DefaultGraph] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        substitutions: dict[Variable, Term] | None = None,
    ) -> QuerySolutions | QueryBoolean | QueryTriples: ...

    def quads_for_pattern(
        self,
        subject: Term | None,
        predicate: NamedNode | None,
        object: Term | None,
        graph_name: NamedNode | DefaultGraph | None = None,
    ) -> Iterator[Quad]: ...

    def dump(self, output: BinaryIO, format: RdfFormat, *, from_graph: NamedNode | None = None) -> None: ...


class StoreBackend(Protocol):
    """A kind of store, as the publisher and the readers see it."""

    name: str  # "embedded" | "sparql"

    def open_generation(self, directory: Path, manifest: Manifest) -> GraphStore:
        """The graphs of a published generation (whose files, at least its manifest, are in ``directory``)."""
        ...

    def store_graphs(
        self, checkpoint: Store, generation: int, graphs: Sequence[str], previous: dict[str, str]
    ) -> dict[str, str]:
        """Make the generation's graphs readable where readers read them; returns each logical graph's stored name.

        ``graphs`` are every graph of the generation, ``previous`` the stored names of the previous one: a
        backend may keep a graph whose content did not change under its old name.
        """
        ...

    def switch(self, generation: int, stored: dict[str, str]) -> None:
        """Point the store's registry at ``generation`` (one atomic step), after its graphs are complete."""
        ...

    def collect_garbage(self, kept: Sequence[dict[str, str]]) -> None:
        """Drop stored graphs that none of the ``kept`` generations' maps names."""
        ...


def backend_for(store_url: str, base: str) -> StoreBackend:
    """The backend ``DFL_STORE`` names: empty for the embedded store, ``sparql+http(s)://...`` for a remote one
    (whose graph registry is ``{base}/graph/registry``)."""
    from dfl_graph.backends.embedded import EmbeddedBackend

    if not store_url:
        return EmbeddedBackend()
    from dfl_graph.backends.sparql_http import SparqlBackend

    return SparqlBackend.from_url(store_url, base)


__all__ = ["GraphStore", "StoreBackend", "backend_for"]
