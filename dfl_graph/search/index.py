"""Searching ``indexes/search.sqlite``: ranked, faceted, paged, with highlighted snippets.

Ranking is BM25 per column, weighted (a title match outweighs a description match), with archived
and superseded datasets after current ones. FTS5's own ``bm25()`` is not used: it counts every
posting of every term on each query to get its IDF, which costs 10-100 ms for common words at a
million datasets. Here the IDF comes from the ``terms`` table and term frequencies from FTS5's
``highlight()`` of the candidate rows, so a query costs what its candidates cost:

* when a query matches at most ``candidates`` datasets (or twice the end of the page asked for), all of
  them are scored: the ranking is exact ("exhaustive");
* when it matches more, the candidates are the first ``candidates`` matches in static-rank order
  (current first, shortest titles first) among datasets matching every word in a short field (title,
  keywords, publisher, theme, borough), topped up from all matches when those do not fill the page.
  FTS5 walks its posting lists in rowid order and stops, so this costs the same for "london" as for
  "obesity".

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
from functools import lru_cache
from html import escape
from pathlib import Path

from dfl_graph.indexes.catalogue import FILENAME as CATALOGUE_FILENAME
from dfl_graph.search.build import FACET_TOKEN, FILENAME, SCHEMA_VERSION
from dfl_graph.search.facets import BY_NAME, FACET_NAMES
from dfl_graph.search.query import TEXT_COLUMNS, ParsedQuery, QueryError, Term, parse_query
from dfl_graph.search.text import MARK_CLOSE, MARK_OPEN, STEMMER, tokens
from dfl_graph.store import Snapshot, StoreError

SORTS = ("relevance", "updated", "title")
SORT_ALIASES = {"modified": "updated", "recent": "updated", "last-modified": "updated", "rank": "relevance"}
WEIGHTS = {"title": 10.0, "keywords": 5.0, "description": 1.0, "publisher": 3.0, "themes": 3.0, "boroughs": 3.0}
SHORT_COLUMNS = ("title", "keywords", "publisher", "themes", "boroughs")
# candidate tiers for queries matching many datasets, narrowest first: each a list of column groups that
# must all contain the whole query
TIERS = ((("title",), ("keywords",)), (("title",),), (SHORT_COLUMNS,))
K1, B = 1.2, 0.75
CANDIDATES = 200
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
SNIPPET_TOKENS = 32
_SPAN = re.compile(f"{MARK_OPEN}(.*?){MARK_CLOSE}", re.S)
_NONZERO = re.compile(b"[^\x00]")


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)  # facet -> keys or IRIs (OR-ed)
    sort: str | None = None  # None: relevance with a query, most recently updated without
    page: int = 1
    per_page: int = 20
    facets: bool = True  # compute facet counts


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

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


class SearchIndex:
    """Read side of one generation's search index; one SQLite connection per thread."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILENAME
        self.catalogue_path = directory / CATALOGUE_FILENAME
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
        self._bitmaps: dict[int, int] | None = None
        self._orders: dict[str, tuple[array, array]] = {}
        self._matches: OrderedDict[str, int] = OrderedDict()
        self._everything: int | None = None
        self._demoted: bytes | None = None

    # -- connections -------------------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            db.execute("ATTACH DATABASE ? AS catalogue", (f"file:{self.catalogue_path}?mode=ro&immutable=1",))
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

    def facet_values(self, facet: str) -> list[FacetValue]:
        """Every value of a facet over the whole catalogue, most datasets first."""
        return sorted(
            (v for v in self.values.values() if v.facet == facet and v.count),
            key=lambda v: (-v.count, v.label.casefold()),
        )

    def value(self, facet: str, key_or_iri: str) -> FacetValue | None:
        code = self.code(facet, key_or_iri)
        return self.values[code] if code else None

    def code(self, facet: str, key_or_iri: str) -> int | None:
        return self.by_key.get((facet, key_or_iri.casefold())) or self.by_iri.get((facet, key_or_iri))

    # -- searching -------------------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResult:
        """Run a search; raises :class:`QueryError` (a 400) for a query or parameter it cannot run."""
        query = parse_query(request.q)
        notices = list(query.notices)
        sort = SORT_ALIASES.get(request.sort or "", request.sort or "")
        if not sort:
            sort = "relevance" if not query.empty else "updated"
        if sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {request.sort[:50]!r}")
        if sort == "relevance" and query.empty:
            sort = "updated"
        if not 1 <= request.per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}, not {request.per_page}")
        if request.page < 1:
            raise QueryError(f"page must be 1 or more, not {request.page}")
        selected = self._resolve(request.filters, notices)
        text_expr = query.expression()
        filter_expr = self._filter_expression(selected)
        match_expr = _and(text_expr, filter_expr)

        facets: dict[str, list[FacetValue]] = {}
        found: int | None = None  # bitmap of the results, when facets or a sort order need it
        if request.facets or sort != "relevance":
            base, chosen = self._match_bitmap(text_expr), self._selections(selected)
            found = base
            for union in chosen.values():
                found &= union
            total = found.bit_count()
            if request.facets:
                facets = self._facet_counts(text_expr is None, base, found, chosen, selected)
        elif match_expr is None:
            total = self.documents
        else:
            total = self.db.execute("SELECT COUNT(*) FROM fts WHERE fts MATCH ?", (match_expr,)).fetchone()[0]

        offset = (request.page - 1) * request.per_page
        hits: list[Hit] = []
        exhaustive = True
        if request.page > 1 and offset >= total:
            last = max(1, math.ceil(total / request.per_page))
            notices.append(f"page {request.page:,} is beyond the last page of these results ({last:,})")
        elif total:
            if sort == "relevance":
                ranked, exhaustive, marked = self._ranked(query, filter_expr, offset + request.per_page, total)
                page = ranked[offset : offset + request.per_page]
            else:
                everything = text_expr is None and not selected
                rowids = self._in_order(None if everything else found, total, sort, offset, request.per_page)
                page = [(rowid, 0.0) for rowid in rowids]
                marked = {}
            hits = self._hits(page, text_expr, marked)
        chosen = {
            facet: [self._value_with(code, facets.get(facet), True) for code in codes]
            for facet, codes in selected.items()
        }
        return SearchResult(
            request, query, sort, total, request.page, request.per_page, hits, facets, chosen, notices, exhaustive
        )

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

    @staticmethod
    def _filter_expression(selected: dict[str, list[int]]) -> str | None:
        parts = []
        for codes in selected.values():
            alternatives = " OR ".join(f'"{FACET_TOKEN}{code}"' for code in codes)
            parts.append(f"{{facets}}: ({alternatives})")
        return " AND ".join(parts) or None

    def _value_with(self, code: int, counted: list[FacetValue] | None, selected: bool) -> FacetValue:
        value = self.values[code]
        count = next((v.count for v in counted or () if v.key == value.key), None)
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
            counted.sort(key=lambda v: (-v.count, v.label.casefold()))
            facets[facet] = counted
        return facets

    # -- ranking ------------------------------------------------------------------------------------------
    def _candidates(self, expr: str, limit: int) -> list[tuple]:
        marks = ", ".join(f"highlight(fts, {i}, char(1), char(2))" for i in range(len(TEXT_COLUMNS)))
        lengths = ", ".join(f"docs.len_{c}" for c in TEXT_COLUMNS)
        return self.db.execute(
            f"SELECT fts.rowid, {marks}, {lengths} FROM fts JOIN docs ON docs.rowid = fts.rowid "
            "WHERE fts MATCH ? ORDER BY fts.rowid LIMIT ?",
            (expr, limit),
        ).fetchall()

    def _at_least(self, expr: str, count: int) -> bool:
        """Whether an expression matches at least ``count`` datasets (FTS5 stops counting there)."""
        sql = "SELECT COUNT(*) FROM (SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid LIMIT ?)"
        return self.db.execute(sql, (expr, count)).fetchone()[0] >= count

    def _ranked(
        self, query: ParsedQuery, filter_expr: str | None, needed: int, total: int
    ) -> tuple[list[tuple[int, float]], bool, dict[int, tuple[str, str]]]:
        """(rowid, score) best first, whether every match was scored, and the candidates' highlighted title and
        description (the hits' title and snippet come from there)."""
        match_expr = _and(query.expression(), filter_expr)
        budget = max(self.candidates, 2 * needed)
        if total <= budget:
            rows = self._candidates(match_expr, total)
            exhaustive = True
        else:
            # The best-scored datasets match in the heaviest fields: take candidates from the narrowest tier
            # that has enough of them (title and keywords, then title, then any short field); matches in
            # the description alone fill in only when the short fields do not fill the page. (The text
            # query is repeated without column filter so that highlight() marks the descriptions too.)
            text = query.expression()
            for tier in TIERS:
                narrowed = _and(text, *(query.expression(columns) for columns in tier), filter_expr)
                if self._at_least(narrowed, budget):
                    break
            rows = self._candidates(narrowed, budget)
            if len(rows) < needed:
                seen = {r[0] for r in rows}
                rows += [r for r in self._candidates(match_expr, budget) if r[0] not in seen]
            exhaustive = False
        score = _Scorer(self, query.terms).score
        demoted = self.demoted
        scored = [(demoted(row[0]), -score(row), row[0]) for row in rows]
        scored.sort()
        marked = {row[0]: (row[1], row[3]) for row in rows}
        return [(rowid, -negative) for _demoted, negative, rowid in scored], exhaustive, marked

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
        """One page of the results (a bitmap; None for all datasets) in a precomputed order."""
        rowids, places = self.order(sort)
        if found is None:
            return list(rowids[offset : offset + limit])
        bits = found.to_bytes(self.max_rowid // 8 + 1, "little")
        if total * 32 < self.documents:  # few results: collect them and sort by place
            members = [
                (match.start() << 3) + bit
                for match in _NONZERO.finditer(bits)
                for bit in range(8)
                if match.group()[0] >> bit & 1
            ]
            return heapq.nsmallest(offset + limit, members, key=places.__getitem__)[offset:]
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
        self, page: list[tuple[int, float]], text_expr: str | None, marked: dict[int, tuple[str, str]] | None = None
    ) -> list[Hit]:
        if not page:
            return []
        rowids = [rowid for rowid, _ in page]
        marks = ",".join("?" * len(rowids))
        docs = {
            rowid: (iri, record)
            for rowid, iri, record in self.db.execute(
                f"SELECT d.rowid, d.iri, c.record FROM docs d JOIN catalogue.datasets c ON c.iri = d.iri "
                f"WHERE d.rowid IN ({marks})",
                rowids,
            )
        }
        snippets: dict[int, tuple[str, str]] = {}
        marked = marked or {}
        if text_expr is not None:
            # one query per hit: FTS5 seeks to a rowid given by "=", but would scan every match for an IN list
            sql = "SELECT highlight(fts, 0, char(1), char(2)), highlight(fts, 2, char(1), char(2)) FROM fts "
            sql += "WHERE fts MATCH ? AND rowid = ?"
            for rowid in rowids:
                found = marked.get(rowid) or self.db.execute(sql, (text_expr, rowid)).fetchone()
                if found:
                    snippets[rowid] = (found[0], snippet(found[1]))
        hits = []
        for rowid, score in page:
            iri, record_json = docs[rowid]
            record = json.loads(record_json)
            title, text = snippets.get(rowid) or (record.get("title", ""), _shorten(record.get("description", "")))
            hits.append(Hit(rowid, iri, record, score, marked_html(title), marked_html(text), self.demoted(rowid)))
        return hits

    # -- lists for pages ---------------------------------------------------------------------------------------
    def recent(self, limit: int) -> list[Hit]:
        """The most recently updated datasets."""
        return self._hits([(r, 0.0) for r in self._in_order(None, self.documents, "updated", 0, limit)], None)


class _Scorer:
    """BM25 per column, weighted, for one query's terms (see the module docstring)."""

    def __init__(self, index: SearchIndex, terms: list[Term]) -> None:
        self.index = index
        self.terms = [(tuple(STEMMER.stems(list(t.words))), t.prefix) for t in terms]
        self.term_weights = [t.weight for t in terms]
        n = index.documents
        self.idf = []
        for stems, prefix in self.terms:
            if len(stems) == 1:
                df = index.term_frequency(stems[0], prefix)
            else:
                df = min(index.term_frequency(s, prefix and i == len(stems) - 1) for i, s in enumerate(stems))
            self.idf.append(math.log(1 + (n - df + 0.5) / (df + 0.5)) * self.term_weights[len(self.idf)])
        self.single = len(self.terms) == 1
        # how marked spans are attributed: single words by stem, prefixes by start, phrases by sequence
        self.words: dict[str, list[int]] = {}
        self.prefixes: list[tuple[int, str]] = []
        self.phrases: list[tuple[int, tuple[str, ...], bool]] = []
        for i, (stems, prefix) in enumerate(self.terms):
            if len(stems) > 1:
                self.phrases.append((i, stems, prefix))
            elif prefix:
                self.prefixes.append((i, stems[0]))
            else:
                self.words.setdefault(stems[0], []).append(i)
        # per column: weight, and BM25's length norm k1 * (1 - b + b * length / average) as fixed + per token
        self.columns = [
            (i, WEIGHTS[c], K1 * (1 - B), K1 * B / max(index.average_lengths[c], 1.0))
            for i, c in enumerate(TEXT_COLUMNS)
        ]

    def frequencies(self, marked: str) -> list[int]:
        """How often each term occurs in a highlighted column (each marked span attributed by its stems)."""
        counts = [0] * len(self.terms)
        words, prefixes, phrases = self.words, self.prefixes, self.phrases
        for span in _SPAN.findall(marked):
            stemmed = _span_stems(span)
            for stem in stemmed:
                for i in words.get(stem, ()):
                    counts[i] += 1
                for i, prefix in prefixes:
                    if stem.startswith(prefix):
                        counts[i] += 1
            if len(stemmed) > 1:
                for i, stems, prefix in phrases:
                    counts[i] += _occurrences(stemmed, stems, prefix)
        return counts

    def score(self, row: tuple) -> float:
        """Score a candidate row: (rowid, one highlight() per text column, one length per text column)."""
        total = 0.0
        lengths = len(TEXT_COLUMNS) + 1
        for c, weight, fixed, per_token in self.columns:
            marked = row[1 + c]
            if MARK_OPEN not in marked:
                continue
            norm = fixed + per_token * row[lengths + c]
            if self.single:  # every marked span is an instance of the one term
                tf = marked.count(MARK_OPEN)
                total += weight * self.idf[0] * tf * (K1 + 1) / (tf + norm)
                continue
            for i, tf in enumerate(self.frequencies(marked)):
                if tf:
                    total += weight * self.idf[i] * tf * (K1 + 1) / (tf + norm)
        return total


@lru_cache(maxsize=65536)
def _span_stems(span: str) -> tuple[str, ...]:
    return tuple(STEMMER.stems(tokens(span)))


def _occurrences(stemmed: tuple[str, ...], stems: tuple[str, ...], prefix: bool) -> int:
    n = len(stems)
    head, last = stems[:-1], stems[-1]
    count = 0
    for start in range(len(stemmed) - n + 1):
        end = stemmed[start + n - 1]
        if stemmed[start : start + n - 1] == head and (end.startswith(last) if prefix else end == last):
            count += 1
    return count


def _and(*parts: str | None) -> str | None:
    present = [p for p in parts if p]
    if not present:
        return None
    return present[0] if len(present) == 1 else " AND ".join(f"({p})" for p in present)


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


def search_index(snapshot: Snapshot) -> SearchIndex:
    """The search index of a snapshot, opened once per process and generation."""
    key = snapshot.index_dir
    with _INDEXES_LOCK:
        found = _INDEXES.get(key)
        if found is not None:
            return found
    index = SearchIndex(key)
    with _INDEXES_LOCK:
        _INDEXES[key] = index
        while len(_INDEXES) > 2:
            _INDEXES.popitem(last=False)
    return index


__all__ = [
    "SORTS",
    "FacetValue",
    "Hit",
    "QueryError",
    "SearchIndex",
    "SearchRequest",
    "SearchResult",
    "marked_html",
    "search_index",
]
