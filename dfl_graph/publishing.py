"""Publisher writes: create, replace, withdraw or revert ONE dataset for a caller, as one published step.

Every interface that writes a dataset (the CKAN action API, the Graph Store Protocol, the administrators'
revert) calls :func:`write` with a :class:`WriteRequest`; nothing else writes a single dataset. In order,
before anything is written:

1. the input (a CKAN package dict, or DCAT RDF describing exactly one ``dcat:Dataset``) is mapped by the
   loaders that ``dfl load`` uses (``loaders/ckan.py``, ``loaders/dcat_rdf.py``), so a written dataset reads
   exactly as a loaded one;
2. the caller must be allowed to write the dataset's publisher (:meth:`Visibility.may_write`), and, when the
   dataset exists, its current publisher too: a dataset of another organisation is never written (403; 404
   when the caller may not even read it);
3. the dataset's new description is validated against our SHACL profile (400 with the violations);
4. a public dataset holding personal data needs an administrator's approval of its description (400);
5. datasets that come from a loaded file or a harvest stay theirs (409): each publisher's writes go to its
   own source, ``publisher-{id}`` (its graphs ``graph/publisher-{id}`` and ``.../restricted``).

The write itself is one in-place delta (:meth:`CatalogueStore.update_source`: the indexes are updated from
it, not rebuilt) publishing a new generation, and it carries the audit event's PROV quads (and those of
access changes still waiting to be published) into the system graph. The event (``dataset.write``,
``dataset.withdraw``, ``dataset.revert``) goes into the accounts database right after (see :func:`_commit`),
with the SHA-256 digests of the dataset's state before and after (:class:`DatasetState`: its sorted N-Quads),
both states kept in the ``states`` table (compressed) so any change can be reverted to exactly what was there.

Web workers are forked gunicorn processes, and RocksDB opened in a forked worker hung, so :func:`write`
runs each write in a fresh process forked from a clean one (``multiprocessing`` "forkserver": started once
per web worker, it has imported the write's modules and never opened a store; spawning a new interpreter
per write cost 0.46 s of imports). It waits for the store's writer lock, so it serialises with ``dfl load``
and ``dfl harvest``.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import rdflib
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, parse, serialize

from dfl_graph.accounts import audit
from dfl_graph.accounts.audit import AuditEvent
from dfl_graph.accounts.credentials import new_id
from dfl_graph.accounts.database import AccountsDatabase
from dfl_graph.accounts.provenance import audit_quads
from dfl_graph.accounts.visibility import Visibility
from dfl_graph.approvals import (
    APPROVAL,
    approval_message,
    canonical_nquads,
    description_digest,
    is_approved,
    needs_approval,
    state_digest,
)
from dfl_graph.config import Settings
from dfl_graph.content_hash import mapping_salt, record_hash
from dfl_graph.datatypes import all_published
from dfl_graph.dcat import DcatApWriter
from dfl_graph.generations import generation_dir, now
from dfl_graph.index_files import make_spares
from dfl_graph.ingest import orphans, owned_quads, record_graph, tombstones_after
from dfl_graph.namespaces import DCAT, DCT, EU_ACCESS_RIGHT, FOAF, PROV, RDF, XSD
from dfl_graph.plan import StoredRecord, catalogue_record_iri
from dfl_graph.records import AccessLevel, DatasetRecord, Rejection
from dfl_graph.store import CatalogueStore, StoreError
from dfl_graph.uris import Uris, slugify
from dfl_graph.validation import validate_graph
from dfl_graph.vocabularies import Vocabularies

log = logging.getLogger(__name__)

SOURCE_PREFIX = "publisher-"  # each publisher's writes go to the source publisher-{publisher id}
LOCK_WAIT_SECONDS = 30  # how long a write waits for `dfl load` / `dfl harvest` (gunicorn gives a request 60 s)
RDF_MEDIA_TYPES = {
    "text/turtle": RdfFormat.TURTLE,
    "application/x-turtle": RdfFormat.TURTLE,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/rdf+xml": RdfFormat.RDF_XML,
}
ACTIONS = ("write", "withdraw", "revert")


@dataclass(frozen=True)
class WriteRequest:
    """One write, as an interface asks for it (picklable: it crosses into the writer process)."""

    action: str  # "write" (create or replace), "withdraw" or "revert"
    actor: str = ""  # the account id (what the audit names)
    visibility: Visibility = Visibility.ANONYMOUS  # what the caller may write (anonymous: nothing)
    dataset: str | None = None  # the dataset's IRI; None for a create (the input names it)
    package: dict | None = None  # a CKAN package dict ...
    rdf: bytes | None = None  # ... or DCAT RDF of one dataset,
    media_type: str | None = None  # in this media type
    must_exist: bool | None = None  # True: replace only (404 if absent); False: create only (409 if present)
    revert: str | None = None  # for "revert": the id of the audit event whose previous state comes back
    source: str | None = None  # a write into this publisher source only (a POST to its graph)
    via: str = "api"  # which interface asked (kept in the audit details)


@dataclass
class WriteOutcome:
    """What a write did, or why it was refused (``status`` >= 400, nothing written)."""

    status: int
    message: str
    dataset: str | None = None
    event: str | None = None
    generation: int | None = None
    before: str | None = None  # sha256:... of the dataset's N-Quads before (None: it did not exist)
    after: str | None = None  # ... and after (None: withdrawn)
    violations: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status < 400


class Refused(Exception):
    """A write that must not happen; the message says why (shown to the caller)."""

    def __init__(self, status: int, message: str, violations: list[dict] | None = None) -> None:
        super().__init__(status, message, violations)
        self.status, self.message, self.violations = status, message, violations or []


# -- states: a dataset's description as canonical N-Quads (digests: dfl_graph.approvals) ----------------------------
@dataclass
class _Graphs:
    """What :func:`owned_quads` reads: a store and the catalogue's IRIs."""

    store: Store
    uris: Uris


@dataclass(frozen=True)
class DatasetState:
    """A dataset's description in its graph: ``own`` (itself, its distributions and sub-resources, its catalogue
    record, the catalogue's links to it: what its digest is of) and ``linked``, the graph's descriptions of
    what those link to (a licence's type, a landing page's), which other datasets may share and write too,
    so they are kept with the state (a revert puts them back) but left out of its digest."""

    own: tuple[Quad, ...] = ()
    linked: tuple[Quad, ...] = ()

    @property
    def digest(self) -> str | None:
        return state_digest(list(self.own))


def dataset_state(store: Store, uris: Uris, iri: str, graph: NamedNode) -> DatasetState:
    """The dataset's state as the store holds it (see :class:`DatasetState`)."""
    owned = owned_quads(_Graphs(store, uris), iri, graph)
    subjects = {q.subject for q in owned}
    linked = {q.object for q in owned if isinstance(q.object, NamedNode) and q.object not in subjects}
    shared = [q for node in sorted(linked, key=str) for q in store.quads_for_pattern(node, None, None, graph)]
    return DatasetState(tuple(dict.fromkeys(owned)), tuple(dict.fromkeys(shared)))


def keep_state(db, state: DatasetState) -> str | None:
    """Put a state in the ``states`` table (compressed; once per digest); returns its digest."""
    digest = state.digest
    if digest is not None:
        db.execute(
            "INSERT OR IGNORE INTO states (digest, nquads, created_at) VALUES (?, ?, ?)",
            (digest, zlib.compress(canonical_nquads([*state.own, *state.linked]), 9), audit.now()),
        )
    return digest


def stored_state(db, uris: Uris, iri: str, digest: str) -> DatasetState:
    """A state kept by :func:`keep_state`, read back."""
    row = db.execute("SELECT nquads FROM states WHERE digest = ?", (digest,)).fetchone()
    if row is None:
        raise Refused(409, f"the state {digest} is not kept, so it cannot be restored")
    quads = list(parse(zlib.decompress(row[0]), RdfFormat.N_QUADS))
    graph = next((q.graph_name for q in quads if q.subject.value == iri and q.predicate == RDF.type), None)
    return dataset_state(_memory(quads), uris, iri, graph) if isinstance(graph, NamedNode) else DatasetState()


# -- planning a write (nothing is written) ---------------------------------------------------------------------
@dataclass
class _Existing:
    graph: NamedNode
    source: str
    publisher: str | None
    access: str  # public, restricted or non-public (:class:`AccessLevel` values)


@dataclass
class _Plan:
    action: str  # the audit action
    iri: str
    source: str
    publisher: str | None
    removals: list[Quad]
    additions: list[Quad]
    before: DatasetState
    after: DatasetState
    details: dict
    reverted: AuditEvent | None = None


def source_for(vocabularies: Vocabularies, publisher: str) -> str:
    """The source a publisher's writes go to: ``publisher-{id}`` of a publisher of ``ontology/publishers.ttl``."""
    for pub_id, iri in vocabularies.publishers.items():
        if iri.value == publisher:
            return SOURCE_PREFIX + slugify(pub_id)
    raise Refused(400, f"{publisher} is not an organisation of the catalogue (ontology/publishers.ttl)")


def _existing(store: CatalogueStore, iri: str) -> _Existing | None:
    registry = store.graphs()
    node = NamedNode(iri)
    for quad in store.store.quads_for_pattern(node, RDF.type, DCAT.Dataset, None):
        info = registry.get(quad.graph_name.value) if isinstance(quad.graph_name, NamedNode) else None
        if info is None or info["source"] is None:
            continue
        publisher = next(store.store.quads_for_pattern(node, DCT.publisher, None, quad.graph_name), None)
        rights = next(store.store.quads_for_pattern(node, DCT.accessRights, None, quad.graph_name), None)
        access = next((a.value for a in AccessLevel if rights and rights.object == EU_ACCESS_RIGHT[a.eu_code]), None)
        access = access or (AccessLevel.PUBLIC.value if info["public"] else AccessLevel.NON_PUBLIC.value)
        return _Existing(quad.graph_name, info["source"], publisher.object.value if publisher else None, access)
    return None


def _authorise(visibility: Visibility, publisher: str | None, what: str) -> None:
    if visibility.may_write(publisher):
        return
    yours = ", ".join(sorted(visibility.write_for)) or "no organisation"
    subject = f"datasets of {publisher}" if publisher else "datasets without a publisher"
    raise Refused(403, f"you may not write {subject} ({what}); your grants let you write for {yours}")


def _violations(rejection: Rejection) -> list[dict]:
    return [{"focus": p.record, "path": p.field, "message": p.what, "value": p.value} for p in rejection.problems]


def _record(vocabularies: Vocabularies, request: WriteRequest, base: str) -> tuple[DatasetRecord, str]:
    """The input mapped to a record by the loader of its format, with the mapping salt of its content hash."""
    from loaders.ckan import CkanLoader
    from loaders.dcat_rdf import DcatRdfLoader
    from loaders.rdf_reading import RdfReadError, read_rdf

    if request.package is not None:
        package = dict(request.package)
        if not isinstance(package.get("organization"), dict) and isinstance(package.get("owner_org"), str):
            package["organization"] = {"name": package["owner_org"]}  # what ckanapi sends: the organisation's name
        result = CkanLoader(vocabularies).map(package)
        salt = mapping_salt("ckan")
    else:
        rdf_format = RDF_MEDIA_TYPES.get((request.media_type or "").split(";")[0].strip().lower())
        if rdf_format is None or request.rdf is None:
            known = ", ".join(sorted(RDF_MEDIA_TYPES))
            raise Refused(415, f"send the dataset as DCAT RDF in one of: {known} (got {request.media_type!r})")
        try:
            statements = read_rdf(request.rdf, rdf_format, base_iri=request.dataset or base + "/")
        except RdfReadError as error:
            raise Refused(400, f"the body is not valid RDF: {error}") from None
        loader = DcatRdfLoader(vocabularies)
        items = loader.items_from_triples(statements)
        if len(items) != 1:
            raise Refused(400, f"the body must describe exactly one dcat:Dataset (it describes {len(items)})")
        result = next(iter(loader.records_from(items)))
        salt = mapping_salt("dcat")
    if isinstance(result, Rejection):
        raise Refused(400, "the dataset cannot be published: see the violations", _violations(result))
    return result, salt


def validate(store: CatalogueStore, quads: list[Quad]) -> list[dict]:
    """SHACL violations of a dataset's description against our profile (``ontology/shapes/dfl-shapes.ttl``),
    read with the vocabularies' descriptions of the concepts it uses (a theme's ``skos:inScheme``)."""
    vocabularies = store.uris.vocab_graph("")
    linked = {q.object for q in quads if isinstance(q.object, NamedNode)}
    context = [
        q
        for node in sorted(linked, key=str)
        for q in store.store.quads_for_pattern(node, None, None, None)
        if isinstance(q.graph_name, NamedNode) and q.graph_name.value.startswith(vocabularies)
    ]
    data = rdflib.Graph()
    text = serialize(list(all_published(q.triple for q in quads + context)), format=RdfFormat.N_TRIPLES)
    data.parse(data=text, format="nt")
    report = validate_graph(data, "dfl", store.uris.base)
    return [
        {"focus": f.focus, "path": f.path, "message": f.message} for f in report.findings if f.severity == "Violation"
    ]


def _dataset_quads(
    store: CatalogueStore, writer: DcatApWriter, record: DatasetRecord, source: str, content_hash: str, when: str
) -> list[Quad]:
    """The dataset's quads with its catalogue record, as ``write_plan`` writes them (first seen kept)."""
    dataset = writer.dataset_iri(record)
    graph = record_graph(store.uris, source, record)
    node = NamedNode(catalogue_record_iri(dataset.value))
    stamp = Literal(when, datatype=XSD.dateTime)
    issued = next(store.store.quads_for_pattern(node, DCT.issued, None, None), None)
    quads = list(writer.quads(record, graph))
    quads += [
        Quad(node, RDF.type, DCAT.CatalogRecord, graph),
        Quad(node, FOAF.primaryTopic, dataset, graph),
        Quad(node, DCT.issued, issued.object if issued else stamp, graph),
        Quad(node, DCT.modified, stamp, graph),
        Quad(node, store.dfl.contentHash, Literal(content_hash), graph),
        Quad(node, store.uris.vocab.recordSource, Literal(source), graph),
        Quad(node, store.uris.vocab.recordGeneration, Literal(str(store.generation + 1), datatype=XSD.integer), graph),
    ]
    if record.is_public:
        quads.append(Quad(NamedNode(store.uris.catalog()), DCAT.record, node, graph))
    return list(dict.fromkeys(quads))


def _unchanged(store: CatalogueStore, iri: str, existing: _Existing, content_hash: str, graph: NamedNode) -> bool:
    """True if the dataset is already written from the same description (same content hash, same graph)."""
    if existing.graph != graph:
        return False
    node = NamedNode(catalogue_record_iri(iri))
    found = next(store.store.quads_for_pattern(node, store.dfl.contentHash, None, existing.graph), None)
    return found is not None and found.object.value == content_hash


def _plan(store: CatalogueStore, db, vocabularies: Vocabularies, request: WriteRequest, when: str) -> _Plan | None:
    """What the request will write, authorised and validated; None when it would change nothing."""
    uris = store.uris
    if request.action == "revert":
        return _plan_revert(store, db, request, when)
    if request.action not in ACTIONS:
        raise Refused(400, f"unknown write action {request.action!r}")
    record = None
    if request.action == "withdraw" and not request.dataset:
        raise Refused(400, "name the dataset to withdraw")
    if request.action == "write":
        record, salt = _record(vocabularies, request, uris.base)
        if request.dataset:
            slug = _slug_of(uris, request.dataset)
            record.slug = slug
        else:
            record.slug = slugify(record.slug or record.id)
    iri = request.dataset or DcatApWriter(uris, vocabularies).dataset_iri(record).value
    existing = _existing(store, iri)
    if existing is not None and request.must_exist is False:
        raise Refused(409, f"that name is already in use: {iri}")
    if existing is not None and not request.visibility.may_read(existing.access, existing.publisher):
        raise Refused(404, f"no dataset {iri}")  # as an unknown one: a 403 would say that it exists
    if existing is not None:
        _authorise(request.visibility, existing.publisher, "the dataset's current publisher")
    if record is None:  # withdraw
        if existing is None:
            raise Refused(404, f"no dataset {iri} to withdraw")
        return _plan_withdraw(store, request, iri, existing, when)
    writer = DcatApWriter(uris, vocabularies)
    publisher = writer.publisher_iri(record)
    if publisher is None:
        raise Refused(400, "name the dataset's publisher (CKAN: owner_org; RDF: dct:publisher)")
    _authorise(request.visibility, publisher.value, "the dataset's publisher")
    source = source_for(vocabularies, publisher.value)
    if request.source is not None and request.source != source:
        raise Refused(409, f"the dataset's publisher writes to the graph of {source}, not of {request.source}")
    if existing is None and request.must_exist:
        raise Refused(404, f"no dataset {iri} to replace")
    if existing is not None and existing.source != source:
        raise Refused(
            409,
            f"{iri} comes from the source {existing.source!r} (a loaded file or a harvest, or another"
            f" publisher's writes): change it there",
        )
    _check_not_taken_elsewhere(store, iri, source)
    if record.original_iri == iri:
        record.original_iri = None  # the body named the dataset by our own IRI: not a source of its own
    content_hash = record_hash(salt, record)
    graph = record_graph(uris, source, record)
    if existing is not None and _unchanged(store, iri, existing, content_hash, graph):
        return None
    additions = _dataset_quads(store, writer, record, source, content_hash, when)
    violations = validate(store, additions)
    if violations:
        raise Refused(400, f"the dataset does not conform to the catalogue's profile ({len(violations)})", violations)
    if needs_approval(record):
        _check_approved(db, iri, description_digest(writer, record, graph))
    before, removals = _current(store, iri, existing)
    after = dataset_state(_memory(additions), uris, iri, graph)
    removals += list(store.store.quads_for_pattern(NamedNode(iri), None, None, NamedNode(uris.tombstone_graph(source))))
    details = {"publisher": publisher.value, "source": source, "via": request.via}
    return _Plan("dataset.write", iri, source, publisher.value, removals, additions, before, after, details)


def _check_approved(db, iri: str, digest: str) -> None:
    """A dataset holding personal data goes public only as an administrator approved it (docs/access.md)."""
    if not is_approved(db, iri, digest):
        message = approval_message(digest)
        violation = {"focus": iri, "path": "dfl:holdsPersonalData", "message": message, "digest": digest}
        raise Refused(400, message, [violation])


def approve_public_personal_data(database: AccountsDatabase, actor: str, iri: str, digest: str) -> str:
    """Record an administrator's approval of making this description of a dataset public; returns the event id.
    It reaches the system graph with the next write."""
    if not digest.startswith("sha256:") or len(digest) != 71:
        raise ValueError(f"not a description digest (sha256:<64 hex digits>): {digest!r}")
    with database.transaction() as db:
        return audit.record_digests(db, actor, APPROVAL, iri, None, digest, {"via": "admin"})


def _slug_of(uris: Uris, iri: str) -> str:
    prefix = uris.dataset("")
    slug = unquote(iri[len(prefix) :]) if iri.startswith(prefix) else ""
    if not slug or "/" in slug or "#" in slug:
        raise Refused(404, f"{iri} is not a dataset IRI of this catalogue ({prefix}...)")
    return slug


def _check_not_taken_elsewhere(store: CatalogueStore, iri: str, source: str) -> None:
    """A withdrawn dataset of another source keeps its IRI (it answers 410): it cannot be reused."""
    own = NamedNode(store.uris.tombstone_graph(source))
    for quad in store.store.quads_for_pattern(NamedNode(iri), RDF.type, store.dfl.WithdrawnDataset, None):
        if quad.graph_name != own:
            raise Refused(409, f"that name is already in use: {iri} (a withdrawn dataset of another source)")


def _memory(quads: list[Quad]) -> Store:
    memory = Store()
    memory.extend(quads)
    return memory


def _current(store: CatalogueStore, iri: str, existing: _Existing | None) -> tuple[DatasetState, list[Quad]]:
    """(the dataset's state now, the quads a write removes: those it owns)."""
    if existing is None:
        return DatasetState(), []
    before = dataset_state(store.store, store.uris, iri, existing.graph)
    return before, list(before.own)


def _tombstone(store: CatalogueStore, iri: str, existing: _Existing, when: str) -> list[Quad]:
    """The tombstone a dataset leaves when it is withdrawn now (none for a non-public one)."""
    public = existing.graph.value == store.uris.source_graph(existing.source)
    old = StoredRecord(iri, iri, public, None)
    return tombstones_after(store, existing.source, [old], set(), Literal(when, datatype=XSD.dateTime))[1]


def _plan_withdraw(store: CatalogueStore, request: WriteRequest, iri: str, existing: _Existing, when: str) -> _Plan:
    if not existing.source.startswith(SOURCE_PREFIX):
        raise Refused(409, f"{iri} comes from the source {existing.source!r}: withdraw it there")
    before, removals = _current(store, iri, existing)
    tombstone = _tombstone(store, iri, existing, when)
    details = {"publisher": existing.publisher, "source": existing.source, "via": request.via}
    return _Plan(
        "dataset.withdraw",
        iri,
        existing.source,
        existing.publisher,
        removals,
        tombstone,
        before,
        DatasetState(),
        details,
    )


def _plan_revert(store: CatalogueStore, db, request: WriteRequest, when: str) -> _Plan:
    """The dataset back as it was before an audited change: that state written again, or, when the change
    created it, the dataset withdrawn (a public one leaves a tombstone: its IRI was published, so 410)."""
    row = db.execute("SELECT * FROM audit WHERE id = ?", (request.revert or "",)).fetchone()
    if row is None or not row["action"].startswith("dataset.") or row["action"] == APPROVAL:
        raise Refused(404, f"no dataset change {request.revert!r} to revert")
    event = AuditEvent.from_row(row)
    iri = event.target
    existing = _existing(store, iri)
    state = stored_state(db, store.uris, iri, event.before_digest) if event.before_digest else DatasetState()
    additions = [*state.own, *state.linked]
    publisher = event.details.get("publisher")
    _authorise(request.visibility, publisher, "the publisher of the change reverted")
    if existing is not None:
        _authorise(request.visibility, existing.publisher, "the dataset's current publisher")
    source = event.details.get("source") or (existing.source if existing else "")
    if not source.startswith(SOURCE_PREFIX) or (existing is not None and existing.source != source):
        raise Refused(409, f"{iri} is no longer written by publisher writes ({source!r}): it cannot be reverted here")
    violations = validate(store, additions) if additions else []
    if violations:
        raise Refused(400, "the earlier state does not conform to the catalogue's profile any more", violations)
    before, removals = _current(store, iri, existing)
    tombstones = NamedNode(store.uris.tombstone_graph(source))
    removals += list(store.store.quads_for_pattern(NamedNode(iri), None, None, tombstones))
    if not additions and existing is not None:
        additions = _tombstone(store, iri, existing, when)
    details = {"publisher": publisher, "source": source, "via": request.via, "reverts": event.id}
    return _Plan("dataset.revert", iri, source, publisher, removals, additions, before, state, details, reverted=event)


# -- committing: the store write and the audit event, together ---------------------------------------------------
def apply(
    store: CatalogueStore, database: AccountsDatabase, vocabularies: Vocabularies, request: WriteRequest
) -> WriteOutcome:
    """Plan, check and write one request in this process (:func:`write` runs it in a forked one)."""
    when = now()
    try:
        plan = _plan(store, database.db, vocabularies, request, when)
        if plan is None:
            return WriteOutcome(200, "unchanged: the catalogue already holds this description", request.dataset)
        return _commit(store, database, plan, request.actor)
    except Refused as refused:
        return WriteOutcome(refused.status, refused.message, dataset=request.dataset, violations=refused.violations)


def _commit(store: CatalogueStore, database: AccountsDatabase, plan: _Plan, actor: str) -> WriteOutcome:
    """The store write carrying the audit event's PROV, then the event and the states in the journal.

    The event's id and time are made first, so its PROV rides in the store write; the journal's transaction
    comes after the generation is published, so the accounts database is not locked while indexes are built
    (every token's use writes it). A write that fails records nothing. (A process that died between the two
    would leave PROV without its journal row: the other way round would journal a write that never happened.)
    The writer lock, held throughout, keeps writes from interleaving.
    """
    uris = store.uris
    event = AuditEvent(
        0, new_id(), audit.now(), actor, plan.action, plan.iri, plan.before.digest, plan.after.digest, plan.details
    )
    pending = audit.events(database.db, unpublished=True)
    provenance = audit_quads(uris, [*pending, event])
    if plan.reverted is not None and plan.reverted.before_digest and event.after_digest:
        reverted_state = NamedNode(f"{uris.base}/audit/{plan.reverted.id}#before")
        revision = NamedNode(f"{uris.base}/audit/{event.id}#after")
        provenance.append(Quad(revision, PROV.wasRevisionOf, reverted_state, NamedNode(uris.system_graph())))
    graphs = {graph: False for graph in store.source_graphs(plan.source)}  # by access level and publisher
    for quad in plan.removals + plan.additions:
        if isinstance(quad.graph_name, NamedNode) and uris.record_graph_access(plan.source, quad.graph_name.value):
            graphs[quad.graph_name.value] = False
    graphs |= {uris.source_graph(plan.source): True, uris.tombstone_graph(plan.source): True}
    removed = {plan.iri}
    candidates = {
        (q.object, q.graph_name)
        for q in plan.removals
        if isinstance(q.object, NamedNode)
        and isinstance(q.graph_name, NamedNode)
        and q.graph_name.value in graphs
        and q.object.value.split("#", 1)[0].split("/distribution/", 1)[0] not in removed
    }
    store.update_source(
        plan.source,
        graphs,
        plan.removals,
        plan.additions + provenance,
        cleanup=lambda written: orphans(written, candidates),
        datasets=removed,
    )
    generation = store.generation
    with database.transaction() as db:
        before, after = keep_state(db, plan.before), keep_state(db, plan.after)
        audit.record_digests(db, actor, plan.action, plan.iri, before, after, plan.details, event.id, event.at)
        seq = db.execute("SELECT seq FROM audit WHERE id = ?", (event.id,)).fetchone()[0]
        audit.mark_published(db, [*(e.seq for e in pending), seq], generation)
    status = 201 if before is None and after is not None else 200
    return WriteOutcome(status, audit.ACTIONS[plan.action], plan.iri, event.id, generation, before, after)


# -- running a write in a process of its own ---------------------------------------------------------------------
def _open_writer(settings: Settings) -> CatalogueStore:
    """The writer, once ``dfl load`` / ``dfl harvest`` (or another write) lets go of the lock."""
    from dfl_graph.indexes.registry import open_writer

    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return open_writer(settings.data_dir, settings.uris, settings.backend())
        except StoreError as error:
            if "another `dfl` process" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def run_write(settings: Settings, request: WriteRequest) -> WriteOutcome:
    """One write in this process: open the writer, apply, close (the writer process's entry point)."""
    try:
        store = _open_writer(settings)
    except StoreError as error:
        return WriteOutcome(503, f"the catalogue cannot be written now: {error}", request.dataset)
    with store:
        if not store.generation:
            return WriteOutcome(503, "no catalogue has been published yet (run `dfl load`)", request.dataset)
        try:
            return apply(store, AccountsDatabase(settings.data_dir), Vocabularies(settings.uris), request)
        except (StoreError, OSError) as error:  # a full disk, say: the store and the journal are as they were
            return WriteOutcome(503, f"the write failed and changed nothing: {error}", request.dataset)


def _writer_context() -> multiprocessing.context.BaseContext:
    """Processes forked from a clean server that has imported what a write needs (see the module docstring)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, "dfl_graph.indexes.registry"])
    return context


def write(settings: Settings, request: WriteRequest) -> WriteOutcome:
    """Run one write in a fresh process (see the module docstring) and return what it did; then, in the
    background, make spare copies of the index files it published for the next write to start from."""
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=_writer_context()) as pool:
            outcome = pool.submit(run_write, settings, request).result()
    except BrokenProcessPool:  # the writer process died (killed): its write was not committed
        return WriteOutcome(503, "the write did not finish; the next writer recovers the store", request.dataset)
    if outcome.generation is not None:
        index_dir = generation_dir(settings.data_dir, outcome.generation) / "indexes"
        threading.Thread(target=_make_spares, args=(index_dir,), name="dfl-spares", daemon=True).start()
    return outcome


def _make_spares(index_dir: Path) -> None:
    try:
        make_spares(index_dir)
    except OSError as error:  # a full disk, say: the next write copies, as it would without spares
        log.warning("no spare index copies for %s: %s", index_dir, error)


__all__ = [
    "SOURCE_PREFIX",
    "WriteOutcome",
    "WriteRequest",
    "apply",
    "approve_public_personal_data",
    "dataset_state",
    "run_write",
    "validate",
    "write",
]
