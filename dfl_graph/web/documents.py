"""The documents views publish: fetched from the published snapshot by the named CONSTRUCT queries in
``queries/``, over the graphs the caller may read (the public graphs, unless a :class:`Visibility` says
more: docs/access.md), and read as a small graph.

A document's triples are cached per (generation, visibility, kind, IRI): the HTML, JSON and every RDF form of
one resource, and every catalogue page that lists a dataset, are built from one query. The visibility's
``cache_key`` is part of every key, so what one audience may see never reaches another.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from dfl_graph.accounts.visibility import Visibility
from dfl_graph.datatypes import published
from dfl_graph.languages import DEFAULT_LANGUAGES, best_literal, in_best_language
from dfl_graph.memory_cache import MemoryCache
from dfl_graph.namespaces import ADMS, DCAT, DCT, DQV, FOAF, PROV, RDF, RDFS, SKOS
from dfl_graph.queries import named_queries
from dfl_graph.store import Snapshot

LABEL_PREDICATES = (SKOS.prefLabel.value, FOAF.name.value, DCT.title.value, RDFS.label.value)

Term = NamedNode | BlankNode | Literal


class Document:
    """A resource's document: its triples, with the lookups templates and JSON views need (indexed on
    first use: a catalogue page merges a hundred documents and only needs their triples)."""

    __slots__ = ("__dict__", "iri", "languages", "triples")

    def __init__(self, iri: str, triples: tuple[Triple, ...]) -> None:
        self.iri = iri
        self.triples = triples
        self.languages = DEFAULT_LANGUAGES  # the reader's languages, best first (dfl_graph.languages)

    def __repr__(self) -> str:
        return f"Document({self.iri!r}, {len(self.triples)} triples)"

    @cached_property
    def _by_subject(self) -> dict[str, dict[str, list[Term]]]:
        by_subject: dict[str, dict[str, list[Term]]] = {}
        for t in self.triples:
            by_predicate = by_subject.setdefault(t.subject.value, {})
            by_predicate.setdefault(t.predicate.value, []).append(t.object)
        return by_subject

    def __bool__(self) -> bool:
        return bool(self.triples)

    def __len__(self) -> int:
        return len(self.triples)

    def subjects(self) -> list[str]:
        return list(self._by_subject)

    def has(self, subject: str) -> bool:
        return subject in self._by_subject

    def properties(self, subject: str | None = None) -> dict[str, list[Term]]:
        return self._by_subject.get(subject or self.iri, {})

    def values(self, predicate: NamedNode, subject: str | None = None) -> list[Term]:
        """Objects of (subject, predicate), sorted for a stable page."""
        return sorted(self.properties(subject).get(predicate.value, []), key=lambda term: str(term))

    def iris(self, predicate: NamedNode, subject: str | None = None) -> list[str]:
        return [v.value for v in self.values(predicate, subject) if isinstance(v, NamedNode)]

    def text(self, predicate: NamedNode, subject: str | None = None) -> str | None:
        """One literal value: the reader's language, then English, then untagged, then any."""
        best = best_literal(self.values(predicate, subject), self.languages)
        return best.value if best is not None else None

    def texts(self, predicate: NamedNode, subject: str | None = None) -> list[str]:
        """The values of a many-valued text (keywords) in the reader's best language, with the untagged ones."""
        return in_best_language(self.values(predicate, subject), self.languages)

    def label(self, iri: str) -> str | None:
        """The best label the document has for an IRI (preferred label, name, title, rdfs:label)."""
        properties = self._by_subject.get(iri, {})
        for predicate in LABEL_PREDICATES:
            best = best_literal(properties.get(predicate, []), self.languages)
            if best is not None:
                return best.value
        return None

    def types(self, subject: str | None = None) -> list[str]:
        return self.iris(RDF.type, subject)


# What a worker keeps of documents, in bytes as :func:`triples_size` counts them (docs/linked-data.md lists every
# cache of a web worker and its budget): bounded in bytes, not only in entries, since one catalogue page's
# document holds a hundred datasets' triples. Keys carry the generation: a publish needs no invalidation.
DOCUMENT_TRIPLES_BYTES = 48_000_000
LABEL_TRIPLES_BYTES = 16_000_000
TRIPLE_OVERHEAD = 300  # bytes of a pyoxigraph Triple and its three terms, besides their text


def triples_size(_key: object, triples: tuple[Triple, ...]) -> int:
    return sum(TRIPLE_OVERHEAD + len(t.subject.value) + len(t.predicate.value) + len(t.object.value) for t in triples)


# document triples keyed by (generation, visibility, kind, IRI), shared by a worker's threads
_cache: MemoryCache[tuple[Triple, ...]] = MemoryCache(20_000, DOCUMENT_TRIPLES_BYTES, triples_size)


def readable_graphs(snapshot: Snapshot, visibility: Visibility = Visibility.ANONYMOUS) -> list[NamedNode]:
    """The graphs a caller's documents are read from: the public graphs, or those the visibility adds."""
    if visibility.public_only:
        return snapshot.public_graphs
    return [NamedNode(g) for g in visibility.graphs(snapshot.manifest.graphs)]


def construct(
    snapshot: Snapshot,
    query: str,
    bindings: dict[str, str],
    graphs: list[NamedNode] | None = None,
    visibility: Visibility = Visibility.ANONYMOUS,
) -> Iterator[Triple]:
    """Run a named CONSTRUCT over the graphs the caller may read (or a subset of them)."""
    named = named_queries()[query]
    readable = readable_graphs(snapshot, visibility)
    if graphs is not None:
        allowed = {g.value for g in readable}
        graphs = [g for g in graphs if g.value in allowed]
    results = snapshot.store.query(
        named.text,
        substitutions=named.substitutions(bindings),
        default_graph=graphs if graphs is not None else readable,
        named_graphs=graphs if graphs is not None else readable,
    )
    for triple in results:  # type: ignore[union-attr]
        yield published(triple)


# Objects of these predicates are web addresses or mailboxes, not resources the catalogue describes:
# looking up their labels would cost a query each and find nothing.
UNDESCRIBED_LINKS = frozenset(
    {
        DCAT.accessURL.value,
        DCAT.downloadURL.value,
        "http://www.w3.org/2006/vcard/ns#hasEmail",
        "http://www.w3.org/2006/vcard/ns#hasURL",
        "http://www.w3.org/2002/07/owl#sameAs",
        RDFS.seeAlso.value,
        "http://www.w3.org/ns/prov#wasDerivedFrom",
    }
)

_labels: MemoryCache[tuple[Triple, ...]] = MemoryCache(50_000, LABEL_TRIPLES_BYTES, triples_size)


def linked_labels(snapshot: Snapshot, iri: str, visibility: Visibility = Visibility.ANONYMOUS) -> tuple[Triple, ...]:
    """Types and labels of one linked resource (shared by every document of one audience that links to it)."""
    key = (snapshot.generation, snapshot.manifest.published_at, visibility.cache_key, iri)
    triples = _labels.get(key)
    if triples is None:
        triples = tuple(construct(snapshot, "resource-labels", {"resource": iri}, visibility=visibility))
        _labels.put(key, triples)
    return triples


def with_linked_labels(
    snapshot: Snapshot, nodes: list[Triple], iri: str, visibility: Visibility = Visibility.ANONYMOUS
) -> list[Triple]:
    """A document's statements plus the types and labels of every IRI it mentions but does not describe.

    The document describes ``iri`` and the nodes under it; what its graph says of another resource it links to (a
    source's statement typing an EU language, say) does not stand in for that resource's labels and scheme."""
    described = {
        t.subject.value for t in nodes if t.subject.value == iri or t.subject.value.startswith((iri + "#", iri + "/"))
    }
    linked: set[str] = set()
    for t in nodes:
        if isinstance(t.object, NamedNode) and t.predicate.value not in UNDESCRIBED_LINKS:
            linked.add(t.object.value)
        if isinstance(t.subject, NamedNode):
            linked.add(t.subject.value)
    result = list(nodes)
    for other in sorted(linked - described):
        result.extend(linked_labels(snapshot, other, visibility))
    return result


def _document(snapshot: Snapshot, kind: str, iri: str, make, visibility: Visibility = Visibility.ANONYMOUS) -> Document:
    key = (snapshot.generation, snapshot.manifest.published_at, visibility.cache_key, kind, iri)
    triples = _cache.get(key)
    if triples is None:
        nodes = list(make())
        triples = tuple(dict.fromkeys(with_linked_labels(snapshot, nodes, iri, visibility))) if nodes else ()
        _cache.put(key, triples)
    return Document(iri, triples)


def home_graphs(
    snapshot: Snapshot, iri: str, rdf_type: NamedNode, visibility: Visibility = Visibility.ANONYMOUS
) -> list[NamedNode]:
    """The graphs the caller may read that type ``iri`` as ``rdf_type``: where its document's statements are.

    The writer puts everything about a record (dataset, distributions, sub-resources) in one source
    graph, so a document query can run over that graph alone: a third of the cost of running it over
    every public graph (each triple pattern is looked up once per graph).
    """
    readable = {g.value for g in readable_graphs(snapshot, visibility)}
    found = {
        q.graph_name.value
        for q in snapshot.store.quads_for_pattern(NamedNode(iri), RDF.type, rdf_type, None)
        if isinstance(q.graph_name, NamedNode) and q.graph_name.value in readable
    }
    return [NamedNode(g) for g in sorted(found)]


# Links from a dataset's nodes to other records: its document stops there (each record has its own document).
# queries/dataset-document.rq lists the same.
RECORD_LINKS = frozenset(
    n.value
    for n in (
        *(DCT[p] for p in ("isReplacedBy", "replaces", "relation", "source", "hasPart", "isPartOf", "references")),
        *(DCT[p] for p in ("isReferencedBy", "requires", "isRequiredBy", "hasVersion", "isVersionOf")),
        *(DCAT[p] for p in ("hasVersion", "isVersionOf", "previousVersion", "prev", "next", "first", "last")),
        *(DCAT[p] for p in ("inSeries", "seriesMember", "servesDataset", "dataset", "catalog", "record")),
        *(PROV[p] for p in ("wasDerivedFrom", "wasRevisionOf", "used")),
        *(ADMS[p] for p in ("next", "prev", "last")),
        FOAF.primaryTopic,
        RDF.type,
    )
)
RECORD_CLASSES = frozenset(
    {DCAT.Dataset, DCAT.DatasetSeries, DCAT.Distribution, DCAT.DataService, DCAT.Catalog, DCAT.CatalogRecord}
)


def dataset_statements(snapshot: Snapshot, iri: str, graphs: list[NamedNode]) -> Iterator[Triple]:
    """The statements ``queries/dataset-document.rq`` constructs, read by index lookups instead.

    Every first request of a document or of a catalogue page (a hundred documents) needs this; the lookups
    cost a fraction of parsing, planning and evaluating the CONSTRUCT's property paths each time. The query
    stays the published definition of a document (``/api/queries``, peers in the benchmarks), and a test
    checks that both give the same statements for every dataset of a catalogue. (The lookups walk the dataset's
    own nodes only; the query's path may also pass through another resource to reach one, which no writer does.)
    """
    store = snapshot.store
    dataset = NamedNode(iri)

    def about(node: Term) -> list[Triple]:
        return [q.triple for graph in graphs for q in store.quads_for_pattern(node, None, None, graph)]  # type: ignore[arg-type]

    def own(node: Term) -> bool:
        return node == dataset or (isinstance(node, NamedNode) and node.value.startswith((iri + "#", iri + "/")))

    def links(triples: list[Triple]) -> Iterator[Term]:
        return (
            t.object for t in triples if t.predicate.value not in RECORD_LINKS and not isinstance(t.object, Literal)
        )

    quality = [q.subject for g in graphs for q in store.quads_for_pattern(None, DQV.computedOn, dataset, g)]
    seen: dict[Triple, None] = {}
    queue = list(dict.fromkeys([dataset, *(q for q in quality if own(q))]))
    visited = set(queue)
    others: dict[Term, None] = {}
    while queue:  # the dataset's own nodes
        triples = about(queue.pop(0))
        seen.update(dict.fromkeys(triples))
        for node in links(triples):
            if own(node) and node not in visited:
                visited.add(node)
                queue.append(node)
            elif not own(node):
                others[node] = None
    for node in others:  # what the graph says about the other resources they link to, unless records themselves
        triples = about(node)
        if not any(t.predicate == RDF.type and t.object in RECORD_CLASSES for t in triples):
            seen.update(dict.fromkeys(triples))
    for graph in graphs:  # the one link in from another record: the data services that serve it
        for quad in store.quads_for_pattern(None, DCAT.servesDataset, dataset, graph):
            service = quad.subject
            if any(next(store.quads_for_pattern(service, RDF.type, DCAT.DataService, g), None) for g in graphs):
                seen[quad.triple] = None
    return (published(triple) for triple in seen)


def dataset_document(snapshot: Snapshot, iri: str, visibility: Visibility = Visibility.ANONYMOUS) -> Document:
    """A dataset's document (empty when no graph the caller may read holds the dataset)."""

    def make() -> Iterator[Triple]:
        graphs = home_graphs(snapshot, iri, DCAT.Dataset, visibility)
        return dataset_statements(snapshot, iri, graphs) if graphs else iter(())

    return _document(snapshot, "dataset", iri, make, visibility)


def distribution_document(snapshot: Snapshot, iri: str, visibility: Visibility = Visibility.ANONYMOUS) -> Document:
    """A distribution's document (empty when no graph the caller may read holds it)."""

    def make() -> Iterator[Triple]:
        graphs = home_graphs(snapshot, iri, DCAT.Distribution, visibility)
        if not graphs:
            return iter(())
        return construct(snapshot, "distribution-document", {"distribution": iri}, graphs, visibility)

    return _document(snapshot, "distribution", iri, make, visibility)


def service_document(snapshot: Snapshot, iri: str, visibility: Visibility = Visibility.ANONYMOUS) -> Document:
    """A data service's document (empty when no graph the caller may read holds it): ``queries/service-document.rq``."""

    def make() -> Iterator[Triple]:
        graphs = home_graphs(snapshot, iri, DCAT.DataService, visibility)
        if not graphs:
            return iter(())
        return construct(snapshot, "service-document", {"service": iri}, graphs, visibility)

    return _document(snapshot, "service", iri, make, visibility)


def resource_document(snapshot: Snapshot, iri: str, visibility: Visibility = Visibility.ANONYMOUS) -> Document:
    """A publisher, theme, borough, concept scheme or vocabulary with its members."""

    def make() -> Iterator[Triple]:
        return construct(snapshot, "resource-document", {"resource": iri}, visibility=visibility)

    return _document(snapshot, "resource", iri, make, visibility)


def vocabulary_graphs(snapshot: Snapshot) -> list[NamedNode]:
    return [g for g in snapshot.public_graphs if g.value.startswith(snapshot.uris.graph("vocab/"))]


def catalog_document(snapshot: Snapshot) -> Document:
    """The catalogue's own description (title, publisher, licence, ...) from the vocabulary graphs: the source
    graphs also hold its ``dcat:dataset`` links, which the feed pages out instead."""
    iri = snapshot.uris.catalog()
    return _document(
        snapshot,
        "catalog",
        iri,
        lambda: construct(snapshot, "resource-document", {"resource": iri}, vocabulary_graphs(snapshot)),
    )


def merge(documents: Iterable[Document], iri: str, extra: Iterable[Triple] = ()) -> Document:
    triples: dict[Triple, None] = {}
    for document in documents:
        triples.update(dict.fromkeys(document.triples))
    triples.update(dict.fromkeys(extra))
    return Document(iri, tuple(triples))


__all__ = [
    "Document",
    "catalog_document",
    "construct",
    "dataset_document",
    "distribution_document",
    "merge",
    "readable_graphs",
    "resource_document",
    "service_document",
    "vocabulary_graphs",
]
