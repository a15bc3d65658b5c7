"""Indexes derived from the store in the same publish step that changes it.

The store is the source of truth; pages, feeds and search read these instead of sorting and
grouping the whole catalogue with SPARQL on every request. Each builder writes its own file in the
generation's ``indexes/`` folder. :data:`BUILDERS` run in the order listed, so later builders can read
earlier ones; :data:`CONCURRENT_BUILDERS` read only the store and run alongside them in a thread (the SPARQL
store is mostly a bulk load, which releases the GIL, while the others are Python).
"""

from __future__ import annotations

from dfl_graph.harvest.state import build_harvest_state
from dfl_graph.indexes.catalogue import build_catalogue_index
from dfl_graph.search.build import build_search_index
from dfl_graph.sparql.shape_index import build_sparql_indexes

BUILDERS = [build_catalogue_index, build_search_index, build_harvest_state]
CONCURRENT_BUILDERS = [build_sparql_indexes]
