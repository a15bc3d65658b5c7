"""Named queries as an API: ``/api/queries``, ``/api/queries/{name}?param=…`` and ``/api/openapi.json``.

Each ``queries/*.rq`` (with its ``# @title`` / ``# @description`` / ``# @param`` header, see
:mod:`dfl_graph.queries`) is an API operation. Request parameters are bound to the query's variables as
RDF terms (pyoxigraph substitutions), never pasted into the text, and the query runs through the same
service as ``/sparql``: public graphs only, time limit, caps, cache. SELECT results come as plain JSON
rows (``{"columns": [...], "rows": [{...}], "truncated": null}``) or CSV; SPARQL JSON/XML and TSV too.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import BadRequest

from dfl_graph.queries import NamedQuery, Parameter, named_queries
from dfl_graph.sparql.dataset import public_dataset
from dfl_graph.sparql.formats import CSV, JSON, JSON_LD, N_TRIPLES, RDF_XML, ROWS_JSON, TSV, TURTLE, XML, ResultFormat
from dfl_graph.sparql.inspection import inspect
from dfl_graph.sparql.pool import QueryFailure
from dfl_graph.sparql.service import Answer, service_for
from dfl_graph.store import StoreError
from dfl_graph.web.access import settings, snapshot
from dfl_graph.web.accounts import caller
from dfl_graph.web.negotiation import parse_accept
from dfl_graph.web.search_openapi import search_paths
from dfl_graph.web.sparql import caller_graphs

blueprint = Blueprint("named_queries", __name__)

# What a named query's result can be returned as, by kind; the first is the default.
API_OFFERS: dict[str, list[tuple[str, ResultFormat]]] = {
    "solutions": [
        ("application/json", ROWS_JSON),
        ("text/csv", CSV),
        (JSON.media_type, JSON),
        (XML.media_type, XML),
        (TSV.media_type, TSV),
    ],
    "boolean": [("application/json", JSON), (JSON.media_type, JSON), (XML.media_type, XML)],
    "graph": [
        ("application/ld+json", JSON_LD),
        ("application/json", JSON_LD),
        (TURTLE.media_type, TURTLE),
        (RDF_XML.media_type, RDF_XML),
        (N_TRIPLES.media_type, N_TRIPLES),
    ],
}
API_FORMAT_NAMES = {
    "solutions": {"json": ROWS_JSON, "csv": CSV, "sparql-json": JSON, "xml": XML, "tsv": TSV},
    "boolean": {"json": JSON, "sparql-json": JSON, "xml": XML},
    "graph": {"json": JSON_LD, "jsonld": JSON_LD, "turtle": TURTLE, "ttl": TURTLE, "rdfxml": RDF_XML, "nt": N_TRIPLES},
}
RESERVED = {"format"}
KIND_OF_FORM = {"SELECT": "solutions", "ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph"}


def api_error(status: int, message: str, retry_after: int | None = None) -> Response:
    response = jsonify(error={"status": status, "message": message})
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _base() -> str:
    return settings().uris.base


def _default(parameter: Parameter) -> str | None:
    return parameter.default.replace("{base}", _base()) if parameter.default is not None else None


def _describe_parameter(parameter: Parameter) -> dict:
    return {
        "name": parameter.name,
        "type": parameter.type,
        "required": parameter.required,
        "default": _default(parameter),
        "description": parameter.description.replace("{base}", _base()),
    }


def _kind(query: NamedQuery) -> str:
    return inspect(query.text).kind or "solutions"


def _describe_query(query: NamedQuery) -> dict:
    url = f"{_base()}/api/queries/{query.name}"
    kind = _kind(query)
    return {
        "name": query.name,
        "title": query.title,
        "description": query.description.replace("{base}", _base()),
        "parameters": [_describe_parameter(p) for p in query.parameters],
        "result": kind,
        "url": url,
        "formats": {name: fmt.media_type for name, fmt in API_FORMAT_NAMES[kind].items()},
    }


@blueprint.after_request
def _cors(response: Response) -> Response:
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault(
        "Access-Control-Expose-Headers", "X-DFL-Truncated, X-DFL-Generation, X-DFL-Cache, X-DFL-Answered-By"
    )
    return response


@blueprint.get("/api/queries")
def listing() -> Response:
    queries = [_describe_query(q) for q in named_queries().values()]
    return jsonify(queries=queries, openapi=f"{_base()}/api/openapi.json", sparql=f"{_base()}/sparql")


def _choose_format(kind: str) -> ResultFormat:
    name = request.args.get("format")
    if name:
        chosen = API_FORMAT_NAMES[kind].get(name.lower())
        if chosen is None:
            known = ", ".join(API_FORMAT_NAMES[kind])
            raise QueryFailure(406, f"format={name!r} is not available for this query; use one of {known}")
        return chosen
    accept = parse_accept(request.headers.get("Accept")) or MIMEAccept()
    offers = API_OFFERS[kind]
    if not accept:
        return offers[0][1]
    best = accept.best_match([m for m, _ in offers])
    if best is None:
        known = ", ".join(dict.fromkeys(m for m, _ in offers))
        raise QueryFailure(406, f"cannot answer Accept: {accept}; this query's results are available as {known}")
    return next(f for m, f in offers if m == best)


@blueprint.get("/api/queries/<name>")
def run(name: str) -> Response:
    query = named_queries().get(name)
    if query is None:
        return api_error(404, f"there is no named query {name!r}; see {_base()}/api/queries")
    values: dict[str, str] = {}
    for key in request.args:
        if key in RESERVED:
            continue
        given = request.args.getlist(key)
        if len(given) > 1:
            return api_error(400, f"parameter {key!r} is given {len(given)} times; give it once")
        values[key] = given[0]
    try:
        substitutions = query.substitutions(values, base=_base())
    except ValueError as error:
        return api_error(400, str(error))
    shape = inspect(query.text)
    kind = shape.kind or "solutions"
    service = service_for(current_app)
    try:
        fmt = _choose_format(kind)
        current = snapshot()
        dataset = public_dataset(shape, [], [], caller_graphs(current))
        answer = service.answer(
            current,
            query.text,
            dataset,
            {kind: fmt},
            substitutions=substitutions,
            base_iri=f"{_base()}/",
            audience=caller().visibility.cache_key,
        )
    except BadRequest as error:
        return api_error(400, error.description or "malformed request")
    except StoreError as error:
        return api_error(503, str(error), retry_after=30)
    except QueryFailure as error:
        return api_error(error.status, error.message, error.retry_after)
    return _response(answer, service.limits)


def _response(answer: Answer, limits) -> Response:
    response = Response(answer.body, content_type=answer.fmt.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(answer.length)
    response.headers["ETag"] = f'"{answer.etag}"'
    response.headers["Vary"] = "Accept"
    response.headers["X-DFL-Generation"] = str(answer.generation)
    response.headers["X-DFL-Cache"] = "hit" if answer.cached else "miss"
    response.headers["X-DFL-Answered-By"] = answer.header.get("answered_by", "engine")
    if answer.truncated == "rows":
        response.headers["X-DFL-Truncated"] = f"rows; limit={limits.max_rows}"
    elif answer.truncated == "bytes":
        response.headers["X-DFL-Truncated"] = f"bytes; limit={limits.max_bytes}"
    return response


# -- OpenAPI ---------------------------------------------------------------------------------------
_SCHEMAS = {
    "iri": {"type": "string", "format": "uri"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
    "dateTime": {"type": "string", "format": "date-time"},
    "boolean": {"type": "boolean"},
}


def _schema(parameter: Parameter) -> dict:
    schema = dict(_SCHEMAS[parameter.type])
    if parameter.default is not None:
        default: object = _default(parameter)
        if parameter.type == "integer":
            default = int(parameter.default)
        elif parameter.type == "boolean":
            default = parameter.default == "true"
        schema["default"] = default
    return schema


def _error_responses() -> dict:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "400": {
            "description": "A parameter is missing or not valid (the message says which and why).",
            "content": error,
        },
        "406": {"description": "No acceptable format for this result.", "content": error},
        "503": {
            "description": "The endpoint is busy (see Retry-After) or the catalogue is unavailable.",
            "content": error,
        },
        "504": {"description": "The query ran past the endpoint's time limit.", "content": error},
    }


def _operation(query: NamedQuery) -> dict:
    kind = _kind(query)
    content: dict = {}
    for media_type, fmt in API_OFFERS[kind]:
        if media_type in content:
            continue
        if fmt == ROWS_JSON:
            content[media_type] = {"schema": {"$ref": "#/components/schemas/Rows"}}
        else:
            content[media_type] = {"schema": {"type": "string"}}
    parameters = [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": p.description.replace("{base}", _base()),
            "schema": _schema(p),
        }
        for p in query.parameters
    ]
    parameters.append(
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "The result format, instead of the Accept header.",
            "schema": {"type": "string", "enum": list(API_FORMAT_NAMES[kind])},
        }
    )
    return {
        "get": {
            "operationId": "".join(w.capitalize() if i else w for i, w in enumerate(query.name.split("-"))),
            "summary": query.title,
            "description": query.description.replace("{base}", _base()),
            "tags": ["named queries"],
            "parameters": parameters,
            "responses": {
                "200": {
                    "description": f"The {'rows' if kind == 'solutions' else kind} of the query.",
                    "headers": {
                        "X-DFL-Truncated": {
                            "description": "Present when a result cap cut the result short: 'rows; limit=N' or "
                            "'bytes; limit=N'.",
                            "schema": {"type": "string"},
                        }
                    },
                    "content": content,
                },
                **_error_responses(),
            },
        }
    }


def openapi_document() -> dict:
    paths: dict = {
        "/api/queries": {
            "get": {
                "operationId": "listQueries",
                "summary": "The named queries",
                "description": "Every named query with its title, description and parameters.",
                "tags": ["named queries"],
                "responses": {
                    "200": {"description": "The list.", "content": {"application/json": {"schema": {"type": "object"}}}}
                },
            }
        }
    }
    for query in named_queries().values():
        paths[f"/api/queries/{query.name}"] = _operation(query)
    paths.update(search_paths())  # the Library's search API (dfl_graph/web/search_openapi.py)
    sparql_parameters = [
        {
            "name": "query",
            "in": "query",
            "required": False,
            "description": "A SPARQL 1.1 query.",
            "schema": {"type": "string"},
        },
        {
            "name": "default-graph-uri",
            "in": "query",
            "required": False,
            "description": "A default graph (repeatable).",
            "schema": {"type": "string", "format": "uri"},
        },
        {
            "name": "named-graph-uri",
            "in": "query",
            "required": False,
            "description": "A named graph (repeatable).",
            "schema": {"type": "string", "format": "uri"},
        },
    ]
    paths["/sparql"] = {
        "get": {
            "operationId": "sparqlQuery",
            "summary": "SPARQL 1.1 Protocol query (without a query: the service description)",
            "tags": ["SPARQL"],
            "parameters": sparql_parameters,
            "responses": {"200": {"description": "Query results or the service description."}, **_error_responses()},
        },
        "post": {
            "operationId": "sparqlQueryPost",
            "summary": "SPARQL 1.1 Protocol query by POST (form or application/sparql-query)",
            "tags": ["SPARQL"],
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}
                    },
                    "application/sparql-query": {"schema": {"type": "string"}},
                }
            },
            "responses": {"200": {"description": "Query results."}, **_error_responses()},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Data for London API: search, named queries, SPARQL",
            "version": "1",
            "description": "The catalogue's named SPARQL queries (queries/*.rq) as an API, and the SPARQL endpoint "
            "they run on. Parameters are bound as RDF terms; results are capped and the cap is flagged.",
        },
        "servers": [{"url": _base()}],
        "paths": paths,
        "components": {
            "schemas": {
                "Rows": {
                    "type": "object",
                    "properties": {
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "rows": {"type": "array", "items": {"type": "object"}},
                        "truncated": {"type": "string", "nullable": True, "enum": ["rows", "bytes", None]},
                    },
                    "required": ["columns", "rows", "truncated"],
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
                        }
                    },
                },
            }
        },
    }


@blueprint.get("/api/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
