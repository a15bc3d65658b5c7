"""Builds ``indexes/search.sqlite`` for a generation, from that generation's ``catalogue.sqlite``.

Runs in the publish step (it is in :data:`dfl_graph.indexes.BUILDERS` after the catalogue index), so
search always describes exactly the published store, public datasets only (the catalogue index holds
nothing else), and lists one of the datasets a harvest found to be the same (``duplicate_of``).

A generation written in place (an incremental harvest: ``changes.json``, see :class:`dfl_graph.store.Delta`)
updates a copy of the previous generation's index: the changed datasets' rows are replaced, then the
document frequencies and the precomputed orders are recomputed. Anything else is a full rebuild (about
10-15 s per 100k datasets; docs/benchmarks.md).

Layout:

* ``docs``: one row per dataset; its rowid is a *static rank* (current before archived or superseded,
  then shorter titles first, then the most recently updated), so FTS5 can walk matches best-first and
  stop early on huge result sets (see :mod:`dfl_graph.search.index`). Datasets added by an incremental
  update are appended after the others.
* ``fts``: an FTS5 index over ``docs`` (external content: the text is stored once) with the porter
  stemmer; a hidden ``facets`` column holds one token per facet value, so filters are FTS5 terms too.
* ``facet_values``: each facet value with its key, IRI, label, count and a bitmap of the docs having it.
* ``terms``: document frequency per indexed stem (BM25's IDF without scanning a posting list per query).
* ``orders``: the docs in last-update order and in title order, and each doc's place in both.
"""

from __future__ import annotations

import json
import sqlite3
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from pyoxigraph import NamedNode

from dfl_graph.index_files import StaleIndex, copy_for_update, writing_index
from dfl_graph.namespaces import PROV
from dfl_graph.search.facets import KINDS, dataset_themes, kind_of, normalise_formats, value_key
from dfl_graph.search.query import TEXT_COLUMNS
from dfl_graph.search.text import TOKENIZER, clean, token_count
from dfl_graph.store import Snapshot, read_changes

FILENAME = "search.sqlite"
LARGE_CACHE = "PRAGMA cache_size=-262144;"  # 256 MB of page cache while the index is written
SCHEMA_VERSION = "3"  # an incremental update needs the previous index in this same layout
FACET_TOKEN = "zf"  # + the value's code: a token no text produces (letters then digits, never stemmed)
STATUS_LABELS = {"current": "Current", "archived": "Archived", "superseded": "Superseded"}
INDEXED = (*TEXT_COLUMNS, "facets")  # the columns of the FTS5 index, in its order

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
  {", ".join(f"len_{c} INTEGER NOT NULL" for c in TEXT_COLUMNS)}  -- token counts, for BM25's length norm
);
CREATE VIRTUAL TABLE fts USING fts5(
  {", ".join(INDEXED)}, content='docs', content_rowid='rowid', tokenize='{TOKENIZER}', prefix='2 3'
);
CREATE TABLE facet_values (
  code INTEGER PRIMARY KEY, facet TEXT NOT NULL, key TEXT NOT NULL, iri TEXT, label TEXT NOT NULL,
  count INTEGER NOT NULL, bitmap BLOB NOT NULL
);
CREATE UNIQUE INDEX facet_values_key ON facet_values(facet, key);
CREATE TABLE terms (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE orders (name TEXT PRIMARY KEY, rowids BLOB NOT NULL, places BLOB NOT NULL);  -- uint32 arrays
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
DOC_INDEXES = """
CREATE UNIQUE INDEX docs_iri ON docs(iri);
CREATE INDEX docs_updated ON docs(updated DESC, rowid);
CREATE INDEX docs_title ON docs(title_key, rowid);
"""
ORDERS = {"updated": "updated DESC, iri", "title": "title_key, iri"}  # ties by IRI: an update orders as a rebuild
DOC_COLUMNS = 5 + len(INDEXED) + len(TEXT_COLUMNS)


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

    def __init__(self, values: _Values, labels: _Labels, base: str) -> None:
        self.values = values
        self.labels = labels
        self.base = base
        self.length_sums = [0] * len(TEXT_COLUMNS)
        self.years: Counter = Counter()
        self.count = 0

    def _codes(self, record: dict) -> list[int]:
        values, memo, labels = self.values, self.values.memo, self.labels

        def code(facet: str, iri: str | None) -> int | None:
            if iri is None:
                return None
            found = memo.get((facet, iri))
            if found is None:
                key = value_key(facet, iri, self.base)
                found = memo[(facet, iri)] = values.code(facet, key, iri, labels.of(iri))
            return found

        codes = [code("theme", t) for t in dataset_themes(record)]
        codes.append(code("publisher", record.get("publisher")))
        codes += [code("borough", b) for b in record.get("boroughs") or ()]
        formats = tuple(record.get("formats") or ())
        if formats:
            found = memo.get(("formats", formats))
            if found is None:
                normalised = normalise_formats(list(formats))
                kinds = sorted({kind_of(f.key) for f in normalised})
                found = memo[("formats", formats)] = [
                    *(values.code("format", f.key, f.iri, labels.get(f.iri) or f.key) for f in normalised),
                    *(values.code("kind", kind, None, KINDS[kind]) for kind in kinds),
                ]
            codes += found
        codes.append(code("licence", record.get("licence")))
        codes.append(code("access", record.get("access")))
        codes.append(code("frequency", record.get("frequency")))
        status = record.get("status") or "current"
        codes.append(values.code("status", status, None, STATUS_LABELS.get(status, status.title())))
        return [c for c in dict.fromkeys(codes) if c is not None]

    def row(self, rowid: int, iri: str, title: str, description: str, keywords: str, record_json: str) -> tuple:
        """The ``docs`` row of one dataset (its facet values and statistics counted in)."""
        record = json.loads(record_json)
        codes = self._codes(record)
        for code in codes:
            self.values.add(code, rowid)
        of = self.labels.of
        text = {
            "title": clean(title),
            "keywords": clean(" ; ".join(json.loads(keywords))),
            "description": clean(description),
            "publisher": clean(of(record["publisher"])) if record.get("publisher") else "",
            "themes": clean(" ; ".join(dict.fromkeys(of(t) for t in record.get("themes") or []))),
            "boroughs": clean(" ; ".join(of(b) for b in record.get("boroughs") or [])),
        }
        lengths = [token_count(text[c]) for c in TEXT_COLUMNS]
        updated = record.get("modified") or record.get("issued") or ""
        self._count(lengths, updated, 1)
        return (
            rowid,
            iri,
            record.get("status") or "current",
            updated,
            title.casefold(),
            *(text[c] for c in TEXT_COLUMNS),
            " ".join(f"{FACET_TOKEN}{code}" for code in codes),
            *lengths,
        )

    def forget(self, rowid: int, facets: str, lengths: Iterable[int], updated: str) -> None:
        """Take a removed ``docs`` row out of the bitmaps and statistics."""
        for token in facets.split():
            self.values.remove(int(token[len(FACET_TOKEN) :]), rowid)
        self._count(list(lengths), updated, -1)

    def _count(self, lengths: list[int], updated: str, sign: int) -> None:
        for i, length in enumerate(lengths):
            self.length_sums[i] += sign * length
        if updated:
            self.years[updated[:4]] += sign
        self.count += sign


def _listed(catalogue: sqlite3.Connection) -> str:
    """The SQL condition for the datasets search lists (a catalogue index from before ``duplicate_of``: all)."""
    columns = {row[1] for row in catalogue.execute("PRAGMA table_info(datasets)")}
    return "duplicate_of IS NULL" if "duplicate_of" in columns else "1"


def _rank_order(catalogue: sqlite3.Connection) -> dict[str, int]:
    """IRI -> static rank (1 = best) of the datasets search lists: current first, shorter titles, recently updated."""
    keys = []
    for iri, title, status, modified, issued in catalogue.execute(
        f"SELECT iri, title, status, modified, issued FROM datasets WHERE {_listed(catalogue)}"
    ):
        keys.append((iri, status != "current", token_count(title), modified or issued or "", title.casefold()))
    keys.sort(key=lambda k: (k[4], k[0]))
    keys.sort(key=lambda k: k[3], reverse=True)
    keys.sort(key=lambda k: (k[1], k[2]))
    return {k[0]: rank for rank, k in enumerate(keys, start=1)}


def _rows(catalogue: sqlite3.Connection, ranks: dict[str, int], documents: _Documents) -> Iterator[tuple]:
    for iri, title, description, keywords, record_json in catalogue.execute(
        f"SELECT iri, title, description, keywords, record FROM datasets WHERE {_listed(catalogue)}"
    ):
        yield documents.row(ranks[iri], iri, title, description, keywords, record_json)


def _finish(db: sqlite3.Connection, snapshot: Snapshot, documents: _Documents, mode: str, started: float) -> None:
    """What both a rebuild and an update end with: facet values, orders, term frequencies, statistics."""
    documents.values.write(db)
    db.execute("DELETE FROM orders")
    for name, order in ORDERS.items():
        rowids = array("I", (r[0] for r in db.execute(f"SELECT rowid FROM docs ORDER BY {order}")))
        places = array("I", bytes(4 * (documents.values.size + 1)))
        for place, rowid in enumerate(rowids):
            places[rowid] = place
        db.execute("INSERT INTO orders VALUES (?, ?, ?)", (name, rowids.tobytes(), places.tobytes()))
    db.execute("DELETE FROM terms")
    db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, 'row')")
    db.execute(f"INSERT INTO terms SELECT term, doc FROM temp.vocab WHERE term NOT GLOB '{FACET_TOKEN}[0-9]*'")
    db.execute("DROP TABLE temp.vocab")
    meta = {
        "schema": SCHEMA_VERSION,
        "generation": str(snapshot.generation),
        "documents": str(documents.count),
        "max_rowid": str(documents.values.size),
        "length_sums": json.dumps(documents.length_sums),
        "updated_years": json.dumps({y: n for y, n in sorted(documents.years.items()) if n}),
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
        documents = _Documents(values, _Labels(catalogue), snapshot.uris.base)
        db.executemany(f"INSERT INTO docs VALUES ({','.join('?' * DOC_COLUMNS)})", _rows(catalogue, ranks, documents))
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
            documents = _Documents(values, _Labels(catalogue), snapshot.uris.base)
            documents.length_sums = json.loads(meta["length_sums"])
            documents.years = Counter(json.loads(meta["updated_years"]))
            documents.count = int(meta["documents"])
            changed = set(changes.get("datasets") or ())
            for iri in list(changed):  # datasets linked to a changed one may change which of them search lists
                for quad in snapshot.store.quads_for_pattern(None, PROV.alternateOf, NamedNode(iri), None):
                    changed.add(quad.subject.value)
            lengths = ", ".join(f"len_{c}" for c in TEXT_COLUMNS)
            old_columns = ", ".join(INDEXED)
            for iri in sorted(changed):
                old = db.execute(
                    f"SELECT rowid, updated, {old_columns}, {lengths} FROM docs WHERE iri = ?", (iri,)
                ).fetchone()
                if old is None:
                    continue
                rowid, updated, indexed = old[0], old[1], old[2 : 2 + len(INDEXED)]
                db.execute(
                    f"INSERT INTO fts(fts, rowid, {old_columns}) VALUES ('delete', ?, {', '.join('?' * len(INDEXED))})",
                    (rowid, *indexed),
                )
                db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
                documents.forget(rowid, indexed[-1], old[2 + len(INDEXED) :], updated)
            next_rowid = values.size + 1
            ordered = sorted(changed)
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
                    db.execute(f"INSERT INTO docs VALUES ({','.join('?' * DOC_COLUMNS)})", doc)
                    indexed = doc[5 : 5 + len(INDEXED)]
                    db.execute(
                        f"INSERT INTO fts(rowid, {old_columns}) VALUES (?, {', '.join('?' * len(INDEXED))})",
                        (next_rowid, *indexed),
                    )
                    next_rowid += 1
            _finish(db, snapshot, documents, f"incremental ({len(changed)} datasets changed)", started)
    except StaleIndex:
        return False
    return True


def build_search_index(snapshot: Snapshot, target: Path, previous: Path | None, changed: frozenset[str]) -> None:
    """Write ``indexes/search.sqlite`` for the generation in ``target``: an update of the previous
    generation's index after an in-place write, else a full rebuild."""
    from dfl_graph.indexes.catalogue import FILENAME as CATALOGUE_FILENAME  # (dfl_graph.indexes imports us)

    started = time.perf_counter()
    index_dir = target / "indexes"
    catalogue = sqlite3.connect(f"file:{index_dir / CATALOGUE_FILENAME}?mode=ro", uri=True)
    path = index_dir / FILENAME
    try:
        changes = read_changes(target)
        updated = (
            changes is not None
            and previous is not None
            and _update(snapshot, catalogue, path, previous / "indexes" / FILENAME, changes, started)
        )
        if not updated:
            _rebuild(snapshot, catalogue, path, started)
    finally:
        catalogue.close()


__all__ = ["FACET_TOKEN", "FILENAME", "build_search_index"]
