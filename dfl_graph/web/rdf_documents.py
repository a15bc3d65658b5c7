"""RDF documents as bytes: Turtle, N-Triples, RDF/XML, N-Quads, TriG and N3 by pyoxigraph, JSON-LD (compacted,
or the expanded or flattened form a client asks for with ``profile``) by our compactor or rdflib, and a
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
from dfl_graph.web.negotiation import JSON_LD, N3, N_QUADS, N_TRIPLES, RDF_XML, TRIG, TURTLE, Format

CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"
PYOXIGRAPH_FORMATS = {
    TURTLE.name: RdfFormat.TURTLE,
    N_TRIPLES.name: RdfFormat.N_TRIPLES,
    RDF_XML.name: RdfFormat.RDF_XML,
    N_QUADS.name: RdfFormat.N_QUADS,
    TRIG.name: RdfFormat.TRIG,
    N3.name: RdfFormat.N3,
}
PREFIXED = (RdfFormat.TURTLE, RdfFormat.RDF_XML, RdfFormat.TRIG, RdfFormat.N3)


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

    def serialize(
        self, triples: Iterable[Triple], fmt: Format, primary: str | None = None, profile: str = "compacted"
    ) -> bytes:
        """One document in one RDF format (for JSON-LD, in the form ``profile`` names: see :meth:`jsonld`)."""
        items = ordered(triples, primary)
        if fmt.name == JSON_LD.name:
            return self.jsonld(items, profile)
        rdf_format = PYOXIGRAPH_FORMATS.get(fmt.name)
        if rdf_format is None:
            raise ValueError(f"{fmt.name} is not an RDF format")
        if rdf_format not in PREFIXED:
            return serialize(items, format=rdf_format)
        body = serialize(items, format=rdf_format, prefixes=self.used_prefixes(items))
        if rdf_format == RdfFormat.RDF_XML:
            # XML parsers turn a raw carriage return into a line feed (XML 1.0, 2.11): escaped, it is read back
            # as written. The writer puts none outside text and attribute values, where the reference is valid.
            body = body.replace(b"\r", b"&#13;")
        return body

    def jsonld(self, triples: Sequence[Triple], profile: str = "compacted") -> bytes:
        """JSON-LD in one of the forms of the JSON-LD 1.1 ``profile`` parameter.

        ``compacted`` (ours by default): a ``@graph`` of node objects, sorted by id, with the published
        context inline; ``flattened``: the same compacted, every node at the top level and referred to by
        id; ``expanded``: no context, full IRIs, every value an object (what a processor without our context
        reads the same way).
        """
        if profile == "expanded":
            return (json.dumps(expanded(triples), ensure_ascii=False, indent=1) + "\n").encode()
        nodes = self.compactor.compact(triples) if profile == "compacted" else None
        if nodes is None:
            nodes = self.jsonld_by_rdflib(triples)
        graph = json.dumps(nodes, ensure_ascii=False, indent=1, default=str)
        return f'{{\n"@context": {self._context_json},\n"@graph": {graph}\n}}\n'.encode()

    def jsonld_by_rdflib(self, triples: Sequence[Triple]) -> list[dict]:
        """The general compaction algorithm (rdflib): flattened (no node embedded in another), for documents the
        one-pass compactor does not handle and for clients that ask for the flattened form."""
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


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _expanded_term(term: NamedNode | BlankNode | Literal) -> dict:
    if isinstance(term, NamedNode):
        return {"@id": term.value}
    if isinstance(term, BlankNode):
        return {"@id": f"_:{term.value}"}
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == XSD_STRING:
        return {"@value": term.value}
    return {"@value": term.value, "@type": term.datatype.value}


def expanded(triples: Iterable[Triple]) -> list[dict]:
    """JSON-LD expanded form (JSON-LD 1.1 Processing, "Serialize RDF as JSON-LD" without compaction): one node
    object per subject, full IRIs, every value an object; in the order of ``triples`` (see :func:`ordered`)."""
    nodes: dict[str, dict] = {}
    for t in triples:
        subject = _expanded_term(t.subject)["@id"]
        node = nodes.setdefault(subject, {"@id": subject})
        if t.predicate.value == RDF_TYPE and isinstance(t.object, NamedNode):
            node.setdefault("@type", []).append(t.object.value)
        else:
            node.setdefault(t.predicate.value, []).append(_expanded_term(t.object))
    return list(nodes.values())


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
