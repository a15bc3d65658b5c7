"""A location's geometry given as literals (GeoDCAT-AP 2: WKT and GML) is published as DCAT-AP 3 wants it: one
locn:Geometry node carrying every literal as given (geo:asWKT, geo:asGML), valid against the official shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from pyoxigraph import Literal, NamedNode

from dfl_graph.dcat import DcatApWriter
from dfl_graph.namespaces import DCT, LOCN, RDF
from dfl_graph.records import Anchor
from dfl_graph.uris import Uris
from dfl_graph.validation import validate_graph
from dfl_graph.vocabularies import Vocabularies
from loaders.dcat_rdf import DcatRdfLoader

EEA = Path(__file__).parent / "data" / "geodcat-ap-eea" / "dataset.ttl"
GEO = "http://www.opengis.net/ont/geosparql#"


@pytest.fixture(scope="module")
def vocabularies() -> Vocabularies:
    return Vocabularies(Uris("http://data.test"))


@pytest.fixture(scope="module")
def loaded(vocabularies: Vocabularies, tmp_path_factory: pytest.TempPathFactory):
    """The EEA GeoDCAT-AP record with its location's two bounding boxes given as locn:geometry instead (the
    GeoDCAT-AP 2 way to give a location's shape)."""
    path = tmp_path_factory.mktemp("geometry") / "dataset.ttl"
    path.write_text(EEA.read_text().replace("dct:spatial [ dcat:bbox", "dct:spatial [ locn:geometry"))
    loader = DcatRdfLoader(vocabularies)
    [record] = loader.read_all(path)
    return record, loader.problems


def test_both_literals_are_kept_on_one_geometry_node(loaded) -> None:
    record, problems = loaded
    links = [s for s in record.statements if s.predicate == LOCN.geometry.value]
    assert len(links) == 1 and isinstance(links[0].object, Anchor)
    node = links[0].object
    about = {(s.predicate, s.object) for s in record.statements if s.subject == node}
    assert (RDF.type.value, LOCN.Geometry) in about
    serialised = {p: o for p, o in about if p.startswith(GEO + "as")}
    assert set(serialised) == {GEO + "asWKT", GEO + "asGML"}
    assert serialised[GEO + "asWKT"] == Literal(
        "POLYGON((-31.285 70.075,34.099 70.075,34.099 27.642,-31.285 27.642,-31.285 70.075))",
        datatype=NamedNode(GEO + "wktLiteral"),
    )
    assert serialised[GEO + "asGML"].value.startswith("<gml:Envelope")
    assert not [p for p in problems if "geometry" in p.field]  # nothing dropped


def test_the_published_location_conforms_to_dcat_ap(vocabularies: Vocabularies, loaded) -> None:
    record, _ = loaded
    writer = DcatApWriter(vocabularies.uris, vocabularies)
    graph = NamedNode(vocabularies.uris.source_graph("test"))
    data = rdflib.Graph()
    for q in writer.quads(record, graph):
        data.add(tuple(rdflib.URIRef(t.value) if isinstance(t, NamedNode) else _literal(t) for t in q.triple))
    locations = list(data.subjects(rdflib.RDF.type, rdflib.URIRef(DCT.Location.value)))
    assert locations
    report = validate_graph(data, "dcat-ap", vocabularies.uris.base)
    geometry = [str(f) for f in report.findings if f.severity == "Violation" and "locn#geometry" in (f.path or "")]
    assert geometry == []


def _literal(term: Literal) -> rdflib.Literal:
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
