"""Builds ``indexes/search.sqlite`` for a generation, from that generation's ``catalogue.sqlite``.

Runs in the publish step (it is in :data:`dfl_graph.indexes.BUILDERS` after the catalogue index), so
search always describes exactly the published store, public datasets only (the catalogue index holds
nothing else). A full rebuild every time: about 10 s per 100k datasets, measured in docs/benchmarks.md.

Layout:

* ``docs``: one row per dataset; its rowid is a *static rank* (current before archived or superseded,
  then shorter titles first, then the most recently updated), so FTS5 can walk matches best-first and
  stop early on huge result sets (see :mod:`dfl_graph.search.index`).
* ``fts``: an FTS5 index over ``docs`` (external content: the text is stored once) with the porter
  stemmer; a hidden ``facets`` column holds one token per facet value, so filters are FTS5 terms too.
* ``facet_values``: each facet value with its key, IRI, label, count and a bitmap of the docs having it.
* ``terms``: document frequency per indexed stem (BM25's IDF without scanning a posting list per query).
"""

from __future__ import annotations

import json
import sqlite3
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

from dfl_graph.search.facets import KINDS, dataset_themes, kind_of, normalise_formats, value_key
from dfl_graph.search.query import TEXT_COLUMNS
from dfl_graph.search.text import TOKENIZER, clean, token_count
from dfl_graph.store import Snapshot

FILENAME = "search.sqlite"
FACET_TOKEN = "zf"  # + the value's code: a token no text produces (letters then digits, never stemmed)
STATUS_LABELS = {"current": "Current", "archived": "Archived", "superseded": "Superseded"}

SCHEMA = f"""
CREATE TABLE docs (
  rowid INTEGER PRIMARY KEY,      -- static rank: best first
  position INTEGER NOT NULL,      -- the dataset's position in catalogue.sqlite
  iri TEXT NOT NULL,
  demoted INTEGER NOT NULL,       -- 1 for archived or superseded datasets
  updated TEXT NOT NULL,          -- last modified, else issued ('' if neither): lexical, sortable
  title_key TEXT NOT NULL,
  title TEXT NOT NULL, keywords TEXT NOT NULL, description TEXT NOT NULL,
  publisher TEXT NOT NULL, themes TEXT NOT NULL, boroughs TEXT NOT NULL,
  facets TEXT NOT NULL,
  {", ".join(f"len_{c} INTEGER NOT NULL" for c in TEXT_COLUMNS)}  -- token counts, for BM25's length norm
);
CREATE VIRTUAL TABLE fts USING fts5(
  {", ".join(TEXT_COLUMNS)}, facets, content='docs', content_rowid='rowid',
  tokenize='{TOKENIZER}', prefix='2 3'
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
ORDERS = {"updated": "updated DESC, rowid", "title": "title_key, rowid"}


def _label(labels: dict[str, str], iri: str) -> str:
    """An IRI's label (first letter capitalised: the EU lists write "annual", "public"), else its last segment."""
    label = labels.get(iri) or iri.rstrip("/").rsplit("/", 1)[-1]
    return label[:1].upper() + label[1:]


class _Values:
    """Facet values met while building: code per (facet, key), with counts and bitmaps."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.codes: dict[tuple[str, str], int] = {}
        self.rows: list[list] = []  # [facet, key, iri, label, count]
        self.bits: list[bytearray] = []
        self.length_sums = [0] * len(TEXT_COLUMNS)
        self.memo: dict[tuple, object] = {}  # (facet, IRI) -> code; ("formats", IRIs) -> codes

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


def _facet_codes(record: dict, values: _Values, labels: dict[str, str], base: str) -> list[int]:
    memo = values.memo

    def code(facet: str, iri: str | None) -> int | None:
        if iri is None:
            return None
        found = memo.get((facet, iri))
        if found is None:
            found = memo[(facet, iri)] = values.code(facet, value_key(facet, iri, base), iri, _label(labels, iri))
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


def _rank_order(catalogue: sqlite3.Connection) -> dict[int, int]:
    """position -> static rank (1 = best): current first, shorter titles, more recently updated."""
    keys = []
    for position, title, status, modified, issued in catalogue.execute(
        "SELECT position, title, status, modified, issued FROM datasets"
    ):
        keys.append((position, status != "current", token_count(title), modified or issued or "", title.casefold()))
    keys.sort(key=lambda k: (k[4], k[0]))
    keys.sort(key=lambda k: k[3], reverse=True)
    keys.sort(key=lambda k: (k[1], k[2]))
    return {k[0]: rank for rank, k in enumerate(keys, start=1)}


def _docs(catalogue: sqlite3.Connection, ranks: dict[int, int], values: _Values, base: str) -> Iterator[tuple]:
    labels = dict(catalogue.execute("SELECT iri, label FROM labels"))
    for position, iri, title, description, keywords, record_json in catalogue.execute(
        "SELECT position, iri, title, description, keywords, record FROM datasets ORDER BY position"
    ):
        record = json.loads(record_json)
        rowid = ranks[position]
        codes = _facet_codes(record, values, labels, base)
        for code in codes:
            values.add(code, rowid)
        text = {
            "title": clean(title),
            "keywords": clean(" ; ".join(json.loads(keywords))),
            "description": clean(description),
            "publisher": clean(_label(labels, record["publisher"])) if record.get("publisher") else "",
            "themes": clean(" ; ".join(dict.fromkeys(_label(labels, t) for t in record.get("themes") or []))),
            "boroughs": clean(" ; ".join(_label(labels, b) for b in record.get("boroughs") or [])),
        }
        lengths = [token_count(text[c]) for c in TEXT_COLUMNS]
        for i, length in enumerate(lengths):
            values.length_sums[i] += length
        status = record.get("status") or "current"
        yield (
            rowid,
            position,
            iri,
            int(status != "current"),
            record.get("modified") or record.get("issued") or "",
            title.casefold(),
            *(text[c] for c in TEXT_COLUMNS),
            " ".join(f"{FACET_TOKEN}{code}" for code in codes),
            *lengths,
        )


def build_search_index(snapshot: Snapshot, target: Path, previous: Path | None, changed: frozenset[str]) -> None:
    """Write ``indexes/search.sqlite`` for the generation in ``target`` (a full rebuild)."""
    from dfl_graph.indexes.catalogue import FILENAME as CATALOGUE_FILENAME  # (dfl_graph.indexes imports us)

    started = time.perf_counter()
    index_dir = target / "indexes"
    catalogue = sqlite3.connect(f"file:{index_dir / CATALOGUE_FILENAME}?mode=ro", uri=True)
    path = index_dir / FILENAME
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;" + SCHEMA)
        ranks = _rank_order(catalogue)
        values = _Values(len(ranks))
        columns = 6 + 2 * len(TEXT_COLUMNS) + 1
        db.executemany(
            f"INSERT INTO docs VALUES ({','.join('?' * columns)})", _docs(catalogue, ranks, values, snapshot.uris.base)
        )
        db.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
        db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        for name, order in ORDERS.items():
            rowids = array("I", (r[0] for r in db.execute(f"SELECT rowid FROM docs ORDER BY {order}")))
            places = array("I", bytes(4 * (len(rowids) + 1)))
            for place, rowid in enumerate(rowids):
                places[rowid] = place
            db.execute("INSERT INTO orders VALUES (?, ?, ?)", (name, rowids.tobytes(), places.tobytes()))
        db.executemany(
            "INSERT INTO facet_values VALUES (?,?,?,?,?,?,?)",
            ((code, *row, bytes(values.bits[code - 1])) for code, row in enumerate(values.rows, start=1)),
        )
        db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, 'row')")
        db.execute(f"INSERT INTO terms SELECT term, doc FROM temp.vocab WHERE term NOT GLOB '{FACET_TOKEN}[0-9]*'")
        db.execute("DROP TABLE temp.vocab")
        averages = [total / max(len(ranks), 1) for total in values.length_sums]
        years = dict(db.execute("SELECT substr(updated, 1, 4), COUNT(*) FROM docs WHERE updated != '' GROUP BY 1"))
        last_current = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM docs WHERE demoted = 0").fetchone()[0]
        meta = {
            "generation": str(snapshot.generation),
            "documents": str(len(ranks)),
            "last_current_rowid": str(last_current),
            "average_lengths": json.dumps(averages),
            "updated_years": json.dumps(years),
            "build_seconds": f"{time.perf_counter() - started:.3f}",
        }
        db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        db.commit()
        db.execute("ANALYZE")
        db.commit()
    finally:
        db.close()
        catalogue.close()


__all__ = ["FACET_TOKEN", "FILENAME", "build_search_index"]
