"""The accounts database: one SQLite file in the data directory, beside (never inside) the generations.

Accounts, grants, tokens, sessions and the audit journal change while the catalogue does not, and must
survive every publish, so they live in ``{data_dir}/accounts.sqlite`` and not in a generation. Every web
worker and every ``dfl`` command opens the same file: SQLite's WAL mode lets them read while one writes,
and ``BEGIN IMMEDIATE`` makes each change (with its audit record) one atomic step.

The schema is versioned with ``PRAGMA user_version``: :data:`MIGRATIONS` are applied in order, each in
its own transaction, the first time a newer program opens an older file. Never edit a shipped migration;
add the next one.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

FILENAME = "accounts.sqlite"

MIGRATIONS: tuple[str, ...] = (
    # 1: accounts, grants, tokens, login links, sessions, the audit journal, rate-limit hits
    """
    CREATE TABLE accounts (
      id TEXT PRIMARY KEY,                 -- random, stable: what audit records name (never the e-mail)
      email TEXT NOT NULL UNIQUE,          -- lower-cased, verified by a login link or the OIDC provider
      name TEXT,
      created_at TEXT NOT NULL,
      last_login_at TEXT,
      disabled_at TEXT                     -- a disabled account's sessions and tokens stop working
    );
    CREATE TABLE grants (
      id TEXT PRIMARY KEY,
      subject_kind TEXT NOT NULL CHECK (subject_kind IN ('account', 'domain')),
      subject TEXT NOT NULL,               -- an account id, or an e-mail domain (lower case)
      role TEXT NOT NULL CHECK (role IN ('reader', 'member', 'publisher', 'administrator')),
      organisation TEXT,                   -- a publisher IRI, for member and publisher grants
      created_at TEXT NOT NULL,
      created_by TEXT NOT NULL,
      reason TEXT,
      revoked_at TEXT,
      revoked_by TEXT
    );
    CREATE INDEX grants_subject ON grants(subject_kind, subject) WHERE revoked_at IS NULL;
    CREATE TABLE tokens (
      id TEXT PRIMARY KEY,                 -- also the visible part of the token (dfl_<id>_<secret>)
      account TEXT NOT NULL REFERENCES accounts(id),
      secret_hash TEXT NOT NULL,           -- SHA-256 of the secret part: the secret itself is never stored
      label TEXT NOT NULL,
      scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      last_used_at TEXT,
      revoked_at TEXT
    );
    CREATE INDEX tokens_account ON tokens(account);
    CREATE TABLE login_links (
      secret_hash TEXT PRIMARY KEY,
      email TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      used_at TEXT
    );
    CREATE TABLE sessions (
      secret_hash TEXT PRIMARY KEY,        -- the cookie carries the secret, the database only its hash
      account TEXT NOT NULL REFERENCES accounts(id),
      method TEXT NOT NULL,                -- 'email' or 'oidc'
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      ended_at TEXT
    );
    CREATE TABLE audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      at TEXT NOT NULL,
      actor TEXT NOT NULL,                 -- an account id, or 'cli:<user>' for the command line
      action TEXT NOT NULL,                -- e.g. grant.add, token.revoke (see dfl_graph.accounts.audit)
      target TEXT NOT NULL,                -- what changed: a grant, token or account id, a dataset IRI
      before_digest TEXT,                  -- sha256 of the target's state before and after (NULL: absent)
      after_digest TEXT,
      details TEXT NOT NULL,               -- JSON, never a secret
      published_generation INTEGER         -- the catalogue generation whose system graph holds its PROV
    );
    CREATE INDEX audit_actor ON audit(actor, seq);
    CREATE INDEX audit_unpublished ON audit(seq) WHERE published_generation IS NULL;
    CREATE TABLE rate_hits (
      bucket TEXT NOT NULL,
      key TEXT NOT NULL,
      at REAL NOT NULL
    );
    CREATE INDEX rate_hits_key ON rate_hits(bucket, key, at);
    """,
    # 2: the states of datasets before and after publisher writes (dfl_graph/publishing.py), so a change can
    # be reverted to exactly what was there; dataset changes found by their publisher
    """
    CREATE TABLE states (
      digest TEXT PRIMARY KEY,             -- sha256:<hex> of the sorted N-Quads (what audit events name)
      nquads BLOB NOT NULL,                -- those N-Quads, zlib-compressed
      created_at TEXT NOT NULL
    );
    CREATE INDEX audit_dataset_publisher ON audit(json_extract(details, '$.publisher'), seq)
      WHERE action LIKE 'dataset.%';
    """,
)


class AccountsDatabase:
    """A connection per thread to the accounts file, migrated to the newest schema on first open."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / FILENAME
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        return db

    @property
    def db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
            self.path.chmod(0o600)  # e-mail addresses and token hashes: for the service's user only
        return db

    def _migrate(self) -> None:
        db = self.db
        with self.transaction():
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"{self.path} has schema version {version}, newer than this program knows ({len(MIGRATIONS)})"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _statements(script):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={number}")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic change (``BEGIN IMMEDIATE``: writers queue instead of failing half-way)."""
        db = self.db
        if db.in_transaction:  # nested: part of the caller's transaction
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """The statements of a migration, one by one (``executescript`` would commit the open transaction)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete statement in a migration: {pending.strip()[:80]!r}")
    return statements
