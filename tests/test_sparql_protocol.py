"""The W3C SPARQL 1.1 Protocol and Service Description test suites, over HTTP against `dfl serve`.

The suites are in tests/data/w3c-sparql11/ (copied with their licence). The protocol manifest's graphs
(data1-3.nt under their kasei.us names) are loaded with `dfl restore graphs.nq --public`, and every test
request is sent as the manifest writes it, its ``/sparql/`` path on our server.

* query tests (``query_*``, ``bad_query_*``, ``bad_multiple_queries``): must pass as the manifest says;
* update tests: this endpoint is read-only, so an update must be refused with a 4xx that says so (the
  ``bad_update_*`` tests expect a 4xx anyway), and the data must be unchanged afterwards;
* service description tests: GET /sparql without a query returns RDF with an ``sd:endpoint`` triple for
  the URL and a description that keeps to the SD vocabulary.

To run the suite against a server you started yourself (see docs/sparql.md), set
``DFL_PROTOCOL_SERVER=http://host:port`` (a server loaded with graphs.nq).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import rdflib
import requests
from conftest import dfl, free_port, live_server
from pyoxigraph import QueryResultsFormat, parse_query_results
from rdflib.namespace import RDF

SUITE = Path(__file__).parent / "data" / "w3c-sparql11"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
KASEI = [f"http://kasei.us/2009/09/sparql/data/data{i}.rdf" for i in (1, 2, 3)]

pytestmark = pytest.mark.conformance


@dataclass
class ProtocolRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[str]  # "2xx", "3xx", "4xx", ...
    expected_format: str | None
    expected_boolean: bool | None


@dataclass
class ProtocolTest:
    name: str
    title: str
    requests: list[ProtocolRequest] = field(default_factory=list)
    graph_data: dict[str, str] = field(default_factory=dict)  # file -> graph IRI

    @property
    def is_update(self) -> bool:
        return "update" in self.name


def _list(graph: rdflib.Graph, head) -> list:
    return list(rdflib.collection.Collection(graph, head))


def load_protocol_manifest() -> list[ProtocolTest]:
    graph = rdflib.Graph().parse(SUITE / "protocol" / "manifest.ttl", format="turtle")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in _list(graph, graph.value(manifest, MF.entries)):
        test = ProtocolTest(str(entry).rsplit("#", 1)[-1], str(graph.value(entry, MF.name)))
        for data in graph.objects(entry, UT.graphData):
            test.graph_data[str(graph.value(data, UT.graph)).rsplit("/", 1)[-1]] = str(
                graph.value(data, rdflib.RDFS.label)
            )
        action = graph.value(entry, MF.action)
        for node in _list(graph, graph.value(action, HT.requests)):
            headers = {}
            header_list = graph.value(node, HT.headers)
            for header in _list(graph, header_list) if header_list is not None else []:
                headers[str(graph.value(header, HT.fieldName))] = str(graph.value(header, HT.fieldValue))
            body_node = graph.value(node, HT.body)
            body = None
            if body_node is not None:
                encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(graph.value(body_node, CNT.chars)).encode(encoding.lower())
            response = graph.value(node, HT.resp)
            statuses = {str(s).rsplit("StatusCode", 1)[-1] for s in graph.objects(response, MF.expectedStatus)}
            fmt = graph.value(response, MF.expectedFormat)
            boolean = graph.value(response, MF.expectedBoolean)
            test.requests.append(
                ProtocolRequest(
                    str(graph.value(node, HT.methodName)),
                    str(graph.value(node, HT.absolutePath)),
                    headers,
                    body,
                    statuses,
                    str(fmt) if fmt is not None else None,
                    boolean.toPython() if boolean is not None else None,
                )
            )
        tests.append(test)
    return tests


PROTOCOL_TESTS = load_protocol_manifest()
QUERY_TESTS = [t for t in PROTOCOL_TESTS if not t.is_update]
UPDATE_TESTS = [t for t in PROTOCOL_TESTS if t.is_update]


pytestmark = pytest.mark.both_backends


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[str]:
    """A server with the suite's graphs, public, under their kasei.us names (or DFL_PROTOCOL_SERVER)."""
    if os.environ.get("DFL_PROTOCOL_SERVER"):
        yield os.environ["DFL_PROTOCOL_SERVER"].rstrip("/")
        return
    data_dir = tmp_path_factory.mktemp("w3c-protocol") / "catalogue"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dfl("--base", base, "restore", str(SUITE / "protocol" / "graphs.nq"), "--public", "--store", str(data_dir))
    with live_server(data_dir, port) as server:
        yield server.url


def test_graphs_file_matches_the_manifest() -> None:
    """graphs.nq holds exactly data1-3.nt under the graph names the manifest gives them."""
    expected = set()
    for test in PROTOCOL_TESTS:
        for file, name in test.graph_data.items():
            for triple in (SUITE / "protocol" / file).read_text().splitlines():
                if triple.strip():
                    expected.add(triple.strip().removesuffix(".").strip() + f" <{name}> .")
    shipped = {line.strip() for line in (SUITE / "protocol" / "graphs.nq").read_text().splitlines() if line.strip()}
    assert shipped == expected
    assert sorted({n for t in PROTOCOL_TESTS for n in t.graph_data.values()}) == KASEI


def _send(endpoint: str, request: ProtocolRequest) -> requests.Response:
    # The manifest's paths start with /sparql/: our endpoint answers there as at /sparql.
    return requests.request(
        request.method,
        endpoint + request.path,
        headers=request.headers,
        data=request.body,
        timeout=30,
        allow_redirects=False,
    )


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


def _check_format(response: requests.Response, expected: str, boolean: bool | None) -> None:
    media_type = response.headers["Content-Type"].split(";")[0].strip()
    if expected == "boolean":
        formats = {"application/sparql-results+json": QueryResultsFormat.JSON}
        formats["application/sparql-results+xml"] = QueryResultsFormat.XML
        assert media_type in formats, f"an ASK result as {media_type}"
        result = parse_query_results(response.content, formats[media_type])
        if boolean is not None:
            assert bool(result) is boolean
    elif expected == "tabular":
        formats = {
            "application/sparql-results+json": QueryResultsFormat.JSON,
            "application/sparql-results+xml": QueryResultsFormat.XML,
            "text/csv": None,  # lossy: pyoxigraph does not read it back
            "text/tab-separated-values": QueryResultsFormat.TSV,
        }
        assert media_type in formats, f"a SELECT result as {media_type}"
        if formats[media_type] is None:
            assert response.text.splitlines() == ["value", "1"]
        else:
            assert len(list(parse_query_results(response.content, formats[media_type]))) == 1
    elif expected == "RDF":
        formats = {"application/rdf+xml": "xml", "text/turtle": "turtle", "application/n-triples": "nt"}
        assert media_type in formats, f"a graph as {media_type}"
        rdflib.Graph().parse(data=response.content, format=formats[media_type])
    else:
        raise AssertionError(f"unknown expected format {expected}")


@pytest.mark.parametrize("test", QUERY_TESTS, ids=[t.name for t in QUERY_TESTS])
def test_protocol_query(endpoint: str, test: ProtocolTest) -> None:
    for request in test.requests:
        response = _send(endpoint, request)
        assert _status_class(response.status_code) in request.statuses, (
            f"{test.name} ({test.title}): {request.method} {request.path} answered {response.status_code} "
            f"{response.text[:300]!r}, expected {sorted(request.statuses)}"
        )
        if request.expected_format and response.status_code < 300:
            _check_format(response, request.expected_format, request.expected_boolean)
        if response.status_code >= 400:
            assert response.text.strip(), "an error must say what is wrong"


@pytest.mark.parametrize("test", UPDATE_TESTS, ids=[t.name for t in UPDATE_TESTS])
def test_protocol_update_is_refused(endpoint: str, test: ProtocolTest) -> None:
    """A read-only endpoint refuses every update request with a 4xx (the bad_update_* tests' own
    expectation), and nothing changes."""
    first = test.requests[0]
    response = _send(endpoint, first)
    assert 400 <= response.status_code < 500, f"{test.name}: {response.status_code} {response.text[:200]!r}"
    if test.name.startswith("bad_"):
        assert _status_class(response.status_code) in first.statuses
    content_type = first.headers.get("content-type", "")
    sends_update = (
        content_type.startswith("application/sparql-update")
        or (content_type == "application/x-www-form-urlencoded" and b"update=" in (first.body or b""))
        or "update=" in first.path
    )
    if sends_update:
        assert "read-only" in response.text, response.text
    # The data is unchanged: every graph is still there, nothing was inserted.
    check = requests.post(
        endpoint + "/sparql",
        data={"query": "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert check.status_code == 200
    counts = {b["g"]["value"]: int(b["n"]["value"]) for b in check.json()["results"]["bindings"]}
    assert counts == dict.fromkeys(KASEI, 1)


def test_protocol_suite_is_complete() -> None:
    assert len(PROTOCOL_TESTS) == 34
    assert len(QUERY_TESTS) == 20
    assert len(UPDATE_TESTS) == 14


# -- service description -----------------------------------------------------------------------------
SD_LANGUAGES = {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
SD_FEATURES = {SD.DereferencesURIs, SD.UnionDefaultGraph, SD.RequiresDataset, SD.EmptyGraphs, SD.BasicFederatedQuery}
RDF_ACCEPTS = {
    "text/turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
}


def load_sd_manifest() -> list[str]:
    graph = rdflib.Graph().parse(SUITE / "service-description" / "manifest.ttl", format="turtle")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    return [str(e).rsplit("#", 1)[-1] for e in _list(graph, graph.value(manifest, MF.entries))]


SD_TESTS = load_sd_manifest()


def _description(endpoint: str, accept: str) -> tuple[requests.Response, rdflib.Graph]:
    response = requests.get(endpoint + "/sparql", headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200, response.text
    media_type = response.headers["Content-Type"].split(";")[0]
    graph = rdflib.Graph().parse(data=response.content, format=RDF_ACCEPTS[media_type])
    return response, graph


@pytest.mark.parametrize("accept", [*RDF_ACCEPTS, "*/*"])
@pytest.mark.parametrize("test", SD_TESTS)
def test_service_description(endpoint: str, test: str, accept: str) -> None:
    response, graph = _description(endpoint, accept)
    services = list(graph.subjects(RDF.type, SD.Service))
    if test == "returns-rdf":
        assert len(graph) > 0
        if accept != "*/*":
            assert response.headers["Content-Type"].split(";")[0] == accept
    elif test == "has-endpoint-triple":
        assert len(services) == 1
        assert (services[0], SD.endpoint, rdflib.URIRef(endpoint + "/sparql")) in graph
    elif test == "conforms-to-schema":
        _check_schema(graph, services)
    else:
        raise AssertionError(f"unknown service description test {test}")


def _check_schema(graph: rdflib.Graph, services: list) -> None:
    """The description keeps to the SD vocabulary's classes, domains and ranges."""
    assert len(services) == 1
    service = services[0]
    assert all(isinstance(e, rdflib.URIRef) for e in graph.objects(service, SD.endpoint))
    languages = set(graph.objects(service, SD.supportedLanguage))
    assert languages and languages <= SD_LANGUAGES
    assert set(graph.objects(service, SD.feature)) <= SD_FEATURES
    assert SD.BasicFederatedQuery not in set(graph.objects(service, SD.feature)), "SERVICE is refused"
    formats = list(graph.objects(service, SD.resultFormat))
    assert formats and all(isinstance(f, rdflib.URIRef) for f in formats)
    for regime in graph.objects(service, SD.defaultEntailmentRegime):
        assert isinstance(regime, rdflib.URIRef)
    datasets = list(graph.objects(service, SD.defaultDataset))
    assert len(datasets) == 1
    dataset = datasets[0]
    assert (dataset, RDF.type, SD.Dataset) in graph
    for default in graph.objects(dataset, SD.defaultGraph):
        assert (default, RDF.type, SD.Graph) in graph
    names = []
    for named in graph.objects(dataset, SD.namedGraph):
        assert (named, RDF.type, SD.NamedGraph) in graph
        name = list(graph.objects(named, SD.name))
        assert len(name) == 1 and isinstance(name[0], rdflib.URIRef)
        names.append(str(name[0]))
        for described in graph.objects(named, SD.graph):
            assert (described, RDF.type, SD.Graph) in graph
    # The default dataset lists the public graphs: here, the suite's.
    assert sorted(names) == KASEI
    # Domains: every SD property is used on a subject of its domain class.
    domains = {
        SD.endpoint: SD.Service,
        SD.supportedLanguage: SD.Service,
        SD.resultFormat: SD.Service,
        SD.feature: SD.Service,
        SD.defaultDataset: SD.Service,
        SD.defaultEntailmentRegime: SD.Service,
        SD.defaultGraph: SD.Dataset,
        SD.namedGraph: SD.Dataset,
        SD.name: SD.NamedGraph,
        SD.graph: SD.NamedGraph,
    }
    for prop, domain in domains.items():
        for subject in graph.subjects(prop, None):
            assert (subject, RDF.type, domain) in graph, f"{subject} uses {prop} but is not a {domain}"


def test_service_description_states_the_caps(endpoint: str) -> None:
    _response, graph = _description(endpoint, "text/turtle")
    comment = " ".join(str(c) for c in graph.objects(None, rdflib.RDFS.comment))
    assert "rows" in comment and "bytes" in comment and "X-DFL-Truncated" in comment


def test_service_description_json_ld_is_json(endpoint: str) -> None:
    response = requests.get(endpoint + "/sparql", params={"format": "jsonld"}, timeout=30)
    assert response.headers["Content-Type"].startswith("application/ld+json")
    assert json.loads(response.content)
