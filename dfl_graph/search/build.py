"""Builds ``indexes/search.sqlite`` for a generation, from that generation's ``catalogue.sqlite``.

Runs in the publish step (it is in :data:`dfl_graph.indexes.BUILDERS` after the catalogue index), so
search always describes exactly the published store, public datasets only (the catalogue index's
``datasets``), and lists one of the datasets a harvest found to be the same (``duplicate_of``).

When the catalogue holds RESTRICTED or NON_PUBLIC datasets (the catalogue index's ``hidden``), a second index,
``indexes/search-all.sqlite``, is built the same way from every dataset: the Library searches it for callers who
see beyond the public, narrowed to what each may read (:meth:`dfl_graph.search.index.SearchIndex.restriction`).
Public callers keep the public index, its queries and its precomputed counts, untouched. Datasets of a graph the
registry cannot classify (the old mixed layout of a restored dump) are in neither.

A generation written in place (an incremental harvest: ``changes.json``, see :class:`dfl_graph.store.Delta`)
updates a copy of the previous generation's index: the changed datasets' rows are replaced, then the
document frequencies, the spelling vocabulary, the precomputed orders and the quality summary are
recomputed. Anything else is a full rebuild (docs/benchmarks.md).

Layout:

* ``docs``: one row per dataset; its rowid is a *static rank* (current before archived or superseded,
  the latest edition of each series before earlier editions, then shorter titles first, then the most
  recently updated), so FTS5 can walk matches best-first and stop early on huge result sets (see
  :mod:`dfl_graph.search.index`), and the first matches are mostly distinct series. Datasets added by an incremental
  update are appended after the others. Besides the text it holds what ranking and grouping need: the
  metadata quality score (read from the dataset's DQV measurements, :mod:`dfl_graph.quality`), the
  series and edition (:mod:`dfl_graph.search.series`).
* ``fts``: an FTS5 index over ``docs`` (external content: the text is stored once) with the porter
  stemmer; a hidden ``facets`` column holds one token per facet value, so filters are FTS5 terms too.
  The publisher column holds the publisher's name and every other name it goes by (``skos:altLabel``:
  "TfL", "Met Police", "MOPAC"), the boroughs column each borough's names and GSS code. A dataset that
  names no borough and is not a council's also gets :data:`LONDON_WIDE_TOKEN` (a query naming a borough
  among other words also finds London-wide data: :mod:`dfl_graph.search.query`).
* ``facet_values``: each facet value with its key, IRI, label, count and a bitmap of the docs having it;
  every facet has a "not stated" value, so its counts add up.
* ``aliases``: every name of a publisher or borough (and a borough's GSS code), so filters and queries can
  name them as people do; ``councils``: the council that publishes for each borough.
* ``terms``: document frequency per indexed stem (BM25's IDF without scanning a posting list per query);
  ``spelling``: the words of the short fields with how many datasets use them (:mod:`~.spelling`).
* ``orders``: the docs in last-update order and in title order, and each doc's place in both.
* ``quality_summary``: per publisher, datasets, average points per quality dimension, datasets per rating.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from pyoxigraph import NamedNode

from dfl_graph.format_kinds import KINDS, kind_of, normalise_formats
from dfl_graph.index_files import StaleIndex, copy_for_update, writing_index
from dfl_graph.namespaces import DCT, DQV, FOAF, PROV, SKOS
from dfl_graph.quality import DIMENSION_IDS, RATING_LABELS, RATINGS, from_measurements, rating_of
from dfl_graph.queries import query_text
from dfl_graph.search.facets import NOT_STATED, NOT_STATED_LABEL, PERSONAL_DATA_LABELS, dataset_themes, value_key
from dfl_graph.search.query import TEXT_COLUMNS
from dfl_graph.search.series import edition_key, series_id
from dfl_graph.search.synonyms import read_rules
from dfl_graph.search.text import TOKENIZER, clean, terms_of, token_count, tokens
from dfl_graph.store import Snapshot, read_changes

FILENAME = "search.sqlite"
ALL_FILENAME = "search-all.sqlite"  # every dataset, public or not (built only when some are not)
# what the index of every dataset reads as ``datasets``: the public rows, and the hidden rows the visibility rules
# can classify (TEMP objects come first in SQLite's name resolution, so the builder's queries read this view)
ALL_DATASETS_VIEW = """
CREATE TEMP VIEW datasets AS
SELECT iri, title, description, keywords, issued, modified, status, record, duplicate_of FROM main.datasets
UNION ALL
SELECT iri, title, description, keywords, issued, modified, status, record, NULL FROM main.hidden
WHERE access IN ('restricted', 'non-public')
"""
LARGE_CACHE = "PRAGMA cache_size=-262144;"  # 256 MB of page cache while the index is written
# an incremental update needs the previous index in this same layout ("6": covering orders; "7": catalogue records
# keep their texts' languages, which the description column indexes)
SCHEMA_VERSION = "7"
FACET_TOKEN = "zf"  # + the value's code: a token no text produces (letters then digits, never stemmed)
# datasets about all of London (or nowhere in particular): no borough stated, and not published by a council;
# code 0 is no facet value's
LONDON_WIDE_TOKEN = f"{FACET_TOKEN}0"
STATUS_LABELS = {"current": "Current", "archived": "Archived", "superseded": "Superseded"}
INDEXED = (*TEXT_COLUMNS, "facets")  # the columns of the FTS5 index, in its order
SHORT_FIELDS = ("title", "keywords", "publisher", "themes", "boroughs")  # the spelling vocabulary's sources
# columns of docs, in order (the text and its token counts in TEXT_COLUMNS order)
DOC_FIELDS = (
    "rowid",
    "iri",
    "status",
    "updated",
    "title_key",
    *INDEXED,
    *(f"len_{c}" for c in TEXT_COLUMNS),
    "publisher_code",
    "quality",
    "quality_dimensions",
    "series",
    "edition",
)

SCHEMA = f"""
CREATE TABLE docs (
  rowid INTEGER PRIMARY KEY,      -- static rank: best first
  iri TEXT NOT NULL,
  status TEXT NOT NULL,           -- current, archived, superseded
  updated TEXT NOT NULL,          -- last modified, else issued ('' if neither): lexical, sortable
  title_key TEXT NOT NULL,
  title TEXT NOT NULL, keywords TEXT NOT NULL, description TEXT NOT NULL,
  publisher TEXT NOT NULL, themes TEXT NOT NULL, boroughs TEXT NOT NULL,
  facets TEXT NOT NULL,
  {", ".join(f"len_{c} INTEGER NOT NULL" for c in TEXT_COLUMNS)},  -- token counts, for BM25's length norm
  publisher_code INTEGER NOT NULL, -- the publisher's facet value (or "not stated")
  quality INTEGER,                -- metadata quality points (of 405); NULL when the dataset has no measurements
  quality_dimensions TEXT,        -- points per dimension, comma-separated in dfl_graph.quality.DIMENSION_IDS order
  series TEXT NOT NULL,           -- dfl_graph.search.series.series_id
  edition TEXT NOT NULL           -- dfl_graph.search.series.edition_key: sorts a series' editions
);
CREATE VIRTUAL TABLE fts USING fts5(
  {", ".join(INDEXED)}, content='docs', content_rowid='rowid', tokenize='{TOKENIZER}', prefix='2 3'
);
CREATE TABLE facet_values (
  code INTEGER PRIMARY KEY, facet TEXT NOT NULL, key TEXT NOT NULL, iri TEXT, label TEXT NOT NULL,
  count INTEGER NOT NULL, bitmap BLOB NOT NULL
);
CREATE UNIQUE INDEX facet_values_key ON facet_values(facet, key);
CREATE TABLE aliases (facet TEXT NOT NULL, alias TEXT NOT NULL, iri TEXT NOT NULL, PRIMARY KEY (facet, alias, iri))
  WITHOUT ROWID;                  -- alias: casefolded
CREATE TABLE councils (borough TEXT PRIMARY KEY, publisher TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE terms (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE spelling (word TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE orders (name TEXT PRIMARY KEY, rowids BLOB NOT NULL, places BLOB NOT NULL);  -- uint32 arrays
CREATE TABLE quality_summary (
  publisher_code INTEGER PRIMARY KEY, datasets INTEGER NOT NULL, measured INTEGER NOT NULL,
  total REAL, dimensions TEXT NOT NULL,  -- averages (total points; JSON: dimension -> average points)
  ratings TEXT NOT NULL           -- JSON: rating -> datasets
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
DOC_INDEXES = """
CREATE UNIQUE INDEX docs_iri ON docs(iri);
CREATE INDEX docs_updated ON docs(updated DESC, iri);  -- the orders below, read from the index alone
CREATE INDEX docs_title ON docs(title_key, iri);
CREATE INDEX docs_series ON docs(series, edition);
"""
ORDERS = {"updated": "updated DESC, iri", "title": "title_key, iri"}  # ties by IRI: an update orders as a rebuild
NAME_PREDICATES = (FOAF.name, SKOS.prefLabel, SKOS.altLabel, SKOS.notation)


class _Labels:
    """Labels from the catalogue index, looked up as needed (the table also holds every dataset's title)."""

    def __init__(self, catalogue: sqlite3.Connection) -> None:
        self.catalogue = catalogue
        self.cache: dict[str, str | None] = {}

    def get(self, iri: str) -> str | None:
        if iri not in self.cache:
            row = self.catalogue.execute("SELECT label FROM labels WHERE iri = ?", (iri,)).fetchone()
            self.cache[iri] = row[0] if row else None
        return self.cache[iri]

    def of(self, iri: str) -> str:
        """An IRI's label (first letter capitalised: the EU lists write "annual"), else its last segment."""
        label = self.get(iri) or iri.rstrip("/").rsplit("/", 1)[-1]
        return label[:1].upper() + label[1:]


class _Names:
    """Every name a publisher or borough goes by (``foaf:name``, ``skos:prefLabel``, ``skos:altLabel``,
    ``skos:notation``: the GSS code of a borough), from the public graphs, and the borough a council
    publisher covers (``dct:spatial``). Read per IRI as needed: there are a few hundred of them."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.store = snapshot.store
        self.public = {g.value for g in snapshot.public_graphs}
        self.borough_prefix = snapshot.uris.borough("")
        self.cache: dict[str, tuple[list[str], list[str]]] = {}

    def _read(self, iri: str) -> tuple[list[str], list[str]]:
        found = self.cache.get(iri)
        if found is None:
            names: list[str] = []
            places: list[str] = []
            subject = NamedNode(iri)
            for predicate in (*NAME_PREDICATES, DCT.spatial):
                for quad in self.store.quads_for_pattern(subject, predicate, None, None):
                    if quad.graph_name.value not in self.public:  # type: ignore[union-attr]
                        continue
                    if predicate == DCT.spatial:
                        if quad.object.value.startswith(self.borough_prefix):
                            places.append(quad.object.value)
                    elif getattr(quad.object, "language", None) in (None, "", "en"):
                        names.append(quad.object.value)
            found = self.cache[iri] = (list(dict.fromkeys(names)), places)
        return found

    def names(self, iri: str) -> list[str]:
        return self._read(iri)[0]

    def places(self, iri: str) -> list[str]:
        """The boroughs a publisher covers (a council's own)."""
        return self._read(iri)[1]

    def text(self, iri: str, label: str) -> str:
        """The label and every other name, for the index's text (a council's also its borough's GSS code)."""
        names = [label, *self.names(iri)]
        for place in self.places(iri):
            names += [n for n in self.names(place) if n[:1].isupper() and n[1:].isdigit()]  # GSS codes
        return " ; ".join(dict.fromkeys(n for n in names if n))


def _quality(snapshot: Snapshot, only: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    """dataset IRI -> points per quality dimension, from the DQV measurements in the public graphs
    (``{dataset}#quality-{dimension}``, see :mod:`dfl_graph.quality`); datasets without them are absent."""
    store = snapshot.store
    if only is None:  # one SPARQL scan of the public graphs: half the time of pattern scans per graph
        rows = store.query(query_text("index-quality"), default_graph=snapshot.public_graphs)
        measured = ((row[0].value, row[1].value) for row in rows)
    else:
        measured = (
            (quad.subject.value, quad.object.value)
            for graph in snapshot.public_graphs
            for iri in only
            for measurement in store.quads_for_pattern(None, DQV.computedOn, NamedNode(iri), graph)
            for quad in store.quads_for_pattern(measurement.subject, DQV.value, None, graph)  # type: ignore[arg-type]
        )
    values: dict[str, dict[str, int]] = {}
    for measurement, value in measured:  # a million datasets have six million: kept lean
        dataset, _, fragment = measurement.partition("#")
        if fragment[:8] == "quality-" and value.isdigit():
            values.setdefault(dataset, {})[fragment] = int(value)
    found = {dataset: from_measurements(points) for dataset, points in values.items()}
    return {dataset: points for dataset, points in found.items() if points is not None}


class _Values:
    """The facet values: code per (facet, key), with counts and bitmaps (grown as rowids grow)."""

    def __init__(self) -> None:
        self.codes: dict[tuple[str, str], int] = {}
        self.rows: list[list] = []  # [facet, key, iri, label, count]
        self.bits: list[bytearray] = []
        self.memo: dict[tuple, object] = {}  # (facet, IRI) -> code; ("formats", IRIs) -> codes
        self.size = 0

    @classmethod
    def read(cls, db: sqlite3.Connection) -> _Values:
        values = cls()
        for code, facet, key, iri, label, count, bits in db.execute(
            "SELECT code, facet, key, iri, label, count, bitmap FROM facet_values ORDER BY code"
        ):
            if code != len(values.rows) + 1:
                raise ValueError("facet value codes are not dense")
            values.codes[(facet, key)] = code
            values.rows.append([facet, key, iri, label, count])
            values.bits.append(bytearray(bits))
            values.size = max(values.size, len(bits) * 8 - 1)
        return values

    def grow(self, size: int) -> None:
        """Room for rowids up to ``size``."""
        if size > self.size:
            length = size // 8 + 1
            for bits in self.bits:
                bits.extend(bytes(length - len(bits)))
            self.size = size

    def code(self, facet: str, key: str, iri: str | None, label: str) -> int:
        found = self.codes.get((facet, key))
        if found is None:
            found = self.codes[(facet, key)] = len(self.rows) + 1
            self.rows.append([facet, key, iri, label, 0])
            self.bits.append(bytearray(self.size // 8 + 1))
        return found

    def not_stated(self, facet: str) -> int:
        return self.code(facet, NOT_STATED, None, NOT_STATED_LABEL)

    def add(self, code: int, rowid: int) -> None:
        self.rows[code - 1][4] += 1
        self.bits[code - 1][rowid >> 3] |= 1 << (rowid & 7)

    def remove(self, code: int, rowid: int) -> None:
        self.rows[code - 1][4] -= 1
        self.bits[code - 1][rowid >> 3] &= ~(1 << (rowid & 7)) & 0xFF

    def write(self, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM facet_values")
        db.executemany(
            "INSERT INTO facet_values VALUES (?,?,?,?,?,?,?)",
            ((code, *row, bytes(self.bits[code - 1])) for code, row in enumerate(self.rows, start=1)),
        )


class _Documents:
    """Turns catalogue-index rows into ``docs`` rows, keeping facet bitmaps and column statistics."""

    def __init__(
        self, values: _Values, labels: _Labels, names: _Names, quality: dict[str, dict[str, int]], base: str
    ) -> None:
        self.values = values
        self.labels = labels
        self.names = names
        self.quality = quality
        self.base = base
        self.length_sums = [0] * len(TEXT_COLUMNS)
        self.years: Counter = Counter()
        self.words: Counter = Counter()  # the spelling vocabulary: word -> datasets using it
        self.count = 0

    def _code(self, facet: str, iri: str | None) -> int | None:
        if iri is None:
            return None
        memo = self.values.memo
        found = memo.get((facet, iri))
        if found is None:
            key = value_key(facet, iri, self.base)
            found = memo[(facet, iri)] = self.values.code(facet, key, iri, self.labels.of(iri))
        return found  # type: ignore[return-value]

    def _codes(self, record: dict, points: int | None, updated: str) -> list[int]:
        values, memo = self.values, self.values.memo
        code = self._code

        def stated(facet: str, found: list[int | None]) -> list[int]:
            present = [c for c in found if c is not None]
            return present or [values.not_stated(facet)]

        codes = stated("theme", [code("theme", t) for t in dataset_themes(record)])
        codes += stated("publisher", [code("publisher", record.get("publisher"))])
        codes += stated("borough", [code("borough", b) for b in record.get("boroughs") or ()])
        formats = tuple(record.get("formats") or ())
        if formats:
            found = memo.get(("formats", formats))
            if found is None:
                normalised = normalise_formats(list(formats))
                kinds = sorted({kind_of(f.key) for f in normalised})
                found = memo[("formats", formats)] = [
                    *(values.code("format", f.key, f.iri, self.labels.get(f.iri) or f.key) for f in normalised),
                    *(values.code("kind", kind, None, KINDS[kind]) for kind in kinds),
                ]
            codes += found  # type: ignore[arg-type]
        else:
            codes += [values.not_stated("format"), values.not_stated("kind")]
        for facet, field in (("licence", "licence"), ("access", "access"), ("frequency", "frequency")):
            codes += stated(facet, [code(facet, record.get(field))])
        codes += stated("reason", [code("reason", r) for r in record.get("access_reasons") or ()])
        personal = {True: "yes", False: "no"}.get(record.get("personal_data"))  # type: ignore[arg-type]
        if personal is None:
            codes.append(values.not_stated("personal"))
        else:
            codes.append(values.code("personal", personal, None, PERSONAL_DATA_LABELS[personal]))
        status = record.get("status") or "current"
        codes.append(values.code("status", status, None, STATUS_LABELS.get(status, status.title())))
        if points is None:
            codes.append(values.not_stated("quality"))
        else:
            rating = rating_of(points)
            codes.append(values.code("quality", rating, None, RATING_LABELS[rating]))
        year = updated[:4]
        codes.append(values.code("year", year, None, year) if year.isdigit() else values.not_stated("year"))
        return list(dict.fromkeys(codes))

    def row(self, rowid: int, iri: str, title: str, description: str, keywords: str, record_json: str) -> tuple:
        """The ``docs`` row of one dataset (its facet values and statistics counted in)."""
        record = json.loads(record_json)
        dimensions = self.quality.get(iri)
        points = sum(dimensions.values()) if dimensions else None
        updated = record.get("modified") or record.get("issued") or ""
        codes = self._codes(record, points, updated)
        for code in codes:
            self.values.add(code, rowid)
        of = self.labels.of
        publisher = record.get("publisher")
        text = {
            "title": clean(title),
            "keywords": clean(" ; ".join(json.loads(keywords))),
            "description": clean(" ; ".join([description, *_other_languages(record)])),
            "publisher": clean(self.names.text(publisher, of(publisher))) if publisher else "",
            "themes": clean(" ; ".join(dict.fromkeys(of(t) for t in record.get("themes") or []))),
            "boroughs": clean(" ; ".join(self.names.text(b, of(b)) for b in record.get("boroughs") or [])),
        }
        lengths = [token_count(text[c]) for c in TEXT_COLUMNS]
        self._count(lengths, updated, [text[c] for c in SHORT_FIELDS], 1)
        facet_tokens = [f"{FACET_TOKEN}{code}" for code in codes]
        if not record.get("boroughs") and not (publisher and self.names.places(publisher)):
            facet_tokens.append(LONDON_WIDE_TOKEN)  # no borough named, and not a council's
        return (
            rowid,
            iri,
            record.get("status") or "current",
            updated,
            title.casefold(),
            *(text[c] for c in TEXT_COLUMNS),
            " ".join(facet_tokens),
            *lengths,
            self._publisher_code(publisher),
            points,
            ",".join(str(dimensions[d]) for d in DIMENSION_IDS) if dimensions else None,
            series_id(publisher, title),
            edition_key(title, updated),
        )

    def _publisher_code(self, publisher: str | None) -> int:
        return self._code("publisher", publisher) or self.values.not_stated("publisher")  # type: ignore[return-value]

    def forget(self, rowid: int, old: dict) -> None:
        """Take a removed ``docs`` row out of the bitmaps and statistics."""
        for token in old["facets"].split():
            if token != LONDON_WIDE_TOKEN:
                self.values.remove(int(token[len(FACET_TOKEN) :]), rowid)
        lengths = [old[f"len_{c}"] for c in TEXT_COLUMNS]
        self._count(lengths, old["updated"], [old[c] for c in SHORT_FIELDS], -1)

    def _count(self, lengths: list[int], updated: str, short_texts: list[str], sign: int) -> None:
        for i, length in enumerate(lengths):
            self.length_sums[i] += sign * length
        if updated:
            self.years[updated[:4]] += sign
        for word in {w for text in short_texts for w in tokens(text)}:
            self.words[word] += sign
        self.count += sign


def _other_languages(record: dict) -> list[str]:
    """The titles and descriptions a list record keeps in languages it does not show by default (indexed with the
    description, so every language finds the dataset)."""
    shown = (record.get("title"), record.get("description"))
    kept = record.get("languages") or {}
    found = (value for name in ("title", "description") for _tag, value in kept.get(name, ()) if value not in shown)
    return list(dict.fromkeys(found))


def _listed(catalogue: sqlite3.Connection) -> str:
    """The SQL condition for the datasets search lists (a catalogue index from before ``duplicate_of``: all)."""
    columns = {row[1] for row in catalogue.execute("PRAGMA table_info(datasets)")}
    return "duplicate_of IS NULL" if "duplicate_of" in columns else "1"


def _rank_order(catalogue: sqlite3.Connection) -> dict[str, int]:
    """IRI -> static rank (1 = best) of the datasets search lists: current first; the latest edition of each
    series before the earlier editions (so the first matches FTS5 yields are mostly distinct series, which
    grouped results need); then shorter titles, then the most recently updated."""
    keys, latest = [], {}
    for iri, title, status, modified, issued, publisher in catalogue.execute(
        "SELECT iri, title, status, modified, issued, json_extract(record, '$.publisher') FROM datasets "
        f"WHERE {_listed(catalogue)}"
    ):
        updated = modified or issued or ""
        series, edition = series_id(publisher, title), edition_key(title, updated)
        if (edition, iri) > latest.get(series, ("", "")):
            latest[series] = (edition, iri)
        keys.append((iri, status != "current", token_count(title), updated, title.casefold()))
    heads = {iri for _edition, iri in latest.values()}
    keys.sort(key=lambda k: (k[4], k[0]))
    keys.sort(key=lambda k: k[3], reverse=True)
    keys.sort(key=lambda k: (k[1], k[0] not in heads, k[2]))
    return {k[0]: rank for rank, k in enumerate(keys, start=1)}


def _rows(catalogue: sqlite3.Connection, ranks: dict[str, int], documents: _Documents) -> Iterator[tuple]:
    for iri, title, description, keywords, record_json in catalogue.execute(
        f"SELECT iri, title, description, keywords, record FROM datasets WHERE {_listed(catalogue)}"
    ):
        yield documents.row(ranks[iri], iri, title, description, keywords, record_json)


def _insert(db: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    db.executemany(f"INSERT INTO docs VALUES ({','.join('?' * len(DOC_FIELDS))})", rows)


def _write_names(db: sqlite3.Connection, values: _Values, names: _Names) -> None:
    """The aliases of every publisher and borough value, and the council of each borough."""
    db.execute("DELETE FROM aliases")
    db.execute("DELETE FROM councils")
    rows, councils = set(), {}
    for facet, _key, iri, label, _count in values.rows:
        if facet not in ("publisher", "borough") or not iri:
            continue
        for name in (label, *names.names(iri)):
            rows.add((facet, name.casefold(), iri))
    for facet, _key, iri, _label, _count in values.rows:
        if facet == "publisher" and iri:
            for place in names.places(iri):
                councils.setdefault(place, iri)
    for place in {iri for facet, _k, iri, _l, _c in values.rows if facet == "borough" and iri}:
        for name in names.names(place):
            rows.add(("borough", name.casefold(), place))
    db.executemany("INSERT OR IGNORE INTO aliases VALUES (?,?,?)", sorted(rows))
    db.executemany("INSERT INTO councils VALUES (?,?)", sorted(councils.items()))


def _synonym_words() -> set[str]:
    return {w for sources, targets in read_rules() for e in (*sources, *targets) for w in tokens(e)}


class _QualitySums:
    """One publisher's quality in integers: datasets, measured datasets, points, points per dimension, datasets
    per rating. An update adds and takes away documents and ends where a rebuild's count ends."""

    def __init__(self) -> None:
        self.datasets = self.measured = self.points = 0
        self.dimensions = [0] * len(DIMENSION_IDS)
        self.ratings: Counter = Counter()

    def add(self, points: int | None, dimensions: str | None, sign: int = 1) -> None:
        self.datasets += sign
        if points is None or dimensions is None:
            return
        self.measured += sign
        self.points += sign * points
        for i, value in enumerate(dimensions.split(",")):
            self.dimensions[i] += sign * int(value)
        self.ratings[rating_of(points)] += sign

    @classmethod
    def read(cls, row: tuple) -> _QualitySums:
        """The sums behind a summary row: each average times the measured count, rounded (exact, as the sums
        are integers far below 2**50)."""
        _code, datasets, measured, average, dimensions, ratings = row
        sums = cls()
        sums.datasets, sums.measured = datasets, measured
        if measured:
            sums.points = round(average * measured)
            averages = json.loads(dimensions)
            sums.dimensions = [round(averages[d] * measured) for d in DIMENSION_IDS]
        sums.ratings = Counter(json.loads(ratings))
        return sums

    def row(self, code: int) -> tuple:
        measured = self.measured
        return (
            code,
            self.datasets,
            measured,
            self.points / measured if measured else None,
            json.dumps(
                {d: s / measured for d, s in zip(DIMENSION_IDS, self.dimensions, strict=True)} if measured else {}
            ),
            json.dumps({key: self.ratings.get(key, 0) for _, key, _ in RATINGS}),
        )


def _quality_summary(db: sqlite3.Connection, touched: _Touched | None = None) -> None:
    """Per publisher: datasets, how many have measurements, average points (total and per dimension), and
    datasets per rating, from ``docs``; after an update, the previous summary corrected by the documents it
    removed and added (checked against a rebuild in the tests)."""
    sums: dict[int, _QualitySums] = {}
    if touched is None:
        db.execute("DELETE FROM quality_summary")
        for publisher, points, dimensions in db.execute("SELECT publisher_code, quality, quality_dimensions FROM docs"):
            sums.setdefault(publisher, _QualitySums()).add(points, dimensions)
    else:
        for code, changes in touched.quality.items():
            row = db.execute("SELECT * FROM quality_summary WHERE publisher_code = ?", (code,)).fetchone()
            sums[code] = _QualitySums.read(row) if row else _QualitySums()
            for points, dimensions, sign in changes:
                sums[code].add(points, dimensions, sign)
        db.executemany("DELETE FROM quality_summary WHERE publisher_code = ?", [(code,) for code in sums])
    rows = [entry.row(code) for code, entry in sums.items() if entry.datasets]
    db.executemany("INSERT INTO quality_summary VALUES (?,?,?,?,?,?)", rows)


@dataclasses.dataclass
class _Touched:
    """What an update changed, so that it recounts only that: each publisher's quality (the points of its
    removed and added documents), and the indexed texts whose terms' document frequencies move."""

    quality: dict[int, list[tuple[int | None, str | None, int]]] = dataclasses.field(default_factory=dict)
    texts: list[Sequence[str]] = dataclasses.field(default_factory=list)

    def add(self, doc: dict, sign: int) -> None:
        """A document removed (``sign`` -1) or added (+1): a ``docs`` row as a dict of its fields."""
        changes = self.quality.setdefault(doc["publisher_code"], [])
        changes.append((doc["quality"], doc["quality_dimensions"], sign))
        self.texts.append([doc[c] for c in TEXT_COLUMNS])  # (the facets column holds no term that is counted)


def _write_terms(db: sqlite3.Connection, touched: _Touched | None) -> None:
    """Each term's document frequency, from the FTS index: of every term, or of the terms an update touched
    (about 0.4 ms each, where reading the whole vocabulary takes 0.2 s at 100k datasets)."""
    db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, 'row')")
    counted = f"SELECT term, doc FROM temp.vocab WHERE doc > 0 AND term NOT GLOB '{FACET_TOKEN}[0-9]*'"
    if touched is None:
        db.execute("DELETE FROM terms")
        db.execute(f"INSERT INTO terms {counted}")
    else:
        for term in terms_of(touched.texts, TEXT_COLUMNS):
            db.execute("DELETE FROM terms WHERE term = ?", (term,))
            db.execute(f"INSERT INTO terms {counted} AND term = ?", (term,))
    db.execute("DROP TABLE temp.vocab")


def _finish(
    db: sqlite3.Connection,
    snapshot: Snapshot,
    documents: _Documents,
    mode: str,
    started: float,
    touched: _Touched | None = None,
) -> None:
    """What both a rebuild and an update end with: facet values, names, orders, term frequencies, spelling
    vocabulary, quality summary, statistics (after an update, the terms and quality it ``touched`` only)."""
    documents.values.write(db)
    _write_names(db, documents.values, documents.names)
    db.execute("DELETE FROM orders")
    for name, order in ORDERS.items():
        rowids = array("I", (r[0] for r in db.execute(f"SELECT rowid FROM docs ORDER BY {order}")))
        places = array("I", bytes(4 * (documents.values.size + 1)))
        for place, rowid in enumerate(rowids):
            places[rowid] = place
        db.execute("INSERT INTO orders VALUES (?, ?, ?)", (name, rowids.tobytes(), places.tobytes()))
    _write_terms(db, touched)
    db.execute("DELETE FROM spelling")
    words = {w: n for w, n in documents.words.items() if n > 0}
    for word in _synonym_words():  # known words too, though no dataset uses them (0: never preferred)
        words.setdefault(word, 0)
    db.executemany("INSERT INTO spelling VALUES (?, ?)", sorted(words.items()))
    _quality_summary(db, touched)
    newest = db.execute("SELECT MAX(updated) FROM docs").fetchone()[0] or ""
    meta = {
        "schema": SCHEMA_VERSION,
        "generation": str(snapshot.generation),
        "documents": str(documents.count),
        "max_rowid": str(documents.values.size),
        "length_sums": json.dumps(documents.length_sums),
        "updated_years": json.dumps({y: n for y, n in sorted(documents.years.items()) if n}),
        "newest_update": newest,
        "built": mode,
        "build_seconds": f"{time.perf_counter() - started:.3f}",
    }
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())


def _rebuild(snapshot: Snapshot, catalogue: sqlite3.Connection, path: Path, started: float) -> None:
    path.unlink(missing_ok=True)
    with writing_index(path) as db:
        db.executescript(LARGE_CACHE + SCHEMA)
        ranks = _rank_order(catalogue)
        values = _Values()
        values.grow(len(ranks))
        names = _Names(snapshot)
        documents = _Documents(values, _Labels(catalogue), names, _quality(snapshot), snapshot.uris.base)
        _insert(db, _rows(catalogue, ranks, documents))
        db.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
        db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        db.executescript(DOC_INDEXES)
        _finish(db, snapshot, documents, "full", started)
        db.commit()
        db.execute("ANALYZE")


def _update(
    snapshot: Snapshot, catalogue: sqlite3.Connection, path: Path, previous: Path, changes: dict, started: float
) -> bool:
    """The previous generation's index with the changed datasets' rows replaced; False if it cannot be done."""
    if not previous.exists():
        return False
    try:
        with copy_for_update(previous, path) as db:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            if meta.get("schema") != SCHEMA_VERSION:
                raise StaleIndex
            db.executescript(LARGE_CACHE)
            values = _Values.read(db)
            values.size = int(meta["max_rowid"])
            changed = set(changes.get("datasets") or ())
            for iri in list(changed):  # datasets linked to a changed one may change which of them search lists
                for quad in snapshot.store.quads_for_pattern(None, PROV.alternateOf, NamedNode(iri), None):
                    changed.add(quad.subject.value)
            quality = _quality(snapshot, sorted(changed))
            documents = _Documents(values, _Labels(catalogue), _Names(snapshot), quality, snapshot.uris.base)
            documents.length_sums = json.loads(meta["length_sums"])
            documents.years = Counter(json.loads(meta["updated_years"]))
            documents.words = Counter(dict(db.execute("SELECT word, docs FROM spelling")))
            documents.count = int(meta["documents"])
            indexed = ", ".join(INDEXED)
            fields = ", ".join(DOC_FIELDS)
            touched = _Touched()
            for iri in sorted(changed):
                row = db.execute(f"SELECT {fields} FROM docs WHERE iri = ?", (iri,)).fetchone()
                if row is None:
                    continue
                old = dict(zip(DOC_FIELDS, row, strict=True))
                rowid = old["rowid"]
                touched.add(old, -1)
                db.execute(
                    f"INSERT INTO fts(fts, rowid, {indexed}) VALUES ('delete', ?, {', '.join('?' * len(INDEXED))})",
                    (rowid, *(old[c] for c in INDEXED)),
                )
                db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
                documents.forget(rowid, old)
            next_rowid = values.size + 1
            ordered = sorted(changed)
            first_indexed = DOC_FIELDS.index(INDEXED[0])
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                rows = catalogue.execute(
                    "SELECT iri, title, description, keywords, record FROM datasets "
                    f"WHERE {_listed(catalogue)} AND iri IN ({','.join('?' * len(chunk))}) ORDER BY iri",
                    chunk,
                ).fetchall()
                for iri, title, description, keywords, record_json in rows:
                    values.grow(next_rowid)
                    doc = documents.row(next_rowid, iri, title, description, keywords, record_json)
                    touched.add(dict(zip(DOC_FIELDS, doc, strict=True)), +1)
                    _insert(db, [doc])
                    db.execute(
                        f"INSERT INTO fts(rowid, {indexed}) VALUES (?, {', '.join('?' * len(INDEXED))})",
                        (next_rowid, *doc[first_indexed : first_indexed + len(INDEXED)]),
                    )
                    next_rowid += 1
            mode = f"incremental ({len(changed)} datasets changed)"
            _finish(db, snapshot, documents, mode, started, touched)
    except StaleIndex:
        return False
    return True


def build_search_index(snapshot: Snapshot, target: Path, previous: Path | None, changed: frozenset[str]) -> None:
    """Write ``indexes/search.sqlite`` for the generation in ``target``: an update of the previous
    generation's index after an in-place write, else a full rebuild."""
    from dfl_graph.indexes.catalogue import FILENAME as CATALOGUE_FILENAME  # (dfl_graph.indexes imports us)

    index_dir = target / "indexes"
    changes = read_changes(target)
    catalogue_path = index_dir / CATALOGUE_FILENAME
    for filename in (FILENAME, ALL_FILENAME):
        started = time.perf_counter()
        catalogue = sqlite3.connect(f"file:{catalogue_path}?mode=ro", uri=True)
        path = index_dir / filename
        try:
            if filename == ALL_FILENAME:
                if not _has_hidden(catalogue):
                    continue
                catalogue.execute(ALL_DATASETS_VIEW)
            updated = (
                changes is not None
                and previous is not None
                and _update(snapshot, catalogue, path, previous / "indexes" / filename, changes, started)
            )
            if not updated:
                _rebuild(snapshot, catalogue, path, started)
        finally:
            catalogue.close()


def _has_hidden(catalogue: sqlite3.Connection) -> bool:
    """Whether the catalogue index holds non-public datasets search may show to those who may read them."""
    if catalogue.execute("SELECT 1 FROM sqlite_master WHERE name = 'hidden'").fetchone() is None:
        return False
    sql = "SELECT 1 FROM hidden WHERE access IN ('restricted', 'non-public') LIMIT 1"
    return catalogue.execute(sql).fetchone() is not None


__all__ = ["ALL_FILENAME", "FACET_TOKEN", "FILENAME", "LONDON_WIDE_TOKEN", "build_search_index"]
