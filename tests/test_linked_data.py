"""Dereferencing: content negotiation, the HTTP details linked-data clients rely on, 404/410 in the
requested format, restricted records kept invisible, the W3C DCAT examples, and bad input."""

from __future__ import annotations

import http.client
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote, urlsplit

import pyoxigraph
import pytest
import rdflib
import requests
from conftest import dfl, free_port, live_server, load_default
from ld_client import RDF_FORMATS, crawl, fetch_all_formats, parse_both

from dfl_graph.records import DataServiceRecord
from dfl_graph.uris import Uris
from dfl_graph.vocabularies import Vocabularies
from loaders import loader_class
from loaders.dcat_rdf import P_LABEL_PROPS

ROOT = Path(__file__).resolve().parent.parent
W3C_EXAMPLES = ROOT / "tests" / "data" / "w3c-dcat3-examples" / "examples"
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
RDF_TYPE = pyoxigraph.NamedNode(str(rdflib.RDF.type))
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
RDF = rdflib.RDF
MEDIA = {
    "html": "text/html",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "nt": "application/n-triples",
    "json": "application/json",
}

pytestmark = pytest.mark.both_backends


def first_dataset(server) -> str:
    return server.get("/catalog.json?per_page=1").json()["items"][0]["iri"]


def path(iri: str) -> str:
    return urlsplit(iri).path


def format_of(response: requests.Response) -> str:
    media_type = response.headers["Content-Type"].split(";")[0].strip()
    return next(name for name, value in MEDIA.items() if value == media_type)


# -- content negotiation --------------------------------------------------------------------------------
def vary(response: requests.Response) -> list[str]:
    return [name.strip() for name in response.headers.get("Vary", "").split(",") if name.strip()]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "html"),
        ("*/*", "html"),
        ("text/html", "html"),
        ("application/xhtml+xml", "html"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", "html"),
        ("text/turtle", "ttl"),
        ("application/x-turtle", "ttl"),
        ("application/ld+json", "jsonld"),
        ('application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"', "jsonld"),
        ("application/rdf+xml", "rdf"),
        ("application/n-triples", "nt"),
        ("application/json", "json"),
        ("text/turtle;q=0.5, application/rdf+xml;q=0.9", "rdf"),
        ("text/html;q=0.1, text/turtle", "ttl"),
        ("application/rdf+xml;q=0.8, text/turtle;q=0.8, application/ld+json", "jsonld"),
        ("text/*", "html"),
        ("text/*;q=0.5, application/ld+json;q=0.4", "html"),
        ("application/*", "jsonld"),
        ("image/png, */*;q=0.1", "html"),
        ("image/png, text/turtle;q=0.2", "ttl"),
        ("TEXT/TURTLE", "ttl"),
        ("text/turtle; charset=utf-8", "ttl"),
    ],
)
def test_accept_header_negotiation(default_server, accept, expected):
    dataset = first_dataset(default_server)
    headers = {"Accept": accept} if accept is not None else {}
    response = requests.get(dataset, headers=headers, timeout=30)
    assert response.status_code == 200, response.text[:300]
    assert format_of(response) == expected
    assert "Accept" in vary(response)  # beside Accept-Language (pages) and Accept-Profile (RDF)
    assert response.headers["Content-Location"] == f"{dataset}.{expected}"


@pytest.mark.parametrize("accept", ["image/png", "text/turtle;q=0", "application/pdf, image/*", "video/*;q=1"])
def test_nothing_acceptable_is_406_listing_the_formats(default_server, accept):
    response = requests.get(first_dataset(default_server), headers={"Accept": accept}, timeout=30)
    assert response.status_code == 406
    for media_type in MEDIA.values():
        assert media_type in response.text
    for suffix in MEDIA:
        assert f".{suffix}" in response.text


@pytest.mark.parametrize("accept", ["text/html;q=abc", "garbage", ";;;", "text/html;q=2", "*/html"])
def test_malformed_accept_is_400(default_server, accept):
    response = requests.get(first_dataset(default_server), headers={"Accept": accept}, timeout=30)
    assert response.status_code == 400
    assert "malformed Accept header" in response.text


@pytest.mark.parametrize("suffix", list(MEDIA))
def test_suffix_overrides_accept(default_server, suffix):
    dataset = first_dataset(default_server)
    response = requests.get(f"{dataset}.{suffix}", headers={"Accept": "image/png"}, timeout=30)
    assert response.status_code == 200
    assert format_of(response) == suffix
    assert "Accept" not in vary(response)
    assert response.headers["Content-Location"] == f"{dataset}.{suffix}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ttl", "ttl"),
        ("turtle", "ttl"),
        ("text/turtle", "ttl"),
        ("jsonld", "jsonld"),
        ("json-ld", "jsonld"),
        ("rdfxml", "rdf"),
        ("nt", "nt"),
        ("json", "json"),
        ("html", "html"),
    ],
)
def test_format_parameter_overrides_accept(default_server, value, expected):
    response = requests.get(
        first_dataset(default_server), params={"format": value}, headers={"Accept": "text/html"}, timeout=30
    )
    assert response.status_code == 200
    assert format_of(response) == expected


def test_links_etags_and_conditional_requests(default_server):
    dataset = first_dataset(default_server)
    response = requests.get(dataset, headers={"Accept": "text/turtle"}, timeout=30)
    links = requests.utils.parse_header_links(response.headers["Link"])
    alternates = {link["type"]: link["url"] for link in links if link.get("rel") == "alternate"}
    assert alternates == {media: f"{dataset}.{suffix}" for suffix, media in MEDIA.items()}
    assert any(link["rel"] == "canonical" and link["url"] == dataset for link in links)
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    # the ETag is a digest of the representation: another format, another tag
    other = requests.get(dataset, headers={"Accept": "application/ld+json"}, timeout=30)
    assert other.headers["ETag"] != etag
    for conditional in ({"If-None-Match": etag}, {"If-Modified-Since": modified}, {"If-None-Match": f'"nope", {etag}'}):
        again = requests.get(dataset, headers={"Accept": "text/turtle", **conditional}, timeout=30)
        assert again.status_code == 304, conditional
        assert again.content == b""
        assert again.headers["ETag"] == etag
    assert (
        requests.get(dataset, headers={"Accept": "text/turtle", "If-None-Match": '"other"'}, timeout=30).status_code
        == 200
    )
    stale = requests.get(
        dataset, headers={"Accept": "text/turtle", "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, timeout=30
    )
    assert stale.status_code == 200


def test_head_and_cors(default_server):
    dataset = first_dataset(default_server)
    for suffix, media_type in MEDIA.items():
        got = requests.get(dataset, headers={"Accept": media_type}, timeout=30)
        head = requests.head(dataset, headers={"Accept": media_type}, timeout=30)
        assert head.status_code == 200 and head.content == b""
        for header in ("Content-Type", "ETag", "Content-Location", "Link", "Vary"):
            assert head.headers[header] == got.headers[header], (suffix, header)
        if suffix == "html":
            assert "Access-Control-Allow-Origin" not in got.headers
        else:
            assert got.headers["Access-Control-Allow-Origin"] == "*", suffix
    assert requests.head(dataset + "-no-such-thing", timeout=30).status_code == 404


def test_every_kind_of_resource_dereferences(default_server):
    base = default_server.url
    session = requests.Session()
    for kind in (
        "/catalog",
        "/themes",
        "/publishers",
        "/boroughs",
        "/theme/transport",
        "/publisher/gla",
        "/borough/E09000001",
        first_dataset(default_server)[len(base) :],
    ):
        graphs = fetch_all_formats(session, base + kind)
        subject = rdflib.URIRef(base + kind)
        assert (subject, None, None) in graphs["ttl"], kind
        for suffix in ("html", "json"):
            response = session.get(f"{base}{kind}.{suffix}", timeout=30)
            assert response.status_code == 200 and format_of(response) == suffix, (kind, suffix)


def test_theme_page_lists_its_datasets_a_page_at_a_time(default_server):
    members = default_server.get("/themes.json").json()["members"]
    biggest = max(members, key=lambda m: m["datasets"])
    path = urlsplit(biggest["iri"]).path
    listed = default_server.get(f"{path}.json").json()["datasets"]
    assert listed["total"] == biggest["datasets"] > 20
    assert len(listed["items"]) == 20 and listed["pages"] >= 2
    second = default_server.get(f"{path}.json?page=2").json()["datasets"]
    assert second["items"] and {i["iri"] for i in second["items"]}.isdisjoint(i["iri"] for i in listed["items"])
    html = default_server.get(f"{path}?page=2", headers={"Accept": "text/html"})
    assert html.status_code == 200 and f"Page 2 of {listed['pages']}" in html.text
    assert html.headers["Content-Location"].endswith(f"{path}.html?page=2")


def test_dataset_document_carries_the_labels_of_what_it_links_to(default_server):
    dataset = first_dataset(default_server)
    graph = parse_both(requests.get(dataset, headers={"Accept": "text/turtle"}, timeout=30).content, "ttl", dataset)
    subject = rdflib.URIRef(dataset)
    linked = [o for p, o in graph.predicate_objects(subject) if isinstance(o, rdflib.URIRef) and p != RDF.type]
    labelled = [
        o
        for o in linked
        if graph.value(o, rdflib.URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"))
        or graph.value(o, rdflib.URIRef("http://xmlns.com/foaf/0.1/name"))
        or graph.value(o, DCT.title)
    ]
    themes = list(graph.objects(subject, DCAT.theme))
    assert themes and all(t in labelled for t in themes)
    access = graph.value(subject, DCT.accessRights)
    assert access in labelled


# -- 404 and 410 in the requested format --------------------------------------------------------------------
@pytest.mark.parametrize(
    "resource",
    [
        "/dataset/no-such-dataset",
        "/theme/no-such-theme",
        "/publisher/nobody",
        "/borough/E09999999",
        "/dataset/x/distribution/y",
    ],
)
def test_unknown_iri_is_404_in_the_requested_format(default_server, resource):
    url = default_server.url + resource
    for suffix, media_type in MEDIA.items():
        response = requests.get(url, headers={"Accept": media_type}, timeout=30)
        assert response.status_code == 404, (resource, suffix)
        assert format_of(response) == suffix, (resource, suffix)
        if suffix in RDF_FORMATS:
            assert len(parse_both(response.content, suffix, url)) == 0  # an empty graph with a comment
        if suffix in ("json", "jsonld"):
            assert response.json()["error"]["status"] == 404
        if suffix == "html":
            assert "Not Found" in response.text and "Data for London" in response.text
    suffixed = requests.get(url + ".ttl", timeout=30)
    assert suffixed.status_code == 404 and suffixed.text.startswith("# 404")


# -- a store with restricted, private and withdrawn datasets ----------------------------------------------
def datapress_item(slug: str, sharing: str, publisher: str, title: str) -> dict:
    return {
        "id": slug,
        "webpage": f"https://data.london.gov.uk/dataset/{slug}",
        "title": title,
        "description": f"<p>{title}: a test dataset.</p>",
        "createdAt": "2021-01-01T00:00:00.000Z",
        "updatedAt": "2024-03-01T00:00:00.000Z",
        "sharing": sharing,
        "masthead": {"id": slugify_publisher(publisher), "title": publisher},
        "topics": [{"id": "transport", "title": "Transport"}],
        "tags": ["test"],
        "resources": [
            {
                "id": f"{slug}-csv",
                "title": f"{slug}.csv",
                "url": f"https://data.london.gov.uk/download/{slug}/{slug}.csv",
                "size": 1234,
                "hash": "2398a191402fb1adaf4816b735e55fd6",
                "format": "csv",
            }
        ],
    }


def slugify_publisher(name: str) -> str:
    return name.lower().replace(" ", "-")


@pytest.fixture(scope="module")
def mixed_server(tmp_path_factory, backend: str):
    root = tmp_path_factory.mktemp("mixed")
    data_dir, port = root / "catalogue", free_port()
    base = f"http://127.0.0.1:{port}"
    load_default(data_dir, base)
    export = root / "access.json"
    export.write_text(
        json.dumps(
            [
                datapress_item("open-bus-counts", "public", "Open Test Trust", "Open bus counts"),
                datapress_item("secret-bus-counts", "restricted", "Hidden Test Agency", "Secret bus counts"),
                datapress_item("private-bus-counts", "private", "Hidden Test Agency", "Private bus counts"),
            ]
        )
    )
    dfl("--base", base, "load", "datapress", str(export), "--source", "access-levels", "--store", str(data_dir))
    with live_server(data_dir, port) as server:
        server.root = root  # type: ignore[attr-defined]
        yield server


def test_restricted_and_private_datasets_are_invisible(mixed_server):
    base = mixed_server.url
    public = f"{base}/dataset/open-bus-counts"
    hidden = [f"{base}/dataset/secret-bus-counts", f"{base}/dataset/private-bus-counts"]
    unknown = f"{base}/dataset/never-existed"
    assert requests.get(public, timeout=30).status_code == 200
    for iri in [*hidden, unknown]:
        for suffix, media_type in MEDIA.items():
            response = requests.get(iri, headers={"Accept": media_type}, timeout=30)
            assert response.status_code == 404, (iri, suffix)
            reference = requests.get(unknown, headers={"Accept": media_type}, timeout=30)
            assert response.text.replace(iri, "X") == reference.text.replace(unknown, "X"), (iri, suffix)
        assert requests.get(f"{iri}/distribution/{iri.rsplit('/', 1)[1]}-csv", timeout=30).status_code == 404
    # the publisher only restricted records mention is not there either
    assert requests.get(f"{base}/publisher/hidden-test-agency", timeout=30).status_code == 404
    assert requests.get(f"{base}/publisher/open-test-trust", timeout=30).status_code == 200
    # not in the feed, the dumps, the sitemap, nor the VoID examples
    listed = []
    url = "/catalog.json?per_page=500"
    while url:
        page = mixed_server.get(url).json()
        listed += [item["iri"] for item in page["items"]]
        url = ("/catalog.json?" + urlsplit(page["next"]).query) if page["next"] else None
    assert public in listed and not set(hidden) & set(listed)
    since = mixed_server.get("/catalog.json?modified_since=2024-01-01").json()["items"]
    assert public in [i["iri"] for i in since] and not set(hidden) & {i["iri"] for i in since}
    for dump in ("/catalog.nt", "/catalog.nq", "/sitemap.xml", "/.well-known/void.nt", "/catalog.ttl?per_page=500"):
        text = mixed_server.get(dump).text
        assert "secret-bus-counts" not in text and "private-bus-counts" not in text, dump
        assert "Hidden Test Agency" not in text, dump
    assert "open-bus-counts" in mixed_server.get("/catalog.nt").text


def test_withdrawn_dataset_answers_410_in_the_requested_format(mixed_server):
    base = mixed_server.url
    export = mixed_server.root / "withdrawable.json"  # type: ignore[attr-defined]
    items = [
        datapress_item("kept-traffic-counts", "public", "Open Test Trust", "Kept traffic counts"),
        datapress_item("gone-traffic-counts", "public", "Open Test Trust", "Gone traffic counts"),
    ]
    for kept in (items, items[:1]):
        export.write_text(json.dumps(kept))
        dfl(
            "--base",
            base,
            "load",
            "datapress",
            str(export),
            "--source",
            "withdrawable",
            "--store",
            str(mixed_server.data_dir),
        )
    gone = f"{base}/dataset/gone-traffic-counts"
    assert requests.get(f"{base}/dataset/kept-traffic-counts", timeout=30).status_code == 200
    for suffix, media_type in MEDIA.items():
        response = requests.get(gone, headers={"Accept": media_type}, timeout=30)
        assert response.status_code == 410, (suffix, response.text[:200])
        assert format_of(response) == suffix
        if suffix in RDF_FORMATS:
            graph = parse_both(response.content, suffix, gone)
            assert (rdflib.URIRef(gone), RDF.type, rdflib.URIRef(f"{base}/def/dfl#WithdrawnDataset")) in graph
            assert str(graph.value(rdflib.URIRef(gone), DCT.title)) == "Gone traffic counts"
        if suffix == "json":
            assert response.json()["status"] == "withdrawn"
        if suffix == "html":
            assert "withdrawn" in response.text
    assert requests.get(gone + ".ttl", timeout=30).status_code == 410
    assert requests.get(f"{gone}/distribution/gone-traffic-counts-csv", timeout=30).status_code == 410
    listed = [i["iri"] for i in mixed_server.get("/catalog.json?per_page=500&page=1").json()["items"]]
    assert gone not in listed and f"{base}/dataset/kept-traffic-counts" in listed
    assert "gone-traffic-counts" not in mixed_server.get("/sitemap.xml").text


# -- the W3C DCAT 3 examples ------------------------------------------------------------------------------
def example_files() -> list[Path]:
    """The examples (Turtle and TriG) that describe at least one titled dcat:Dataset (the loaders reject
    untitled ones: a file of only those publishes nothing)."""
    dataset = pyoxigraph.NamedNode(str(DCAT.Dataset))
    title_props = {str(DCT.title), *P_LABEL_PROPS}
    chosen = []
    for file in sorted(W3C_EXAMPLES.glob("*")):
        fmt = {".ttl": pyoxigraph.RdfFormat.TURTLE, ".trig": pyoxigraph.RdfFormat.TRIG}.get(file.suffix)
        if fmt is None:
            continue
        quads = list(pyoxigraph.parse(path=str(file), format=fmt, base_iri="http://example.org/"))
        datasets = {q.subject for q in quads if q.object == dataset}
        if any(q.subject in datasets and q.predicate.value in title_props for q in quads):
            chosen.append(file)
    return chosen


def test_w3c_dcat_examples_come_back_dereferenceable(tmp_path):
    files = example_files()
    assert len(files) >= 7
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "catalogue"
    vocabularies = Vocabularies(Uris(base))
    expected_sources, expected_public, expected_services = set(), 0, 0
    for file in files:
        source = "w3c-" + file.stem.lower().replace("_", "-")
        dfl("--base", base, "load", "dcat", str(file), "--source", source, "--store", str(data_dir))
        records = loader_class("dcat")(vocabularies).read_all(file)
        public = [r for r in records if r.is_public]
        expected_services += sum(isinstance(r, DataServiceRecord) for r in public)
        expected_public += len(public)
        expected_sources |= {r.original_iri for r in public if r.original_iri}
    with live_server(data_dir, port):
        result = crawl(base, skip=frozenset({base + "/"}))
        graph = result.union()
        datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
        services = {s for s in graph.subjects(RDF.type, DCAT.DataService) if str(s).startswith(base + "/service/")}
        assert (len(datasets), len(services)) == (expected_public - expected_services, expected_services)
        assert expected_services >= 3  # csiro-stratchart's SPARQL service, threddsABC's two
        assert all(str(d).startswith(base + "/dataset/") and str(d) in result.graphs for d in datasets)
        assert all(str(s) in result.graphs for s in services)  # crawled: linked from the catalogue feed
        derived_from = (DCT.source, rdflib.URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"))
        sources = {str(o) for d in datasets | services for p in derived_from for o in graph.objects(d, p)}
        assert expected_sources <= sources
        distributions = set(graph.subjects(RDF.type, DCAT.Distribution))
        assert distributions and all(str(d) in result.graphs for d in distributions)


def test_dataset_documents_read_by_lookups_equal_the_published_construct(tmp_path):
    """The views read a dataset's document with index lookups; queries/dataset-document.rq is its published
    definition. Both must give the same statements, for every public dataset of a varied catalogue (generated
    DataPress records with checksums and temporal coverage, the W3C examples, the DCAT-AP HVD example of an API
    serving two datasets, the default catalogue)."""
    from dfl_graph.store import CatalogueReader
    from dfl_graph.web.documents import construct, dataset_statements, home_graphs

    base = "http://127.0.0.1:1"
    data_dir = tmp_path / "catalogue"
    export = tmp_path / "export.json"
    dfl("generate", "300", str(export))
    dfl("--base", base, "load", "datapress", str(export), "--source", "generated", "--store", str(data_dir))
    load_default(data_dir, base)
    for file in example_files():
        source = "w3c-" + file.stem.lower().replace("_", "-")
        dfl("--base", base, "load", "dcat", str(file), "--source", source, "--store", str(data_dir))
    served_file = Path(__file__).parent / "data" / "dcat-ap-hvd" / "example-ms_dataset_data_service.ttl"
    dfl("--base", base, "load", "dcat", str(served_file), "--source", "hvd", "--store", str(data_dir))
    snapshot = CatalogueReader(data_dir).snapshot()
    dataset_type = pyoxigraph.NamedNode(str(DCAT.Dataset))
    datasets = {
        q.subject.value
        for graph in snapshot.public_graphs
        for q in snapshot.store.quads_for_pattern(None, RDF_TYPE, dataset_type, graph)
    }
    assert len(datasets) > 500
    checksums = served = 0
    for iri in sorted(datasets):
        graphs = home_graphs(snapshot, iri, dataset_type)
        read = list(dataset_statements(snapshot, iri, graphs))
        constructed = set(construct(snapshot, "dataset-document", {"dataset": iri}, graphs))
        assert len(read) == len(set(read)) and set(read) == constructed, iri
        checksums += sum(t.predicate.value == "http://spdx.org/rdf/terms#checksum" for t in read)
        served += sum(t.predicate.value == str(DCAT.servesDataset) for t in read)
    assert checksums > 0, "the catalogue exercises the distribution -> checksum step"
    assert served > 0, "the catalogue exercises the link in from a data service (the DCAT-AP HVD example)"


# -- bad input ----------------------------------------------------------------------------------------------
def raw_get(server, target: str, headers: dict | None = None) -> tuple[int, str, str]:
    """A request with the path sent exactly as given (no client-side normalisation)."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("GET", target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("target", "status", "words"),
    [
        ("/dataset/..%2F..%2Fetc%2Fpasswd", 404, "Not Found"),
        ("/dataset/../../etc/passwd", 404, "Not Found"),
        ("/dataset/%2e%2e/%2e%2e/server.py", 404, "Not Found"),
        ("/static/..%2F..%2F..%2Fserver.py", 404, "Not Found"),
        ("/static/../server.py", 404, "Not Found"),
        ("/theme/..%2F..%2Fontology%2Fthemes.ttl", 404, "Not Found"),
        ("/dataset/%00", 404, "Not Found"),
        ("/dataset/%ff%fe", 404, "Not Found"),
        ("/dataset/x.exe", 404, "Not Found"),
        ("/catalog.exe", 404, "no 'exe' representation"),
        ("/themes.exe", 404, "no 'exe' representation"),
        ("/dataset/" + "a" * 3000, 414, "at most 2048"),
        ("/dataset/" + "a" * 12000, 414, "too large"),  # refused by gunicorn itself
        ("/catalog?page=" + "1" * 5000, 400, "page must be a whole number"),
        ("/graph/..%2Fsystem", 404, "Not Found"),
        ("/def/dfl.exe", 404, "no 'exe' representation"),
        ("/theme/transport?page=0", 400, "page must be a whole number"),
        ("/publisher/gla?page=abc", 400, "page must be a whole number"),
    ],
)
def test_bad_input_is_a_readable_4xx(default_server, target, status, words):
    code, _, body = raw_get(default_server, target, {"Accept": "text/html"})
    assert code == status, (target, code, body[:300])
    assert words in body.replace("&#39;", "'"), (target, body[:300])
    assert "Traceback" not in body


def test_unknown_suffix_on_an_existing_dataset_lists_the_suffixes(default_server):
    dataset = first_dataset(default_server)
    response = requests.get(dataset + ".exe", headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "'.exe'" in message and ".ttl" in message and ".jsonld" in message


def test_no_server_errors_were_logged(default_server):
    """After the bad-input tests above, the server log has no tracebacks and no 500s."""
    raw_get(default_server, "/dataset/" + quote("ünïcödé"), {"Accept": "text/turtle"})
    log = (default_server.data_dir.parent / f"server-{urlsplit(default_server.url).port}.log").read_text()
    assert "Traceback" not in log
    assert '" 500 ' not in log


def test_error_bodies_parse_in_their_format(default_server):
    url = default_server.url + "/dataset/no-such-dataset"
    rdf = requests.get(url, headers={"Accept": "application/rdf+xml"}, timeout=30)
    assert rdf.status_code == 404
    ET.fromstring(rdf.content)
    assert "There is no public dataset" in rdf.text


def test_the_server_shuts_down_cleanly_after_serving_from_the_store(tmp_path):
    """Stopping `dfl serve` after it has read the store, run queries and started SPARQL workers: every
    gunicorn worker exits normally (no crash in the store's teardown) and no query worker is left."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "catalogue"
    load_default(data_dir, base)
    with live_server(data_dir, port) as server:
        dataset = first_dataset(server)
        for _ in range(4):  # reach both workers
            assert requests.get(dataset, headers={"Accept": "text/turtle"}, timeout=30).status_code == 200
            assert requests.get(base + "/sparql", params={"query": "ASK {}"}, timeout=30).status_code == 200
        pid = server.process.pid
    log = (tmp_path / f"server-{port}.log").read_text()
    assert "Worker exiting" in log and "Shutting down: Master" in log
    assert "SIGSEGV" not in log and "was sent" not in log, log[-2000:]
    deadline = time.monotonic() + 10  # query workers leave when they see their fork server gone
    while (leftovers := _processes_of_session(pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not leftovers, f"processes of the server's session outlived it: {leftovers}"


def _processes_of_session(sid: int) -> list[str]:
    """Command lines of the live (not zombie) processes of a session."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if proc.name.isdigit() and int(fields[3]) == sid and fields[0] != "Z":
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
        except (OSError, ValueError, IndexError):
            continue
    return found
