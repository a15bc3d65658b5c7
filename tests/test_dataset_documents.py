"""A dataset's document (Turtle, JSON-LD, RDF/XML, N-Triples over HTTP) holds the closure of what the dataset says:
real GeoDCAT-AP and W3C DCAT files loaded, each dataset's document fetched, and every source statement about the
dataset, its distributions and what they link to (blank nodes at any depth, resources the file describes) found in
it, modulo our IRI minting (recorded by prov:wasDerivedFrom), the normalised values and the reported problems."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from conftest import free_port, live_server
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, parse
from test_faithful_loading import canonical, expected_language

from dfl_graph.indexes.registry import open_writer
from dfl_graph.ingest import ensure_vocabularies, load_file
from dfl_graph.namespaces import DCAT, DQV, PROV, RDF
from dfl_graph.uris import Uris
from dfl_graph.vocabularies import Vocabularies
from loaders.source_statements import REPLACED_ON_DATASET, REPLACED_ON_DISTRIBUTION, curie

DATA = Path(__file__).parent / "data"
W3C = DATA / "w3c-dcat3-examples" / "examples"
SOURCES = {
    "geodcat-eea": DATA / "geodcat-ap-eea" / "dataset.ttl",  # location, period, vCard address, service, provenance
    "w3c-basic": W3C / "vocab-dcat-3" / "basic-example.ttl",  # a contact point the file describes by its IRI
    "w3c-spatial": W3C / "spatial-properties.ttl",  # a bounding box, titles in two languages
    "w3c-ga-courts": W3C / "ga-courts.ttl",  # a vCard contact point the file describes by its IRI
}
NORMALISED = {  # values the loaders write normalised on the same subject (docs/loaders.md)
    "http://purl.org/dc/terms/issued",
    "http://purl.org/dc/terms/modified",
    "http://www.w3.org/ns/dcat#landingPage",
    "http://www.w3.org/ns/dcat#accessURL",
    "http://www.w3.org/ns/dcat#downloadURL",
    "http://www.w3.org/ns/dcat#byteSize",
}
FORMATS = {
    "text/turtle": RdfFormat.TURTLE,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/ld+json": RdfFormat.JSON_LD,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The files loaded for the server's base, then served over HTTP; the load reports beside it."""
    port = free_port()
    uris = Uris(f"http://127.0.0.1:{port}")
    data_dir = tmp_path_factory.mktemp("documents") / "catalogue"
    reports = {}
    with open_writer(data_dir, uris) as store:
        ensure_vocabularies(store)
        vocabularies = Vocabularies(uris)
        for source, path in SOURCES.items():
            reports[source] = load_file(store, vocabularies, "dcat", path, source)
    with live_server(data_dir, port) as running:
        running.reports = reports  # type: ignore[attr-defined]
        yield running


def document(server, iri: str, media_type: str = "text/turtle") -> set[tuple]:
    response = server.get(iri[len(server.url) :], headers={"Accept": media_type})
    assert response.status_code == 200, (iri, media_type)
    assert response.headers["Content-Type"].startswith(media_type)
    return {(t.subject, t.predicate, t.object) for t in parse(response.content, format=FORMATS[media_type])}


def source_closure(triples: list, node) -> tuple[list, set]:
    """What the source says of a dataset: its statements, its distributions', and those of every blank node or
    resource described in the file they link to (links to other datasets excepted); and its distributions."""
    by_subject: dict = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    datasets = {t.subject for t in triples if t.predicate == RDF.type and t.object == DCAT.Dataset}
    distributions = {t.object for t in by_subject.get(node, []) if t.predicate == DCAT.distribution}
    out, queue, seen = [], [node, *distributions], {node, *distributions}
    while queue:
        subject = queue.pop()
        for t in by_subject.get(subject, []):
            out.append(t)
            described = t.object in by_subject and t.object not in seen and t.object not in datasets
            if described and (isinstance(t.object, BlankNode) or subject == node or subject in distributions):
                seen.add(t.object)
                queue.append(t.object)
    return out, distributions


def ours_by_source(server, source: str) -> dict:
    """Source IRI -> our dataset IRI, from the datasets' prov:wasDerivedFrom in the catalogue's public graph."""
    graph = NamedNode(Uris(server.url).source_graph(source))
    response = server.get(
        "/sparql",
        params={
            "query": f"SELECT ?d ?o WHERE {{ GRAPH <{graph.value}> {{ ?d a <{DCAT.Dataset.value}> ; "
            f"<{PROV.wasDerivedFrom.value}> ?o }} }}"
        },
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    return {row["o"]["value"]: row["d"]["value"] for row in rows}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_source_statement_of_a_dataset_is_in_its_document(server, source: str) -> None:
    triples = list(parse(path=str(SOURCES[source]), format=RdfFormat.TURTLE, base_iri="http://source.test/"))
    report = server.reports[source]
    reported = {(p.record, p.field.rsplit(".", 1)[-1], p.value) for p in report.problems}
    ours = ours_by_source(server, source)
    assert ours, source
    checked = 0
    for source_iri, iri in sorted(ours.items()):
        node = NamedNode(source_iri)
        doc = document(server, iri)
        dataset = NamedNode(iri)
        mine = {node: dataset}
        for s, p, o in doc:  # our distributions, by the source IRI they derive from
            if p == PROV.wasDerivedFrom and s.value.startswith(iri + "/distribution/"):
                mine[o] = s
        own_subjects = {s for s, _, _ in doc if s == dataset or s.value.startswith((iri + "#", iri + "/"))}
        statements, distributions = source_closure(triples, node)
        unlinked: set = set()  # blank nodes whose link was reported: not published under the dataset
        for t in statements:
            field, value = curie(t.predicate.value), None if isinstance(t.object, BlankNode) else t.object.value
            if t.subject in unlinked or any(
                r[0] == source_iri and r[1] == field and value in (None, r[2]) for r in reported
            ):
                if isinstance(t.object, BlankNode):
                    unlinked.add(t.object)
                continue  # reported: a problem names the record, the field and the value
            if isinstance(t.subject, BlankNode):
                subjects = own_subjects  # a blank node: published on a hash IRI of the dataset
            elif t.subject in mine:
                subjects = {mine[t.subject]}
            elif t.subject in distributions:  # a blank distribution: one of ours
                subjects = {s for s in own_subjects if "/distribution/" in s.value and "#" not in s.value}
            else:
                subjects = {t.subject}  # a resource the file describes: kept under its own IRI
            own = t.subject == node or t.subject in distributions
            replaced = REPLACED_ON_DATASET if t.subject == node else REPLACED_ON_DISTRIBUTION
            values = {o for s, p, o in doc if s in subjects and p == t.predicate}
            if own and (t.predicate.value in replaced or t.predicate.value in NORMALISED):
                assert values, (source, t)  # the normalised value
            elif isinstance(t.object, BlankNode):
                assert values, (source, t)
            elif t.predicate.value == "http://purl.org/dc/terms/language":
                assert NamedNode(expected_language(t.object)) in values, (source, t)
            else:
                assert mine.get(t.object, canonical(t.object)) in values, (source, t)
            checked += 1
    assert checked > 0


def test_the_closure_holds_the_places_contacts_periods_and_measurements(server) -> None:
    [iri] = ours_by_source(server, "geodcat-eea").values()
    doc = document(server, iri)
    dataset = NamedNode(iri)
    linked = {p.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]: o for s, p, o in doc if s == dataset}
    described = {s for s, _, _ in doc}
    for link in ("spatial", "temporal", "contactPoint", "provenance", "distribution"):
        assert linked[link] in described, link
    location = linked["spatial"]
    bbox = [o for s, p, o in doc if s == location and p == DCAT.bbox]
    assert bbox and bbox[0].datatype.value == "http://www.opengis.net/ont/geosparql#wktLiteral"
    addresses = [o for s, p, o in doc if s == linked["contactPoint"] and p.value.endswith("#hasAddress")]
    assert addresses and any(s == addresses[0] and p.value.endswith("#street-address") for s, p, _ in doc)
    measurements = {s for s, p, o in doc if p == DQV.computedOn and o == dataset}
    assert measurements and all(any(s == m and p == DQV.value for s, p, _ in doc) for m in measurements)


@pytest.mark.parametrize("media_type", sorted(FORMATS))
def test_every_format_carries_the_same_closure(server, media_type: str) -> None:
    [iri] = ours_by_source(server, "geodcat-eea").values()
    assert document(server, iri, media_type) == document(server, iri)


def test_resources_the_file_describes_by_iri_come_with_the_document(server) -> None:
    [courts] = ours_by_source(server, "w3c-ga-courts").values()
    contact = NamedNode("http://example.org/ga-courts#GA")
    doc = document(server, courts)
    assert (NamedNode(courts), DCAT.contactPoint, contact) in doc
    assert {p.value.rsplit("#", 1)[-1] for s, p, _ in doc if s == contact} >= {"fn", "street-address", "locality"}


def test_rdf_xml_escapes_carriage_returns(server) -> None:
    """A literal's carriage return is written as &#13; (an XML parser turns a raw one into a line feed)."""
    from dfl_graph.web.negotiation import RDF_XML
    from dfl_graph.web.rdf_documents import serializer_for

    text = "first line\r\nsecond line\rthird"
    triple = (NamedNode("http://x.test/a"), NamedNode("http://purl.org/dc/terms/description"), Literal(text))
    from pyoxigraph import Triple

    body = serializer_for("http://x.test").serialize([Triple(*triple)], RDF_XML)
    assert b"\r" not in body and body.count(b"&#13;") == 2
    parsed = rdflib.Graph().parse(data=body, format="xml")
    assert [str(o) for o in parsed.objects()] == [text]


def test_the_documents_alone_conform_to_dcat_ap(server) -> None:
    """What a harvester gets from the documents, with no vocabulary of ours: 0 violations of the official DCAT-AP
    3.0.1 shapes, mdr-vocabularies included (a source's languages are EU concepts in the EU list)."""
    from dfl_graph.validation import validate_graph

    graph = rdflib.Graph()
    for source in SOURCES:
        for iri in ours_by_source(server, source).values():
            response = server.get(iri[len(server.url) :], headers={"Accept": "text/turtle"})
            graph.parse(data=response.text, format="turtle")
    report = validate_graph(graph, "dcat-ap", server.url)
    assert [str(f) for f in report.findings if f.severity == "Violation"] == []
