"""The SPARQL 1.1 Service Description of the endpoint (what ``GET /sparql`` without a query returns).

It says what a client needs before its first query: the endpoint, the language, the result formats, the
features (the default graph is the union of the public graphs), the dataset (the public graphs, with
their sizes) and the limits (time, rows, bytes), which are also stated in words.
"""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Triple

from dfl_graph.namespaces import DCT, RDF, RDFS, SD, VOID, XSD
from dfl_graph.sparql.formats import RESULT_FORMATS
from dfl_graph.sparql.limits import Limits
from dfl_graph.store import Snapshot
from dfl_graph.uris import Uris

ENTAILMENT_SIMPLE = NamedNode("http://www.w3.org/ns/entailment/Simple")


def limits_note(limits: Limits) -> str:
    return (
        f"Read-only SPARQL 1.1 Query over the public graphs of the catalogue. Results are capped at "
        f"{limits.max_rows} rows (triples for CONSTRUCT/DESCRIBE) and {limits.max_bytes} bytes: a capped "
        f"result is a complete document that says so in its X-DFL-Truncated response header (rows or bytes). "
        f"Queries are stopped after {limits.timeout:g} seconds (504), at most {limits.max_query_length} "
        f"characters are accepted (413/414), and when {limits.max_concurrent} queries are already starting "
        f"the endpoint answers 503 with Retry-After. SERVICE (federation) and SPARQL Update are refused (400)."
    )


def service_description(snapshot: Snapshot, uris: Uris, limits: Limits) -> list[Triple]:
    endpoint = NamedNode(f"{uris.base}/sparql")
    service = NamedNode(f"{uris.base}/sparql#service")
    dataset = NamedNode(f"{uris.base}/sparql#dataset")
    default_graph = NamedNode(f"{uris.base}/sparql#default-graph")
    graphs = snapshot.manifest.graphs
    public = list(snapshot.manifest.public_graphs)
    total = sum(int(graphs.get(g, {}).get("quads", 0)) for g in public)

    def integer(value: int) -> Literal:
        return Literal(str(value), datatype=XSD.integer)

    triples = [
        Triple(service, RDF.type, SD.Service),
        Triple(service, SD.endpoint, endpoint),
        Triple(service, SD.supportedLanguage, SD.SPARQL11Query),
        Triple(service, SD.feature, SD.UnionDefaultGraph),
        Triple(service, SD.defaultEntailmentRegime, ENTAILMENT_SIMPLE),
        Triple(service, SD.defaultDataset, dataset),
        Triple(service, RDFS.label, Literal("Data for London SPARQL endpoint", language="en")),
        Triple(service, RDFS.comment, Literal(limits_note(limits), language="en")),
        Triple(service, RDFS.seeAlso, NamedNode(f"{uris.base}/.well-known/void")),
        Triple(service, RDFS.seeAlso, NamedNode(f"{uris.base}/api/openapi.json")),
        Triple(service, uris.vocab.maxResultRows, integer(limits.max_rows)),
        Triple(service, uris.vocab.maxResultBytes, integer(limits.max_bytes)),
        Triple(service, uris.vocab.maxQueryLength, integer(limits.max_query_length)),
        Triple(service, uris.vocab.queryTimeout, Literal(f"PT{limits.timeout:g}S", datatype=XSD.dayTimeDuration)),
        Triple(dataset, RDF.type, SD.Dataset),
        Triple(dataset, DCT.identifier, Literal(str(snapshot.generation))),
        Triple(dataset, DCT.modified, Literal(snapshot.manifest.published_at, datatype=XSD.dateTime)),
        Triple(dataset, SD.defaultGraph, default_graph),
        Triple(default_graph, RDF.type, SD.Graph),
        Triple(default_graph, VOID.triples, integer(total)),
        Triple(
            default_graph,
            RDFS.comment,
            Literal("The union of the public named graphs listed in this dataset.", language="en"),
        ),
    ]
    formats = {f.iri: f for kind in RESULT_FORMATS.values() for f in kind if f.iri}
    triples += [Triple(service, SD.resultFormat, NamedNode(iri)) for iri in formats]
    for index, graph in enumerate(public):
        named = NamedNode(f"{uris.base}/sparql#graph-{index}")
        described = NamedNode(f"{uris.base}/sparql#graph-{index}-description")
        triples += [
            Triple(dataset, SD.namedGraph, named),
            Triple(named, RDF.type, SD.NamedGraph),
            Triple(named, SD.name, NamedNode(graph)),
            Triple(named, SD.graph, described),
            Triple(described, RDF.type, SD.Graph),
            Triple(described, VOID.triples, integer(int(graphs.get(graph, {}).get("quads", 0)))),
        ]
    return triples
