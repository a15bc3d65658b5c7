"""The directory: accounts, grants, API tokens, login links and sessions, each change audited.

One class over the accounts database (:mod:`dfl_graph.accounts.database`), used by the web views, the
``dfl accounts|grants|tokens|audit`` commands and the tests alike. Every change runs in one transaction
with its audit event (:func:`dfl_graph.accounts.audit.record`), so a grant never exists unrecorded.

Authentication answers a :class:`~dfl_graph.accounts.visibility.Caller` or raises
:class:`InvalidCredentials` with a message fit to show the caller: a wrong, expired or revoked token is
refused, never treated as anonymous, and nothing says whether an unknown token ever existed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dfl_graph.accounts import audit
from dfl_graph.accounts.audit import now
from dfl_graph.accounts.credentials import digest, new_id, new_secret, parse_token, same_digest, token_text
from dfl_graph.accounts.database import AccountsDatabase
from dfl_graph.accounts.model import Account, ApiToken, Grant, IssuedToken, Role, Scope
from dfl_graph.accounts.visibility import Caller, Visibility

LOGIN_LINK_MINUTES = 15
SESSION_HOURS = 12
TOKEN_DEFAULT_DAYS = 90
TOKEN_MAX_DAYS = 366
_DOMAIN_TEXT = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@" + _DOMAIN_TEXT + "$")
_DOMAIN = re.compile("^" + _DOMAIN_TEXT + "$")


class AccessError(ValueError):
    """A request to change accounts or grants that cannot be done (the message says why)."""


class InvalidCredentials(Exception):
    """A token, login link or session that does not (or no longer) authenticate anyone."""


def normal_email(email: str) -> str:
    value = (email or "").strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise AccessError(f"not an e-mail address: {email!r}")
    return value


def normal_domain(domain: str) -> str:
    value = (domain or "").strip().lower().lstrip("@")
    if not _DOMAIN.match(value):
        raise AccessError(f"not an e-mail domain: {domain!r} (give it as e.g. tfl.gov.uk)")
    return value


def _later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _account(row) -> Account:
    return Account(row["id"], row["email"], row["name"], row["created_at"], row["last_login_at"], row["disabled_at"])


def _grant(row) -> Grant:
    return Grant(
        row["id"],
        row["subject_kind"],
        row["subject"],
        Role(row["role"]),
        row["organisation"],
        row["created_at"],
        row["created_by"],
        row["reason"],
        row["revoked_at"],
    )


def _token(row) -> ApiToken:
    return ApiToken(
        row["id"],
        row["account"],
        row["label"],
        Scope(row["scope"]),
        row["created_at"],
        row["expires_at"],
        row["last_used_at"],
        row["revoked_at"],
    )


class Directory:
    """Accounts, grants, tokens, login links and sessions over one accounts database.

    ``organisations`` maps publisher IRIs to names (``ontology/publishers.ttl``): member and publisher
    grants must name one of them.
    """

    def __init__(self, database: AccountsDatabase, organisations: Mapping[str, str]) -> None:
        self.database = database
        self.organisations = dict(organisations)

    @property
    def db(self):
        return self.database.db

    # -- accounts -----------------------------------------------------------------------------------
    def account(self, account_id: str) -> Account | None:
        row = self.db.execute("SELECT * FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return _account(row) if row else None

    def account_by_email(self, email: str) -> Account | None:
        row = self.db.execute("SELECT * FROM accounts WHERE email = ?", (normal_email(email),)).fetchone()
        return _account(row) if row else None

    def find_account(self, key: str) -> Account:
        """An account by e-mail address or id (what the command line accepts)."""
        found = self.account_by_email(key) if "@" in key else self.account(key)
        if found is None:
            raise AccessError(f"no account {key!r}")
        return found

    def accounts(self) -> list[Account]:
        return [_account(r) for r in self.db.execute("SELECT * FROM accounts ORDER BY email").fetchall()]

    def ensure_account(self, email: str, actor: str | None = None, name: str | None = None) -> Account:
        """The account of a verified e-mail address, created (and audited) on first use."""
        address = normal_email(email)
        with self.database.transaction() as db:
            row = db.execute("SELECT * FROM accounts WHERE email = ?", (address,)).fetchone()
            if row:
                return _account(row)
            account = Account(new_id(), address, name, now())
            db.execute(
                "INSERT INTO accounts (id, email, name, created_at) VALUES (?, ?, ?, ?)",
                (account.id, account.email, account.name, account.created_at),
            )
            audit.record(db, actor or account.id, "account.create", account.id, None, {"id": account.id})
        return account

    def set_disabled(self, account_id: str, disabled: bool, actor: str) -> Account:
        """Disable an account (its sessions and tokens stop working at once) or enable it again."""
        with self.database.transaction() as db:
            account = self.account(account_id)
            if account is None:
                raise AccessError(f"no account {account_id!r}")
            if (account.disabled_at is not None) == disabled:
                return account
            db.execute("UPDATE accounts SET disabled_at = ? WHERE id = ?", (now() if disabled else None, account_id))
            audit.record(
                db,
                actor,
                "account.disable" if disabled else "account.enable",
                account_id,
                {"id": account_id, "disabled": not disabled},
                {"id": account_id, "disabled": disabled},
            )
            return self.account(account_id)  # type: ignore[return-value]

    # -- grants -------------------------------------------------------------------------------------
    def organisation_iri(self, key: str) -> str:
        """A publisher IRI from its IRI or its id (``tfl``); AccessError if it is not one we know."""
        if key in self.organisations:
            return key
        for iri in self.organisations:
            if iri.rsplit("/", 1)[-1] == key:
                return iri
        raise AccessError(f"unknown organisation {key!r}: give a publisher id or IRI of ontology/publishers.ttl")

    def grants(self, include_revoked: bool = False) -> list[Grant]:
        where = "" if include_revoked else "WHERE revoked_at IS NULL"
        rows = self.db.execute(f"SELECT * FROM grants {where} ORDER BY created_at, id").fetchall()
        return [_grant(r) for r in rows]

    def grants_for(self, account: Account) -> list[Grant]:
        """The live grants that apply to an account: its own and its e-mail domain's."""
        rows = self.db.execute(
            "SELECT * FROM grants WHERE revoked_at IS NULL AND ((subject_kind = 'account' AND subject = ?)"
            " OR (subject_kind = 'domain' AND subject = ?)) ORDER BY created_at, id",
            (account.id, account.domain),
        ).fetchall()
        return [_grant(r) for r in rows]

    def add_grant(
        self,
        actor: str,
        role: Role | str,
        account: str | None = None,
        domain: str | None = None,
        organisation: str | None = None,
        reason: str | None = None,
    ) -> Grant:
        """Give ``role`` to one account (id or e-mail) or to an e-mail domain; audited as ``grant.add``."""
        try:
            role = Role(role)
        except ValueError:
            raise AccessError(f"unknown role {role!r}: one of {', '.join(r.value for r in Role)}") from None
        if (account is None) == (domain is None):
            raise AccessError("a grant is for one account or for one e-mail domain")
        if domain is not None and not role.by_domain:
            raise AccessError(f"the {role} role is given to named accounts only, never to a whole domain")
        if role.needs_organisation:
            if not organisation:
                raise AccessError(f"the {role} role needs an organisation (a publisher id, e.g. tfl)")
            organisation = self.organisation_iri(organisation)
        elif organisation:
            raise AccessError(f"the {role} role is not given per organisation")
        kind, subject = ("account", self.find_account(account).id) if account else ("domain", normal_domain(domain))
        grant = Grant(new_id(), kind, subject, role, organisation, now(), actor, (reason or "").strip() or None)
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO grants (id, subject_kind, subject, role, organisation, created_at, created_by, reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (grant.id, kind, subject, role.value, organisation, grant.created_at, actor, grant.reason),
            )
            audit.record(db, actor, "grant.add", grant.id, None, grant.state(), {"reason": grant.reason})
        return grant

    def revoke_grant(self, grant_id: str, actor: str) -> Grant:
        with self.database.transaction() as db:
            row = db.execute("SELECT * FROM grants WHERE id = ?", (grant_id,)).fetchone()
            if row is None:
                raise AccessError(f"no grant {grant_id!r}")
            before = _grant(row)
            if before.revoked_at is not None:
                return before
            db.execute("UPDATE grants SET revoked_at = ?, revoked_by = ? WHERE id = ?", (now(), actor, grant_id))
            after = _grant(db.execute("SELECT * FROM grants WHERE id = ?", (grant_id,)).fetchone())
            audit.record(db, actor, "grant.revoke", grant_id, before.state(), after.state())
        return after

    def visibility_of(self, account: Account) -> Visibility:
        """What an account's live grants let it read and write (nothing beyond public if disabled)."""
        if not account.active:
            return Visibility.ANONYMOUS
        grants = self.grants_for(account)
        roles = {g.role for g in grants}
        if Role.ADMINISTRATOR in roles:
            return Visibility(True, frozenset(), True, frozenset(), True, True)
        members = frozenset(g.organisation for g in grants if g.role in (Role.MEMBER, Role.PUBLISHER))
        writes = frozenset(g.organisation for g in grants if g.role is Role.PUBLISHER)
        return Visibility(bool(roles), members, False, writes)  # type: ignore[arg-type]

    # -- API tokens ---------------------------------------------------------------------------------
    def issue_token(
        self, account: Account, label: str, scope: Scope | str, days: int = TOKEN_DEFAULT_DAYS, actor: str | None = None
    ) -> IssuedToken:
        """A new token for an account; its text is returned this once and stored only as a hash."""
        try:
            scope = Scope(scope)
        except ValueError:
            raise AccessError(f"unknown scope {scope!r}: read or write") from None
        label = (label or "").strip()
        if not label or len(label) > 100:
            raise AccessError("a token needs a label of 1 to 100 characters (what it is for)")
        if not 1 <= days <= TOKEN_MAX_DAYS:
            raise AccessError(f"a token lasts 1 to {TOKEN_MAX_DAYS} days, not {days}")
        if not account.active:
            raise AccessError("the account is disabled")
        secret = new_secret()
        token = ApiToken(new_id(), account.id, label, scope, now(), _later(days=days))
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO tokens (id, account, secret_hash, label, scope, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token.id, token.account, digest(secret), label, scope.value, token.created_at, token.expires_at),
            )
            audit.record(db, actor or account.id, "token.create", token.id, None, token.state(), {"label": label})
        return IssuedToken(token, token_text(token.id, secret))

    def tokens(self, account: Account | None = None) -> list[ApiToken]:
        if account is None:
            rows = self.db.execute("SELECT * FROM tokens ORDER BY created_at DESC").fetchall()
        else:
            rows = self.db.execute(
                "SELECT * FROM tokens WHERE account = ? ORDER BY created_at DESC", (account.id,)
            ).fetchall()
        return [_token(r) for r in rows]

    def token(self, token_id: str) -> ApiToken | None:
        row = self.db.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        return _token(row) if row else None

    def revoke_token(self, token_id: str, actor: str) -> ApiToken:
        with self.database.transaction():
            before = self.token(token_id)
            if before is None:
                raise AccessError(f"no token {token_id!r}")
            if before.revoked_at is not None:
                return before
            self.db.execute("UPDATE tokens SET revoked_at = ? WHERE id = ?", (now(), token_id))
            after = self.token(token_id)
            audit.record(self.db, actor, "token.revoke", token_id, before.state(), after.state())  # type: ignore[union-attr]
        return after  # type: ignore[return-value]

    def caller_for_token(self, text: str) -> Caller:
        """The caller an ``Authorization: Bearer`` token speaks for; InvalidCredentials if it does not."""
        parsed = parse_token(text)
        if parsed is None:
            raise InvalidCredentials("the bearer token is not a Data for London API token")
        token_id, secret = parsed
        row = self.db.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None or not same_digest(row["secret_hash"], digest(secret)):
            raise InvalidCredentials("the API token is not valid")
        token = _token(row)
        if token.revoked_at is not None:
            raise InvalidCredentials("the API token has been revoked")
        if token.expires_at <= now():
            raise InvalidCredentials(f"the API token expired at {token.expires_at}")
        account = self.account(token.account)
        if account is None or not account.active:
            raise InvalidCredentials("the API token's account is disabled")
        if token.last_used_at is None or token.last_used_at < _later(minutes=-5):  # a write at most every 5 min
            self.db.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (now(), token.id))
        visibility = replace(self.visibility_of(account), administrator=False)  # administering takes a person
        if token.scope is Scope.READ:
            visibility = visibility.read_only()
        return Caller(visibility, account.id, account.email, "token", token.id)

    # -- login links and sessions ------------------------------------------------------------------
    def issue_login_link(self, email: str) -> str:
        """The secret of a single-use sign-in link for an address (expires in LOGIN_LINK_MINUTES)."""
        address = normal_email(email)
        secret = new_secret()
        with self.database.transaction() as db:
            db.execute("DELETE FROM login_links WHERE expires_at < ? OR used_at IS NOT NULL", (now(),))
            db.execute(
                "INSERT INTO login_links (secret_hash, email, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (digest(secret), address, now(), _later(minutes=LOGIN_LINK_MINUTES)),
            )
        return secret

    def consume_login_link(self, secret: str) -> Account:
        """The account a login link verifies (created on first sign-in); the link cannot be used again."""
        with self.database.transaction() as db:
            row = db.execute("SELECT * FROM login_links WHERE secret_hash = ?", (digest(secret.strip()),)).fetchone()
            if row is None or row["used_at"] is not None:
                raise InvalidCredentials("this sign-in link is not valid or has already been used: ask for a new one")
            if row["expires_at"] <= now():
                raise InvalidCredentials("this sign-in link has expired: ask for a new one")
            db.execute("UPDATE login_links SET used_at = ? WHERE secret_hash = ?", (now(), row["secret_hash"]))
            return self.ensure_account(row["email"])

    def start_session(self, account: Account, method: str) -> str:
        """A new session for a signed-in account (its secret goes in the signed cookie); audited."""
        if not account.active:
            raise InvalidCredentials("this account is disabled")
        secret = new_secret()
        with self.database.transaction() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (now(),))
            db.execute(
                "INSERT INTO sessions (secret_hash, account, method, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (digest(secret), account.id, method, now(), _later(hours=SESSION_HOURS)),
            )
            db.execute("UPDATE accounts SET last_login_at = ? WHERE id = ?", (now(), account.id))
            audit.record(db, account.id, "account.login", account.id, None, None, {"method": method})
        return secret

    def caller_for_session(self, secret: str) -> Caller | None:
        """The caller of a live session, or None (ended, expired, or the account disabled)."""
        row = self.db.execute(
            "SELECT account FROM sessions WHERE secret_hash = ? AND ended_at IS NULL AND expires_at > ?",
            (digest(secret), now()),
        ).fetchone()
        account = self.account(row["account"]) if row else None
        if account is None or not account.active:
            return None
        return Caller(self.visibility_of(account), account.id, account.email, "session")

    def end_session(self, secret: str) -> None:
        with self.database.transaction() as db:
            db.execute("UPDATE sessions SET ended_at = ? WHERE secret_hash = ?", (now(), digest(secret)))

    # -- audit --------------------------------------------------------------------------------------
    def audit_events(self, actor: str | None = None, limit: int | None = None) -> list[audit.AuditEvent]:
        return audit.events(self.db, actor=actor, limit=limit)
