"""The write pipeline: every write of records (a ``dfl load``, a harvest) goes the same way.

::

    Loader.records_from(items) -> DatasetRecord | Rejection      loaders/ (the source's mapper)
    plan_write(stored, incoming, complete) -> WritePlan          dfl_graph/plan.py
    write_plan(store, plan, ...)                                 here: one published step
        -> CatalogueStore writes and checkpoints                 dfl_graph/store.py
        -> Publisher(builders).publish()                         dfl_graph/publish.py

So a load and a harvest share one rule for slugs, one for withdrawal and tombstones, and one for catalogue
records: every written dataset gets a ``dcat:CatalogRecord`` (``{dataset}#record``) saying where it came from
(``prov:wasDerivedFrom`` the source's own record), when it was first seen and last written, by which source
and generation, and its content hash (what makes the next write of the source incremental).

A plan is written in one of three ways, whichever costs least; all publish atomically:

* in place (most writes): the old descriptions of updated and withdrawn records are removed and the new
  ones added, quad by quad, and the exact change is published as a :class:`~dfl_graph.generations.Delta`,
  so the index builders update the previous generation's indexes: a write costs in proportion to the change;
* replacing the source (a first load, or a run that rewrites much of the source, when every record to keep
  was mapped this run): its graphs are dropped and bulk-loaded again (the bulk loader, both cores), and the
  indexes rebuilt;
* in place but bulk-loaded (many new records next to records kept unmapped, e.g. a harvest adding more than
  :data:`BULK_RECORDS`): no delta, indexes rebuilt.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from dfl_graph.approvals import Candidate, description_digest, held_back_problem, needs_approval, unapproved
from dfl_graph.content_hash import mapping_salt, record_hash, vocabulary_digest
from dfl_graph.crash_points import crash_point
from dfl_graph.dcat import DcatApWriter
from dfl_graph.generations import now
from dfl_graph.namespaces import DCAT, DCT, DQV, FOAF, PROV, RDF, XSD
from dfl_graph.plan import (
    IncomingRecord,
    StoredRecord,
    WritePlan,
    catalogue_record_iri,
    check_source_name,
    plan_write,
    stored_records,
)
from dfl_graph.records import DataServiceRecord, DatasetRecord, Problem
from dfl_graph.store import CatalogueStore
from dfl_graph.uris import Uris, slugify
from dfl_graph.vocabularies import VOCABULARY_FILES, Vocabularies, read_vocabulary
from loaders import LoadError, loader_class

BULK_RECORDS = 5_000  # a write of more records than this goes through the bulk loader


@dataclass
class WriteResult:
    plan: WritePlan
    generation: int = 0
    quads_added: int = 0
    quads_removed: int = 0
    links: list[tuple[str, str]] = field(default_factory=list)  # (our dataset, the same dataset in another source)
    tombstones: int = 0  # public datasets withdrawn (their IRIs now answer 410)
    mode: str = "in place"  # in place | replaced | bulk


@dataclass
class LoadReport:
    """What one ``dfl load`` did (the CLI prints it)."""

    source: str
    path: str
    datasets: int = 0  # dataset records in the file that were mapped (published or kept)
    services: int = 0  # data service records of them (published at /service/{slug})
    public: int = 0
    restricted: int = 0
    distributions: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0
    quads_added: int = 0
    quads_removed: int = 0
    generation: int = 0
    mode: str = ""
    counts: dict[str, int] = field(default_factory=dict)  # the loader's counters (docs/loaders.md)
    problems: list[Problem] = field(default_factory=list)


# -- dfl load ------------------------------------------------------------------------------------------------
def load_file(
    store: CatalogueStore,
    vocabularies: Vocabularies,
    format_name: str,
    path: Path,
    source: str,
    origin: str | None = None,
) -> LoadReport:
    """Make ``source`` what ``path`` says (a complete run: records the file no longer has are withdrawn), in
    one published step; on any error the catalogue is unchanged. ``origin``: the portal the file came from,
    which the loader names each record's own metadata URL by (a CKAN package_show, a DataPress dataset API)."""
    check_source_name(source)
    path = Path(path)
    loader = loader_class(format_name)(vocabularies, origin)
    try:
        records = loader.read_all(path)
    except RecursionError:
        raise LoadError(path, "nested too deeply to read (arrays or objects inside each other ~1,000 deep)") from None
    salt = mapping_salt(format_name)
    incoming = [IncomingRecord(r, record_hash(salt, r), r.source_url or r.original_iri) for r in records]
    plan = plan_write(stored_records(store, source), incoming, complete=True)
    held = hold_back_unapproved(store, vocabularies, source, plan)
    crash_point("load-mapped")
    if plan.changes:
        result = write_plan(store, vocabularies, source, plan, when=now())
    else:  # the file says what the catalogue already holds: nothing to write, no generation to publish
        result = WriteResult(plan, generation=store.generation, mode="nothing to write")
    report = LoadReport(source, str(path), counts=dict(loader.counts), problems=[*loader.problems, *held])
    report.services = sum(isinstance(r, DataServiceRecord) for r in records)
    report.services -= sum(isinstance(d.record, DataServiceRecord) for d in plan.duplicates)
    report.datasets = len(records) - len(plan.duplicates) - len(held) - report.services
    report.public = sum(r.is_public for r in records) - sum(d.record.is_public for d in plan.duplicates) - len(held)
    report.restricted = report.datasets + report.services - report.public
    report.distributions = sum(len(r.distributions) for r in records)
    report.new, report.updated = len(plan.new), len(plan.updated)
    report.unchanged, report.withdrawn = len(plan.unchanged), len(plan.withdrawn)
    report.rejected = loader.counts.get("rejected", 0) + len(plan.duplicates) + len(held)
    report.quads_added, report.quads_removed = result.quads_added, result.quads_removed
    report.generation, report.mode = result.generation, result.mode
    return report


def hold_back_unapproved(
    store: CatalogueStore, vocabularies: Vocabularies, source: str, plan: WritePlan
) -> list[Problem]:
    """Take out of the plan the records that would go public holding personal data without an administrator's
    approval (:mod:`dfl_graph.approvals`): a new one is not written, an updated one keeps its stored version.
    Returns a problem for each, with the digest to approve. The digest is of the description under the IRI the
    record has (updated) or asks for (new), so the next run recognises the approval."""
    writer = DcatApWriter(store.uris, vocabularies)
    candidates: dict[str, tuple[Candidate, StoredRecord | None]] = {}
    for item, old in [(item, None) for item in plan.new] + list(plan.updated):
        if not needs_approval(item.record):
            continue
        record = replace(item.record, slug=old.slug if old else slugify(item.record.slug or item.record.id))
        digest = description_digest(writer, record, record_graph(store.uris, source, record))
        candidates[record.id] = (Candidate(item.record, writer.dataset_iri(record).value, digest), old)
    held = unapproved(store.data_dir, [candidate for candidate, _ in candidates.values()])
    if not held:
        return []
    ids = {candidate.record.id for candidate in held}
    plan.new = [item for item in plan.new if item.record.id not in ids]
    plan.unchanged += [old for item, old in plan.updated if item.record.id in ids]
    plan.updated = [(item, old) for item, old in plan.updated if item.record.id not in ids]
    return [held_back_problem(candidate) for candidate in held]


def ensure_vocabularies(store: CatalogueStore) -> bool:
    """Load the shipped vocabularies if the store lacks them or they changed; True if it loaded."""
    digest = vocabulary_digest()
    if store.vocabulary_digest() == digest:
        return False
    graphs = {store.uris.vocab_graph(stem): read_vocabulary(store.uris, stem) for stem in VOCABULARY_FILES}
    store.load_vocabularies(graphs, digest)
    return True


# -- slugs, tombstones, links: one rule for every write ----------------------------------------------------------
def _is_service(uris: Uris, iri: str) -> bool:
    parsed = uris.parse(iri)
    return parsed is not None and parsed.kind == "service"


def _slug_taken_elsewhere(store: CatalogueStore, slug: str, own: set[str], service: bool = False) -> bool:
    iri = NamedNode(store.uris.service(slug) if service else store.uris.dataset(slug))
    return any(
        isinstance(q.graph_name, NamedNode) and q.graph_name.value not in own
        for q in store.store.quads_for_pattern(iri, RDF.type, DCAT.DataService if service else DCAT.Dataset, None)
    )


def assign_new_slugs(store: CatalogueStore, records: list[DatasetRecord], source: str, taken: set[str]) -> None:
    """Slugs for records the source did not have, deterministically (same records, same slugs, in any order).

    A slug another source already uses gets the source name appended; a clash within the source (with another
    new record, or one of ``taken``: the slugs the source keeps) gets a short hash of the record id.
    """
    own = {store.uris.source_graph(source), *store.source_graphs(source)}
    counts: dict[str, int] = {}
    for record in records:
        slug = slugify(record.slug or record.id)
        if _slug_taken_elsewhere(store, slug, own, isinstance(record, DataServiceRecord)):
            slug = f"{slug}-{source}"
        record.slug = slug
        counts[slug] = counts.get(slug, 0) + 1
    for record in records:
        if counts[record.slug] > 1 or record.slug in taken:
            record.slug = f"{record.slug}-{hashlib.sha1(record.id.encode()).hexdigest()[:8]}"


def tombstones_after(
    store: CatalogueStore, source: str, withdrawn: Iterable[StoredRecord], minted: set[str], when: Literal
) -> tuple[list[Quad], list[Quad]]:
    """The source's tombstone graph after a write, as (tombstones that go, tombstones that come).

    A public dataset withdrawn gets a tombstone (type, time, title); a tombstone goes when its dataset is
    published again. Restricted datasets get none: a 410 would tell the public that they existed.
    """
    uris = store.uris
    graph = NamedNode(uris.tombstone_graph(source))
    public = NamedNode(uris.source_graph(source))
    going = [q for iri in sorted(minted) for q in store.store.quads_for_pattern(NamedNode(iri), None, None, graph)]
    coming: list[Quad] = []
    for old in withdrawn:
        if old.public and old.iri not in minted:
            dataset = NamedNode(old.iri)
            kind = uris.vocab.WithdrawnService if _is_service(uris, old.iri) else uris.vocab.WithdrawnDataset
            coming.append(Quad(dataset, RDF.type, kind, graph))
            coming.append(Quad(dataset, PROV.invalidatedAtTime, when, graph))
            title = _english(store.store.quads_for_pattern(dataset, DCT.title, None, public))
            if title is not None:
                coming.append(Quad(dataset, DCT.title, title, graph))
    return going, coming


_GLOBAL_ID = re.compile(
    r"^(https?://\S+|urn:\S+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


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


# -- removing a record in place -----------------------------------------------------------------------------------
def owned_quads(store: CatalogueStore, dataset: str, graph: NamedNode) -> list[Quad]:
    """Every quad describing one dataset in a graph: the dataset, its hash-IRI sub-resources, its
    distributions (``{dataset}/distribution/..``) and theirs, its catalogue record, its metadata quality
    measurements (which link to it, ``dqv:computedOn``), and the catalogue's links to it. Shared descriptions
    (publishers, licences, pages) are left to :func:`orphans`."""
    own = (dataset + "#", dataset + "/")
    measured = store.store.quads_for_pattern(None, DQV.computedOn, NamedNode(dataset), graph)
    todo = [
        dataset,
        catalogue_record_iri(dataset),
        *(q.subject.value for q in measured if q.subject.value.startswith(own)),
    ]
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
    found.extend(store.store.quads_for_pattern(catalog, DCAT.service, NamedNode(dataset), graph))
    found.extend(store.store.quads_for_pattern(catalog, DCAT.record, NamedNode(catalogue_record_iri(dataset)), graph))
    return found


def orphans(store, candidates: Iterable[tuple[NamedNode, NamedNode]]) -> Iterator[Quad]:
    """Descriptions (a publisher's name, a licence's type) that nothing in their graph links to any more."""
    for node, graph in candidates:
        described = list(store.quads_for_pattern(node, None, None, graph))
        if described and next(store.quads_for_pattern(None, None, node, graph), None) is None:
            yield from described


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


def _first(store: CatalogueStore, subject: NamedNode, predicate: NamedNode, graph: NamedNode) -> Literal | None:
    found = next(store.store.quads_for_pattern(subject, predicate, None, graph), None)
    return found.object if found is not None and isinstance(found.object, Literal) else None


class _Counted:
    """Counts the quads of an iterable as they stream past."""

    def __init__(self, items: Iterable[Quad]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[Quad]:
        for item in self._items:
            self.count += 1
            yield item


def record_graph(uris: Uris, source: str, record: DatasetRecord) -> NamedNode:
    """The graph a record is written to: by its access level, and for NON_PUBLIC by its publisher too."""
    return NamedNode(uris.source_graph(source, record.access.value, record.publisher))


def stored_graph(store: CatalogueStore, source: str, old: StoredRecord, graphs: list[str]) -> NamedNode:
    """The graph that holds a stored record: the public graph, else whichever of the source's other graphs
    (``graphs``) types it as a dataset (one indexed lookup)."""
    if old.public:
        return NamedNode(store.uris.source_graph(source))
    dataset = NamedNode(old.iri)
    for graph in graphs:
        if next(store.store.quads_for_pattern(dataset, RDF.type, DCAT.Dataset, NamedNode(graph)), None) is not None:
            return NamedNode(graph)
    return NamedNode(store.uris.source_graph(source, "restricted"))


# -- writing a plan ------------------------------------------------------------------------------------------------
def write_plan(
    store: CatalogueStore,
    vocabularies: Vocabularies,
    source: str,
    plan: WritePlan,
    *,
    when: str,
    run: str | None = None,
    extra_additions: Iterable[Quad] = (),
    extra_removals: Iterable[Quad] = (),
    notes: dict | None = None,
) -> WriteResult:
    """Write a plan in one published step (see the module docstring): the new and updated records with their
    catalogue records, the withdrawn ones removed and tombstoned. Records the plan says are unchanged are not
    touched (unless the whole source is replaced). ``run`` is the harvest run that wrote them, if any;
    ``extra_additions`` / ``extra_removals`` are the run's own quads (its report)."""
    check_source_name(source)
    uris = store.uris
    public_graph = NamedNode(uris.source_graph(source))
    restricted_graph = NamedNode(uris.source_graph(source, "restricted"))
    before = store.source_graphs(source)  # every graph of the source's records, by access level and publisher
    tombstone_graph = NamedNode(uris.tombstone_graph(source))
    graph_cache: dict[str, NamedNode] = {}

    def old_graph(old: StoredRecord) -> NamedNode:
        if old.iri not in graph_cache:
            graph_cache[old.iri] = stored_graph(store, source, old, before)
        return graph_cache[old.iri]

    stamp = Literal(when, datatype=XSD.dateTime)
    result = WriteResult(plan)
    extra_removals = list(extra_removals)

    for item, old in (*plan.updated, *plan.same):
        item.record.slug = old.slug  # a record the source had keeps its IRI
    kept = {r.slug for r in plan.unchanged} | {old.slug for _, old in plan.updated}
    assign_new_slugs(store, [i.record for i in plan.new], source, kept)
    writer = DcatApWriter(uris, vocabularies)
    # every record of the run by its source id, for links between them (a distribution's data service ...)
    writer.record_iris = {r.id: r.iri for r in plan.unchanged}
    writer.record_iris.update((i.record.id, writer.dataset_iri(i.record).value) for i in plan.new)
    writer.record_iris.update((i.record.id, writer.dataset_iri(i.record).value) for i, _ in plan.updated)
    replace = (
        len(plan.same) == len(plan.unchanged)
        and not extra_removals
        and plan.changes > max(BULK_RECORDS, (len(plan.new) + len(plan.updated) + len(plan.same)) // 4)
        and not _has_runs(store, public_graph)
    )
    written = [(item, None) for item in plan.new] + list(plan.updated) + (list(plan.same) if replace else [])
    target = [record_graph(uris, source, item.record) for item, _ in written]  # the graph each is written to
    own = {public_graph.value, restricted_graph.value, *before, *(graph.value for graph in target)}
    minted = {writer.dataset_iri(item.record).value for item, _ in written}
    # what the records written keep from before: when they were first seen (and, if unchanged, last written)
    first_seen: dict[str, Literal] = {}
    last_written: dict[str, Literal] = {}
    for _item, old in written:
        if old is not None:
            node = NamedNode(catalogue_record_iri(old.iri))
            if (issued := _first(store, node, DCT.issued, old_graph(old))) is not None:
                first_seen[old.iri] = issued
    for _item, old in plan.same if replace else ():
        node = NamedNode(catalogue_record_iri(old.iri))
        if (modified := _first(store, node, DCT.modified, old_graph(old))) is not None:
            last_written[old.iri] = modified
    tombstones_gone, tombstones_new = tombstones_after(store, source, plan.withdrawn, minted, stamp)
    result.tombstones = sum(1 for q in tombstones_new if q.predicate == RDF.type)
    public_graphs = {g for g, info in store.graphs().items() if info["public"] and info["source"] != "vocab"}
    others = public_graphs - own - {tombstone_graph.value}
    generation = Literal(str(store.generation + 1), datatype=XSD.integer)

    def records(only: str | None) -> Iterator[Quad]:
        """The quads of the records written (those of graph ``only``, or all)."""
        catalog = NamedNode(uris.catalog())
        for (item, old), graph in zip(written, target, strict=True):
            record = item.record
            if only is not None and graph.value != only:
                continue
            if record.original_iri is None and item.origin:
                record.original_iri = item.origin  # the dataset too is derived from the source's own record
            dataset = writer.dataset_iri(record)
            yield from writer.quads(record, graph)
            node = NamedNode(catalogue_record_iri(dataset.value))
            first = first_seen.get(old.iri, stamp) if old else stamp
            yield Quad(node, RDF.type, DCAT.CatalogRecord, graph)
            yield Quad(node, FOAF.primaryTopic, dataset, graph)
            yield Quad(node, DCT.issued, first, graph)
            yield Quad(node, DCT.modified, last_written.get(old.iri, stamp) if old else stamp, graph)
            yield Quad(node, store.dfl.contentHash, Literal(item.content_hash), graph)
            yield Quad(node, uris.vocab.recordSource, Literal(source), graph)
            yield Quad(node, uris.vocab.recordGeneration, generation, graph)
            if record.is_public:
                yield Quad(catalog, DCAT.record, node, graph)
            if item.origin:
                yield Quad(node, PROV.wasDerivedFrom, NamedNode(item.origin), graph)
            if run:
                yield Quad(node, PROV.wasGeneratedBy, NamedNode(run), graph)
            if not others or isinstance(record, DataServiceRecord):  # alternates are datasets of other sources
                continue
            for other in same_dataset_elsewhere(store, record, own, others):
                if next(store.store.quads_for_pattern(other, PROV.alternateOf, dataset, None), None) is None:
                    yield Quad(dataset, PROV.alternateOf, other, graph)
                    result.links.append((dataset.value, other.value))

    if replace:
        extras = list(extra_additions)
        kept_tombstones = [
            q for q in store.store.quads_for_pattern(None, None, None, tombstone_graph) if q.subject.value not in minted
        ]
        counted = _Counted(
            itertools.chain(records(public_graph.value), (q for q in extras if q.graph_name == public_graph))
        )
        graphs: dict[str, tuple[bool, Iterable[Quad]]] = {public_graph.value: (True, counted)}
        for graph in sorted(own - {public_graph.value}):  # a graph the source no longer fills is emptied
            quads = itertools.chain(records(graph), (q for q in extras if q.graph_name == NamedNode(graph)))
            graphs[graph] = (False, quads)
        graphs[tombstone_graph.value] = (True, kept_tombstones + tombstones_new)
        result.quads_added = store.replace_graphs(source, graphs)
        result.mode = "replaced"
        result.generation = store.generation
        return result

    removals: list[Quad] = []
    for _item, old in plan.updated:
        removals.extend(owned_quads(store, old.iri, old_graph(old)))
    for old in plan.withdrawn:
        removals.extend(owned_quads(store, old.iri, old_graph(old)))
    removals.extend(tombstones_gone)
    removals.extend(extra_removals)
    removed_datasets = {old.iri for _, old in plan.updated} | {r.iri for r in plan.withdrawn}
    candidates = {
        (q.object, q.graph_name)
        for q in removals
        if isinstance(q.object, NamedNode)
        and isinstance(q.graph_name, NamedNode)
        and q.graph_name.value in own
        and not _owned_by(q.object.value, removed_datasets)
    }
    counted = _Counted(itertools.chain(tombstones_new, records(None), extra_additions))
    bulk = not removals and len(written) > BULK_RECORDS
    delta = store.update_source(
        source,
        {
            public_graph.value: True,
            **{graph: False for graph in sorted(own - {public_graph.value})},
            tombstone_graph.value: True,
        },
        removals,
        counted,
        cleanup=lambda _store: orphans(_store, candidates),
        datasets=minted | removed_datasets,
        bulk=bulk,
        notes=notes,
    )
    result.mode = "bulk" if bulk else "in place"
    result.quads_added = counted.count if bulk else len(delta.added)
    result.quads_removed = len(delta.removed)
    result.generation = store.generation
    return result


def _has_runs(store: CatalogueStore, graph: NamedNode) -> bool:
    """True if the source's graph holds harvest reports (a replace would drop them)."""
    return next(store.store.quads_for_pattern(None, RDF.type, store.dfl.HarvestRun, graph), None) is not None


__all__ = [
    "BULK_RECORDS",
    "LoadReport",
    "WriteResult",
    "assign_new_slugs",
    "ensure_vocabularies",
    "load_file",
    "same_dataset_elsewhere",
    "tombstones_after",
    "write_plan",
]
