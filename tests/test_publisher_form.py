"""The Library's publisher form (docs/access.md, "Publisher writes"): a signed-in publisher creates, edits and
withdraws datasets through ``/publish`` with a session and a CSRF token; every write goes through the same write
API as the CKAN and Graph Store Protocol writes (validated, authorised, audited). Real server, real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from conftest import dfl
from test_access import csrf_of
from test_publisher_writes import Writes, sign_in, writes_server


@pytest.fixture(scope="module")
def writes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Writes]:
    yield from writes_server(tmp_path_factory)


TRANSPORT_FORM = {
    "title": "Bus shelters",
    "notes": "Where every bus shelter is.",
    "keywords": "buses, shelters",
    "theme": "transport",
    "borough": "E09000007",
    "license_id": "OGL-UK-3.0",
    "owner_org": "tfl",
    "access": "PUBLIC",
    "url_0": "https://example.org/shelters.csv",
    "format_0": "CSV",
    "title_0": "Shelters",
}


def post(session: requests.Session, url: str, form: dict | list, page: str | None = None) -> requests.Response:
    """A form POST with the CSRF token of the page it is on (``page``, else the URL itself)."""
    items = list(form.items()) if isinstance(form, dict) else list(form)
    token = csrf_of(session, page or url)
    return session.post(url, data=[*items, ("csrf_token", token)], allow_redirects=False, timeout=60)


def test_a_publisher_creates_edits_and_withdraws_through_the_form(writes: Writes) -> None:
    tfl = sign_in(writes, "editor@tfl.gov.uk")
    listing = tfl.get(writes.url + "/publish", timeout=30)
    assert listing.status_code == 200 and 'href="/publish/new"' in listing.text
    assert 'href="/publish"' in tfl.get(writes.url + "/", timeout=30).text  # the header link, for publishers
    assert 'href="/publish"' not in requests.get(writes.url + "/", timeout=30).text

    made = post(tfl, writes.url + "/publish/new", {**TRANSPORT_FORM, "name": "bus-shelters"})
    assert made.status_code == 303, made.text
    assert made.headers["Location"] == writes.url + "/dataset/bus-shelters"
    page = requests.get(writes.url + "/dataset/bus-shelters", timeout=30)
    assert page.status_code == 200 and "Bus shelters" in page.text and "Camden" in page.text
    assert "bus-shelters/edit" in tfl.get(writes.url + "/publish", timeout=30).text

    edit_url = writes.url + "/dataset/bus-shelters/edit"
    form = tfl.get(edit_url, timeout=30)
    assert form.status_code == 200 and 'value="Bus shelters"' in form.text and "shelters.csv" in form.text
    edited = post(tfl, edit_url, {**TRANSPORT_FORM, "title": "Bus shelters and stops"})
    assert edited.status_code == 303, edited.text
    assert "Bus shelters and stops" in requests.get(writes.url + "/dataset/bus-shelters", timeout=30).text

    withdrawn = post(tfl, writes.url + "/dataset/bus-shelters/withdraw", {}, page=writes.url + "/publish")
    assert withdrawn.status_code == 303 and withdrawn.headers["Location"].endswith("/publish")
    assert requests.get(writes.url + "/dataset/bus-shelters", timeout=30).status_code == 410


def test_another_organisations_dataset_cannot_be_edited_through_the_form(writes: Writes) -> None:
    tfl = sign_in(writes, "editor@tfl.gov.uk")
    assert post(tfl, writes.url + "/publish/new", {**TRANSPORT_FORM, "name": "bus-garages"}).status_code == 303
    gla = sign_in(writes, "editor@london.gov.uk")
    before = writes.state()
    assert gla.get(writes.url + "/dataset/bus-garages/edit", timeout=30).status_code == 403
    token = csrf_of(gla, writes.url + "/publish/new")
    form = [*TRANSPORT_FORM.items(), ("title", "Hijacked"), ("csrf_token", token)]
    edit = gla.post(writes.url + "/dataset/bus-garages/edit", data=form, allow_redirects=False, timeout=30)
    assert edit.status_code == 403
    withdraw = gla.post(writes.url + "/dataset/bus-garages/withdraw", data={"csrf_token": token}, timeout=30)
    assert withdraw.status_code == 403
    as_tfl = gla.post(writes.url + "/publish/new", data=[*form[:-2], ("name", "x-tfl"), ("csrf_token", token)])
    assert as_tfl.status_code == 403  # creating for an organisation the account does not publish for
    assert writes.state() == before
    anonymous = requests.get(writes.url + "/publish", timeout=30)
    assert anonymous.status_code == 401


def test_a_form_without_its_csrf_token_is_refused(writes: Writes) -> None:
    tfl = sign_in(writes, "editor@tfl.gov.uk")
    before = writes.state()
    refused = tfl.post(writes.url + "/publish/new", data={**TRANSPORT_FORM, "name": "no-csrf"}, timeout=30)
    assert refused.status_code == 400
    with_token = requests.post(
        writes.url + "/publish/new",
        data={**TRANSPORT_FORM, "name": "no-csrf"},
        headers={"Authorization": f"Bearer {writes.tokens['tfl']}"},
        timeout=30,
    )
    assert with_token.status_code in (400, 401)  # an API token is no session
    assert writes.state() == before


def test_an_invalid_form_shows_its_violations_and_writes_nothing(writes: Writes) -> None:
    tfl = sign_in(writes, "editor@tfl.gov.uk")
    before = writes.state()
    form = {**TRANSPORT_FORM, "name": "secret-shelters", "access": "NON_PUBLIC", "personal_data": "yes"}
    refused = post(tfl, writes.url + "/publish/new", form)
    assert refused.status_code == 400
    assert 'aria-describedby="access_reason-error"' in refused.text and 'id="access_reason-error"' in refused.text
    assert 'aria-describedby="legal_basis-error"' in refused.text and "dpv:hasLegalBasis" in refused.text
    assert 'value="Bus shelters"' in refused.text  # what was typed is kept
    assert writes.state() == before
    assert writes.server.get("/dataset/secret-shelters").status_code == 404


def test_access_reasons_and_personal_data_through_the_form(writes: Writes) -> None:
    tfl = sign_in(writes, "editor@tfl.gov.uk")
    form = [
        *{**TRANSPORT_FORM, "name": "rider-complaints", "access": "RESTRICTED", "personal_data": "yes"}.items(),
        ("access_reason", "PersonalInformation"),
        ("access_reason_note", "Names of complainants."),
        ("personal_data_categories", "https://w3id.org/dpv/pd#Contact"),
        ("legal_basis", "https://w3id.org/dpv#PublicInterest"),
    ]
    made = post(tfl, writes.url + "/publish/new", form)
    assert made.status_code == 303, made.text
    page = tfl.get(writes.url + "/dataset/rider-complaints", timeout=30)
    assert page.status_code == 200
    assert "Personal information" in page.text and "Names of complainants." in page.text and "Contact" in page.text
    assert requests.get(writes.url + "/dataset/rider-complaints", timeout=30).status_code == 404

    form_again = tfl.get(writes.url + "/dataset/rider-complaints/edit", timeout=30).text
    assert 'value="PersonalInformation" checked' in form_again and "Names of complainants." in form_again
    assert 'value="https://w3id.org/dpv#PublicInterest" checked' in form_again
    assert 'id="access-RESTRICTED" name="access" value="RESTRICTED" checked' in form_again
    before = writes.state()
    public = [(k, "PUBLIC" if k == "access" else v) for k, v in form]  # personal data made public, unapproved
    refused = post(tfl, writes.url + "/dataset/rider-complaints/edit", public)
    assert refused.status_code == 400 and "approv" in refused.text
    assert writes.state() == before


@pytest.mark.browser
def test_browser_a_publisher_fills_the_form_and_axe_finds_nothing_serious(writes: Writes) -> None:
    """A publisher signed in by mail link fills the new-dataset form in Chromium; axe-core reports no serious or
    moderate violation on the form, empty or showing its errors."""
    import email

    from playwright.sync_api import sync_playwright
    from test_browser import ARGS, AXE, BLOCKING, CHROMIUM

    def blocking(page) -> list[str]:
        page.add_script_tag(content=AXE.read_text())
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [v["id"] for v in result["violations"] if v["impact"] in BLOCKING]

    address = "designer@tfl.gov.uk"  # an account of its own: sign-in links to one address are rate-limited
    for args in (
        ("accounts", "create", address),
        ("grants", "add", "publisher", "--account", address, "--organisation", "tfl"),
    ):
        dfl("--base", writes.url, *args, "--store", str(writes.server.data_dir))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = chromium.new_page()
            page.goto(writes.url + "/account")
            page.fill("#email", address)
            sent = set(writes.outbox.glob("*.eml"))
            with page.expect_navigation():
                page.click("text=Send me a sign-in link")
            [new] = [p for p in writes.outbox.glob("*.eml") if p not in sent]  # the mail this sign-in sent
            mail = email.message_from_bytes(new.read_bytes()).get_payload(decode=True)
            page.goto(re.search(r"(http\S+/account/login/link#\S+)", mail.decode()).group(1))
            page.click("#link-sign-in")
            page.wait_for_url(writes.url + "/account")
            page.click("nav.site-nav a[href='/publish']")
            page.click("a[href='/publish/new']")
            assert blocking(page) == []
            page.fill("#title", "Cycle parking")
            page.fill("#name", "cycle-parking")
            page.select_option("#theme", "transport")
            page.check("#access-NON_PUBLIC")
            page.click("button[type=submit]:has-text('Publish')")
            assert page.locator("#access_reason-error").is_visible()  # no reason given: shown by the field
            assert blocking(page) == []
            page.check("#reason-CommercialInterests")
            page.fill("#url_0", "https://example.org/parking.csv")
            page.click("button[type=submit]:has-text('Publish')")
            page.wait_for_url(writes.url + "/dataset/cycle-parking")
            assert "Commercial interests" in page.content()
        finally:
            chromium.close()


def test_the_publish_link_is_never_served_from_another_callers_cached_page(writes: Writes) -> None:
    """A token of the same account sees what the session sees, but is offered no form (forms take sessions only):
    the page cache (and the Library's validators) key on whether the header links to ``/publish``, not only on what
    can be read. (The GLA's editor: the TfL editor's sign-ins are used up by the rate limit in this module.)"""
    gla = sign_in(writes, "editor@london.gov.uk")
    by_token = {"Authorization": f"Bearer {writes.tokens['gla']}", "Accept": "text/html"}
    for path in ("/dataset/" + first_dataset_slug(writes), "/"):
        assert 'href="/publish"' in gla.get(writes.url + path, timeout=30).text
        page = requests.get(writes.url + path, headers=by_token, timeout=30)
        assert page.status_code == 200 and 'href="/publish"' not in page.text, path
        assert 'href="/publish"' in gla.get(writes.url + path, timeout=30).text


def first_dataset_slug(writes: Writes) -> str:
    found = requests.get(writes.url + "/api/search", params={"q": "", "limit": 1}, timeout=30).json()
    return found["results"][0]["iri"].rsplit("/", 1)[-1]
