"""The shipped vocabularies, shapes and JSON-LD context in ``ontology/``.

They must parse against any base (our own IRIs are relative), give loaders what they look up (themes,
boroughs, publishers), document every ``dfl:`` term the code writes, and the SHACL shapes must both
accept a good London dataset and catch the faults they are written for.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pyshacl
import pytest
import rdflib
import rdflib.collection
from pyoxigraph import Literal, NamedNode, RdfFormat, parse, serialize

from dfl_graph.namespaces import DCAT, DCT, EU_THEME, FOAF, OWL, RDF, RDFS, SKOS, XSD
from dfl_graph.records import Status
from dfl_graph.uris import Uris, slugify
from dfl_graph.vocabularies import VOCABULARY_FILES, Vocabularies, read_vocabulary
from loaders import file_formats, licences

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology"
SHAPES = ONTOLOGY / "shapes"
DFL_SHAPES = SHAPES / "dfl-shapes.ttl"
OFFICIAL_SHAPES = (SHAPES / "dcat-ap-3.0.1/dcat-ap-SHACL.ttl", SHAPES / "dcat-ap-3.0.1/ranges.ttl")
CSV_2010 = ROOT / "data/london-datastore-2010/london-datastore-2010-datasets.csv"

BASES = ("http://localhost:8000", "https://data.london.example")
URIS = Uris("https://data.london.example")
ALL_TTL = sorted(ONTOLOGY.rglob("*.ttl"))
OUR_TTL = [p for p in ALL_TTL if "dcat-ap-3.0.1" not in p.parts]

CATEGORIES_2010 = (
    "Housing",
    "Employment and Skills",
    "Art and Culture",
    "Transparency",
    "Health",
    "Championing London",
    "Crime and Community Safety",
    "Demographics",
    "Planning",
    "Transport",
    "Environment",
    "Sport",
    "Business and Economy",
)
EU_THEME_CODES = [
    "AGRI",
    "ECON",
    "EDUC",
    "ENER",
    "ENVI",
    "GOVE",
    "HEAL",
    "INTR",
    "JUST",
    "REGI",
    "SOCI",
    "TECH",
    "TRAN",
]
ONS = "http://statistics.data.gov.uk/id/statistical-geography/"
WIKIDATA = "http://www.wikidata.org/entity/"
_BNODE = re.compile(r"_:\w+")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
DCAT_NS = str(DCAT)


@pytest.fixture(scope="module")
def vocab() -> Vocabularies:
    return Vocabularies(URIS)


@pytest.fixture(scope="module")
def vocab_triples() -> list:
    return [q.triple for stem in VOCABULARY_FILES for q in read_vocabulary(URIS, stem)]


def objects(triples: list, subject: NamedNode, predicate: NamedNode) -> list:
    return [t.object for t in triples if t.subject == subject and t.predicate == predicate]


# -- parsing -----------------------------------------------------------------------------------------------


def test_every_vocabulary_file_is_shipped():
    for stem in VOCABULARY_FILES:
        assert (ONTOLOGY / f"{stem}.ttl").is_file(), stem
    assert DFL_SHAPES.is_file()
    assert all(p.is_file() for p in OFFICIAL_SHAPES)


@pytest.mark.parametrize("path", ALL_TTL, ids=lambda p: str(p.relative_to(ONTOLOGY)))
def test_turtle_parses_against_any_base(path: Path):
    text = path.read_text(encoding="utf-8")
    assert "localhost" not in text
    # relative IRIs are relative to "{base}/": a leading slash would escape a base with a path
    assert not re.search(r"<(/[^>]*)>", text), "root-relative IRI"
    parsed = {}
    for base in BASES:
        with path.open("rb") as handle:
            triples = list(parse(handle, RdfFormat.TURTLE, base_iri=base + "/"))
        assert triples, path
        parsed[base] = triples
    first, second = BASES

    # the same graph modulo the base (and blank-node labels): every IRI under one base is the same under the other
    def normal(triples, old=second):
        return Counter(_BNODE.sub("_:b", str(t).replace(old + "/", second + "/")) for t in triples)

    assert normal(parsed[first], first) == normal(parsed[second])


@pytest.mark.parametrize("path", OUR_TTL, ids=lambda p: str(p.relative_to(ONTOLOGY)))
def test_our_files_mint_only_known_iri_kinds(path: Path):
    """Every IRI under the base is one of the kinds Uris mints (or our shapes' own namespace)."""
    with path.open("rb") as handle:
        triples = list(parse(handle, RdfFormat.TURTLE, base_iri=URIS.base + "/"))
    terms = {term for t in triples for term in (t.subject, t.predicate, t.object) if isinstance(term, NamedNode)}
    ours = {term.value for term in terms if term.value.startswith(URIS.base + "/")}
    for iri in ours:
        if iri.startswith(f"{URIS.base}/def/dfl-shapes#") or iri == URIS.base + "/":
            continue
        if iri.split("#", 1)[0] in (URIS.scheme("themes"), URIS.scheme("boroughs"), URIS.scheme("publishers")):
            continue  # a scheme, or a node of its document (London's shape, <boroughs#london-geometry>)
        if iri in {f"{URIS.base}/sparql", f"{URIS.base}/api/3/action/"}:
            continue  # the endpoints the catalogue's data services name (catalog.ttl)
        assert URIS.parse(iri) is not None, iri


# -- themes ------------------------------------------------------------------------------------------------


def test_the_2010_categories_resolve(vocab: Vocabularies):
    for category in CATEGORIES_2010:
        assert category.lower() in vocab.theme_by_label, category
        assert vocab.theme_by_label[category.lower()] == slugify(category)
    assert vocab.theme_by_label["economy"] == "business-and-economy"


@pytest.mark.skipif(not CSV_2010.is_file(), reason="the 2010 listing is not in data/")
def test_every_category_of_the_2010_listing_resolves(vocab: Vocabularies):
    with CSV_2010.open(newline="", encoding="utf-8-sig") as handle:
        categories = {c.strip() for row in csv.DictReader(handle) for c in row["categories"].split("|") if c.strip()}
    assert categories == set(CATEGORIES_2010)
    assert all(c.lower() in vocab.theme_by_label for c in categories)


def test_todays_topics_are_themes(vocab: Vocabularies):
    for topic in ("Education", "Income, Poverty and Welfare", "Communities", "London 2012", "COVID-19", "Young People"):
        assert vocab.theme_by_label[topic.lower()] == slugify(topic)
    assert vocab.theme_by_label["coronavirus"] == "covid-19"


def test_theme_labels_are_unambiguous(vocab_triples):
    themes = {t.subject for t in vocab_triples if t.subject.value.startswith(URIS.theme(""))}
    seen: dict[str, NamedNode] = {}
    for t in vocab_triples:
        if t.subject in themes and t.predicate in (SKOS.prefLabel, SKOS.altLabel):
            key = t.object.value.lower()
            assert seen.setdefault(key, t.subject) == t.subject, f"{t.object.value!r} labels two themes"


def test_every_theme_is_a_complete_concept(vocab: Vocabularies, vocab_triples):
    scheme = NamedNode(URIS.scheme("themes"))
    assert SKOS.ConceptScheme in objects(vocab_triples, scheme, RDF.type)
    assert objects(vocab_triples, scheme, DCT.title)
    for theme_id, iri in vocab.themes.items():
        assert theme_id == slugify(theme_id)
        pref = objects(vocab_triples, iri, SKOS.prefLabel)
        assert len(pref) == 1 and pref[0].language == "en", theme_id
        assert slugify(pref[0].value) == theme_id
        definition = objects(vocab_triples, iri, SKOS.definition)
        assert len(definition) == 1 and definition[0].language == "en", theme_id
        assert objects(vocab_triples, iri, SKOS.inScheme) == [scheme]
        assert objects(vocab_triples, iri, SKOS.topConceptOf) == [scheme]
        assert objects(vocab_triples, iri, SKOS.notation) == [Literal(theme_id)]
        assert iri in objects(vocab_triples, scheme, SKOS.hasTopConcept)


UNCLASSIFIED = "unclassified"  # for records whose source gives no topic


def test_every_theme_maps_to_an_eu_theme(vocab: Vocabularies):
    eu = {EU_THEME[code] for code in EU_THEME_CODES}
    assert len(vocab.themes) >= 13
    for theme_id, matches in vocab.theme_eu_match.items():
        if theme_id == UNCLASSIFIED:
            assert matches == [], "'not yet classified' must not claim a subject"
            continue
        assert matches, f"{theme_id} maps to no EU data theme"
        assert set(matches) <= eu, theme_id


def test_all_eu_data_themes_are_described(vocab: Vocabularies, vocab_triples):
    scheme = NamedNode("http://publications.europa.eu/resource/authority/data-theme")
    for code in EU_THEME_CODES:
        concept = EU_THEME[code]
        assert SKOS.Concept in objects(vocab_triples, concept, RDF.type)
        assert objects(vocab_triples, concept, SKOS.inScheme) == [scheme]
        assert vocab.labels[concept.value]


# -- boroughs and publishers -------------------------------------------------------------------------------


def test_33_boroughs_with_identity_links(vocab: Vocabularies, vocab_triples):
    assert sorted(vocab.boroughs) == [f"E09{n:06d}" for n in range(1, 34)]
    scheme = NamedNode(URIS.scheme("boroughs"))
    for gss, iri in vocab.boroughs.items():
        assert iri.value == URIS.borough(gss)
        assert {SKOS.Concept, DCT.Location} <= set(objects(vocab_triples, iri, RDF.type))
        assert objects(vocab_triples, iri, SKOS.inScheme) == [scheme]
        assert [n.value for n in objects(vocab_triples, iri, SKOS.notation)] == [gss]
        same = {n.value for n in objects(vocab_triples, iri, OWL.sameAs)}
        items = {s for s in same if s.startswith(WIKIDATA)}
        area = f"http://opendatacommunities.org/id/geography/administration/lonb/{gss}"
        assert same - items == {ONS + gss, area}, gss
        assert len(items) == 1 and re.fullmatch(r"Q[0-9]+", items.pop().removeprefix(WIKIDATA)), gss
        # the place's item, never its council's (the council is the publisher, another resource)
        council = vocab.publishers[slugify(vocab.labels[iri.value])]
        assert not same & {n.value for n in objects(vocab_triples, council, OWL.sameAs)}, gss
        assert objects(vocab_triples, iri, RDFS.seeAlso), gss


def test_borough_names(vocab: Vocabularies):
    names = vocab.borough_by_name
    assert names["camden"] == "E09000007"
    assert names["city of london"] == "E09000001"
    assert names["barking and dagenham"] == "E09000002"
    assert names["hammersmith & fulham"] == names["hammersmith and fulham"] == "E09000013"
    assert names["london borough of camden"] == "E09000007"
    assert names["westminster"] == "E09000033"
    assert vocab.labels[URIS.borough("E09000020")] == "Kensington and Chelsea"


def test_publishers(vocab: Vocabularies, vocab_triples):
    pubs = vocab.publishers
    for pub_id in ("gla", "tfl", "met-police", "lfb", "london-councils", "ons"):
        assert pub_id in pubs, pub_id
    assert vocab.publisher_by_name["mayor of london"] == "gla"
    assert vocab.publisher_by_name["gla"] == "gla"
    assert vocab.publisher_by_name["transport for london"] == "tfl"
    assert vocab.publisher_by_name["metropolitan police service"] == "met-police"
    for pub_id, iri in pubs.items():
        assert FOAF.Agent in objects(vocab_triples, iri, RDF.type), pub_id
        names = objects(vocab_triples, iri, FOAF.name)
        assert len(names) == 1 and names[0].language == "en", pub_id
        kinds = objects(vocab_triples, iri, DCT.type)
        assert len(kinds) == 1 and kinds[0].value.startswith("http://purl.org/adms/publishertype/"), pub_id
        assert SKOS.Concept in objects(vocab_triples, kinds[0], RDF.type), "publisher type not described"


def test_every_council_is_a_publisher_of_its_borough(vocab: Vocabularies, vocab_triples):
    councils = {}
    for pub_id, iri in vocab.publishers.items():
        for place in objects(vocab_triples, iri, DCT.spatial):
            if place.value.startswith(URIS.borough("")):
                councils[place.value.rsplit("/", 1)[1]] = pub_id
    assert sorted(councils) == sorted(vocab.boroughs)
    for gss, pub_id in councils.items():
        place = vocab.labels[URIS.borough(gss)]
        assert pub_id == slugify(place)
        assert vocab.publisher_by_name[place.lower()] == pub_id
        iri = vocab.publishers[pub_id]
        same = {n.value for n in objects(vocab_triples, iri, OWL.sameAs)}
        assert any(s.startswith("http://www.wikidata.org/entity/Q") for s in same), pub_id
    assert councils["E09000001"] == "city-of-london"
    assert councils["E09000020"] == "kensington-and-chelsea"
    assert vocab.publisher_by_name["london borough of camden"] == "camden"


# -- the catalogue and the EU vocabularies ---------------------------------------------------------------


def test_catalog(vocab_triples, vocab: Vocabularies):
    catalog = NamedNode(URIS.catalog())
    assert objects(vocab_triples, catalog, DCT.title) == [Literal("Data for London", language="en")]
    assert objects(vocab_triples, catalog, DCT.publisher) == [NamedNode(URIS.publisher("gla"))]
    assert objects(vocab_triples, catalog, FOAF.homepage) == [NamedNode(URIS.base + "/")]
    assert NamedNode(URIS.scheme("themes")) in objects(vocab_triples, catalog, DCAT.themeTaxonomy)
    licence = objects(vocab_triples, catalog, DCT.license)
    assert licence == [NamedNode("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")]
    assert DCT.LicenseDocument in objects(vocab_triples, licence[0], RDF.type)


def test_the_catalogue_describes_its_endpoints_as_data_services(vocab_triples):
    catalog = NamedNode(URIS.catalog())
    services = objects(vocab_triples, catalog, DCAT.service)
    endpoints = set()
    for service in services:
        assert DCAT.DataService in objects(vocab_triples, service, RDF.type)
        assert objects(vocab_triples, service, DCT.title) and objects(vocab_triples, service, DCAT.endpointDescription)
        endpoints |= {e.value for e in objects(vocab_triples, service, DCAT.endpointURL)}
    assert endpoints == {f"{URIS.base}/sparql", f"{URIS.base}/api/3/action/", URIS.catalog()}


@pytest.mark.parametrize(
    ("namespace", "codes", "rdf_class"),
    [
        ("access-right", ("PUBLIC", "RESTRICTED", "NON_PUBLIC"), DCT.RightsStatement),
        ("frequency", ("ANNUAL", "MONTHLY", "QUARTERLY", "DAILY", "IRREG", "UNKNOWN"), DCT.Frequency),
        ("file-type", ("CSV", "XLS", "XLSX", "JSON", "GEOJSON", "PDF", "ZIP", "SHP", "KML"), DCT.MediaTypeOrExtent),
        ("language", ("ENG",), DCT.LinguisticSystem),
        ("licence", ("OGL_3_0", "CC_BY_4_0", "CC0", "ODC_BL"), DCT.LicenseDocument),
        ("dataset-status", ("DEPRECATED",), SKOS.Concept),
    ],
)
def test_eu_concepts_are_typed_for_dcat_ap(vocab_triples, vocab: Vocabularies, namespace, codes, rdf_class):
    scheme = NamedNode(f"http://publications.europa.eu/resource/authority/{namespace}")
    assert objects(vocab_triples, scheme, DCT.title)
    for code in codes:
        concept = NamedNode(f"{scheme.value}/{code}")
        assert rdf_class in objects(vocab_triples, concept, RDF.type), concept
        assert objects(vocab_triples, concept, SKOS.inScheme) == [scheme]
        assert [x.language for x in objects(vocab_triples, concept, SKOS.prefLabel)] == ["en"], concept


def test_iana_media_types(vocab_triples, vocab: Vocabularies):
    for media_type in ("text/csv", "application/json", "application/vnd.ms-excel", "application/geo+json"):
        iri = NamedNode("http://www.iana.org/assignments/media-types/" + media_type)
        assert DCT.MediaType in objects(vocab_triples, iri, RDF.type)
        assert vocab.labels[iri.value] == media_type


def test_every_format_the_loaders_map_to_is_described(vocab: Vocabularies, vocab_triples):
    """dct:format and dcat:mediaType values the loaders emit carry the class DCAT-AP's ranges ask for."""
    typed = {t.subject.value for t in vocab_triples if t.predicate == RDF.type}
    for code in file_formats.EU_FILE_TYPES:
        assert f"http://publications.europa.eu/resource/authority/file-type/{code}" in typed, code
    common = ("csv", "tsv", "xls", "xlsx", "ods", "json", "geojson", "xml", "html", "pdf", "zip", "gz", "kml")
    common += ("kmz", "gml", "gpkg", "shp", "rdf", "ttl", "nt", "docx", "txt", "png")
    for name in common:
        found = file_formats.format_from_name(name)
        assert found is not None, name
        media, code = found
        assert f"http://publications.europa.eu/resource/authority/file-type/{code}" in typed, name
        if media is not None:
            iri = "http://www.iana.org/assignments/media-types/" + media
            assert DCT.MediaType in objects(vocab_triples, NamedNode(iri), RDF.type), media


def test_every_licence_the_loaders_map_to_is_described():
    """Every EU licence IRI the loaders can mint has an English skos:prefLabel and dct:title (and the
    dct:LicenseDocument type) in the shipped eu-vocabularies.ttl, so no dataset shows a bare licence IRI."""
    assert {"OGL_3_0", "OGL_2_0", "OGL_NC", "CC_BYSA_4_0"} <= licences.LICENCE_CODES
    with (ONTOLOGY / "eu-vocabularies.ttl").open("rb") as handle:
        triples = list(parse(handle, RdfFormat.TURTLE, base_iri=URIS.base + "/"))
    for code in sorted(licences.LICENCE_CODES):
        concept = NamedNode(licences.EU_LICENCE + code)
        assert licences.licence_iri(code) == concept.value, code
        assert DCT.LicenseDocument in objects(triples, concept, RDF.type), code
        for predicate in (SKOS.prefLabel, DCT.title):
            labels = objects(triples, concept, predicate)
            assert [label.language for label in labels] == ["en"], (code, predicate)
            assert labels[0].value.strip(), (code, predicate)


# -- the dfl: vocabulary -----------------------------------------------------------------------------------

_DFL_USE = re.compile(
    r"(?:self\.dfl|\.vocab)\.([A-Za-z_]\w*)|(?:self\.dfl|\.vocab)\[[\"'](\w+)[\"']\]|\bdfl:([A-Za-z_]\w*)"
)


NAMESPACE_ATTRIBUTES = {"iri"}  # dfl_graph.namespaces.Namespace's own attribute, not a term


def used_dfl_terms() -> set[str]:
    """The dfl: terms the code writes or queries (the writer's lifecycle values come from Status)."""
    sources = [*(ROOT / "dfl_graph").rglob("*.py"), *(ROOT / "loaders").rglob("*.py"), *ROOT.glob("*.py")]
    sources += list((ROOT / "queries").glob("*.rq"))
    used = set()
    for path in sources:
        for match in _DFL_USE.finditer(path.read_text(encoding="utf-8")):
            term = next(g for g in match.groups() if g)
            if term not in NAMESPACE_ATTRIBUTES:
                used.add(term)
    dcat_py = (ROOT / "dfl_graph/dcat.py").read_text(encoding="utf-8")
    if "self.dfl[record.status.value.capitalize()]" in dcat_py:
        used |= {s.value.capitalize() for s in Status}
    return used


def test_every_dfl_term_the_code_uses_is_documented():
    used = used_dfl_terms()
    assert {"holdsPersonalData", "lifecycle", "visibility", "Public", "Restricted", "sourceName", "generation"} <= used
    assert {"Archived", "Superseded"} <= used
    with (ONTOLOGY / "dfl.ttl").open("rb") as handle:
        triples = list(parse(handle, RdfFormat.TURTLE, base_iri=URIS.base + "/"))
    with (ONTOLOGY / "access.ttl").open("rb") as handle:  # the access and audit terms (docs/access.md)
        documented = triples + list(parse(handle, RdfFormat.TURTLE, base_iri=URIS.base + "/"))
    for term in sorted(used):
        iri = URIS.vocab[term]
        labels = [t.object for t in documented if t.subject == iri and t.predicate == RDFS.label]
        comments = [t.object for t in documented if t.subject == iri and t.predicate == RDFS.comment]
        assert [x.language for x in labels] == ["en"], f"dfl:{term} has no English rdfs:label"
        assert [x.language for x in comments] == ["en"], f"dfl:{term} has no English rdfs:comment"
        assert any(t.subject == iri and t.predicate == RDF.type for t in documented), f"dfl:{term} is untyped"
    defined = {t.subject.value[len(str(URIS.vocab)) :] for t in triples if t.subject.value.startswith(str(URIS.vocab))}
    unused = defined - used - {"LifecycleScheme", "VisibilityScheme"}
    assert not unused, f"dfl.ttl defines terms nothing uses: {sorted(unused)}"


def test_dfl_ontology_header():
    with (ONTOLOGY / "dfl.ttl").open("rb") as handle:
        triples = list(parse(handle, RdfFormat.TURTLE, base_iri=URIS.base + "/"))
    ontology = NamedNode(URIS.base + "/def/dfl")
    assert any(t.subject == ontology and t.predicate == RDF.type and t.object == OWL.Ontology for t in triples)
    ranges = {t.subject.value.rsplit("#", 1)[1]: t.object for t in triples if t.predicate == RDFS.range}
    assert ranges["holdsPersonalData"] == XSD.boolean
    assert ranges["generation"] == XSD.integer


# -- JSON-LD context ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def context() -> dict:
    return json.loads((ONTOLOGY / "context.jsonld").read_text(encoding="utf-8"))["@context"]


def test_context_is_base_independent(context: dict):
    text = (ONTOLOGY / "context.jsonld").read_text(encoding="utf-8")
    assert "localhost" not in text
    assert "dfl" not in context and "@base" not in context
    assert context["@version"] == 1.1
    for prefix in (
        "dcat",
        "dct",
        "foaf",
        "vcard",
        "adms",
        "skos",
        "spdx",
        "dpv",
        "hydra",
        "void",
        "xsd",
        "owl",
        "schema",
    ):
        assert context[prefix].startswith("http"), prefix
    for key in [
        "title",
        "description",
        "keyword",
        "theme",
        "publisher",
        "distribution",
        "accessURL",
        "downloadURL",
        "mediaType",
        "format",
        "byteSize",
        "issued",
        "modified",
        "license",
        "accessRights",
        "spatial",
        "temporal",
        "landingPage",
        "contactPoint",
    ]:
        assert key in context, key


def test_context_expands_a_compacted_document(context: dict):
    """What the server will send: our context plus the serve-time "@base" and "dfl"."""
    base = "https://data.london.example/"
    serve_time = {
        "@base": base,
        "dfl": base + "def/dfl#",
        "holdsPersonalData": {"@id": "dfl:holdsPersonalData", "@type": "xsd:boolean"},
    }
    doc = {
        "@context": [context, serve_time],
        "id": "dataset/abandoned-vehicles",
        "type": "Dataset",
        "title": "Abandoned Vehicles",
        "description": "Number of abandoned vehicles.",
        "keyword": ["cars", "waste"],
        "theme": ["theme/environment", "http://publications.europa.eu/resource/authority/data-theme/ENVI"],
        "publisher": "publisher/camden",
        "accessRights": "http://publications.europa.eu/resource/authority/access-right/PUBLIC",
        "issued": {"@value": "2010-02", "@type": "xsd:gYearMonth"},
        "spatial": ["borough/E09000007"],
        "holdsPersonalData": "false",
        "distribution": [
            {
                "id": "dataset/abandoned-vehicles/distribution/csv",
                "type": "Distribution",
                "downloadURL": "https://example.org/abandoned.csv",
                "mediaType": "http://www.iana.org/assignments/media-types/text/csv",
                "format": "http://publications.europa.eu/resource/authority/file-type/CSV",
                "byteSize": "1234",
            }
        ],
    }
    graph = rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")
    got = {tuple(t) for t in graph}
    d = rdflib.URIRef(base + "dataset/abandoned-vehicles")
    x = rdflib.URIRef(base + "dataset/abandoned-vehicles/distribution/csv")
    R = rdflib.URIRef
    expected = {
        (d, rdflib.RDF.type, R(DCAT_NS + "Dataset")),
        # texts are plain strings unless tagged: the context invents no language
        (d, R(DCT.title.value), rdflib.Literal("Abandoned Vehicles")),
        (d, R(DCT.description.value), rdflib.Literal("Number of abandoned vehicles.")),
        (d, R(DCAT_NS + "keyword"), rdflib.Literal("cars")),
        (d, R(DCAT_NS + "keyword"), rdflib.Literal("waste")),
        (d, R(DCAT_NS + "theme"), R(base + "theme/environment")),
        (d, R(DCAT_NS + "theme"), R("http://publications.europa.eu/resource/authority/data-theme/ENVI")),
        (d, R(DCT.publisher.value), R(base + "publisher/camden")),
        (d, R(DCT.accessRights.value), R("http://publications.europa.eu/resource/authority/access-right/PUBLIC")),
        (d, R(DCT.issued.value), rdflib.Literal("2010-02", datatype=rdflib.XSD.gYearMonth)),
        (d, R(DCT.spatial.value), R(base + "borough/E09000007")),
        (d, R(base + "def/dfl#holdsPersonalData"), rdflib.Literal("false", datatype=rdflib.XSD.boolean)),
        (d, R(DCAT_NS + "distribution"), x),
        (x, rdflib.RDF.type, R(DCAT_NS + "Distribution")),
        (x, R(DCAT_NS + "downloadURL"), R("https://example.org/abandoned.csv")),
        (x, R(DCAT_NS + "mediaType"), R("http://www.iana.org/assignments/media-types/text/csv")),
        (x, R(DCT["format"].value), R("http://publications.europa.eu/resource/authority/file-type/CSV")),
        (x, R(DCAT_NS + "byteSize"), rdflib.Literal("1234", datatype=rdflib.XSD.nonNegativeInteger)),
    }
    assert got == expected


def test_context_terms_expand_to_absolute_iris(context: dict):
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("#", "/"))}
    for key, value in context.items():
        if key.startswith("@") or key in prefixes:
            continue
        iri = value if isinstance(value, str) else value["@id"]
        if iri.startswith("@"):
            continue
        prefix, _, local = iri.partition(":")
        assert prefix in prefixes and local, f"{key}: {iri} does not expand"


# -- SHACL -------------------------------------------------------------------------------------------------


def rdflib_graph(triples) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=serialize(list(triples), format=RdfFormat.N_TRIPLES) or b"", format="nt")
    return graph


def vocabulary_graph() -> rdflib.Graph:
    return rdflib_graph(q.triple for stem in VOCABULARY_FILES for q in read_vocabulary(URIS, stem))


def shapes_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(DFL_SHAPES, format="turtle", publicID=URIS.base + "/")


def official_shapes_graph() -> rdflib.Graph:
    """DCAT-AP 3.0.1 as published, minus its dangling sh:property references (SEMICeu/DCAT-AP#448)."""
    graph = rdflib.Graph()
    for path in OFFICIAL_SHAPES:
        graph.parse(path, format="turtle")
    for s, p, o in list(graph.triples((None, SH.property, None))):
        if (o, SH.path, None) not in graph:
            graph.remove((s, p, o))
    return graph


def data_graph(turtle: str) -> rdflib.Graph:
    """A hand-written dataset (relative IRIs, like the ontology files) plus the shipped vocabularies."""
    with_vocabularies = vocabulary_graph()
    prefixes = "\n".join(f"@prefix {k}: <{v}> ." for k, v in URIS.prefixes().items())
    triples = parse((prefixes + "\n" + turtle).encode(), RdfFormat.TURTLE, base_iri=URIS.base + "/")
    with_vocabularies += rdflib_graph(triples)
    return with_vocabularies


def shacl_results(data: rdflib.Graph, shapes: rdflib.Graph) -> list[tuple[str, str, str]]:
    """(severity, focus node, source shape) of every validation result, relative to the base."""
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
    results = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[1]
        focus = str(report.value(result, SH.focusNode)).replace(URIS.base + "/", "")
        shape = str(report.value(result, SH.sourceShape)).rsplit("#", 1)[-1]
        message = report.value(result, SH.resultMessage)
        assert message, f"result without sh:message: {shape}"
        results.append((severity, focus, shape))
    assert conforms == (not any(r[0] == "Violation" for r in results))
    return sorted(results)


GOOD = """
<dataset/abandoned-vehicles> a dcat:Dataset ;
    dct:title "Abandoned Vehicles"@en ;
    dct:description "Number of abandoned vehicles."@en ;
    dcat:keyword "environment"@en ;
    dct:identifier "abandoned-vehicles" ;
    dcat:theme <theme/environment>, <http://publications.europa.eu/resource/authority/data-theme/ENVI> ;
    dct:publisher <publisher/camden> ;
    dct:license <http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/> ;
    dct:accessRights <http://publications.europa.eu/resource/authority/access-right/PUBLIC> ;
    dct:issued "2010-02"^^xsd:gYearMonth ;
    dct:modified "2011-03-04T10:00:00Z"^^xsd:dateTime ;
    dct:spatial <borough/E09000007>, <http://statistics.data.gov.uk/id/statistical-geography/E12000007> ;
    dct:temporal <dataset/abandoned-vehicles#temporal> ;
    dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/ANNUAL> ;
    dcat:landingPage <http://data.london.gov.uk/datastore/package/abandoned-vehicles> ;
    dfl:holdsPersonalData false ;
    adms:status <http://publications.europa.eu/resource/authority/dataset-status/DEPRECATED> ;
    dfl:lifecycle dfl:Archived ;
    dcat:distribution <dataset/abandoned-vehicles/distribution/csv> .
<http://data.london.gov.uk/datastore/package/abandoned-vehicles> a foaf:Document .
<dataset/abandoned-vehicles#temporal> a dct:PeriodOfTime ;
    dcat:startDate "2009"^^xsd:gYear ;
    dcat:endDate "2010-03-31"^^xsd:date .
<catalog> dcat:dataset <dataset/abandoned-vehicles> .
<dataset/abandoned-vehicles/distribution/csv> a dcat:Distribution ;
    dct:title "Abandoned vehicles, CSV"@en ;
    dcat:accessURL <https://example.org/abandoned.csv> ;
    dcat:downloadURL <https://example.org/abandoned.csv> ;
    dcat:mediaType <http://www.iana.org/assignments/media-types/text/csv> ;
    dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ;
    dcat:byteSize "1234"^^xsd:nonNegativeInteger ;
    dct:issued "2010-02-01"^^xsd:date ;
    dct:license <http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/> ;
    spdx:checksum <dataset/abandoned-vehicles/distribution/csv#checksum> .
<dataset/abandoned-vehicles/distribution/csv#checksum> a spdx:Checksum ;
    spdx:algorithm spdx:checksumAlgorithm_md5 ;
    spdx:checksumValue "2398a191402fb1adaf4816b735e55fd6"^^xsd:hexBinary .
"""

BAD = """
# two access rights (one RESTRICTED, without a reason); an empty title; an issued date as a plain string
<dataset/a> a dcat:Dataset ;
    dct:title ""@en ;
    dct:accessRights <http://publications.europa.eu/resource/authority/access-right/PUBLIC>,
                     <http://publications.europa.eu/resource/authority/access-right/RESTRICTED> ;
    dcat:theme <theme/health> ;
    dct:issued "2010-02-01" ;
    dct:publisher <publisher/gla> ; dct:license <http://publications.europa.eu/resource/authority/licence/CC0> ;
    dcat:distribution <dataset/a/distribution/1>, <dataset/a/distribution/2> .
<dataset/a/distribution/1> a dcat:Distribution ;
    dcat:byteSize "12.5"^^xsd:decimal ;
    dct:modified "yesterday"@en .
<dataset/a/distribution/2> a dcat:Distribution ;
    dct:description "" ;
    dcat:byteSize "-3"^^xsd:integer .

# access right not from the EU list; only an EU theme (no London theme); an unknown borough
<dataset/b> a dcat:Dataset ;
    dct:title "B"@en ;
    dct:accessRights <http://example.org/open> ;
    dcat:theme <http://publications.europa.eu/resource/authority/data-theme/HEAL> ;
    dct:spatial <borough/E09000099>, <borough/E09000033>, <http://sws.geonames.org/2643743/> ;
    dct:publisher <publisher/gla> ; dct:license <http://publications.europa.eu/resource/authority/licence/CC0> ;
    dcat:distribution <dataset/b/distribution/1> ;
    dct:temporal <dataset/b#temporal> .
<dataset/b/distribution/1> a dcat:Distribution .
<dataset/b#temporal> a dct:PeriodOfTime ;
    dcat:startDate "Feb 2010" ;
    dcat:endDate "2011"^^xsd:gYear .

# no access rights (a violation); no publisher, licence or distribution (three warnings)
<dataset/c> a dcat:Dataset ;
    dct:title "C"@en ;
    dcat:theme <theme/transport> ;
    dct:modified "2012-05-01T09:30:00"^^xsd:dateTime .

# restricted without a reason; personal data without a legal basis, of a category and basis outside the lists
<dataset/d> a dcat:Dataset ;
    dct:title "D"@en ;
    dcat:theme <theme/transport> ;
    dct:accessRights <http://publications.europa.eu/resource/authority/access-right/RESTRICTED> ;
    dct:publisher <publisher/gla> ;
    dct:license <http://publications.europa.eu/resource/authority/licence/OGL_3_0> ;
    dcat:distribution <dataset/d/distribution/1> ;
    <def/dfl#holdsPersonalData> true ;
    <https://w3id.org/dpv#hasPersonalData> <https://w3id.org/dpv/pd#Shoe> ;
    <def/dfl#accessReason> <def/dfl#Whim> .
<dataset/d/distribution/1> a dcat:Distribution .
"""


def test_shapes_are_well_formed_shacl():
    conforms, _, text = pyshacl.validate(shapes_graph(), shacl_graph=shapes_graph(), meta_shacl=True)
    assert conforms, text


def test_a_good_london_dataset_conforms():
    assert shacl_results(data_graph(GOOD), shapes_graph()) == []


def test_the_shipped_vocabularies_alone_conform():
    assert shacl_results(vocabulary_graph(), shapes_graph()) == []


def test_a_bad_dataset_gets_exactly_the_expected_results():
    results = shacl_results(data_graph(BAD), shapes_graph())
    assert results == sorted(
        [
            ("Violation", "dataset/a", "DatasetTitle"),
            ("Violation", "dataset/a", "DatasetAccessRights"),
            ("Violation", "dataset/a", "DatasetIssued"),
            ("Violation", "dataset/a/distribution/1", "DistributionByteSize"),
            ("Violation", "dataset/a/distribution/1", "DistributionModified"),
            ("Violation", "dataset/a/distribution/2", "DistributionByteSize"),
            ("Violation", "dataset/a/distribution/2", "DistributionDescription"),
            ("Violation", "dataset/b", "DatasetAccessRights"),
            ("Violation", "dataset/b", "DatasetLondonTheme"),
            ("Violation", "dataset/b", "DatasetBorough"),
            ("Violation", "dataset/b#temporal", "PeriodStart"),
            ("Violation", "dataset/c", "DatasetAccessRights"),
            ("Violation", "dataset/a", "DatasetAccessReasonRequired"),
            ("Violation", "dataset/d", "DatasetAccessReasonInScheme"),
            ("Violation", "dataset/d", "DatasetLegalBasisRequired"),
            ("Violation", "dataset/d", "DatasetPersonalDataCategory"),
            ("Warning", "dataset/c", "DatasetPublisher"),
            ("Warning", "dataset/c", "DatasetLicense"),
            ("Warning", "dataset/c", "DatasetDistribution"),
        ]
    )
    counts = Counter(severity for severity, _, _ in results)
    assert counts == {"Violation": 16, "Warning": 3}


def test_warnings_alone_do_not_make_a_dataset_non_conforming():
    minimal = """
    <dataset/minimal> a dcat:Dataset ;
        dct:title "Minimal"@en ;
        dcat:theme <theme/housing> ;
        dct:accessRights <http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC> ;
        <def/dfl#accessReason> <def/dfl#ProvidedInConfidence> .
    """
    conforms, _, _ = pyshacl.validate(data_graph(minimal), shacl_graph=shapes_graph(), allow_warnings=True)
    assert conforms
    assert [r[0] for r in shacl_results(data_graph(minimal), shapes_graph())] == ["Warning"] * 3


def test_the_good_dataset_and_the_vocabularies_conform_to_dcat_ap_3():
    """The vocabularies carry the class typing DCAT-AP 3.0.1's range shapes ask of their values."""
    conforms, _, text = pyshacl.validate(data_graph(GOOD), shacl_graph=official_shapes_graph())
    assert conforms, text


def test_dcat_ap_3_range_shapes_can_fail():
    """Without the EU vocabularies, the access right and format are not typed: DCAT-AP 3.0.1 objects."""
    prefixes = "\n".join(f"@prefix {k}: <{v}> ." for k, v in URIS.prefixes().items())
    triples = parse((prefixes + GOOD).encode(), RdfFormat.TURTLE, base_iri=URIS.base + "/")
    conforms, _, _ = pyshacl.validate(rdflib_graph(triples), shacl_graph=official_shapes_graph())
    assert not conforms


@pytest.mark.parametrize(
    "collection, shape",
    [("PersonalDataCategories", "DatasetPersonalDataCategory"), ("LegalBases", "DatasetLegalBasisInCollection")],
)
def test_the_shapes_offer_exactly_the_collections_of_access_ttl(vocab: Vocabularies, collection: str, shape: str):
    shapes = shapes_graph()
    listed = shapes.value(rdflib.URIRef(f"{URIS.base}/def/dfl-shapes#{shape}"), SH["in"])
    members = {str(v) for v in rdflib.collection.Collection(shapes, listed)}
    collections = {"PersonalDataCategories": vocab.personal_data_categories, "LegalBases": vocab.legal_bases}
    assert members - {"https://w3id.org/dpv#PersonalData"} == set(collections[collection])
