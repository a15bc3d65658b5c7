"""Data services (``dcat:DataService``) from real third-party files, loaded with the real ``dfl load`` and read back
over real HTTP: statement by statement, a catalogue that holds only services, the links between services and the
datasets they serve, a service with no endpoint, one that is not public, and one withdrawn.

Files (tests/data, each with its SOURCE.txt and licence): the DCAT-AP HVD examples of an API platform serving two
datasets (dcat-ap-hvd/), and the W3C DCAT 3 examples of the EEA's CSW catalogue service (a catalogue of services
only; and an older copy of it with no ``dcat:endpointURL``) and of CSIRO's chronostratigraphic chart (distributions
reached through a SPARQL service).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
import requests
from conftest import dfl, free_port, live_server
from ld_client import fetch_all_formats
from portal_server import PortalServer, Reply

from dfl_graph.harvest import harvest_source
from dfl_graph.harvest.config import parse_config
from dfl_graph.indexes.registry import open_writer
from dfl_graph.ingest import ensure_vocabularies
from dfl_graph.uris import Uris
from dfl_graph.vocabularies import Vocabularies
from loaders.source_statements import REPLACED_ON_DATASET, curie

DATA = Path(__file__).parent / "data"
HVD = DATA / "dcat-ap-hvd"
W3C = DATA / "w3c-dcat3-examples" / "examples"
SOURCES = {
    "hvd": HVD / "example-ms_dataset_data_service.ttl",  # a service serving the file's two datasets
    "sla": HVD / "example-data_service_openapi_sla.ttl",  # the same service alone: it serves datasets not in the file
    "eea-csw": W3C / "eea-csw.ttl",  # a catalogue of one service and nothing else
    "service1": W3C / "service1.ttl",  # the EEA service with dcat:endPointLocation instead of dcat:endpointURL
    "csiro": W3C / "csiro-stratchart.ttl",  # a SPARQL service serving a dataset the file leaves untitled
    "thredds": W3C / "threddsABC.ttl",  # a THREDDS server: a distribution with dcat:accessService, titles in dc:title
}
HVD_SERVICE = "https://data.exampleMS.gov/id/dataset/EAMS-APIplatform"
NON_PUBLIC = "http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC"
# the HVD example, as a publisher that keeps its API to itself would write it (a derived file: see hidden_file)
HIDDEN_TRIPLES = f"""
exampleMS:EAMS-APIplatform dct:accessRights <{NON_PUBLIC}> .
exampleMS:1T2p3o4B-dist-RDF dcat:accessService exampleMS:EAMS-APIplatform .
"""
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
DC = rdflib.Namespace("http://purl.org/dc/elements/1.1/")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
RDF = rdflib.RDF
MEDIA = ("text/html", "text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples")


def load(base: str, data_dir: Path, root: Path, source: str, path: Path) -> tuple[dict, list[dict]]:
    """`dfl load --json --problems` of one file: the report and every problem."""
    problems = root / f"{source}.problems.jsonl"
    result = dfl(
        "--base", base, "load", "dcat", str(path), "--source", source, "--store", str(data_dir),
        "--json", "--problems", str(problems),
    )  # fmt: skip
    lines = problems.read_text().splitlines() if problems.exists() else []
    return json.loads(result.stdout), [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("services")
    data_dir, port = root / "catalogue", free_port()
    base = f"http://127.0.0.1:{port}"
    loaded = {source: load(base, data_dir, root, source, path) for source, path in SOURCES.items()}
    hidden = root / "hidden.ttl"
    hidden.write_text(SOURCES["hvd"].read_text() + HIDDEN_TRIPLES)
    loaded["hidden"] = load(base, data_dir, root, "hidden", hidden)
    with live_server(data_dir, port) as server:
        server.root = root  # type: ignore[attr-defined]
        server.loaded = loaded  # type: ignore[attr-defined]
        yield server


def dump(server) -> pyoxigraph.Store:
    """Everything the catalogue publishes (/catalog.nq), as a store."""
    store = pyoxigraph.Store()
    store.load(server.get("/catalog.nq").content, format=pyoxigraph.RdfFormat.N_QUADS)
    return store


def minted(server, source: str) -> dict[str, str]:
    """Source IRI -> the IRI the catalogue minted for that record of a source (its ``prov:wasDerivedFrom``)."""
    found: dict[str, str] = {}
    graph = pyoxigraph.NamedNode(f"{server.url}/graph/{source}")
    for quad in dump(server).quads_for_pattern(None, pyoxigraph.NamedNode(str(PROV.wasDerivedFrom)), None, graph):
        if "#" not in quad.subject.value:
            found.setdefault(quad.object.value, quad.subject.value)
    return found


def source_graph(path: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(path, format="turtle")


def reported_fields(problems: list[dict], *records: str) -> set[str]:
    return {p["field"] for p in problems if p["record"] in records}


def test_load_summaries_count_services_in_and_out(catalogue):
    for source, (report, _) in catalogue.loaded.items():
        counts = report["counts"]
        assert counts["items"] == counts["records"] + counts["rejected"], source
        assert counts["records"] == report["datasets"] + report["services"], source
        assert counts["services_kept"] == report["services"] <= counts["services_read"], source
    hvd, _ = catalogue.loaded["hvd"]
    assert (hvd["datasets"], hvd["services"], hvd["public"]) == (2, 1, 3)
    hidden, _ = catalogue.loaded["hidden"]
    assert (hidden["datasets"], hidden["services"], hidden["public"], hidden["restricted"]) == (2, 1, 2, 1)


def test_a_catalogue_of_services_only_loads_and_is_published(catalogue):
    report, _ = catalogue.loaded["eea-csw"]
    assert (report["datasets"], report["services"], report["rejected"]) == (0, 1, 0)
    service = minted(catalogue, "eea-csw")["http://example.org/eea-csw/EEA-CSW-Endpoint"]
    assert service == f"{catalogue.url}/service/eea-csw-endpoint"
    page = rdflib.Graph().parse(data=catalogue.get("/catalog.ttl").text, format="turtle")
    assert (rdflib.URIRef(f"{catalogue.url}/catalog"), DCAT.service, rdflib.URIRef(service)) in page
    assert (rdflib.URIRef(service), DCT.title, None) in page  # the feed's first page describes it in full
    html = catalogue.get("/catalog").text
    assert "European Environment Agency&#39;s public catalogue of spatial datasets." in html
    assert f"<loc>{service}</loc>" in catalogue.get("/sitemap.xml").text
    void = rdflib.Graph().parse(data=catalogue.get("/.well-known/void.ttl").text, format="turtle")
    partition = next(void.subjects(rdflib.URIRef("http://rdfs.org/ns/void#class"), DCAT.DataService))
    entities = int(void.value(partition, rdflib.URIRef("http://rdfs.org/ns/void#entities")))
    public_services = set(dump(catalogue).quads_for_pattern(None, pyoxigraph.NamedNode(str(RDF.type)), None, None))
    typed = {q.subject for q in public_services if q.object.value == str(DCAT.DataService)}
    # ours (hvd, sla, eea-csw, service1, csiro, thredds' two; not the hidden one) and the catalogue's own three
    assert entities == len(typed) == 7 + 3


@pytest.mark.parametrize("source", ["hvd", "sla", "eea-csw", "service1", "csiro", "thredds"])
def test_what_goes_in_comes_out_statement_by_statement(catalogue, source):
    """Every statement the source makes about a service is published on our IRI as given (links to the file's
    records on the IRIs we minted, blank nodes as hash IRIs under the service), replaced by a normalised value of
    the same property, or reported as a problem naming the service and the field; every RDF format says the same."""
    graph = source_graph(SOURCES[source])
    ours = minted(catalogue, source)
    _, problems = catalogue.loaded[source]
    session = requests.Session()
    titled = {s for p in (DCT.title, DC.title) for s in graph.subjects(p, None)}
    services = [s for s in graph.subjects(RDF.type, DCAT.DataService) if s in titled]
    assert services
    for service in services:
        iri = ours[str(service)]
        assert iri.startswith(f"{catalogue.url}/service/")
        published = fetch_all_formats(session, iri)["nt"]
        subject = rdflib.URIRef(iri)
        assert (subject, PROV.wasDerivedFrom, service) in published
        reported = reported_fields(problems, str(service), str(graph.value(service, DCT.identifier)))
        for _, predicate, obj in graph.triples((service, None, None)):
            field = curie(str(predicate))
            if isinstance(obj, rdflib.BNode):
                kept = any(
                    str(o).startswith(iri + "#node-") for o in published.objects(subject, predicate)
                )  # fmt: skip
            elif isinstance(obj, rdflib.URIRef):
                kept = (subject, predicate, rdflib.URIRef(ours.get(str(obj), str(obj)))) in published
            else:
                kept = any(o.eq(obj) and o.language == obj.language for o in published.objects(subject, predicate))
            replaced = str(predicate) in REPLACED_ON_DATASET and (subject, predicate, None) in published
            assert kept or replaced or field in reported, (source, str(service), field, str(obj))


def test_served_datasets_and_access_services_resolve(catalogue):
    ours = minted(catalogue, "hvd")
    service = ours[HVD_SERVICE]
    document = rdflib.Graph().parse(data=catalogue.get(service[len(catalogue.url) :] + ".ttl").text, format="turtle")
    served = set(document.objects(rdflib.URIRef(service), DCAT.servesDataset))
    expected = {ours[f"https://data.exampleMS.gov/id/dataset/{name}"] for name in ("1T2p3o4B", "1W2o3p4T")}
    assert {str(d) for d in served} == expected
    for dataset in served:
        response = requests.get(str(dataset), headers={"Accept": "text/turtle"}, timeout=30)
        assert response.status_code == 200
        described = rdflib.Graph().parse(data=response.text, format="turtle")
        assert (dataset, RDF.type, DCAT.Dataset) in described
        assert (rdflib.URIRef(service), DCAT.servesDataset, dataset) in described  # where to query it
        page = requests.get(str(dataset) + ".json", timeout=30).json()  # the dataset's page names its service
        assert [x["iri"] for x in page["services"]] == [service]
        assert f'href="{service[len(catalogue.url) :]}"' in requests.get(str(dataset), timeout=30).text
    page = catalogue.get(service[len(catalogue.url) :]).text
    assert "EA API platform" in page and "https://orgea.exampleMS.gov/api/v2/" in page
    assert all(f'href="{d[len(catalogue.url) :]}"' in page for d in expected)
    # THREDDS: the dataset's distribution reaches its data through the TDS service, on the IRIs we minted
    thredds = minted(catalogue, "thredds")
    tds, dataset = (
        thredds["https://example.org/threddsABC#DataService_1"],
        thredds["https://example.org/threddsABC#Dataset_1"],
    )
    document = rdflib.Graph().parse(data=requests.get(dataset + ".ttl", timeout=30).text, format="turtle")
    [distribution] = document.objects(rdflib.URIRef(dataset), DCAT.distribution)
    assert (distribution, DCAT.accessService, rdflib.URIRef(tds)) in document
    response = requests.get(tds, headers={"Accept": "application/ld+json"}, timeout=30)
    assert response.status_code == 200 and "TDS 1" in response.text
    distribution_page = requests.get(str(distribution), timeout=30).text
    assert f'href="{tds[len(catalogue.url) :]}"' in distribution_page  # "Served by"
    # CSIRO: the service serves a dataset the file gives no title, so not published: the link is reported
    _, problems = catalogue.loaded["csiro"]
    assert "dcat:servesDataset" in reported_fields(problems, "https://data.csiro.au/dataset/d33937.ld")
    # links to datasets the file does not describe cannot name a dataset of ours: reported, not published
    _, problems = catalogue.loaded["sla"]
    assert "dcat:servesDataset" in reported_fields(problems, HVD_SERVICE)


def test_a_service_without_an_endpoint_is_kept_and_reported(catalogue):
    report, problems = catalogue.loaded["service1"]
    assert report["services"] == 1
    [problem] = [p for p in problems if p["field"] == "dcat:endpointURL"]
    assert problem["record"] == "http://example.org/dcat/EEA-CSW-Endpoint" and "requires" in problem["what"]
    service = minted(catalogue, "service1")["http://example.org/dcat/EEA-CSW-Endpoint"]
    response = requests.get(service, timeout=30)
    assert response.status_code == 200 and "gives no endpoint" in response.text
    findings = service_findings(catalogue, "dfl")  # our profile: a warning, not a violation
    assert [(f["severity"], f["focus"], f["path"]) for f in findings] == [("Warning", service, str(DCAT.endpointURL))]


def service_findings(catalogue, shapes: str) -> list[dict]:
    """`dfl validate --json` findings about the data services themselves (the places they cover are the geometry
    work's: tests/test_faithful_loading.py)."""
    result = dfl(
        "--base", catalogue.url, "validate", "--shapes", shapes, "--json", "--store", str(catalogue.data_dir),
        check=False,
    )  # fmt: skip
    return [f for f in json.loads(result.stdout)["findings"] if "/service/" in f["focus"] and "#" not in f["focus"]]


def test_published_services_conform_to_dcat_ap(catalogue):
    """The official DCAT-AP 3.0.1 shapes find nothing wrong with the services but the one endpoint missing."""
    service = minted(catalogue, "service1")["http://example.org/dcat/EEA-CSW-Endpoint"]
    violations = [f for f in service_findings(catalogue, "dcat-ap") if f["severity"] == "Violation"]
    assert [(f["focus"], f["path"]) for f in violations] == [(service, str(DCAT.endpointURL))]


def test_a_non_public_service_is_never_visible_anonymously(catalogue):
    _, problems = catalogue.loaded["hidden"]
    [link] = [p for p in problems if p["field"].endswith("dcat:accessService")]
    assert "not public" in link["what"]
    hidden = f"{catalogue.url}/service/eams-apiplatform-hidden"
    for media_type in MEDIA:
        assert requests.get(hidden, headers={"Accept": media_type}, timeout=30).status_code == 404, media_type
    store = dump(catalogue)
    derived = store.quads_for_pattern(None, pyoxigraph.NamedNode(str(PROV.wasDerivedFrom)), None, None)
    copies = {q.subject.value for q in derived if q.object.value == HVD_SERVICE and "#" not in q.subject.value}
    assert copies == {minted(catalogue, "hvd")[HVD_SERVICE], minted(catalogue, "sla")[HVD_SERVICE]}  # public ones
    assert not any("eams-apiplatform-hidden" in q.object.value or "eams-apiplatform-hidden" in q.subject.value
                   for q in store)  # fmt: skip
    assert "eams-apiplatform-hidden" not in catalogue.get("/catalog.ttl").text
    assert "eams-apiplatform-hidden" not in catalogue.get("/sitemap.xml").text
    query = f"ASK {{ <{hidden}> ?p ?o }}"
    answer = catalogue.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200 and answer.json()["boolean"] is False
    # the public dataset whose distribution the source linked to it does not name it
    dataset = f"{catalogue.url}/dataset/1t2p3o4b-hidden"
    document = requests.get(dataset, headers={"Accept": "application/n-triples"}, timeout=30)
    assert document.status_code == 200 and str(DCAT.accessService) not in document.text


def test_a_withdrawn_service_answers_410_with_its_tombstone(catalogue):
    service = minted(catalogue, "thredds")["https://example.org/threddsABC#DataService_1"]
    base = catalogue.url
    before, _ = catalogue.loaded["thredds"]
    report, _ = load(base, catalogue.data_dir, catalogue.root, "thredds", W3C / "vocab-dcat-3" / "basic-example.ttl")
    assert report["withdrawn"] == before["datasets"] + before["services"] and report["services"] == 0
    for media_type in MEDIA:
        response = requests.get(service, headers={"Accept": media_type}, timeout=30)
        assert response.status_code == 410, (media_type, response.status_code)
    tombstone = rdflib.Graph().parse(data=requests.get(service + ".ttl", timeout=30).text, format="turtle")
    dfl_ns = rdflib.Namespace(f"{base}/def/dfl#")
    assert (rdflib.URIRef(service), RDF.type, dfl_ns.WithdrawnService) in tombstone
    title = str(tombstone.value(rdflib.URIRef(service), DCT.title))
    assert title == "TDS 1"
    assert "has been withdrawn" in requests.get(service, timeout=30).text
    assert service not in catalogue.get("/sitemap.xml").text
    assert service not in catalogue.get("/catalog.ttl").text


def test_a_harvest_maps_services_the_same_way(tmp_path: Path):
    """`dfl harvest`'s path (a DCAT portal fetched over HTTP, then the same plan and write) publishes the service on
    our IRI, serving the datasets on ours, and withdraws it with a tombstone when the portal stops listing it."""
    uris = Uris("http://data.test")
    vocabularies = Vocabularies(uris)
    file = {"body": SOURCES["hvd"].read_bytes()}
    with PortalServer() as portal:
        url = portal.route("/catalogue.ttl", lambda _request: Reply(file["body"], content_type="text/turtle"))
        spec = parse_config({"source": [{"name": "portal", "type": "dcat", "url": url}]}, Path("test.toml")).sources[0]
        with open_writer(tmp_path, uris) as store:
            ensure_vocabularies(store)
            report = harvest_source(store, vocabularies, spec)
            assert report.status == "ok", report.error
            graph = pyoxigraph.NamedNode(uris.source_graph("portal"))
            service = pyoxigraph.NamedNode(uris.service("eams-apiplatform"))
            serves = pyoxigraph.NamedNode(str(DCAT.servesDataset))
            served = {q.object.value for q in store.store.quads_for_pattern(service, serves, None, graph)}
            assert served == {uris.dataset("1t2p3o4b"), uris.dataset("1w2o3p4t")}
            file["body"] = SOURCES["eea-csw"].read_bytes()  # the portal now lists another service only
            report = harvest_source(store, vocabularies, spec)
            assert report.status == "ok", report.error
            tombstones = pyoxigraph.NamedNode(uris.tombstone_graph("portal"))
            kinds = {q.object.value for q in store.store.quads_for_pattern(service, None, None, tombstones)}
            assert uris.vocab.WithdrawnService.value in kinds
