"""The audit journal as W3C PROV-O, in the catalogue's system graph (never public).

One event, ``{base}/audit/{id}``::

    <{base}/audit/{id}> a prov:Activity ;
        dfl:auditAction "grant.add" ; rdfs:comment "access granted" ;
        prov:endedAtTime "2025-01-01T10:00:00Z"^^xsd:dateTime ;
        prov:wasAssociatedWith <{base}/agent/{account id}> ;     # or <{base}/agent/cli:{user}>
        prov:used <{base}/audit/{id}#before> ;                  # when there was a state before
        prov:generated <{base}/audit/{id}#after> .              # when there is a state after
    <{base}/audit/{id}#before> a prov:Entity ; prov:specializationOf <target> ; dfl:sha256 "..." .
    <{base}/audit/{id}#after>  a prov:Entity ; prov:specializationOf <target> ; dfl:sha256 "..." ;
        prov:wasRevisionOf <{base}/audit/{id}#before> .
    <{base}/agent/{account id}> a prov:Agent .

The target is the dataset's IRI for dataset writes, else ``{base}/agent/{account id}``,
``{base}/grant/{id}`` or ``{base}/token/{id}``. Agents are named by their stable random id, never by
e-mail address: the personal data stays in the accounts database. ``details`` (JSON, never a secret)
is kept as ``dfl:auditDetails``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, serialize

from dfl_graph.accounts import audit
from dfl_graph.accounts.audit import ACTIONS, AuditEvent
from dfl_graph.accounts.database import AccountsDatabase
from dfl_graph.namespaces import PROV, RDF, RDFS, XSD
from dfl_graph.uris import Uris

if TYPE_CHECKING:
    from dfl_graph.store import CatalogueStore

AUDIT_SOURCE = "audit"  # the source name audit writes go under (store bookkeeping)


def agent_iri(uris: Uris, agent: str) -> NamedNode:
    return NamedNode(f"{uris.base}/agent/{agent}")


def target_iri(uris: Uris, event: AuditEvent) -> NamedNode:
    kind = event.action.partition(".")[0]
    if kind == "dataset":
        return NamedNode(event.target)
    return NamedNode(f"{uris.base}/{'agent' if kind == 'account' else kind}/{event.target}")


def event_quads(uris: Uris, event: AuditEvent) -> Iterator[Quad]:
    graph = NamedNode(uris.system_graph())
    dfl = uris.vocab
    activity = NamedNode(f"{uris.base}/audit/{event.id}")
    agent = agent_iri(uris, event.actor)
    target = target_iri(uris, event)

    def q(s: NamedNode, p: NamedNode, o: NamedNode | Literal) -> Quad:
        return Quad(s, p, o, graph)

    yield q(activity, RDF.type, PROV.Activity)
    yield q(activity, dfl.auditAction, Literal(event.action))
    yield q(activity, RDFS.comment, Literal(ACTIONS.get(event.action, event.action), language="en"))
    yield q(activity, PROV.endedAtTime, Literal(event.at, datatype=XSD.dateTime))
    yield q(activity, PROV.wasAssociatedWith, agent)
    yield q(agent, RDF.type, PROV.Agent)
    if event.details:
        yield q(activity, dfl.auditDetails, Literal(json.dumps(event.details, sort_keys=True, ensure_ascii=False)))
    states = (("before", event.before_digest, PROV.used), ("after", event.after_digest, PROV.generated))
    for name, digest, link in states:
        if digest is None:
            continue
        entity = NamedNode(f"{activity.value}#{name}")
        yield q(activity, link, entity)
        yield q(entity, RDF.type, PROV.Entity)
        yield q(entity, PROV.specializationOf, target)
        yield q(entity, dfl.sha256, Literal(digest.removeprefix("sha256:")))
    if event.before_digest and event.after_digest:
        yield q(NamedNode(f"{activity.value}#after"), PROV.wasRevisionOf, NamedNode(f"{activity.value}#before"))


def audit_quads(uris: Uris, events: Iterable[AuditEvent]) -> list[Quad]:
    return [quad for event in events for quad in event_quads(uris, event)]


def audit_nquads(uris: Uris, events: Iterable[AuditEvent]) -> bytes:
    """The events as N-Quads (the export administrators download)."""
    quads = audit_quads(uris, events)
    return serialize(quads, format=RdfFormat.N_QUADS) if quads else b""


def publish_audit(database: AccountsDatabase, store: CatalogueStore) -> tuple[int, int | None]:
    """Write the events not yet in the system graph there, as one published generation (an in-place write,
    so the indexes are updated, not rebuilt). Returns (events published, generation or None if none).

    Idempotent: if the process dies between publishing and noting it, the next run adds the same quads,
    which the store already holds. Phase 2's dataset writes add their events to their own write instead.
    """
    pending = audit.events(database.db, unpublished=True)
    if not pending:
        return 0, None
    store.update_source(AUDIT_SOURCE, {}, [], audit_quads(store.uris, pending))
    generation = store.generation
    with database.transaction() as db:
        audit.mark_published(db, [event.seq for event in pending], generation)
    return len(pending), generation
