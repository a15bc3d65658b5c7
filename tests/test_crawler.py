"""Crawlers' view of the catalogue: every IRI under the base dereferences in every RDF format (and the
formats agree), sitemaps, robots.txt, VoID, the JSON-LD context, and schema.org on dataset pages."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import rdflib
import requests
from conftest import dfl, free_port, live_server, load_default
from ld_client import crawl, fetch_all_formats, iris_under

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
RDF = rdflib.RDF
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
W3C_DATETIME = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$")


def home(base: str) -> frozenset[str]:
    """The site root is the Library's home page (HTML and JSON, a foaf:Document), not an RDF resource."""
    return frozenset({base + "/"})


def catalogue_total(server) -> int:
    return server.get("/catalog.json").json()["total"]


@pytest.fixture(scope="module")
def rich_server(tmp_path_factory):
    """The default catalogue plus synthetic DataPress datasets with distributions, checksums, contacts,
    periods, boroughs and publishers the vocabularies do not know."""
    root = tmp_path_factory.mktemp("rich")
    data_dir = root / "catalogue"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load_default(data_dir, base)
    export = root / "generated.json"
    dfl("generate", "60", str(export), "--seed", "7")
    dfl("--base", base, "load", "datapress", str(export), "--source", "generated", "--store", str(data_dir))
    with live_server(data_dir, port) as server:
        yield server


def test_crawl_default_catalogue_every_iri_every_format(default_server):
    """From /catalog, every IRI under the base answers 200 in Turtle, JSON-LD, RDF/XML and N-Triples; each
    document parses with rdflib and pyoxigraph alike, and the four formats are the same graph."""
    base = default_server.url
    result = crawl(base, skip=home(base))
    union = result.union()
    datasets = {str(s) for s in union.subjects(RDF.type, DCAT.Dataset)}
    assert len(datasets) == catalogue_total(default_server) > 200
    assert all(d in result.graphs for d in datasets)  # each dataset IRI was itself dereferenced
    fetched = set(result.graphs)
    for expected in ("/themes", "/boroughs", "/publisher/gla", "/catalog?page=2"):
        assert base + expected in fetched, expected
    assert any(url.startswith(base + "/theme/") for url in fetched)
    assert any(url.startswith(base + "/borough/") for url in fetched)


def test_crawl_rich_catalogue_distributions_and_sub_resources(rich_server):
    base = rich_server.url
    result = crawl(base, skip=home(base))
    union = result.union()
    distributions = set(union.subjects(RDF.type, DCAT.Distribution))
    assert distributions and all(str(d) in result.graphs for d in distributions)
    # hash sub-resources come with their dataset's document
    subjects = {str(s) for s in union.subjects()}
    assert any(s.endswith("#contact") for s in subjects)
    assert any(s.endswith("#checksum") for s in subjects)
    assert any(s.endswith("#temporal") for s in subjects)
    assert any("/publisher/" in url for url in result.graphs)


def test_hash_iris_resolve_to_their_document(rich_server):
    session = requests.Session()
    graphs = fetch_all_formats(session, rich_server.url + "/def/dfl")
    terms = {str(s) for s in graphs["ttl"].subjects() if "#" in str(s)}
    assert rich_server.url + "/def/dfl#holdsPersonalData" in terms
    assert iris_under(graphs["ttl"], rich_server.url) >= {rich_server.url + "/def/dfl"}


# -- sitemaps and robots.txt -----------------------------------------------------------------------------
def sitemap_urls(document: bytes) -> list[tuple[str, str | None]]:
    root = ET.fromstring(document)
    assert root.tag == SITEMAP + "urlset", root.tag
    urls = []
    for entry in root.findall(SITEMAP + "url"):
        lastmod = entry.find(SITEMAP + "lastmod")
        urls.append((entry.find(SITEMAP + "loc").text, lastmod.text if lastmod is not None else None))
    return urls


def test_sitemap_lists_every_public_dataset_with_lastmod(default_server):
    response = default_server.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    urls = sitemap_urls(response.content)
    locs = [loc for loc, _ in urls]
    assert len(locs) == len(set(locs))
    datasets = [loc for loc in locs if "/dataset/" in loc]
    assert len(datasets) == catalogue_total(default_server)
    assert default_server.url + "/catalog" in locs and default_server.url + "/themes" in locs
    with_lastmod = [when for loc, when in urls if "/dataset/" in loc and when]
    assert len(with_lastmod) > 200
    assert all(W3C_DATETIME.match(when) for _, when in urls if when)
    # every listed page is there
    for loc in locs[:10] + datasets[:10]:
        page = requests.get(loc, timeout=30)
        assert page.status_code == 200, loc
    again = default_server.get("/sitemap.xml", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_sitemap_index_past_the_limit(tmp_path):
    """Past sitemap_max_urls (50,000 by default; 100 here) /sitemap.xml is a sitemap index."""
    port = free_port()
    data_dir = tmp_path / "catalogue"
    load_default(data_dir, f"http://127.0.0.1:{port}")
    with live_server(data_dir, port, env={"DFL_SITEMAP_MAX_URLS": "100"}) as server:
        index = ET.fromstring(server.get("/sitemap.xml").content)
        assert index.tag == SITEMAP + "sitemapindex"
        locs = [e.find(SITEMAP + "loc").text for e in index.findall(SITEMAP + "sitemap")]
        assert locs[0] == server.url + "/sitemap-pages.xml"
        assert locs[1:] == [f"{server.url}/sitemap-datasets-{n}.xml" for n in (1, 2, 3)]
        assert all(W3C_DATETIME.match(e.find(SITEMAP + "lastmod").text) for e in index.findall(SITEMAP + "sitemap"))
        listed = []
        for loc in locs:
            response = requests.get(loc, timeout=30)
            assert response.status_code == 200, loc
            urls = sitemap_urls(response.content)
            assert 0 < len(urls) <= 100
            listed += [u for u, _ in urls]
        datasets = [u for u in listed if "/dataset/" in u]
        assert len(datasets) == len(set(datasets)) == catalogue_total(server)
        assert server.get("/sitemap-datasets-4.xml").status_code == 404
        assert server.get("/sitemap-datasets-0.xml").status_code == 404


def test_robots_txt_points_to_the_sitemap(default_server):
    response = default_server.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert f"Sitemap: {default_server.url}/sitemap.xml" in lines
    assert "User-agent: *" in lines
    assert "Disallow: /sparql" in lines


# -- VoID and the JSON-LD context -------------------------------------------------------------------------
def test_void_description(default_server):
    base = default_server.url
    session = requests.Session()
    graphs = fetch_all_formats(session, base + "/.well-known/void")
    void = graphs["ttl"]
    dataset = rdflib.URIRef(base + "/.well-known/void#catalogue")
    assert (dataset, RDF.type, VOID.Dataset) in void
    assert (dataset, VOID.sparqlEndpoint, rdflib.URIRef(base + "/sparql")) in void
    assert (dataset, VOID.uriSpace, rdflib.Literal(base + "/")) in void
    assert (dataset, VOID.dataDump, rdflib.URIRef(base + "/catalog.nt")) in void
    assert (dataset, VOID.rootResource, rdflib.URIRef(base + "/catalog")) in void
    assert (dataset, VOID.vocabulary, rdflib.URIRef(str(DCAT))) in void
    assert int(void.value(dataset, VOID.triples)) > 3000
    assert int(void.value(dataset, VOID.entities)) > 249
    assert int(void.value(dataset, VOID.classes)) >= 3
    partitions = {
        void.value(p, VOID["class"]): int(void.value(p, VOID.entities))
        for p in void.objects(dataset, VOID.classPartition)
    }
    assert partitions[DCAT.Dataset] == catalogue_total(default_server)
    examples = list(void.objects(dataset, VOID.exampleResource))
    assert examples
    for example in examples:
        assert session.get(str(example), headers={"Accept": "text/turtle"}).status_code == 200
    subsets = list(void.objects(dataset, VOID.subset))
    assert subsets and all(str(s).startswith(base + "/graph/") for s in subsets)
    assert not any(str(s).endswith(("/restricted", "/system")) for s in subsets)
    fetch_all_formats(session, str(subsets[0]))  # public graphs dereference too
    assert session.get(base + "/graph/system", headers={"Accept": "text/turtle"}).status_code == 404
    assert session.get(base + "/graph/london-datastore-2010/restricted").status_code == 404
    assert default_server.get("/.well-known/void").headers["Content-Type"].startswith("text/turtle")  # no Accept


def test_context_jsonld_has_dfl_and_base(default_server):
    response = default_server.get("/context.jsonld")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/ld+json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    context = response.json()["@context"]
    assert context["dfl"] == default_server.url + "/def/dfl#"
    assert context["@base"] == default_server.url + "/"
    shipped = json.loads((Path(__file__).parent.parent / "ontology" / "context.jsonld").read_text())["@context"]
    assert {k: v for k, v in context.items() if k not in ("dfl", "@base")} == shipped
    # documents are compacted with that very context
    dataset = default_server.get("/catalog.json").json()["items"][0]["iri"]
    document = requests.get(dataset, headers={"Accept": "application/ld+json"}, timeout=30).json()
    assert document["@context"] == context
    assert any(node.get("type") == "Dataset" and "title" in node for node in document["@graph"])


# -- schema.org for dataset search engines ----------------------------------------------------------------
class PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.alternates: list[dict] = []
        self.json_ld: list[str] = []
        self.links: list[str] = []
        self._in_json_ld = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") == "alternate":
            self.alternates.append(attributes)
        if tag == "script" and attributes.get("type") == "application/ld+json":
            self._in_json_ld = True
            self.json_ld.append("")
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json_ld = False

    def handle_data(self, data):
        if self._in_json_ld:
            self.json_ld[-1] += data


def test_dataset_page_embeds_schema_org_and_alternates(rich_server):
    items = rich_server.get("/catalog.json?per_page=500").json()["items"]
    record = next(r for r in items if r["distributions"] and r["boroughs"] and r["modified"])
    page = requests.get(record["iri"], headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    reader = PageReader()
    reader.feed(page.text)
    (schema,) = [json.loads(text) for text in reader.json_ld]
    assert schema["@context"] == "https://schema.org/" and schema["@type"] == "Dataset"
    assert schema["url"] == record["iri"] and schema["name"] == record["title"]
    for key in ("description", "identifier", "publisher", "spatialCoverage", "dateModified", "distribution"):
        assert schema.get(key), key
    assert schema["publisher"]["@type"] == "Organization" and schema["publisher"]["name"]
    assert all(d["@type"] == "DataDownload" and d["contentUrl"] and d["encodingFormat"] for d in schema["distribution"])
    types = {a["type"]: a["href"] for a in reader.alternates}
    assert set(types) >= {"text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"}
    for media_type, href in types.items():
        alternate = requests.get(href, timeout=30)
        assert alternate.status_code == 200 and alternate.headers["Content-Type"].startswith(media_type), href
    sparql = [href for href in reader.links if href.startswith("/sparql?")]
    assert sparql, "no 'Query this in SPARQL' link"
    query = parse_qs(urlsplit(sparql[0]).query)["query"][0]
    assert f"<{record['iri']}>" in query and "SELECT" in query
