"""Answering a query job in the web process, when it can be answered exactly without a query worker.

The everyday catalogue questions (:mod:`dfl_graph.sparql.shapes`) take milliseconds on the shape index
(:mod:`dfl_graph.sparql.shape_index`) and seconds on the engine. Answered here, they need no worker, wait
behind nothing, and the answer is written by the same serializer a worker uses, within the same caps, so the
bytes are the ones the engine's answer would have given. Anything the index cannot vouch for goes to the
worker pool as before.

One resource's statements (``DESCRIBE <iri>``, ``CONSTRUCT { <iri> ?p ?o } WHERE { <iri> ?p ?o }``) are a
bounded lookup, read here too (up to :data:`LOOKUP_LIMIT` statements; a bigger one, or a DESCRIBE that would
follow blank nodes, goes to a worker): in the public store for public callers, and in the generation's store
within the caller's default graphs for the others (trusted readers, members, queries naming graphs). Such a
query is answered in about the time it takes alone, whatever long queries the workers are running.
"""

from __future__ import annotations

import io
import itertools
import threading
import time
from pathlib import Path

from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Store, Triple

from dfl_graph.sparql import serializers
from dfl_graph.sparql.formats import BY_NAME, ResultFormat
from dfl_graph.sparql.inspection import tokens
from dfl_graph.sparql.public_store import public_store_dir
from dfl_graph.sparql.shape_index import ShapeIndex, Undetermined, restricted_shape_index_of, shape_index_of
from dfl_graph.sparql.shapes import recognise, recognise_lookup
from dfl_graph.store import Snapshot

INDEX = "index"  # the header's "answered_by" for answers from the shape index (the engine's is "engine")
LOOKUP = "lookup"  # ... for one resource's statements read from the public store in the web process
LOOKUP_LIMIT = 10_000  # statements of one resource read in the web process; more go to a worker
ORDERED_BY_DATE = ("modified", "issued")
FACETS = {"theme": "theme", "spatial": "borough", "publisher": "publisher", "format": "format"}


def slow_query_advice(query: str, why_not_indexed: str, base: str) -> str:
    """What to do about a query that ran out of time: what made it slow (as far as its text tells), why the
    catalogue index could not answer it, and the API that answers the same question fast."""
    words = {t.text.upper() for t in tokens(query) if t.kind == "word"}
    names = {t.text.rsplit(":", 1)[-1].rsplit("/", 1)[-1].rsplit("#", 1)[-1].rstrip(">") for t in tokens(query)}
    slow, hints = [], []
    if "ORDER" in words:
        slow.append("it sorts every solution (ORDER BY)")
    if "GROUP" in words or "COUNT" in words:
        slow.append("it groups or counts over the whole catalogue")
    if words & {"CONTAINS", "REGEX", "STRSTARTS", "STRENDS"}:
        slow.append("a text filter reads every value it tests")
        hints.append(f"to find datasets by text, use the Library's search: {base}/api/search?q=…")
    if "LIMIT" not in words:
        slow.append("it has no LIMIT")
    if "ORDER" in words and names & set(ORDERED_BY_DATE):
        hints.append(
            f"the latest datasets: {base}/api/queries/latest-datasets (or recently-modified, with a date), or this "
            "query with a total order (ORDER BY DESC(?modified) ?dataset) and a LIMIT, which the catalogue index "
            "answers in milliseconds"
        )
    facets = sorted({FACETS[n] for n in names if n in FACETS})
    if ("GROUP" in words or "COUNT" in words) and facets:
        hints.append(
            f"counts per {', '.join(facets)}: the facets of {base}/api/search, or {base}/api/queries "
            "(datasets-by-theme, -by-publisher, -by-borough, distributions-by-format)"
        )
    hints.append(f"the whole public catalogue, to query on your own machine: {base}/catalog.nq")
    parts = []
    if slow:
        parts.append("What was slow: " + "; ".join(slow) + ".")
    parts.append(f"It was not answered from the catalogue index because {why_not_indexed}.")
    parts.append("Instead: " + "; ".join(hints) + ".")
    return "\n".join(parts)


def answer_from_index(generation_dir: Path, job: dict) -> tuple[dict, bytes] | str:
    """(header, body) as a worker would send them, or why the shape index cannot answer exactly."""
    if job.get("substitutions") or "solutions" not in job["formats"]:
        return "only SELECT queries without parameters are answered from it"
    shape = recognise(job["query"], job.get("base_iri"))
    if shape is None:
        return "it is not one of the shapes the catalogue index answers (see the endpoint's documentation)"
    index = _index_for(generation_dir, job)
    if isinstance(index, str):
        return index
    started = time.monotonic()
    try:
        solutions = index.answer(shape, job["max_rows"])
    except Undetermined as why:
        return str(why)
    rows = solutions.rows
    if solutions.more:  # one row past the cap, so that the serializer flags the cut as the worker's would
        rows = [*rows, rows[-1]]
    fmt = BY_NAME[job["formats"]["solutions"]]
    out = io.BytesIO()
    written = serializers.write_solutions(solutions.variables, rows, fmt, out, job["max_rows"], job["max_bytes"])
    return _answer("solutions", fmt, out.getvalue(), written, started, INDEX)


def _index_for(generation_dir: Path, job: dict) -> ShapeIndex | str:
    """The shape index whose merge is the job's default graph, or why there is none: the public store's for
    public callers, the trusted readers' for a job over exactly its graphs (a query naming graphs, or a
    member's, who also sees non-public graphs, has another default graph)."""
    if job.get("store_default_graph"):
        return shape_index_of(generation_dir) or "this catalogue has no shape index"
    index = restricted_shape_index_of(generation_dir)
    if index is None or index.graphs != sorted(job["default_graphs"]):
        return "it names graphs (FROM, GRAPH or the protocol's graph parameters) or sees non-public ones"
    return index


def _answer(
    kind: str, fmt: ResultFormat, body: bytes, written: serializers.Written, started: float, answered_by: str
) -> tuple[dict, bytes]:
    """(header, body), the header as a worker writes it (see :mod:`dfl_graph.sparql.worker`)."""
    header = {
        "status": 200,
        "kind": kind,
        "format": fmt.name,
        "length": len(body),
        "rows": written.rows,
        "truncated": written.truncated,
        "seconds": round(time.monotonic() - started, 4),
        "answered_by": answered_by,
    }
    return header, body


_stores: dict[Path, Store] = {}
_stores_lock = threading.Lock()


def _public_store(generation_dir: Path) -> Store | None:
    """The generation's public SPARQL store, opened read-only once per web process."""
    path = public_store_dir(generation_dir)
    with _stores_lock:
        found = _stores.get(path)
        if found is None and path.exists():
            for stale in [p for p in _stores if not p.exists()]:
                del _stores[stale]
            found = _stores[path] = Store.read_only(str(path))
        return found


def answer_lookup(snapshot: Snapshot, job: dict) -> tuple[dict, bytes] | None:
    """(header, body) of a one-resource DESCRIBE or CONSTRUCT as a worker would send them, or None."""
    if job.get("substitutions") or "graph" not in job["formats"]:
        return None
    lookup = recognise_lookup(job["query"], job.get("base_iri"))
    if lookup is None:
        return None
    started = time.monotonic()
    triples = _statements(snapshot, NamedNode(lookup.subject), job)
    if triples is None or len(triples) > LOOKUP_LIMIT:
        return None
    if lookup.describe and any(isinstance(t.object, BlankNode) for t in triples):
        return None
    fmt = BY_NAME[job["formats"]["graph"]]
    out = io.BytesIO()
    written = serializers.write_graph(triples, fmt, out, job["max_rows"], job["max_bytes"], job.get("prefixes") or {})
    return _answer("graph", fmt, out.getvalue(), written, started, LOOKUP)


def _statements(snapshot: Snapshot, subject: NamedNode, job: dict) -> list[Triple] | None:
    """The subject's statements in the job's default graph, up to one past :data:`LOOKUP_LIMIT`; None when
    they cannot be read here. The default graph is the merged public store's own, or the union (an RDF merge:
    each statement once) of the job's graphs in the generation's store."""
    if job.get("store_default_graph"):
        store = _public_store(snapshot.directory)
        if store is None:
            return None
        quads = itertools.islice(store.quads_for_pattern(subject, None, None, DefaultGraph()), LOOKUP_LIMIT + 1)
        return [Triple(q.subject, q.predicate, q.object) for q in quads]
    if snapshot.remote:  # each read would be a request: the remote store answers the query itself
        return None
    merged: dict[Triple, None] = {}
    for graph in job["default_graphs"]:
        for quad in snapshot.store.quads_for_pattern(subject, None, None, NamedNode(graph)):
            merged[Triple(quad.subject, quad.predicate, quad.object)] = None
            if len(merged) > LOOKUP_LIMIT:
                return list(merged)
    return list(merged)
