"""The Library's publisher form: ``/publish`` lists the datasets of the signed-in publisher's organisations,
``/publish/new`` and ``/dataset/{slug}/edit`` describe one, ``POST /dataset/{slug}/withdraw`` withdraws it.

A form is the third way to write (docs/access.md, "Publisher writes"): it builds the CKAN package dict the
action API takes and runs the same write (:func:`dfl_graph.publishing.write`: authorised, SHACL-validated,
audited, a new generation), so a dataset written here is the one ``package_create`` would write. Forms take the
session cookie and a CSRF token (Flask-WTF), never an API token; a refused write shows its violations next to
the form (400) and writes nothing.
"""

from __future__ import annotations

from functools import cache

from flask import Blueprint, Response, redirect, render_template, request
from pyoxigraph import NamedNode
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import Forbidden, NotFound, Unauthorized

from dfl_graph.accounts.visibility import Caller
from dfl_graph.namespaces import DPV
from dfl_graph.publishing import WriteOutcome, WriteRequest, write
from dfl_graph.uris import Uris, slugify
from dfl_graph.vocabularies import Vocabularies
from dfl_graph.web.access import catalogue_index, settings, snapshot
from dfl_graph.web.accounts import caller, csrf
from dfl_graph.web.ckan_api import package_show

blueprint = Blueprint("publish_form", __name__)

LICENCES = (
    ("OGL-UK-3.0", "Open Government Licence v3.0"),
    ("CC-BY-4.0", "Creative Commons Attribution 4.0"),
    ("CC0-1.0", "Creative Commons Zero (public domain)"),
    ("odc-odbl", "Open Data Commons Open Database Licence"),
)
ACCESS_LEVELS = (
    ("PUBLIC", "Public: everyone"),
    ("RESTRICTED", "Restricted: trusted readers"),
    ("NON_PUBLIC", "Non-public: your organisation only"),
)
DISTRIBUTION_ROWS = 3
# Which form field a violation belongs to, by the path (or message) the write API gives.
FIELD_OF = (
    ("title", "title"),
    ("description", "notes"),
    ("accessReason", "access_reason"),
    ("holdsPersonalData", "personal_data"),
    ("hasPersonalData", "personal_data_categories"),
    ("hasLegalBasis", "legal_basis"),
    ("theme", "theme"),
    ("spatial", "borough"),
    ("license", "license_id"),
)


@blueprint.app_context_processor
def publisher_link() -> dict:
    """Whether the header links to ``/publish``: for a signed-in publisher (page caches and ETags key on it)."""
    return {"may_publish": caller().publishes_by_form}


@cache
def vocabularies(base: str) -> Vocabularies:
    return Vocabularies(Uris(base))


def _publisher() -> Caller:
    """The signed-in caller, who must publish for at least one organisation (a session, never a token)."""
    current = caller()
    if current.anonymous or current.via != "session":
        raise Unauthorized("Sign in first (on /account).")
    if not (current.visibility.write_for or current.visibility.write_all):
        raise Forbidden("This page is for publishers: your account may not write any organisation's datasets.")
    return current


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _choices() -> dict:
    vocab = vocabularies(settings().base)
    labels = vocab.labels
    return {
        "themes": sorted(((t, labels.get(i.value, t)) for t, i in vocab.themes.items()), key=lambda c: c[1]),
        "boroughs": sorted(((g, labels.get(i.value, g)) for g, i in vocab.boroughs.items()), key=lambda c: c[1]),
        "licences": LICENCES,
        "access_levels": ACCESS_LEVELS,
        "reasons": sorted(((r, labels.get(i.value, r)) for r, i in vocab.access_reasons.items()), key=lambda c: c[1]),
        "categories": sorted(((c, labels.get(c, c)) for c in vocab.personal_data_categories), key=lambda c: c[1]),
        "bases": sorted(((b, labels.get(b, b)) for b in vocab.legal_bases), key=lambda c: c[1]),
    }


def _values_of(form) -> dict:
    """The form's values as the template shows them again."""
    rows = [{k: form.get(f"{k}_{n}", "").strip() for k in ("url", "format", "title")} for n in range(DISTRIBUTION_ROWS)]
    return {
        "name": form.get("name", "").strip(),
        "title": form.get("title", "").strip(),
        "notes": form.get("notes", "").strip(),
        "keywords": form.get("keywords", "").strip(),
        "theme": form.get("theme", ""),
        "borough": form.get("borough", ""),
        "license_id": form.get("license_id", ""),
        "owner_org": form.get("owner_org", ""),
        "access": form.get("access", "PUBLIC"),
        "access_reason": form.getlist("access_reason"),
        "access_reason_note": form.get("access_reason_note", "").strip(),
        "personal_data": form.get("personal_data", ""),
        "personal_data_categories": form.getlist("personal_data_categories"),
        "legal_basis": form.getlist("legal_basis"),
        "distributions": rows,
    }


def package_of(values: dict) -> dict:
    """The CKAN package dict the action API would take for these form values."""
    extras = [{"key": "access_rights", "value": values["access"]}]
    if values["borough"]:
        extras.append({"key": "borough", "value": values["borough"]})
    if values["access_reason"]:
        extras.append({"key": "access_reason", "value": values["access_reason"]})
    if values["access_reason_note"]:
        extras.append({"key": "access_reason_note", "value": values["access_reason_note"]})
    if values["personal_data"] in ("yes", "no"):
        extras.append({"key": "personal_data", "value": values["personal_data"]})
    if values["personal_data_categories"]:
        extras.append({"key": "personal_data_categories", "value": values["personal_data_categories"]})
    if values["legal_basis"]:
        extras.append({"key": "legal_basis", "value": values["legal_basis"]})
    keywords = [k.strip() for k in values["keywords"].split(",") if k.strip()]
    return {
        "name": values["name"] or slugify(values["title"]),
        "title": values["title"],
        "notes": values["notes"],
        "owner_org": values["owner_org"],
        "license_id": values["license_id"],
        "private": values["access"] != "PUBLIC",
        "groups": [{"name": values["theme"]}] if values["theme"] else [],
        "tags": [{"name": k} for k in keywords],
        "resources": [
            {"url": r["url"], "format": r["format"], "name": r["title"]} for r in values["distributions"] if r["url"]
        ],
        "extras": extras,
    }


def _field_errors(outcome: WriteOutcome) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for violation in outcome.violations:
        where = f"{violation.get('path') or ''} {violation.get('message') or ''}"
        field = next((f for key, f in FIELD_OF if key in where), "form")
        found.setdefault(field, []).append(violation.get("message") or "")
    if not found:
        found["form"] = [outcome.message]
    return found


def _organisations(current: Caller) -> list[tuple[str, str]]:
    """(publisher id, name) of the organisations the caller writes for."""
    vocab = vocabularies(settings().base)
    ids = {iri.value: pub_id for pub_id, iri in vocab.publishers.items()}
    writable = ids if current.visibility.write_all else current.visibility.write_for
    return sorted(((ids[i], vocab.labels.get(i, ids[i])) for i in writable if i in ids), key=lambda o: o[1])


def _form(values: dict, *, editing: str | None, errors: dict | None = None, status: int = 200) -> Response:
    current = _publisher()
    body = render_template(
        "publish/form.html",
        caller=current,
        values=values,
        editing=editing,
        errors=errors or {},
        organisations=_organisations(current),
        choices=_choices(),
    )
    return _private(Response(body, status=status))


def _empty() -> dict:
    return {**_values_of(MultiDict()), "license_id": "OGL-UK-3.0"}


def _submit(current: Caller, values: dict, iri: str | None) -> Response:
    package = package_of(values)
    made = WriteRequest(
        "write", current.agent, current.visibility, dataset=iri, package=package, must_exist=iri is not None, via="form"
    )
    outcome = write(settings(), made)
    if not outcome.ok:
        if outcome.status in (403, 404):
            raise (Forbidden if outcome.status == 403 else NotFound)(outcome.message)
        return _form(values, editing=iri, errors=_field_errors(outcome), status=outcome.status)
    return _private(redirect(outcome.dataset or settings().uris.dataset(package["name"]), code=303))


@blueprint.get("/publish")
def list_datasets() -> Response:
    current = _publisher()
    index = catalogue_index(snapshot())
    writable = current.visibility.write_for
    mine = [r for r in index.hidden(current.visibility) if current.visibility.may_write(r.get("publisher"))]
    for publisher in sorted(writable):
        mine += index.with_facet("publisher", publisher, 0, 10_000).items
    mine.sort(key=lambda r: ((r.get("title") or "").lower(), r["iri"]))
    base = settings().uris.dataset("")
    rows = [{**r, "slug": r["iri"][len(base) :]} for r in mine if r["iri"].startswith(base)]
    body = render_template("publish/list.html", caller=current, datasets=rows)
    return _private(Response(body))


@blueprint.get("/publish/new")
def new_form() -> Response:
    return _form(_empty(), editing=None)


@blueprint.post("/publish/new")
def create() -> Response:
    csrf.protect()
    current = _publisher()
    return _submit(current, _values_of(request.form), None)


def _writable(current: Caller, slug: str) -> tuple[str, dict]:
    """The dataset's IRI and list record, if the caller may edit it: 404 when they may not see it, else 403."""
    iri = settings().uris.dataset(slug)
    record = catalogue_index(snapshot()).dataset(iri, current.visibility)
    if record is None:
        raise NotFound("No such dataset.")
    if not current.visibility.may_write(record.get("publisher")):
        raise Forbidden("Your account may not write this organisation's datasets.")
    return iri, record


def _access_fields(iri: str) -> dict:
    """The dataset's access reasons, note, personal-data flag, categories and legal basis, from its description
    (``package_show`` has no fields for them)."""
    uris = settings().uris

    def objects(predicate: NamedNode) -> list[str]:
        found = snapshot().store.quads_for_pattern(NamedNode(iri), predicate, None, None)
        return sorted({q.object.value for q in found})

    flag = objects(uris.vocab.holdsPersonalData)
    note = objects(uris.vocab.accessReasonNote)
    return {
        "access_reason": [r[len(uris.vocab.iri) :] for r in objects(uris.vocab.accessReason)],
        "access_reason_note": note[0] if note else "",
        "personal_data": {"true": "yes", "false": "no"}.get(flag[0], "") if flag else "",
        "personal_data_categories": [c for c in objects(DPV.hasPersonalData) if c != DPV.PersonalData.value],
        "legal_basis": objects(DPV.hasLegalBasis),
    }


@blueprint.get("/dataset/<slug>/edit")
def edit_form(slug: str) -> Response:
    current = _publisher()
    iri, _ = _writable(current, slug)
    shown = package_show({"id": iri})
    extras = {e["key"]: e["value"] for e in shown.get("extras", [])}
    access = (extras.get("access_rights") or "PUBLIC").rsplit("/", 1)[-1]
    vocab = vocabularies(settings().base)
    boroughs = {i.value: g for g, i in vocab.boroughs.items()}
    rows = [
        {"url": r.get("url") or "", "format": r.get("format") or "", "title": r.get("name") or ""}
        for r in shown["resources"]
    ]
    rows += [{"url": "", "format": "", "title": ""}] * max(0, DISTRIBUTION_ROWS - len(rows))
    licence = next((code for code, _ in LICENCES if code.lower() == (shown.get("license_id") or "").lower()), "")
    values = {
        **_empty(),
        "name": slug,
        "title": shown.get("title") or "",
        "notes": shown.get("notes") or "",
        "keywords": ", ".join(t["name"] for t in shown.get("tags", [])),
        "theme": next((g["name"] for g in shown.get("groups", [])), ""),
        "borough": boroughs.get(extras.get("spatial_uri", ""), ""),
        "license_id": licence or shown.get("license_id") or "",
        "owner_org": (shown.get("organization") or {}).get("name") or "",
        "access": access,
        "distributions": rows,
        **_access_fields(iri),
    }
    return _form(values, editing=iri)


@blueprint.post("/dataset/<slug>/edit")
def update(slug: str) -> Response:
    csrf.protect()
    current = _publisher()
    iri, _ = _writable(current, slug)
    return _submit(current, {**_values_of(request.form), "name": slug}, iri)


@blueprint.post("/dataset/<slug>/withdraw")
def withdraw(slug: str) -> Response:
    csrf.protect()
    current = _publisher()
    iri, _ = _writable(current, slug)
    outcome = write(settings(), WriteRequest("withdraw", current.agent, current.visibility, dataset=iri, via="form"))
    if not outcome.ok:
        raise (Forbidden if outcome.status == 403 else NotFound)(outcome.message)
    return _private(redirect(request.script_root + "/publish", code=303))


__all__ = ["blueprint", "package_of"]
