"""The catalogue index: one row per public dataset with what lists, facets and feeds need.

``datasets`` is built from a published snapshot's public graphs only, so nothing restricted can reach a
public page, feed or sitemap. ``feed`` ranks the datasets by IRI (a stable order), so every numbered page of
the catalogue feed is an indexed range lookup: page 1000 costs what page 1 costs. A dataset's ``position`` is
only its row's key: a write that adds or removes datasets re-ranks the slim ``feed`` table (two integers per
dataset) instead of moving the wide rows and their facets.

Every other dataset (RESTRICTED or NON_PUBLIC: docs/access.md) is a row of ``hidden``, with its ``access``
level and ``publisher`` as the graph registry gives them (for a NON_PUBLIC graph, the organisation it
belongs to), read only for callers whose :class:`~dfl_graph.accounts.Visibility` sees beyond the public,
through :func:`visible_clause`. Keeping them out of ``datasets`` leaves every public query, position and
count exactly as it was.

A generation written in place (an incremental harvest: see :class:`dfl_graph.store.Delta`) names the
datasets it changed; its index is then the previous generation's, with only those rows re-read from the
store. ``duplicate_of`` marks a dataset that a harvest found to be the same as another public dataset
(``prov:alternateOf``: same landing page, original IRI or global identifier): search lists one of them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode, Variable

from dfl_graph.accounts.visibility import NON_PUBLIC, Visibility
from dfl_graph.generations import Snapshot, read_changes
from dfl_graph.index_files import StaleIndex, copy_for_update, writing_index
from dfl_graph.languages import best_literal, variants
from dfl_graph.namespaces import ADMS, DCAT, DCT, FOAF, PROV, RDF, SKOS
from dfl_graph.queries import query_text

FILENAME = "catalogue.sqlite"
# the fields and tables an index holds: an update needs the previous index to hold the same
RECORD_LAYOUT = "4"  # "3": the feed's ranks in their own table; "4": records keep their texts' languages
# facet name -> index column holding a JSON list of IRIs (or a single value)
FACETS = ("theme", "publisher", "borough", "format", "licence", "access", "frequency")

SCHEMA = """
CREATE TABLE datasets (
  position INTEGER PRIMARY KEY,   -- the row's key: IRI order when built, the next free number for a new dataset
  iri TEXT NOT NULL UNIQUE,
  slug TEXT NOT NULL,
  graph TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  keywords TEXT NOT NULL,         -- JSON list
  issued TEXT,
  modified TEXT,                  -- lexical, sortable
  status TEXT NOT NULL,           -- current, archived, superseded
  record TEXT NOT NULL,           -- JSON: everything a list item shows (every language: dfl_graph.languages)
  duplicate_of TEXT               -- the IRI of the same dataset from another source, listed instead in search
);
CREATE INDEX datasets_modified ON datasets(modified);
CREATE INDEX datasets_title ON datasets(title COLLATE NOCASE);
CREATE TABLE feed (rank INTEGER PRIMARY KEY, position INTEGER NOT NULL);  -- 1..n by IRI
CREATE TABLE facets (position INTEGER NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX facets_value ON facets(facet, value, position);
CREATE INDEX facets_position ON facets(position);
CREATE TABLE labels (iri TEXT PRIMARY KEY, label TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE withdrawn (iri TEXT PRIMARY KEY, title TEXT, withdrawn_at TEXT);
CREATE TABLE hidden (            -- the columns of datasets that search reads, and who may read each row
  iri TEXT PRIMARY KEY,
  graph TEXT NOT NULL,
  access TEXT NOT NULL,           -- restricted, non-public, or unclassified (a graph of the old mixed layout)
  publisher TEXT,                 -- restricted: the record's publisher; non-public: the graph's organisation
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  keywords TEXT NOT NULL,
  issued TEXT,
  modified TEXT,
  status TEXT NOT NULL,
  record TEXT NOT NULL            -- JSON, as in datasets
);
"""

LIST_PREDICATES = {
    DCAT.keyword.value: "keywords",
    DCAT.theme.value: "themes",
    DCT.spatial.value: "boroughs",
    DCAT.distribution.value: "distributions",
}
LABEL_PREDICATES = (SKOS.prefLabel, FOAF.name, DCT.title)
TEXT_PREDICATES = {DCT.title.value: "title", DCT.description.value: "description"}  # kept in every language
SINGLE_PREDICATES = {
    DCT.publisher.value: "publisher",
    DCT.license.value: "licence",
    DCT.accessRights.value: "access",
    DCT.accrualPeriodicity.value: "frequency",
    DCT.issued.value: "issued",
    DCT.modified.value: "modified",
    ADMS.status.value: "status_concept",
    DCT.isReplacedBy.value: "replaced_by",
}


FIELD_PREDICATES = [NamedNode(p) for p in (*LIST_PREDICATES, *TEXT_PREDICATES, *SINGLE_PREDICATES)]


def _hidden_graphs(snapshot: Snapshot) -> dict[str, dict]:
    """The registered graphs of non-public records: graph IRI -> registry entry."""
    return {
        g: info
        for g, info in snapshot.manifest.graphs.items()
        if not info.get("public") and info.get("source") and snapshot.uris.record_graph_access(info["source"], g)
    }


def _collect(
    snapshot: Snapshot, only: Iterable[str] | None = None, graphs: list[NamedNode] | None = None
) -> dict[str, dict]:
    """Read datasets' indexed fields from the public graphs (or ``graphs``): all of them, or the datasets ``only``.

    Pattern scans per predicate and graph, not SPARQL: over a default graph made of many named graphs
    the equivalent SELECTs took minutes at 100k datasets (Oxigraph merges the graphs row by row); a
    scan reads exactly the quads needed, and a bound dataset is one index lookup.
    """
    store = snapshot.store
    graphs = snapshot.public_graphs if graphs is None else graphs
    vocab = snapshot.uris.vocab
    lifecycle = vocab.lifecycle.value
    reason, personal = vocab.accessReason.value, vocab.holdsPersonalData.value
    datasets: dict[str, dict] = {}
    for graph in graphs:
        if only is None:
            typed = (q.subject for q in store.quads_for_pattern(None, RDF.type, DCAT.Dataset, graph))
        else:
            typed = (NamedNode(iri) for iri in only if _typed(store, NamedNode(iri), DCAT.Dataset, graph))
        for subject in typed:
            if isinstance(subject, NamedNode) and subject.value not in datasets:
                datasets[subject.value] = {
                    "graph": graph.value,
                    "access_reasons": [],
                    **{v: [] for v in LIST_PREDICATES.values()},
                }
    for graph in graphs:
        if only is None:
            predicates = (*FIELD_PREDICATES, *(NamedNode(p) for p in (lifecycle, reason, personal)))
            quads = (q for p in predicates for q in store.quads_for_pattern(None, p, None, graph))
        else:
            quads = (q for iri in datasets for q in store.quads_for_pattern(NamedNode(iri), None, None, graph))
        for quad in quads:
            fields = datasets.get(quad.subject.value)
            if fields is None or fields["graph"] != graph.value:
                continue
            predicate, value = quad.predicate.value, quad.object
            if predicate in LIST_PREDICATES:
                fields[LIST_PREDICATES[predicate]].append(value.value)
            elif predicate in TEXT_PREDICATES:
                fields.setdefault("texts", []).append((TEXT_PREDICATES[predicate], value))
            elif predicate in SINGLE_PREDICATES:
                fields.setdefault(SINGLE_PREDICATES[predicate], value.value)  # the first a source gives
            elif predicate == lifecycle:
                fields["lifecycle"] = value.value.rsplit("#", 1)[-1].lower()
            elif predicate == reason:
                fields["access_reasons"].append(value.value)
            elif predicate == personal:
                fields.setdefault("personal_data", value.value == "true")
    for fields in datasets.values():
        _choose_texts(fields)
    owner = {dist: iri for iri, fields in datasets.items() for dist in fields["distributions"]}
    for graph in graphs:
        for predicate in (DCT["format"], DCAT.mediaType):
            if only is None:
                quads = store.quads_for_pattern(None, predicate, None, graph)
            else:
                quads = (q for d in owner for q in store.quads_for_pattern(NamedNode(d), predicate, None, graph))
            for quad in quads:
                dataset = owner.get(quad.subject.value)
                if dataset is not None:
                    datasets[dataset].setdefault("formats_all", set()).add(quad.object.value)
    return datasets


def _choose_texts(fields: dict) -> None:
    """The title and description lists show by default (English first, else untagged, else any: :func:`best_literal`),
    and, for a text that is not one English literal, every variant with its tag (:func:`variants`): lists show the
    reader's language from them, and search indexes them all, so a Norwegian title finds its dataset."""
    texts = fields.pop("texts", [])
    kept: dict[str, list[list[str]]] = {}
    for name in ("title", "description"):
        literals = sorted(
            (value for field, value in texts if field == name), key=lambda lit: (lit.language or "", lit.value)
        )
        best = best_literal(literals)
        if best is not None:
            fields[name] = best.value
            found = variants(literals)
            if found is not None:
                kept[name] = found
    if kept:
        fields["languages"] = kept


def _typed(store, subject: NamedNode, rdf_type: NamedNode, graph: NamedNode | None) -> bool:
    return next(store.quads_for_pattern(subject, RDF.type, rdf_type, graph), None) is not None


def _linked(rows: Iterable[dict]) -> set[str]:
    """The IRIs datasets link to whose labels lists and facets show."""
    linked: set[str] = set()
    for row in rows:
        linked.update(row[key] for key in ("publisher", "licence", "frequency", "access") if row.get(key))
        linked.update(row["themes"], row["boroughs"], row.get("formats_all", ()), row["access_reasons"])
    return linked


def _vocabulary_concepts(snapshot: Snapshot) -> set[str]:
    """Everything the shipped vocabularies label (themes, boroughs, publishers, EU concepts), linked or not."""
    vocab = [NamedNode(g) for g, info in snapshot.manifest.graphs.items() if info.get("source") == "vocab"]
    return {
        q.subject.value
        for g in vocab
        for p in LABEL_PREDICATES
        for q in snapshot.store.quads_for_pattern(None, p, None, g)
        if isinstance(q.subject, NamedNode)
    }


def _labels(snapshot: Snapshot, iris: Iterable[str]) -> dict[str, str]:
    """Labels (skos:prefLabel, foaf:name, dct:title; English preferred) of the given IRIs, from the public
    graphs; datasets and distributions are not labels (their titles are rows of their own)."""
    store, public = snapshot.store, {g.value for g in snapshot.public_graphs}
    labels: dict[str, str] = {}
    for iri in iris:
        subject = NamedNode(iri)
        if _typed(store, subject, DCAT.Dataset, None) or _typed(store, subject, DCAT.Distribution, None):
            continue
        for predicate in LABEL_PREDICATES:
            for quad in store.quads_for_pattern(subject, predicate, None, None):
                if quad.graph_name.value not in public:  # type: ignore[union-attr]
                    continue
                if iri not in labels or getattr(quad.object, "language", None) == "en":
                    labels[iri] = quad.object.value
    return labels


def _alternates(snapshot: Snapshot, only: Iterable[str] | None = None) -> dict[str, set[str]]:
    """dataset -> the datasets of other sources a harvest found to be the same (prov:alternateOf)."""
    bindings = [{}] if only is None else [{Variable("dataset"): NamedNode(iri)} for iri in only]
    found: dict[str, set[str]] = {}
    for bound in bindings:
        rows = snapshot.store.query(
            query_text("index-alternates"), default_graph=snapshot.public_graphs, substitutions=bound
        )
        for row in rows:
            found.setdefault(row["dataset"].value, set()).add(row["other"].value)
    return found


def _duplicates(live: set[str], alternates: dict[str, set[str]]) -> dict[str, str]:
    """dataset -> the dataset search lists instead: the one it was linked to (a harvest links a new record
    to the dataset already there), following chains; of two datasets linked both ways, the smaller IRI."""

    def parent(iri: str) -> str | None:
        for other in sorted(alternates.get(iri, ())):
            if other == iri or other not in live:
                continue
            if iri in alternates.get(other, ()) and other > iri:
                continue
            return other
        return None

    result: dict[str, str] = {}
    for iri in alternates:
        if iri not in live:
            continue
        seen = [iri]
        current = parent(iri)
        while current is not None and current not in seen:
            seen.append(current)
            current = parent(current)
        canonical = min(seen) if current is not None else seen[-1]  # a cycle: its smallest IRI
        if canonical != iri:
            result[iri] = canonical
    return result


def _tombstones(snapshot: Snapshot, live: dict[str, dict]) -> list[tuple[str, str | None, str | None]]:
    """Withdrawn public datasets (not re-published by any source since): their IRIs answer 410."""
    rows = snapshot.store.query(
        query_text("index-withdrawn"),
        default_graph=snapshot.public_graphs,
        substitutions={Variable("withdrawn"): snapshot.uris.vocab.WithdrawnDataset},
    )
    return [
        (row["dataset"].value, row["title"].value if row["title"] else None, row["at"].value if row["at"] else None)
        for row in rows
        if row["dataset"].value not in live
    ]


def _status(row: dict) -> str:
    if row.get("lifecycle") in ("archived", "superseded"):
        return row["lifecycle"]
    if row.get("replaced_by"):
        return "superseded"
    return "archived" if row.get("status_concept", "").endswith("DEPRECATED") else "current"


def _entry(iri: str, row: dict) -> tuple[dict, str, str]:
    """(record, keywords JSON, graph) of one collected dataset."""
    record = {
        "iri": iri,
        "title": row.get("title", ""),
        "description": row.get("description", ""),
        "publisher": row.get("publisher"),
        "themes": row["themes"],
        "boroughs": row["boroughs"],
        "formats": sorted(row.get("formats_all", ())),
        "licence": row.get("licence"),
        "access": row.get("access"),
        "access_reasons": sorted(set(row["access_reasons"])),
        "personal_data": row.get("personal_data"),  # True, False, or None: the dataset does not say
        "frequency": row.get("frequency"),
        "issued": row.get("issued"),
        "modified": row.get("modified"),
        "distributions": len(row["distributions"]),
        "status": _status(row),
    }
    if row.get("languages"):
        record["languages"] = row["languages"]
    return record, json.dumps(row["keywords"], ensure_ascii=False), row["graph"]


def _insert(
    db: sqlite3.Connection,
    entries: dict[str, tuple[dict, str, str]],
    positions: dict[str, int],
    duplicates: dict[str, str | None],
) -> None:
    rows, facet_rows = [], []
    for iri, (record, keywords, graph) in entries.items():
        position = positions[iri]
        record["duplicate_of"] = duplicates.get(iri)
        rows.append(
            (
                position,
                iri,
                iri.rsplit("/", 1)[-1],
                graph,
                record["title"],
                record["description"],
                keywords,
                record["issued"],
                record["modified"],
                record["status"],
                json.dumps(record, ensure_ascii=False),
                record["duplicate_of"],
            )
        )
        facet_values = {
            "theme": record["themes"],
            "publisher": [record["publisher"]] if record["publisher"] else [],
            "borough": record["boroughs"],
            "format": record["formats"],
            "licence": [record["licence"]] if record["licence"] else [],
            "access": [record["access"]] if record["access"] else [],
            "frequency": [record["frequency"]] if record["frequency"] else [],
        }
        facet_rows.extend((position, facet, value) for facet, values in facet_values.items() for value in set(values))
    db.executemany("INSERT INTO datasets VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO facets VALUES (?,?,?)", facet_rows)


def _write(
    snapshot: Snapshot,
    path: Path,
    entries: dict[str, tuple[dict, str, str]],
    labels: dict[str, str],
    tombstones: list[tuple[str, str | None, str | None]],
    duplicates: dict[str, str],
) -> None:
    with writing_index(path) as db:
        db.executescript(SCHEMA)
        positions = {iri: position for position, iri in enumerate(sorted(entries), start=1)}
        _insert(db, {iri: entries[iri] for iri in sorted(entries)}, positions, duplicates)
        _rank(db)
        db.executemany("INSERT INTO labels VALUES (?,?)", labels.items())
        db.executemany("INSERT OR REPLACE INTO withdrawn VALUES (?,?,?)", tombstones)
        db.executemany(
            "INSERT INTO meta VALUES (?,?)",
            [
                ("generation", str(snapshot.generation)),
                ("published_at", snapshot.manifest.published_at),
                ("record_layout", RECORD_LAYOUT),
            ],
        )


def _hidden_rows(snapshot: Snapshot, only: Iterable[str] | None = None) -> list[tuple]:
    """Rows of ``hidden``: the non-public datasets (all, or those ``only``) with their access and publisher."""
    registry = _hidden_graphs(snapshot)
    collected = _collect(snapshot, only, [NamedNode(g) for g in sorted(registry)])
    rows = []
    for iri, fields in sorted(collected.items()):
        record, keywords, graph = _entry(iri, fields)
        info = registry[graph]
        access = info.get("access") or "unclassified"
        publisher = info.get("organisation") if access == NON_PUBLIC else record["publisher"]
        record["duplicate_of"] = None
        rows.append(
            (
                iri,
                graph,
                access,
                publisher,
                record["title"],
                record["description"],
                keywords,
                record["issued"],
                record["modified"],
                record["status"],
                json.dumps(record, ensure_ascii=False),
            )
        )
    return rows


def visible_clause(visibility: Visibility) -> tuple[str, list[str]]:
    """The SQL condition (on ``hidden``'s ``access`` and ``publisher``) for the rows a caller may read."""
    if visibility.everything:
        return "1", []
    parts, params = [], []
    if visibility.restricted:
        parts.append("access = 'restricted'")
    if visibility.non_public_of:
        organisations = sorted(visibility.non_public_of)
        parts.append(f"(access = 'non-public' AND publisher IN ({','.join('?' * len(organisations))}))")
        params += organisations
    return (" OR ".join(parts) or "0"), params


def build_catalogue_index(snapshot: Snapshot, target: Path, previous: Path | None, changed: frozenset[str]) -> None:
    """Write ``indexes/catalogue.sqlite`` for the snapshot: updated from the previous generation's when this
    one says which datasets changed (see the module docstring), else a full rebuild."""
    path = target / "indexes" / FILENAME
    if previous is not None and _update(snapshot, path, previous / "indexes" / FILENAME, read_changes(target)):
        return
    datasets = _collect(snapshot)
    tombstones = _tombstones(snapshot, datasets)
    labelled = _linked(datasets.values()) | {t[0] for t in tombstones} | _vocabulary_concepts(snapshot)
    labels = _labels(snapshot, sorted(labelled))
    entries = {iri: _entry(iri, row) for iri, row in datasets.items()}
    duplicates = _duplicates(set(entries), _alternates(snapshot))
    _write(snapshot, path, entries, labels, tombstones, duplicates)
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO hidden VALUES (?,?,?,?,?,?,?,?,?,?,?)", _hidden_rows(snapshot))


def _update(snapshot: Snapshot, path: Path, previous: Path, changes: dict | None) -> bool:
    """A copy of the previous index with the changed datasets' rows replaced, in place: O(changes), plus
    re-ranking the feed when datasets came or went. False if it cannot be done that way."""
    if changes is None or not previous.exists():
        return False
    try:
        with copy_for_update(previous, path) as db:
            layout = db.execute("SELECT value FROM meta WHERE key = 'record_layout'").fetchone()
            if layout is None or layout[0] != RECORD_LAYOUT:
                raise StaleIndex  # an index whose records hold other fields
            _apply_changes(snapshot, db, set(changes.get("datasets") or ()))
    except StaleIndex:
        return False
    return True


def _apply_changes(snapshot: Snapshot, db: sqlite3.Connection, changed: set[str]) -> None:
    # datasets linked to a changed one may change which of them search lists
    for iri in list(changed):
        for quad in snapshot.store.quads_for_pattern(None, PROV.alternateOf, NamedNode(iri), None):
            changed.add(quad.subject.value)
    ordered = sorted(changed)
    old_positions: dict[str, int] = {}
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ",".join("?" * len(chunk))
        old_positions.update(db.execute(f"SELECT iri, position FROM datasets WHERE iri IN ({marks})", chunk))
    fresh = _collect(snapshot, ordered)
    db.executemany("DELETE FROM facets WHERE position = ?", [(p,) for p in old_positions.values()])
    db.executemany("DELETE FROM datasets WHERE position = ?", [(p,) for p in old_positions.values()])

    # which dataset search lists, for the changed ones (following links as far as they go)
    live = {row[0] for row in db.execute("SELECT iri FROM datasets")} | set(fresh)
    alternates: dict[str, set[str]] = {}
    todo = set(fresh)
    while todo:
        found = _alternates(snapshot, sorted(todo))
        alternates.update(found)
        alternates.update({iri: set() for iri in todo if iri not in found})
        todo = {other for others in found.values() for other in others} - set(alternates)
    duplicates = _duplicates(live, alternates)

    next_free = max([db.execute("SELECT MAX(position) FROM datasets").fetchone()[0] or 0, *old_positions.values()])
    positions = {}
    for iri in sorted(fresh):
        if iri in old_positions:
            positions[iri] = old_positions[iri]
        else:
            next_free += 1
            positions[iri] = next_free
    entries = {iri: _entry(iri, row) for iri, row in fresh.items()}
    _insert(db, entries, positions, {iri: duplicates.get(iri) for iri in fresh})
    if set(old_positions) != set(fresh):
        _rank(db)

    linked = _linked(fresh.values())
    # a withdrawn dataset's tombstone title is a label; a live dataset has none
    db.executemany("DELETE FROM labels WHERE iri = ?", [(iri,) for iri in ordered])
    db.executemany("INSERT OR REPLACE INTO labels VALUES (?,?)", _labels(snapshot, sorted(linked | changed)).items())
    db.executemany("DELETE FROM withdrawn WHERE iri = ?", [(iri,) for iri in ordered])
    tombstones = [t for t in _tombstones_of(snapshot, ordered) if t[0] not in live]
    db.executemany("INSERT OR REPLACE INTO withdrawn VALUES (?,?,?)", tombstones)
    db.executemany("DELETE FROM hidden WHERE iri = ?", [(iri,) for iri in ordered])
    db.executemany("INSERT INTO hidden VALUES (?,?,?,?,?,?,?,?,?,?,?)", _hidden_rows(snapshot, ordered))
    db.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?,?)",
        [("generation", str(snapshot.generation)), ("published_at", snapshot.manifest.published_at)],
    )


def _rank(db: sqlite3.Connection) -> None:
    """Rank the datasets 1..n by IRI in ``feed`` (numbered feed pages are ranges of ranks). It reads only the
    IRI index and writes two integers per dataset: about a tenth of a second at 100k datasets, where moving
    the wide rows and their facets to new positions took 3.6 s."""
    db.execute("DELETE FROM feed")
    db.execute("INSERT INTO feed SELECT ROW_NUMBER() OVER (ORDER BY iri), position FROM datasets")


def _tombstones_of(snapshot: Snapshot, iris: list[str]) -> list[tuple[str, str | None, str | None]]:
    """The tombstones of some datasets (see :func:`_tombstones`): pattern lookups, no query per dataset (a write
    of a thousand new datasets asks for a thousand)."""
    store, public = snapshot.store, snapshot.public_graphs
    withdrawn = snapshot.uris.vocab.WithdrawnDataset
    found = []
    for iri in iris:
        node = NamedNode(iri)
        graphs = [g for g in public if _typed(store, node, withdrawn, g)]
        if not graphs:
            continue
        title = next((q.object.value for g in graphs for q in store.quads_for_pattern(node, DCT.title, None, g)), None)
        at = next(
            (q.object.value for g in graphs for q in store.quads_for_pattern(node, PROV.invalidatedAtTime, None, g)),
            None,
        )
        found.append((iri, title, at))
    return found


@dataclass(frozen=True)
class Page:
    items: list[dict]
    total: int


class CatalogueIndex:
    """Read side of the catalogue index, one SQLite connection per thread (read-only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    @classmethod
    def of(cls, snapshot: Snapshot) -> CatalogueIndex:
        return cls(snapshot.index_dir / FILENAME)

    def count(self, since: str | None = None) -> int:
        """How many public datasets (modified at or after ``since``, if given)."""
        if since is None:
            return self.db.execute("SELECT COUNT(*) FROM datasets").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM datasets WHERE modified >= ?", (since,)).fetchone()[0]

    def records(self, rows: Iterable[sqlite3.Row]) -> list[dict]:
        return [json.loads(r["record"]) for r in rows]

    def by_rank(self, first: int, limit: int) -> list[dict]:
        """The datasets ranked [first, first+limit) in feed order (by IRI): an indexed range, whatever the depth."""
        rows = self.db.execute(
            "SELECT d.record FROM feed f JOIN datasets d ON d.position = f.position"
            " WHERE f.rank >= ? AND f.rank < ? ORDER BY f.rank",
            (first, first + limit),
        )
        return self.records(rows)

    def after(self, cursor: str, limit: int, since: str | None = None) -> tuple[list[dict], bool]:
        """Up to ``limit`` datasets whose IRI sorts after ``cursor`` (feed order: a cursor stays valid across
        generations), only those modified at or after ``since`` if given; and whether more follow."""
        sql, params = "SELECT record FROM datasets WHERE iri > ?", [cursor]
        if since is not None:
            sql, params = sql + " AND modified >= ?", [*params, since]
        rows = self.db.execute(sql + " ORDER BY iri LIMIT ?", (*params, limit + 1)).fetchall()
        return self.records(rows[:limit]), len(rows) > limit

    def recent(self, limit: int) -> list[dict]:
        rows = self.db.execute("SELECT record FROM datasets ORDER BY modified DESC, iri LIMIT ?", (limit,))
        return self.records(rows)

    def dataset(self, iri: str, visibility: Visibility = Visibility.ANONYMOUS) -> dict | None:
        """A dataset's list record, if the caller may read it (public ones for everyone)."""
        row = self.db.execute("SELECT record FROM datasets WHERE iri = ?", (iri,)).fetchone()
        if row is None and not visibility.public_only:
            clause, params = visible_clause(visibility)
            row = self.db.execute(f"SELECT record FROM hidden WHERE iri = ? AND ({clause})", (iri, *params)).fetchone()
        return json.loads(row["record"]) if row else None

    def hidden(self, visibility: Visibility) -> list[dict]:
        """Every non-public dataset the caller may read (none for public-only callers), by title."""
        if visibility.public_only:
            return []
        clause, params = visible_clause(visibility)
        sql = f"SELECT record FROM hidden WHERE {clause} ORDER BY title COLLATE NOCASE, iri"
        return self.records(self.db.execute(sql, params))

    def with_facet(self, facet: str, value: str, offset: int, limit: int) -> Page:
        """Datasets having one facet value (a publisher's, a theme's, a borough's), by title."""
        total = self.db.execute("SELECT COUNT(*) FROM facets WHERE facet = ? AND value = ?", (facet, value)).fetchone()[
            0
        ]
        rows = self.db.execute(
            "SELECT d.record FROM facets f JOIN datasets d ON d.position = f.position "
            "WHERE f.facet = ? AND f.value = ? ORDER BY d.title COLLATE NOCASE, d.iri LIMIT ? OFFSET ?",
            (facet, value, limit, offset),
        )
        return Page(self.records(rows), total)

    def facet_counts(self, facet: str, limit: int | None = None) -> list[tuple[str, int]]:
        """Values of one facet over the whole catalogue, most datasets first."""
        sql = "SELECT value, COUNT(*) AS n FROM facets WHERE facet = ? GROUP BY value ORDER BY n DESC, value"
        params: tuple = (facet,)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return [(r["value"], r["n"]) for r in self.db.execute(sql, params)]

    def labels(self, iris: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(iris))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT iri, label FROM labels WHERE iri IN ({marks})", chunk).fetchall())
        return found

    def label(self, iri: str) -> str | None:
        row = self.db.execute("SELECT label FROM labels WHERE iri = ?", (iri,)).fetchone()
        return row[0] if row else None

    def withdrawn(self, iri: str) -> dict | None:
        """The tombstone of a withdrawn public dataset (its IRI answers 410), or None."""
        row = self.db.execute("SELECT iri, title, withdrawn_at FROM withdrawn WHERE iri = ?", (iri,)).fetchone()
        return dict(row) if row else None


__all__ = ["FACETS", "CatalogueIndex", "Page", "build_catalogue_index", "visible_clause"]
