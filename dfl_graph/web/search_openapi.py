"""The Library's search API as OpenAPI 3 operations, for ``/api/openapi.json`` (which also lists the named
queries and the SPARQL endpoint): ``/api/search`` (GET and POST), its twins ``/search.json`` and
``/search.atom``, and the site feed ``/feed.atom``. Parameter names and limits come from the code that
reads them, so the document cannot drift from the API."""

from __future__ import annotations

from dfl_graph.search.facets import FACETS
from dfl_graph.search.index import MAX_PER_PAGE, SORTS
from dfl_graph.search.query import MAX_QUERY_CHARS

TEXT = {"type": "string"}


def _parameter(name: str, description: str, schema: dict, repeated: bool = False) -> dict:
    if repeated:
        schema = {"type": "array", "items": schema}
    found = {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
    if repeated:
        found.update(style="form", explode=True)
    return found


def search_parameters() -> list[dict]:
    facets = [
        _parameter(
            f.name,
            f"Only datasets with this {f.label.lower()} (a key, an IRI or a name; repeat for any of several). "
            "'not-stated' selects the datasets that state none.",
            {"type": "string"},
            repeated=True,
        )
        for f in FACETS
    ]
    return [
        _parameter(
            "q",
            'What to look for: words (all of them), "a phrase", prefix*, -excluded, a OR b. Stemmed, with London '
            "synonyms; unknown words are corrected from the catalogue's vocabulary (spell=0 turns that off); a "
            "query matching nothing is answered with partial matches (query.partial says so).",
            {"type": "string", "maxLength": MAX_QUERY_CHARS},
        ),
        *facets,
        _parameter(
            "sort",
            "relevance (the default with q), updated (newest first; the default without q) or title.",
            {"type": "string", "enum": list(SORTS)},
        ),
        _parameter("page", "Page of results, from 1.", {"type": "integer", "minimum": 1, "default": 1}),
        _parameter(
            "per_page", "Results per page.", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20}
        ),
        _parameter("series", "Only the editions of one series (results[].series.id), newest first.", TEXT),
        _parameter("group", "0: list every edition of a series (default 1: one result per series).", TEXT),
        _parameter("spell", "0: do not correct unknown words.", TEXT),
    ]


SEARCH_RESULT = {
    "type": "object",
    "description": "The search as understood, the total, one page of results and the facet counts "
    "(see docs/library.md, 'The JSON API').",
    "properties": {
        "query": {"type": "object"},
        "total": {"type": "integer", "description": "Datasets matching."},
        "results_grouped": {
            "type": "integer",
            "nullable": True,
            "description": "Rows of the ranking when editions of a series are shown as one.",
        },
        "results_estimated": {"type": "boolean"},
        "pages": {"type": "integer"},
        "exhaustive_ranking": {"type": "boolean"},
        "notices": {"type": "array", "items": {"type": "string"}},
        "results": {"type": "array", "items": {"type": "object"}},
        "facets": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "object"}}},
        "links": {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}},
    },
}


def search_paths() -> dict:
    """The OpenAPI path items of the search API."""
    parameters = search_parameters()
    errors = {"400": {"description": "A parameter that makes no sense: the message says which and why."}}
    json_result = {"200": {"description": "The results.", "content": {"application/json": {"schema": SEARCH_RESULT}}}}
    atom = {"200": {"description": "An Atom 1.0 feed.", "content": {"application/atom+xml": {"schema": TEXT}}}}
    return {
        "/api/search": {
            "get": {
                "operationId": "searchDatasets",
                "summary": "Search the catalogue's datasets",
                "tags": ["search"],
                "parameters": parameters,
                "responses": {**json_result, **errors},
            },
            "post": {
                "operationId": "searchDatasetsPost",
                "summary": "Search by POST (for queries too long for a URL): the same parameters as a form or JSON",
                "tags": ["search"],
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                    }
                },
                "responses": {**json_result, **errors},
            },
        },
        "/search.json": {
            "get": {
                "operationId": "searchDatasetsJson",
                "summary": "The search page's JSON twin (the same document as /api/search)",
                "tags": ["search"],
                "parameters": parameters,
                "responses": {**json_result, **errors},
            }
        },
        "/search.atom": {
            "get": {
                "operationId": "searchFeed",
                "summary": "New and changed datasets matching a search, newest first (Atom)",
                "tags": ["search", "feeds"],
                "parameters": [p for p in parameters if p["name"] not in ("sort", "page", "per_page", "group")],
                "responses": {**atom, **errors},
            }
        },
        "/feed.atom": {
            "get": {
                "operationId": "catalogueFeed",
                "summary": "New and changed datasets of the whole catalogue, newest first (Atom)",
                "tags": ["feeds"],
                "responses": atom,
            }
        },
    }


__all__ = ["search_parameters", "search_paths"]
