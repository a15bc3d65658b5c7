"""Loading a source file into the catalogue: read, mint IRIs, write one source atomically."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from pyoxigraph import Literal, NamedNode, Quad

from dfl_graph.dcat import DcatApWriter
from dfl_graph.namespaces import DCAT, DCT, FOAF, PROV, RDF, XSD
from dfl_graph.records import DatasetRecord, Problem
from dfl_graph.store import CatalogueStore
from dfl_graph.uris import slugify
from dfl_graph.vocabularies import VOCABULARY_FILES, Vocabularies, read_vocabulary
from loaders import loader_class

SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RESERVED_SOURCES = {"vocab", "system", "restore", "tombstones"}


@dataclass
class LoadReport:
    source: str
    path: str
    datasets: int = 0
    public: int = 0
    restricted: int = 0
    distributions: int = 0
    quads: int = 0
    generation: int = 0
    withdrawn: int = 0
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # the loader's counters (docs/loaders.md)


def check_source_name(source: str) -> str:
    if not SOURCE_NAME.match(source) or source in RESERVED_SOURCES:
        raise ValueError(
            f"source name {source!r} must be lower-case letters, digits and hyphens"
            f" (and not one of {', '.join(sorted(RESERVED_SOURCES))})"
        )
    return source


def assign_slugs(records: list[DatasetRecord], taken_elsewhere: set[str], source: str) -> None:
    """Give every record a unique slug, deterministically (same input, same slugs).

    A slug another source already uses gets the source name appended; a clash within the source
    gets a short hash of the record id, so neither depends on the order of the file.
    """
    seen: dict[str, int] = {}
    for record in records:
        slug = slugify(record.slug or record.id)
        if slug in taken_elsewhere:
            slug = f"{slug}-{source}"
        seen[slug] = seen.get(slug, 0) + 1
        record.slug = slug
    for record in records:
        if seen[record.slug] > 1:
            record.slug = f"{record.slug}-{hashlib.sha1(record.id.encode()).hexdigest()[:8]}"


def dataset_slugs_outside(store: CatalogueStore, source: str) -> set[str]:
    """Slugs of datasets held by other sources' graphs."""
    own = {store.uris.source_graph(source, True), store.uris.source_graph(source, False)}
    prefix = store.uris.dataset("")
    slugs: set[str] = set()
    for quad in store.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, None):
        graph = quad.graph_name
        if isinstance(graph, NamedNode) and graph.value not in own and quad.subject.value.startswith(prefix):
            slugs.add(quad.subject.value[len(prefix) :])
    return slugs


def withdrawn_datasets(store: CatalogueStore, source: str, minted: set[str]) -> list[Quad]:
    """The source's tombstone graph after this load: earlier tombstones of datasets still gone, plus
    a tombstone for each public dataset the source no longer has. Restricted datasets get none:
    a 410 would tell the public that they existed."""
    graph = NamedNode(store.uris.tombstone_graph(source))
    kept = [q for q in store.store.quads_for_pattern(None, None, None, graph) if q.subject.value not in minted]
    gone_at = Literal(
        datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime
    )
    public = NamedNode(store.uris.source_graph(source, public=True))
    already = {q.subject.value for q in kept}
    for quad in store.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, public):
        dataset = quad.subject
        if dataset.value in minted or dataset.value in already:
            continue
        title = next(store.store.quads_for_pattern(dataset, DCT.title, None, public), None)
        kept.append(Quad(dataset, RDF.type, store.uris.vocab.WithdrawnDataset, graph))
        kept.append(Quad(dataset, PROV.invalidatedAtTime, gone_at, graph))
        if title is not None:
            kept.append(Quad(dataset, DCT.title, title.object, graph))
    return kept


def previous_tombstones(store: CatalogueStore, source: str) -> int:
    graph = NamedNode(store.uris.tombstone_graph(source))
    return sum(1 for _ in store.store.quads_for_pattern(None, RDF.type, None, graph))


def load_file(
    store: CatalogueStore, vocabularies: Vocabularies, format_name: str, path: Path, source: str
) -> LoadReport:
    """Replace ``source`` with the records of ``path``; on any error the catalogue is unchanged."""
    check_source_name(source)
    loader = loader_class(format_name)(vocabularies)
    records = loader.read_all(Path(path))
    assign_slugs(records, dataset_slugs_outside(store, source), source)
    writer = DcatApWriter(store.uris, vocabularies)
    public_graph = NamedNode(store.uris.source_graph(source, public=True))
    restricted_graph = NamedNode(store.uris.source_graph(source, public=False))

    def quads(public: bool) -> Iterator[Quad]:
        graph = public_graph if public else restricted_graph
        for record in records:
            if record.is_public == public:
                yield from writer.quads(record, graph)

    report = LoadReport(source, str(path), problems=loader.problems, counts=loader.counts)
    minted = {writer.dataset_iri(r).value for r in records}
    tombstones = withdrawn_datasets(store, source, minted)
    report.withdrawn = sum(1 for q in tombstones if q.predicate == RDF.type) - previous_tombstones(store, source)
    report.quads = store.replace_graphs(
        source,
        {
            public_graph.value: (True, quads(True)),
            restricted_graph.value: (False, quads(False)),
            store.uris.tombstone_graph(source): (True, tombstones),
        },
    )
    report.generation = store.generation
    report.datasets = len(records)
    report.public = sum(r.is_public for r in records)
    report.restricted = report.datasets - report.public
    report.distributions = sum(len(r.distributions) for r in records)
    return report


def vocabulary_digest() -> str:
    """A digest of the shipped ontology files: vocabularies are reloaded when it changes."""
    digest = hashlib.sha256()
    for stem in VOCABULARY_FILES:
        digest.update((Vocabularies.__module__ + stem).encode())
        digest.update((Path(__file__).resolve().parent.parent / "ontology" / f"{stem}.ttl").read_bytes())
    return digest.hexdigest()


def ensure_vocabularies(store: CatalogueStore) -> bool:
    """Load the shipped vocabularies if the store lacks them or they changed; True if it loaded."""
    digest = vocabulary_digest()
    if store.vocabulary_digest() == digest:
        return False
    graphs = {store.uris.vocab_graph(stem): read_vocabulary(store.uris, stem) for stem in VOCABULARY_FILES}
    store.load_vocabularies(graphs, digest)
    return True


# -- incremental ingest (harvests) -----------------------------------------------------------------------
#
# A harvest writes only what changed. Each record it writes gets a catalogue record (dcat:CatalogRecord,
# ``{dataset}#record``) holding a content hash (dfl:contentHash) of what the source said; the next
# harvest compares hashes and rewrites only the records that are new or different, removes those the
# source no longer has (leaving a tombstone for public ones), and leaves every other quad alone.

RECORD_SUFFIX = "#record"


@dataclass
class IncomingRecord:
    """A record as a harvest read it, with the hash of the source's description of it."""

    record: DatasetRecord
    content_hash: str
    origin: str | None = None  # the URL of the source's own metadata record (prov:wasDerivedFrom)


@dataclass(frozen=True)
class StoredRecord:
    """A record the store holds for a source, as far as incremental ingest needs to know it."""

    id: str
    iri: str
    public: bool
    content_hash: str | None  # None for records written by `dfl load` (always rewritten by a harvest)

    @property
    def slug(self) -> str:
        return unquote(self.iri.rsplit("/", 1)[1])


@dataclass
class IncrementalPlan:
    new: list[IncomingRecord] = field(default_factory=list)
    updated: list[tuple[IncomingRecord, StoredRecord]] = field(default_factory=list)
    unchanged: list[StoredRecord] = field(default_factory=list)
    withdrawn: list[StoredRecord] = field(default_factory=list)
    duplicates: list[IncomingRecord] = field(default_factory=list)  # an id seen twice in one run: the 2nd is refused


@dataclass
class IncrementalResult:
    plan: IncrementalPlan
    generation: int = 0
    quads_added: int = 0
    quads_removed: int = 0
    links: list[tuple[str, str]] = field(default_factory=list)  # (our dataset, the same dataset in another source)
    tombstones: int = 0  # public datasets withdrawn (their IRIs now answer 410)


def catalogue_record_iri(dataset_iri: str) -> str:
    return dataset_iri + RECORD_SUFFIX


def stored_records(store: CatalogueStore, source: str) -> dict[str, StoredRecord]:
    """The records a source has in the store, by their source identifier: from the published generation's
    harvest-state index when it covers the source (the primary is that generation), else two pattern scans."""
    from dfl_graph.harvest.state import state_records

    indexed = state_records(store.data_dir, store.generation, source)
    if indexed is not None and not (store.data_dir / "DIRTY").exists():
        return {ident: StoredRecord(ident, iri, public, digest) for ident, iri, public, digest in indexed}
    return scan_stored_records(store, source)


def scan_stored_records(store: CatalogueStore, source: str) -> dict[str, StoredRecord]:
    """:func:`stored_records` read from the store itself (two pattern scans over the source's graphs)."""
    hashes: dict[str, str] = {}
    found: dict[str, StoredRecord] = {}
    prefix = store.uris.dataset("")
    for public in (True, False):
        graph = NamedNode(store.uris.source_graph(source, public))
        for quad in store.store.quads_for_pattern(None, store.dfl.contentHash, None, graph):
            if quad.subject.value.endswith(RECORD_SUFFIX):
                hashes[quad.subject.value[: -len(RECORD_SUFFIX)]] = quad.object.value
        for quad in store.store.quads_for_pattern(None, DCT.identifier, None, graph):
            iri = quad.subject.value
            if iri.startswith(prefix) and "/" not in iri[len(prefix) :] and quad.object.value not in found:
                found[quad.object.value] = StoredRecord(quad.object.value, iri, public, None)
    return {key: replace(record, content_hash=hashes.get(record.iri)) for key, record in found.items()}


def plan_incremental(
    stored: dict[str, StoredRecord], incoming: list[IncomingRecord], unchanged_ids: Iterable[str] = ()
) -> IncrementalPlan:
    """Sort a complete run's records into new, updated, unchanged and withdrawn.

    ``unchanged_ids`` are records the caller already knows to be unchanged (their hash matched before
    mapping); every stored record neither unchanged nor incoming is withdrawn.
    """
    plan = IncrementalPlan()
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
        elif old.content_hash == item.content_hash:
            plan.unchanged.append(old)
        else:
            plan.updated.append((item, old))
    plan.withdrawn = [record for record_id, record in stored.items() if record_id not in seen]
    return plan


def owned_quads(store: CatalogueStore, dataset: str, graph: NamedNode) -> list[Quad]:
    """Every quad describing one dataset in a graph: the dataset, its hash-IRI sub-resources, its
    distributions (``{dataset}/distribution/..``) and theirs, its catalogue record, and the catalogue's
    links to it. Shared descriptions (publishers, licences, pages) are left to :func:`orphans`."""
    own = (dataset + "#", dataset + "/")
    todo = [dataset, catalogue_record_iri(dataset)]
    seen = set(todo)
    found: list[Quad] = []
    while todo:
        subject = NamedNode(todo.pop())
        for quad in store.store.quads_for_pattern(subject, None, None, graph):
            found.append(quad)
            value = quad.object.value if isinstance(quad.object, NamedNode) else None
            if value and value.startswith(own) and value not in seen:
                seen.add(value)
                todo.append(value)
    catalog = NamedNode(store.uris.catalog())
    found.extend(store.store.quads_for_pattern(catalog, DCAT.dataset, NamedNode(dataset), graph))
    found.extend(store.store.quads_for_pattern(catalog, DCAT.record, NamedNode(catalogue_record_iri(dataset)), graph))
    return found


def orphans(store, candidates: Iterable[tuple[NamedNode, NamedNode]]) -> Iterator[Quad]:
    """Descriptions (a publisher's name, a licence's type) that nothing in their graph links to any more."""
    for node, graph in candidates:
        described = list(store.quads_for_pattern(node, None, None, graph))
        if described and next(store.quads_for_pattern(None, None, node, graph), None) is None:
            yield from described


def _slug_taken_elsewhere(store: CatalogueStore, slug: str, own: set[str]) -> bool:
    dataset = NamedNode(store.uris.dataset(slug))
    return any(
        isinstance(q.graph_name, NamedNode) and q.graph_name.value not in own
        for q in store.store.quads_for_pattern(dataset, RDF.type, DCAT.Dataset, None)
    )


def assign_new_slugs(store: CatalogueStore, records: list[DatasetRecord], source: str, taken: set[str]) -> None:
    """Slugs for records the source did not have: the rules of :func:`assign_slugs`, checked against the
    store one slug at a time (no scan) and against the source's other records (``taken``)."""
    own = {store.uris.source_graph(source, True), store.uris.source_graph(source, False)}
    counts: dict[str, int] = {}
    for record in records:
        slug = slugify(record.slug or record.id)
        if _slug_taken_elsewhere(store, slug, own):
            slug = f"{slug}-{source}"
        record.slug = slug
        counts[slug] = counts.get(slug, 0) + 1
    for record in records:
        if counts[record.slug] > 1 or record.slug in taken:
            record.slug = f"{record.slug}-{hashlib.sha1(record.id.encode()).hexdigest()[:8]}"


def same_dataset_elsewhere(
    store: CatalogueStore, record: DatasetRecord, own: set[str], public: set[str]
) -> list[NamedNode]:
    """Public datasets of other sources that are this same dataset: the same landing page, the same
    original IRI, or the same globally unique identifier (an IRI or a UUID; short ids such as CKAN
    names are not unique across portals, so they are not compared)."""
    probes: list[tuple[NamedNode, NamedNode | Literal]] = []
    if record.landing_page:
        probes.append((DCAT.landingPage, NamedNode(record.landing_page)))
    if record.original_iri:
        probes.append((PROV.wasDerivedFrom, NamedNode(record.original_iri)))
    if _GLOBAL_ID.match(record.id):
        probes.append((DCT.identifier, Literal(record.id)))
    found: dict[str, NamedNode] = {}
    for predicate, value in probes:
        for quad in store.store.quads_for_pattern(None, predicate, value, None):
            graph = quad.graph_name
            usable = isinstance(graph, NamedNode) and graph.value in public and graph.value not in own
            if not usable or not isinstance(quad.subject, NamedNode) or quad.subject.value in found:
                continue
            if next(store.store.quads_for_pattern(quad.subject, RDF.type, DCAT.Dataset, graph), None):
                found[quad.subject.value] = quad.subject  # a dataset (not its catalogue record)
    return [found[k] for k in sorted(found)]


_GLOBAL_ID = re.compile(
    r"^(https?://\S+|urn:\S+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


def apply_incremental(
    store: CatalogueStore,
    vocabularies: Vocabularies,
    source: str,
    plan: IncrementalPlan,
    *,
    now: str,
    run: str | None = None,
    extra_additions: Iterable[Quad] = (),
    extra_removals: Iterable[Quad] = (),
    notes: dict | None = None,
) -> IncrementalResult:
    """Write a plan: remove the updated and withdrawn records, write the new and updated ones with their
    catalogue records, tombstone the public datasets withdrawn, in one published step. Records the plan
    says are unchanged are not touched."""
    check_source_name(source)
    uris = store.uris
    dfl = store.dfl
    writer = DcatApWriter(uris, vocabularies)
    graph_of = {True: NamedNode(uris.source_graph(source, True)), False: NamedNode(uris.source_graph(source, False))}
    tombstone_graph = NamedNode(uris.tombstone_graph(source))
    own = {graph_of[True].value, graph_of[False].value}
    when = Literal(now, datatype=XSD.dateTime)
    result = IncrementalResult(plan)

    for item, old in plan.updated:
        item.record.slug = old.slug  # an updated record keeps its IRI
    withdrawn_slugs = {r.slug for r in plan.withdrawn}
    taken = {r.slug for r in plan.unchanged} | {old.slug for _, old in plan.updated}
    assign_new_slugs(store, [i.record for i in plan.new], source, taken - withdrawn_slugs)
    written = [(item, None) for item in plan.new] + [(item, old) for item, old in plan.updated]
    minted = {writer.dataset_iri(item.record).value for item, _ in written}

    # what goes: the old descriptions of updated and withdrawn records, and tombstones now re-minted
    removals: list[Quad] = []
    first_seen: dict[str, Literal] = {}
    for old in [old for _, old in plan.updated] + plan.withdrawn:
        graph = graph_of[old.public]
        record_node = NamedNode(catalogue_record_iri(old.iri))
        issued = next(store.store.quads_for_pattern(record_node, DCT.issued, None, graph), None)
        if issued is not None:
            first_seen[old.iri] = issued.object
        removals.extend(owned_quads(store, old.iri, graph))
    for iri in minted:
        removals.extend(store.store.quads_for_pattern(NamedNode(iri), None, None, tombstone_graph))
    removals.extend(extra_removals)
    removed_datasets = {old.iri for _, old in plan.updated} | {r.iri for r in plan.withdrawn}
    candidates = {
        (q.object, q.graph_name)
        for q in removals
        if isinstance(q.object, NamedNode)
        and isinstance(q.graph_name, NamedNode)
        and q.graph_name in graph_of.values()
        and not _owned_by(q.object.value, removed_datasets)
    }

    # what comes: tombstones of withdrawn public datasets, then the written records (a generator: a first
    # harvest of a large source streams into the bulk loader)
    tombstones: list[Quad] = []
    for old in plan.withdrawn:
        if old.public and old.iri not in minted:
            dataset = NamedNode(old.iri)
            tombstones.append(Quad(dataset, RDF.type, dfl.WithdrawnDataset, tombstone_graph))
            tombstones.append(Quad(dataset, PROV.invalidatedAtTime, when, tombstone_graph))
            title = _english(store.store.quads_for_pattern(dataset, DCT.title, None, graph_of[True]))
            if title is not None:
                tombstones.append(Quad(dataset, DCT.title, title, tombstone_graph))
            result.tombstones += 1
    catalog = NamedNode(uris.catalog())
    public_graphs = {
        g for g, info in store.graphs().items() if info["public"] and not g.startswith(uris.graph("vocab/"))
    }

    def records() -> Iterator[Quad]:
        for item, old in written:
            record = item.record
            if record.original_iri is None and item.origin:
                record.original_iri = item.origin
            graph = graph_of[record.is_public]
            dataset = writer.dataset_iri(record)
            yield from writer.quads(record, graph)
            node = NamedNode(catalogue_record_iri(dataset.value))
            yield Quad(node, RDF.type, DCAT.CatalogRecord, graph)
            yield Quad(node, FOAF.primaryTopic, dataset, graph)
            yield Quad(node, DCT.issued, first_seen.get(old.iri, when) if old else when, graph)
            yield Quad(node, DCT.modified, when, graph)
            yield Quad(node, dfl.contentHash, Literal(item.content_hash), graph)
            if record.is_public:
                yield Quad(catalog, DCAT.record, node, graph)
            if item.origin:
                yield Quad(node, PROV.wasDerivedFrom, NamedNode(item.origin), graph)
            if run:
                yield Quad(node, PROV.wasGeneratedBy, NamedNode(run), graph)
            for other in same_dataset_elsewhere(store, record, own, public_graphs):
                if next(store.store.quads_for_pattern(other, PROV.alternateOf, dataset, None), None) is None:
                    yield Quad(dataset, PROV.alternateOf, other, graph)
                    result.links.append((dataset.value, other.value))

    counted = _Counted(itertools.chain(tombstones, records(), extra_additions))
    bulk = not removals and len(written) > BULK_RECORDS
    delta = store.update_source(
        source,
        {graph_of[True].value: True, graph_of[False].value: False, tombstone_graph.value: True},
        removals,
        counted,
        cleanup=lambda _store: orphans(_store, candidates),
        datasets=minted | removed_datasets,
        bulk=bulk,
        notes=notes,
    )
    result.quads_added = counted.count if bulk else len(delta.added)
    result.quads_removed = len(delta.removed)
    result.generation = store.generation
    return result


class _Counted:
    """Counts the quads of an iterable as they stream past."""

    def __init__(self, items: Iterable[Quad]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[Quad]:
        for item in self._items:
            self.count += 1
            yield item


BULK_RECORDS = 5_000  # a first harvest of more records than this goes through the bulk loader


def _owned_by(iri: str, datasets: set[str]) -> bool:
    base = iri.split("#", 1)[0]
    if base in datasets:
        return True
    head, sep, _ = base.partition("/distribution/")
    return bool(sep) and head in datasets


def _english(quads: Iterable[Quad]) -> Literal | None:
    best = None
    for quad in quads:
        if isinstance(quad.object, Literal) and (best is None or quad.object.language == "en"):
            best = quad.object
    return best
