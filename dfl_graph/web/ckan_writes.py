"""The CKAN action API's writes: ``package_create``, ``package_update``, ``package_patch``, ``package_delete``.

POSTed as ``ckanapi`` sends them (a JSON object: the package dict, or ``{"id": ...}`` for a delete) to
``/api/3/action/{action}`` or ``/api/action/{action}``, with ``Authorization: Bearer <API token with write
scope>``. Each is one write of :mod:`dfl_graph.publishing` (authorised, SHACL-validated, audited, published
as a new generation); the read-only actions stay in :mod:`dfl_graph.web.ckan_api`, whose answer shapes these
share: ``{"help", "success": true, "result"}`` or ``{"help", "success": false, "error": {"__type", "message",
...}}`` (``Validation Error`` with the SHACL ``violations`` and 400, ``Authorization Error`` 403, ``Not Found
Error`` 404).

A package is found by its ``name`` (our dataset slug), its ``id`` (the UUID ``package_show`` gives) or its
IRI. ``package_patch`` reads the package as ``package_show`` gives it and applies the given fields, so it
patches the datasets ``package_show`` shows.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response

from dfl_graph.publishing import WriteOutcome, WriteRequest
from dfl_graph.uris import slugify
from dfl_graph.web import ckan_api
from dfl_graph.web.access import catalogue_index, snapshot
from dfl_graph.web.ckan_api import ApiError, _by_uuid, _parameters, _reply, package, package_show
from dfl_graph.web.publisher_writes import WriteDenied, run

blueprint = Blueprint("ckan_writes", __name__)

WRITE_ACTIONS = ("package_create", "package_update", "package_patch", "package_delete")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ERROR_TYPES = {400: "Validation Error", 403: "Authorization Error", 404: "Not Found Error", 409: "Validation Error"}


def _reply_error(action: str, status: int, kind: str, message: str, extra: dict | None = None) -> Response:
    return _reply(action, {"success": False, "error": {"__type": kind, "message": message, **(extra or {})}}, status)


def _refused(action: str, outcome: WriteOutcome) -> Response:
    kind = ERROR_TYPES.get(outcome.status, "Internal Server Error" if outcome.status >= 500 else "Bad request")
    extra: dict = {"violations": outcome.violations} if outcome.violations else {}
    if outcome.status == 409 and "already in use" in outcome.message:
        extra["name"] = ["That URL is already in use."]
    return _reply_error(action, outcome.status, kind, outcome.message, extra)


def _dataset_iri(params: dict) -> str:
    """The IRI of the package a request names (``id`` or ``name``: a slug, a package UUID or an IRI)."""
    current = snapshot()
    unknown = False  # a package id (UUID) that names no package
    for key in ("id", "name"):
        ident = params.get(key)
        if not isinstance(ident, str) or not ident.strip():
            continue
        ident = ident.strip()
        if ident.startswith(("http://", "https://")):
            return ident
        if _UUID.match(ident):
            found = _by_uuid(current, catalogue_index(current), ident)
            if found is not None:
                return found
            unknown = True
            continue
        return current.uris.dataset(slugify(ident))
    if unknown:
        raise ApiError(404, "Not Found Error", "Not found")
    raise ApiError(409, "Validation Error", "id is missing", {"id": "Missing value"})


def _result(iri: str) -> dict:
    """The written package as ``package_show`` gives it (a short one while the dataset is not public)."""
    current = snapshot()
    index = catalogue_index(current)
    record = index.dataset(iri)
    if record is not None:
        return package(current, index, record)
    return {"id": ckan_api._uuid(iri), "name": iri.rsplit("/", 1)[-1], "private": True, "state": "active"}


def _write(action: str, params: dict) -> WriteOutcome:
    """The write an action asks for (actor and visibility: :func:`run` puts the caller's in)."""
    if action == "package_create":
        return run(WriteRequest("write", package=params, must_exist=False, via="ckan"))
    iri = _dataset_iri(params)
    if action == "package_delete":
        return run(WriteRequest("withdraw", dataset=iri, via="ckan"))
    if action == "package_patch":
        params = {**package_show({"id": iri}), **params}
    return run(WriteRequest("write", dataset=iri, package=params, must_exist=True, via="ckan"))


def _action(action: str) -> Response:
    try:
        outcome = _write(action, _parameters())
    except WriteDenied as denied:
        return _reply_error(action, 403, "Authorization Error", denied.message)
    except ApiError as error:
        fields = {k: [v] for k, v in error.fields.items()}
        return _reply_error(action, error.status, error.kind, error.message, fields)
    if not outcome.ok:
        return _refused(action, outcome)
    result = None if action == "package_delete" else _result(outcome.dataset or "")
    return _reply(action, {"success": True, "result": result})


def _route(action: str) -> None:
    def view() -> Response:
        return _action(action)

    view.__name__ = action
    for prefix in ("/api/3/action/", "/api/action/"):
        blueprint.add_url_rule(prefix + action, view_func=view, methods=["POST"], endpoint=f"{action}{len(prefix)}")


for _name in WRITE_ACTIONS:
    _route(_name)

__all__ = ["WRITE_ACTIONS", "blueprint"]
