"""Administrators' approvals of public personal data (docs/access.md).

A dataset that holds personal data goes public only when an administrator has approved that exact description.
The approval is an audit event (:data:`APPROVAL`) on the dataset's IRI. It carries the digest of the description
the publisher gives: the sorted N-Quads the writer makes of the record, without the catalogue record, which holds
the time of the write. Every way in applies the same rule: publisher writes (:mod:`dfl_graph.publishing`), and
``dfl load`` and harvests (:func:`hold_back`), which hold such a record back and report the digest to approve.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

from pyoxigraph import NamedNode, Quad, RdfFormat, serialize

from dfl_graph.accounts.database import FILENAME as ACCOUNTS_FILENAME
from dfl_graph.dcat import DcatApWriter
from dfl_graph.records import DatasetRecord, Problem

APPROVAL = "dataset.approve-public-personal-data"


def canonical_nquads(quads: list[Quad]) -> bytes:
    """The quads as N-Quads, one line each, sorted and without repeats: what digests and ``states`` hold."""
    if not quads:
        return b""
    return b"".join(sorted(set(serialize(quads, format=RdfFormat.N_QUADS).splitlines(keepends=True))))


def state_digest(quads: list[Quad]) -> str | None:
    """``sha256:`` + the hex SHA-256 of the sorted N-Quads; None for an absent dataset."""
    return "sha256:" + hashlib.sha256(canonical_nquads(quads)).hexdigest() if quads else None


def description_digest(writer: DcatApWriter, record: DatasetRecord, graph: NamedNode) -> str:
    """The digest an administrator approves. It covers the dataset's description as the publisher gives it, so
    the same description sent again is recognised."""
    return state_digest(list(writer.quads(record, graph))) or ""


def needs_approval(record: DatasetRecord) -> bool:
    """A record that says it holds personal data and would be public."""
    return bool(getattr(record, "personal_data", None)) and record.is_public


def is_approved(db: sqlite3.Connection, iri: str, digest: str) -> bool:
    found = db.execute(
        "SELECT 1 FROM audit WHERE action = ? AND target = ? AND after_digest = ?", (APPROVAL, iri, digest)
    ).fetchone()
    return found is not None


def approval_message(digest: str) -> str:
    return (
        "the dataset holds personal data, so making it public needs an administrator's approval of exactly"
        f" this description ({digest}) on /admin/changes"
    )


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A record a load or harvest would make public although it holds personal data, and its description's digest."""

    record: DatasetRecord
    iri: str
    digest: str


def unapproved(data_dir: Path, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates no administrator approved. The accounts file is only read: a catalogue without one has no
    approvals."""
    path = Path(data_dir) / ACCOUNTS_FILENAME
    if not candidates or not path.exists():
        return list(candidates)
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
        return [c for c in candidates if not is_approved(db, c.iri, c.digest)]


def held_back_problem(candidate: Candidate) -> Problem:
    """The problem that tells a publisher why a record was not published, and what an administrator approves."""
    return Problem(
        candidate.record.id,
        "personal_data",
        f"held back, not published: {approval_message(candidate.digest)} (dataset {candidate.iri})",
    )


__all__ = [
    "APPROVAL",
    "Candidate",
    "approval_message",
    "canonical_nquads",
    "description_digest",
    "held_back_problem",
    "is_approved",
    "needs_approval",
    "state_digest",
    "unapproved",
]
