"""Error responses that say what went wrong, in the format the client asked for.

A view that has negotiated a format records it (``g.dfl_format``); a 404 for ``/dataset/x.ttl`` is then
Turtle (an empty graph with a comment), for JSON clients a JSON object, for browsers an HTML page in
the site layout. Anything unexpected is logged and answered 500 in the same way, never as a bare
traceback; a catalogue not yet published is a 503.
"""

from __future__ import annotations

import json
from html import escape

from flask import Blueprint, Response, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from dfl_graph.store import StoreError
from dfl_graph.web.negotiation import HTML, JSON, JSON_LD, N_QUADS, N_TRIPLES, RDF_XML, RESOURCE_FORMATS, TURTLE, Format
from dfl_graph.web.negotiation import choose as choose_format

blueprint = Blueprint("errors", __name__)


def error_format() -> Format | None:
    """The format to answer an error in: the one the view chose, else what the request asks for."""
    chosen = getattr(g, "dfl_format", None)
    if chosen is not None:
        return chosen
    suffix = request.path.rsplit("/", 1)[-1].rpartition(".")[2] if "." in request.path.rsplit("/", 1)[-1] else None
    try:
        if suffix and suffix.lower() in {f.name for f in (*RESOURCE_FORMATS, N_QUADS)}:
            return choose_format(suffix.lower(), None, None, (*RESOURCE_FORMATS, N_QUADS))[0]
        return choose_format(None, None, request.headers.get("Accept"), RESOURCE_FORMATS)[0]
    except HTTPException:
        return None  # nothing acceptable, or a malformed Accept: plain text


def _comment(text: str) -> str:
    return " ".join(text.split())


def error_body(
    status: int, title: str, message: str, fmt: Format | None, available: tuple[Format, ...] = ()
) -> tuple[bytes, str]:
    """(body, content type) of an error in one format."""
    listing = [{"format": f.name, "mediaType": f.media_type} for f in available]
    if fmt == HTML:
        html = render_template("error.html", status=status, title=title, message=message, available=available)
        return html.encode(), HTML.content_type
    if fmt in (JSON, JSON_LD):
        error: dict = {"status": status, "title": title, "message": message}
        if listing:
            error["available"] = listing
        return json.dumps({"error": error}, ensure_ascii=False, indent=1).encode(), fmt.content_type
    if fmt in (TURTLE, N_TRIPLES, N_QUADS):
        return f"# {status} {title}: {_comment(message)}\n".encode(), fmt.content_type
    if fmt == RDF_XML:
        comment = _comment(message).replace("--", "- -")
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f"<!-- {status} {escape(title)}: {escape(comment)} -->\n"
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n'
        )
        return body.encode(), fmt.content_type
    lines = [f"{status} {title}", "", message]
    if available:
        lines += ["", "Available representations:"] + [f"  {f.media_type}  (suffix .{f.name})" for f in available]
    return ("\n".join(lines) + "\n").encode(), "text/plain; charset=utf-8"


def render_error(error: HTTPException) -> Response:
    status = error.code or 500
    available = getattr(error, "available", ()) or ()
    fmt = None if status == 406 else error_format()
    title = error.name
    message = error.description or title
    body, content_type = error_body(status, title, message, fmt, available)
    response = Response(body, status=status, content_type=content_type)
    if fmt is not None and fmt != HTML:
        response.headers["Access-Control-Allow-Origin"] = "*"
    for key, value in error.get_headers():
        if key.lower() not in ("content-type", "content-length"):
            response.headers[key] = value
    if request.method == "HEAD":
        response.set_data(b"")
    return response


@blueprint.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    return render_error(error)


@blueprint.app_errorhandler(StoreError)
def store_unavailable(error: StoreError) -> Response:
    return render_error(ServiceUnavailable(str(error)))


@blueprint.app_errorhandler(Exception)
def unexpected_error(error: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(InternalServerError("Something went wrong on our side; it has been logged."))


__all__ = ["blueprint", "error_body", "render_error"]
