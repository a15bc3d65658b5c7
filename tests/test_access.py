"""Accounts, roles, tokens, sign-in, CSRF, rate limits and the audit, with real parts: the accounts SQLite
file, the real `dfl` command line, gunicorn (`live_server`), a real OpenID Connect provider process
(oidc-provider-mock on a free port) and, for the password-less flows, Debian's Chromium."""

from __future__ import annotations

import contextlib
import email
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import test_browser
from conftest import LiveServer, dfl, free_port, live_server, load_default
from pyoxigraph import NamedNode, RdfFormat, Store, parse

from dfl_graph.accounts import AccountsDatabase, Directory, InvalidCredentials, Visibility
from dfl_graph.accounts.credentials import parse_token
from dfl_graph.accounts.database import FILENAME, MIGRATIONS
from dfl_graph.accounts.provenance import audit_nquads
from dfl_graph.config import Settings
from dfl_graph.namespaces import PROV, RDF
from dfl_graph.uris import Uris

pytestmark = pytest.mark.xdist_group("access")
chromium = test_browser.browser  # the suite's Chromium fixture, shared rather than copied

TFL = "http://127.0.0.1/publisher/tfl"
GLA = "http://127.0.0.1/publisher/gla"
ORGANISATIONS = {TFL: "Transport for London", GLA: "Greater London Authority"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# -- the directory, on a real accounts file ---------------------------------------------------------------
@pytest.fixture
def directory(tmp_path: Path) -> Directory:
    return Directory(AccountsDatabase(tmp_path), ORGANISATIONS)


def test_schema_is_migrated_and_versioned(tmp_path: Path) -> None:
    database = AccountsDatabase(tmp_path)
    assert database.schema_version == len(MIGRATIONS)
    assert (tmp_path / FILENAME).stat().st_mode & 0o077 == 0  # for the service's user only
    with sqlite3.connect(tmp_path / FILENAME) as db:
        db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer than this program"):
        AccountsDatabase(tmp_path)


def test_settings_never_show_their_secrets() -> None:
    settings = Settings(smtp_password="smtp-pass-shown-nowhere", oidc_client_secret="oidc-secret-shown-nowhere")
    assert "shown-nowhere" not in repr(settings) and "shown-nowhere" not in str(settings)


def test_roles_give_the_right_visibility(directory: Directory) -> None:
    reader = directory.ensure_account("reader@camden.gov.uk")
    member = directory.ensure_account("Member@TfL.gov.uk")
    publisher = directory.ensure_account("publisher@london.gov.uk")
    admin = directory.ensure_account("admin@london.gov.uk")
    stranger = directory.ensure_account("someone@example.com")
    directory.add_grant("cli:test", "reader", account=reader.email)
    directory.add_grant("cli:test", "member", domain="tfl.gov.uk", organisation="tfl")
    directory.add_grant("cli:test", "publisher", account=publisher.id, organisation=GLA)
    directory.add_grant("cli:test", "administrator", account=admin.email)

    assert directory.visibility_of(stranger) == Visibility.ANONYMOUS
    assert directory.visibility_of(reader).cache_key == "restricted"
    seen = directory.visibility_of(member)
    assert seen.may_read("non-public", TFL) and not seen.may_read("non-public", GLA)
    assert not seen.may_write(TFL)
    wrote = directory.visibility_of(publisher)
    assert wrote.may_write(GLA) and not wrote.may_write(TFL) and wrote.may_read("non-public", GLA)
    everything = directory.visibility_of(admin)
    assert everything.administrator and everything.may_write(TFL) and everything.cache_key == "everything"
    # two readers of the same things share cache entries; different visibilities never do
    keys = {directory.visibility_of(a).cache_key for a in (reader, member, publisher, admin, stranger)}
    assert len(keys) == 5 and all(member.id not in key and member.email not in key for key in keys)

    directory.set_disabled(member.id, True, "cli:test")
    assert directory.visibility_of(directory.account(member.id)) == Visibility.ANONYMOUS


def test_grants_are_checked(directory: Directory) -> None:
    directory.ensure_account("a@tfl.gov.uk")
    for kwargs, message in (
        ({"role": "publisher", "domain": "tfl.gov.uk", "organisation": "tfl"}, "named accounts only"),
        ({"role": "administrator", "domain": "tfl.gov.uk"}, "named accounts only"),
        ({"role": "member", "account": "a@tfl.gov.uk"}, "needs an organisation"),
        ({"role": "member", "account": "a@tfl.gov.uk", "organisation": "nowhere"}, "unknown organisation"),
        ({"role": "reader", "account": "nobody@tfl.gov.uk"}, "no account"),
        ({"role": "reader", "domain": "not a domain"}, "not an e-mail domain"),
        ({"role": "owner", "account": "a@tfl.gov.uk"}, "unknown role"),
    ):
        with pytest.raises(ValueError, match=message):
            directory.add_grant("cli:test", **kwargs)
    assert directory.grants() == []


def test_graph_lists_follow_the_registry(directory: Directory) -> None:
    registry = {
        "g/public": {"public": True},
        "g/restricted": {"public": False, "access": "restricted"},
        "g/tfl": {"public": False, "access": "non-public", "organisation": TFL},
        "g/gla": {"public": False, "access": "non-public", "organisation": GLA},
        "g/legacy": {"public": False},  # today's mixed graph/{source}/restricted: only for "everything"
    }
    assert Visibility.ANONYMOUS.graphs(registry) == ["g/public"]
    assert Visibility(restricted=True).graphs(registry) == ["g/public", "g/restricted"]
    assert Visibility(True, frozenset({TFL})).graphs(registry) == ["g/public", "g/restricted", "g/tfl"]
    assert Visibility(everything=True).graphs(registry) == sorted(registry)


def test_tokens_are_hashed_scoped_expiring_and_revocable(directory: Directory, tmp_path: Path) -> None:
    account = directory.ensure_account("bot@london.gov.uk")
    directory.add_grant("cli:test", "publisher", account=account.email, organisation="gla")
    read = directory.issue_token(account, "reader", "read", days=30)
    write = directory.issue_token(account, "writer", "write", days=30)
    assert directory.caller_for_token(read.text).visibility.write_for == frozenset()
    assert directory.caller_for_token(write.text).visibility.write_for == {GLA}
    assert not directory.caller_for_token(write.text).visibility.administrator
    raw = (tmp_path / FILENAME).read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob(FILENAME + "-*"))
    assert parse_token(read.text)[1].encode() not in raw  # only the hash is kept (the secret may hold "_")

    with pytest.raises(InvalidCredentials, match="not valid"):
        directory.caller_for_token(read.text[:-2] + ("AA" if not read.text.endswith("AA") else "BB"))
    directory.revoke_token(read.token.id, "cli:test")
    with pytest.raises(InvalidCredentials, match="revoked"):
        directory.caller_for_token(read.text)
    directory.db.execute("UPDATE tokens SET expires_at = '2001-01-01T00:00:00Z' WHERE id = ?", (write.token.id,))
    with pytest.raises(InvalidCredentials, match="expired"):
        directory.caller_for_token(write.text)


def test_login_links_are_single_use(directory: Directory) -> None:
    secret = directory.issue_login_link("New@Camden.gov.uk")
    account = directory.consume_login_link(secret)
    assert account.email == "new@camden.gov.uk"
    with pytest.raises(InvalidCredentials, match="already been used"):
        directory.consume_login_link(secret)
    late = directory.issue_login_link("new@camden.gov.uk")
    directory.db.execute("UPDATE login_links SET expires_at = '2001-01-01T00:00:00Z'")
    with pytest.raises(InvalidCredentials, match="expired"):
        directory.consume_login_link(late)


def test_every_change_is_audited_as_prov(directory: Directory) -> None:
    account = directory.ensure_account("x@tfl.gov.uk")
    grant = directory.add_grant("cli:test", "reader", account=account.email, reason="pilot")
    directory.revoke_grant(grant.id, "cli:test")
    token = directory.issue_token(account, "t", "read")
    directory.revoke_token(token.token.id, "cli:test")
    events = directory.audit_events()
    assert [e.action for e in reversed(events)] == [
        "account.create",
        "grant.add",
        "grant.revoke",
        "token.create",
        "token.revoke",
    ]
    revoke = events[2]
    assert revoke.before_digest and revoke.after_digest and revoke.before_digest != revoke.after_digest
    assert token.text not in str([e.to_json() for e in events])
    uris = Uris("http://127.0.0.1")
    quads = list(parse(audit_nquads(uris, events), RdfFormat.N_QUADS))
    activities = {q.subject for q in quads if q.predicate == RDF.type and q.object == PROV.Activity}
    assert len(activities) == len(events)
    assert {q.graph_name for q in quads} == {NamedNode(uris.system_graph())}
    assert any(q.predicate == PROV.wasRevisionOf for q in quads)


# -- over HTTP, with a real OpenID Connect provider ------------------------------------------------------
@dataclass
class AccessServer:
    server: LiveServer
    outbox: Path
    oidc: str
    admin_email: str


@contextlib.contextmanager
def oidc_provider() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(url + "/.well-known/openid-configuration", timeout=2).ok:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the OpenID Connect provider did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def access(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AccessServer]:
    root = tmp_path_factory.mktemp("access")
    data_dir = root / "catalogue"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load_default(data_dir, base)
    admin = "chief@london.gov.uk"
    dfl("--base", base, "accounts", "create", admin, "--store", str(data_dir))
    dfl("--base", base, "grants", "add", "administrator", "--account", admin, "--store", str(data_dir))
    with oidc_provider() as issuer:
        env = {
            "DFL_MAIL_OUTBOX": str(root / "outbox"),
            "DFL_OIDC_ISSUER": issuer,
            "DFL_OIDC_CLIENT_ID": "data-for-london",
            "DFL_OIDC_CLIENT_SECRET": "client-secret-never-shown",
            "DFL_OIDC_LABEL": "the test provider",
            "DFL_LOGIN_ATTEMPTS_PER_CLIENT": "1000",
        }
        with live_server(data_dir, port, env=env) as server:
            yield AccessServer(server, root / "outbox", issuer, admin)


def csrf_of(session: requests.Session, url: str) -> str:
    return CSRF.search(session.get(url, timeout=30).text).group(1)


def last_mail(outbox: Path, to: str) -> str:
    for path in sorted(outbox.glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == to:
            return message.get_payload(decode=True).decode()
    raise AssertionError(f"no mail to {to}")


def sign_in_by_mail(access: AccessServer, address: str) -> requests.Session:
    session = requests.Session()
    url = access.server.url
    response = session.post(
        url + "/account/login/email", data={"email": address, "csrf_token": csrf_of(session, url + "/account")}
    )
    assert response.status_code == 200, response.text
    link = re.search(r"(http\S+/account/login/link)#(\S+)", last_mail(access.outbox, address))
    assert link.group(1) == url + "/account/login/link"
    response = session.post(
        link.group(1), data={"code": link.group(2), "csrf_token": csrf_of(session, link.group(1))}, timeout=30
    )
    assert response.status_code == 200 and f'id="account-email">{address}<' in response.text
    return session


def test_bad_tokens_get_401_never_anonymous(access: AccessServer) -> None:
    url = access.server.url
    for header, reason in (
        ("Bearer not-a-token", "not a Data for London API token"),
        ("Bearer dfl_aaaaaaaaaaaa_" + "A" * 43, "not valid"),
        ("Basic dXNlcjpwYXNz", "only Authorization: Bearer"),
    ):
        response = requests.get(url + "/search?q=fire", headers={"Authorization": header, "Accept": "application/json"})
        assert response.status_code == 401
        assert reason in response.json()["error"]["message"]
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_token_expiry_and_revocation_over_http(access: AccessServer) -> None:
    url, data_dir = access.server.url, access.server.data_dir
    dfl("--base", url, "accounts", "create", "robot@tfl.gov.uk", "--store", str(data_dir))
    text = dfl("--base", url, "tokens", "create", "robot@tfl.gov.uk", "--label", "ci", "--store", str(data_dir))
    token = text.stdout.strip()
    assert token.startswith("dfl_") and token not in text.stderr
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    assert requests.get(url + "/search?q=fire", headers=auth).status_code == 200
    token_id = token.split("_")[1]
    with sqlite3.connect(data_dir / FILENAME) as db:
        db.execute("UPDATE tokens SET expires_at = '2001-01-01T00:00:00Z' WHERE id = ?", (token_id,))
    expired = requests.get(url + "/search?q=fire", headers=auth)
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
    with sqlite3.connect(data_dir / FILENAME) as db:
        db.execute("UPDATE tokens SET expires_at = '2999-01-01T00:00:00Z' WHERE id = ?", (token_id,))
    dfl("--base", url, "tokens", "revoke", token_id, "--store", str(data_dir))
    revoked = requests.get(url + "/search?q=fire", headers=auth)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]


def test_forms_refuse_requests_without_csrf(access: AccessServer) -> None:
    url = access.server.url
    anonymous = requests.post(url + "/account/login/email", data={"email": "csrf@tfl.gov.uk"})
    assert anonymous.status_code == 400 and "CSRF" in anonymous.text
    admin = sign_in_by_mail(access, access.admin_email)
    before = admin.get(url + "/admin/audit.json").json()["events"]
    refused = admin.post(url + "/admin/grants", data={"subject": "tfl.gov.uk", "role": "reader"})
    assert refused.status_code == 400
    forged = admin.post(url + "/admin/grants", data={"subject": "tfl.gov.uk", "role": "reader", "csrf_token": "x"})
    assert forged.status_code == 400
    assert admin.get(url + "/admin/audit.json").json()["events"] == before  # nothing changed


def test_sign_in_by_mail_is_rate_limited(access: AccessServer) -> None:
    session = requests.Session()
    url = access.server.url
    token = csrf_of(session, url + "/account")
    codes = [
        session.post(url + "/account/login/email", data={"email": "flood@tfl.gov.uk", "csrf_token": token}).status_code
        for _ in range(6)
    ]
    assert codes == [200] * 5 + [429]
    limited = session.post(url + "/account/login/email", data={"email": "flood@tfl.gov.uk", "csrf_token": token})
    assert int(limited.headers["Retry-After"]) > 0


def test_administrators_manage_grants_and_read_the_audit(access: AccessServer) -> None:
    url = access.server.url
    reader = sign_in_by_mail(access, "analyst@camden.gov.uk")
    assert reader.get(url + "/admin").status_code == 403
    assert requests.get(url + "/admin").status_code == 401
    admin = sign_in_by_mail(access, access.admin_email)
    token = csrf_of(admin, url + "/admin")
    added = admin.post(
        url + "/admin/grants",
        data={"subject": "camden.gov.uk", "role": "reader", "reason": "pilot", "csrf_token": token},
    )
    assert added.status_code == 200 and "domain camden.gov.uk" in added.text
    page = reader.get(url + "/account").text
    assert "restricted datasets of every organisation" in page
    events = admin.get(url + "/admin/audit.json").json()["events"]
    grant = next(e for e in events if e["action"] == "grant.add" and e["details"].get("reason") == "pilot")
    assert grant["actor"] != "anonymous" and grant["after_digest"].startswith("sha256:")
    quads = list(parse(admin.get(url + "/admin/audit.nq").content, RdfFormat.N_QUADS))
    assert any(q.subject.value.endswith("/audit/" + grant["id"]) for q in quads)


def test_tokens_are_shown_once_and_never_logged(access: AccessServer) -> None:
    url = access.server.url
    session = sign_in_by_mail(access, "dev@tfl.gov.uk")
    created = session.post(
        url + "/account/tokens",
        data={"label": "laptop", "scope": "read", "days": "7", "csrf_token": csrf_of(session, url + "/account")},
    )
    token = re.search(r'id="token-text">([^<]+)<', created.text).group(1)
    assert created.headers["Cache-Control"] == "no-store"
    account = requests.get(url + "/account", headers={"Authorization": f"Bearer {token}"})
    assert account.status_code == 200 and "dev@tfl.gov.uk" in account.text
    assert token not in session.get(url + "/account").text
    secrets = [token, "client-secret-never-shown", last_mail(access.outbox, "dev@tfl.gov.uk").split("#")[1].split()[0]]
    log = (access.server.data_dir.parent / f"server-{url.rsplit(':', 1)[1]}.log").read_text()
    assert "GET /account" in log and not [s for s in secrets if s in log]


def test_audit_goes_into_the_system_graph_and_never_to_the_public(access: AccessServer) -> None:
    url, data_dir = access.server.url, access.server.data_dir
    dfl("--base", url, "audit", "publish", "--store", str(data_dir))
    generation = int((data_dir / "CURRENT").read_text())
    store = Store.read_only(str(data_dir / "generations" / f"{generation:08d}" / "store"))
    system = NamedNode(Uris(url).system_graph())
    activities = list(store.quads_for_pattern(None, RDF.type, PROV.Activity, system))
    assert activities
    query = (
        "PREFIX prov: <http://www.w3.org/ns/prov#> "
        "SELECT (COUNT(*) AS ?n) WHERE { { ?a a prov:Activity } UNION { GRAPH ?g { ?a a prov:Activity } } }"
    )
    answer = requests.get(
        url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert answer.json()["results"]["bindings"][0]["n"]["value"] == "0"


def test_oidc_sign_in_needs_a_verified_address(access: AccessServer) -> None:
    url = access.server.url
    for sub, verified in (("oidc-user@tfl.gov.uk", True), ("unverified@tfl.gov.uk", False)):
        requests.put(f"{access.oidc}/users/{sub}", json={"email": sub, "email_verified": verified}).raise_for_status()
        session = requests.Session()
        authorize = session.get(url + "/account/login/oidc")
        assert authorize.url.startswith(access.oidc + "/oauth2/authorize")
        back = session.post(authorize.url, data={"sub": sub})
        if verified:
            assert back.status_code == 200 and f'id="account-email">{sub}<' in back.text
        else:
            assert back.status_code == 403 and "email_verified" in back.text


# -- password-less flows in a real browser ---------------------------------------------------------------
@pytest.mark.browser
def test_browser_sign_in_by_mail_link(chromium, access: AccessServer, artifacts: Path) -> None:
    page = chromium.new_page()
    page.goto(access.server.url + "/account")
    page.fill("#email", "browser@tfl.gov.uk")
    page.click("text=Send me a sign-in link")
    assert page.locator("h1").text_content() == "Check your e-mail"
    link = re.search(r"(http\S+/account/login/link#\S+)", last_mail(access.outbox, "browser@tfl.gov.uk")).group(1)
    page.goto(link)
    assert "#" not in page.url  # the code left the address bar
    page.click("#link-sign-in")
    page.wait_for_url(access.server.url + "/account")
    assert page.locator("#account-email").text_content() == "browser@tfl.gov.uk"
    page.screenshot(path=str(artifacts / "account.png"), full_page=True)
    cookie = next(c for c in page.context.cookies() if c["name"] == "dfl_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click("text=Sign out")
    page.goto(access.server.url + "/account")
    assert page.locator("h1").text_content() == "Sign in"
    page.goto(link)  # the link works once
    page.click("#link-sign-in")
    assert "already been used" in page.locator("#sign-in-error").text_content()


@pytest.mark.browser
def test_browser_sign_in_with_oidc(chromium, access: AccessServer) -> None:
    sub = "browser-oidc@london.gov.uk"
    requests.put(f"{access.oidc}/users/{sub}", json={"email": sub, "email_verified": True}).raise_for_status()
    page = chromium.new_page()
    page.route(re.compile(r"^https://cdn\."), lambda route: route.abort())  # the provider's stylesheet: offline
    page.goto(access.server.url + "/account")
    page.click("#oidc-sign-in")
    page.wait_for_url(re.compile(re.escape(access.oidc) + "/oauth2/authorize"))
    page.fill("input[name=sub]", sub)
    page.click("button:text('Authorize')")
    page.wait_for_url(access.server.url + "/account")
    assert page.locator("#account-email").text_content() == sub


def test_cli_refuses_bad_input(tmp_path: Path) -> None:
    store = str(tmp_path / "catalogue")
    bad = dfl(
        "grants", "add", "publisher", "--domain", "tfl.gov.uk", "--organisation", "tfl", "--store", store, check=False
    )
    assert bad.returncode == 1 and "named accounts only" in bad.stderr
    missing = dfl("tokens", "create", "ghost@tfl.gov.uk", "--label", "x", "--store", store, check=False)
    assert missing.returncode == 1 and "no account" in missing.stderr and "Traceback" not in missing.stderr
    assert (Path(store) / FILENAME).exists()  # the accounts file is made on first use, with no catalogue
