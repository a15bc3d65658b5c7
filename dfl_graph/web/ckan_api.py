"""A read-only CKAN-compatible action API, so CKAN harvesters and ``ckanapi`` clients can federate the catalogue.

``/api/3/action/{action}`` (and ``/api/action/{action}``, the path ``ckanapi`` uses), by GET with query
parameters or POST with a JSON or form body, for the actions ``package_search`` (``q``, ``fq``, ``rows``,
``start``, ``sort``), ``package_show``, ``package_list``, ``organization_list``, ``group_list`` and
``status_show``. Answers have CKAN's shape: ``{"help", "success", "result"}``, or ``{"help", "success": false,
"error": {"__type", "message"}}`` with 404 (``Not Found Error``), 409 (``Validation Error``, ``Search Query
Error``) or 400.

Everything comes from the published snapshot's public side: the catalogue index (lists, organisations,
groups), the search index (``package_search``) and the public dataset documents (``package_show``).
Mapping (see docs/federation.md): publishers are organisations, London themes are groups, keywords are
tags, distributions are resources; ``name`` is the dataset's slug and ``id`` a UUID derived from its IRI
(stable), which ``extras`` (key ``uri``) also gives.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from urllib.parse import unquote

from flask import Blueprint, Response, request

from dfl_graph.indexes.catalogue import CatalogueIndex
from dfl_graph.namespaces import DCAT, DCT, SPDX, VCARD
from dfl_graph.store import Snapshot
from dfl_graph.web.access import catalogue_index, settings, snapshot
from dfl_graph.web.accounts import caller
from dfl_graph.web.documents import Document, dataset_document

blueprint = Blueprint("ckan_api", __name__)

CKAN_VERSION = "2.10.0"
MAX_ROWS = 1000
DEFAULT_ROWS = 10
SEARCH_PAGE = 100  # the search index's largest page
ACTIONS = ("package_search", "package_show", "package_list", "organization_list", "group_list", "status_show")
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LICENCE = "http://publications.europa.eu/resource/authority/licence/"
IANA = "http://www.iana.org/assignments/media-types/"
# Open Definition conformant licences among loaders.licences.LICENCE_CODES (the non-commercial and
# no-derivatives ones, and OGL_NC, are not open)
OPEN_LICENCES = frozenset(
    {
        *("OGL_3_0", "OGL_2_0", "OGL_1_0", "CC_BY_4_0", "CC_BY_3_0", "CC_BY_2_5", "CC_BY_2_0"),
        *("CC_BYSA_4_0", "CC_BYSA_3_0", "CC0", "CC_PDM_1_0", "ODC_BL", "ODC_BY", "ODC_PDDL", "MIT", "APACHE_2_0"),
    }
)
# fq field -> search facet (values are the facet's keys or IRIs)
FQ_FACETS = {
    "organization": "publisher",
    "owner_org": "publisher",
    "groups": "theme",
    "res_format": "format",
    "license_id": "licence",
    "spatial": "borough",
}
SORTS = {
    "metadata_modified desc": "updated",
    "metadata_modified": "updated",
    "title_string asc": "title",
    "title_string": "title",
    "title asc": "title",
    "name asc": "title",
    "name": "title",
    "score desc": "relevance",
    "score desc, metadata_modified desc": "relevance",
    "relevance asc": "relevance",
    "id asc": "title",  # what CKAN harvesters page by: any stable order will do
}
_FQ_TERM = re.compile(r'\s*(?:AND\s+|\+)?([A-Za-z_]+):(?:"([^"]*)"|(\S+))\s*')


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str, fields: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.fields = status, kind, message, fields or {}


def _help(action: str) -> str:
    return f"{settings().base}/api/3/action/help_show?name={action}"


def _reply(action: str, body: dict, status: int = 200) -> Response:
    response = Response(json.dumps({"help": _help(action), **body}, ensure_ascii=False), status=status)
    response.headers["Content-Type"] = "application/json;charset=utf-8"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _parameters() -> dict:
    params: dict = dict(request.args.items())
    if request.method == "POST":
        if request.is_json or (request.data and request.data.lstrip()[:1] == b"{"):
            try:
                body = json.loads(request.get_data(as_text=True) or "{}")
            except ValueError:
                raise ApiError(400, "Bad request", "the request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad request", "the request body must be a JSON object")
            params.update(body)
        else:
            params.update(request.form.items())
    return params


@blueprint.get("/api/3")
@blueprint.get("/api/3/")
def api_version() -> Response:
    return Response('{"version": 3}', content_type="application/json;charset=utf-8")


@blueprint.route("/api/3/action/<action>", methods=["GET", "POST"])
@blueprint.route("/api/action/<action>", methods=["GET", "POST"])
def action(action: str) -> Response:
    try:
        if action not in ACTIONS:
            raise ApiError(400, "Bad request", f"Bad request - Action name not known: {action[:100]}")
        params = _parameters()
        result = HANDLERS[action](params)
    except ApiError as error:
        error_object = {"__type": error.kind, "message": error.message}
        if error.kind == "Validation Error":
            error_object.update({k: [v] for k, v in error.fields.items()})
        return _reply(action, {"success": False, "error": error_object}, error.status)
    return _reply(action, {"success": True, "result": result})


# -- parameters -------------------------------------------------------------------------------------------


def _integer(params: dict, name: str, default: int, low: int, high: int | None = None) -> int:
    value = params.get(name, default)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiError(409, "Validation Error", f"{name} must be an integer", {name: "Invalid integer"}) from None
    if number < low or (high is not None and number > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(409, "Validation Error", f"{name} must be {limit}", {name: f"Must be {limit}"})
    return number


def _flag(params: dict, name: str) -> bool:
    value = params.get(name, False)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on")


# -- mapping a dataset to a CKAN package -----------------------------------------------------------------


def _uuid(iri: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, iri))


def _key(iri: str) -> str:
    return unquote(iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1])


def _organisation(index: CatalogueIndex, iri: str, count: int | None = None) -> dict:
    title = index.label(iri) or _key(iri)
    org = {
        "id": _uuid(iri),
        "name": _key(iri).lower(),
        "title": title,
        "display_name": title,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "description": "",
        "image_url": "",
        "created": None,
        "extras": [{"key": "uri", "value": iri}],
    }
    if count is not None:
        org["package_count"] = count
    return org


def _group(index: CatalogueIndex, iri: str, count: int | None = None) -> dict:
    group = {**_organisation(index, iri, count), "type": "group", "is_organization": False}
    return group


def _format(document: Document, distribution: str) -> tuple[str, str | None]:
    code = next((i for i in document.iris(DCT["format"], distribution) if i.startswith(EU_FILE_TYPE)), None)
    media = next((i for i in document.iris(DCAT.mediaType, distribution) if i.startswith(IANA)), None)
    media_type = media[len(IANA) :] if media else None
    return (code[len(EU_FILE_TYPE) :] if code else (media_type or "")), media_type


def _resource(document: Document, package_id: str, distribution: str, position: int) -> dict:
    fmt, media_type = _format(document, distribution)
    download = document.iris(DCAT.downloadURL, distribution)
    access = document.iris(DCAT.accessURL, distribution)
    size = document.text(DCAT.byteSize, distribution)
    checksum = document.iris(SPDX.checksum, distribution)
    digest = document.text(SPDX.checksumValue, checksum[0]) if checksum else None
    return {
        "id": _uuid(distribution),
        "package_id": package_id,
        "name": document.text(DCT.title, distribution) or fmt or _key(distribution),
        "description": document.text(DCT.description, distribution) or "",
        "url": (download or access or [""])[0],
        "format": fmt,
        "mimetype": media_type,
        "size": int(size) if size and size.isdigit() else None,
        "hash": digest or "",
        "created": document.text(DCT.issued, distribution),
        "last_modified": document.text(DCT.modified, distribution),
        "state": "active",
        "position": position,
        "url_type": None,
        "resource_type": None,
        "uri": distribution,
    }


def package(current: Snapshot, index: CatalogueIndex, record: dict) -> dict:
    """One dataset the caller may read as a CKAN package dict (``private`` unless it is public)."""
    iri = record["iri"]
    document = dataset_document(current, iri, caller().visibility)
    package_id = _uuid(iri)
    licence = record.get("licence")
    licence_code = licence[len(EU_LICENCE) :] if licence and licence.startswith(EU_LICENCE) else licence
    publisher = record.get("publisher")
    organisation = _organisation(index, publisher) if publisher else None
    groups = [_group(index, t) for t in record.get("themes", []) if t.startswith(f"{current.uris.base}/theme/")]
    keywords = document.texts(DCAT.keyword)
    distributions = sorted(document.iris(DCAT.distribution))
    contact = document.iris(DCAT.contactPoint)
    email = (
        next((m[7:] for m in document.iris(VCARD.hasEmail, contact[0]) if m.startswith("mailto:")), None)
        if contact
        else None
    )
    extras = [{"key": "uri", "value": iri}]
    for key, value in (
        ("identifier", document.text(DCT.identifier)),
        ("access_rights", record.get("access")),
        ("frequency", record.get("frequency")),
        ("status", record.get("status")),
    ):
        if value:
            extras.append({"key": key, "value": value})
    extras += [{"key": "spatial_uri", "value": b} for b in record.get("boroughs", [])[:1]]
    issued = record.get("issued") or current.manifest.published_at
    return {
        "id": package_id,
        "name": _key(iri),
        "title": record.get("title") or "",
        "notes": record.get("description") or "",
        "url": (document.iris(DCAT.landingPage) or [""])[0],
        "type": "dataset",
        "state": "active",
        "private": bool(record.get("access")) and not record["access"].endswith("/PUBLIC"),
        "metadata_created": issued,
        "metadata_modified": record.get("modified") or issued,
        "license_id": licence_code or "notspecified",
        "license_title": (index.label(licence) if licence else None) or licence_code or "License not specified",
        "license_url": licence or "",
        "isopen": bool(licence_code in OPEN_LICENCES),
        "owner_org": organisation["id"] if organisation else None,
        "organization": organisation,
        "groups": groups,
        "tags": [{"name": k, "display_name": k, "state": "active", "vocabulary_id": None} for k in keywords],
        "num_tags": len(keywords),
        "resources": [_resource(document, package_id, d, n) for n, d in enumerate(distributions)],
        "num_resources": len(distributions),
        "extras": extras,
        "author": None,
        "author_email": None,
        "maintainer": document.text(VCARD.fn, contact[0]) if contact else None,
        "maintainer_email": email,
        "version": None,
    }


# -- actions ----------------------------------------------------------------------------------------------

_uuid_maps: dict[str, dict[str, str]] = {}
_uuid_lock = threading.Lock()


def _by_uuid(current: Snapshot, index: CatalogueIndex, wanted: str) -> str | None:
    """A dataset IRI by its package id (UUIDs of every IRI, made once per generation per worker)."""
    key = str(current.directory)
    with _uuid_lock:
        mapping = _uuid_maps.get(key)
        if mapping is None:
            _uuid_maps.clear()
            rows = index.db.execute("SELECT iri FROM datasets")
            mapping = _uuid_maps[key] = {_uuid(row[0]): row[0] for row in rows}
    return mapping.get(wanted)


def _find(current: Snapshot, index: CatalogueIndex, ident: str) -> dict | None:
    ident = ident.strip()
    if not ident or len(ident) > 2000:
        return None
    visibility = caller().visibility
    if ident.startswith(("http://", "https://")):
        return index.dataset(ident, visibility)
    found = index.dataset(current.uris.dataset(ident), visibility)
    if found is None and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", ident):
        iri = _by_uuid(current, index, ident) or next(
            (r["iri"] for r in index.hidden(visibility) if _uuid(r["iri"]) == ident), None
        )
        found = index.dataset(iri, visibility) if iri else None
    return found


def package_show(params: dict) -> dict:
    ident = params.get("id") or params.get("name_or_id")
    if not isinstance(ident, str) or not ident.strip():
        raise ApiError(409, "Validation Error", "id is missing", {"id": "Missing value"})
    current = snapshot()
    index = catalogue_index(current)
    record = _find(current, index, ident)
    if record is None:
        raise ApiError(404, "Not Found Error", "Not found")
    return package(current, index, record)


def package_list(params: dict) -> list[str]:
    limit = _integer(params, "limit", 0, 0)
    offset = _integer(params, "offset", 0, 0)
    index = catalogue_index()
    sql = "SELECT iri FROM datasets ORDER BY slug"
    args: tuple = ()
    if limit:
        sql += " LIMIT ? OFFSET ?"
        args = (limit, offset)
    elif offset:
        sql += " LIMIT -1 OFFSET ?"
        args = (offset,)
    return [_key(row[0]) for row in index.db.execute(sql, args)]


def _facet_list(params: dict, facet: str, make) -> list:
    index = catalogue_index()
    counts = dict(index.facet_counts(facet))
    base = settings().base
    if facet == "theme":
        counts = {iri: n for iri, n in counts.items() if iri.startswith(f"{base}/theme/")}
    wanted = params.get("organizations") or params.get("groups")
    if isinstance(wanted, str):
        wanted = [w.strip() for w in wanted.split(",") if w.strip()]
    entries = [make(index, iri, n) for iri, n in counts.items()]
    if wanted:
        entries = [e for e in entries if e["name"] in wanted]
    sort = str(params.get("sort") or "name asc").strip().lower()
    if sort.startswith("package_count"):
        entries.sort(key=lambda e: (-e["package_count"], e["name"]))
    elif sort.startswith(("name", "title")):
        field = "name" if sort.startswith("name") else "title"
        entries.sort(key=lambda e: e[field].lower(), reverse=sort.endswith("desc"))
    else:
        raise ApiError(409, "Validation Error", f"cannot sort by {sort[:50]!r}", {"sort": "Unknown sort"})
    offset = _integer(params, "offset", 0, 0)
    limit = _integer(params, "limit", len(entries), 0)
    entries = entries[offset : offset + limit]
    if _flag(params, "all_fields"):
        return entries
    return [e["name"] for e in entries]


def organization_list(params: dict) -> list:
    return _facet_list(params, "publisher", _organisation)


def group_list(params: dict) -> list:
    return _facet_list(params, "theme", _group)


def status_show(_params: dict) -> dict:
    current = snapshot()
    return {
        "site_title": "Data for London",
        "site_description": "London's data, all in one place: the catalogue of the GLA, TfL, the boroughs and more.",
        "site_url": settings().base,
        "ckan_version": CKAN_VERSION,
        "error_emails_to": None,
        "locale_default": "en",
        "extensions": ["dcat", "dfl_read_only_api"],
        "dfl_generation": current.generation,
        "dfl_published_at": current.manifest.published_at,
    }


def parse_fq(fq: str) -> tuple[dict[str, list[str]], list[str]]:
    """CKAN filter queries (``organization:gla groups:"transport"``) -> search facet filters and extra
    text terms (``tags:`` and ``name:``); anything else is a Search Query Error."""
    filters: dict[str, list[str]] = {}
    terms: list[str] = []
    position = 0
    text = fq.strip()
    while position < len(text):
        match = _FQ_TERM.match(text, position)
        if match is None:
            raise ApiError(
                409, "Search Query Error", f"Search error: cannot read fq at {text[position : position + 40]!r}"
            )
        field, value = match.group(1), match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
        if field in FQ_FACETS:
            filters.setdefault(FQ_FACETS[field], []).append(value)
        elif field in ("tags", "name", "title", "text"):
            terms.append(f'"{value}"')
        elif (field in ("dataset_type", "type") and value == "dataset") or (field == "state" and value == "active"):
            continue
        else:
            raise ApiError(409, "Search Query Error", f"Search error: fq field {field!r} is not supported")
    return filters, terms


def package_search(params: dict) -> dict:
    from dfl_graph.search.index import SearchRequest, search_index, search_index_for
    from dfl_graph.search.query import QueryError

    rows = _integer(params, "rows", DEFAULT_ROWS, 0, MAX_ROWS)
    start = _integer(params, "start", 0, 0)
    q = params.get("q") or ""
    if not isinstance(q, str):
        raise ApiError(409, "Validation Error", "q must be a string", {"q": "Must be a string"})
    q = "" if q.strip() in ("*:*", "*") else q
    filters, terms = parse_fq(str(params.get("fq") or ""))
    q = " ".join(part for part in (q, *terms) if part)
    sort_param = str(params.get("sort") or "score desc, metadata_modified desc").strip().lower()
    sort = SORTS.get(re.sub(r"\s+", " ", sort_param))
    if sort is None:
        raise ApiError(409, "Search Query Error", f"Search error: cannot sort by {sort_param[:60]!r}")
    current = snapshot()
    index = catalogue_index(current)
    visibility = caller().visibility
    search, restriction = search_index(current), None
    if _flag(params, "include_private"):  # as CKAN: ignored for callers who may see nothing private
        search, restriction = search_index_for(current, visibility)
    records: list[dict] = []
    total = 0
    first_page = start // SEARCH_PAGE + 1
    last_page = (start + max(rows, 1) - 1) // SEARCH_PAGE + 1
    hits = []
    try:
        for page in range(first_page, last_page + 1):
            result = search.search(
                SearchRequest(
                    q=q,
                    filters={f: tuple(v) for f, v in filters.items()},
                    sort=sort,
                    page=page,
                    per_page=SEARCH_PAGE,
                    facets=False,
                ),
                restriction,
            )
            total = result.total
            hits.extend(result.hits)
            if len(result.hits) < SEARCH_PAGE:
                break
    except QueryError as error:
        raise ApiError(409, "Search Query Error", f"Search error: {error}") from None
    skip = start - (first_page - 1) * SEARCH_PAGE
    for hit in hits[skip : skip + rows]:
        record = index.dataset(hit.iri, visibility)
        if record is not None:
            records.append(package(current, index, record))
    return {"count": total, "sort": sort_param, "facets": {}, "search_facets": {}, "results": records}


HANDLERS = {
    "package_search": package_search,
    "package_show": package_show,
    "package_list": package_list,
    "organization_list": organization_list,
    "group_list": group_list,
    "status_show": status_show,
}

__all__ = ["blueprint", "package", "parse_fq"]
