"""What a write of one source will do, decided before the store is touched: the plan.

Every write of records -- a ``dfl load`` of a file, a harvest of a portal -- compares what the source gives now
(``incoming``: mapped records with their content hashes, see :mod:`dfl_graph.content_hash`) with what the store
holds for that source (``stored``: identifier, IRI, public or not, content hash), and sorts the records into
new, updated, unchanged and withdrawn. Only a *complete* run (the whole source was read) withdraws: a record
the source no longer has is withdrawn, and a public one leaves a tombstone (its IRI answers 410). The plan is
then written in one published step by :func:`dfl_graph.ingest.write_plan`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import unquote

from pyoxigraph import NamedNode

from dfl_graph.indexes.source_records import state_records
from dfl_graph.namespaces import DCT
from dfl_graph.records import DatasetRecord
from dfl_graph.store import CatalogueStore

SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RESERVED_SOURCES = {"vocab", "system", "restore", "tombstones"}
RECORD_SUFFIX = "#record"


def check_source_name(source: str) -> str:
    if not SOURCE_NAME.match(source) or source in RESERVED_SOURCES:
        raise ValueError(
            f"source name {source!r} must be lower-case letters, digits and hyphens"
            f" (and not one of {', '.join(sorted(RESERVED_SOURCES))})"
        )
    return source


def catalogue_record_iri(dataset_iri: str) -> str:
    return dataset_iri + RECORD_SUFFIX


@dataclass
class IncomingRecord:
    """A record as this run mapped it, with the hash of the source's description of it."""

    record: DatasetRecord
    content_hash: str
    origin: str | None = None  # the URL of the source's own metadata record (prov:wasDerivedFrom)


@dataclass(frozen=True)
class StoredRecord:
    """A record the store holds for a source, as far as planning needs to know it."""

    id: str
    iri: str
    public: bool
    content_hash: str | None  # None for records written without one (a restored dump): always rewritten

    @property
    def slug(self) -> str:
        return unquote(self.iri.rsplit("/", 1)[1])


@dataclass
class WritePlan:
    new: list[IncomingRecord] = field(default_factory=list)
    updated: list[tuple[IncomingRecord, StoredRecord]] = field(default_factory=list)
    unchanged: list[StoredRecord] = field(default_factory=list)
    same: list[tuple[IncomingRecord, StoredRecord]] = field(default_factory=list)  # unchanged, and mapped this run
    withdrawn: list[StoredRecord] = field(default_factory=list)
    duplicates: list[IncomingRecord] = field(default_factory=list)  # an id seen twice in one run: the 2nd is refused

    @property
    def changes(self) -> int:
        """Records written or withdrawn."""
        return len(self.new) + len(self.updated) + len(self.withdrawn)


def plan_write(
    stored: dict[str, StoredRecord],
    incoming: list[IncomingRecord],
    unchanged_ids: Iterable[str] = (),
    complete: bool = True,
) -> WritePlan:
    """Sort a run's records into new, updated, unchanged and (for a ``complete`` run) withdrawn.

    ``unchanged_ids`` are records the caller already knows to be unchanged (their hash matched before
    mapping); with ``complete``, every stored record neither unchanged nor incoming is withdrawn.
    """
    plan = WritePlan()
    seen: set[str] = set()
    for record_id in unchanged_ids:
        if record_id in stored and record_id not in seen:
            seen.add(record_id)
            plan.unchanged.append(stored[record_id])
    for item in incoming:
        record_id = item.record.id
        if record_id in seen:
            plan.duplicates.append(item)
            continue
        seen.add(record_id)
        old = stored.get(record_id)
        if old is None:
            plan.new.append(item)
        elif old.content_hash == item.content_hash and old.public == item.record.is_public:
            plan.unchanged.append(old)
            plan.same.append((item, old))
        else:
            plan.updated.append((item, old))
    if complete:
        plan.withdrawn = [record for record_id, record in stored.items() if record_id not in seen]
    return plan


def stored_records(store: CatalogueStore, source: str) -> dict[str, StoredRecord]:
    """The records a source has in the store, by their source identifier: from the published generation's
    source-records index when it covers the source (the primary is that generation), else two pattern scans."""
    indexed = state_records(store.data_dir, store.generation, source)
    if indexed is not None and not (store.data_dir / "DIRTY").exists():
        return {ident: StoredRecord(ident, iri, public, digest) for ident, iri, public, digest in indexed}
    return scan_stored_records(store, source)


def scan_stored_records(store: CatalogueStore, source: str) -> dict[str, StoredRecord]:
    """:func:`stored_records` read from the store itself (two pattern scans over each of the source's graphs)."""
    hashes: dict[str, str] = {}
    found: dict[str, StoredRecord] = {}
    for graph_iri in sorted({store.uris.source_graph(source), *store.source_graphs(source)}):
        graph = NamedNode(graph_iri)
        public = graph_iri == store.uris.source_graph(source)
        for quad in store.store.quads_for_pattern(None, store.dfl.contentHash, None, graph):
            if quad.subject.value.endswith(RECORD_SUFFIX):
                hashes[quad.subject.value[: -len(RECORD_SUFFIX)]] = quad.object.value
        for quad in store.store.quads_for_pattern(None, DCT.identifier, None, graph):
            iri = quad.subject.value
            if store.uris.is_record(iri) and quad.object.value not in found:
                found[quad.object.value] = StoredRecord(quad.object.value, iri, public, None)
    return {key: replace(record, content_hash=hashes.get(record.iri)) for key, record in found.items()}


__all__ = [
    "IncomingRecord",
    "StoredRecord",
    "WritePlan",
    "catalogue_record_iri",
    "check_source_name",
    "plan_write",
    "scan_stored_records",
    "stored_records",
]
