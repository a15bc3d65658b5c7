"""The audit journal: who changed what, when, with digests of the state before and after.

Every change to accounts, grants and tokens (and, from phase 2 on, every dataset write) appends one
:class:`AuditEvent` in the same SQLite transaction as the change itself, so nothing changes unrecorded.
The journal is append-only: nothing here updates or deletes an event (only the note of which catalogue
generation published it). Its PROV rendering (:mod:`dfl_graph.accounts.provenance`) goes into the
catalogue's system graph, for administrators to query alongside the data it describes.

A digest is ``sha256:`` + the hex SHA-256 of the canonical JSON of a state (sorted keys, no spaces); an
absent state (before a creation, after a deletion) has none. Secrets never enter ``details``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from dfl_graph.accounts.credentials import new_id

# action -> what it means (shown to administrators, and the rdfs:comment of the PROV activity)
ACTIONS = {
    "account.create": "account created",
    "account.disable": "account disabled",
    "account.enable": "account enabled again",
    "account.login": "signed in",
    "grant.add": "access granted",
    "grant.revoke": "access grant revoked",
    "token.create": "API token created",
    "token.revoke": "API token revoked",
    "dataset.write": "dataset created or replaced",
    "dataset.withdraw": "dataset withdrawn",
    "dataset.revert": "dataset reverted to an earlier state",
    "dataset.approve-public-personal-data": "approved making a dataset holding personal data public",
}


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def state_digest(state: dict | None) -> str | None:
    if state is None:
        return None
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    id: str
    at: str
    actor: str
    action: str
    target: str
    before_digest: str | None
    after_digest: str | None
    details: dict
    published_generation: int | None = None

    @property
    def summary(self) -> str:
        return ACTIONS.get(self.action, self.action)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> AuditEvent:
        return cls(
            row["seq"],
            row["id"],
            row["at"],
            row["actor"],
            row["action"],
            row["target"],
            row["before_digest"],
            row["after_digest"],
            json.loads(row["details"]),
            row["published_generation"],
        )


def record(
    db: sqlite3.Connection,
    actor: str,
    action: str,
    target: str,
    before: dict | None,
    after: dict | None,
    details: dict | None = None,
) -> str:
    """Append one event (inside the caller's transaction); returns its id."""
    return record_digests(db, actor, action, target, state_digest(before), state_digest(after), details)


def record_digests(
    db: sqlite3.Connection,
    actor: str,
    action: str,
    target: str,
    before_digest: str | None,
    after_digest: str | None,
    details: dict | None = None,
    event_id: str | None = None,
    at: str | None = None,
) -> str:
    """:func:`record` with the digests already taken (a dataset's are of its sorted N-Quads, not of JSON), and
    the event's id and time when the caller made them already (a dataset write puts them in its PROV first)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event_id = event_id or new_id()
    db.execute(
        "INSERT INTO audit (id, at, actor, action, target, before_digest, after_digest, details)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event_id,
            at or now(),
            actor,
            action,
            target,
            before_digest,
            after_digest,
            json.dumps(details or {}, sort_keys=True, ensure_ascii=False),
        ),
    )
    return event_id


def events(
    db: sqlite3.Connection,
    actor: str | None = None,
    action_prefix: str | None = None,
    limit: int | None = None,
    unpublished: bool = False,
    publisher: str | None = None,
) -> list[AuditEvent]:
    """Events, newest first, optionally of one actor, of actions starting with a prefix, of dataset changes
    of one publisher (its IRI), or not yet published into the system graph (oldest first then, the order they
    are published in)."""
    clauses, values = [], []
    if actor is not None:
        clauses.append("actor = ?")
        values.append(actor)
    if publisher is not None:
        clauses.append("action LIKE 'dataset.%' AND json_extract(details, '$.publisher') = ?")
        values.append(publisher)
    if action_prefix is not None:
        clauses.append("action LIKE ? ESCAPE '\\'")
        values.append(action_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    if unpublished:
        clauses.append("published_generation IS NULL")
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    order = "ASC" if unpublished else "DESC"
    tail = f"LIMIT {int(limit)}" if limit is not None else ""
    rows = db.execute(f"SELECT * FROM audit {where} ORDER BY seq {order} {tail}", values).fetchall()
    return [AuditEvent.from_row(row) for row in rows]


def moment(text: str) -> datetime:
    """A time as an administrator or the journal writes it (ISO 8601; without a zone it is UTC). ValueError if
    it is not one."""
    parsed = datetime.fromisoformat(text.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def first_changes_since(changes: list[AuditEvent], since: datetime) -> list[AuditEvent]:
    """Of some dataset changes, each dataset's first one at or after ``since``, oldest first: reverting those
    brings every dataset they touched back to what it was at ``since``."""
    first: dict[str, AuditEvent] = {}
    for event in sorted(changes, key=lambda e: e.seq):
        if moment(event.at) >= since:
            first.setdefault(event.target, event)
    return list(first.values())


def mark_published(db: sqlite3.Connection, seqs: list[int], generation: int) -> None:
    db.executemany("UPDATE audit SET published_generation = ? WHERE seq = ?", [(generation, s) for s in seqs])
