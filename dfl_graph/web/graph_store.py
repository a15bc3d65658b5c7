"""The SPARQL 1.1 Graph Store Protocol at ``/sparql/graphs``: publishers write datasets, everyone reads public graphs.

Which graphs (docs/access.md, "Publisher writes"): a publisher writes ONE dataset at a time, so the graph a write
names is the dataset's own description, named by the dataset's IRI:

* ``PUT /sparql/graphs?graph=<{base}/dataset/{slug}>`` with DCAT RDF of that one dataset (Turtle, JSON-LD,
  N-Triples, RDF/XML): creates it (201) or replaces it (200);
* ``DELETE ...?graph=<{base}/dataset/{slug}>``: withdraws it (its IRI then answers 410 if it was public);
* ``POST /sparql/graphs?graph=<{base}/graph/publisher-{id}>`` (the publisher's source graph, where its writes go)
  with one dataset: creates it (201, ``Location``: the new dataset's IRI); a dataset of another publisher is
  refused;
* ``GET ...?graph=<a public named graph>`` gives the graph as N-Triples (labelled Turtle if asked for: N-Triples
  is Turtle), streamed; ``GET`` of a
  dataset IRI is sent (303) to the dataset's own page, which negotiates its formats. Non-public graphs answer
  404, as unknown ones do.

Writes take an API token with write scope (:mod:`dfl_graph.web.publisher_writes`) and are the writes of
:mod:`dfl_graph.publishing`: authorised, SHACL-validated (400 with the violations as JSON), audited, published.
Answers to writes are JSON: ``{"dataset", "event", "generation", "before", "after"}``, or ``{"error",
"violations"}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Blueprint, Response, redirect, request, stream_with_context
from pyoxigraph import NamedNode, RdfFormat, Triple, serialize
from werkzeug.datastructures import WWWAuthenticate

from dfl_graph.datatypes import published
from dfl_graph.publishing import SOURCE_PREFIX, WriteOutcome, WriteRequest
from dfl_graph.store import Snapshot
from dfl_graph.web.access import snapshot
from dfl_graph.web.publisher_writes import WriteDenied, run

blueprint = Blueprint("graph_store", __name__)
PATH = "/sparql/graphs"
BATCH = 20_000  # triples serialised at a time when a graph is read


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def _error(status: int, message: str, violations: list | None = None, headers: dict | None = None) -> Response:
    body: dict = {"error": message}
    if violations:
        body["violations"] = violations
    return _json(status, body, headers)


def _answer(outcome: WriteOutcome, headers: dict | None = None) -> Response:
    if not outcome.ok:
        return _error(outcome.status, outcome.message, outcome.violations)
    body = {
        "dataset": outcome.dataset,
        "event": outcome.event,
        "generation": outcome.generation,
        "before": outcome.before,
        "after": outcome.after,
        "message": outcome.message,
    }
    return _json(outcome.status, body, headers)


def _graph() -> str | None:
    value = request.args.get("graph", "").strip()
    return value or None


def _is_dataset(iri: str) -> bool:
    prefix = snapshot().uris.dataset("")
    rest = iri[len(prefix) :] if iri.startswith(prefix) else ""
    return bool(rest) and "/" not in rest and "#" not in rest


@blueprint.get(PATH)
def read_graph() -> Response:
    graph = _graph()
    if graph is None:
        return _error(400, "name a graph: ?graph=<IRI> (the default graph is not served here)")
    current = snapshot()
    if _is_dataset(graph):
        return redirect(graph, code=303)
    if graph not in {g.value for g in current.public_graphs}:
        return _error(404, f"no public graph {graph}")
    # N-Triples is Turtle too: one serialisation, streamed in batches (a source graph can be millions of triples)
    content_type = "text/turtle" if "text/turtle" in (request.headers.get("Accept") or "") else "application/n-triples"
    return Response(stream_with_context(_triples(current, graph)), content_type=f"{content_type};charset=utf-8")


def _triples(current: Snapshot, graph: str) -> Iterator[bytes]:
    batch: list[Triple] = []
    for quad in current.store.quads_for_pattern(None, None, None, NamedNode(graph)):
        batch.append(published(quad).triple)
        if len(batch) >= BATCH:
            yield serialize(batch, format=RdfFormat.N_TRIPLES)
            batch = []
    if batch:
        yield serialize(batch, format=RdfFormat.N_TRIPLES)


def _write(make: WriteRequest, created_location: bool = False) -> Response:
    try:
        outcome = run(make)
    except WriteDenied as denied:
        headers = {}
        if denied.status == 401:
            headers["WWW-Authenticate"] = WWWAuthenticate("bearer", {"realm": "Data for London"}).to_header()
        return _error(denied.status, denied.message, headers=headers)
    headers = {"Location": outcome.dataset} if created_location and outcome.status == 201 and outcome.dataset else {}
    return _answer(outcome, headers)


def _body() -> tuple[bytes, str]:
    return request.get_data(), request.content_type or ""


@blueprint.put(PATH)
def put_dataset() -> Response:
    graph = _graph()
    if graph is None or not _is_dataset(graph):
        return _error(400, "PUT names one dataset's graph: ?graph=<{base}/dataset/{slug}>")
    rdf, media_type = _body()
    return _write(WriteRequest("write", dataset=graph, rdf=rdf, media_type=media_type, via="gsp"))


@blueprint.delete(PATH)
def delete_dataset() -> Response:
    graph = _graph()
    if graph is None or not _is_dataset(graph):
        return _error(400, "DELETE names one dataset's graph: ?graph=<{base}/dataset/{slug}>")
    return _write(WriteRequest("withdraw", dataset=graph, via="gsp"))


@blueprint.post(PATH)
def post_dataset() -> Response:
    graph = _graph()
    prefix = snapshot().uris.graph(SOURCE_PREFIX)
    if graph is None or not graph.startswith(prefix) or "/" in graph[len(prefix) :]:
        return _error(400, f"POST adds a dataset to a publisher's graph: ?graph=<{prefix}{{publisher id}}>")
    rdf, media_type = _body()
    source = graph.removeprefix(snapshot().uris.graph(""))
    made = WriteRequest("write", rdf=rdf, media_type=media_type, must_exist=False, source=source, via="gsp")
    return _write(made, created_location=True)


__all__ = ["blueprint"]
