"""dct:language given as a code, as a blank node carrying the code, or as an ISO 639 code list's IRI is published as
the EU language concept; EU concepts and other IRIs are kept as given; unknown codes are reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from dfl_graph.dcat import DcatApWriter
from dfl_graph.namespaces import DCT, RDF, SKOS
from dfl_graph.records import DATASET
from dfl_graph.uris import Uris
from dfl_graph.vocabularies import Vocabularies
from loaders.ckan import CkanLoader
from loaders.datajson import DataJsonLoader
from loaders.dcat_rdf import DcatRdfLoader
from loaders.language_codes import language_iri

DATA = Path(__file__).parent / "data"
EU = "http://publications.europa.eu/resource/authority/language/"


@pytest.fixture(scope="module")
def vocabularies() -> Vocabularies:
    return Vocabularies(Uris("http://data.test"))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        *(("en", "ENG"), ("ENG", "ENG"), ("eng", "ENG"), ("en-GB", "ENG"), ("fr", "FRA"), ("fre", "FRA")),
        *(("fra", "FRA"), ("nl", "NLD"), ("dut", "NLD"), ("cy", "CYM"), ("nb", "NOB"), ("no", "NOR")),
        *(("zh", "ZHO"), ("de_AT", "DEU")),
    ],
)
def test_codes_name_eu_languages(vocabularies: Vocabularies, code: str, expected: str) -> None:
    assert language_iri(code, vocabularies.language_by_code) == EU + expected


@pytest.mark.parametrize("code", ["xx", "english", "", "e"])
def test_unknown_codes_name_none(vocabularies: Vocabularies, code: str) -> None:
    assert language_iri(code, vocabularies.language_by_code) is None


def test_every_language_is_typed_and_in_the_eu_list(vocabularies: Vocabularies) -> None:
    """What DCAT-AP's shapes check of a dct:language value: a dct:LinguisticSystem in the EU language list."""
    iris = {NamedNode(i) for i in vocabularies.language_by_code.values()}
    assert len(iris) >= 180
    typed = {t.subject for t in vocabularies._triples if t.predicate == RDF.type and t.object == DCT.LinguisticSystem}
    in_list = {t.subject for t in vocabularies._triples if t.predicate == SKOS.inScheme and t.object.value == EU[:-1]}
    assert iris <= typed & in_list


def languages(record) -> set[str]:
    return {s.object.value for s in record.statements if s.subject == DATASET and s.predicate == DCT.language.value}


def test_a_real_file_with_codes_as_blank_nodes(vocabularies: Vocabularies) -> None:
    """The W3C DCAT 3 CSIRO example writes each of its 24 languages as ``[ skos:notation "bg" ]``."""
    loader = DcatRdfLoader(vocabularies)
    records = loader.read_all(DATA / "w3c-dcat3-examples" / "examples" / "csiro-dap-examples.ttl")
    found = set().union(*(languages(r) for r in records))
    assert {EU + c for c in ("BUL", "CES", "DAN", "DEU", "ENG", "FRA", "SWE", "ZHO")} <= found
    assert all(iri.startswith(EU) for iri in found)
    notations = [s for r in records for s in r.statements if s.predicate == SKOS.notation.value]
    assert not any(s.object.value == "bg" for s in notations)  # the blank nodes became the EU concept
    assert not [p for p in loader.problems if p.field.endswith("dct:language")]


def test_iris_are_kept_or_mapped_and_unknown_codes_reported(vocabularies: Vocabularies, tmp_path: Path) -> None:
    path = tmp_path / "languages.ttl"
    path.write_text(
        """@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
        <http://example.org/d> a dcat:Dataset ; dct:title "Languages"@en ; dct:description "Five ways"@en ;
          dct:language "en", <http://id.loc.gov/vocabulary/iso639-1/fr>, <http://publications.europa.eu/resource/authority/language/NLD>,
            <http://example.org/lang/klingon>, "xx" .
        """
    )
    loader = DcatRdfLoader(vocabularies)
    [record] = loader.read_all(path)
    assert languages(record) == {EU + "ENG", EU + "FRA", EU + "NLD", "http://example.org/lang/klingon"}
    reported = [(p.field, p.value) for p in loader.problems if p.field.endswith("dct:language")]
    assert reported == [("dct:language", "xx")]


def test_a_data_json_language_field_is_written_as_eu_languages(vocabularies: Vocabularies, tmp_path: Path) -> None:
    """DCAT-US data.json gives ``language`` as codes ("en-US"): published as the EU concepts, unknown ones reported."""
    catalogue = json.loads((DATA / "us-arm-datajson" / "arm.data.json").read_text())
    first = dict(catalogue["dataset"][0], language=["en-US", "fr", "en", "xx"])
    path = tmp_path / "data.json"
    path.write_text(json.dumps({**catalogue, "dataset": [first]}))
    loader = DataJsonLoader(vocabularies)
    [record] = loader.read_all(path)
    assert languages(record) == {EU + "ENG", EU + "FRA"}
    assert [(p.field, p.value) for p in loader.problems if p.field == "language"] == [("language", "xx")]
    writer = DcatApWriter(vocabularies.uris, vocabularies)
    quads = list(writer.quads(record, NamedNode(vocabularies.uris.source_graph("test"))))
    assert {q.object.value for q in quads if q.predicate == DCT.language} == {EU + "ENG", EU + "FRA"}


@pytest.mark.parametrize("value", ['["en", "fr", "xx"]', "en, fr, xx"])
def test_a_ckan_language_extra_is_written_as_eu_languages(vocabularies: Vocabularies, tmp_path: Path, value) -> None:
    """ckanext-dcat keeps dct:language as a ``language`` extra: a JSON list or a comma-separated string."""
    search = json.loads((DATA / "ckan-birmingham" / "package_search.json").read_text())
    package = search["result"]["results"][0]
    package = dict(package, extras=[*(package.get("extras") or []), {"key": "language", "value": value}])
    path = tmp_path / "package_search.json"
    path.write_text(json.dumps({**search, "result": {**search["result"], "results": [package]}}))
    loader = CkanLoader(vocabularies)
    [record] = loader.read_all(path)
    assert languages(record) == {EU + "ENG", EU + "FRA"}
    assert [(p.field, p.value) for p in loader.problems if "language" in p.field] == [("extras.language", "xx")]
