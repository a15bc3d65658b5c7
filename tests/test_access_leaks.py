"""Trusted reading and its leak and privilege suite, over real HTTP (gunicorn), a real on-disk catalogue loaded by
the real `dfl load`, and callers made by the real `dfl accounts|grants|tokens` commands.

The catalogue holds public datasets of two organisations (A: TfL, B: the GLA), one RESTRICTED dataset of A and
one NON_PUBLIC dataset of each (every role sees RESTRICTED records; members see their organisation's NON_PUBLIC
ones too). Each non-public dataset carries a marker word in its title, description and
keywords; every interface is asked by every caller, and each answer must hold exactly the markers that caller may
see: positive checks (a trusted reader does see the restricted dataset, a member of A sees A's non-public one)
and 0 leaks (nobody sees a marker beyond their visibility). Expired and revoked tokens get 401, never the public
view. Sitemaps, VoID, the catalogue feed and the Atom feeds are public only for everyone.
"""

from __future__ import annotations

import email
import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import test_browser
from conftest import LiveServer, dfl, free_port, live_server
from pyoxigraph import NamedNode
from test_sparql_shapes_incremental import _tables

from dfl_graph.accounts.credentials import parse_token
from dfl_graph.accounts.database import FILENAME

pytestmark = pytest.mark.xdist_group("access-leaks")
chromium = test_browser.browser  # the suite's Chromium fixture, shared rather than copied

SOURCE = "leaks"
RESTRICTED = "quokka"  # marker of A's RESTRICTED dataset
A_PRIVATE = "wombat"  # marker of A's NON_PUBLIC dataset
B_PRIVATE = "numbat"  # marker of B's NON_PUBLIC dataset
MARKERS = (RESTRICTED, A_PRIVATE, B_PRIVATE)
TFL = ("tfl", "Transport for London")
GLA = ("gla", "Greater London Authority")


def _item(dataset_id: str, title: str, publisher: tuple[str, str], sharing: str, tags: list[str]) -> dict:
    name = f"{dataset_id}.csv"
    return {
        "webpage": f"https://data.london.gov.uk/dataset/{dataset_id}",
        "id": dataset_id,
        "description": f"<p>{title}, for the leak suite.</p>",
        "title": title,
        "createdAt": "2019-01-01T00:00:00.000Z",
        "updatedAt": "2021-06-01T00:00:00.000Z",
        "nextReviewDate": None,
        "sharing": sharing,
        "masthead": {"id": publisher[0], "title": publisher[1]},
        "team": {"id": f"{publisher[0]}-team", "title": publisher[1]},
        "topics": [{"id": "transport", "title": "Transport"}],
        "tags": tags,
        "licence": {"id": "OGLv3", "title": "UK Open Government Licence (OGL v3)"},
        "contact": None,
        "resources": [
            {
                "dataset": dataset_id,
                "webpage": f"https://data.london.gov.uk/dataset/{dataset_id}",
                "id": f"{dataset_id}-file",
                "title": name,
                "url": f"https://data.london.gov.uk/download/{dataset_id}/{name}",
                "description": "",
                "timeframeFrom": None,
                "timeframeTo": None,
                "size": 1000,
                "hash": None,
                "timestamp": "2021-05-01T10:00:00",
                "filename": name,
            }
        ],
        "links": [],
        "custom": {},
    }


ITEMS = [
    _item("open-a", "Bus stop locations", TFL, "public", ["buses"]),
    _item("open-b", "Ward population estimates", GLA, "public", ["population"]),
    _item("secret-r", f"Signal faults {RESTRICTED} log", TFL, "restricted", [RESTRICTED]),
    _item("secret-a", f"Depot security {A_PRIVATE} plan", TFL, "private", [A_PRIVATE]),
    _item("secret-b", f"Staff casework {B_PRIVATE} register", GLA, "private", [B_PRIVATE]),
]


@dataclass
class Catalogue:
    server: LiveServer
    tokens: dict[str, str]  # caller -> bearer token (anonymous: none)
    datasets: dict[str, str]  # marker -> dataset IRI

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, caller: str, path: str, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if caller in self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens[caller]}"
        return requests.get(self.url + path, headers=headers, timeout=60, **kwargs)


# what each caller may see of the three markers
SEES = {
    "anonymous": set(),
    "reader": {RESTRICTED},
    "member-a": {RESTRICTED, A_PRIVATE},  # every role sees RESTRICTED records (docs/access.md: roles)
    "member-b": {RESTRICTED, B_PRIVATE},
    "administrator": set(MARKERS),
}
CALLERS = list(SEES)


def _token(base: str, data_dir: Path, email: str) -> str:
    text = dfl("--base", base, "tokens", "create", email, "--label", "leaks", "--store", str(data_dir)).stdout.strip()
    assert parse_token(text) is not None
    return text


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    root = tmp_path_factory.mktemp("access-leaks")
    data_dir = root / "catalogue"
    export = root / "export.json"
    export.write_text(json.dumps(ITEMS))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dfl("--base", base, "load", "datapress", str(export), "--source", SOURCE, "--store", str(data_dir))
    store = str(data_dir)
    people = {
        "reader": ("reader@camden.gov.uk", ["reader"]),
        "member-a": ("member@tfl.gov.uk", ["member", "--organisation", "tfl"]),
        "member-b": ("member@london.gov.uk", ["member", "--organisation", "gla"]),
        "administrator": ("chief@london.gov.uk", ["administrator"]),
        "expired": ("late@camden.gov.uk", ["reader"]),
        "revoked": ("gone@camden.gov.uk", ["reader"]),
    }
    tokens = {}
    for caller, (address, grant) in people.items():
        dfl("--base", base, "accounts", "create", address, "--store", store)
        dfl("--base", base, "grants", "add", grant[0], "--account", address, *grant[1:], "--store", store)
        tokens[caller] = _token(base, data_dir, address)
    expired_id = parse_token(tokens["expired"])[0]
    with sqlite3.connect(data_dir / FILENAME) as db:
        db.execute("UPDATE tokens SET expires_at = '2001-01-01T00:00:00Z' WHERE id = ?", (expired_id,))
    dfl("--base", base, "tokens", "revoke", parse_token(tokens["revoked"])[0], "--store", store)
    env = {"DFL_MAIL_OUTBOX": str(root / "outbox"), "DFL_LOGIN_ATTEMPTS_PER_CLIENT": "1000"}
    with live_server(data_dir, port, env=env) as server:
        found = Catalogue(server, tokens, {})
        answer = found.get(
            "administrator",
            "/sparql",
            params={
                "query": "SELECT ?d ?t WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> ; "
                "<http://purl.org/dc/terms/title> ?t }"
            },
            headers={"Accept": "application/sparql-results+json"},
        )
        for row in answer.json()["results"]["bindings"]:
            for marker in MARKERS:
                if marker in row["t"]["value"]:
                    found.datasets[marker] = row["d"]["value"]
        assert set(found.datasets) == set(MARKERS), answer.text
        yield found


def seen(text: str) -> set[str]:
    return {marker for marker in MARKERS if marker in text}


def path_of(catalogue: Catalogue, iri: str) -> str:
    return iri[len(catalogue.url) :]


# -- the graph layout -------------------------------------------------------------------------------------------
def test_one_graph_per_access_level_and_organisation(catalogue: Catalogue) -> None:
    manifest_path = sorted((catalogue.server.data_dir / "generations").glob("*/manifest.json"))[-1]
    graphs = json.loads(manifest_path.read_text())["graphs"]
    prefix = f"{catalogue.url}/graph/{SOURCE}"
    assert graphs[prefix]["public"] is True
    assert graphs[f"{prefix}/restricted"] | {"quads": 0} == {
        "source": SOURCE,
        "public": False,
        "access": "restricted",
        "quads": 0,
    }
    for publisher in ("tfl", "gla"):
        info = graphs[f"{prefix}/non-public/{publisher}"]
        assert info["access"] == "non-public" and info["organisation"] == f"{catalogue.url}/publisher/{publisher}"
        assert info["public"] is False and info["quads"] > 0
    table = dfl("--base", catalogue.url, "stats", "--store", str(catalogue.server.data_dir)).stdout
    for readers in ("everyone", "trusted readers", "members of tfl", "members of gla"):
        assert readers in table


# -- pages and documents --------------------------------------------------------------------------------------------
FORMATS = ("", ".ttl", ".jsonld", ".nt", ".rdf", ".json")


@pytest.mark.parametrize("caller", CALLERS)
def test_dataset_documents_in_every_format(catalogue: Catalogue, caller: str) -> None:
    for marker, iri in catalogue.datasets.items():
        for suffix in FORMATS:
            response = catalogue.get(caller, path_of(catalogue, iri) + suffix)
            if marker in SEES[caller]:
                assert response.status_code == 200, (marker, suffix, response.text[:300])
                assert marker in response.text
                assert seen(response.text) == {marker}
                assert "private" in response.headers["Cache-Control"]
                assert "public" not in response.headers["Cache-Control"]
                assert {"Authorization", "Cookie"} <= set(response.headers["Vary"].replace(" ", "").split(","))
            else:
                assert response.status_code == 404, (caller, marker, suffix)  # never 403: that would tell
                assert not seen(response.text)
        by_accept = catalogue.get(caller, path_of(catalogue, iri), headers={"Accept": "text/turtle"})
        assert by_accept.status_code == (200 if marker in SEES[caller] else 404)
        assert seen(by_accept.text) == ({marker} & SEES[caller])


@pytest.mark.parametrize("caller", CALLERS)
def test_distributions_follow_their_dataset(catalogue: Catalogue, caller: str) -> None:
    for marker, iri in catalogue.datasets.items():
        dataset_id = {RESTRICTED: "secret-r", A_PRIVATE: "secret-a", B_PRIVATE: "secret-b"}[marker]
        response = catalogue.get(caller, f"{path_of(catalogue, iri)}/distribution/{dataset_id}-file.ttl")
        assert response.status_code == (200 if marker in SEES[caller] else 404), (caller, marker)


def test_public_pages_stay_public_and_shared(catalogue: Catalogue) -> None:
    response = catalogue.get("anonymous", "/dataset/open-a")
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    assert "Authorization" not in response.headers.get("Vary", "")


# -- what stays public only for everyone ---------------------------------------------------------------------
PUBLIC_ONLY = [
    "/sitemap.xml",
    "/sitemap-pages.xml",
    "/sitemap-datasets-1.xml",
    "/.well-known/void",
    "/.well-known/void.ttl",
    "/catalog",
    "/catalog.ttl",
    "/catalog.nt",
    "/catalog.nq",
    "/catalog.jsonld",
    "/feed.atom",
    "/search.atom?q=",
    f"/graph/{SOURCE}/restricted",
    f"/graph/{SOURCE}/non-public/tfl",
    "/publisher/gla.ttl",
]


@pytest.mark.parametrize("caller", CALLERS)
def test_crawler_and_feed_resources_are_public_only(catalogue: Catalogue, caller: str) -> None:
    for path in PUBLIC_ONLY:
        response = catalogue.get(caller, path)
        assert response.status_code in (200, 404), (path, response.status_code)
        assert not seen(response.text), (caller, path)
        for marker, iri in catalogue.datasets.items():
            assert iri not in response.text, (caller, path, marker)


@pytest.mark.parametrize("caller", CALLERS)
def test_search_facets_and_counts_follow_the_caller(catalogue: Catalogue, caller: str) -> None:
    for marker in MARKERS:
        result = catalogue.get(caller, "/api/search", params={"q": marker}).json()
        listed = {key: value for key, value in result.items() if key not in ("query", "links")}  # they echo q
        assert result["total"] == (1 if marker in SEES[caller] else 0), (caller, marker)
        assert seen(json.dumps(listed)) == {marker} & SEES[caller], (caller, marker)
    everything = catalogue.get(caller, "/api/search", params={"q": "", "per_page": 50}).json()
    assert everything["total"] == 2 + len(SEES[caller])  # the two public datasets, and what the caller may read
    assert seen(json.dumps(everything["results"])) == SEES[caller]
    for facet in ("access", "publisher", "theme"):
        counts = {value["key"]: value["count"] for value in everything["facets"][facet]}
        assert sum(counts.values()) == everything["total"], (caller, facet, counts)
    access = {value["key"]: value["count"] for value in everything["facets"]["access"]}
    assert access.get("NON_PUBLIC", 0) == len(SEES[caller] & {A_PRIVATE, B_PRIVATE})
    filtered = catalogue.get(caller, "/api/search", params={"q": f"{A_PRIVATE} plan", "publisher": "tfl"}).json()
    assert filtered["total"] == (A_PRIVATE in SEES[caller])
    relaxed = catalogue.get(caller, "/api/search", params={"q": f"{A_PRIVATE} {B_PRIVATE} xylophone"}).json()
    titles = " ".join(hit["title"] + hit["description"] for hit in relaxed["results"])  # ("missing" echoes q)
    assert seen(titles) == {A_PRIVATE, B_PRIVATE} & SEES[caller]  # a dataset with any of the words
    gla = catalogue.get(caller, "/api/search", params={"publisher": "gla"}).json()
    assert gla["total"] == 1 + (B_PRIVATE in SEES[caller])  # B's non-public dataset counts only for its readers
    misspelt = catalogue.get(caller, "/api/search", params={"q": "numbet"}).json()  # spelling never tells
    assert "numbat" not in json.dumps(misspelt.get("correction")) or B_PRIVATE in SEES[caller]


@pytest.mark.parametrize("caller", CALLERS)
def test_member_counts_follow_the_caller(catalogue: Catalogue, caller: str) -> None:
    members = catalogue.get(caller, "/publishers.json").json()["members"]
    counts = {member["iri"].rsplit("/", 1)[-1]: member["datasets"] for member in members}
    assert counts["tfl"] == 1 + len(SEES[caller] & {RESTRICTED, A_PRIVATE}), (caller, counts)
    assert counts["gla"] == 1 + len(SEES[caller] & {B_PRIVATE}), (caller, counts)
    home = catalogue.get(caller, "/index.json").json()
    assert home["datasets"] == 2 + len(SEES[caller])
    assert {p["key"]: p["count"] for p in home["publishers"]} == {"tfl": counts["tfl"], "gla": counts["gla"]}
    years = home["charts"]["datasets_by_year_of_last_update"]
    assert sum(y["count"] for y in years) + home["charts"]["datasets_without_a_date"] == home["datasets"]


LISTS = {
    "/": set(MARKERS),
    "/index.json": set(MARKERS),
    "/search?q=": set(MARKERS),
    "/publisher/tfl": {RESTRICTED, A_PRIVATE},
    "/publisher/gla": {B_PRIVATE},
}


@pytest.mark.parametrize("caller", CALLERS)
def test_library_lists_follow_the_caller(catalogue: Catalogue, caller: str) -> None:
    for path, holds in LISTS.items():
        response = catalogue.get(caller, path)
        assert response.status_code == 200
        assert seen(response.text) == holds & SEES[caller], (caller, path)
        assert ("private" in response.headers.get("Cache-Control", "")) == bool(SEES[caller])


# -- the CKAN API -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("caller", CALLERS)
def test_ckan_package_show_and_include_private(catalogue: Catalogue, caller: str) -> None:
    for marker, iri in catalogue.datasets.items():
        response = catalogue.get(caller, "/api/3/action/package_show", params={"id": iri.rsplit("/", 1)[1]})
        if marker in SEES[caller]:
            assert response.status_code == 200
            package = response.json()["result"]
            assert marker in package["title"] and package["private"] is True
        else:
            assert response.status_code == 404 and response.json()["error"]["message"] == "Not found"
            assert not seen(response.text)
        for include in ("true", "false"):
            found = catalogue.get(
                caller, "/api/3/action/package_search", params={"q": marker, "include_private": include}
            ).json()["result"]
            expected = marker in SEES[caller] and include == "true"
            assert found["count"] == (1 if expected else 0), (caller, marker, include)
            assert seen(json.dumps(found)) == ({marker} if expected else set())
    listed = catalogue.get(caller, "/api/3/action/package_search", params={"rows": 50}).json()["result"]
    assert listed["count"] == 2 and not seen(json.dumps(listed))  # without include_private: public only, as CKAN


# -- SPARQL ---------------------------------------------------------------------------------------------------
def _graphs(catalogue: Catalogue) -> dict[str, str]:
    prefix = f"{catalogue.url}/graph/{SOURCE}"
    return {
        RESTRICTED: f"{prefix}/restricted",
        A_PRIVATE: f"{prefix}/non-public/tfl",
        B_PRIVATE: f"{prefix}/non-public/gla",
    }


TITLES = "?d <http://purl.org/dc/terms/title> ?t"
SPARQL_WAYS = {
    "default graph": f"SELECT ?t WHERE {{ {TITLES} }}",
    "GRAPH ?g": f"SELECT ?g ?t WHERE {{ GRAPH ?g {{ {TITLES} }} }}",
    "GRAPH <g>": f"SELECT ?t WHERE {{ GRAPH <G> {{ {TITLES} }} }}",
    "FROM": f"SELECT ?t FROM <G> WHERE {{ {TITLES} }}",
    "FROM NAMED": f"SELECT ?t FROM NAMED <G> WHERE {{ GRAPH ?g {{ {TITLES} }} }}",
    "GRAPH in a subquery": f"SELECT ?t WHERE {{ {{ SELECT ?t WHERE {{ GRAPH ?g {{ {TITLES} }} }} }} }}",
    "system graph": f"SELECT ?s ?p ?o WHERE {{ GRAPH <{'{ORIGIN}'}/graph/system> {{ ?s ?p ?o }} }}",
}


def _sparql(catalogue: Catalogue, caller: str, query: str, **params) -> requests.Response:
    accept = "application/n-triples" if query.startswith(("DESCRIBE", "CONSTRUCT")) else "text/csv"
    response = catalogue.get(caller, "/sparql", params={"query": query, **params}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("caller", CALLERS)
def test_sparql_sees_exactly_the_callers_graphs(catalogue: Catalogue, caller: str) -> None:
    graphs = _graphs(catalogue)
    for way, text in SPARQL_WAYS.items():
        if "<G>" in text:
            for marker, graph in graphs.items():
                answer = _sparql(catalogue, caller, text.replace("<G>", f"<{graph}>"))
                assert seen(answer.text) == {marker} & SEES[caller], (caller, way, marker)
            continue
        answer = _sparql(catalogue, caller, text.replace("{ORIGIN}", catalogue.url))
        if way == "system graph":
            assert answer.text.strip() == "s,p,o", (caller, answer.text[:300])
        else:
            assert seen(answer.text) == SEES[caller], (caller, way)
        assert ("private" in answer.headers["Cache-Control"]) == bool(SEES[caller])
    for marker, iri in catalogue.datasets.items():
        described = _sparql(catalogue, caller, f"DESCRIBE <{iri}>")
        assert seen(described.text) == {marker} & SEES[caller], (caller, "DESCRIBE", marker)


@pytest.mark.parametrize("caller", CALLERS)
def test_one_resources_statements_are_looked_up_within_the_callers_graphs(catalogue: Catalogue, caller: str) -> None:
    """A trusted caller's DESCRIBE or CONSTRUCT of one resource is read in the web process too (from the
    generation's store, within the caller's graphs), with the statements the engine gives: no more, no fewer."""
    graphs = _graphs(catalogue)
    for marker, iri in catalogue.datasets.items():
        pairs = [
            (f"DESCRIBE <{iri}>", f"DESCRIBE <{iri}> WHERE {{}}", {}),
            (
                f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}",
                f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ {{ <{iri}> ?p ?o }} }}",
                {},
            ),
            (f"DESCRIBE <{iri}>", f"DESCRIBE <{iri}> WHERE {{}}", {"default-graph-uri": graphs[marker]}),
        ]
        for looked_up, engine, params in pairs:
            answers = [_sparql(catalogue, caller, text, **params) for text in (looked_up, engine)]
            assert answers[0].headers["X-DFL-Answered-By"] == "lookup", (caller, looked_up)
            assert answers[1].headers["X-DFL-Answered-By"] == "engine", (caller, engine)
            statements = [sorted(a.text.splitlines()) for a in answers]
            assert statements[0] == statements[1], (caller, looked_up, params)
            assert seen(answers[0].text) == {marker} & SEES[caller], (caller, looked_up, params)
            assert bool(statements[0]) == (marker in SEES[caller]), (caller, looked_up, params)


# everyday catalogue questions the shape index answers (docs/sparql.md), each with a twin the engine answers (a
# group in a group is not a recognised shape): the same rows are expected from both
DCAT_DATASET = "<http://www.w3.org/ns/dcat#Dataset>"
THEME = "<http://www.w3.org/ns/dcat#theme>"
INDEXED_QUESTIONS = {
    "count datasets": ("SELECT (COUNT(?d) AS ?n) WHERE {{ {0} }}", f"?d a {DCAT_DATASET}"),
    "titles in order": ("SELECT ?d ?t WHERE {{ {0} }} ORDER BY ?t ?d LIMIT 10", f"?d a {DCAT_DATASET} . {TITLES}"),
    "counts per theme": (
        "SELECT ?theme (COUNT(?d) AS ?n) WHERE {{ {0} }} GROUP BY ?theme ORDER BY DESC(?n) ?theme",
        f"?d a {DCAT_DATASET} ; {THEME} ?theme",
    ),
}
# who gets them from an index: anonymous callers from the public merge's, readers of RESTRICTED records from
# theirs; members and administrators, who see non-public graphs as well, from the engine
ANSWERED_BY = {"anonymous": "index", "reader": "index", "member-a": "engine", "member-b": "engine"}


@pytest.mark.parametrize("caller", CALLERS)
def test_catalogue_questions_come_from_the_index_of_the_callers_merge(catalogue: Catalogue, caller: str) -> None:
    for name, (form, patterns) in INDEXED_QUESTIONS.items():
        indexed, engine = form.format(patterns), form.format("{ " + patterns + " }")
        for accept in ("application/sparql-results+json", "text/csv"):
            answers = [
                catalogue.get(caller, "/sparql", params={"query": q}, headers={"Accept": accept})
                for q in (indexed, engine)
            ]
            assert [a.status_code for a in answers] == [200, 200], (caller, name)
            by = [a.headers["X-DFL-Answered-By"] for a in answers]
            assert by == [ANSWERED_BY.get(caller, "engine"), "engine"], (caller, name)
            assert answers[0].content == answers[1].content, (caller, name, accept)
            if name == "titles in order":
                assert seen(answers[0].text) == SEES[caller], (caller, name)


@pytest.mark.parametrize("caller", CALLERS)
def test_sparql_protocol_dataset_parameters(catalogue: Catalogue, caller: str) -> None:
    for marker, graph in _graphs(catalogue).items():
        by_default = _sparql(catalogue, caller, f"SELECT ?t WHERE {{ {TITLES} }}", **{"default-graph-uri": graph})
        assert seen(by_default.text) == {marker} & SEES[caller], (caller, "default-graph-uri", marker)
        by_named = _sparql(
            catalogue, caller, f"SELECT ?t WHERE {{ GRAPH ?g {{ {TITLES} }} }}", **{"named-graph-uri": graph}
        )
        assert seen(by_named.text) == {marker} & SEES[caller], (caller, "named-graph-uri", marker)


def test_sparql_answers_are_never_shared_across_visibilities(catalogue: Catalogue) -> None:
    query = f"SELECT ?t WHERE {{ {TITLES} }} ORDER BY ?t"
    for caller in ("administrator", "anonymous", "reader", "member-a", "member-b", "anonymous"):
        answer = _sparql(catalogue, caller, query)
        assert seen(answer.text) == SEES[caller], caller
    tags = {caller: _sparql(catalogue, caller, query).headers["ETag"] for caller in CALLERS}
    assert len(set(tags.values())) == len(CALLERS)


@pytest.mark.parametrize("caller", CALLERS)
def test_named_queries(catalogue: Catalogue, caller: str) -> None:
    for marker in MARKERS:
        response = catalogue.get(
            caller, "/api/queries/keyword-search", params={"q": marker}, headers={"Accept": "application/json"}
        )
        assert response.status_code == 200, response.text
        assert seen(response.text) == {marker} & SEES[caller], (caller, marker)


# -- bad tokens -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("caller", ["expired", "revoked"])
def test_expired_and_revoked_tokens_get_401_everywhere(catalogue: Catalogue, caller: str) -> None:
    paths = [
        "/",
        path_of(catalogue, catalogue.datasets[RESTRICTED]),
        "/sparql?query=ASK%7B%7D",
        "/api/3/action/package_show?id=open-a",
        "/api/search?q=",
        "/sitemap.xml",
    ]
    for path in paths:
        response = catalogue.get(caller, path)
        assert response.status_code == 401, path
        assert "expired" in response.text or "revoked" in response.text
        assert not seen(response.text)


# -- a trusted reader in a real browser ---------------------------------------------------------------------------
@pytest.mark.browser
def test_browser_trusted_reader_signed_in_by_mail_sees_a_restricted_dataset(chromium, catalogue: Catalogue) -> None:
    address = "reader@camden.gov.uk"
    page = chromium.new_page()
    restricted = catalogue.datasets[RESTRICTED]
    assert page.goto(restricted).status == 404  # not signed in: as if it did not exist
    page.goto(catalogue.url + "/account")
    page.fill("#email", address)
    page.click("text=Send me a sign-in link")
    outbox = catalogue.server.data_dir.parent / "outbox"
    mails = [email.message_from_bytes(path.read_bytes()) for path in sorted(outbox.glob("*.eml"))]
    mail = next(m for m in reversed(mails) if m["To"] == address).get_payload(decode=True).decode()
    link = re.search(r"(http\S+/account/login/link#\S+)", mail).group(1)
    page.goto(link)
    page.click("#link-sign-in")
    page.wait_for_url(catalogue.url + "/account")
    response = page.goto(restricted)
    assert response.status == 200
    assert RESTRICTED in page.locator("h1").text_content()
    assert page.goto(catalogue.datasets[A_PRIVATE]).status == 404


# -- a dataset that changes its access level ---------------------------------------------------------------------
def test_a_dataset_moves_between_access_levels_in_place(tmp_path: Path) -> None:
    """Re-loading a source whose dataset went public -> NON_PUBLIC (TfL) -> RESTRICTED -> public again moves it
    between graphs in place, and the catalogue index, both search indexes and the graph registry follow; no
    tombstone tells the public it existed."""
    from dfl_graph.accounts.visibility import Visibility
    from dfl_graph.generations import CatalogueReader
    from dfl_graph.indexes.catalogue import CatalogueIndex
    from dfl_graph.search.index import SearchRequest, search_index, search_index_for
    from dfl_graph.sparql import shape_index
    from dfl_graph.sparql.shape_index import restricted_shape_index_of

    base, store = "http://127.0.0.1:9", str(tmp_path / "catalogue")
    tfl = Visibility(restricted=True, non_public_of=frozenset({f"{base}/publisher/tfl"}))
    gla = Visibility(restricted=True, non_public_of=frozenset({f"{base}/publisher/gla"}))
    anonymous, reader = Visibility(), Visibility(restricted=True)
    iri, uris_prefix = f"{base}/dataset/moving", f"{base}/graph/{SOURCE}"

    def load(sharing: str) -> dict:
        items = [_item("open-a", "Bus stop locations", TFL, "public", ["buses"])]
        items.append(_item("moving", "Kiwi sightings", TFL, sharing, ["kiwi"]))
        export = tmp_path / f"{sharing}.json"
        export.write_text(json.dumps(items))
        result = dfl("--base", base, "load", "datapress", str(export), "--source", SOURCE, "--store", store, "--json")
        return json.loads(result.stdout)

    def who_sees() -> dict[str, bool]:
        snapshot = CatalogueReader(tmp_path / "catalogue").snapshot()
        index = CatalogueIndex.of(snapshot)
        seen_by = {}
        for name, visibility in {"anonymous": anonymous, "reader": reader, "tfl": tfl, "gla": gla}.items():
            in_index = index.dataset(iri, visibility) is not None
            search, restriction = search_index_for(snapshot, visibility)
            found = search.search(SearchRequest(q="kiwi"), restriction).total == 1
            graphs = visibility.graphs(snapshot.manifest.graphs) if not visibility.public_only else []
            in_graphs = any(
                next(snapshot.store.quads_for_pattern(NamedNode(iri), None, None, NamedNode(g)), None) is not None
                for g in (graphs or snapshot.manifest.public_graphs)
            )
            assert in_index == found == in_graphs, (name, in_index, found, in_graphs)
            seen_by[name] = in_index
        assert search_index(snapshot).search(SearchRequest(q="kiwi")).total == seen_by["anonymous"]
        assert index.withdrawn(iri) is None  # never a 410 that would tell the public it existed
        trusted = restricted_shape_index_of(snapshot.directory)
        if trusted is not None:  # the readers' shape index holds the dataset when they see it, as a rebuild would
            assert trusted.graphs == reader.graphs(snapshot.manifest.graphs)
            held = trusted.db.execute("SELECT 1 FROM terms WHERE text = ?", (f"<{iri}>",)).fetchone()
            assert (held is not None) == seen_by["reader"]
            rebuilt = tmp_path / f"rebuilt-{snapshot.generation}.sqlite"
            shape_index._build(shape_index.Merge(snapshot.store, tuple(trusted.graphs)), rebuilt, snapshot.generation)
            assert _tables(trusted.path) == _tables(rebuilt)
            updated_from.append(trusted.db.execute("SELECT value FROM meta WHERE key = 'updated_from'").fetchone())
        return seen_by

    updated_from: list = []

    load("public")
    assert who_sees() == {"anonymous": True, "reader": True, "tfl": True, "gla": True}
    assert load("private")["mode"] == "in place"
    assert who_sees() == {"anonymous": False, "reader": False, "tfl": True, "gla": False}
    assert load("private")["mode"] == "nothing to write"  # the stored record is found in its new graph
    load("restricted")
    assert who_sees() == {"anonymous": False, "reader": True, "tfl": True, "gla": True}
    load("public")
    assert who_sees() == {"anonymous": True, "reader": True, "tfl": True, "gla": True}
    graphs = CatalogueReader(tmp_path / "catalogue").snapshot().manifest.graphs
    assert graphs[f"{uris_prefix}/non-public/tfl"]["quads"] == 0 and graphs[f"{uris_prefix}/restricted"]["quads"] == 0
    assert any(updated_from), updated_from  # in-place loads update the readers' index, not only rebuild it
    other = tmp_path / "other.json"  # a new source: its graph joins the readers' merge, by an update still
    other.write_text(json.dumps([_item("extra", "Otter counts", GLA, "public", ["otter"])]))
    dfl("--base", base, "load", "datapress", str(other), "--source", "other", "--store", store)
    assert who_sees() == {"anonymous": True, "reader": True, "tfl": True, "gla": True}
    new_graphs = restricted_shape_index_of(CatalogueReader(tmp_path / "catalogue").snapshot().directory).graphs
    assert f"{base}/graph/other" in new_graphs and updated_from[-1] is not None, updated_from
