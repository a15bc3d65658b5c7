"""What goes in comes out: real third-party DCAT files loaded into a real on-disk store, checked statement by
statement against what is published.

RDF sources: every statement of the whole source graph is accounted for. A statement of a published record's
description (the dataset or data service, its distributions, the blank nodes under them, the resources they link to
through ``DESCRIBED`` links) is, in the published source graph, there as given (records and distributions under our
IRIs, found through ``prov:wasDerivedFrom``; blank nodes under hash IRIs of the record; links to the file's data
services and a service's links to the file's records on the IRIs we mint), or replaced by a normalised value of the
same property (the properties docs/loaders.md lists), or reported as a problem naming the record, the field and the
value. A statement of a rejected record's description goes with it (the rejection is reported). A statement about
a resource no record's description reaches (the source's catalogue, its catalogue records, an ontology header ...)
is counted in the problem the loader reports for the resource's type. JSON sources: every field of every item is
mapped, one of CKAN's documented bookkeeping fields, or reported.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Store, parse, serialize

from dfl_graph.indexes.registry import BUILDERS
from dfl_graph.ingest import ensure_vocabularies, load_file
from dfl_graph.namespaces import DCAT, DCT, FOAF, OWL, PROV, RDF
from dfl_graph.search.index import SearchRequest, search_index
from dfl_graph.store import CatalogueReader, CatalogueStore
from dfl_graph.uris import Uris
from dfl_graph.validation import validate_store
from dfl_graph.vocabularies import Vocabularies
from loaders.ckan import BOOKKEEPING, MAPPED_FIELDS
from loaders.dcat_rdf import DATASET_CLASSES, SERVICE_CLASSES
from loaders.language_codes import ISO_639_IRI, language_iri
from loaders.source_statements import DESCRIBED, REPLACED_ON_DATASET, REPLACED_ON_DISTRIBUTION, curie

DATA = Path(__file__).parent / "data"
W3C = DATA / "w3c-dcat3-examples" / "examples"
RDF_SOURCES = {
    "geodcat-eea": DATA / "geodcat-ap-eea" / "dataset.ttl",  # GML and WKT geometry, services, vCard address
    "w3c-spatial": W3C / "spatial-properties.ttl",  # WKT geometry, centroid, bbox; titles in English and Dutch
    "w3c-basic": W3C / "vocab-dcat-3" / "basic-example.ttl",
    "w3c-csiro": W3C / "csiro-stratchart.ttl",
    "w3c-ga-courts": W3C / "ga-courts.ttl",  # distributions with only a dct:format; a contact point by its IRI
    "dcat-ap-hvd": DATA / "dcat-ap-hvd" / "example-ms_dataset_data_service.ttl",  # a service serving two datasets
    "uk-gss": DATA / "uk-gss-catalogue" / "fixture-data.ttl",  # pmdcat:Dataset, unnamed publishers
}
# the same real statements in the other syntaxes the DCAT loader reads (RDF/XML, as EU portals export them;
# JSON-LD, as DCAT-US and ArcGIS hubs do), written by the fixture from the Turtle files: source -> (Turtle
# source, file name, format)
OTHER_SYNTAXES = {
    "geodcat-eea-rdfxml": ("geodcat-eea", "dataset.rdf", RdfFormat.RDF_XML),
    "uk-gss-rdfxml": ("uk-gss", "fixture-data.rdf", RdfFormat.RDF_XML),
    "w3c-spatial-jsonld": ("w3c-spatial", "spatial-properties.jsonld", RdfFormat.JSON_LD),
    "w3c-csiro-jsonld": ("w3c-csiro", "csiro-stratchart.jsonld", RdfFormat.JSON_LD),
    "w3c-ga-courts-jsonld": ("w3c-ga-courts", "ga-courts.jsonld", RdfFormat.JSON_LD),
    "dcat-ap-hvd-rdfxml": ("dcat-ap-hvd", "example-ms_dataset_data_service.rdf", RdfFormat.RDF_XML),
}
SOURCE_BASE = "http://source.test/"
URIS = Uris("http://data.test")
DATES = {"http://purl.org/dc/terms/issued", "http://purl.org/dc/terms/modified"}
LANGUAGE = "http://purl.org/dc/terms/language"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every source loaded through `load_file` into one on-disk store: its reports, and the published graphs."""
    data_dir = tmp_path_factory.mktemp("faithful")
    reports = {}
    files = {source: (path, RdfFormat.TURTLE) for source, path in RDF_SOURCES.items()}
    for source, (turtle, name, rdf_format) in OTHER_SYNTAXES.items():
        path = tmp_path_factory.mktemp(source) / name
        triples = parse(path=str(RDF_SOURCES[turtle]), format=RdfFormat.TURTLE, base_iri=SOURCE_BASE)
        serialize(triples, str(path), rdf_format)
        files[source] = (path, rdf_format)
    builders = [b for b in BUILDERS if not b.name.startswith("sparql")]  # the indexes pages and search read
    with CatalogueStore(data_dir, URIS, builders) as store:
        ensure_vocabularies(store)
        vocabularies = Vocabularies(URIS)
        for source, (path, _) in files.items():
            reports[source] = load_file(store, vocabularies, "dcat", path, source)
        reports["birmingham"] = load_file(
            store, vocabularies, "ckan", DATA / "ckan-birmingham" / "package_search.json", "birmingham"
        )
    snapshot = CatalogueReader(data_dir).snapshot()
    return {"dir": data_dir, "reports": reports, "snapshot": snapshot, "files": files}


def published(snapshot, source: str) -> set[tuple]:
    """The statements the load wrote for a source: its public graph and (records the source does not make
    public) its restricted and non-public graphs."""
    graphs = [NamedNode(g) for g in snapshot.manifest.graphs if URIS.record_graph_access(source, g) is not None]
    return {
        (q.subject, q.predicate, q.object)
        for g in graphs
        for q in snapshot.store.quads_for_pattern(None, None, None, g)
    }


def canonical(term):
    """A literal as the store keeps it (Oxigraph writes numbers canonically: "10.0"^^xsd:decimal is "10")."""
    if not isinstance(term, Literal):
        return term
    store = Store()
    store.add(Quad(NamedNode("http://x.test/"), NamedNode("http://x.test/"), term))
    return next(iter(store)).object


def description(by_subject: dict, node, records: set) -> tuple[list, set]:
    """A record's statements in the source, as docs/loaders.md defines its description: its own, its
    distributions', the blank nodes under any of them, and the statements of the resources the record or a
    distribution links to through a ``DESCRIBED`` link (and the blank nodes under those); the file's other records
    are linked to, not described. Returns the triples and the distribution nodes."""
    distributions = {t.object for t in by_subject.get(node, []) if t.predicate == DCAT.distribution}
    out, queue, seen = [], [node, *distributions], {node, *distributions}
    while queue:
        subject = queue.pop()
        follow_iris = subject == node or subject in distributions
        for t in by_subject.get(subject, []):
            out.append(t)
            o = t.object
            if o in seen or o in records or isinstance(o, Literal):
                continue
            if isinstance(o, BlankNode) or (follow_iris and t.predicate.value in DESCRIBED and o in by_subject):
                seen.add(o)
                queue.append(o)
    return out, distributions


@pytest.mark.parametrize("source", sorted([*RDF_SOURCES, *OTHER_SYNTAXES]))
def test_every_source_statement_is_published_replaced_or_reported(loaded: dict, source: str) -> None:
    """The whole source graph: each statement of a published record's description is published (under our IRIs
    where we mint them), replaced by a normalised value, or reported (record, field, value); each statement of a
    rejected record's description goes with it (reported); each statement about a resource no record's
    description reaches is counted in the problem the loader reports for its type (docs/loaders.md, "Kept as
    given": the source catalogue, its catalogue records, ontology headers ...)."""
    path, rdf_format = loaded["files"][source]
    triples = list(parse(path=str(path), format=rdf_format, base_iri=SOURCE_BASE))
    by_subject: dict = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    graph = published(loaded["snapshot"], source)
    report = loaded["reports"][source]
    # source IRI -> our IRI, for the records we mint (not the source's own prov statements)
    derived = {o: s for s, p, o in graph if p == PROV.wasDerivedFrom and URIS.is_record(s.value)}
    derived_from: dict = {}
    for s, p, o in graph:
        if p == PROV.wasDerivedFrom and "#" not in s.value:
            derived_from.setdefault(s, set()).add(o)
    by_subject_predicate: dict = {}
    for s, p, o in graph:
        by_subject_predicate.setdefault((s, p), set()).add(o)
    reported = {(p.record, p.field, p.value) for p in report.problems}
    rejected_records = {p.record for p in report.problems if p.what.startswith("no title")}
    typed = {t.subject for t in triples if t.predicate == RDF.type and t.object.value in DATASET_CLASSES}
    services = {t.subject for t in triples if t.predicate == RDF.type and t.object.value in SERVICE_CLASSES} - typed
    records = {n for n in typed | services if n in derived}  # published: the dataset or service we minted
    rejected = {n for n in typed if isinstance(n, NamedNode) and n.value in rejected_records}
    every_record = typed | services
    unaccounted: list[str] = []
    accounted: set = set()  # the subjects of some record's description
    for node in sorted(records, key=str):
        ours = derived[node]
        statements, distributions = description(by_subject, node, every_record)
        accounted.update(t.subject for t in statements)
        # our distributions of this dataset, by the source IRI they derive from (a source may share one IRI
        # between datasets: each dataset gets its own distribution)
        mine = {o: x for x in by_subject_predicate.get((ours, DCAT.distribution), ()) for o in derived_from.get(x, ())}
        mine[node] = ours
        # links to a data service of the file, and a service's links to the file's records, name our IRIs
        linked = {n: derived[n] for n in (records if node in services else records & services)}
        for t in statements:
            if not _published_replaced_or_reported(
                t, node, ours, distributions, mine, linked, graph, by_subject_predicate, reported
            ):
                unaccounted.append(f"{t} (in the description of {node})")
    for node in sorted(rejected, key=str):  # rejected, reported: its description goes with it
        accounted.update(t.subject for t in description(by_subject, node, every_record)[0])
    outside = [s for s in by_subject if s not in accounted and s not in every_record]
    counts: Counter = Counter()
    for subject in outside:
        types = sorted(t.object.value for t in by_subject[subject] if t.predicate == RDF.type)
        counts[(types or ["(no rdf:type)"])[0]] += 1
    for subject in outside:
        types = sorted(t.object.value for t in by_subject[subject] if t.predicate == RDF.type)
        rdf_type = (types or ["(no rdf:type)"])[0]
        what = f"{counts[rdf_type]} resources typed {rdf_type} are about no dataset of the file: not kept"
        if not any(p.what == what for p in report.problems):
            unaccounted.extend(f"{t} (about no record; no problem says {what!r})" for t in by_subject[subject])
        if outside_category(subject, by_subject, triples, accounted) is None:
            unaccounted.extend(
                f"{t} (about no record, in no category docs/loaders.md names)" for t in by_subject[subject]
            )
    assert not unaccounted, f"{len(unaccounted)} source statements unaccounted for:\n" + "\n".join(unaccounted)
    assert records


CATALOGUES = {DCAT.Catalog.value, "http://publishmydata.com/pmdcat#Catalog"}


def outside_category(subject, by_subject: dict, triples: list, described: set) -> str | None:
    """The category docs/loaders.md ("Kept as given") names for a resource no record's description reaches, or
    None: the source's catalogue (or what only it describes), a catalogue record, an ontology header, or a resource
    a description links to beyond the links it follows."""
    types = {t.object.value for t in by_subject[subject] if t.predicate == RDF.type}
    referrers = {t.subject for t in triples if t.object == subject}
    if _is_catalogue(subject, by_subject):
        return "the source's catalogue"
    if DCAT.CatalogRecord.value in types or any(t.predicate == FOAF.primaryTopic for t in by_subject[subject]):
        return "a catalogue record"
    if OWL.Ontology.value in types:
        return "an ontology header"
    if referrers & described:
        return "beyond the links a description follows"
    if any(_is_catalogue(r, by_subject) for r in referrers):
        return "what only the source's catalogue describes"
    return None


def _is_catalogue(node, by_subject: dict) -> bool:
    """A catalogue: typed so (DCAT, PublishMyData), or listing datasets, services or catalogue records."""
    statements = by_subject.get(node, [])
    return any(t.predicate == RDF.type and t.object.value in CATALOGUES for t in statements) or any(
        t.predicate in (DCAT.dataset, DCAT.record, DCAT.service) for t in statements
    )


def _published_replaced_or_reported(
    t, node, ours, distributions: set, mine: dict, linked: dict, graph: set, by_subject_predicate: dict, reported: set
) -> bool:
    """Whether a statement of a record's description is published (as given, under our IRIs where we mint them),
    replaced by a normalised value of the same property, or reported (a problem naming record, field and value)."""
    subject = mine.get(t.subject) if isinstance(t.subject, NamedNode) else None
    if subject is None and isinstance(t.subject, NamedNode):
        subject = t.subject  # a resource the record links to (agent, place, contact point ...): kept as given
    # the record's own distributions, and the file's records it links to, come back under our IRIs; links to
    # anything else (other datasets of the file included) are kept as the source gives them
    obj = mine.get(t.object) if t.object in distributions else linked.get(t.object, canonical(t.object))
    if t.predicate.value == LANGUAGE:  # a code, or an ISO 639 code list's IRI: published as the EU concept
        obj = NamedNode(expected_language(t.object))
    field = curie(t.predicate.value)
    value = t.object.value if not isinstance(t.object, BlankNode) else None
    if any(r[0] == node.value and r[1].endswith(field) and (value is None or r[2] == value) for r in reported):
        return True  # reported: a problem names the record, the field and the value
    own = t.subject == node or t.subject in distributions
    documented = REPLACED_ON_DATASET if t.subject == node else REPLACED_ON_DISTRIBUTION
    if t.subject == node and t.predicate == DCT.publisher and isinstance(t.object, NamedNode):
        # ours, with the source's IRI as owl:sameAs (or the source's IRI is ours)
        return any(
            o == t.object or (o, OWL.sameAs, t.object) in graph
            for o in by_subject_predicate.get((ours, t.predicate), ())
        )
    if own and (t.predicate.value in documented or t.predicate.value in DATES):
        # the normalised value, on the record or on its distribution (a blank one: on one of ours)
        subjects = [mine[t.subject]] if t.subject in mine else by_subject_predicate.get((ours, DCAT.distribution), ())
        return any(by_subject_predicate.get((s, t.predicate)) for s in subjects)
    if isinstance(t.subject, NamedNode) and not isinstance(t.object, BlankNode):
        return (subject, t.predicate, obj) in graph or (own and t.predicate.value in _normalised())
    # a blank node's statement (or a link to one): published on a hash IRI under the record, value as given
    candidates = [
        o
        for (s, p), objects in by_subject_predicate.items()
        for o in objects
        if p == t.predicate and (s == subject or s.value.startswith((ours.value + "#node-", ours.value + "/")))
    ]
    return bool(candidates) if isinstance(t.object, BlankNode) else obj in candidates


def expected_language(term) -> str:
    """The EU language concept a source's ``dct:language`` value is published as (an EU concept: itself)."""
    match = ISO_639_IRI.match(term.value) if isinstance(term, NamedNode) else None
    code = match["code"] if match else term.value
    return language_iri(code, Vocabularies(URIS).language_by_code) or term.value


def _normalised() -> set[str]:
    """Properties whose source value may come back normalised rather than verbatim (URLs percent-encoded,
    byte sizes typed), each still published on the same subject."""
    return {
        "http://www.w3.org/ns/dcat#landingPage",
        "http://www.w3.org/ns/dcat#accessURL",
        "http://www.w3.org/ns/dcat#downloadURL",
        "http://www.w3.org/ns/dcat#byteSize",
    }


def test_language_tags_and_geometry_are_kept_as_given(loaded: dict) -> None:
    graph = published(loaded["snapshot"], "w3c-spatial")
    titles = {o for _, p, o in graph if p.value == "http://purl.org/dc/terms/title"}
    assert titles == {Literal("Addresses", language="en"), Literal("Adressen", language="nl")}
    wkt = NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral")
    bbox = [o for _, p, o in graph if p == DCAT.bbox]
    assert bbox and all(isinstance(o, Literal) and o.datatype == wkt for o in bbox)
    eea = published(loaded["snapshot"], "geodcat-eea")
    kept = {p.value for _, p, _ in eea}
    for iri in (
        "http://purl.org/dc/terms/created",
        "http://purl.org/dc/terms/language",
        "http://purl.org/dc/terms/provenance",
        "http://purl.org/dc/terms/conformsTo",
        "http://www.w3.org/ns/dcat#spatialResolutionInMeters",
        "http://www.w3.org/2006/vcard/ns#hasAddress",
        "http://www.w3.org/2006/vcard/ns#street-address",
        "http://xmlns.com/foaf/0.1/page",
    ):
        assert iri in kept, iri
    # the GML and WKT forms of one bounding box: DCAT-AP allows one, the WKT is kept and the GML reported
    problems = loaded["reports"]["geodcat-eea"].problems
    assert any(p.field.endswith("dcat:bbox") and p.value.startswith("<gml:Envelope") for p in problems)


def test_a_distribution_without_access_url_is_kept_and_marked(loaded: dict) -> None:
    """Geoscience Australia's courts dataset (W3C DCAT example) lists six distributions that give only a
    ``dct:format``: each is published, its access URL supplied and marked ``dfl:assumed dcat:accessURL``, and
    the load says so."""
    graph = published(loaded["snapshot"], "w3c-ga-courts")
    dataset = NamedNode(URIS.dataset("jc"))
    distributions = {o for s, p, o in graph if s == dataset and p == DCAT.distribution}
    assumed = NamedNode(URIS.vocab.iri + "assumed")
    assert len(distributions) == 6
    for distribution in distributions:
        assert (distribution, assumed, DCAT.accessURL) in graph, distribution
        assert any(s == distribution and p == DCAT.accessURL for s, p, _ in graph), distribution
    report = loaded["reports"]["w3c-ga-courts"]
    problems = [p for p in report.problems if p.what.startswith("no access or download")]
    assert len(problems) == 6
    assert report.counts["distributions_read"] == report.counts["distributions_kept"] == 6


def test_a_title_in_any_language_finds_its_dataset(loaded: dict) -> None:
    """Lists show the English title; search knows every language's (the Dutch "Adressen" finds "Addresses")."""
    index = search_index(loaded["snapshot"])
    for words in ("Adressen", "Addresses"):
        titles = [hit.record["title"] for hit in index.search(SearchRequest(q=words, spell=False)).hits]
        assert titles[:1] == ["Addresses"], (words, titles)


def test_load_summaries_count_records_in_and_out(loaded: dict) -> None:
    for source, report in loaded["reports"].items():
        counts = report.counts
        assert counts["items"] == counts["records"] + counts["rejected"], source
        assert counts["records"] == report.datasets + report.services, source
        assert counts.get("services_kept", 0) == report.services, source
        assert counts["distributions_kept"] == report.distributions, source
    gss = loaded["reports"]["uk-gss"].counts
    assert gss["items"] == 600  # 500 dcat:Dataset and 100 typed only pmdcat:Dataset
    spatial = loaded["reports"]["w3c-spatial"].counts
    assert (spatial["items"], spatial["records"], spatial["rejected"]) == (5, 1, 4)  # 4 have no title


@pytest.mark.parametrize("source", sorted(OTHER_SYNTAXES))
def test_every_syntax_gives_the_same_records_and_problems(loaded: dict, source: str) -> None:
    """The same statements in RDF/XML or JSON-LD load exactly as their Turtle does: the same records kept and
    rejected, the same problems (fields and values)."""
    turtle = OTHER_SYNTAXES[source][0]
    ours, theirs = loaded["reports"][source], loaded["reports"][turtle]
    assert ours.counts == theirs.counts
    assert sorted((p.field, p.what, p.value) for p in ours.problems) == sorted(
        (p.field, p.what, p.value) for p in theirs.problems
    )


def test_every_ckan_field_is_mapped_or_reported(loaded: dict) -> None:
    packages = json.loads((DATA / "ckan-birmingham" / "package_search.json").read_text())["result"]["results"]
    reported = {p.field for p in loaded["reports"]["birmingham"].problems}
    for package in packages:
        for key, value in package.items():
            assert key in MAPPED_FIELDS | BOOKKEEPING or key in reported or value in (None, "", [], {}), key
    graph = published(loaded["snapshot"], "birmingham")
    titles = {o for _, p, o in graph if p.value == "http://purl.org/dc/terms/title"}
    assert {Literal(p["title"].strip()) for p in packages} <= titles  # as given: no language invented


def test_everything_published_conforms(loaded: dict) -> None:
    snapshot = loaded["snapshot"]
    graphs = [NamedNode(g) for g in snapshot.manifest.graphs]
    for shapes in ("dcat-ap", "dfl"):
        report = validate_store(snapshot.store, graphs, shapes, URIS.base)
        assert [str(f) for f in report.findings if f.severity == "Violation"] == [], shapes
