"""Named queries as an API (/api/queries, /api/queries/{name}, /api/openapi.json) over HTTP, on a
synthetic DataPress catalogue (`dfl generate` + `dfl load datapress`: publishers, themes, keywords,
boroughs, distributions and dates, which the 2010 listing lacks)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
import rdflib
import requests
from conftest import LiveServer, dfl, free_port, live_server

from dfl_graph.queries import named_queries

CATALOGUE_MIX = [
    "datasets-by-theme",
    "datasets-by-publisher",
    "recently-modified",
    "keyword-search",
    "describe-dataset",
    "datasets-by-borough",
    "distributions-by-format",
]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("named-queries")
    export, data_dir = root / "export.json", root / "catalogue"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dfl("generate", "300", str(export))
    dfl("--base", base, "load", "datapress", str(export), "--source", "datapress", "--store", str(data_dir))
    with live_server(data_dir, port) as server:
        yield server


def api(server: LiveServer, path: str, **kwargs) -> requests.Response:
    return requests.get(server.url + path, timeout=30, **kwargs)


def sparql_rows(server: LiveServer, query: str) -> list[dict]:
    response = requests.post(
        server.url + "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def test_every_query_file_has_a_header() -> None:
    queries = named_queries()
    for name in CATALOGUE_MIX:
        assert name in queries, f"queries/{name}.rq"
        query = queries[name]
        assert query.title and query.title != name
        assert len(query.description) > 20


def test_listing(catalogue: LiveServer) -> None:
    response = api(catalogue, "/api/queries")
    assert response.status_code == 200
    listed = {q["name"]: q for q in response.json()["queries"]}
    assert set(listed) == set(named_queries())
    theme = listed["datasets-by-theme"]
    assert theme["url"] == f"{catalogue.url}/api/queries/datasets-by-theme"
    assert theme["parameters"][0]["name"] == "theme" and theme["parameters"][0]["type"] == "iri"
    assert catalogue.url in theme["parameters"][0]["description"], "{base} is filled in"
    assert listed["describe-dataset"]["result"] == "graph"


@pytest.mark.parametrize("name", CATALOGUE_MIX)
def test_catalogue_queries_answer(catalogue: LiveServer, name: str) -> None:
    response = api(catalogue, f"/api/queries/{name}")
    assert response.status_code == 200, response.text
    if name == "describe-dataset":
        assert response.headers["Content-Type"].startswith("application/ld+json")
        graph = rdflib.Graph().parse(data=response.content, format="json-ld")
        assert len(graph) > 3
        return
    body = response.json()
    assert body["truncated"] is None
    assert body["rows"], f"{name} finds something in the 2010 catalogue"
    assert set(body["rows"][0]) == set(body["columns"])


def test_counts_match_the_endpoint(catalogue: LiveServer) -> None:
    rows = api(catalogue, "/api/queries/datasets-by-theme").json()["rows"]
    theme = rows[0]["theme"]
    direct = sparql_rows(
        catalogue,
        "PREFIX dcat: <http://www.w3.org/ns/dcat#> SELECT (COUNT(DISTINCT ?d) AS ?n) "
        f"WHERE {{ ?d a dcat:Dataset ; dcat:theme <{theme}> }}",
    )
    assert rows[0]["datasets"] == int(direct[0]["n"]["value"])
    assert isinstance(rows[0]["datasets"], int), "numbers are JSON numbers"


def test_parameters_are_bound(catalogue: LiveServer) -> None:
    everything = api(catalogue, "/api/queries/datasets-by-theme").json()["rows"]
    theme = everything[1]["theme"]
    one = api(catalogue, "/api/queries/datasets-by-theme", params={"theme": theme}).json()["rows"]
    assert one == [everything[1]]


def test_parameters_are_rdf_terms_not_text(catalogue: LiveServer) -> None:
    """A parameter value is a literal, however it is written: it cannot change the query."""
    injection = '") } } SELECT * WHERE { GRAPH ?g { ?s ?p ?o } } #'
    response = api(catalogue, "/api/queries/keyword-search", params={"q": injection})
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == []
    assert response.json()["columns"] == ["dataset", "title", "keywords", "q"]


def test_csv(catalogue: LiveServer) -> None:
    by_param = api(catalogue, "/api/queries/datasets-by-theme", params={"format": "csv"})
    by_accept = api(catalogue, "/api/queries/datasets-by-theme", headers={"Accept": "text/csv"})
    for response in (by_param, by_accept):
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(response.text)))
        assert table[0] == ["theme", "label", "datasets"]
        assert len(table) > 2
    json_rows = api(catalogue, "/api/queries/datasets-by-theme").json()["rows"]
    assert [int(r[2]) for r in table[1:]] == [r["datasets"] for r in json_rows]


def test_graph_query_formats(catalogue: LiveServer) -> None:
    turtle = api(catalogue, "/api/queries/describe-dataset", headers={"Accept": "text/turtle"})
    assert turtle.headers["Content-Type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    dataset = next(graph.subjects(rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/dcat#Dataset")))
    chosen = api(catalogue, "/api/queries/describe-dataset", params={"dataset": str(dataset), "format": "turtle"})
    assert (dataset, rdflib.RDF.type, None) in rdflib.Graph().parse(data=chosen.text, format="turtle")


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/api/queries/datasets-by-theme", {"theme": "not an iri"}, 400, "absolute IRI"),
        ("/api/queries/recently-modified", {"since": "last week"}, 400, "ISO 8601"),
        ("/api/queries/datasets-by-theme", {"colour": "red"}, 400, "unknown parameter"),
        ("/api/queries/datasets-by-theme", {"theme": ["http://a/1", "http://a/2"]}, 400, "once"),
        ("/api/queries/no-such-query", {}, 404, "no named query"),
        ("/api/queries/datasets-by-theme", {"format": "turtle"}, 406, "not available"),
        ("/api/queries/dataset-document", {}, 400, "parameter 'dataset' is required"),
        ("/api/queries/dataset-about", {}, 400, "parameter 'dataset' is required"),
        ("/api/queries/resource-labels", {}, 400, "parameter 'resource' is required"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    catalogue: LiveServer, path: str, params: dict, status: int, words: str
) -> None:
    response = api(catalogue, path, params=params)
    assert response.status_code == status
    assert words in response.json()["error"]["message"]


def test_no_query_runs_over_the_whole_catalogue_for_want_of_a_parameter(catalogue: LiveServer) -> None:
    """Every named query answers without parameters either with its documented defaults or with 400 naming
    the missing one; none returns the whole catalogue because a parameter was left out."""
    listed = {q["name"]: q for q in api(catalogue, "/api/queries").json()["queries"]}
    quads = requests.get(catalogue.url + "/catalog.nt", timeout=60).text.count("\n")
    for name, described in listed.items():
        response = api(
            catalogue, f"/api/queries/{name}", params={"format": "nt" if described["result"] == "graph" else "csv"}
        )
        required = [p["name"] for p in described["parameters"] if p["required"]]
        if required:
            assert response.status_code == 400, (name, response.text)
            assert required[0] in response.json()["error"]["message"]
        else:
            assert response.status_code == 200, (name, response.text)
            assert response.text.count("\n") < quads / 10, f"{name} without parameters answers most of the catalogue"


def test_withdrawn_uses_the_deployments_class_by_default(catalogue: LiveServer) -> None:
    described = next(q for q in api(catalogue, "/api/queries").json()["queries"] if q["name"] == "index-withdrawn")
    withdrawn = next(p for p in described["parameters"] if p["name"] == "withdrawn")
    assert withdrawn["default"] == f"{catalogue.url}/def/dfl#WithdrawnDataset"
    assert not withdrawn["required"]
    default = api(catalogue, "/api/queries/index-withdrawn").json()
    explicit = api(catalogue, "/api/queries/index-withdrawn", params={"withdrawn": withdrawn["default"]}).json()
    assert default == explicit, "the default is bound (unbound, ?dataset a ?withdrawn matches every typed resource)"


@pytest.mark.parametrize("name", ["latest-datasets", "datasets-by-theme"])
def test_catalogue_questions_are_answered_from_the_index(catalogue: LiveServer, name: str) -> None:
    response = api(catalogue, f"/api/queries/{name}")
    assert response.status_code == 200, response.text
    assert response.headers["X-DFL-Answered-By"] == "index"
    rows = response.json()["rows"]
    assert rows
    if name == "latest-datasets":
        text = named_queries()[name].text
        on_the_engine = text.replace("WHERE {", "WHERE { {").replace("}\nORDER BY", "} }\nORDER BY")  # not a shape
        assert on_the_engine != text
        same = sparql_rows(catalogue, on_the_engine)
        assert [r["dataset"] for r in rows] == [b["dataset"]["value"] for b in same]


def test_repeated_queries_come_from_the_cache(catalogue: LiveServer) -> None:
    with requests.Session() as session:  # one connection, so one web process and its cache
        first = session.get(catalogue.url + "/api/queries/datasets-by-publisher", timeout=30)
        second = session.get(catalogue.url + "/api/queries/datasets-by-publisher", timeout=30)
    assert first.content == second.content
    assert second.headers["X-DFL-Cache"] == "hit"
    assert first.headers["ETag"] == second.headers["ETag"]


def test_openapi(catalogue: LiveServer) -> None:
    document = api(catalogue, "/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": catalogue.url}]
    paths = document["paths"]
    for name, query in named_queries().items():
        operation = paths[f"/api/queries/{name}"]["get"]
        assert operation["summary"] == query.title
        declared = {p["name"]: p for p in operation["parameters"]}
        for parameter in query.parameters:
            assert declared[parameter.name]["in"] == "query"
            assert "type" in declared[parameter.name]["schema"]
        assert "format" in declared
        assert "200" in operation["responses"] and "400" in operation["responses"]
    theme = paths["/api/queries/datasets-by-theme"]["get"]
    assert theme["parameters"][0]["schema"] == {"type": "string", "format": "uri"}
    assert set(theme["responses"]["200"]["content"]) >= {"application/json", "text/csv"}
    assert "/sparql" in paths
    # Every reference resolves.
    schemas = document["components"]["schemas"]
    text = str(document)
    for ref in {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}:
        assert ref in schemas
