"""What one caller may read and write: computed once per request, applied by every interface.

A :class:`Visibility` is a plain value. Interfaces never look at roles or grants: they ask it which
named graphs the caller's queries may see (:meth:`Visibility.graphs`), whether a record of a given access
level and publisher may be shown (:meth:`Visibility.may_read`), and whether a write for a publisher is
allowed (:meth:`Visibility.may_write`). Caches key on :attr:`Visibility.cache_key`, which names what
can be seen and not who is looking: two readers with the same grants share entries, callers who see
different things never do.

Named graphs and access levels (docs/access.md): a graph the registry marks public is seen by all; a
graph registered with ``"access": "restricted"`` holds only RESTRICTED records and is seen by trusted
readers; one registered with ``"access": "non-public"`` and an ``"organisation"`` holds only that
organisation's NON_PUBLIC records and is seen by its members. Any other non-public graph (today's
``graph/{source}/restricted``, which mixes both levels and several organisations) is seen only by
callers who see everything, so a graph layout the rules cannot vouch for never widens what anyone sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

PUBLIC = "public"
RESTRICTED = "restricted"
NON_PUBLIC = "non-public"


@dataclass(frozen=True)
class Visibility:
    restricted: bool = False  # RESTRICTED records of every organisation
    non_public_of: frozenset[str] = frozenset()  # publisher IRIs whose NON_PUBLIC records are visible
    everything: bool = False  # every record (administrators)
    write_for: frozenset[str] = frozenset()  # publisher IRIs whose datasets may be written
    write_all: bool = False
    administrator: bool = False  # manage accounts and grants, read the audit (sessions only, never tokens)

    ANONYMOUS: ClassVar[Visibility]

    @property
    def public_only(self) -> bool:
        return not (self.restricted or self.non_public_of or self.everything)

    @property
    def cache_key(self) -> str:
        """What can be read, as a short stable string: ``public``, ``restricted``,
        ``restricted+<publisher IRI>+...`` or ``everything``. Never names the caller."""
        if self.everything:
            return "everything"
        if self.public_only:
            return PUBLIC
        parts = [RESTRICTED] if self.restricted else []
        return "+".join(parts + sorted(self.non_public_of))

    def may_read(self, access: str, publisher: str | None) -> bool:
        """Whether a record of this access level (``public``, ``restricted``, ``non-public``) and
        publisher may be shown to the caller."""
        if access == PUBLIC or self.everything:
            return True
        if access == RESTRICTED:
            return self.restricted
        return access == NON_PUBLIC and publisher is not None and publisher in self.non_public_of

    def may_write(self, publisher: str | None) -> bool:
        """Whether the caller may create, replace or withdraw a dataset of this publisher."""
        return self.write_all or (publisher is not None and publisher in self.write_for)

    def may_read_graph(self, info: dict) -> bool:
        """Whether a named graph, described by its registry entry (the manifest's ``graphs``), is visible."""
        if info.get("public") or self.everything:
            return True
        access = info.get("access")
        if access == RESTRICTED:
            return self.restricted
        if access == NON_PUBLIC:
            return info.get("organisation") in self.non_public_of
        return False

    def graphs(self, registry: dict[str, dict]) -> list[str]:
        """The registered graphs this caller's queries may see (sorted): pass them as ``default_graph``
        and ``named_graphs``, exactly as the public views pass ``snapshot.public_graphs``."""
        return sorted(g for g, info in registry.items() if self.may_read_graph(info))

    def read_only(self) -> Visibility:
        """The same reading, without writing (what a read-scoped token carries)."""
        return Visibility(self.restricted, self.non_public_of, self.everything)

    def describe(self) -> list[str]:
        """Plain-language lines for account pages."""
        lines = ["public datasets"]
        if self.everything:
            lines.append("every dataset, whatever its access level")
        else:
            if self.restricted:
                lines.append("restricted datasets of every organisation")
            lines += [f"non-public datasets of {organisation}" for organisation in sorted(self.non_public_of)]
        if self.write_all:
            lines.append("writes: every organisation's datasets")
        lines += [f"writes: datasets of {organisation}" for organisation in sorted(self.write_for)]
        return lines


Visibility.ANONYMOUS = Visibility()


@dataclass(frozen=True)
class Caller:
    """Who made a request and what they may do: anonymous, or an account by session or API token."""

    visibility: Visibility = field(default_factory=Visibility)
    account: str | None = None  # account id
    email: str | None = None
    via: str = "anonymous"  # "anonymous", "session" or "token"
    token: str | None = None  # the API token's id (never its secret)

    @property
    def anonymous(self) -> bool:
        return self.account is None

    @property
    def agent(self) -> str:
        """How audit records name the caller."""
        return self.account or "anonymous"

    @property
    def publishes_by_form(self) -> bool:
        """Whether the Library offers this caller its publisher form (a signed-in person who may write): pages
        differ by it (the header's "Publish" link), so their caches and validators key on it too."""
        return self.via == "session" and bool(self.visibility.write_for or self.visibility.write_all)


ANONYMOUS = Caller()
