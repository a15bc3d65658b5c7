"""The RDF dataset a query runs on: what it asked for, within the public graphs (or, for a caller who may see
more, the graphs of its ``Visibility``: the views pass that list as ``public_graphs``), never wider.

pyoxigraph's ``default_graph`` / ``named_graphs`` arguments replace a query's own ``FROM`` / ``FROM NAMED``,
so the endpoint always passes both, explicitly (an empty list means an empty graph set, never "all"):

* the protocol's ``default-graph-uri`` / ``named-graph-uri`` if given (they override the query's dataset,
  as the SPARQL Protocol says), else the query's ``FROM`` / ``FROM NAMED``, else the whole public catalogue
  (default graph = the union of the public graphs; named graphs = the public graphs);
* intersected with the public graphs: a restricted or unknown graph is simply not there (an empty graph),
  the same answer for both, so the endpoint does not reveal which restricted graphs exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dfl_graph.sparql.inspection import QueryShape

_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")


@dataclass(frozen=True)
class Dataset:
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    whole: bool = False  # the whole public catalogue and no GRAPH pattern: the SPARQL store's merge serves it


class DatasetError(ValueError):
    """A graph IRI given to the protocol is not an absolute IRI."""


def check_graph_iris(iris: Iterable[str], parameter: str) -> list[str]:
    found = []
    for iri in iris:
        if not _ABSOLUTE_IRI.match(iri):
            raise DatasetError(f"{parameter} must be an absolute IRI, got {iri!r}")
        found.append(iri)
    return found


def _within(graphs: Iterable[str], public: set[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(g for g in graphs if g in public))


def public_dataset(
    shape: QueryShape,
    protocol_default: Sequence[str],
    protocol_named: Sequence[str],
    public_graphs: Iterable[str],
) -> Dataset:
    public = list(public_graphs)
    allowed = set(public)
    if protocol_default or protocol_named:
        return Dataset(_within(protocol_default, allowed), _within(protocol_named, allowed))
    if shape.has_dataset:
        return Dataset(_within(shape.from_graphs, allowed), _within(shape.from_named_graphs, allowed))
    return Dataset(tuple(public), tuple(public), whole=not shape.uses_graph)
