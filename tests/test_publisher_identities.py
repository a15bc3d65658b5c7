"""Publishers and their identities, loaded with `dfl load dcat` into a real on-disk store and read back from the
published generation: one organisation under several IRIs is one publisher of ours, the IRIs the source gave it
are kept as its ``owl:sameAs``, and a publisher nobody named is not published (a problem names
``dct:publisher``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import dfl
from pyoxigraph import BlankNode, NamedNode, RdfFormat, parse

from dfl_graph.namespaces import DCAT, DCT, FOAF, OWL, PROV, RDF
from dfl_graph.store import CatalogueReader

BASE = "http://data.test"
ONS = NamedNode(f"{BASE}/publisher/ons")
GSS = Path(__file__).parent / "data" / "uk-gss-catalogue" / "fixture-data.ttl"
# the IRIs the UK GSS catalogue gives the ONS: its web address (with and without a slash) and its gov.uk page
GSS_ONS_IRIS = {
    "https://www.ons.gov.uk",
    "https://www.ons.gov.uk/",
    "https://www.gov.uk/government/organisations/office-for-national-statistics",
}
DATASET_CLASSES = {DCAT.Dataset, NamedNode("http://publishmydata.com/pmdcat#Dataset")}

# Shaped like the GSS and data.gov.uk files: a publisher by its web address or gov.uk page without a name, by
# an IRI of its own with a name or an alternative name, an organisation we do not know, and two without a name.
SMALL = """\
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .

<http://example.org/dataset/web-address> a dcat:Dataset ;
    dct:title "Population estimates by web address"@en ; dct:publisher <https://www.ons.gov.uk/> .
<http://example.org/dataset/gov-uk-page> a dcat:Dataset ;
    dct:title "Population estimates by gov.uk page"@en ;
    dct:publisher <https://www.gov.uk/government/organisations/office-for-national-statistics> .
<http://example.org/dataset/named> a dcat:Dataset ;
    dct:title "Population estimates by name"@en ; dct:publisher <http://example.org/id/organisation/ons> .
<http://example.org/id/organisation/ons> a foaf:Organization ; foaf:name "Office for National Statistics"@en .
<http://example.org/dataset/alternative-name> a dcat:Dataset ;
    dct:title "Population estimates by alternative name"@en ; dct:publisher [ a foaf:Agent ; foaf:name "ONS" ] .
<http://example.org/dataset/unknown-organisation> a dcat:Dataset ;
    dct:title "Footfall on the high street"@en ; dct:publisher <http://example.org/id/organisation/footfall-lab> .
<http://example.org/id/organisation/footfall-lab> a foaf:Organization ; foaf:name "Footfall Lab"@en .
<http://example.org/dataset/unnamed> a dcat:Dataset ;
    dct:title "Unnamed publisher by IRI"@en ; dct:publisher <http://example.org/id/organisation/x17> .
<http://example.org/id/organisation/x17> a foaf:Organization .
<http://example.org/dataset/unnamed-blank> a dcat:Dataset ;
    dct:title "Unnamed publisher as a blank node"@en ; dct:publisher [ a foaf:Organization ] .
"""


def load(tmp_path: Path, path: Path) -> tuple[dict, list[dict]]:
    """Load ``path`` with the real CLI: the published triples of source ``s`` by subject, and the problems."""
    problems = tmp_path / "problems.jsonl"
    store = tmp_path / "store"
    dfl("--base", BASE, "load", "dcat", str(path), "--source", "s", "--problems", str(problems), "--store", str(store))
    snapshot = CatalogueReader(store).snapshot()
    graph = NamedNode(f"{BASE}/graph/s")
    assert graph.value in snapshot.manifest.graphs and snapshot.manifest.graphs[graph.value]["public"]
    triples: dict = {}
    for quad in snapshot.store.quads_for_pattern(None, None, None, graph):
        triples.setdefault(quad.subject, {}).setdefault(quad.predicate, set()).add(quad.object)
    return triples, [json.loads(line) for line in problems.read_text(encoding="utf-8").splitlines()]


def by_original(triples: dict) -> dict[str, dict]:
    """The published datasets by the source IRI they were derived from."""
    return {
        original.value: values
        for values in triples.values()
        if DCAT.Dataset in values.get(RDF.type, ())
        for original in values.get(PROV.wasDerivedFrom, ())
    }


@pytest.fixture(scope="module")
def gss(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[dict]]:
    return load(tmp_path_factory.mktemp("gss"), GSS)


def source_publishers() -> dict[str, str]:
    """Dataset IRI -> publisher IRI, as the GSS file says."""
    triples = list(parse(path=GSS, format=RdfFormat.TURTLE))
    datasets = {t.subject for t in triples if t.predicate == RDF.type and t.object in DATASET_CLASSES}
    return {
        t.subject.value: t.object.value
        for t in triples
        if t.subject in datasets and t.predicate == DCT.publisher and isinstance(t.object, NamedNode)
    }


def test_the_ons_under_each_of_its_gss_iris_is_one_publisher_with_those_iris_as_same_as(gss) -> None:
    triples, _ = gss
    published = by_original(triples)
    ons_datasets = {d for d, p in source_publishers().items() if p in GSS_ONS_IRIS}
    assert len(ons_datasets) == 122  # 113 by gov.uk page, 6 + 3 by web address
    assert all(published[d][DCT.publisher] == {ONS} for d in ons_datasets)
    assert triples[ONS][OWL.sameAs] == {NamedNode(iri) for iri in GSS_ONS_IRIS}
    # no second publisher of ours for the ONS (publisher/www-ons-gov-uk ...): ours are vocabulary IRIs or none
    publishers = {p for values in published.values() for p in values.get(DCT.publisher, ())}
    assert not [p for p in publishers if "ons" in p.value.rsplit("/", 1)[-1].split("-") and p != ONS]


def test_gss_publishers_without_a_name_are_not_published_and_each_is_a_problem(gss) -> None:
    triples, problems = gss
    published = by_original(triples)
    unnamed = {d: p for d, p in source_publishers().items() if p not in GSS_ONS_IRIS}
    assert len(unnamed) == 111  # statistics.data.gov.uk, DEFRA, BEIS, HMRC ...: named nowhere in the file
    reported = {(p["record"], p["value"]) for p in problems if p["field"] == "dct:publisher"}
    same_as = {o for values in triples.values() for o in values.get(OWL.sameAs, ())}
    for dataset, publisher in unnamed.items():
        assert DCT.publisher not in published[dataset], dataset
        assert (dataset, publisher) in reported
        assert NamedNode(publisher) not in same_as  # no publisher of ours stands for it


def test_small_file_one_ons_same_as_its_iris_and_unnamed_publishers_dropped(tmp_path: Path) -> None:
    path = tmp_path / "publishers.ttl"
    path.write_text(SMALL, encoding="utf-8")
    triples, problems = load(tmp_path, path)
    published = by_original(triples)
    ons = [f"http://example.org/dataset/{name}" for name in ("web-address", "gov-uk-page", "named", "alternative-name")]
    assert [published[d][DCT.publisher] for d in ons] == [{ONS}] * 4
    assert triples[ONS][OWL.sameAs] == {
        NamedNode("https://www.ons.gov.uk/"),
        NamedNode("https://www.gov.uk/government/organisations/office-for-national-statistics"),
        NamedNode("http://example.org/id/organisation/ons"),
    }  # the blank node has no IRI to keep
    assert FOAF.name not in triples[ONS]  # the vocabulary names our ONS; the source's name is not a second one

    lab = NamedNode(f"{BASE}/publisher/footfall-lab")
    assert published["http://example.org/dataset/unknown-organisation"][DCT.publisher] == {lab}
    assert triples[lab][OWL.sameAs] == {NamedNode("http://example.org/id/organisation/footfall-lab")}
    assert {o.value for o in triples[lab][FOAF.name]} == {"Footfall Lab"}

    for name in ("unnamed", "unnamed-blank"):
        assert DCT.publisher not in published[f"http://example.org/dataset/{name}"]
    links = {o for values in triples.values() for objects in values.values() for o in objects}
    assert NamedNode("http://example.org/id/organisation/x17") not in links
    assert not any(isinstance(s, BlankNode) for s in triples)
    reported = {(p["record"], p["value"]) for p in problems if p["field"] == "dct:publisher"}
    assert reported == {
        ("http://example.org/dataset/unnamed", "http://example.org/id/organisation/x17"),
        ("http://example.org/dataset/unnamed-blank", "a blank node"),
    }
