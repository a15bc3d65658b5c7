"""Reading a SPARQL 1.1 Protocol request: GET, POST form, POST ``application/sparql-query``.

Everything that is wrong with the request itself is a :class:`ProtocolError` with the status the protocol
(or HTTP) calls for and a message that says what to do instead. This endpoint is read-only: an update
(``update=`` or ``application/sparql-update``) is refused with 400.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
READ_ONLY = (
    "this endpoint is read-only: SPARQL Update is not accepted (send a query with the query parameter, or "
    f"POST it as {SPARQL_QUERY})"
)


class ProtocolError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class SparqlRequest:
    query: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    format: str | None = None  # the format= (or output=) parameter, for browsers and simple clients


def _single_query(values: list[str]) -> str | None:
    if len(values) > 1:
        raise ProtocolError(400, f"the request carries {len(values)} queries; send exactly one query parameter")
    return values[0] if values else None


def _check_charset(request: Request) -> None:
    charset = request.mimetype_params.get("charset")
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8", "us-ascii", "ascii"):
        raise ProtocolError(415, f"the request body must be UTF-8, not {charset}")


def _check_utf8(encoded: bytes, where: str) -> None:
    """werkzeug keeps bytes that are not UTF-8 in a form or query string as ``%FF`` text, so a query with them
    would run with the wrong characters (or fail with a confusing syntax error): refuse it, as a body that is
    not UTF-8 is refused."""
    for pair in encoded.split(b"&"):
        name, _, value = (unquote_to_bytes(part.replace(b"+", b" ")) for part in pair.partition(b"="))
        for part in (name, value):
            try:
                part.decode("utf-8")
            except UnicodeDecodeError as error:
                shown = name.decode("utf-8", "replace")
                raise ProtocolError(
                    400, f"the {where} is not valid UTF-8 (parameter {shown!r}, byte {error.start} of its value)"
                ) from None


def parse_request(request: Request, max_query_length: int) -> SparqlRequest:
    """The query, dataset and format asked for; ``query`` is None for a plain GET (no query)."""
    args: MultiDict = request.args
    _check_utf8(request.query_string, "query string")
    if request.method in ("GET", "HEAD"):
        if "update" in args:
            raise ProtocolError(400, READ_ONLY)
        query = _single_query(args.getlist("query"))
        if query is not None and len(query) > max_query_length:
            raise ProtocolError(
                414,
                f"the query is {len(query)} characters long; this endpoint accepts at most {max_query_length}",
            )
        return SparqlRequest(
            query,
            args.getlist("default-graph-uri"),
            args.getlist("named-graph-uri"),
            args.get("format") or args.get("output"),
        )
    if request.method != "POST":
        raise ProtocolError(405, f"{request.method} is not a SPARQL Protocol operation; use GET or POST")
    mimetype = request.mimetype
    if mimetype == SPARQL_UPDATE:
        raise ProtocolError(400, READ_ONLY)
    if request.content_length is not None and request.content_length > max_query_length * 4 + 4096:
        raise ProtocolError(413, f"the request body is too large; queries may be at most {max_query_length} characters")
    if mimetype == FORM:
        _check_charset(request)
        _check_utf8(request.get_data(cache=True), "form")
        form: MultiDict = request.form
        if "update" in form or "update" in args:
            raise ProtocolError(400, READ_ONLY)
        query = _single_query(form.getlist("query") + args.getlist("query"))
        if query is None:
            raise ProtocolError(400, "the form carries no query parameter")
        default = form.getlist("default-graph-uri") + args.getlist("default-graph-uri")
        named = form.getlist("named-graph-uri") + args.getlist("named-graph-uri")
        fmt = form.get("format") or form.get("output") or args.get("format") or args.get("output")
    elif mimetype == SPARQL_QUERY:
        _check_charset(request)
        if "query" in args:
            raise ProtocolError(400, "a query was sent both in the body and as a query parameter; send one")
        try:
            query = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"the query is not valid UTF-8 (byte {error.start})") from None
        default, named = args.getlist("default-graph-uri"), args.getlist("named-graph-uri")
        fmt = args.get("format") or args.get("output")
    else:
        shown = mimetype or "no Content-Type"
        raise ProtocolError(
            415,
            f"cannot read a query from {shown}: POST it as {FORM} (query=...) or as {SPARQL_QUERY}",
        )
    if len(query) > max_query_length:
        raise ProtocolError(
            413, f"the query is {len(query)} characters long; this endpoint accepts at most {max_query_length}"
        )
    return SparqlRequest(query, default, named, fmt)
