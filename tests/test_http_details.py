"""HTTP details linked-data clients rely on: ETags that change only with the document, CORS preflight, the site
root in RDF, every RDF media type a document can be written in, JSON-LD profiles, the trailing slash, Hydra
members, and one gunicorn control socket per server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import rdflib
import requests
from conftest import DEFAULT_CSV, dfl, free_port, live_server
from rdflib.compare import isomorphic

from dfl_graph.generate import generate_export
from dfl_graph.serving import control_socket

HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


def first_dataset(server) -> str:
    return server.get("/catalog.json?per_page=1").json()["items"][0]["iri"]


def test_etags_change_only_with_the_document(tmp_path: Path) -> None:
    """A load of another source publishes a new generation: an unchanged dataset keeps its ETag and
    Last-Modified, and a crawler's conditional request gets 304."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    store = tmp_path / "store"
    dfl("--base", base, "load", "lds2010", str(DEFAULT_CSV), "--source", "lds", "--store", str(store))
    other = tmp_path / "other.json"
    generate_export(10, other, seed=9)
    with live_server(store, port=port) as server:
        dataset = first_dataset(server)
        before = requests.get(dataset, headers={"Accept": "text/turtle"}, timeout=30)
        generation = server.get("/healthz").json()["generation"]
        dfl("--base", base, "load", "datapress", str(other), "--source", "other", "--store", str(store))
        deadline = time.monotonic() + 30
        while server.get("/healthz").json()["generation"] == generation and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.get("/healthz").json()["generation"] > generation
        after = requests.get(dataset, headers={"Accept": "text/turtle"}, timeout=30)
        assert after.content == before.content
        assert after.headers["ETag"] == before.headers["ETag"]
        assert after.headers["Last-Modified"] == before.headers["Last-Modified"]
        for conditional in (
            {"If-None-Match": before.headers["ETag"]},
            {"If-Modified-Since": before.headers["Last-Modified"]},
        ):
            again = requests.get(dataset, headers={"Accept": "text/turtle", **conditional}, timeout=30)
            assert again.status_code == 304, conditional
        # the catalogue's first page lists the new source's datasets too: it did change
        page = server.get("/catalog.ttl?per_page=500")
        assert page.status_code == 200


def test_cors_preflight_and_allow(default_server) -> None:
    dataset = first_dataset(default_server)
    for uri in (dataset, default_server.url + "/catalog", default_server.url + "/publishers", default_server.url + "/"):
        preflight = requests.options(
            uri,
            headers={
                "Origin": "https://example.org",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "Accept",
            },
            timeout=30,
        )
        assert preflight.status_code == 200, uri
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        methods = {m.strip() for m in preflight.headers["Access-Control-Allow-Methods"].split(",")}
        assert methods == {m.strip() for m in preflight.headers["Allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}
        assert "accept" in preflight.headers["Access-Control-Allow-Headers"].lower()
        assert requests.post(uri, timeout=30).status_code == 405


def test_the_site_root_negotiates_rdf(default_server) -> None:
    html = default_server.get("/", headers={"Accept": "text/html"})
    assert html.headers["Content-Type"].startswith("text/html")
    for media, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")):
        response = default_server.get("/", headers={"Accept": media})
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(media)
        assert "Accept" in response.headers["Vary"]
        graph = rdflib.Graph().parse(data=response.content, format=fmt, publicID=default_server.url + "/")
        catalog = rdflib.URIRef(default_server.url + "/catalog")
        assert (catalog, rdflib.RDF.type, DCAT.Catalog) in graph
    assert default_server.get("/index.ttl").headers["Content-Type"].startswith("text/turtle")


@pytest.mark.parametrize(
    ("media", "parse_as"),
    [
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
        ("text/n3", "n3"),
        ("application/xml", "xml"),
        ("text/xml", "xml"),
    ],
)
def test_more_rdf_media_types(default_server, media: str, parse_as: str) -> None:
    dataset = first_dataset(default_server)
    response = requests.get(dataset, headers={"Accept": media}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] in (media, "application/rdf+xml")
    graph = rdflib.Dataset() if parse_as in ("nquads", "trig") else rdflib.Graph()
    graph.parse(data=response.content, format=parse_as)
    turtle = rdflib.Graph().parse(data=requests.get(dataset + ".ttl", timeout=30).content, format="turtle")
    triples = {(s, p, o) for s, p, o, *_ in (graph.quads() if parse_as in ("nquads", "trig") else graph)}
    assert len(triples) == len(turtle) > 0


def test_jsonld_profiles(default_server) -> None:
    dataset = first_dataset(default_server)
    turtle = rdflib.Graph().parse(data=requests.get(dataset + ".ttl", timeout=30).content, format="turtle")
    forms = {}
    for profile in ("expanded", "compacted", "flattened"):
        accept = f'application/ld+json;profile="http://www.w3.org/ns/json-ld#{profile}"'
        response = requests.get(dataset, headers={"Accept": accept}, timeout=30)
        assert response.status_code == 200
        forms[profile] = response.json()
        graph = rdflib.Graph().parse(data=response.content, format="json-ld")
        assert isomorphic(graph, turtle), profile
        etag = response.headers["ETag"]
        assert requests.get(dataset, headers={"Accept": accept, "If-None-Match": etag}, timeout=30).status_code == 304
    assert isinstance(forms["expanded"], list) and all("@id" in node for node in forms["expanded"])
    assert "@context" not in json.dumps(forms["expanded"])
    for profile in ("compacted", "flattened"):
        assert "@context" in forms[profile] and "@graph" in forms[profile]
    default = requests.get(dataset, headers={"Accept": "application/ld+json"}, timeout=30).json()
    assert default == forms["compacted"]


def test_a_trailing_slash_redirects(default_server) -> None:
    dataset = first_dataset(default_server)
    response = requests.get(dataset + "/?format=ttl", allow_redirects=False, timeout=30)
    assert response.status_code == 308
    assert response.headers["Location"].endswith(dataset.split("://", 1)[1].split("/", 1)[1] + "?format=ttl")
    assert requests.get(dataset + "/", timeout=30).url == dataset
    assert default_server.get("/no-such-thing/").status_code == 404


def test_hydra_collections_list_members(default_server) -> None:
    response = default_server.get("/catalog.ttl?per_page=5")
    graph = rdflib.Graph().parse(data=response.content, format="turtle")
    members = set(graph.objects(None, HYDRA.member))
    datasets = set(graph.objects(rdflib.URIRef(default_server.url + "/catalog"), DCAT.dataset))
    assert len(members) == 5 and members == datasets


def test_two_servers_have_their_own_control_sockets(tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    stores = []
    for number, port in enumerate(ports):
        store = tmp_path / f"store{number}"
        dfl(
            "--base",
            f"http://127.0.0.1:{port}",
            "load",
            "lds2010",
            str(DEFAULT_CSV),
            "--source",
            "lds",
            "--store",
            str(store),
        )
        stores.append(store)
    with live_server(stores[0], port=ports[0]), live_server(stores[1], port=ports[1]):
        sockets = [control_socket("127.0.0.1", port) for port in ports]
        assert sockets[0] != sockets[1]
        deadline = time.monotonic() + 20
        while not all(s.exists() for s in sockets) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all(s.exists() for s in sockets)
