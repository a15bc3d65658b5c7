"""Harvesting (issue 6): real fixtures served by local HTTP servers (tests/portal_server.py; the machine has no
internet), misbehaving servers, incremental re-harvests, provenance, withdrawals, and "a failed or partial
harvest changes nothing"."""

from __future__ import annotations

import copy
import html
import json
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from portal_server import PortalServer, Reply, ckan_search, endless
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse, serialize

from dfl_graph.accounts import AccountsDatabase
from dfl_graph.generate import iter_datasets
from dfl_graph.harvest import ConfigError, FetchError, HttpClient, HttpPolicy, harvest_source, read_config
from dfl_graph.harvest import report as report_module
from dfl_graph.harvest.config import parse_config
from dfl_graph.harvest.fetchers import next_page
from dfl_graph.indexes.catalogue import build_catalogue_index
from dfl_graph.indexes.registry import open_writer
from dfl_graph.indexes.source_records import state_records
from dfl_graph.ingest import ensure_vocabularies
from dfl_graph.namespaces import DCAT, DCT, FOAF, HYDRA, PROV, RDF, XSD
from dfl_graph.plan import scan_stored_records, stored_records
from dfl_graph.publishing import approve_public_personal_data
from dfl_graph.store import CatalogueReader, CatalogueStore, read_changes
from dfl_graph.uris import Uris
from dfl_graph.vocabularies import Vocabularies
from loaders import loader_class

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parent.parent
DATAPRESS_SHAPE = DATA / "datapress-export-shape" / "api" / "v3" / "datasets" / "export.json"
BIRMINGHAM = DATA / "ckan-birmingham" / "package_search.json"
ARCGIS = DATA / "arcgis-datajson-apur" / "esri.jsonld"
ARM = DATA / "us-arm-datajson" / "arm.data.json"
DCAT_RANDOM = DATA / "dcat-ap-random" / "dcat-random.ttl"
GSS = DATA / "uk-gss-catalogue" / "fixture-data.ttl"
W3C = DATA / "w3c-dcat3-examples" / "examples"
BASE = "http://data.test"
URIS = Uris(BASE)
COUNTS = ("fetched", "new", "updated", "unchanged", "withdrawn", "rejected")
FAST = {"retries": 2, "backoff": 0.0, "connect_timeout": 2.0, "read_timeout": 2.0}


@pytest.fixture(scope="module")
def vocabularies() -> Vocabularies:
    return Vocabularies(URIS)


@pytest.fixture
def server():
    with PortalServer() as portal:
        yield portal


def source(name: str, kind: str, url: str, **options):
    http = {**FAST, **options.pop("http", {})}
    raw = {"name": name, "type": kind, "url": url, "options": {**options, "http": http}}
    return parse_config({"source": [raw]}, Path("test.toml")).sources[0]


def totals(report) -> dict[str, int]:
    return {name: report.total(name) for name in COUNTS}


def open_store(path: Path, uris: Uris = URIS) -> CatalogueStore:
    store = open_writer(path, uris)
    ensure_vocabularies(store)
    return store


def public_titles(store: CatalogueStore, name: str) -> dict[str, str]:
    graph = NamedNode(store.uris.source_graph(name))
    prefix = store.uris.dataset("")
    return {
        q.subject.value: q.object.value
        for q in store.store.quads_for_pattern(None, DCT.title, None, graph)
        if q.subject.value.startswith(prefix) and "/" not in q.subject.value[len(prefix) :]
    }


def exported(n: int, seed: int = 7) -> list[dict]:
    """A synthetic DataPress export (dfl generate's datasets), all made public."""
    items = list(iter_datasets(n, seed))
    for item in items:
        item["sharing"] = "public"
    return items


# -- harvest.toml ------------------------------------------------------------------------------------------


def test_the_shipped_harvest_toml_is_valid():
    config = read_config(ROOT / "harvest.toml")
    assert {s.type for s in config.sources} <= {"datapress", "ckan", "datajson", "dcat"}
    assert any(s.name == "london-datastore" and s.type == "datapress" for s in config.sources)
    assert len({s.name for s in config.sources}) == len(config.sources)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[source]]\nname = "a"\ntype = "sparql"\nurl = "http://x"', "unknown type 'sparql'"),
        ('[[source]]\nname = "a"\ntype = "ckan"\nurl = "ftp://x"', "absolute http(s) URL"),
        ('[[source]]\nname = "A b"\ntype = "ckan"\nurl = "http://x"', "lower-case letters"),
        (
            '[[source]]\nname = "a"\ntype = "ckan"\nurl = "http://x"\n[[source]]\nname = "a"\ntype = "ckan"\nurl = "http://y"',
            "a second source named 'a'",
        ),
        ('[[source]]\nname = "a"\ntype = "ckan"\nurl = "http://x"\noptions = { rowz = 5 }', "unknown option(s) rowz"),
        ('[[source]]\nname = "a"\ntype = "ckan"\nurl = "http://x"\noptions = { rows = 5000 }', "between 1 and 1000"),
        ('[[source]]\nname = "a"\ntype = "ckan"\nurl = "http://x"\noptions = { rows = "many" }', "whole number"),
        ("[http]\ntimeout = 3", "unknown HTTP option(s) timeout"),
        ("[[source]]\nname = ", "not valid TOML"),
        ('[[source]]\nname = "a"\ntype = "dcat"', "`url` is required"),
    ],
)
def test_harvest_toml_mistakes_are_refused_with_where(tmp_path: Path, text: str, message: str):
    path = tmp_path / "harvest.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        read_config(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


# -- the HTTP client against misbehaving servers ------------------------------------------------------------


def client(**policy) -> HttpClient:
    return HttpClient(HttpPolicy(**{**FAST, **policy}))


def test_a_slow_server_times_out_after_retries(server: PortalServer):
    url = server.route("/slow", Reply(b"[]", delay=1.5))
    started = time.monotonic()
    with client(read_timeout=0.3, retries=1) as http, pytest.raises(FetchError) as error:
        http.get(url)
    assert "timed out" in str(error.value) and "2 attempts" in str(error.value)
    assert server.hits["/slow"] == 2
    assert time.monotonic() - started < 10


def test_server_errors_are_retried_until_success(server: PortalServer):
    url = server.route("/flaky", lambda request: Reply(b"oops", 500) if request.number <= 2 else Reply(b'{"ok": true}'))
    with client(retries=3) as http:
        body = http.get(url, expect="json")
        assert json.loads(body.read()) == {"ok": True}
        assert http.retried == 2
    assert server.hits["/flaky"] == 3


def test_client_errors_are_not_retried(server: PortalServer):
    url = server.route("/gone", Reply(b"no", 404, "text/plain"))
    with client(retries=3) as http, pytest.raises(FetchError, match="HTTP 404") as error:
        http.get(url)
    assert error.value.status == 404
    assert server.hits["/gone"] == 1


def test_a_truncated_body_is_an_error(server: PortalServer):
    url = server.route("/short", Reply(b'[{"id": "a"}, {"id"', length=10_000))
    with client(retries=1) as http, pytest.raises(FetchError, match="cut short"):
        http.get(url)


def test_html_where_json_was_expected(server: PortalServer):
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please sign in</body></html>"
    url = server.route("/login", Reply(page, content_type="text/html; charset=utf-8"))
    sneaky = server.route(
        "/sneaky", Reply(b"\n  <html><body>Maintenance</body></html>", content_type="application/json")
    )
    with client() as http:
        for target in (url, sneaky):
            with pytest.raises(FetchError, match="HTML page"):
                http.get(target, expect="json")


def test_a_1_gb_body_is_aborted_at_the_size_cap(server: PortalServer):
    sent = {"chunks": 0}
    gigabyte = 1 << 30

    def huge(_request):
        def body():
            for chunk in endless(1 << 20, gigabyte):
                sent["chunks"] += 1
                yield chunk

        return Reply(body())  # chunked: the size is only known by reading

    url = server.route("/huge", huge)
    declared = server.route("/declared", Reply(endless(1 << 20, gigabyte), length=gigabyte))
    with client(max_bytes=8 << 20) as http:
        with pytest.raises(FetchError, match="cap"):
            http.get(url)
        assert sent["chunks"] < 64  # stopped after about 8 MiB, not 1 GiB
        assert http.bytes == 0
        with pytest.raises(FetchError, match="1,073,741,824 bytes"):
            http.get(declared)  # refused from its Content-Length, before reading


def test_gzip_bodies_are_decoded_and_capped_decoded(server: PortalServer):
    data = json.dumps([{"id": str(n), "title": "x" * 100} for n in range(2000)]).encode()
    url = server.route("/gz", Reply(data, gzip=True))
    with client() as http:
        body = http.get(url, expect="json")
        assert body.read() == data
    with client(max_bytes=50_000) as http, pytest.raises(FetchError, match="cap"):
        http.get(url)  # the compressed body is small; the decoded one is not


def test_redirects_are_followed_up_to_the_cap(server: PortalServer):
    target = server.route("/final", Reply(b"[]"))
    server.route("/hop", Reply(b"", 302, headers={"Location": target}))
    server.route("/loop", Reply(b"", 302, headers={"Location": server.url + "/loop"}))
    with client() as http:
        assert http.get(server.url + "/hop").final_url == target
        with pytest.raises(FetchError, match="more than 5 redirects"):
            http.get(server.url + "/loop")


# -- fetching each kind of portal ---------------------------------------------------------------------------


def test_datapress_export(tmp_path: Path, server: PortalServer, vocabularies):
    url = server.file("/api/v3/datasets/export.json", DATAPRESS_SHAPE)
    with open_store(tmp_path) as store:
        report = harvest_source(store, vocabularies, source("lds", "datapress", url))
        assert report.status == "ok", report.error
        assert totals(report) == {"fetched": 1, "new": 1, "updated": 0, "unchanged": 0, "withdrawn": 0, "rejected": 0}
        assert "Mocking API call" in public_titles(store, "lds").values()
        record = NamedNode(next(iter(public_titles(store, "lds"))) + "#record")
        origin = next(
            store.store.quads_for_pattern(record, PROV.wasDerivedFrom, None, NamedNode(URIS.source_graph("lds")))
        )
        assert origin.object.value == server.url + "/api/dataset/2xxx0"


def test_ckan_package_search_is_paged_with_rows_and_start(tmp_path: Path, server: PortalServer, vocabularies):
    packages = json.loads(BIRMINGHAM.read_text())["result"]["results"]
    server.route("/api/3/action/package_search", ckan_search(packages))
    with open_store(tmp_path) as store:
        report = harvest_source(store, vocabularies, source("birmingham", "ckan", server.url, rows=3))
        assert report.status == "ok", report.error
        assert report.pages == 4 and report.total("new") == 10
        assert len(public_titles(store, "birmingham")) == 10
    starts = [line.split("start=")[1].split("&")[0] for line in server.log]
    assert starts == ["0", "3", "6", "9"]
    assert all("rows=3" in line and "sort=id+asc" in line for line in server.log)


def test_ckan_server_that_ignores_start_is_a_loop(tmp_path: Path, server: PortalServer, vocabularies):
    packages = json.loads(BIRMINGHAM.read_text())["result"]["results"]
    server.route(
        "/api/3/action/package_search",
        lambda _request: Reply.json({"success": True, "result": {"count": 10, "results": packages[:3]}}),
    )
    with open_store(tmp_path) as store:
        report = harvest_source(store, vocabularies, source("loop", "ckan", server.url, rows=3))
        assert report.status == "failed" and "ignore `start`" in report.error
        # the vocabularies, then the failed run's report alone: no record was written
        assert store.generation == 2 and public_titles(store, "loop") == {}


def test_datajson_arcgis_hub_and_dcat_us(tmp_path: Path, server: PortalServer, vocabularies):
    with open_store(tmp_path) as store:
        for name, path, expected in (("apur", ARCGIS, 71), ("arm", ARM, 997)):
            url = server.file(f"/{name}/data.json", path)
            report = harvest_source(store, vocabularies, source(name, "datajson", url))
            assert report.status == "ok", report.error
            assert report.total("new") == expected and report.total("rejected") == 0
        graph = NamedNode(URIS.source_graph("apur"))
        derived = [q for q in store.store.quads_for_pattern(None, PROV.wasDerivedFrom, None, graph)]
        derived = [q for q in derived if not q.subject.value.endswith("#record")]
        assert len(derived) == 71
        assert all(q.object.value.startswith("http://cassini.apur.opendata.arcgis.com/datasets/") for q in derived)


# DCAT RDF with Hydra paging: real files split into pages, as a paged DCAT feed serves them


def split_into_pages(path: Path, pages: int) -> list[list[Triple]]:
    """The file's triples in ``pages`` groups, each resource kept whole with the blank nodes it uses."""
    with path.open("rb") as handle:
        triples = [Triple(q.subject, q.predicate, q.object) for q in parse(handle, RdfFormat.TURTLE, base_iri=BASE)]
    parent: dict = {}

    def find(term):
        while parent.get(term, term) != term:
            term = parent[term]
        return term

    for t in triples:
        for term in (t.subject, t.object):
            parent.setdefault(term, term)
        if type(t.object).__name__ == "BlankNode":
            parent[find(t.object)] = find(t.subject)
    groups: dict = {}
    for t in triples:
        groups.setdefault(find(t.subject), []).append(t)
    split: list[list[Triple]] = [[] for _ in range(pages)]
    for n, key in enumerate(sorted(groups, key=str)):
        split[n % pages].extend(groups[key])
    return split


def serve_hydra(server: PortalServer, path: Path, pages: int, style: str, loop_to: int | None = None) -> str:
    """Serve a file as Hydra pages: ``view`` (PartialCollectionView, hydra:next as an IRI) or ``paged``
    (the older PagedCollection, hydra:nextPage as a relative literal, as ckanext-dcat writes it)."""
    parts = split_into_pages(path, pages)
    for number, triples in enumerate(parts, start=1):
        url = f"{server.url}/catalog?page={number}"
        page, extra = NamedNode(url), []
        following = number + 1 if number < pages else loop_to
        if style == "view":
            collection = NamedNode(server.url + "/catalog")
            extra += [Triple(collection, HYDRA.view, page), Triple(page, RDF.type, HYDRA.PartialCollectionView)]
            if following:
                extra.append(Triple(page, HYDRA.next, NamedNode(f"{server.url}/catalog?page={following}")))
        else:
            extra += [Triple(page, RDF.type, HYDRA.PagedCollection)]
            extra.append(Triple(page, HYDRA.totalItems, Literal("1", datatype=XSD.integer)))
            if following:
                extra.append(Triple(page, HYDRA.nextPage, Literal(f"catalog?page={following}")))
        body = serialize(triples + extra, format=RdfFormat.TURTLE)
        server.routes.setdefault("/catalog", None)
        server.route(f"/page-{number}", Reply(body, content_type="text/turtle"))

    def route(request):
        number = int(request.query.get("page", 1))
        return server.routes[f"/page-{number}"](request)

    server.route("/catalog", route)
    return server.url + "/catalog?page=1"


@pytest.mark.parametrize(("path", "pages", "style"), [(GSS, 4, "view"), (GSS, 5, "paged")])
def test_dcat_feeds_with_hydra_paging(tmp_path: Path, server: PortalServer, vocabularies, path, pages, style):
    datasets = len(loader_class("dcat")(vocabularies).read_all(path))  # what the loader publishes of the file
    url = serve_hydra(server, path, pages, style)
    with open_store(tmp_path) as store:
        report = harvest_source(store, vocabularies, source("feed", "dcat", url))
        assert report.status == "ok", report.error
        assert report.pages == pages
        assert report.total("new") == datasets
        assert (
            len(public_titles(store, "feed"))
            + sum(
                1
                for graph in store.source_graphs("feed")
                if graph != URIS.source_graph("feed")
                for _ in store.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, NamedNode(graph))
            )
            == datasets
        )
        # the paging triples are not part of the catalogue
        assert next(store.store.quads_for_pattern(None, HYDRA.next, None, None), None) is None
        assert next(store.store.quads_for_pattern(None, HYDRA.nextPage, None, None), None) is None
        again = harvest_source(store, vocabularies, source("feed", "dcat", url))
        assert totals(again)["unchanged"] == datasets and totals(again)["updated"] == 0


def test_hydra_page_loops_and_page_caps_fail_and_change_nothing(tmp_path: Path, server: PortalServer, vocabularies):
    url = serve_hydra(server, DCAT_RANDOM, 3, "view", loop_to=1)
    with open_store(tmp_path) as store:
        report = harvest_source(store, vocabularies, source("feed", "dcat", url))
        assert report.status == "failed" and "page loop" in report.error
        capped = harvest_source(store, vocabularies, source("feed", "dcat", url, max_pages=2))
        assert capped.status == "failed" and "more than 2 pages" in capped.error
        assert store.generation == 3  # the vocabularies, then each failed run's report alone
        assert public_titles(store, "feed") == {}


def test_next_page_as_iri_or_literal():
    page = NamedNode("http://x/c?page=1")
    view = [
        Triple(page, RDF.type, HYDRA.PartialCollectionView),
        Triple(page, HYDRA.next, NamedNode("http://x/c?page=2")),
    ]
    assert next_page(view, page.value, page.value) == "http://x/c?page=2"
    literal = [Triple(page, HYDRA.nextPage, Literal("/c?page=3"))]
    assert next_page(literal, page.value, page.value) == "http://x/c?page=3"
    assert next_page([Triple(page, HYDRA.totalItems, Literal("4"))], page.value, page.value) is None


def test_invalid_rdf_and_html_pages_are_refused(tmp_path: Path, server: PortalServer, vocabularies):
    bad = server.route(
        "/bad.ttl", Reply(b"<http://x/a> a <http://www.w3.org/ns/dcat#Dataset> ;; oops", content_type="text/turtle")
    )
    html = server.route("/html", Reply(b"<!doctype html><title>Portal</title>", content_type="text/html"))
    with open_store(tmp_path) as store:
        for url, message in ((bad, "not valid Turtle at line 1"), (html, "HTML page")):
            report = harvest_source(store, vocabularies, source("feed", "dcat", url))
            assert report.status == "failed" and message in report.error


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("basic-example.ttl", "text/turtle"),
        ("basic-example.jsonld", "application/ld+json"),
        ("vocab-dcat-3/basic-example.rdf", "application/rdf+xml"),
        ("csiro-stratchart.ttl", "text/turtle"),
    ],
)
def test_w3c_dcat_examples(tmp_path: Path, server: PortalServer, vocabularies, name, content_type):
    path = W3C / name
    if not path.exists():
        pytest.skip(f"{name} is not among the copied examples")
    url = server.route("/example", Reply(path.read_bytes(), content_type=content_type))
    with open_store(tmp_path) as store:
        report = harvest_source(store, vocabularies, source("w3c", "dcat", url))
        assert report.status == "ok", report.error
        assert report.total("new") >= 1


# -- incremental re-harvests ------------------------------------------------------------------------------


def test_reharvest_writes_exactly_the_three_changes(tmp_path: Path, server: PortalServer, vocabularies):
    items = exported(40)
    state = {"items": items}
    url = server.route("/export.json", lambda _request: Reply.json(state["items"]))
    spec = source("lds", "datapress", url)
    with open_store(tmp_path) as store:
        first = harvest_source(store, vocabularies, spec)
        assert totals(first) == {"fetched": 40, "new": 40, "updated": 0, "unchanged": 0, "withdrawn": 0, "rejected": 0}
        before = {q for q in store.store.quads_for_pattern(None, None, None, NamedNode(URIS.source_graph("lds")))}

        changed, removed = copy.deepcopy(items), None
        changed[3]["title"] = "Changed: " + changed[3]["title"]
        removed = changed.pop(10)
        added = exported(41, seed=99)[-1]
        added["id"] = "zzzz1"
        changed.append(added)
        state["items"] = changed
        second = harvest_source(store, vocabularies, spec)
        assert second.status == "ok", second.error
        assert totals(second) == {"fetched": 40, "new": 1, "updated": 1, "unchanged": 38, "withdrawn": 1, "rejected": 0}

        titles = public_titles(store, "lds")
        assert sum(t.startswith("Changed: ") for t in titles.values()) == 1
        assert removed["title"] not in titles.values() and added["title"] in titles.values()
        assert len(titles) == 40

        # only the three datasets' quads changed (and the run report)
        after = {q for q in store.store.quads_for_pattern(None, None, None, NamedNode(URIS.source_graph("lds")))}
        touched = {q.subject.value.split("#")[0].split("/distribution/")[0] for q in before ^ after}
        touched = {t for t in touched if t.startswith(URIS.dataset(""))}
        assert len(touched) == 3
        changes = read_changes(CatalogueReader(tmp_path).snapshot().directory)
        assert set(changes["datasets"]) == touched

        # the withdrawn dataset has a tombstone in the catalogue index: its IRI answers 410
        gone = next(iter(touched - set(titles)))
        index = sqlite3.connect(CatalogueReader(tmp_path).snapshot().index_dir / "catalogue.sqlite")
        assert index.execute("SELECT title FROM withdrawn WHERE iri = ?", (gone,)).fetchone() == (removed["title"],)
        assert (
            index.execute("SELECT COUNT(*) FROM datasets WHERE graph = ?", (URIS.source_graph("lds"),)).fetchone()[0]
            == 40
        )

        # a third run with no change rewrites nothing
        third = harvest_source(store, vocabularies, spec)
        assert totals(third)["unchanged"] == 40 and third.total("new") + third.total("updated") == 0

        # what the harvest-state index says the source holds is what the store holds
        indexed = stored_records(store, "lds")
        assert indexed == scan_stored_records(store, "lds") and len(indexed) == 40
        assert state_records(store.data_dir, store.generation, "lds") is not None


def test_the_incremental_index_equals_a_full_rebuild(tmp_path: Path, server: PortalServer, vocabularies):
    items = exported(30, seed=3)
    state = {"items": items}
    url = server.route("/export.json", lambda _request: Reply.json(state["items"]))
    with open_store(tmp_path / "store") as store:
        harvest_source(store, vocabularies, source("lds", "datapress", url))
        changed = copy.deepcopy(items)
        changed[0]["title"] = "A new title"
        changed[5]["masthead"] = {"id": "brand-new", "title": "A Brand New Publisher"}
        del changed[7]
        changed.append(
            {**exported(31, seed=3)[-1], "id": "aaaa0", "webpage": "https://data.london.gov.uk/dataset/aaaa"}
        )
        state["items"] = changed
        report = harvest_source(store, vocabularies, source("lds", "datapress", url))
        assert (report.total("new"), report.total("updated"), report.total("withdrawn")) == (1, 2, 1)
    snapshot = CatalogueReader(tmp_path / "store").snapshot()
    assert read_changes(snapshot.directory) is not None
    full = tmp_path / "full"
    (full / "indexes").mkdir(parents=True)
    build_catalogue_index(snapshot, full, None, frozenset())

    def rows(path: Path, sql: str) -> list:
        return sqlite3.connect(path).execute(sql).fetchall()

    incremental = snapshot.index_dir / "catalogue.sqlite"
    rebuilt = full / "indexes" / "catalogue.sqlite"
    for sql in (  # positions are row keys (an update numbers new rows on from the last): compared by IRI
        "SELECT f.rank, d.iri, d.slug, d.graph, d.title, d.description, d.keywords, d.issued, d.modified, d.status,"
        " d.record, d.duplicate_of FROM feed f JOIN datasets d ON d.position = f.position ORDER BY f.rank",
        "SELECT d.iri, f.facet, f.value FROM facets f JOIN datasets d ON d.position = f.position"
        " ORDER BY d.iri, f.facet, f.value",
        "SELECT * FROM withdrawn ORDER BY iri",
    ):
        assert rows(incremental, sql) == rows(rebuilt, sql), sql
    assert set(rows(rebuilt, "SELECT * FROM labels")) <= set(rows(incremental, "SELECT * FROM labels"))


def test_a_failed_or_partial_harvest_changes_nothing(tmp_path: Path, server: PortalServer, vocabularies):
    packages = json.loads(BIRMINGHAM.read_text())["result"]["results"]
    search = ckan_search(packages)
    state = {"fail_from": None}

    def route(request):
        if state["fail_from"] is not None and int(request.query.get("start", 0)) >= state["fail_from"]:
            return Reply(b"Bad gateway", 502, "text/plain")
        return search(request)

    server.route("/api/3/action/package_search", route)
    spec = source("birmingham", "ckan", server.url, rows=4)
    with open_store(tmp_path) as store:
        assert harvest_source(store, vocabularies, spec).status == "ok"
        generation = store.generation
        titles = public_titles(store, "birmingham")
        state["fail_from"] = 4  # page 1 answers, page 2 never does
        report = harvest_source(store, vocabularies, spec)
        assert report.status == "failed" and "HTTP 502" in report.error and "gave up after 3 attempts" in report.error
        # the failed run is kept (its report alone, for /harvest); the source's records are as they were
        assert store.generation == generation + 1 and public_titles(store, "birmingham") == titles
    snapshot = CatalogueReader(tmp_path).snapshot()
    assert snapshot.generation == generation + 1
    assert read_changes(snapshot.directory)["datasets"] == []


def test_a_run_that_would_withdraw_most_records_is_refused(tmp_path: Path, server: PortalServer, vocabularies):
    items = exported(20, seed=5)
    state = {"items": items}
    url = server.route("/export.json", lambda _request: Reply.json(state["items"]))
    with open_store(tmp_path) as store:
        harvest_source(store, vocabularies, source("lds", "datapress", url))
        state["items"] = items[:5]  # the portal suddenly lists a quarter of its datasets
        report = harvest_source(store, vocabularies, source("lds", "datapress", url))
        assert report.status == "failed" and "would withdraw 15 of the source's 20 records" in report.error
        assert len(public_titles(store, "lds")) == 20
        allowed = harvest_source(store, vocabularies, source("lds", "datapress", url, max_withdrawn_fraction=1.0))
        assert allowed.status == "ok" and allowed.total("withdrawn") == 15


def test_rejected_records_are_reported_with_reasons(tmp_path: Path, server: PortalServer, vocabularies):
    items = exported(5, seed=11)
    items.append({"title": "No id and no webpage", "sharing": "public"})
    items.append("not even an object")
    url = server.route("/export.json", Reply.json(items))
    with open_store(tmp_path) as store:
        report = harvest_source(store, vocabularies, source("lds", "datapress", url))
        assert report.status == "ok"
        assert report.total("new") == 5 and report.total("rejected") == 2
        reasons = dict(report.rejections)
        assert any("no id" in why for why in reasons.values())
        graph = NamedNode(URIS.source_graph("lds"))
        run = NamedNode(report.run)
        assert next(store.store.quads_for_pattern(run, URIS.vocab.recordsRejected, None, graph)).object.value == "2"
        assert len(list(store.store.quads_for_pattern(run, URIS.vocab.rejection, None, graph))) == 2


def test_a_harvest_holds_back_public_personal_data_until_approved(tmp_path: Path, server: PortalServer, vocabularies):
    """A portal's public record that says it holds personal data is rejected with the digest to approve, the rest
    of the run is written, and the approval (the audit event publisher writes use) lets the next run publish it."""
    packages = json.loads(BIRMINGHAM.read_text())["result"]["results"]
    flagged = {**packages[0], "extras": [{"key": "personal_data", "value": "yes"}]}
    server.route("/api/3/action/package_search", ckan_search([flagged, *packages[1:]]))
    birmingham = source("birmingham", "ckan", server.url)
    with open_store(tmp_path) as store:
        report = harvest_source(store, vocabularies, birmingham)
        assert report.status == "ok", report.error
        assert report.total("new") == 9 and report.total("rejected") == 1
        (why,) = [why for record, why in report.rejections if record == flagged["name"]]
        iri, digest = re.search(r"\(dataset (\S+)\)", why).group(1), re.search(r"sha256:[0-9a-f]{64}", why).group(0)
        assert iri not in public_titles(store, "birmingham") and len(public_titles(store, "birmingham")) == 9
    approve_public_personal_data(AccountsDatabase(tmp_path), "admin-test", iri, digest)
    with open_store(tmp_path) as store:
        report = harvest_source(store, vocabularies, birmingham)
        assert report.status == "ok" and report.total("new") == 1 and report.total("rejected") == 0
        assert iri in public_titles(store, "birmingham")


# -- provenance --------------------------------------------------------------------------------------------


def test_provenance_is_kept_as_rdf_public_for_public_records_only(tmp_path: Path, server: PortalServer, vocabularies):
    items = exported(6, seed=13)
    items[0]["sharing"] = "restricted"
    url = server.route("/export.json", Reply.json(items))
    with open_store(tmp_path) as store:
        report = harvest_source(store, vocabularies, source("lds", "datapress", url))
        assert report.public.new == 5 and report.restricted.new == 1
        public = NamedNode(URIS.source_graph("lds"))
        records = {q.subject for q in store.store.quads_for_pattern(None, RDF.type, DCAT.CatalogRecord, public)}
        assert len(records) == 5
        hidden = {
            q.subject
            for graph in store.source_graphs("lds")
            if graph != public.value
            for q in store.store.quads_for_pattern(None, RDF.type, DCAT.CatalogRecord, NamedNode(graph))
        }
        assert len(hidden) == 1
        for record in records:
            props = {q.predicate: q.object for q in store.store.quads_for_pattern(record, None, None, public)}
            dataset = props[FOAF.primaryTopic]
            assert record.value == dataset.value + "#record"
            assert props[URIS.vocab.contentHash].value
            assert props[DCT.issued].datatype == XSD.dateTime and props[DCT.modified] == props[DCT.issued]
            assert props[PROV.wasGeneratedBy] == NamedNode(report.run)
            assert props[PROV.wasDerivedFrom].value.startswith(server.url + "/api/dataset/")
            assert next(store.store.quads_for_pattern(dataset, PROV.wasDerivedFrom, props[PROV.wasDerivedFrom], public))
            assert next(store.store.quads_for_pattern(NamedNode(URIS.catalog()), DCAT.record, record, public))
        run = NamedNode(report.run)
        run_props = {q.predicate.value: q.object.value for q in store.store.quads_for_pattern(run, None, None, public)}
        assert run_props[URIS.vocab.recordsNew.value] == "5"  # public records only
        assert run_props[PROV.used.value] == url
        assert {q.object for q in store.store.quads_for_pattern(run, RDF.type, None, public)} == {
            PROV.Activity,
            URIS.vocab.HarvestRun,
        }
        part = NamedNode(report.run + "#restricted")
        restricted = NamedNode(URIS.source_graph("lds", "restricted"))
        assert next(store.store.quads_for_pattern(part, URIS.vocab.recordsNew, None, restricted)).object.value == "1"
        assert next(store.store.quads_for_pattern(part, None, None, public), None) is None


def test_only_the_latest_runs_are_kept(tmp_path: Path, server: PortalServer, vocabularies, monkeypatch):
    monkeypatch.setattr(report_module, "KEEP_RUNS", 3)
    url = server.route("/export.json", Reply.json(exported(3, seed=17)))
    with open_store(tmp_path) as store:
        runs = [harvest_source(store, vocabularies, source("lds", "datapress", url)).run for _ in range(5)]
        graph = NamedNode(URIS.source_graph("lds"))
        kept = {q.subject.value for q in store.store.quads_for_pattern(None, RDF.type, URIS.vocab.HarvestRun, graph)}
        assert kept == set(runs[-3:])


def test_the_same_dataset_in_two_sources_is_linked(tmp_path: Path, server: PortalServer, vocabularies):
    url = server.file("/data.json", ARCGIS)
    mirror = server.file("/mirror/data.json", ARCGIS)
    with open_store(tmp_path) as store:
        assert harvest_source(store, vocabularies, source("apur", "datajson", url)).links == 0
        report = harvest_source(store, vocabularies, source("apur-mirror", "datajson", mirror))
        assert report.status == "ok" and report.links == 71
        graph = NamedNode(URIS.source_graph("apur-mirror"))
        links = list(store.store.quads_for_pattern(None, PROV.alternateOf, None, graph))
        assert len(links) == 71
        originals = NamedNode(URIS.source_graph("apur"))
        for link in links:
            assert next(store.store.quads_for_pattern(link.object, RDF.type, DCAT.Dataset, originals), None)
    index = sqlite3.connect(CatalogueReader(tmp_path).snapshot().index_dir / "catalogue.sqlite")
    duplicates = index.execute(
        "SELECT COUNT(*) FROM datasets WHERE duplicate_of IS NOT NULL AND graph = ?",
        (URIS.source_graph("apur-mirror"),),
    ).fetchone()[0]
    originals = index.execute("SELECT COUNT(*) FROM datasets WHERE duplicate_of IS NULL").fetchone()[0]
    assert duplicates == 71 and originals == 71


# -- the command line --------------------------------------------------------------------------------------


def test_dfl_harvest_command(tmp_path: Path, server: PortalServer):
    packages = json.loads(BIRMINGHAM.read_text())["result"]["results"]
    server.route("/api/3/action/package_search", ckan_search(packages))
    server.file("/data.json", ARCGIS)
    server.route("/down.json", Reply(b"", 503))
    config = tmp_path / "harvest.toml"
    config.write_text(
        f"""
[http]
retries = 1
backoff = 0

[[source]]
name = "birmingham"
type = "ckan"
url = "{server.url}"
title = "Birmingham City Council"
options = {{ rows = 4 }}

[[source]]
name = "apur"
type = "datajson"
url = "{server.url}/data.json"

[[source]]
name = "down"
type = "datapress"
url = "{server.url}/down.json"
options = {{ enabled = false }}
"""
    )
    store = tmp_path / "store"
    command = [
        sys.executable,
        "-m",
        "dfl_graph",
        "--base",
        BASE,
        "harvest",
        "--config",
        str(config),
        "--store",
        str(store),
    ]
    ok = subprocess.run([*command, "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert ok.returncode == 0, ok.stderr
    reports = json.loads(ok.stdout)
    assert [(r["source"], r["totals"]["new"]) for r in reports] == [("birmingham", 10), ("apur", 71)]
    assert "harvested birmingham" in ok.stderr and "harvested apur" in ok.stderr
    failed = subprocess.run([*command, "--source", "down"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert failed.returncode == 1 and "HTTP 503" in failed.stderr
    assert "the source is unchanged" in " ".join(failed.stderr.split())
    unknown = subprocess.run([*command, "--source", "nope"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert unknown.returncode == 1 and "no source named 'nope'" in " ".join(unknown.stderr.split())
    # without --config, the harvest.toml of the current directory is read (and named)
    here = subprocess.run(
        [*command[: command.index("--config")], "--store", str(store), "--source", "apur"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert here.returncode == 0, here.stderr
    assert f"reading the sources to harvest from {config}" in " ".join(here.stderr.split())


# -- over HTTP: the withdrawn dataset answers 410, /harvest shows the runs -----------------------------------


def test_withdrawn_datasets_answer_410_and_harvest_page(tmp_path: Path, server: PortalServer, vocabularies):
    from conftest import free_port, live_server

    port = free_port()
    uris = Uris(f"http://127.0.0.1:{port}")
    items = exported(8, seed=23)
    items[2]["description"] = ""  # a mapping problem: published with a note saying the source gave none
    state = {"items": items}
    url = server.route("/export.json", lambda _request: Reply.json(state["items"]))
    data_dir = tmp_path / "catalogue"
    with open_writer(data_dir, uris) as store:
        ensure_vocabularies(store)
        vocab = Vocabularies(uris)
        harvest_source(store, vocab, source("lds", "datapress", url))
        graph = NamedNode(uris.source_graph("lds"))
        before = {q.subject.value for q in store.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, graph)}
        state["items"] = items[1:]
        assert harvest_source(store, vocab, source("lds", "datapress", url)).total("withdrawn") == 1
        after = {q.subject.value for q in store.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, graph)}
        state["items"] = "not an export"
        failed = harvest_source(store, vocab, source("lds", "datapress", url))
        assert failed.status == "failed"
        after_failure = {q.subject.value for q in store.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, graph)}
        assert after_failure == after  # the failed run is recorded; nothing else of the source changed
    (gone,) = before - after
    with live_server(data_dir, port) as live:
        assert live.get(gone[len(live.url) :]).status_code == 410
        assert live.get(next(iter(after))[len(live.url) :]).status_code == 200
        page = live.get("/harvest")
        assert page.status_code == 200 and "Harvested portals" in page.text and "lds" in page.text
        assert "failed" in page.text and failed.error in html.unescape(page.text)
        data = live.get("/harvest.json").json()
        (lds,) = data["sources"]
        latest, previous = lds["runs"][0], lds["runs"][1]
        assert (latest["status"], latest["error"], latest["started"]) == ("failed", failed.error, failed.started)
        assert previous["status"] == "ok" and previous["counts"]["withdrawn"] == 1 and len(lds["runs"]) == 3
        assert lds["runs"][2]["problems"] >= 1 and "Problems" in page.text  # the first run mapped items[2]
        run = live.get(previous["path"])
        assert run.status_code == 200 and "Withdrawn" in run.text
        assert live.get(previous["path"] + ".json").json()["iri"] == previous["iri"]
        assert live.get("/harvest/lds/19990101T000000Z").status_code == 404


def test_unchanged_records_keep_their_catalogue_record(tmp_path: Path, server: PortalServer, vocabularies):
    items = exported(4, seed=29)
    state = {"items": items}
    url = server.route("/export.json", lambda _request: Reply.json(state["items"]))
    with open_store(tmp_path) as store:
        harvest_source(store, vocabularies, source("lds", "datapress", url))
        graph = NamedNode(URIS.source_graph("lds"))
        issued = {
            q.subject.value: q.object
            for q in store.store.quads_for_pattern(None, DCT.issued, None, graph)
            if q.subject.value.endswith("#record")
        }
        changed = copy.deepcopy(items)
        changed[0]["title"] += " (revised)"
        state["items"] = changed
        time.sleep(1.1)  # harvest times are to the second: the two runs must not share one
        second = harvest_source(store, vocabularies, source("lds", "datapress", url))
        modified = {
            q.subject.value: q.object.value
            for q in store.store.quads_for_pattern(None, DCT.modified, None, graph)
            if q.subject.value.endswith("#record")
        }
        # an updated record keeps when it was first harvested, and says when it changed
        assert {
            q.subject.value: q.object
            for q in store.store.quads_for_pattern(None, DCT.issued, None, graph)
            if q.subject.value.endswith("#record")
        } == issued
        # compared as instants: Oxigraph stores xsd:dateTime canonically ("…04.98994Z" for "…04.989940Z")
        ended = datetime.fromisoformat(second.ended)
        assert [datetime.fromisoformat(v) for v in modified.values()].count(ended) == 1


def test_harvested_records_conform_to_dcat_ap_and_our_profile(tmp_path: Path, server: PortalServer, vocabularies):
    from dfl_graph.validation import validate_store

    packages = json.loads(BIRMINGHAM.read_text())["result"]["results"]
    server.route("/api/3/action/package_search", ckan_search(packages))
    url = server.route("/export.json", Reply.json(exported(10, seed=37)))
    with open_store(tmp_path) as store:
        for spec in (source("birmingham", "ckan", server.url), source("lds", "datapress", url)):
            assert harvest_source(store, vocabularies, spec).status == "ok"
    snapshot = CatalogueReader(tmp_path).snapshot()
    for shapes in ("dcat-ap", "dfl"):
        report = validate_store(snapshot.store, snapshot.public_graphs, shapes, BASE)
        assert report.violations == 0, [str(f) for f in report.findings][:10]


def test_a_dfl_load_over_a_harvested_source(tmp_path: Path, server: PortalServer, vocabularies):
    """`dfl load` is planned like a harvest: a load of the same records over a harvested source updates them
    in place (same identifiers, so same IRIs; the load's own content hashes), withdraws nothing, and the
    source-records index keeps covering the source; the next harvest rewrites each record once."""
    from dfl_graph.ingest import load_file

    items = exported(6, seed=41)
    url = server.route("/export.json", Reply.json(items))
    export = tmp_path / "export.json"
    export.write_text(json.dumps(items))
    with open_store(tmp_path / "store") as store:
        assert harvest_source(store, vocabularies, source("lds", "datapress", url)).total("new") == 6
        harvested = stored_records(store, "lds")
        report = load_file(store, vocabularies, "datapress", export, "lds")
        assert (report.updated, report.new, report.withdrawn, report.mode) == (6, 0, 0, "in place")
        loaded = stored_records(store, "lds")
        assert {k: r.iri for k, r in loaded.items()} == {k: r.iri for k, r in harvested.items()}
        assert all(loaded[k].content_hash not in (None, harvested[k].content_hash) for k in loaded)
        assert loaded == scan_stored_records(store, "lds")
        again = harvest_source(store, vocabularies, source("lds", "datapress", url))
        assert (again.total("updated"), again.total("new"), again.total("withdrawn")) == (6, 0, 0)
        assert stored_records(store, "lds") == scan_stored_records(store, "lds")
        assert state_records(store.data_dir, store.generation, "lds") is not None
