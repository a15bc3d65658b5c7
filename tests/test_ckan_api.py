"""The CKAN-compatible API (issue 6), driven by the PyPI ``ckanapi`` client against the real server (gunicorn),
over a catalogue harvested from real fixtures; and the round trip: our own harvester reads it back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import pytest
import requests
from conftest import LiveServer, free_port, live_server
from portal_server import PortalServer, Reply, ckan_search
from pyoxigraph import NamedNode

from dfl_graph.generate import iter_datasets
from dfl_graph.harvest import harvest_source
from dfl_graph.harvest.config import parse_config
from dfl_graph.indexes.registry import open_writer
from dfl_graph.ingest import ensure_vocabularies
from dfl_graph.namespaces import DCAT, RDF
from dfl_graph.uris import Uris
from dfl_graph.vocabularies import Vocabularies

DATA = Path(__file__).resolve().parent / "data"
BIRMINGHAM = DATA / "ckan-birmingham" / "package_search.json"
ARCGIS = DATA / "arcgis-datajson-apur" / "esri.jsonld"
FAST = {"retries": 1, "backoff": 0.0}
PUBLIC_DATAPRESS = 30


def source(name: str, kind: str, url: str, **options):
    raw = {"name": name, "type": kind, "url": url, "options": {**options, "http": FAST}}
    return parse_config({"source": [raw]}, Path("test.toml")).sources[0]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Birmingham (CKAN), APUR (ArcGIS Hub data.json) and 31 DataPress datasets (one restricted), harvested
    from local portals into a store served by `dfl serve`."""
    port = free_port()
    uris = Uris(f"http://127.0.0.1:{port}")
    data_dir = tmp_path_factory.mktemp("ckan-api") / "catalogue"
    items = list(iter_datasets(PUBLIC_DATAPRESS + 1, 31))
    for n, item in enumerate(items):
        item["sharing"] = "restricted" if n == 0 else "public"
    with PortalServer() as portal, open_writer(data_dir, uris) as store:
        ensure_vocabularies(store)
        vocabularies = Vocabularies(uris)
        portal.route(
            "/api/3/action/package_search", ckan_search(json.loads(BIRMINGHAM.read_text())["result"]["results"])
        )
        portal.file("/data.json", ARCGIS)
        portal.route("/export.json", Reply.json(items))
        for spec in (
            source("birmingham", "ckan", portal.url, rows=4),
            source("apur", "datajson", portal.url + "/data.json"),
            source("lds", "datapress", portal.url + "/export.json"),
        ):
            assert harvest_source(store, vocabularies, spec).status == "ok"
    with live_server(data_dir, port) as server:
        server.restricted_id = items[0]["id"]  # type: ignore[attr-defined]
        yield server


@pytest.fixture(scope="module")
def ckan(catalogue: LiveServer) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(catalogue.url, user_agent="dfl-tests")


TOTAL = 10 + 71 + PUBLIC_DATAPRESS


def test_status_show(ckan):
    status = ckan.action.status_show()
    assert status["ckan_version"].startswith("2.") and status["site_title"] == "Data for London"


def test_package_list_lists_public_datasets_only(ckan, catalogue):
    names = ckan.action.package_list()
    assert len(names) == TOTAL == len(set(names)) and names == sorted(names)
    assert ckan.action.package_list(limit=5, offset=5) == names[5:10]
    assert not [n for n in names if catalogue.restricted_id in n]


def test_package_show_by_name_id_and_iri(ckan, catalogue):
    name = "april-2021-purchase-card-transactions"
    package = ckan.action.package_show(id=name)
    assert package["name"] == name and package["title"] == "April 2021 Purchase Card Transactions"
    assert package["organization"]["name"] == "birmingham-city-council"
    assert package["num_resources"] == len(package["resources"]) >= 1
    assert all(r["url"].startswith("http") and r["package_id"] == package["id"] for r in package["resources"])
    assert package["license_id"] == "OGL_3_0" and package["isopen"] is True
    assert any(t["name"] for t in package["tags"])
    uri = next(e["value"] for e in package["extras"] if e["key"] == "uri")
    assert uri == f"{catalogue.url}/dataset/{name}"
    assert ckan.action.package_show(id=package["id"])["name"] == name
    assert ckan.action.package_show(id=uri)["id"] == package["id"]


def test_package_show_errors(ckan, catalogue):
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="no-such-dataset")
    with pytest.raises(ckanapi.NotFound):  # restricted records do not exist for the public
        ckan.action.package_show(id=catalogue.restricted_id)
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_show()


def test_package_search_pages_through_everything(ckan):
    first = ckan.action.package_search(rows=0)
    assert first["count"] == TOTAL and first["results"] == []
    seen: list[str] = []
    start = 0
    while True:
        page = ckan.action.package_search(rows=17, start=start, sort="title_string asc")
        seen += [p["name"] for p in page["results"]]
        if len(page["results"]) < 17:
            break
        start += 17
    assert len(seen) == len(set(seen)) == TOTAL
    assert sorted(seen) == ckan.action.package_list()


def test_package_search_query_filters_and_sort(ckan):
    found = ckan.action.package_search(q="purchase card", rows=50)
    assert found["count"] >= 10
    assert all("urchase" in p["title"] for p in found["results"][:10])
    orgs = {o["name"]: o["package_count"] for o in ckan.action.organization_list(all_fields=True)}
    assert orgs["birmingham-city-council"] == 10 and orgs["atelier-parisien-d-urbanisme"] == 71
    filtered = ckan.action.package_search(fq="organization:birmingham-city-council", rows=100)
    assert filtered["count"] == 10
    assert {p["organization"]["name"] for p in filtered["results"]} == {"birmingham-city-council"}
    recent = ckan.action.package_search(sort="metadata_modified desc", rows=20)["results"]
    modified = [p["metadata_modified"] for p in recent]
    assert modified == sorted(modified, reverse=True)
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(fq="maintainer:someone")
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(rows=5000)


def test_organizations_and_groups(ckan):
    assert "birmingham-city-council" in ckan.action.organization_list()
    groups = ckan.action.group_list(all_fields=True, sort="package_count desc")
    assert groups and all(g["is_organization"] is False for g in groups)
    counts = [g["package_count"] for g in groups]
    assert counts == sorted(counts, reverse=True)


def test_ckan_json_shapes_over_plain_http(catalogue: LiveServer):
    ok = catalogue.get("/api/3/action/package_search?rows=1")
    body = ok.json()
    assert ok.status_code == 200 and ok.headers["Content-Type"].startswith("application/json")
    assert set(body) == {"help", "success", "result"} and body["success"] is True
    missing = catalogue.get("/api/3/action/package_show?id=nope")
    assert missing.status_code == 404
    assert missing.json()["success"] is False and missing.json()["error"]["__type"] == "Not Found Error"
    invalid = catalogue.get("/api/3/action/package_search?rows=lots")
    assert invalid.status_code == 409 and invalid.json()["error"]["__type"] == "Validation Error"
    assert invalid.json()["error"]["rows"] == ["Invalid integer"]
    unknown = catalogue.get("/api/3/action/package_create")
    assert unknown.status_code == 400 and unknown.json()["success"] is False
    posted = requests.post(catalogue.url + "/api/3/action/package_show", json={"id": "nope"}, timeout=30)
    assert posted.status_code == 404
    assert catalogue.get("/api/3").json() == {"version": 3}
    weird = catalogue.get("/api/3/action/package_search", params={"q": '"unbalanced (( NEAR * -:', "fq": "tags:x"})
    assert weird.status_code in (200, 409) and "success" in weird.json()


def test_our_harvester_federates_our_own_api(catalogue: LiveServer, tmp_path: Path):
    """Being harvested: a second catalogue harvests this one's CKAN API and gets every public dataset."""
    uris = Uris("http://mirror.test")
    with open_writer(tmp_path, uris) as store:
        ensure_vocabularies(store)
        report = harvest_source(store, Vocabularies(uris), source("dfl", "ckan", catalogue.url, rows=25))
        assert report.status == "ok", report.error
        assert report.total("new") == TOTAL and report.pages == 5
        graph = NamedNode(uris.source_graph("dfl"))
        harvested = {q.subject for q in store.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, graph)}
        assert len(harvested) == TOTAL


def test_on_a_catalogue_that_was_loaded_not_harvested(default_server: LiveServer):
    page = default_server.get("/harvest")
    assert page.status_code == 200 and "Nothing has been harvested" in page.text
    assert default_server.get("/harvest.json").json()["sources"] == []
    client = ckanapi.RemoteCKAN(default_server.url)
    names = client.action.package_list()
    assert len(names) == client.action.package_search(rows=0)["count"] > 200
    assert client.action.package_show(id=names[0])["name"] == names[0]
