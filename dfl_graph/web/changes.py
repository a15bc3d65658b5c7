"""Administrators' view of publisher writes: list them (by account or publisher), export them, revert one.

``/admin/changes`` lists the audit's dataset events (``?actor=<account id>``, ``?publisher=<publisher IRI>``);
``/admin/changes.jsonl`` exports the same as JSON lines; ``POST /admin/changes/{event id}/revert`` writes the
dataset back as it was before that change (from the ``states`` kept by digest), through the one write API
(:mod:`dfl_graph.publishing`: validated, audited as ``dataset.revert`` with ``prov:wasRevisionOf``);
``POST /admin/changes/revert-since`` does that for every dataset the filtered changes touched since a time;
``POST /admin/changes/approve`` approves making one description of a dataset holding personal data public
(``dataset.approve-public-personal-data``). Like every
administrators' page these need a signed-in administrator (a session, never an API token) and their forms a
CSRF token.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.exceptions import Forbidden, Unauthorized

from dfl_graph.accounts import audit
from dfl_graph.accounts.visibility import Caller
from dfl_graph.approvals import APPROVAL
from dfl_graph.publishing import WriteOutcome, WriteRequest, approve_public_personal_data, write
from dfl_graph.web.access import settings
from dfl_graph.web.accounts import caller, csrf, directory

blueprint = Blueprint("changes", __name__)
MAX_REVERTS = 20  # one spawned write each (~1 s): the request must finish within gunicorn's 60 s


def _administrator() -> Caller:
    current = caller()
    if current.anonymous or current.via != "session":
        raise Unauthorized("Sign in first (on /account).")
    if not current.visibility.administrator:
        raise Forbidden("This page is for administrators.")
    return current


def _filters() -> dict[str, str]:
    return {k: v for k in ("actor", "publisher") if (v := request.args.get(k, "").strip())}


def _events() -> list[audit.AuditEvent]:
    found = _filters()
    return audit.events(
        directory().db, actor=found.get("actor"), action_prefix="dataset.", publisher=found.get("publisher")
    )


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _page(status: int = 200, message: str | None = None) -> Response:
    found = _filters()
    body = render_template(
        "accounts/changes.html",
        caller=caller(),
        events=_events(),
        organisations=directory().organisations,
        actor=found.get("actor"),
        publisher=found.get("publisher"),
        query=f"?{urlencode(found)}" if found else "",
        message=message,
        approval=APPROVAL,
    )
    return _private(Response(body, status=status))


@blueprint.get("/admin/changes")
def list_changes() -> Response:
    _administrator()
    return _page()


@blueprint.get("/admin/changes.jsonl")
def export_changes() -> Response:
    _administrator()
    lines = "".join(json.dumps(e.to_json(), ensure_ascii=False, sort_keys=True) + "\n" for e in _events())
    response = Response(lines, content_type="application/jsonl")
    response.headers["Content-Disposition"] = 'attachment; filename="changes.jsonl"'
    return _private(response)


@blueprint.post("/admin/changes/approve")
def approve_personal_data() -> Response:
    """Approve making one description (by its digest, which the publisher's refused write gave) of a dataset
    holding personal data public: the write is then accepted when it is sent again."""
    csrf.protect()
    current = _administrator()
    dataset = request.form.get("dataset", "").strip()
    digest = request.form.get("digest", "").strip()
    if not dataset.startswith(settings().uris.dataset("")):
        return _page(400, f"Not approved: {dataset!r} is not a dataset IRI of this catalogue.")
    try:
        event = approve_public_personal_data(directory().database, current.agent, dataset, digest)
    except ValueError as error:
        return _page(400, f"Not approved: {error}")
    return _page(200, f"Approved: {dataset} may be made public as {digest} (event {event}).")


def _revert(current: Caller, event_id: str) -> WriteOutcome:
    made = WriteRequest("revert", current.agent, current.visibility, revert=event_id, via="admin")
    outcome = write(settings(), made)
    if not outcome.ok:
        current_app.logger.info("revert of %s refused: %s", event_id, outcome.message)
    return outcome


@blueprint.post("/admin/changes/<event_id>/revert")
def revert_change(event_id: str) -> Response:
    csrf.protect()
    outcome = _revert(_administrator(), event_id)
    if not outcome.ok:
        return _page(outcome.status, f"Not reverted: {outcome.message}")
    return _page(200, f"Reverted: {outcome.dataset} is back to {outcome.after or 'withdrawn'} (event {outcome.event}).")


@blueprint.post("/admin/changes/revert-since")
def revert_changes_since() -> Response:
    """Bring every dataset that the filtered changes (an account's or a publisher's) touched since a time back
    to what it was then: each dataset's first change since then is reverted, one audited write each."""
    csrf.protect()
    current = _administrator()
    if not _filters():
        return _page(400, "Not reverted: choose an account or a publisher first (filter, then revert).")
    try:
        since = audit.moment(request.form.get("since", ""))
    except ValueError:
        return _page(400, f"Not reverted: {request.form.get('since', '')!r} is not a time (2026-12-05T09:30).")
    firsts = audit.first_changes_since([e for e in _events() if e.action != APPROVAL], since)
    if len(firsts) > MAX_REVERTS:
        return _page(400, f"Not reverted: {len(firsts)} datasets changed since then; at most {MAX_REVERTS} at a time.")
    outcomes = [(event, _revert(current, event.id)) for event in firsts]
    done = [o.dataset for _, o in outcomes if o.ok]
    refused = [f"{e.target} ({o.message})" for e, o in outcomes if not o.ok]
    message = f"Reverted {len(done)} of {len(firsts)} datasets changed since {since.isoformat()}"
    message += (": " + ", ".join(done) if done else "") + "."
    if refused:
        message += " Not reverted: " + "; ".join(refused) + "."
    return _page(409 if refused else 200, message)


__all__ = ["blueprint"]
