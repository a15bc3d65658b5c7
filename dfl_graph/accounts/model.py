"""What the accounts database holds, as values: accounts, roles and grants, API tokens.

Roles, from least to most (each includes the ones above it):

* ``reader``: a trusted reader: sees RESTRICTED datasets of every organisation;
* ``member`` of an organisation: also sees that organisation's NON_PUBLIC datasets;
* ``publisher`` for an organisation: also writes that organisation's datasets;
* ``administrator``: sees and writes everything, manages accounts and grants, reads the audit.

A grant gives one role to one account, or (``reader`` and ``member`` only) to every verified e-mail
address of a domain, such as ``tfl.gov.uk``. Publishing and administering are never granted by domain:
a write is a named person's act.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    READER = "reader"
    MEMBER = "member"
    PUBLISHER = "publisher"
    ADMINISTRATOR = "administrator"

    @property
    def needs_organisation(self) -> bool:
        return self in (Role.MEMBER, Role.PUBLISHER)

    @property
    def by_domain(self) -> bool:
        """Whether a whole e-mail domain may be given this role."""
        return self in (Role.READER, Role.MEMBER)


class Scope(StrEnum):
    """What an API token may do for its account: read only, or read and write."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    name: str | None
    created_at: str
    last_login_at: str | None = None
    disabled_at: str | None = None

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True)
class Grant:
    id: str
    subject_kind: str  # "account" or "domain"
    subject: str
    role: Role
    organisation: str | None
    created_at: str
    created_by: str
    reason: str | None = None
    revoked_at: str | None = None

    def state(self) -> dict:
        """What the audit digests: everything that decides what the grant allows."""
        return {
            "id": self.id,
            "subject_kind": self.subject_kind,
            "subject": self.subject,
            "role": self.role.value,
            "organisation": self.organisation,
            "revoked": self.revoked_at is not None,
        }


@dataclass(frozen=True)
class ApiToken:
    id: str
    account: str
    label: str
    scope: Scope
    created_at: str
    expires_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None

    def state(self) -> dict:
        return {
            "id": self.id,
            "account": self.account,
            "scope": self.scope.value,
            "expires_at": self.expires_at,
            "revoked": self.revoked_at is not None,
        }


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: the only moment its secret text exists outside the caller's hands."""

    token: ApiToken
    text: str
