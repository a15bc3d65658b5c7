"""``/sparql``: the public SPARQL 1.1 Protocol endpoint, its service description and its query editor.

* GET/POST with a query: the answer in the negotiated format (see :mod:`dfl_graph.sparql`);
* GET without a query: the SPARQL Service Description (Turtle, JSON-LD, RDF/XML, N-Triples), or for a
  browser (``Accept`` prefers ``text/html``) the query editor, prefilled with the examples of ``queries/``;
* a browser's GET with a query (the editor's form without JavaScript): the editor with a results table.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request
from pyoxigraph import serialize
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import BadRequest

from dfl_graph.queries import named_queries
from dfl_graph.sparql import formats as result_formats
from dfl_graph.sparql.dataset import DatasetError, check_graph_iris, public_dataset
from dfl_graph.sparql.description import limits_note, service_description
from dfl_graph.sparql.formats import JSON, OFFERS, RESULT_FORMATS, TURTLE, NotAcceptable, ResultFormat, negotiate
from dfl_graph.sparql.inspection import inspect
from dfl_graph.sparql.pool import QueryFailure
from dfl_graph.sparql.protocol import ProtocolError, parse_request
from dfl_graph.sparql.serializers import RDF_FORMATS
from dfl_graph.sparql.service import Answer, QueryService, service_for
from dfl_graph.store import Snapshot, StoreError
from dfl_graph.web.access import snapshot
from dfl_graph.web.accounts import caller
from dfl_graph.web.negotiation import parse_accept

blueprint = Blueprint("sparql", __name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
EXPOSED = "X-DFL-Truncated, X-DFL-Result-Rows, X-DFL-Generation, X-DFL-Cache, X-DFL-Answered-By, Retry-After, ETag"
HTML_ROWS = 1000  # the editor page shows at most this many rows (and HTML_BYTES of a result)
HTML_BYTES = 1_000_000


def text_error(status: int, message: str, retry_after: int | None = None, allow: str | None = None) -> Response:
    titles = {400: "Bad Request", 405: "Method Not Allowed", 406: "Not Acceptable", 413: "Payload Too Large"}
    titles |= {414: "URI Too Long", 415: "Unsupported Media Type", 503: "Service Unavailable", 504: "Query Timeout"}
    body = f"{status} {titles.get(status, 'Error')}\n\n{message}\n"
    response = Response(body, status=status, content_type="text/plain; charset=utf-8")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    if allow:
        response.headers["Allow"] = allow
    return response


def _accept() -> MIMEAccept:
    return parse_accept(request.headers.get("Accept")) or MIMEAccept()


def _prefers_html(accept: MIMEAccept, offers: list[str]) -> bool:
    if not accept:
        return False
    return accept.best_match([*offers, *HTML_TYPES]) in HTML_TYPES


def _answer_response(answer: Answer, service: QueryService) -> Response:
    fmt = answer.fmt
    response = Response(answer.body, status=200, content_type=fmt.content_type, direct_passthrough=True)
    headers = response.headers
    headers["Content-Length"] = str(answer.length)
    headers["ETag"] = f'"{answer.etag}"'
    headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    headers["Vary"] = "Accept"
    headers["X-DFL-Generation"] = str(answer.generation)
    headers["X-DFL-Cache"] = "hit" if answer.cached else "miss"
    headers["X-DFL-Answered-By"] = answer.header.get("answered_by", "engine")
    headers["X-DFL-Result-Rows"] = str(answer.header.get("rows", 0))
    if answer.truncated == "rows":
        headers["X-DFL-Truncated"] = f"rows; limit={service.limits.max_rows}"
    elif answer.truncated == "bytes":
        headers["X-DFL-Truncated"] = f"bytes; limit={service.limits.max_bytes}"
    return response


def caller_graphs(current: Snapshot) -> list[str]:
    """The graphs the caller's queries may see: the public graphs, or those its visibility adds (every dataset
    a query asks for, by FROM, FROM NAMED, GRAPH or the protocol's parameters, is intersected with them)."""
    visibility = caller().visibility
    if visibility.public_only:
        return list(current.manifest.public_graphs)
    return visibility.graphs(current.manifest.graphs)


def _negotiate_all(accept: MIMEAccept, format_param: str | None) -> tuple[dict[str, ResultFormat], dict[str, str]]:
    chosen, refused = {}, {}
    for kind in OFFERS:
        try:
            chosen[kind] = negotiate(kind, accept, format_param)
        except NotAcceptable as error:
            refused[kind] = str(error)
    return chosen, refused


@blueprint.after_request
def _cors(response: Response) -> Response:
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault("Access-Control-Expose-Headers", EXPOSED)
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


@blueprint.route("/sparql", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
@blueprint.route("/sparql/", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def endpoint() -> Response:
    if request.method not in ("GET", "POST", "HEAD"):
        return text_error(
            405, f"{request.method} is not a SPARQL Protocol operation here: use GET or POST", allow="GET, HEAD, POST"
        )
    service = service_for(current_app)
    try:
        sparql = parse_request(request, service.limits.max_query_length)
        accept = _accept()
    except ProtocolError as error:
        return text_error(error.status, error.message)
    except BadRequest as error:
        return text_error(400, error.description or "malformed Accept header")
    try:
        current = snapshot()
    except StoreError as error:
        return text_error(503, str(error), retry_after=30)
    if sparql.query is None:
        return _description(service, current, accept, sparql.format)
    html = request.method == "GET" and (
        sparql.format == "html"
        or (sparql.format is None and _prefers_html(accept, [m for m, _ in OFFERS["solutions"]]))
    )
    shape = inspect(sparql.query, service.endpoint)
    refusal = service.refusal(shape)
    try:
        if refusal is not None:
            raise refusal
        dataset = public_dataset(
            shape,
            check_graph_iris(sparql.default_graphs, "default-graph-uri"),
            check_graph_iris(sparql.named_graphs, "named-graph-uri"),
            caller_graphs(current),
        )
    except QueryFailure as error:
        return _editor(service, current, sparql.query, error=error) if html else text_error(error.status, error.message)
    except DatasetError as error:
        return text_error(400, str(error))
    if html:
        return _editor_with_results(service, current, sparql.query, dataset)
    audience = caller().visibility.cache_key
    chosen, refused = _negotiate_all(accept, sparql.format)
    kind = shape.kind
    if (kind and kind not in chosen) or not chosen:
        return text_error(406, refused.get(kind or "solutions") or next(iter(refused.values())))
    try:
        key, job = service.prepare(current, sparql.query, dataset, chosen, audience=audience)
        if request.method in ("GET", "HEAD") and request.if_none_match.contains(key):
            response = Response(status=304)
            response.headers["ETag"] = f'"{key}"'
            return response
        answer = service.run(current, key, job)
    except QueryFailure as error:
        return text_error(error.status, error.message, retry_after=error.retry_after)
    return _answer_response(answer, service)


# -- the service description ----------------------------------------------------------------------
def _description(service: QueryService, current: Snapshot, accept: MIMEAccept, format_param: str | None) -> Response:
    if format_param == "html" or (format_param is None and _prefers_html(accept, [m for m, _ in OFFERS["graph"]])):
        return _editor(service, current)
    try:
        fmt = negotiate("graph", accept, format_param)
    except NotAcceptable as error:
        return text_error(406, str(error).replace("CONSTRUCT/DESCRIBE results", "the service description"))
    triples = service_description(current, service.uris, service.limits)
    data = serialize(triples, format=RDF_FORMATS[fmt], prefixes=_sd_prefixes(service))
    response = Response(data, content_type=fmt.content_type)
    response.headers["Vary"] = "Accept"
    response.headers["X-DFL-Generation"] = str(current.generation)
    return response


def _sd_prefixes(service: QueryService) -> dict[str, str]:
    prefixes = {k: v for k, v in service.prefixes.items() if k in ("rdf", "rdfs", "xsd", "dct", "void", "sd", "dfl")}
    return {**prefixes, "formats": result_formats.FORMATS_NS, "ent": "http://www.w3.org/ns/entailment/"}


# -- the editor ------------------------------------------------------------------------------------
def _examples() -> list[dict]:
    queries = sorted(named_queries().values(), key=lambda q: (q.name.startswith("index-"), q.name))
    return [{"name": q.name, "title": q.title, "description": q.description, "text": q.text} for q in queries]


def _editor(
    service: QueryService,
    current: Snapshot,
    query: str | None = None,
    results: dict | None = None,
    error: QueryFailure | None = None,
) -> Response:
    examples = _examples()
    default = next((e for e in examples if e["name"] == "datasets-by-theme"), examples[0] if examples else None)
    html = render_template(
        "sparql.html",
        nav_active="sparql",
        query=query if query is not None else (default["text"] if default else "SELECT * WHERE { ?s ?p ?o } LIMIT 10"),
        selected=None if query is not None else (default["name"] if default else None),
        examples=examples,
        results=results,
        error=error,
        note=limits_note(service.limits),
        limits=service.limits,
        generation=current.generation,
        public_graphs=len(current.manifest.public_graphs),
    )
    response = Response(html, status=error.status if error else 200, content_type="text/html; charset=utf-8")
    response.headers["Vary"] = "Accept"
    if error is not None and error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _editor_with_results(service: QueryService, current: Snapshot, query: str, dataset) -> Response:
    """The editor with (the first part of) a query's results; the whole result is a download away."""
    formats = {"solutions": JSON, "boolean": JSON, "graph": TURTLE}
    try:
        audience = caller().visibility.cache_key
        key, job = service.prepare(current, query, dataset, formats, caps=(HTML_ROWS, HTML_BYTES), audience=audience)
        answer = service.run(current, key, job)
        body = answer.body if isinstance(answer.body, bytes) else b"".join(answer.body)
    except QueryFailure as error:
        return _editor(service, current, query, error=error)
    kind = answer.header["kind"]
    results: dict = {"kind": kind, "rows": answer.header.get("rows", 0), "cut": answer.truncated is not None}
    results["downloads"] = [
        (fmt.label, "?" + urlencode({"query": query, "format": fmt.name})) for fmt in RESULT_FORMATS[kind]
    ]
    if kind == "graph":
        results["text"] = body.decode("utf-8", "replace")
    else:
        data = json.loads(body)
        if "boolean" in data:
            results["boolean"] = data["boolean"]
        else:
            results["columns"] = data["head"]["vars"]
            results["table"] = [[b.get(v) for v in results["columns"]] for b in data["results"]["bindings"]]
    return _editor(service, current, query, results=results)
