"""Metadata quality: the score (dfl_graph/quality.py) as a pure function of a dataset's statements, its
publication as DQV measurements on the dataset, and where the Library shows it (badge, API, facet,
/quality). Expected points are worked out by hand from the checks' table in docs/library.md."""

from __future__ import annotations

import rdflib
import requests
from conftest import LiveServer
from pyoxigraph import NamedNode, RdfFormat, parse

from dfl_graph.dcat import DcatApWriter
from dfl_graph.namespaces import DQV, RDF
from dfl_graph.quality import CHECKS, MAXIMUM, TOTAL_MAXIMUM, assess, rating_of
from dfl_graph.records import Contact, DatasetRecord, DistributionRecord, When
from dfl_graph.uris import Uris
from dfl_graph.vocabularies import ONTOLOGY_DIR, Vocabularies

URIS = Uris("http://127.0.0.1:9")
WRITER = DcatApWriter(URIS, Vocabularies(URIS))
GRAPH = NamedNode(URIS.source_graph("test"))
OGL = "http://publications.europa.eu/resource/authority/licence/OGL_3_0"


def full_record() -> DatasetRecord:
    """A dataset that states everything the writer can write (it never writes dct:rights)."""
    csv = DistributionRecord(
        "d1",
        access_url="https://example.org/a",
        download_url="https://example.org/a.csv",
        media_type="text/csv",
        file_type="CSV",
        byte_size=100,
    )
    return DatasetRecord(
        id="full",
        title="Fully described",
        description="Everything stated.",
        keywords=["k"],
        themes=["transport"],
        publisher="tfl",
        licence=OGL,
        issued=When.parse("2020-01-01"),
        modified=When.parse("2021-01-01"),
        boroughs=["E09000012"],
        temporal_start=When.parse("2019"),
        contact=Contact(name="Open data", email="data@example.org"),
        distributions=[csv],
    )


def quality_of(record: DatasetRecord):
    quads = list(WRITER.quads(record, GRAPH))
    return assess(WRITER.dataset_iri(record), quads), quads


def test_the_checks_add_up_to_mqa_points() -> None:
    assert TOTAL_MAXIMUM == 405
    assert MAXIMUM == {
        "findability": 100,
        "accessibility": 100,
        "interoperability": 110,
        "reusability": 75,
        "contextuality": 20,
    }
    assert [rating_of(p) for p in (405, 351, 350, 221, 220, 121, 120, 0)] == [
        "excellent",
        "excellent",
        "good",
        "good",
        "sufficient",
        "sufficient",
        "poor",
        "poor",
    ]


def test_a_fully_described_dataset_scores_everything_but_rights() -> None:
    assessment, _ = quality_of(full_record())
    assert assessment.dimensions == {
        "findability": 100,
        "accessibility": 100,
        "interoperability": 110,
        "reusability": 75,
        "contextuality": 15,  # no dct:rights on the distribution
    }
    assert assessment.total == 400 and assessment.rating == "excellent"


def test_a_bare_dataset_scores_only_what_it_states() -> None:
    assessment, _ = quality_of(DatasetRecord(id="bare", title="Only a title"))
    # the writer always states access rights (public, from the EU list): 10 + 5; nothing else
    assert assessment.dimensions == {
        "findability": 0,
        "accessibility": 0,
        "interoperability": 0,
        "reusability": 15,
        "contextuality": 0,
    }
    assert assessment.rating == "poor"


def test_distribution_checks_score_the_share_of_distributions_that_pass() -> None:
    record = full_record()
    record.distributions.append(DistributionRecord("d2", access_url="https://example.org/b", file_type="PDF"))
    assessment = quality_of(record)[0]
    # both have an access URL (50); one of two a download URL (25)
    assert assessment.dimension("accessibility") == 75
    # format 20 (both), media type 5, vocabulary 10, open formats 20 (CSV, PDF), machine-readable 10 (CSV),
    # description 30
    assert assessment.dimension("interoperability") == 95


def test_a_score_depends_only_on_the_datasets_own_statements() -> None:
    assessment, quads = quality_of(full_record())
    other = DatasetRecord(id="other", title="Other", keywords=["x"], licence=OGL)
    dataset = WRITER.dataset_iri(full_record())
    mixed = assess(dataset, quads + list(WRITER.quads(other, GRAPH)))
    assert mixed.checks == assessment.checks
    assert sum(c.points for c in CHECKS) == TOTAL_MAXIMUM


def test_the_writer_publishes_dqv_measurements_after_the_dataset() -> None:
    record = full_record()
    assessment, quads = quality_of(record)
    dataset = WRITER.dataset_iri(record)
    measurements = {q.subject for q in quads if q.predicate == RDF.type and q.object == DQV.QualityMeasurement}
    assert {m.value.split("#", 1)[1] for m in measurements} == {
        "quality",
        "quality-findability",
        "quality-accessibility",
        "quality-interoperability",
        "quality-reusability",
        "quality-contextuality",
    }
    values = {}
    for node in measurements:
        about = {q.predicate: q.object for q in quads if q.subject == node}
        assert about[DQV.computedOn] == dataset
        values[about[DQV.isMeasurementOf].value.rsplit("#", 1)[1]] = int(about[DQV.value].value)
    assert values == {f"{d}Score": v for d, v in assessment.dimensions.items()} | {
        "metadataQualityScore": assessment.total
    }
    # the metrics are defined in our vocabulary, each in its dimension
    vocabulary = rdflib.Graph().parse(ONTOLOGY_DIR / "dfl.ttl", publicID=URIS.base + "/")
    dqv = rdflib.Namespace(DQV.iri)
    for metric in values:
        assert (rdflib.URIRef(URIS.vocab[metric].value), rdflib.RDF.type, dqv.Metric) in vocabulary, metric


def test_the_published_score_is_on_the_dataset_and_in_the_library(default_server: LiveServer) -> None:
    """Over HTTP: the dataset's Turtle carries its measurements; recomputing the score from the served
    statements gives the published value, which the API's badge, the page and the facet show."""
    url = default_server.url + "/dataset/abandoned-vehicles"
    turtle = requests.get(url + ".ttl", timeout=30)
    triples = list(parse(turtle.content, RdfFormat.TURTLE, base_iri=default_server.url + "/"))
    total = url + "#quality"
    published = next(t.object.value for t in triples if t.subject.value == total and t.predicate == DQV.value)
    own = [t for t in triples if not t.subject.value.startswith(url + "#quality")]
    assert assess(NamedNode(url), own).total == int(published)
    result = default_server.get("/api/search", params={"q": "abandoned vehicles"}).json()["results"][0]
    assert result["iri"] == url and result["quality"]["points"] == int(published)
    assert result["quality"]["rating"] == rating_of(int(published))
    page = default_server.get("/dataset/abandoned-vehicles").text
    assert f"{published} of {TOTAL_MAXIMUM} points" in page
    ratings = {v["key"]: v["count"] for v in default_server.get("/api/search").json()["facets"]["quality"]}
    assert sum(ratings.values()) == 249  # every dataset of the 2010 listing is rated (none "not stated")


def test_the_quality_pages_sum_up_per_publisher(default_server: LiveServer) -> None:
    overview = default_server.get("/quality.json").json()
    (row,) = overview["publishers"]  # the 2010 listing names no publisher
    assert row["publisher"]["key"] == "not-stated" and row["datasets"] == row["measured"] == 249
    facet = {v["key"]: v["count"] for v in default_server.get("/api/search").json()["facets"]["quality"]}
    assert {k: v for k, v in row["ratings"].items() if v} == facet
    assert "How the score is made" in default_server.get("/quality").text
    assert default_server.get("/quality/no-such-publisher").status_code == 404
