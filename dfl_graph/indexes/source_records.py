"""``indexes/source-records.sqlite``: each source's records (identifier, IRI, public, content hash).

A write of a source (a ``dfl load`` or a harvest: both are planned against what the store holds, see
:mod:`dfl_graph.plan`) must know what the store holds for a source before it can tell what changed. Reading that from
the store is two pattern scans over the source's graphs (a second or more per 10,000 records, mostly random
reads of the string dictionary); this index answers the same in milliseconds. It is derived like every index,
in the publish step, and kept exact cheaply: a generation written in place is the previous generation's state
with its ``changes.json`` delta applied (the ``dct:identifier`` and ``dfl:contentHash`` quads removed and
added); any other generation re-reads the sources it changed from the store. Sources whose records carry no
``dfl:contentHash`` at all (restored from a dump, or written before loads recorded hashes) are not covered,
and readers fall back to the scan.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, parse

from dfl_graph.generations import Snapshot, generation_dir, read_changes
from dfl_graph.index_files import FAST_WRITES, copy_of
from dfl_graph.namespaces import DCT

FILENAME = "source-records.sqlite"
RECORD_SUFFIX = "#record"
SCHEMA = """
CREATE TABLE records (
  source TEXT NOT NULL, id TEXT NOT NULL, iri TEXT NOT NULL, public INTEGER NOT NULL, hash TEXT,
  PRIMARY KEY (source, id)
);
CREATE INDEX records_iri ON records(iri);
CREATE TABLE sources (source TEXT PRIMARY KEY);
"""


def _source_graphs(snapshot: Snapshot) -> dict[str, tuple[str, bool]]:
    """graph IRI -> (source, public) for the graphs holding a source's records (not tombstones, not vocab)."""
    found = {}
    for graph, info in snapshot.manifest.graphs.items():
        source = info.get("source")
        if not source or source in ("vocab", "restore"):
            continue
        level = snapshot.uris.record_graph_access(source, graph)
        if level is not None:
            found[graph] = (source, level[0] == "public")
    return found


def _scan(snapshot: Snapshot, db: sqlite3.Connection, source: str) -> None:
    """Re-read one source's records from the store (only if they carry content hashes)."""
    store, uris = snapshot.store, snapshot.uris
    content_hash = uris.vocab.contentHash
    graphs = [(NamedNode(g), public) for g, (s, public) in _source_graphs(snapshot).items() if s == source]
    db.execute("DELETE FROM records WHERE source = ?", (source,))
    db.execute("DELETE FROM sources WHERE source = ?", (source,))
    if not any(next(store.quads_for_pattern(None, content_hash, None, g), None) for g, _ in graphs):
        return
    rows: dict[str, tuple] = {}
    hashes: dict[str, str] = {}
    for graph, public in graphs:
        for quad in store.quads_for_pattern(None, content_hash, None, graph):
            if quad.subject.value.endswith(RECORD_SUFFIX):
                hashes[quad.subject.value[: -len(RECORD_SUFFIX)]] = quad.object.value
        for quad in store.quads_for_pattern(None, DCT.identifier, None, graph):
            iri = quad.subject.value
            if uris.is_record(iri):
                rows.setdefault(quad.object.value, (source, quad.object.value, iri, int(public)))
    db.executemany("INSERT INTO records VALUES (?,?,?,?,?)", [(*row, hashes.get(row[2])) for row in rows.values()])
    db.execute("INSERT INTO sources VALUES (?)", (source,))


def _apply_delta(snapshot: Snapshot, db: sqlite3.Connection, target: Path, changes: dict) -> None:
    graphs = _source_graphs(snapshot)
    content_hash = snapshot.uris.vocab.contentHash
    touched = set(changes.get("sources", ()))
    for source in touched:
        db.execute("INSERT OR IGNORE INTO sources VALUES (?)", (source,))
    for name in ("removed", "added"):
        path = target / changes.get(name, f"changes-{name}.nq")
        if not path.exists() or not path.stat().st_size:
            continue
        with path.open("rb") as handle:
            wanted = (DCT.identifier, content_hash)
            quads = [q for q in parse(handle, RdfFormat.N_QUADS) if q.predicate in wanted]
        for quad in quads:
            graph = quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else ""
            if graph not in graphs:
                continue
            source, public = graphs[graph]
            subject = quad.subject.value
            if quad.predicate == DCT.identifier and snapshot.uris.is_record(subject):
                if name == "removed":
                    db.execute(
                        "DELETE FROM records WHERE source = ? AND id = ? AND iri = ?",
                        (source, quad.object.value, subject),
                    )
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO records VALUES (?,?,?,?,(SELECT hash FROM records WHERE iri = ?))",
                        (source, quad.object.value, subject, int(public), subject),
                    )
        for quad in quads:
            graph = quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else ""
            if graph in graphs and quad.predicate == content_hash and quad.subject.value.endswith(RECORD_SUFFIX):
                iri = quad.subject.value[: -len(RECORD_SUFFIX)]
                value = quad.object.value if name == "added" else None
                if name == "removed":
                    db.execute("UPDATE records SET hash = NULL WHERE iri = ? AND hash = ?", (iri, quad.object.value))
                else:
                    db.execute("UPDATE records SET hash = ? WHERE iri = ?", (value, iri))


def build_source_records(snapshot: Snapshot, target: Path, previous: Path | None, changed: frozenset[str]) -> None:
    """Index builder (see the module docstring). Never fails a publish: on any error it writes no index,
    and readers scan the store instead."""
    path = target / "indexes" / FILENAME
    before = previous / "indexes" / FILENAME if previous is not None else None
    try:
        changes = read_changes(target)
        if before is not None and before.exists():
            copy_of(before, path)
            db = sqlite3.connect(path)
        else:
            db = sqlite3.connect(path)
            db.executescript(SCHEMA)
            changed = frozenset(s for _g, (s, _p) in _source_graphs(snapshot).items())
            changes = None
        db.executescript(FAST_WRITES)
        with db:
            if changes is not None:
                _apply_delta(snapshot, db, target, changes)
            else:
                sources = {s for s, _p in _source_graphs(snapshot).values()}
                if "restore" in changed:
                    changed = frozenset(sources) | {row[0] for row in db.execute("SELECT source FROM sources")}
                for source in sorted(changed):
                    _scan(snapshot, db, source)
        db.close()
    except (sqlite3.Error, OSError, ValueError, SyntaxError):
        with contextlib.suppress(OSError):
            path.unlink()


def state_records(data_dir: Path, generation: int, source: str) -> list[tuple[str, str, bool, str | None]] | None:
    """(id, IRI, public, hash) of a source's records in a published generation, or None when the
    index does not cover the source (then the store must be scanned)."""
    path = generation_dir(Path(data_dir), generation) / "indexes" / FILENAME
    if not generation or not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        with contextlib.closing(db):
            if db.execute("SELECT 1 FROM sources WHERE source = ?", (source,)).fetchone() is None:
                return None
            rows = db.execute("SELECT id, iri, public, hash FROM records WHERE source = ?", (source,)).fetchall()
    except sqlite3.Error:
        return None
    return [(ident, iri, bool(public), digest) for ident, iri, public, digest in rows]


__all__ = ["FILENAME", "build_source_records", "state_records"]
