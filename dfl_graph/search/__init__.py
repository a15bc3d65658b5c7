"""The Library's search: an SQLite FTS5 index derived from the catalogue index at every publish.

:mod:`~dfl_graph.search.build` writes it, :mod:`~dfl_graph.search.index` reads it,
:mod:`~dfl_graph.search.query` parses what people type, :mod:`~dfl_graph.search.facets` says what
the facets are. See docs/library.md.
"""

from __future__ import annotations

from dfl_graph.search.build import build_search_index
from dfl_graph.search.index import SearchIndex, SearchRequest, SearchResult, search_index
from dfl_graph.search.query import QueryError, parse_query

__all__ = [
    "QueryError",
    "SearchIndex",
    "SearchRequest",
    "SearchResult",
    "build_search_index",
    "parse_query",
    "search_index",
]
