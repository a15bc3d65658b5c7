"""RDF documents as bytes: Turtle, N-Triples and RDF/XML by pyoxigraph, compact JSON-LD by rdflib, and a
bounded cache of finished documents.

JSON-LD is compacted with the published context (``ontology/context.jsonld`` plus ``dfl`` and ``@base``
for this deployment, as served at ``/context.jsonld``) and carries that context inline, so any JSON-LD
processor, including ones that cannot fetch remote contexts (pyoxigraph), reads a document on its own.

Documents only change when the store publishes a new generation, so they are cached per
(generation, resource, format): a repeated request costs a dictionary lookup.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize
from rdflib.plugins.serializers.jsonld import from_rdf
from rdflib.plugins.shared.jsonld.context import Context

from dfl_graph.memory_cache import MemoryCache
from dfl_graph.namespaces import PREFIXES
from dfl_graph.vocabularies import ONTOLOGY_DIR
from dfl_graph.web.jsonld_compaction import Compactor
from dfl_graph.web.negotiation import JSON_LD, N_TRIPLES, RDF_XML, TURTLE, Format

CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"
PYOXIGRAPH_FORMATS = {
    TURTLE.name: RdfFormat.TURTLE,
    N_TRIPLES.name: RdfFormat.N_TRIPLES,
    RDF_XML.name: RdfFormat.RDF_XML,
}


@cache
def published_context(base: str, path: Path = CONTEXT_FILE) -> dict:
    """The JSON-LD context document for a deployment: the shipped context plus ``dfl`` and ``@base``."""
    document = json.loads(path.read_text())
    context = dict(document["@context"])
    context["dfl"] = f"{base}/def/dfl#"
    context["@base"] = f"{base}/"
    return {"@context": context}


def prefixes_for(base: str) -> dict[str, str]:
    return {**PREFIXES, "dfl": f"{base}/def/dfl#"}


def to_rdflib(term: NamedNode | BlankNode | Literal) -> rdflib.term.Identifier:
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def to_rdflib_graph(triples: Iterable[Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for t in triples:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return graph


def ordered(triples: Iterable[Triple], primary: str | None = None) -> list[Triple]:
    """A stable order (same document, same bytes, in every worker): the primary resource first."""

    def key(t: Triple) -> tuple:
        s = t.subject.value
        return (
            0 if s == primary else 1 if primary and s.startswith(primary + "#") else 2,
            s,
            str(t.predicate),
            str(t.object),
        )

    return sorted(set(triples), key=key)


class RdfSerializer:
    """Serialises sets of triples for one deployment base."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.prefixes = prefixes_for(base)
        self.context_document = published_context(base)
        # the context is the same in every document: encoded once, spliced in
        self._context_json = json.dumps(self.context_document["@context"], ensure_ascii=False, indent=1)
        self._local = threading.local()
        self.compactor = Compactor(self.context_document["@context"])

    @property
    def _jsonld_context(self) -> Context:
        """rdflib's parsed context, built once per thread (parsing it costs more than compacting a document)."""
        context = getattr(self._local, "context", None)
        if context is None:
            context = self._local.context = Context(copy.deepcopy(self.context_document["@context"]))
        return context

    def used_prefixes(self, triples: Sequence[Triple]) -> dict[str, str]:
        iris = set()
        for t in triples:
            iris.add(t.predicate.value)
            for term in (t.subject, t.object):
                if isinstance(term, NamedNode):
                    iris.add(term.value)
                elif isinstance(term, Literal):
                    iris.add(term.datatype.value)
        return {p: ns for p, ns in self.prefixes.items() if any(i.startswith(ns) for i in iris)}

    def serialize(self, triples: Iterable[Triple], fmt: Format, primary: str | None = None) -> bytes:
        """One document in one RDF format."""
        items = ordered(triples, primary)
        if fmt.name == JSON_LD.name:
            return self.jsonld(items)
        if fmt.name == N_TRIPLES.name:
            return serialize(items, format=RdfFormat.N_TRIPLES)
        if fmt.name not in PYOXIGRAPH_FORMATS:
            raise ValueError(f"{fmt.name} is not an RDF format")
        return serialize(items, format=PYOXIGRAPH_FORMATS[fmt.name], prefixes=self.used_prefixes(items))

    def jsonld(self, triples: Sequence[Triple]) -> bytes:
        """Compact JSON-LD (a ``@graph`` of node objects, sorted by id) with the published context inline."""
        nodes = self.compactor.compact(triples)
        if nodes is None:
            nodes = self.jsonld_by_rdflib(triples)
        graph = json.dumps(nodes, ensure_ascii=False, indent=1, default=str)
        return f'{{\n"@context": {self._context_json},\n"@graph": {graph}\n}}\n'.encode()

    def jsonld_by_rdflib(self, triples: Sequence[Triple]) -> list[dict]:
        """The general compaction algorithm (rdflib), for documents the one-pass compactor does not handle."""
        compacted = from_rdf(to_rdflib_graph(triples), self._jsonld_context, auto_compact=True)
        if isinstance(compacted, dict) and "@graph" not in compacted:
            compacted.pop("@context", None)
            nodes = [compacted] if compacted else []
        elif isinstance(compacted, dict):
            nodes = compacted["@graph"]
        else:
            nodes = compacted
        nodes.sort(key=lambda node: str(node.get("id", node.get("@id", ""))))
        return nodes


@cache
def serializer_for(base: str) -> RdfSerializer:
    return RdfSerializer(base)


def body_cache(max_bytes: int = 64_000_000, max_entries: int = 50_000) -> MemoryCache[bytes]:
    """The LRU of finished response bodies of a worker process (a quarter of the budget at most for one)."""
    return MemoryCache(max_entries, max_bytes, lambda _key, body: len(body), max_bytes // 4)


__all__ = [
    "RdfSerializer",
    "body_cache",
    "ordered",
    "prefixes_for",
    "published_context",
    "serializer_for",
    "to_rdflib_graph",
]
