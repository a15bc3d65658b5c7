"""Real SPARQL clients against the endpoint over HTTP: SPARQLWrapper (JSON, XML, CSV, TSV, CONSTRUCT into
an rdflib Graph) and rdflib's SPARQLStore, on the embedded 2010 London catalogue (`default_server`)."""

from __future__ import annotations

import csv
import io

import pytest
import rdflib
import requests
from conftest import LiveServer
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TSV, TURTLE, XML, SPARQLWrapper

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
TITLES = """
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?dataset ?title WHERE { ?dataset a dcat:Dataset ; dct:title ?title } ORDER BY ?dataset LIMIT 5
"""
COUNT = "PREFIX dcat: <http://www.w3.org/ns/dcat#> SELECT (COUNT(?d) AS ?n) WHERE { ?d a dcat:Dataset }"


def client(server: LiveServer, fmt: str, method: str = "GET") -> SPARQLWrapper:
    wrapper = SPARQLWrapper(server.url + "/sparql")
    wrapper.setReturnFormat(fmt)
    wrapper.setMethod(method)
    wrapper.setTimeout(30)
    return wrapper


def expected_titles(server: LiveServer) -> list[tuple[str, str]]:
    response = requests.post(
        server.url + "/sparql",
        data={"query": TITLES},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    rows = response.json()["results"]["bindings"]
    assert len(rows) == 5
    return [(r["dataset"]["value"], r["title"]["value"]) for r in rows]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_json(default_server: LiveServer, method: str) -> None:
    wrapper = client(default_server, JSON, method)
    wrapper.setQuery(TITLES)
    result = wrapper.query().convert()
    rows = [(b["dataset"]["value"], b["title"]["value"]) for b in result["results"]["bindings"]]
    assert rows == expected_titles(default_server)
    wrapper.setQuery(COUNT)
    count = int(wrapper.query().convert()["results"]["bindings"][0]["n"]["value"])
    assert count > 100


def test_sparqlwrapper_xml(default_server: LiveServer) -> None:
    wrapper = client(default_server, XML)
    wrapper.setQuery(TITLES)
    document = wrapper.query().convert()  # an xml.dom.minidom Document
    rows = []
    for result in document.getElementsByTagName("result"):
        values = {b.getAttribute("name"): b.firstChild.firstChild.data for b in result.getElementsByTagName("binding")}
        rows.append((values["dataset"], values["title"]))
    assert rows == expected_titles(default_server)


def test_sparqlwrapper_csv_and_tsv(default_server: LiveServer) -> None:
    wrapper = client(default_server, CSV)
    wrapper.setQuery(TITLES)
    table = list(csv.reader(io.StringIO(wrapper.query().convert().decode("utf-8"))))
    assert table[0] == ["dataset", "title"]
    assert [tuple(r) for r in table[1:]] == expected_titles(default_server)
    wrapper = client(default_server, TSV)
    wrapper.setQuery(TITLES)
    lines = wrapper.query().convert().decode("utf-8").splitlines()
    assert lines[0] == "?dataset\t?title"
    assert len(lines) == 6


def test_sparqlwrapper_ask(default_server: LiveServer) -> None:
    wrapper = client(default_server, JSON)
    wrapper.setQuery("PREFIX dcat: <http://www.w3.org/ns/dcat#> ASK { ?d a dcat:Dataset }")
    assert wrapper.query().convert()["boolean"] is True


@pytest.mark.parametrize("fmt", [XML, TURTLE, "json-ld", "rdf+xml"])
def test_sparqlwrapper_construct_into_rdflib(default_server: LiveServer, fmt: str) -> None:
    wrapper = client(default_server, fmt)
    wrapper.setQuery(
        """PREFIX dcat: <http://www.w3.org/ns/dcat#>
        PREFIX dct: <http://purl.org/dc/terms/>
        CONSTRUCT { ?d a dcat:Dataset ; dct:title ?t }
        WHERE { ?d a dcat:Dataset ; dct:title ?t } ORDER BY ?d LIMIT 5"""
    )
    result = wrapper.query().convert()
    graph = result if isinstance(result, rdflib.Graph) else rdflib.Graph().parse(data=result, format=_rdflib(fmt))
    titles = sorted((str(s), str(o)) for s, o in graph.subject_objects(DCT.title))
    assert titles == sorted(expected_titles(default_server))
    assert len(set(graph.subjects(rdflib.RDF.type, DCAT.Dataset))) == 5


def _rdflib(fmt: str) -> str:
    return {TURTLE: "turtle", "json-ld": "json-ld", "rdf+xml": "xml", XML: "xml"}[fmt]


def test_sparqlwrapper_describe(default_server: LiveServer) -> None:
    dataset = expected_titles(default_server)[0][0]
    wrapper = client(default_server, TURTLE)
    wrapper.setQuery(f"DESCRIBE <{dataset}>")
    graph = rdflib.Graph().parse(data=wrapper.query().convert(), format="turtle")
    assert (rdflib.URIRef(dataset), rdflib.RDF.type, DCAT.Dataset) in graph


def test_rdflib_sparqlstore(default_server: LiveServer) -> None:
    store = SPARQLStore(default_server.url + "/sparql")
    graph = rdflib.Graph(store=store)
    rows = [(str(r.dataset), str(r.title)) for r in graph.query(TITLES)]
    assert rows == expected_titles(default_server)
    first = rdflib.URIRef(rows[0][0])
    assert (first, rdflib.RDF.type, DCAT.Dataset) in graph
    assert str(graph.value(first, DCT.title)) == rows[0][1]
    assert graph.query("PREFIX dcat: <http://www.w3.org/ns/dcat#> ASK { ?d a dcat:Dataset }").askAnswer is True
    constructed = graph.query(f"CONSTRUCT {{ <{first}> ?p ?o }} WHERE {{ <{first}> ?p ?o }}").graph
    assert (first, DCT.title, None) in constructed


def test_rdflib_sparqlstore_post_and_graphs(default_server: LiveServer) -> None:
    store = SPARQLStore(default_server.url + "/sparql", method="POST_FORM")
    names = {str(c.identifier) if hasattr(c, "identifier") else str(c) for c in store.contexts()}
    assert names, "the public graphs are listed"
    assert all("/graph/" in n for n in names)
    assert not any(n.endswith(("/restricted", "/system")) for n in names)


# -- browsers, caches and formats ------------------------------------------------------------------------
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_browser_gets_the_query_editor(default_server: LiveServer) -> None:
    page = requests.get(default_server.url + "/sparql", headers={"Accept": BROWSER}, timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert '<textarea id="sparql-query" name="query"' in html
    assert "Datasets by theme" in html and 'value="datasets-by-theme" selected' in html
    assert "/.well-known/void" in html and "/sparql?format=turtle" in html
    assert "sparql.js" in html
    assert '<script src="http' not in html and '<link rel="stylesheet" href="http' not in html, "no CDN: works offline"
    script = requests.get(default_server.url + "/static/sparql.js", timeout=30)
    assert script.status_code == 200 and "fetch(" in script.text


def test_browser_form_without_javascript_shows_a_table(default_server: LiveServer) -> None:
    page = requests.get(
        default_server.url + "/sparql",
        params={"query": TITLES, "format": "html"},
        headers={"Accept": BROWSER},
        timeout=30,
    )
    assert page.status_code == 200
    assert '<table class="sparql-table">' in page.text
    for _dataset, title in expected_titles(default_server):
        assert title.replace("&", "&amp;").replace("'", "&#39;") in page.text
    big = requests.get(
        default_server.url + "/sparql",
        params={"query": "SELECT * WHERE { ?s ?p ?o }"},
        headers={"Accept": BROWSER},
        timeout=30,
    )
    assert big.status_code == 200
    assert "1000 rows shown" in big.text and "first part of the result" in big.text
    assert "format=csv" in big.text, "the whole result is a download away"
    error = requests.get(
        default_server.url + "/sparql", params={"query": "SELECT * {"}, headers={"Accept": BROWSER}, timeout=30
    )
    assert error.status_code == 400 and "syntax error" in error.text


def test_format_parameter_wins_over_accept(default_server: LiveServer) -> None:
    response = requests.get(
        default_server.url + "/sparql",
        params={"query": TITLES, "format": "csv"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.headers["Content-Type"].startswith("text/csv")
    graph = requests.get(
        default_server.url + "/sparql",
        params={"query": "CONSTRUCT WHERE { ?s a ?t } LIMIT 2", "format": "ntriples"},
        timeout=30,
    )
    assert graph.headers["Content-Type"].startswith("application/n-triples")
    assert len(graph.text.strip().splitlines()) == 2


def test_conditional_get_and_cors(default_server: LiveServer) -> None:
    with requests.Session() as session:
        first = session.get(default_server.url + "/sparql", params={"query": TITLES}, timeout=30)
        etag = first.headers["ETag"]
        again = session.get(
            default_server.url + "/sparql", params={"query": TITLES}, headers={"If-None-Match": etag}, timeout=30
        )
    assert again.status_code == 304
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-DFL-Truncated" in first.headers["Access-Control-Expose-Headers"]
    preflight = requests.options(
        default_server.url + "/sparql",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_result_formats_agree(default_server: LiveServer) -> None:
    """JSON, XML and TSV carry the same terms: IRIs, language-tagged and typed literals, blank nodes, unbound."""
    from pyoxigraph import QueryResultsFormat, parse_query_results

    text = """SELECT ?a ?b WHERE {
      VALUES (?a ?b) {
        ("tab\\there"@en 1) (<http://example.org/x> UNDEF)
        ("2020-01-01"^^<http://www.w3.org/2001/XMLSchema#date> 2.5) ("quote \\" and , comma" true)
      }
    }"""
    parsed = {}
    for accept, fmt in [
        ("application/sparql-results+json", QueryResultsFormat.JSON),
        ("application/sparql-results+xml", QueryResultsFormat.XML),
        ("text/tab-separated-values", QueryResultsFormat.TSV),
    ]:
        response = requests.post(
            default_server.url + "/sparql", data={"query": text}, headers={"Accept": accept}, timeout=30
        )
        assert response.status_code == 200, response.text
        parsed[accept] = [
            tuple(str(t) if t is not None else None for t in row) for row in parse_query_results(response.content, fmt)
        ]
    assert len(parsed["application/sparql-results+json"]) == 4
    assert parsed["application/sparql-results+json"] == parsed["application/sparql-results+xml"]
    assert parsed["application/sparql-results+json"] == parsed["text/tab-separated-values"]
    csv_text = requests.post(
        default_server.url + "/sparql", data={"query": text}, headers={"Accept": "text/csv"}, timeout=30
    ).text
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert (
        rows[0] == ["a", "b"] and rows[4] == ['quote " and , comma', "true"] and rows[2] == ["http://example.org/x", ""]
    )
