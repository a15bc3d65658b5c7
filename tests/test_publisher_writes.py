"""Publisher writes over HTTP with real clients: the CKAN action API with ``ckanapi``, the Graph Store Protocol
with ``requests``, the administrators' change list and revert with a signed-in session; on a real catalogue
(loaded by the real `dfl`), served by gunicorn (`live_server`). Refused writes are checked to change nothing:
the catalogue's generation and the digest of everything it publishes stay the same."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import ckanapi
import pytest
import requests
from conftest import LiveServer, dfl, free_port, live_server, load_default
from pyoxigraph import Literal, NamedNode, Quad
from test_access import csrf_of, last_mail

from dfl_graph.accounts.credentials import parse_token
from dfl_graph.namespaces import DCAT, DCT, PROV, RDF
from dfl_graph.publishing import validate
from dfl_graph.store import CatalogueReader, CatalogueStore
from dfl_graph.uris import Uris

pytestmark = pytest.mark.xdist_group("publisher-writes")

TOKEN = re.compile(r"^(dfl_\S+)$", re.MULTILINE)
TURTLE = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
<{iri}> a dcat:Dataset ;
    dct:title "{title}"@en ;
    dct:description "Where every cycle hire docking station is."@en ;
    dct:publisher <{base}/publisher/tfl> ;
    dcat:theme <{base}/theme/transport> .
"""


@dataclass
class Writes:
    server: LiveServer
    outbox: Path
    tokens: dict[str, str]  # name -> the token's text
    admin: str

    @property
    def url(self) -> str:
        return self.server.url

    def ckan(self, token: str | None) -> ckanapi.RemoteCKAN:
        return ckanapi.RemoteCKAN(self.url, apikey=f"Bearer {self.tokens[token]}" if token else None)

    def action(self, action: str, body: dict, token: str | None) -> requests.Response:
        """A write as ckanapi sends it (POST of a JSON object), for the answers ckanapi turns into exceptions."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {self.tokens[token]}"
        return requests.post(f"{self.url}/api/action/{action}", data=json.dumps(body), headers=headers, timeout=60)

    def gsp(
        self, method: str, graph: str, token: str | None, body: str = "", content_type: str = "text/turtle"
    ) -> requests.Response:
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {self.tokens[token]}"
        return requests.request(
            method,
            f"{self.url}/sparql/graphs",
            params={"graph": graph},
            data=body.encode(),
            headers=headers,
            timeout=60,
        )

    def state(self) -> tuple[int, str]:
        """The published generation and the SHA-256 of every public quad: a refused write changes neither."""
        generation = requests.get(self.url + "/healthz", timeout=30).json()["generation"]
        everything = requests.get(self.url + "/catalog.nq", timeout=60)
        assert everything.status_code == 200
        return generation, hashlib.sha256(everything.content).hexdigest()


def _token(data_dir: Path, base: str, email: str, scope: str) -> str:
    out = dfl("--base", base, "tokens", "create", email, "--label", "test", "--scope", scope, "--store", str(data_dir))
    return TOKEN.search(out.stdout).group(1)


@pytest.fixture(scope="module")
def writes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Writes]:
    yield from writes_server(tmp_path_factory)


def writes_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Writes]:
    """A live server over the default catalogue with publishers of TfL and the GLA, an administrator and tokens."""
    root = tmp_path_factory.mktemp("writes")
    data_dir = root / "catalogue"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load_default(data_dir, base)

    def cli(*args: str) -> None:
        dfl("--base", base, *args, "--store", str(data_dir))

    for email in ("editor@tfl.gov.uk", "editor@london.gov.uk", "chief@london.gov.uk"):
        cli("accounts", "create", email)
    cli("grants", "add", "publisher", "--account", "editor@tfl.gov.uk", "--organisation", "tfl")
    cli("grants", "add", "publisher", "--account", "editor@london.gov.uk", "--organisation", "gla")
    cli("grants", "add", "administrator", "--account", "chief@london.gov.uk")
    tokens = {
        "tfl": _token(data_dir, base, "editor@tfl.gov.uk", "write"),
        "gla": _token(data_dir, base, "editor@london.gov.uk", "write"),
        "read-only": _token(data_dir, base, "editor@tfl.gov.uk", "read"),
        "expired": _token(data_dir, base, "editor@tfl.gov.uk", "write"),
        "revoked": _token(data_dir, base, "editor@tfl.gov.uk", "write"),
        "administrator": _token(data_dir, base, "chief@london.gov.uk", "write"),  # writes every organisation's
    }
    with sqlite3.connect(data_dir / "accounts.sqlite") as db:  # a token past its expiry, as time would make it
        db.execute(
            "UPDATE tokens SET expires_at = '2020-01-01T00:00:00Z' WHERE id = ?", (parse_token(tokens["expired"])[0],)
        )
    cli("tokens", "revoke", parse_token(tokens["revoked"])[0])
    env = {"DFL_MAIL_OUTBOX": str(root / "outbox"), "DFL_LOGIN_ATTEMPTS_PER_CLIENT": "1000"}
    with live_server(data_dir, port, env=env) as server:
        yield Writes(server, root / "outbox", tokens, "chief@london.gov.uk")


REASON = {"key": "access_reason", "value": "provided-in-confidence"}  # a non-public dataset says why


def package(name: str, title: str = "Cycle hire docking stations", **extra) -> dict:
    return {
        "name": name,
        "title": title,
        "notes": "Where every cycle hire docking station is, with its number of docks.",
        "owner_org": "tfl",
        "license_id": "OGL-UK-3.0",
        "groups": [{"name": "transport"}],
        "tags": [{"name": "cycling"}],
        "resources": [{"url": "https://example.org/docks.csv", "format": "CSV", "name": "Docks"}],
        **extra,
    }


def sign_in(writes: Writes, address: str) -> requests.Session:
    session = requests.Session()
    url = writes.url
    response = session.post(
        url + "/account/login/email", data={"email": address, "csrf_token": csrf_of(session, url + "/account")}
    )
    assert response.status_code == 200, response.text
    link = re.search(r"(http\S+/account/login/link)#(\S+)", last_mail(writes.outbox, address))
    response = session.post(
        link.group(1), data={"code": link.group(2), "csrf_token": csrf_of(session, link.group(1))}, timeout=30
    )
    assert response.status_code == 200
    return session


def changes(session: requests.Session, writes: Writes, **filters: str) -> list[dict]:
    response = session.get(writes.url + "/admin/changes.jsonl", params=filters, timeout=30)
    assert response.status_code == 200
    return [json.loads(line) for line in response.text.splitlines()]


def test_a_publisher_creates_updates_patches_and_deletes_with_ckanapi(writes: Writes) -> None:
    ckan = writes.ckan("tfl")
    created = ckan.action.package_create(**package("cycle-docks"))
    iri = f"{writes.url}/dataset/cycle-docks"
    assert created["name"] == "cycle-docks" and created["title"] == "Cycle hire docking stations"
    assert created["organization"]["name"] == "tfl"

    # visible on its page, in search and in SPARQL at once
    page = writes.server.get("/dataset/cycle-docks")
    assert page.status_code == 200 and "Cycle hire docking stations" in page.text
    found = ckan.action.package_search(q="docking stations")
    assert "cycle-docks" in [p["name"] for p in found["results"]]
    query = f"SELECT ?title WHERE {{ <{iri}> <http://purl.org/dc/terms/title> ?title }}"
    answer = requests.get(
        writes.url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert [b["title"]["value"] for b in answer.json()["results"]["bindings"]] == ["Cycle hire docking stations"]

    updated = ckan.action.package_update(**package("cycle-docks", title="Santander Cycles docking stations"))
    assert updated["title"] == "Santander Cycles docking stations"
    assert "Santander Cycles docking stations" in writes.server.get("/dataset/cycle-docks").text

    patched = ckan.action.package_patch(id="cycle-docks", notes="Docking stations, patched.")
    assert patched["notes"] == "Docking stations, patched." and patched["title"] == "Santander Cycles docking stations"

    assert ckan.action.package_delete(id="cycle-docks") is None
    assert writes.server.get("/dataset/cycle-docks").status_code == 410  # withdrawn: it was public
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="cycle-docks")


def test_a_write_starts_from_the_spare_copies_the_last_one_left(writes: Writes) -> None:
    """After a write the web copies the generation's index files to spares in the background; the next write
    takes them (renames: the same files), and its indexes answer for both writes."""
    ckan, data_dir = writes.ckan("tfl"), writes.server.data_dir

    def generation() -> Path:
        return data_dir / "generations" / f"{int((data_dir / 'CURRENT').read_text()):08d}"

    ckan.action.package_create(**package("spare-one", title="Spare copies one"))
    indexes = sorted((generation() / "indexes").glob("*.sqlite"))
    assert {p.name for p in indexes} >= {"catalogue.sqlite", "search.sqlite", "sparql-shapes.sqlite"}
    spares = [p.with_name(p.name + ".spare") for p in indexes]
    deadline = time.monotonic() + 60
    while not all(s.exists() for s in spares) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(s.exists() for s in spares), "no spare copies were made"
    assert all(s.read_bytes() == p.read_bytes() for s, p in zip(spares, indexes, strict=True))
    inodes = {s.name.removesuffix(".spare"): s.stat().st_ino for s in spares}

    ckan.action.package_create(**package("spare-two", title="Spare copies two"))
    taken = {p.name: p.stat().st_ino for p in (generation() / "indexes").glob("*.sqlite")}
    assert taken == inodes, "the write copied the files instead of taking the spares"
    assert not any(s.exists() for s in spares)
    found = [p["name"] for p in ckan.action.package_search(q="spare copies")["results"]]
    assert sorted(found) == ["spare-one", "spare-two"]
    for name in ("spare-one", "spare-two"):
        assert ckan.action.package_delete(id=name) is None


def test_a_name_in_use_is_refused_and_loaded_datasets_stay_their_sources(writes: Writes) -> None:
    taken = writes.server.get("/api/3/action/package_list?limit=1").json()["result"][0]
    before = writes.state()
    with pytest.raises(ckanapi.ValidationError) as refused:
        writes.ckan("tfl").action.package_create(**package(taken))
    assert refused.value.error_dict["name"] == ["That URL is already in use."]
    # a dataset `dfl load` wrote is changed by loading its source again, not by a write, even an administrator's
    loaded = f"{writes.url}/dataset/{taken}"
    replaced = writes.gsp("PUT", loaded, "administrator", TURTLE.format(iri=loaded, base=writes.url, title="T"))
    assert replaced.status_code == 409 and "london-datastore-2010" in replaced.json()["error"]
    assert writes.gsp("DELETE", loaded, "administrator").status_code == 409
    assert writes.state() == before


def test_refused_writes_change_nothing(writes: Writes) -> None:
    writes.ckan("tfl").action.package_create(**package("tube-lifts"))
    iri = f"{writes.url}/dataset/tube-lifts"
    turtle = TURTLE.format(iri=iri, base=writes.url, title="Lifts, rewritten")
    before = writes.state()
    attempts = [
        # another organisation's publisher: on its dataset, and making a dataset of it
        (writes.action("package_update", package("tube-lifts", title="Not yours"), "gla"), 403),
        (writes.action("package_delete", {"id": "tube-lifts"}, "gla"), 403),
        (writes.gsp("PUT", iri, "gla", turtle), 403),
        (writes.gsp("DELETE", iri, "gla"), 403),
        (writes.action("package_create", package("gla-made", owner_org="tfl"), "gla"), 403),
        # a read-only token, no token, an expired and a revoked one
        (writes.action("package_update", package("tube-lifts", title="Read only"), "read-only"), 403),
        (writes.gsp("PUT", iri, "read-only", turtle), 403),
        (writes.action("package_delete", {"id": "tube-lifts"}, None), 403),
        (writes.gsp("DELETE", iri, None), 401),
        (writes.action("package_delete", {"id": "tube-lifts"}, "expired"), 401),
        (writes.gsp("PUT", iri, "expired", turtle), 401),
        (writes.action("package_delete", {"id": "tube-lifts"}, "revoked"), 401),
        (writes.gsp("DELETE", iri, "revoked"), 401),
    ]
    for response, status in attempts:
        assert response.status_code == status, (response.request.method, response.url, response.text)
    ckan_refusal = attempts[0][0].json()
    assert ckan_refusal["success"] is False and ckan_refusal["error"]["__type"] == "Authorization Error"
    assert "tfl" in ckan_refusal["error"]["message"]
    assert "expired" in attempts[9][0].text and "revoked" in attempts[11][0].text
    with pytest.raises(ckanapi.NotAuthorized):
        writes.ckan("gla").action.package_delete(id="tube-lifts")
    assert writes.state() == before  # 0 unauthorised writes
    assert writes.server.get("/dataset/tube-lifts").status_code == 200


def test_another_organisations_non_public_dataset_is_not_found(writes: Writes) -> None:
    """A write never tells a publisher of another organisation that a non-public dataset exists: 404, as an
    unknown one (never 403)."""
    made = writes.action(
        "package_create", package("tube-faults", title="Tube faults", private=True, extras=[REASON]), "tfl"
    )
    assert made.status_code == 200 and made.json()["result"]["private"] is True
    assert writes.server.get("/dataset/tube-faults").status_code == 404  # not public
    before = writes.state()
    iri = f"{writes.url}/dataset/tube-faults"
    assert writes.action("package_delete", {"id": "tube-faults"}, "gla").status_code == 404
    assert writes.gsp("PUT", iri, "gla", TURTLE.format(iri=iri, base=writes.url, title="Mine")).status_code == 404
    assert writes.gsp("DELETE", iri, "gla").status_code == 404
    assert writes.state() == before
    written = last_digest(writes, iri)
    assert written is not None and writes.gsp("DELETE", iri, "tfl").json()["before"] == written


def last_digest(writes: Writes, iri: str) -> str | None:
    """The after-digest of the last change to a dataset, from the audit journal in the accounts database."""
    with sqlite3.connect(writes.server.data_dir / "accounts.sqlite") as db:
        row = db.execute("SELECT after_digest FROM audit WHERE target = ? ORDER BY seq DESC LIMIT 1", (iri,))
        return row.fetchone()[0]


def test_an_invalid_dataset_is_400_with_its_violations_and_nothing_written(writes: Writes) -> None:
    before = writes.state()
    untitled = writes.action("package_create", package("untitled", title="  "), "tfl")
    assert untitled.status_code == 400
    error = untitled.json()["error"]
    assert error["__type"] == "Validation Error" and error["violations"][0]["path"] == "title"
    with pytest.raises(ckanapi.ValidationError):
        writes.ckan("tfl").action.package_create(**package("no-title", title=""))
    orphan = writes.action("package_create", package("orphan", owner_org=""), "administrator")
    assert orphan.status_code == 400 and "publisher" in orphan.json()["error"]["message"]
    iri = f"{writes.url}/dataset/untitled"
    no_title = TURTLE.format(iri=iri, base=writes.url, title="x").replace('dct:title "x"@en ;', "")
    refused = writes.gsp("PUT", iri, "tfl", no_title)
    assert refused.status_code == 400 and refused.json()["violations"][0]["path"] == "dct:title"
    assert writes.gsp("PUT", iri, "tfl", "<not turtle").status_code == 400
    assert writes.gsp("PUT", iri, "tfl", "{}", content_type="text/plain").status_code == 415
    assert writes.state() == before
    assert writes.server.get("/dataset/untitled").status_code == 404


def test_the_profile_is_checked_before_anything_is_written(writes: Writes) -> None:
    """The loaders fit what they can to the profile and refuse the rest, so SHACL is the last gate: a
    description the shapes forbid (here: no theme, no access rights) is refused with each violation."""
    dataset = NamedNode(f"{writes.url}/dataset/bare")
    graph = NamedNode(f"{writes.url}/graph/publisher-tfl")
    quads = [
        Quad(dataset, RDF.type, DCAT.Dataset, graph),
        Quad(dataset, DCT.title, Literal("Bare", language="en"), graph),
        Quad(dataset, DCT.description, Literal("Nothing else.", language="en"), graph),
    ]
    with CatalogueStore(writes.server.data_dir, Uris(writes.url)) as store:
        violations = validate(store, quads)
    assert sorted(v["path"] for v in violations) == [str(DCT.accessRights.value), str(DCAT.theme.value)]


def test_graph_store_protocol_writes_one_dataset(writes: Writes) -> None:
    iri = f"{writes.url}/dataset/cycle-hire-stations"
    put = writes.gsp("PUT", iri, "tfl", TURTLE.format(iri=iri, base=writes.url, title="Cycle hire stations"))
    assert put.status_code == 201, put.text
    assert put.json()["before"] is None and put.json()["after"].startswith("sha256:")
    again = writes.gsp("PUT", iri, "tfl", TURTLE.format(iri=iri, base=writes.url, title="Cycle hire stations 2"))
    assert again.status_code == 200 and again.json()["before"] == put.json()["after"]
    assert "Cycle hire stations 2" in writes.server.get("/dataset/cycle-hire-stations").text

    graph = f"{writes.url}/graph/publisher-tfl"
    read = requests.get(writes.url + "/sparql/graphs", params={"graph": graph}, timeout=30)
    assert read.status_code == 200 and f'<{iri}> <http://purl.org/dc/terms/title> "Cycle hire stations 2"' in read.text
    to_page = requests.get(writes.url + "/sparql/graphs", params={"graph": iri}, allow_redirects=False, timeout=30)
    assert to_page.status_code == 303 and to_page.headers["Location"] == iri
    assert (
        requests.get(writes.url + "/sparql/graphs", params={"graph": writes.url + "/graph/system"}).status_code == 404
    )

    posted = writes.gsp("POST", graph, "tfl", TURTLE.format(iri="urn:x:new", base=writes.url, title="Bus garages"))
    assert posted.status_code == 201, posted.text
    assert writes.server.get(posted.headers["Location"].removeprefix(writes.url)).status_code == 200
    wrong = writes.gsp(
        "POST", f"{writes.url}/graph/publisher-gla", "tfl", TURTLE.format(iri="urn:x:2", base=writes.url, title="Y")
    )
    assert wrong.status_code == 409

    as_json_ld = json.dumps(
        {
            "@id": iri,
            "@type": "http://www.w3.org/ns/dcat#Dataset",
            "http://purl.org/dc/terms/title": {"@value": "Cycle hire stations 3", "@language": "en"},
            "http://purl.org/dc/terms/publisher": {"@id": f"{writes.url}/publisher/tfl"},
            "http://www.w3.org/ns/dcat#theme": {"@id": f"{writes.url}/theme/transport"},
        }
    )
    assert writes.gsp("PUT", iri, "tfl", as_json_ld, content_type="application/ld+json").status_code == 200
    assert "Cycle hire stations 3" in writes.server.get("/dataset/cycle-hire-stations").text

    deleted = writes.gsp("DELETE", iri, "tfl")
    assert deleted.status_code == 200 and deleted.json()["after"] is None
    assert writes.gsp("DELETE", iri, "tfl").status_code == 404
    assert writes.server.get("/dataset/cycle-hire-stations").status_code == 410


def test_administrators_list_export_and_revert_changes(writes: Writes) -> None:
    ckan = writes.ckan("tfl")
    ckan.action.package_create(**package("river-piers", title="River piers"))
    iri = f"{writes.url}/dataset/river-piers"
    first = writes.server.get("/dataset/river-piers", headers={"Accept": "application/n-triples"}).text
    ckan.action.package_update(**package("river-piers", title="River piers, wrongly renamed"))
    assert "wrongly renamed" in writes.server.get("/dataset/river-piers").text

    admin = sign_in(writes, writes.admin)
    tfl = f"{writes.url}/publisher/tfl"
    listed = [c for c in changes(admin, writes, publisher=tfl) if c["target"] == iri]
    update, create = listed[0], listed[1]  # newest first
    assert (create["action"], update["action"]) == ("dataset.write", "dataset.write")
    assert create["before_digest"] is None and update["before_digest"] == create["after_digest"]
    assert update["details"]["publisher"] == tfl and update["details"]["source"] == "publisher-tfl"
    assert not [c for c in changes(admin, writes, publisher=f"{writes.url}/publisher/gla") if c["target"] == iri]
    page = admin.get(writes.url + "/admin/changes", params={"actor": update["actor"]}, timeout=30)
    assert page.status_code == 200 and f'id="change-{update["id"]}"' in page.text

    # write APIs never take the session cookie (it would ride along on a cross-site request)
    body = json.dumps(package("by-cookie"))
    by_cookie = admin.post(writes.url + "/api/action/package_create", data=body, timeout=30)
    assert by_cookie.status_code == 403 and by_cookie.json()["error"]["__type"] == "Authorization Error"
    assert admin.delete(writes.url + "/sparql/graphs", params={"graph": iri}, timeout=30).status_code == 401
    # a publisher's token cannot read the changes, nor revert them; a form without CSRF token is refused
    assert (
        writes.server.get("/admin/changes", headers={"Authorization": f"Bearer {writes.tokens['tfl']}"}).status_code
        == 401
    )
    assert admin.post(writes.url + f"/admin/changes/{update['id']}/revert", timeout=30).status_code == 400

    token = csrf_of(admin, writes.url + "/admin/changes")
    reverted = admin.post(writes.url + f"/admin/changes/{update['id']}/revert", data={"csrf_token": token}, timeout=60)
    assert reverted.status_code == 200 and "Reverted" in reverted.text
    assert writes.server.get("/dataset/river-piers", headers={"Accept": "application/n-triples"}).text == first

    revert = changes(admin, writes, publisher=tfl)[0]
    assert revert["action"] == "dataset.revert" and revert["details"]["reverts"] == update["id"]
    assert revert["before_digest"] == update["after_digest"] and revert["after_digest"] == create["after_digest"]

    # the PROV of all three is in the published system graph (never public), the revert a revision of the state
    # before the change it undid
    system = NamedNode(f"{writes.url}/graph/system")
    store = CatalogueReader(writes.server.data_dir).snapshot().store
    for event in (create, update, revert):
        activity = NamedNode(f"{writes.url}/audit/{event['id']}")
        assert list(store.quads_for_pattern(activity, RDF.type, PROV.Activity, system))
    revised = store.quads_for_pattern(
        NamedNode(f"{writes.url}/audit/{revert['id']}#after"), PROV.wasRevisionOf, None, system
    )
    assert {q.object.value for q in revised} == {
        f"{writes.url}/audit/{revert['id']}#before",
        f"{writes.url}/audit/{update['id']}#before",
    }


def test_an_administrator_reverts_a_publishers_changes_since_a_time(writes: Writes) -> None:
    ckan = writes.ckan("gla")
    gla = {"owner_org": "gla", "groups": [{"name": "environment"}]}
    ckan.action.package_create(**package("tree-canopy", title="Tree canopy cover", **gla))
    kept = writes.server.get("/dataset/tree-canopy", headers={"Accept": "application/n-triples"}).text
    time.sleep(1.1)  # the journal keeps whole seconds
    since = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "")
    time.sleep(1.1)
    ckan.action.package_update(**package("tree-canopy", title="Tree canopy cover, overwritten", **gla))
    ckan.action.package_create(**package("street-trees", title="Street trees", **gla))
    ckan.action.package_update(**package("street-trees", title="Street trees, renamed", **gla))
    writes.ckan("tfl").action.package_create(**package("bus-shelters", title="Bus shelters"))  # another publisher

    admin = sign_in(writes, writes.admin)
    token = csrf_of(admin, writes.url + "/admin/changes")
    url = writes.url + "/admin/changes/revert-since"
    unfiltered = admin.post(url, data={"csrf_token": token, "since": since}, timeout=30)
    assert unfiltered.status_code == 400 and "choose an account or a publisher" in unfiltered.text
    publisher = {"publisher": f"{writes.url}/publisher/gla"}
    not_a_time = admin.post(url, params=publisher, data={"csrf_token": token, "since": "yesterday"}, timeout=30)
    assert not_a_time.status_code == 400 and "is not a time" in not_a_time.text
    assert admin.post(url, params=publisher, data={"since": since}, timeout=30).status_code == 400  # no CSRF token

    reverted = admin.post(url, params=publisher, data={"csrf_token": token, "since": since}, timeout=120)
    assert reverted.status_code == 200, reverted.text
    assert "Reverted 2 of 2 datasets" in reverted.text
    assert writes.server.get("/dataset/tree-canopy", headers={"Accept": "application/n-triples"}).text == kept
    assert writes.server.get("/dataset/street-trees").status_code == 410  # created since: withdrawn, a tombstone
    assert "Bus shelters" in writes.server.get("/dataset/bus-shelters").text  # not the GLA's: untouched
    reverts = [c for c in changes(admin, writes, **publisher) if c["action"] == "dataset.revert"][:2]
    assert {c["target"] for c in reverts} == {f"{writes.url}/dataset/tree-canopy", f"{writes.url}/dataset/street-trees"}


def test_personal_data_goes_public_only_as_an_administrator_approved(writes: Writes) -> None:
    extras = [{"key": "personal_data", "value": "true"}, {"key": "legal_basis", "value": "dpv:PublicInterest"}]
    personal = package("rider-journeys", title="Rider journeys", extras=extras)
    before = writes.state()
    refused = writes.action("package_create", personal, "tfl")
    assert refused.status_code == 400, refused.text
    violation = refused.json()["error"]["violations"][0]
    assert violation["path"] == "dfl:holdsPersonalData" and violation["digest"] in violation["message"]
    assert writes.state() == before

    admin = sign_in(writes, writes.admin)
    iri = f"{writes.url}/dataset/rider-journeys"
    other = {
        "dataset": iri,
        "digest": "sha256:" + "0" * 64,
        "csrf_token": csrf_of(admin, writes.url + "/admin/changes"),
    }
    assert admin.post(writes.url + "/admin/changes/approve", data=other, timeout=30).status_code == 200
    assert writes.action("package_create", personal, "tfl").status_code == 400  # another description was approved
    form = {**other, "digest": violation["digest"]}
    assert admin.post(writes.url + "/admin/changes/approve", data=form, timeout=30).status_code == 200
    assert writes.action("package_create", personal, "tfl").status_code == 200  # the approved one goes through
    assert writes.server.get("/dataset/rider-journeys").status_code == 200
    approvals = [c for c in changes(admin, writes) if c["action"] == "dataset.approve-public-personal-data"]
    assert [a["after_digest"] for a in approvals][:1] == [violation["digest"]]


def test_a_write_waits_while_another_writer_has_the_store(writes: Writes) -> None:
    """Writes serialise with `dfl load` and `dfl harvest` on the store's writer lock (held here by the test)."""
    before = writes.state()
    answers: list[requests.Response] = []
    ferry = package("ferry-piers", title="Ferry piers")
    waiting = threading.Thread(target=lambda: answers.append(writes.action("package_create", ferry, "tfl")))
    with CatalogueStore(writes.server.data_dir, Uris(writes.url)):
        waiting.start()
        waiting.join(timeout=5)
        assert waiting.is_alive() and writes.state() == before  # waiting for the lock: nothing written yet
    waiting.join(timeout=120)
    assert answers[0].status_code == 200, answers[0].text
    assert writes.state()[0] == before[0] + 1


def test_access_reasons_and_personal_data_terms_are_checked_written_and_shown(writes: Writes) -> None:
    """A non-public dataset says why (dfl:AccessReasons); one holding personal data names its categories and
    legal basis (W3C DPV): the profile requires them, the loader drops terms outside the lists,
    the page shows them."""
    before = writes.state()
    unexplained = writes.action("package_create", package("bus-incidents", private=True), "tfl")
    assert unexplained.status_code == 400
    assert ["dfl:accessReason" in v["message"] for v in unexplained.json()["error"]["violations"]] == [True]
    whim = {"key": "access_reason", "value": "whim"}
    unknown = writes.action("package_create", package("bus-incidents", private=True, extras=[whim]), "tfl")
    assert unknown.status_code == 400 and "dfl:accessReason" in unknown.text  # the loader drops what is not a reason
    no_basis = [REASON, {"key": "personal_data", "value": "yes"}]
    refused = writes.action("package_create", package("bus-incidents", private=True, extras=no_basis), "tfl")
    assert refused.status_code == 400
    assert ["dpv:hasLegalBasis" in v["message"] for v in refused.json()["error"]["violations"]] == [True]
    assert writes.state() == before

    extras = [
        {"key": "access_reason", "value": "PersonalInformation, law-enforcement"},
        {"key": "access_reason_note", "value": "Shared with the boroughs under a data-sharing agreement."},
        {"key": "personal_data", "value": "yes"},
        {"key": "personal_data_categories", "value": "pd:Location, pd:MedicalHealth"},
        {"key": "legal_basis", "value": "https://w3id.org/dpv#PublicInterest"},
    ]
    made = writes.action("package_create", package("bus-incidents", private=True, extras=extras), "tfl")
    assert made.status_code == 200, made.text
    headers = {"Authorization": f"Bearer {writes.tokens['tfl']}"}
    page = requests.get(writes.url + "/dataset/bus-incidents", headers=headers, timeout=30)
    assert page.status_code == 200
    for shown in (
        "Personal information",
        "Law enforcement and the course of justice",
        "data-sharing agreement",
        "Location",
        "Medical Health",
        "Public Interest",
    ):
        assert shown in page.text
    turtle = requests.get(writes.url + "/dataset/bus-incidents.ttl", headers=headers, timeout=30).text
    assert "pd:Location" in turtle or "https://w3id.org/dpv/pd#Location" in turtle
    assert "dpv#PersonalData>" not in turtle and "dpv:PersonalData " not in turtle  # the categories replace it
    assert requests.get(writes.url + "/dataset/bus-incidents", timeout=30).status_code == 404


def test_the_library_filters_on_access_reason_and_personal_data(writes: Writes) -> None:
    """The governance a publisher wrote is a facet for those who may read it: access reason and personal data,
    each with a "not stated" bucket so the counts add up; an anonymous page, where nothing states them, has
    neither panel, and its counts never reveal them."""
    extras = [
        {"key": "access_reason", "value": "law-enforcement"},
        {"key": "personal_data", "value": "no"},
    ]
    made = writes.action(
        "package_create", package("stop-patrols", title="Stop patrols", private=True, extras=extras), "tfl"
    )
    assert made.status_code == 200, made.text
    headers = {"Authorization": f"Bearer {writes.tokens['tfl']}"}

    def search(params: dict, authorised: bool) -> dict:
        response = requests.get(
            writes.url + "/search.json", params=params, headers=headers if authorised else {}, timeout=30
        )
        assert response.status_code == 200, response.text
        return response.json()

    everything = search({}, True)
    for facet in ("reason", "personal"):
        assert sum(v["count"] for v in everything["facets"][facet]) >= everything["total"]
    reasons = {v["key"]: v for v in everything["facets"]["reason"]}
    assert reasons["LawEnforcement"]["count"] >= 1 and reasons["LawEnforcement"]["label"].startswith("Law enforcement")
    found = search({"reason": "LawEnforcement"}, True)
    iris = [r["iri"] for r in found["results"]]
    assert f"{writes.url}/dataset/stop-patrols" in iris and found["total"] == reasons["LawEnforcement"]["count"]
    hit = next(r for r in found["results"] if r["iri"].endswith("/stop-patrols"))
    assert [r["key"] for r in hit["access_reasons"]] == ["LawEnforcement"] and hit["personal_data"] is False
    stated = search({"personal": "no"}, True)
    assert f"{writes.url}/dataset/stop-patrols" in [r["iri"] for r in stated["results"]]
    page = requests.get(writes.url + "/search", params={"q": "stop patrols"}, headers=headers, timeout=30).text
    assert ">Access reason<" in page and ">Personal data<" in page and "Holds no personal data" in page

    anonymous = search({}, False)
    assert {v["key"] for v in anonymous["facets"]["reason"]} == {"not-stated"}
    assert anonymous["facets"]["reason"][0]["count"] == anonymous["total"]
    ignored = search({"reason": "LawEnforcement", "q": "stop patrols"}, False)
    assert ignored["notices"] == ["no access reason 'LawEnforcement' in the catalogue: filter ignored"]
    assert not [r for r in ignored["results"] if r["iri"].endswith("/stop-patrols")]
    title = anonymous["results"][0]["title"]  # a page of public results, none of which states either
    found = search({"q": title}, False)
    assert found["total"] > 0 and {v["key"] for v in found["facets"]["personal"]} == {"not-stated"}
    page = requests.get(writes.url + "/search", params={"q": title}, timeout=30).text
    shown = found["results"][0]["iri"].rsplit("/", 1)[-1] in page
    assert shown and ">Access reason<" not in page and ">Personal data<" not in page


def test_a_load_holds_back_public_personal_data_until_an_administrator_approves_it(
    writes: Writes, tmp_path: Path
) -> None:
    """`dfl load` keeps the same promise as a publisher's write: a public record that says it holds personal data
    is not published, and the problem names the digest to approve; once approved it loads, and a changed
    description is held back again while the approved one stays. Input: Birmingham's real CKAN response, with
    its purchase-card transactions flagged as holding personal data (cardholders' names)."""
    real = json.loads((Path(__file__).parent / "data/ckan-birmingham/package_search.json").read_text())
    flagged, other = real["result"]["results"][:2]
    personal = [{"key": "personal_data", "value": "yes"}, {"key": "legal_basis", "value": "dpv:PublicInterest"}]
    flagged = {**flagged, "extras": [*flagged.get("extras", []), *personal]}
    base, data_dir = writes.url, writes.server.data_dir

    def load(package: dict) -> list[dict]:
        path, problems = tmp_path / "birmingham.json", tmp_path / "problems.jsonl"
        path.write_text(json.dumps({"success": True, "result": {"count": 2, "results": [package, other]}}))
        dfl("--base", base, "load", "ckan", str(path), "--source", "birmingham", "--problems", str(problems),
            "--store", str(data_dir))  # fmt: skip
        lines = [json.loads(line) for line in problems.read_text().splitlines()]
        return [p for p in lines if p["field"] == "personal_data"]

    held = load(flagged)
    assert [p["record"] for p in held] == [flagged["name"]] and "held back, not published" in held[0]["what"]
    digest = re.search(r"sha256:[0-9a-f]{64}", held[0]["what"]).group(0)
    iri = re.search(r"\(dataset (\S+)\)", held[0]["what"]).group(1)
    assert iri == f"{base}/dataset/{flagged['name']}"
    assert writes.server.get(f"/dataset/{flagged['name']}").status_code == 404
    assert writes.server.get(f"/dataset/{other['name']}").status_code == 200  # the rest of the source loads

    admin = sign_in(writes, writes.admin)
    form = {"dataset": iri, "digest": digest, "csrf_token": csrf_of(admin, base + "/admin/changes")}
    assert admin.post(base + "/admin/changes/approve", data=form, timeout=30).status_code == 200
    assert load(flagged) == []
    assert writes.server.get(f"/dataset/{flagged['name']}").status_code == 200

    changed = {**flagged, "title": "Purchase card transactions, with cardholders"}
    assert [p["record"] for p in load(changed)] == [flagged["name"]]
    page = writes.server.get(f"/dataset/{flagged['name']}.json").json()
    assert page["title"] == flagged["title"]  # the approved description stays published
