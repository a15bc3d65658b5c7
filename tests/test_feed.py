"""The harvestable catalogue feed: DCAT-AP pages with Hydra paging, modified_since with a cursor, the
streamed dumps, and the official DCAT-AP 3.0.1 SHACL shapes over everything a harvester collects."""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pyoxigraph
import pytest
import rdflib
import requests
from conftest import dfl, free_port, live_server, load_default
from ld_client import parse_both, walk_feed

from dfl_graph.validation import validate_graph

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
RDF = rdflib.RDF


@pytest.fixture(scope="module")
def rich_feed_server(tmp_path_factory):
    """The default catalogue plus synthetic DataPress datasets with distributions (byte sizes, checksums,
    formats), contact points, periods and publishers the vocabularies do not know."""
    root = tmp_path_factory.mktemp("feed")
    data_dir, port = root / "catalogue", free_port()
    base = f"http://127.0.0.1:{port}"
    load_default(data_dir, base)
    export = root / "generated.json"
    dfl("generate", "150", str(export), "--seed", "11")
    dfl("--base", base, "load", "datapress", str(export), "--source", "generated", "--store", str(data_dir))
    with live_server(data_dir, port) as server:
        yield server


def union(pages: list[rdflib.Graph]) -> rdflib.Graph:
    merged = rdflib.Graph()
    for page in pages:
        merged += page
    return merged


def assert_dcat_ap_conformant(server, per_page: int) -> rdflib.Graph:
    """Walk the feed along hydra:next and validate everything collected with the official DCAT-AP 3.0.1
    shapes (ontology/shapes/dcat-ap-3.0.1: cardinalities, datatypes and sh:class ranges).

    Only the feed is validated: no vocabulary is added to the data graph. The range shapes pass because
    every document carries the types of what it links to (publisher foaf:Agent, licence
    dct:LicenseDocument, access right dct:RightsStatement, format dct:MediaTypeOrExtent, ...).
    """
    with requests.Session() as session:
        pages = walk_feed(session, f"{server.url}/catalog?per_page={per_page}")
    graph = union(pages)
    catalog = rdflib.URIRef(server.url + "/catalog")
    listed = set(graph.objects(catalog, DCAT.dataset))
    total = int(graph.value(catalog, HYDRA.totalItems))
    assert len(listed) == total == server.get("/catalog.json").json()["total"]
    assert len(pages) == -(-total // per_page)
    described = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert described == listed  # every listed dataset comes with its description
    report = validate_graph(graph, "dcat-ap", server.url)
    violations = [str(f) for f in report.findings if f.severity == "Violation"]
    assert report.violations == 0, "\n".join(violations[:30])
    return graph


def test_default_catalogue_through_the_feed_has_no_dcat_ap_violations(default_server):
    graph = assert_dcat_ap_conformant(default_server, per_page=100)
    catalog = rdflib.URIRef(default_server.url + "/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    assert graph.value(catalog, DCT.title) and graph.value(catalog, DCT.description)
    publisher = graph.value(catalog, DCT.publisher)
    assert publisher is not None and (publisher, RDF.type, rdflib.URIRef("http://xmlns.com/foaf/0.1/Agent")) in graph


def test_rich_catalogue_through_the_feed_has_no_dcat_ap_violations(rich_feed_server):
    graph = assert_dcat_ap_conformant(rich_feed_server, per_page=60)
    assert len(set(graph.subjects(RDF.type, DCAT.Distribution))) > 100
    sizes = list(graph.objects(None, DCAT.byteSize))
    assert sizes and all(s.datatype == rdflib.XSD.nonNegativeInteger for s in sizes)


def test_hydra_view_links_are_absolute_and_complete(default_server):
    base = default_server.url
    response = requests.get(f"{base}/catalog?page=2&per_page=50", headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200
    graph = parse_both(response.content, "ttl", response.url)
    catalog = rdflib.URIRef(base + "/catalog")
    view = rdflib.URIRef(f"{base}/catalog?page=2&per_page=50")
    total = int(graph.value(catalog, HYDRA.totalItems))
    last = -(-total // 50)
    assert (catalog, HYDRA.view, view) in graph
    assert (view, RDF.type, HYDRA.PartialCollectionView) in graph
    assert graph.value(view, HYDRA.first) == rdflib.URIRef(f"{base}/catalog?page=1&per_page=50")
    assert graph.value(view, HYDRA.previous) == rdflib.URIRef(f"{base}/catalog?page=1&per_page=50")
    assert graph.value(view, HYDRA.next) == rdflib.URIRef(f"{base}/catalog?page=3&per_page=50")
    assert graph.value(view, HYDRA.last) == rdflib.URIRef(f"{base}/catalog?page={last}&per_page=50")
    assert len(set(graph.objects(catalog, DCAT.dataset))) == 50
    first = parse_both(default_server.get("/catalog", headers={"Accept": "text/turtle"}).content, "ttl", base)
    first_view = rdflib.URIRef(f"{base}/catalog?page=1")
    assert first.value(first_view, HYDRA.previous) is None and first.value(first_view, HYDRA.next) is not None
    final = default_server.get(f"/catalog?page={last}&per_page=50", headers={"Accept": "text/turtle"})
    final_graph = parse_both(final.content, "ttl", base)
    assert final_graph.value(rdflib.URIRef(f"{base}/catalog?page={last}&per_page=50"), HYDRA.next) is None


def test_pages_cover_the_catalogue_once_in_a_stable_order(default_server):
    seen: list[str] = []
    url = "/catalog.json?per_page=40"
    while url:
        page = default_server.get(url).json()
        seen += [item["iri"] for item in page["items"]]
        url = (
            urlsplit(page["next"]).path.replace("/catalog", "/catalog.json") + "?" + urlsplit(page["next"]).query
            if page["next"]
            else None
        )
    assert len(seen) == len(set(seen)) == default_server.get("/catalog.json").json()["total"]
    assert seen == sorted(seen)
    again = [i["iri"] for i in default_server.get("/catalog.json?page=3&per_page=40").json()["items"]]
    assert again == seen[80:120]


def test_numbered_pages_follow_iri_order_after_an_in_place_write(rich_feed_server):
    """The generated source was loaded into the London catalogue in place (its index updated from the delta,
    new rows numbered on from the last): numbered pages still cover every dataset once, in IRI order, as the
    cursor walk does."""
    data_dir = rich_feed_server.data_dir
    current = data_dir / "generations" / f"{int((data_dir / 'CURRENT').read_text()):08d}"
    assert (current / "changes.json").exists(), "the second load was not written in place"
    by_cursor, url = [], "/catalog.json?per_page=100"
    while url:
        page = rich_feed_server.get(url).json()
        by_cursor += [item["iri"] for item in page["items"]]
        url = page["next"] and "/catalog.json?" + urlsplit(page["next"]).query
    first = rich_feed_server.get("/catalog.json?page=1&per_page=100").json()
    numbered = [item["iri"] for item in first["items"]]
    for number in range(2, -(-first["total"] // 100) + 1):
        numbered += [
            item["iri"] for item in rich_feed_server.get(f"/catalog.json?page={number}&per_page=100").json()["items"]
        ]
    assert len(numbered) == first["total"] > 150
    assert numbered == by_cursor == sorted(set(numbered))


def test_per_page_is_capped(default_server):
    page = default_server.get("/catalog.json?per_page=100000").json()
    assert len(page["items"]) == min(500, page["total"])
    assert "per_page=500" in page["first"]


def test_modified_since_pages_by_cursor(rich_feed_server):
    default_server = rich_feed_server
    everything = default_server.get("/catalog.json?per_page=500").json()["items"]
    dates = sorted(r["modified"][:10] for r in everything if r.get("modified"))
    since = dates[len(dates) // 2]
    expected = [r["iri"] for r in everything if (r.get("modified") or "") >= since]
    assert 0 < len(expected) < len(everything)
    collected, url, pages = [], f"{default_server.url}/catalog?modified_since={since}&per_page=20", 0
    while url:
        response = requests.get(url, headers={"Accept": "text/turtle"}, timeout=30)
        assert response.status_code == 200, response.text
        graph = parse_both(response.content, "ttl", url)
        view = rdflib.URIRef(url)
        collection = rdflib.URIRef(f"{default_server.url}/catalog?modified_since={since}&per_page=20")
        assert int(graph.value(collection, HYDRA.totalItems)) == len(expected)
        assert graph.value(view, HYDRA.first) == collection
        collected += sorted(str(d) for d in graph.objects(rdflib.URIRef(default_server.url + "/catalog"), DCAT.dataset))
        following = graph.value(view, HYDRA.next)
        url = str(following) if following else None
        pages += 1
        if url:
            assert "cursor=" in url and parse_qs(urlsplit(url).query)["cursor"][0].startswith(default_server.url)
    assert collected == expected
    assert pages == -(-len(expected) // 20)
    later = default_server.get("/catalog.json?modified_since=2099-01-01").json()
    assert later["total"] == 0 and later["items"] == []


def test_dumps_stream_every_public_quad(default_server):
    response = requests.get(default_server.url + "/catalog.nt", stream=True, timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/n-triples")
    assert "Content-Length" not in response.headers  # streamed, not built in memory
    assert response.headers.get("Transfer-Encoding") == "chunked"
    body = b"".join(response.iter_content(65536))
    triples = list(pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.N_TRIPLES))
    datasets = {
        t.subject.value for t in triples if t.predicate.value == str(RDF.type) and t.object.value == str(DCAT.Dataset)
    }
    assert len(datasets) == default_server.get("/catalog.json").json()["total"]
    quads = list(pyoxigraph.parse(default_server.get("/catalog.nq").content, format=pyoxigraph.RdfFormat.N_QUADS))
    graphs = Counter(q.graph_name.value for q in quads)
    assert f"{default_server.url}/graph/london-datastore-2010" in graphs
    assert f"{default_server.url}/graph/vocab/themes" in graphs
    assert not any(g.endswith(("/restricted", "/system")) for g in graphs)
    assert len(quads) >= len(triples)
    etag = response.headers["ETag"]
    assert default_server.get("/catalog.nt", headers={"If-None-Match": etag}).status_code == 304
    # a paged N-Triples view is a page, not the dump
    page = default_server.get("/catalog.nt?page=1")
    assert page.status_code == 200 and "Content-Length" in page.headers


def test_catalogue_json_and_html_twins(default_server):
    page = default_server.get("/catalog.json?page=2&per_page=10").json()
    assert page["page"] == 2 and page["pages"] == -(-page["total"] // 10) and len(page["items"]) == 10
    assert page["previous"].endswith("/catalog?page=1&per_page=10") and page["next"].endswith("page=3&per_page=10")
    html = default_server.get("/catalog?page=2&per_page=10", headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    assert all(item["title"] in html.text.replace("&#39;", "'").replace("&amp;", "&") for item in page["items"])
    jsonld = default_server.get("/catalog?page=2&per_page=10", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["Content-Location"] == f"{default_server.url}/catalog.jsonld?page=2&per_page=10"
    assert json.loads(jsonld.content)["@context"]["@base"] == default_server.url + "/"


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("page=-1", 400, "page must be a whole number"),
        ("page=0", 400, "page must be a whole number"),
        ("page=abc", 400, "page must be a whole number"),
        ("page=1.5", 400, "page must be a whole number"),
        ("page=" + "9" * 400, 400, "page must be a whole number"),
        ("page=1000000000000", 404, "past the last page"),
        ("page=99", 404, "past the last page"),
        ("per_page=0", 400, "per_page"),
        ("per_page=-5", 400, "per_page"),
        ("per_page=many", 400, "per_page"),
        ("modified_since=yesterday", 400, "modified_since must be an ISO 8601"),
        ("modified_since=2024-13-01", 400, "modified_since must be an ISO 8601"),
        ("modified_since=2024-02-30", 400, "modified_since must be an ISO 8601"),
        ("modified_since=", 400, "modified_since must be an ISO 8601"),
        ("cursor=", 400, "cursor must be the IRI"),
        ("cursor=notaniri", 400, "cursor must be the IRI"),
        ("page=2&cursor=http://x/y", 400, "cannot be combined"),
    ],
)
def test_bad_paging_input_is_a_clear_4xx(default_server, query, status, words):
    for accept, check in (
        ("application/json", lambda r: r.json()["error"]["message"]),
        ("text/html", lambda r: r.text),
    ):
        response = default_server.get(f"/catalog?{query}", headers={"Accept": accept})
        assert response.status_code == status, (query, response.status_code, response.text[:300])
        assert words in check(response).replace("&#39;", "'"), (query, check(response)[:300])
    turtle = default_server.get(f"/catalog.ttl?{query}")
    assert turtle.status_code == status and turtle.text.startswith(f"# {status} ")


def test_unknown_format_parameter(default_server):
    response = default_server.get("/catalog?format=exe", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "unknown format 'exe'" in response.json()["error"]["message"]
    assert default_server.get("/catalog?format=turtle").headers["Content-Type"].startswith("text/turtle")
