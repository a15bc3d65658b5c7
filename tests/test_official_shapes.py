"""`dfl validate --shapes dcat-ap` applies all the official DCAT-AP 3.0.1 shapes, the mdr-vocabularies
(controlled vocabulary) shapes included: they catch what they should, and only what they should."""

from __future__ import annotations

import pytest
import rdflib

from dfl_graph.validation import shapes_graph, validate_graph

BASE = "http://data.test"
PREFIXES = """
@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix spdx: <http://spdx.org/rdf/terms#> .
"""
DATASET = """
<http://data.test/dataset/d> a dcat:Dataset ; dct:title "A dataset"@en ; dct:description "About it"@en ;
  dct:language {language} ; dcat:theme <http://data.test/theme/transport> ;
  dcat:distribution <http://data.test/dataset/d/distribution/1> .
<http://data.test/dataset/d/distribution/1> a dcat:Distribution ; dcat:accessURL <http://example.org/file.csv> ;
  spdx:checksum <http://data.test/dataset/d/distribution/1#checksum> .
<http://data.test/dataset/d/distribution/1#checksum> a spdx:Checksum ; spdx:algorithm {algorithm} ;
  spdx:checksumValue "d41d8cd98f00b204e9800998ecf8427e"^^<http://www.w3.org/2001/XMLSchema#hexBinary> .
<http://publications.europa.eu/resource/authority/language/ENG> a dct:LinguisticSystem, skos:Concept ;
  skos:prefLabel "English"@en ; skos:inScheme <http://publications.europa.eu/resource/authority/language> .
<http://id.loc.gov/vocabulary/iso639-1/en> a dct:LinguisticSystem .
spdx:checksumAlgorithm_md5 a spdx:ChecksumAlgorithm .
<http://data.test/theme/transport> a skos:Concept ; skos:prefLabel "Transport"@en ;
  skos:inScheme <http://data.test/themes> .
"""


ENGLISH = "<http://publications.europa.eu/resource/authority/language/ENG>"


def validate(language: str = ENGLISH, algorithm: str = "spdx:checksumAlgorithm_md5") -> list[tuple]:
    graph = rdflib.Graph().parse(data=PREFIXES + DATASET.format(language=language, algorithm=algorithm), format="ttl")
    report = validate_graph(graph, "dcat-ap", BASE)
    return [(f.severity, f.path.rsplit("/", 1)[-1].rsplit("#", 1)[-1]) for f in report.findings if f.path]


def test_the_mdr_vocabulary_shapes_are_loaded() -> None:
    shapes = shapes_graph("dcat-ap", BASE)
    cv = rdflib.URIRef("http://data.europa.eu/r5r#Dataset_ShapeCV")
    assert (cv, rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/shacl#NodeShape")) in shapes


def test_an_eu_language_and_an_spdx_algorithm_conform() -> None:
    assert [f for f in validate() if f[0] == "Violation"] == []


def test_a_language_outside_the_eu_list_is_a_violation() -> None:
    assert ("Violation", "language") in validate(language="<http://id.loc.gov/vocabulary/iso639-1/en>")


@pytest.mark.parametrize("algorithm", ["<https://example.org/md5>", "spdx:checksumAlgorithm_sha256"])
def test_a_checksum_algorithm_must_be_an_spdx_checksum_algorithm(algorithm: str) -> None:
    """Not SPDX's namespace, or not typed spdx:ChecksumAlgorithm: a violation."""
    assert ("Violation", "algorithm") in validate(algorithm=algorithm)


def test_a_london_theme_outside_the_eu_themes_is_a_warning_not_a_violation() -> None:
    """The mdr shapes make it a Warning; the nested detail that explains it is not counted as a Violation."""
    findings = validate()
    assert ("Warning", "theme") in findings
    assert ("Violation", "theme") not in findings
