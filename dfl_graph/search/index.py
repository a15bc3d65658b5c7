"""Searching ``indexes/search.sqlite``: ranked, faceted, paged, grouped by series, with highlighted snippets,
spelling correction and partial matches instead of an empty page.

Ranking is :mod:`dfl_graph.search.ranking` (BM25 per column, boosts, series). FTS5's own ``bm25()`` is not
used: it counts every posting of every term on each query to get its IDF, which costs 10-100 ms for
common words at a million datasets. Here the IDF comes from the ``terms`` table and term frequencies from
FTS5's ``highlight()`` of the candidate rows, so a query costs what its candidates cost:

* when a query matches at most ``candidates`` datasets (or twice the end of the page asked for), all of
  them are scored: the ranking is exact ("exhaustive");
* when it matches more, the candidates are the first ``candidates`` matches in static-rank order
  (current first, shortest titles first) among datasets matching every word in a short field (title,
  keywords, publisher, theme, borough), topped up from all matches when those do not fill the page.
  FTS5 walks its posting lists in rowid order and stops, so this costs the same for "london" as for
  "obesity".

No dead ends: a query word the index does not know is corrected from the index's vocabulary
(:mod:`~dfl_graph.search.spelling`; the result says what it searched for instead); a query of several
words that matches nothing is run again needing all but one of them, then any one (the result says it is
partial and each hit which words it lacks).

Facet counts use bitmaps (Python ints) of the datasets having each facet value, ANDed with the
bitmap of the text matches: exact counts in a few milliseconds at 100k datasets. Counts follow
the usual faceted-search rule: a facet's own selection does not narrow its own counts (so the
other values of an OR-ed facet stay visible), every other facet's selection does. Sorting by last
update or title walks an order precomputed at build time, keeping the members of the results' bitmap
(or, for few results, sorts those by their place in it): no SQL sort per request.
"""

from __future__ import annotations

import heapq
import json
import math
import re
import sqlite3
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from dfl_graph.accounts.visibility import Visibility
from dfl_graph.indexes.catalogue import FILENAME as CATALOGUE_FILENAME
from dfl_graph.namespaces import EU_ACCESS_RIGHT
from dfl_graph.quality import DIMENSION_IDS, RATINGS
from dfl_graph.search.build import ALL_FILENAME, FACET_TOKEN, FILENAME, INDEXED, LONDON_WIDE_TOKEN, SCHEMA_VERSION
from dfl_graph.search.facets import BY_NAME, FACET_NAMES, NOT_STATED
from dfl_graph.search.query import TEXT_COLUMNS, ParsedQuery, Places, QueryError, parse_query
from dfl_graph.search.ranking import Candidate, Scorer, boost, collapse, fractional_year
from dfl_graph.search.spelling import correct
from dfl_graph.search.text import MARK_CLOSE, MARK_OPEN, STEMMER, clean, scratch_index, tokens
from dfl_graph.store import Snapshot, StoreError

SORTS = ("relevance", "updated", "title")
SORT_ALIASES = {"modified": "updated", "recent": "updated", "last-modified": "updated", "rank": "relevance"}
EDITION_SORT = "edition"  # the editions of one series, newest first (the sort of a series filter)
SHORT_COLUMNS = ("title", "keywords", "publisher", "themes", "boroughs")
# candidate tiers for queries matching many datasets, narrowest first: each a list of column groups that
# must all contain the whole query
TIERS = ((("title",), ("keywords",)), (("title",),), (SHORT_COLUMNS,))
CANDIDATES = 200
MAX_CANDIDATES = 3_200  # how far grouping may look for enough distinct series to fill a page
NEWER_EDITIONS_TRIED = 8  # newer editions of a shown one checked for a match, newest first
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
SNIPPET_TOKENS = 32
# facets whose values read best in their own order rather than by count
VALUE_ORDER = {"quality": {key: i for i, (_, key, _) in enumerate(RATINGS)}}
_NONZERO = re.compile(b"[^\x00]")


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)  # facet -> keys or IRIs (OR-ed)
    sort: str | None = None  # None: relevance with a query, most recently updated without
    page: int = 1
    per_page: int = 20
    facets: bool = True  # compute facet counts
    series: str | None = None  # only the editions of this series (dfl_graph.search.series.series_id)
    group: bool = True  # show a series once (relevance order)
    spell: bool = True  # correct words the index does not know


@dataclass(frozen=True)
class FacetValue:
    facet: str
    key: str
    iri: str | None
    label: str
    count: int
    selected: bool = False

    def to_json(self) -> dict:
        return {"key": self.key, "iri": self.iri, "label": self.label, "count": self.count, "selected": self.selected}


@dataclass
class Hit:
    rowid: int
    iri: str
    record: dict
    score: float
    title_html: str
    snippet_html: str
    demoted: bool
    quality: int | None = None
    series: str = ""
    earlier: int = 0  # older editions of its series (shown grouped under it)
    later: int = 0  # newer editions of its series (that did not match)
    missing: list[str] = field(default_factory=list)  # in a partial result: the query words it lacks
    match: str | None = None  # the FTS5 expression that found it (None: listed without a text query)


@dataclass(frozen=True)
class Correction:
    """Words of the query the index did not know, and what was searched for instead."""

    original: str  # the query as typed
    corrected: str  # the query searched for
    words: dict[str, str]  # unknown word -> the word searched for


@dataclass
class SearchResult:
    request: SearchRequest
    query: ParsedQuery
    sort: str
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    selected: dict[str, list[FacetValue]]
    notices: list[str]
    exhaustive: bool  # every match was scored (the ranking is exact)
    results: int | None = None  # rows of the grouped ranking (None when not grouped)
    results_estimated: bool = False  # ``results`` is estimated from the candidates scored
    partial: int | None = None  # matches need only this many of the query's word groups
    correction: Correction | None = None

    @property
    def pages(self) -> int:
        rows = self.total if self.results is None else self.results
        return max(1, math.ceil(rows / self.per_page))


EXCLUDE = "NOT "  # marks an FTS5 expression of what must not match (no expression of ours starts so)


@dataclass(frozen=True)
class Restriction:
    """What one caller may read of the index of every dataset (``search-all.sqlite``): an FTS5 condition on
    the facet tokens of access level and publisher, the bitmap of the same datasets, and the condition said the
    other way round, as what to leave out (``None``: nothing), which is what a text search adds: FTS5 skips the
    few datasets of a rare token faster than it intersects with the many of a common one."""

    expression: str
    bitmap: int
    exclusion: str | None


class SearchIndex:
    """Read side of one generation's search index; one SQLite connection per thread."""

    def __init__(self, directory: Path, filename: str = FILENAME) -> None:
        self.path = directory / filename
        self.catalogue_path = directory / CATALOGUE_FILENAME
        # where a hit's list record is: the public datasets, or (the index of every dataset) the hidden ones too
        self.records = "catalogue.datasets" if filename == FILENAME else "temp.records"
        if not self.path.exists():
            raise StoreError(
                f"generation {directory.parent.name} has no search index (it was published before search existed): "
                "load any source again to publish a generation with one"
            )
        self._local = threading.local()
        self._lock = threading.Lock()
        self.candidates = CANDIDATES  # matches scored when a query matches more (see the module docstring)
        meta = dict(self.db.execute("SELECT key, value FROM meta"))
        if meta.get("schema") != SCHEMA_VERSION:
            raise StoreError(
                f"generation {directory.parent.name} has a search index of another version: "
                "load any source again to publish a generation with a new one"
            )
        self.documents = int(meta["documents"])
        self.max_rowid = int(meta["max_rowid"])  # rowids run 1..max_rowid, with holes after updates
        sums = json.loads(meta["length_sums"])
        self.average_lengths = {c: total / max(self.documents, 1) for c, total in zip(TEXT_COLUMNS, sums, strict=True)}
        self.updated_years: dict[str, int] = json.loads(meta.get("updated_years", "{}"))
        self.newest = fractional_year(meta.get("newest_update", ""))
        self.generation = int(meta["generation"])
        self.values: dict[int, FacetValue] = {}
        self.by_key: dict[tuple[str, str], int] = {}
        self.by_iri: dict[tuple[str, str], int] = {}
        for code, facet, key, iri, label, count in self.db.execute(
            "SELECT code, facet, key, iri, label, count FROM facet_values"
        ):
            self.values[code] = FacetValue(facet, key, iri, label, count)
            self.by_key[(facet, key.casefold())] = code
            if iri:
                self.by_iri[(facet, iri)] = code
        self.labels = {v.iri: v.label for v in self.values.values() if v.iri}
        self.aliases: dict[tuple[str, str], str] = {}
        for facet, alias, iri in self.db.execute("SELECT facet, alias, iri FROM aliases"):
            self.aliases.setdefault((facet, alias), iri)
        self.councils: dict[str, str] = dict(self.db.execute("SELECT borough, publisher FROM councils"))
        self.places = self._places()
        self._bitmaps: dict[int, int] | None = None
        self._orders: dict[str, tuple[array, array]] = {}
        self._matches: OrderedDict[str, int] = OrderedDict()
        self._everything: int | None = None
        self._demoted: bytes | None = None
        self._restrictions: dict[str, Restriction] = {}  # by Visibility.cache_key: a few per index
        self._visible_counts: dict[str, dict[str, list[FacetValue]]] = {}  # facets of all a restriction shows

    def _places(self) -> Places:
        """Every borough name (as stems) -> the token of the London-wide datasets (naming no borough and not a
        council's: see dfl_graph.search.build)."""
        return {
            tuple(STEMMER.stems(words)): LONDON_WIDE_TOKEN
            for (facet, alias), _iri in self.aliases.items()
            if facet == "borough" and (words := tokens(alias))
        }

    # -- connections -------------------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            db.execute("ATTACH DATABASE ? AS catalogue", (f"file:{self.catalogue_path}?mode=ro&immutable=1",))
            if self.records == "temp.records":
                db.execute(
                    "CREATE TEMP VIEW records AS SELECT iri, record FROM catalogue.datasets"
                    " UNION ALL SELECT iri, record FROM catalogue.hidden"
                )
            self._local.db = db
        return db

    @classmethod
    def of(cls, snapshot: Snapshot) -> SearchIndex:
        return cls(snapshot.index_dir)

    # -- facet values --------------------------------------------------------------------------------
    def bitmaps(self) -> dict[int, int]:
        if self._bitmaps is None:
            with self._lock:
                if self._bitmaps is None:
                    bitmaps = {
                        code: int.from_bytes(bits, "little")
                        for code, bits in self.db.execute("SELECT code, bitmap FROM facet_values")
                    }
                    statuses = {code: bitmaps[code] for code, v in self.values.items() if v.facet == "status"}
                    everything = demoted = 0
                    for code, bitmap in statuses.items():
                        everything |= bitmap  # every dataset has exactly one status
                        if self.values[code].key != "current":
                            demoted |= bitmap
                    self._everything = everything
                    self._demoted = demoted.to_bytes(self.max_rowid // 8 + 1, "little")
                    self._bitmaps = bitmaps
        return self._bitmaps

    @property
    def everything(self) -> int:
        """Bitmap of every dataset in the index."""
        self.bitmaps()
        return self._everything  # type: ignore[return-value]

    def demoted(self, rowid: int) -> bool:
        """Whether a dataset is archived or superseded (listed after the current ones)."""
        self.bitmaps()
        return bool(self._demoted[rowid >> 3] >> (rowid & 7) & 1)  # type: ignore[index]

    @staticmethod
    def _value_order(value: FacetValue) -> tuple:
        """How a facet's values are listed: by count (years newest first, ratings best first), "not stated" last."""
        last = value.key == NOT_STATED
        if value.facet == "year":
            return (last, "" if last else f"{9999 - int(value.key):04d}")
        order = VALUE_ORDER.get(value.facet)
        if order is not None:
            return (last, order.get(value.key, len(order)))
        return (last, -value.count, value.label.casefold())

    def facet_values(self, facet: str) -> list[FacetValue]:
        """Every value of a facet over the whole catalogue, in its listing order."""
        return sorted((v for v in self.values.values() if v.facet == facet and v.count), key=self._value_order)

    def value(self, facet: str, key_or_iri: str) -> FacetValue | None:
        code = self.code(facet, key_or_iri)
        return self.values[code] if code else None

    def code(self, facet: str, key_or_iri: str) -> int | None:
        """A facet value by key, IRI or (publishers and boroughs) any of their names, case-insensitive."""
        found = self.by_key.get((facet, key_or_iri.casefold())) or self.by_iri.get((facet, key_or_iri))
        if found is None:
            iri = self.aliases.get((facet, key_or_iri.strip().casefold()))
            found = self.by_iri.get((facet, iri)) if iri else None
        return found

    def restriction(self, visibility: Visibility) -> Restriction | None:
        """The datasets of this index a caller may read (None: all of them): the public ones (and those that state
        no access level, which the public index lists too), the RESTRICTED ones for trusted readers, and the
        NON_PUBLIC ones of the organisations the caller is a member of. Made once per visibility."""
        if visibility.everything:
            return None
        key = visibility.cache_key
        found = self._restrictions.get(key)
        if found is None:
            found = self._restriction(visibility)
            with self._lock:
                if len(self._restrictions) > 256:
                    self._restrictions.clear()
                self._restrictions[key] = found
        return found

    def _restriction(self, visibility: Visibility) -> Restriction:
        public = [self.by_iri.get(("access", EU_ACCESS_RIGHT["PUBLIC"].value)), self.by_key.get(("access", NOT_STATED))]
        restricted = self.by_iri.get(("access", EU_ACCESS_RIGHT["RESTRICTED"].value))
        non_public = self.by_iri.get(("access", EU_ACCESS_RIGHT["NON_PUBLIC"].value))
        alternatives = [f'"{FACET_TOKEN}{code}"' for code in public if code]
        bitmaps = self.bitmaps()
        bitmap = 0
        for code in public:
            bitmap |= bitmaps[code] if code else 0
        if visibility.restricted and restricted:
            alternatives.append(f'"{FACET_TOKEN}{restricted}"')
            bitmap |= bitmaps[restricted]
        organisations = [self.by_iri.get(("publisher", iri)) for iri in sorted(visibility.non_public_of)]
        organisations = [code for code in organisations if code]
        theirs_tokens = " OR ".join(f'"{FACET_TOKEN}{code}"' for code in organisations)
        if non_public and organisations:
            alternatives.append(f'("{FACET_TOKEN}{non_public}" AND ({theirs_tokens}))')
            theirs = 0
            for code in organisations:
                theirs |= bitmaps[code]
            bitmap |= bitmaps[non_public] & theirs
        either = " OR ".join(alternatives) or f'"{FACET_TOKEN}none"'  # a token no dataset has: nothing visible
        hidden = []  # the same, as what the caller may not read (access levels partition the datasets)
        if restricted and not visibility.restricted:
            hidden.append(f'{{facets}}: "{FACET_TOKEN}{restricted}"')
        if non_public and organisations:
            hidden.append(f'({{facets}}: "{FACET_TOKEN}{non_public}" NOT {{facets}}: ({theirs_tokens}))')
        elif non_public:
            hidden.append(f'{{facets}}: "{FACET_TOKEN}{non_public}"')
        exclusion = EXCLUDE + " OR ".join(hidden) if hidden else None
        return Restriction(f"{{facets}}: ({either})", bitmap, exclusion)

    # -- searching -------------------------------------------------------------------------------------
    def search(self, request: SearchRequest, restriction: Restriction | None = None) -> SearchResult:
        """Run a search; raises :class:`QueryError` (a 400) for a query or parameter it cannot run. On the index
        of every dataset, ``restriction`` narrows everything (results, counts, facets) to what the caller may
        read, and spelling is not corrected (its vocabulary is every dataset's words)."""
        query = parse_query(request.q, self.places)
        notices = list(query.notices)
        sort = self._sort(request, query)
        if not 1 <= request.per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}, not {request.per_page}")
        if request.page < 1:
            raise QueryError(f"page must be 1 or more, not {request.page}")
        selected = self._resolve(request.filters, notices)
        series = self._series_bitmap(request.series) if request.series else None
        correction = self._correction(query) if request.spell and restriction is None else None
        if correction is not None:
            query = parse_query(correction.corrected, self.places)
        text_expr = query.expression()
        limit = None
        if restriction is not None:  # with text, what to leave out (see Restriction); else what to keep
            limit = restriction.expression if text_expr is None else restriction.exclusion
        filter_expr = _and(self._filter_expression(selected), limit)
        bitmaps_needed = request.facets or sort != "relevance" or series is not None or query.empty
        visible = restriction.bitmap if restriction is not None else None
        counted = self._count(query, text_expr, filter_expr, selected, series, bitmaps_needed, visible)
        partial, tiers = None, query
        if counted[0] == 0 and text_expr is not None and len(query.groups) > 1:
            for relaxed, needed, narrower in self._relaxations(query):
                attempt = self._count(query, relaxed, filter_expr, selected, series, bitmaps_needed, visible)
                if attempt[0]:
                    text_expr, counted, partial, tiers = relaxed, attempt, needed, narrower or query
                    break
        total, base, found, chosen = counted
        if query.empty and query.excluded:
            notices.append(f"every dataset without {', '.join(str(t) for t in query.excluded)}")

        facets: dict[str, list[FacetValue]] = {}
        if request.facets and restriction is not None and chosen.keys() == {"visible"} and base == self.everything:
            facets = self._visible_counts.get(restriction.expression) or {}  # everything a caller may read: as is
        if request.facets and not facets:
            facets = self._facet_counts(base == self.everything, base, found, chosen, selected)  # type: ignore[arg-type]
            if restriction is not None and chosen.keys() == {"visible"} and base == self.everything:
                with self._lock:
                    if len(self._visible_counts) > 64:
                        self._visible_counts.clear()
                    self._visible_counts[restriction.expression] = facets
        offset = (request.page - 1) * request.per_page
        hits: list[Hit] = []
        exhaustive, results, estimated = True, None, False
        if request.page > 1 and offset >= total:
            last = max(1, math.ceil(total / request.per_page))
            notices.append(f"page {request.page:,} is beyond the last page of these results ({last:,})")
        elif total:
            if sort == "relevance":
                ranking = self._ranked(
                    query, tiers, text_expr, filter_expr, offset + request.per_page, total, request.group
                )
                page = ranking.rows[offset : offset + request.per_page]
                exhaustive, marked = ranking.exhaustive, ranking.marked
                if request.group:
                    results, estimated = ranking.results, not ranking.exhaustive
                    page = self._latest_editions(page, _and(text_expr, filter_expr))  # type: ignore[arg-type]
                    if request.page > 1 and not page:
                        notices.append(f"page {request.page:,} is beyond the last page of these results")
                partial_query = query if partial else None
                hits = self._hits(page, text_expr, marked, ranking.scorer if partial else None, partial_query)
                if request.group:
                    self._editions(hits, visible)
            else:
                everything = text_expr is None and not selected and found == self.everything
                rowids = self._in_order(None if everything else found, total, sort, offset, request.per_page)
                hits = self._hits([Candidate(r, 0.0, False, "", "") for r in rowids], text_expr, {})
        chosen_values = {
            facet: [self._value_with(code, facets.get(facet), True, visible) for code in codes]
            for facet, codes in selected.items()
        }
        return SearchResult(
            request,
            query,
            sort,
            total,
            request.page,
            request.per_page,
            hits,
            facets,
            chosen_values,
            notices,
            exhaustive,
            results,
            estimated,
            partial,
            correction,
        )

    def _relaxations(self, query: ParsedQuery) -> list[tuple[str, int, ParsedQuery | None]]:
        """What to search for when every word together matches nothing, in order: the words that name
        something (found in some title, keyword, publisher, theme or borough) without the others ("population
        projections latest figures"); all words but one; any word. Each as (expression, groups needed, the
        narrower query when it is one, for choosing candidates)."""
        found = []
        named = [g for g in query.groups if self._at_least(query.keeping([g]).expression(SHORT_COLUMNS), 1)]
        if 0 < len(named) < len(query.groups):
            narrower = query.keeping(named)
            found.append((narrower.expression(), len(named), narrower))
        for needed in dict.fromkeys((len(query.groups) - 1, 1)):
            relaxed = query.relaxed(needed)
            if relaxed is not None:
                found.append((relaxed, needed, None))
        return found  # type: ignore[return-value]

    def _sort(self, request: SearchRequest, query: ParsedQuery) -> str:
        sort = SORT_ALIASES.get(request.sort or "", request.sort or "")
        if request.series and sort in ("", "relevance", EDITION_SORT):
            return EDITION_SORT
        if not sort:
            sort = "relevance" if not query.empty else "updated"
        if sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {request.sort[:50]!r}")
        return "updated" if sort == "relevance" and query.empty else sort

    def _resolve(self, filters: dict[str, Iterable[str]], notices: list[str]) -> dict[str, list[int]]:
        selected: dict[str, list[int]] = {}
        for facet, raw_values in filters.items():
            if facet not in BY_NAME:
                raise QueryError(f"unknown filter {facet[:50]!r}: filters are {', '.join(FACET_NAMES)}")
            for raw in raw_values:
                if not raw:
                    continue
                code = self.code(facet, raw)
                if code is None:
                    notices.append(f"no {BY_NAME[facet].label.lower()} {raw[:100]!r} in the catalogue: filter ignored")
                elif code not in selected.setdefault(facet, []):
                    selected[facet].append(code)
        return {facet: codes for facet, codes in selected.items() if codes}

    def _series_bitmap(self, series: str) -> int:
        bitmap = 0
        for (rowid,) in self.db.execute("SELECT rowid FROM docs WHERE series = ?", (series[:64],)):
            bitmap |= 1 << rowid
        return bitmap

    def _correction(self, query: ParsedQuery) -> Correction | None:
        """The query with each word the index does not know (in a group nothing else of can match) corrected."""
        words: dict[str, str] = {}
        for group in query.groups:
            text_terms = [t for t in group if t.facet_token is None]
            if any(self._known(t.words, t.prefix) for t in text_terms):
                continue
            typed = [t for t in text_terms if t.typed and not t.prefix and not t.is_phrase]
            for term in typed:
                fixed = correct(self.db, term.words[0])
                if fixed:
                    words[term.words[0]] = fixed
        if not words:
            return None
        corrected = query.text
        for word, fixed in words.items():
            corrected = re.sub(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", fixed, corrected, flags=re.IGNORECASE)
        return Correction(query.text, corrected, words)

    def _known(self, words: tuple[str, ...], prefix: bool) -> bool:
        stems = STEMMER.stems(list(words))
        return all(self.term_frequency(s, prefix and i == len(stems) - 1) for i, s in enumerate(stems))

    def _count(
        self,
        query: ParsedQuery,
        text_expr: str | None,
        filter_expr: str | None,
        selected: dict[str, list[int]],
        series: int | None,
        bitmaps: bool,
        visible: int | None = None,
    ) -> tuple[int, int | None, int | None, dict[str, int]]:
        """(total, bitmap of the text matches, bitmap of the results, bitmaps of the selections): the bitmaps
        only when facets, a sort order or a filter without an FTS5 token need them. ``visible``: the bitmap of
        a :class:`Restriction` (whose expression ``filter_expr`` holds), a selection no facet undoes."""
        if not bitmaps:
            match_expr = _and(text_expr, filter_expr)
            if match_expr is None:
                return self.documents, None, None, {}
            if filter_expr is None and text_expr == query.expression() and (word := _one_word(query)) is not None:
                return self.term_frequency(STEMMER.stem(word)), None, None, {}
            return (
                self.db.execute("SELECT COUNT(*) FROM fts WHERE fts MATCH ?", (match_expr,)).fetchone()[0],
                None,
                None,
                {},
            )
        base = self._match_bitmap(text_expr)
        if query.empty and query.excluded:
            base &= ~self._match_bitmap(query.exclusion())
        chosen = self._selections(selected)
        if series is not None:
            chosen["series"] = series
        if visible is not None:
            chosen["visible"] = visible
        found = base
        for union in chosen.values():
            found &= union
        return found.bit_count(), base, found, chosen

    @staticmethod
    def _filter_expression(selected: dict[str, list[int]]) -> str | None:
        parts = []
        for codes in selected.values():
            alternatives = " OR ".join(f'"{FACET_TOKEN}{code}"' for code in codes)
            parts.append(f"{{facets}}: ({alternatives})")
        return " AND ".join(parts) or None

    def _value_with(
        self, code: int, counted: list[FacetValue] | None, selected: bool, visible: int | None = None
    ) -> FacetValue:
        value = self.values[code]
        count = next((v.count for v in counted or () if v.key == value.key), None)
        if count is None and visible is not None:
            count = (self.bitmaps()[code] & visible).bit_count()
        return FacetValue(
            value.facet, value.key, value.iri, value.label, value.count if count is None else count, selected
        )

    # -- facet counts -------------------------------------------------------------------------------------
    def _match_bitmap(self, text_expr: str | None) -> int:
        """Bitmap of the datasets matching the text (cached: facet clicks repeat the same text)."""
        if text_expr is None:
            return self.everything
        with self._lock:
            cached = self._matches.get(text_expr)
            if cached is not None:
                self._matches.move_to_end(text_expr)
                return cached
        row = self.db.execute("SELECT group_concat(rowid) FROM fts WHERE fts MATCH ?", (text_expr,)).fetchone()
        bitmap = 0
        if row[0]:
            digits = bytearray(b"0") * (self.max_rowid + 1)
            for rowid in map(int, row[0].split(",")):
                digits[rowid] = 49  # "1"
            digits.reverse()
            bitmap = int(digits, 2)
        with self._lock:
            self._matches[text_expr] = bitmap
            while len(self._matches) > 64:
                self._matches.popitem(last=False)
        return bitmap

    def _selections(self, selected: dict[str, list[int]]) -> dict[str, int]:
        """Per filtered facet, the bitmap of datasets having any of its selected values (OR within a facet)."""
        bitmaps = self.bitmaps()
        chosen: dict[str, int] = {}
        for facet, codes in selected.items():
            union = 0
            for code in codes:
                union |= bitmaps[code]
            chosen[facet] = union
        return chosen

    def _facet_counts(
        self, no_text: bool, base: int, result: int, chosen: dict[str, int], selected: dict[str, list[int]]
    ) -> dict[str, list[FacetValue]]:
        """Counts of every facet value among the results; a facet's own selection does not narrow its counts."""
        bitmaps = self.bitmaps()
        facets: dict[str, list[FacetValue]] = {}
        for facet in FACET_NAMES:
            if no_text and not chosen:
                facets[facet] = [v for v in self.facet_values(facet) if v.count]
                continue
            within = result
            if facet in chosen:
                within = base
                for other, union in chosen.items():
                    if other != facet:
                        within &= union
            counted = []
            for code, value in self.values.items():
                if value.facet != facet:
                    continue
                count = (within & bitmaps[code]).bit_count() if within else 0
                is_selected = code in selected.get(facet, ())
                if count or is_selected:
                    counted.append(FacetValue(facet, value.key, value.iri, value.label, count, is_selected))
            counted.sort(key=self._value_order)
            facets[facet] = counted
        return facets

    # -- ranking ------------------------------------------------------------------------------------------
    def _candidates(self, expr: str, limit: int) -> list[tuple]:
        marks = ", ".join(f"highlight(fts, {i}, char(1), char(2))" for i in range(len(TEXT_COLUMNS)))
        lengths = ", ".join(f"docs.len_{c}" for c in TEXT_COLUMNS)
        return self.db.execute(
            f"SELECT fts.rowid, {marks}, {lengths}, docs.series, docs.edition, docs.updated, docs.quality "
            "FROM fts JOIN docs ON docs.rowid = fts.rowid WHERE fts MATCH ? ORDER BY fts.rowid LIMIT ?",
            (expr, limit),
        ).fetchall()

    def _at_least(self, expr: str, count: int) -> bool:
        """Whether an expression matches at least ``count`` datasets (FTS5 stops counting there)."""
        sql = "SELECT COUNT(*) FROM (SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid LIMIT ?)"
        return self.db.execute(sql, (expr, count)).fetchone()[0] >= count

    def _rows(self, query: ParsedQuery, text_expr: str, filter_expr: str | None, budget: int, total: int) -> list:
        """The candidate rows: every match when they are few, else the narrowest tier with enough of them
        (title and keywords, then title, then any short field; see the module docstring). ``query`` is what
        ``text_expr`` says (or, for "all but one" and "any" relaxations, not: then there are no tiers)."""
        match_expr = _and(text_expr, filter_expr)
        if total <= budget:
            return self._candidates(match_expr, total)  # type: ignore[arg-type]
        if text_expr != query.expression():
            return self._candidates(match_expr, budget)  # type: ignore[arg-type]
        for tier in TIERS:  # (a tier's expression implies the text query: counted without it, in half the time)
            in_tier = _and(*(query.expression(columns) for columns in tier), filter_expr)
            if self._at_least(in_tier, budget):  # type: ignore[arg-type]
                break
        # the text query is repeated without column filter so that highlight() marks the descriptions too
        return self._candidates(_and(text_expr, in_tier), budget)  # type: ignore[arg-type]

    def _ranked(
        self,
        query: ParsedQuery,
        tiers: ParsedQuery,
        text_expr: str,
        filter_expr: str | None,
        needed: int,
        total: int,
        group: bool,
    ) -> _Ranking:
        """The ranking down to at least ``needed`` rows (series grouped when asked), best first: every term of
        ``query`` scored, candidates chosen by ``tiers`` (the query, or the narrower one a partial result uses)."""
        scorer = Scorer(query.terms, self.documents, self.term_frequency, self.average_lengths)
        budget = max(self.candidates, 2 * needed)
        while True:
            rows = self._rows(tiers, text_expr, filter_expr, budget, total)
            exhaustive = len(rows) >= total
            if len(rows) < needed and not exhaustive:
                seen = {r[0] for r in rows}
                rows += [r for r in self._candidates(_and(text_expr, filter_expr), budget) if r[0] not in seen]  # type: ignore[arg-type]
            candidates = [self._candidate(row, scorer) for row in rows]
            ranked = collapse(candidates) if group else sorted(candidates, key=lambda c: (c.demoted, -c.score, c.rowid))
            if exhaustive or len(ranked) >= needed or budget >= MAX_CANDIDATES or budget >= total:
                break
            budget = min(budget * 4, MAX_CANDIDATES)
        results = len(ranked) if exhaustive else round(total * len(ranked) / max(len(candidates), 1))
        marked = {row[0]: row for row in rows}
        return _Ranking(ranked, exhaustive, marked, results, scorer)

    def _candidate(self, row: tuple, scorer: Scorer) -> Candidate:
        width = 1 + 2 * len(TEXT_COLUMNS)
        series, edition, updated, quality = row[width : width + 4]
        score = scorer.score(row) * boost(updated, quality, self.newest)
        return Candidate(row[0], score, self.demoted(row[0]), series, edition)

    def term_frequency(self, stem: str, prefix: bool = False) -> int:
        """Datasets containing a stem (or any stem with that prefix)."""
        if not prefix:
            row = self.db.execute("SELECT docs FROM terms WHERE term = ?", (stem,)).fetchone()
            return row[0] if row else 0
        row = self.db.execute(
            "SELECT SUM(docs) FROM (SELECT docs FROM terms WHERE term >= ? AND term < ? LIMIT 500)",
            (stem, stem + "\U0010ffff"),
        ).fetchone()
        return min(row[0] or 0, self.documents)

    # -- other orders -------------------------------------------------------------------------------------
    def order(self, sort: str) -> tuple[array, array]:
        """A precomputed order ("updated" or "title"): rowids in that order, and each rowid's place in it."""
        found = self._orders.get(sort)
        if found is None:
            row = self.db.execute("SELECT rowids, places FROM orders WHERE name = ?", (sort,)).fetchone()
            rowids, places = array("I"), array("I")
            rowids.frombytes(row[0])
            places.frombytes(row[1])
            found = self._orders[sort] = (rowids, places)
        return found

    def _in_order(self, found: int | None, total: int, sort: str, offset: int, limit: int) -> list[int]:
        """One page of the results (a bitmap; None for all datasets) in a precomputed order, or a series'
        editions newest first."""
        if sort == EDITION_SORT:
            members = _members(found or 0, self.max_rowid)
            marks = ",".join("?" * len(members))
            return [
                r[0]
                for r in self.db.execute(
                    f"SELECT rowid FROM docs WHERE rowid IN ({marks}) ORDER BY edition DESC, rowid LIMIT ? OFFSET ?",
                    (*members, limit, offset),
                )
            ]
        rowids, places = self.order(sort)
        if found is None:
            return list(rowids[offset : offset + limit])
        if total * 32 < self.documents:  # few results: collect them and sort by place
            return heapq.nsmallest(offset + limit, _members(found, self.max_rowid), key=places.__getitem__)[offset:]
        bits = found.to_bytes(self.max_rowid // 8 + 1, "little")
        page: list[int] = []
        skip = offset
        for rowid in rowids:  # many results: walk the order, keep the members
            if bits[rowid >> 3] >> (rowid & 7) & 1:
                if skip:
                    skip -= 1
                    continue
                page.append(rowid)
                if len(page) == limit:
                    break
        return page

    # -- hits ------------------------------------------------------------------------------------------
    def _hits(
        self,
        page: list[Candidate],
        text_expr: str | None,
        marked: dict[int, tuple],
        scorer: Scorer | None = None,
        partial_query: ParsedQuery | None = None,
    ) -> list[Hit]:
        """The hits of a page; for a partial result (``scorer`` and its query given), the words each lacks."""
        if not page:
            return []
        rowids = [c.rowid for c in page]
        marks = ",".join("?" * len(rowids))
        docs = {
            rowid: (iri, record, quality, series)
            for rowid, iri, record, quality, series in self.db.execute(
                "SELECT d.rowid, d.iri, c.record, d.quality, d.series FROM docs d "
                f"JOIN {self.records} c ON c.iri = d.iri WHERE d.rowid IN ({marks})",
                rowids,
            )
        }
        snippets: dict[int, tuple[str, str]] = {}
        if text_expr is not None:
            # one query per hit: FTS5 seeks to a rowid given by "=", but would scan every match for an IN list
            sql = "SELECT highlight(fts, 0, char(1), char(2)), highlight(fts, 2, char(1), char(2)) FROM fts "
            sql += "WHERE fts MATCH ? AND rowid = ?"
            for rowid in rowids:
                row = marked.get(rowid)
                found = (row[1], row[3]) if row else self.db.execute(sql, (text_expr, rowid)).fetchone()
                if found:
                    snippets[rowid] = (found[0], snippet(found[1]))
        hits = []
        for candidate in page:
            rowid = candidate.rowid
            iri, record_json, quality, series = docs[rowid]
            record = json.loads(record_json)
            title, text = snippets.get(rowid) or (record.get("title", ""), _shorten(record.get("description", "")))
            hit = Hit(rowid, iri, record, candidate.score, marked_html(title), marked_html(text), self.demoted(rowid))
            hit.quality, hit.series, hit.match = quality, series, text_expr
            if scorer is not None and partial_query is not None and rowid in marked:
                hit.missing = self._missing(partial_query, scorer, marked[rowid], rowid)
            hits.append(hit)
        return hits

    def marked(self, hit: Hit, title: str, description: str) -> tuple[str, str]:
        """A hit's title and snippet as HTML in texts other than the ones the index holds (the reader's language):
        the search's words marked by FTS5 itself in a scratch row of those texts with the hit's other columns, or
        unmarked where they do not match (the words were found in another language)."""
        found = None
        if hit.match is not None:
            row = self.db.execute(f"SELECT {', '.join(INDEXED)} FROM docs WHERE rowid = ?", (hit.rowid,)).fetchone()
            texts = {**dict(zip(INDEXED, row, strict=True)), "title": clean(title), "description": clean(description)}
            title_at, description_at = INDEXED.index("title"), INDEXED.index("description")
            db = scratch_index(INDEXED, "row")
            try:
                db.execute(f"INSERT INTO scratch VALUES ({', '.join('?' * len(INDEXED))})", [texts[c] for c in INDEXED])
                found = db.execute(
                    f"SELECT highlight(scratch, {title_at}, char(1), char(2)), "
                    f"highlight(scratch, {description_at}, char(1), char(2)) FROM scratch WHERE scratch MATCH ?",
                    (hit.match,),
                ).fetchone()
            finally:
                db.close()
        if found is None:
            return marked_html(title), marked_html(_shorten(description))
        return marked_html(found[0]), marked_html(snippet(found[1]))

    def _missing(self, query: ParsedQuery, scorer: Scorer, row: tuple, rowid: int) -> list[str]:
        """The query's word groups a row of a partial result does not match."""
        found = scorer.matched(row)
        index = {id(t): i for i, t in enumerate(query.terms)}
        missing = []
        for group in query.groups:
            matched = any(id(t) in index and index[id(t)] in found for t in group)
            for term in group:
                if term.facet_token is not None and not matched:
                    sql = "SELECT 1 FROM fts WHERE fts MATCH ? AND rowid = ?"
                    matched = self.db.execute(sql, (term.in_columns(""), rowid)).fetchone() is not None
            if not matched:
                missing.append(query.group_words(group))
        return missing

    def _latest_editions(self, page: list[Candidate], match_expr: str) -> list[Candidate]:
        """Each grouped result as the latest edition of its series that matches: a newer edition than the
        candidates held may match too (the candidates of a large result set are a sample)."""
        found = []
        for candidate in page:
            newer = self.db.execute(
                "SELECT rowid, edition FROM docs WHERE series = ? AND edition > ? ORDER BY edition DESC, rowid LIMIT ?",
                (candidate.series, candidate.edition, NEWER_EDITIONS_TRIED),
            ).fetchall()
            for rowid, edition in newer:
                matches = "SELECT 1 FROM fts WHERE fts MATCH ? AND rowid = ?"
                if not self.demoted(rowid) and self.db.execute(matches, (match_expr, rowid)).fetchone():
                    candidate = Candidate(rowid, candidate.score, False, candidate.series, edition)
                    break
            found.append(candidate)
        return found

    def _editions(self, hits: list[Hit], visible: int | None = None) -> None:
        """How many older and newer editions each hit's series has (of those ``visible``, when restricted)."""
        for hit in hits:
            if visible is not None:
                mine = self.db.execute("SELECT edition FROM docs WHERE rowid = ?", (hit.rowid,)).fetchone()[0]
                rows = self.db.execute("SELECT rowid, edition FROM docs WHERE series = ?", (hit.series,)).fetchall()
                editions = [edition for rowid, edition in rows if visible >> rowid & 1]
                hit.earlier = sum(edition < mine for edition in editions)
                hit.later = sum(edition > mine for edition in editions)
                continue
            row = self.db.execute(
                "SELECT SUM(s.edition < d.edition), SUM(s.edition > d.edition) FROM docs AS s, "
                "(SELECT edition FROM docs WHERE rowid = ?) AS d WHERE s.series = ?",
                (hit.rowid, hit.series),
            ).fetchone()
            hit.earlier, hit.later = row[0] or 0, row[1] or 0

    # -- lists for pages ---------------------------------------------------------------------------------------
    def recent(self, limit: int) -> list[Hit]:
        """The most recently updated datasets."""
        rowids = self._in_order(None, self.documents, "updated", 0, limit)
        return self._hits([Candidate(r, 0.0, False, "", "") for r in rowids], None, {})

    def series_of(self, iri: str) -> str | None:
        """The series a dataset is an edition of, when the series has other editions."""
        row = self.db.execute("SELECT series FROM docs WHERE iri = ?", (iri,)).fetchone()
        if row is None:
            return None
        count = self.db.execute("SELECT COUNT(*) FROM (SELECT 1 FROM docs WHERE series = ? LIMIT 2)", row).fetchone()
        return row[0] if count[0] > 1 else None

    def editions(self, series: str, limit: int = 50) -> list[Hit]:
        """A series' editions, newest first."""
        rows = self.db.execute(
            "SELECT rowid FROM docs WHERE series = ? ORDER BY edition DESC, rowid LIMIT ?", (series, limit)
        )
        return self._hits([Candidate(r[0], 0.0, False, series, "") for r in rows], None, {})

    def council_of(self, borough_iri: str) -> str | None:
        """The publisher IRI of a borough's council."""
        return self.councils.get(borough_iri)

    def quality_summary(self) -> list[dict]:
        """Per publisher (and "not stated"): datasets, measured datasets, average points, per dimension, ratings."""
        rows = []
        for code, datasets, measured, total, dimensions, ratings in self.db.execute(
            "SELECT publisher_code, datasets, measured, total, dimensions, ratings FROM quality_summary"
        ):
            value = self.values[code]
            rows.append(
                {
                    "publisher": value,
                    "datasets": datasets,
                    "measured": measured,
                    "average": total,
                    "dimensions": {d: json.loads(dimensions).get(d) for d in DIMENSION_IDS},
                    "ratings": json.loads(ratings),
                }
            )
        rows.sort(key=lambda r: (r["publisher"].key == NOT_STATED, -r["datasets"], r["publisher"].label.casefold()))
        return rows


@dataclass
class _Ranking:
    rows: list[Candidate]
    exhaustive: bool
    marked: dict[int, tuple]  # rowid -> candidate row (highlighted columns)
    results: int  # rows of the ranking, estimated when not exhaustive
    scorer: Scorer


def _members(bitmap: int, max_rowid: int) -> list[int]:
    bits = bitmap.to_bytes(max_rowid // 8 + 1, "little")
    return [(m.start() << 3) + bit for m in _NONZERO.finditer(bits) for bit in range(8) if m.group()[0] >> bit & 1]


def _one_word(query: ParsedQuery) -> str | None:
    """The word of a query that is one plain word (no phrase, prefix, alternative or exclusion). Its matches
    are the datasets whose text columns hold its stem, which the ``terms`` table counts exactly (the facets
    column holds only facet tokens, never a text word): counting them through FTS5 took 65 ms for a word most
    of a million datasets have."""
    if query.excluded or len(query.groups) != 1 or len(query.groups[0]) != 1:
        return None
    term = query.groups[0][0]
    if term.facet_token is not None or term.prefix or term.is_phrase:
        return None
    return term.words[0]


def _and(*parts: str | None) -> str | None:
    """FTS5 expressions that must all match; a part starting with :data:`EXCLUDE` is what must not match (kept as
    such until a part that must match joins it)."""
    present = [p for p in parts if p]
    kept = [p for p in present if not p.startswith(EXCLUDE)]
    left_out = [p[len(EXCLUDE) :] for p in present if p.startswith(EXCLUDE)]
    if not kept:
        return EXCLUDE + " OR ".join(f"({p})" for p in left_out) if left_out else None
    joined = kept[0] if len(kept) == 1 else " AND ".join(f"({p})" for p in kept)
    if left_out:
        joined = f"({joined}) NOT ({' OR '.join(f'({p})' for p in left_out)})"
    return joined


def marked_html(text: str) -> str:
    """Text with highlight markers as HTML: escaped, matches in ``<mark>``."""
    return escape(text).replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")


def snippet(marked: str, size: int = SNIPPET_TOKENS) -> str:
    """About ``size`` words of a highlighted text around its first match, markers kept balanced."""
    words = marked.split()
    if len(words) <= size:
        return " ".join(words)
    first = next((i for i, w in enumerate(words) if MARK_OPEN in w), 0)
    start = max(0, min(first - size // 4, len(words) - size))
    piece = " ".join(words[start : start + size])
    opening, closing = piece.find(MARK_OPEN), piece.find(MARK_CLOSE)
    if closing != -1 and (opening == -1 or closing < opening):
        piece = MARK_OPEN + piece  # the window starts inside a marked phrase
    if piece.count(MARK_OPEN) > piece.count(MARK_CLOSE):
        piece += MARK_CLOSE
    return ("…" if start else "") + piece + ("…" if start + size < len(words) else "")


def _shorten(text: str, limit: int = 240) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"


_INDEXES: OrderedDict[Path, SearchIndex] = OrderedDict()
_INDEXES_LOCK = threading.Lock()


def search_index(snapshot: Snapshot, filename: str = FILENAME) -> SearchIndex:
    """The search index of a snapshot (or its index of every dataset), opened once per process and generation."""
    key = snapshot.index_dir / filename
    with _INDEXES_LOCK:
        found = _INDEXES.get(key)
        if found is not None:
            return found
    index = SearchIndex(snapshot.index_dir, filename)
    with _INDEXES_LOCK:
        _INDEXES[key] = index
        while len(_INDEXES) > 4:
            _INDEXES.popitem(last=False)
    return index


def search_index_for(snapshot: Snapshot, visibility: Visibility) -> tuple[SearchIndex, Restriction | None]:
    """The index a caller's searches run on, and what of it they may read: the public index, unrestricted, for
    public callers (and whenever no dataset is non-public); else the index of every dataset, restricted."""
    if visibility.public_only or not (snapshot.index_dir / ALL_FILENAME).exists():
        return search_index(snapshot), None
    index = search_index(snapshot, ALL_FILENAME)
    return index, index.restriction(visibility)


__all__ = [
    "SORTS",
    "Correction",
    "FacetValue",
    "Hit",
    "QueryError",
    "Restriction",
    "SearchIndex",
    "SearchRequest",
    "SearchResult",
    "marked_html",
    "search_index",
    "search_index_for",
]
