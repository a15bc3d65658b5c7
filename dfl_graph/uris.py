"""The one place that mints and parses the IRIs of everything the catalogue publishes.

Every IRI hangs off a configurable base (``http://localhost:8000`` by default, the public origin in
production), so a dataset's IRI is also the URL that dereferences it. Slugs and ids are made by
:func:`slugify`, which is deterministic: re-loading the same source mints the same IRIs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from dfl_graph.namespaces import Namespace

DEFAULT_BASE = "http://localhost:8000"

# The kinds of resource the catalogue mints, with the path segment each lives under.
KINDS = ("dataset", "distribution", "service", "publisher", "theme", "borough", "graph", "catalog", "def")

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,199}$")


def slugify(text: str, max_length: int = 120) -> str:
    """A lower-case ASCII slug: "Barking & Dagenham (2010)" -> "barking-dagenham-2010"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_STRIP.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "untitled"


def safe_id(text: str) -> str:
    """An id usable as one path segment: kept as is when already safe, else slugified."""
    return text if _SAFE_ID.match(text) else slugify(text)


@dataclass(frozen=True)
class ParsedIri:
    """What an IRI under the base names: its kind and its key parts."""

    kind: str
    key: str
    sub_key: str | None = None


class Uris:
    """Mints and parses the catalogue's IRIs for one base."""

    def __init__(self, base: str = DEFAULT_BASE) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"base must be an absolute http(s) URL without query or fragment, got {base!r}")
        self.base = base.rstrip("/")
        self.vocab = Namespace(f"{self.base}/def/dfl#")

    # -- minting ---------------------------------------------------------------------------------------
    def catalog(self) -> str:
        return f"{self.base}/catalog"

    def dataset(self, slug: str) -> str:
        return f"{self.base}/dataset/{quote(slug, safe='')}"

    def service(self, slug: str) -> str:
        """A data service (``dcat:DataService``): its own record, beside the datasets it serves."""
        return f"{self.base}/service/{quote(slug, safe='')}"

    def is_record(self, iri: str) -> bool:
        """True for the IRI of a record a source writes (a dataset or a data service), not of its parts."""
        parsed = self.parse(iri)
        return parsed is not None and parsed.kind in ("dataset", "service") and "#" not in iri

    def distribution(self, slug: str, dist_id: str) -> str:
        return f"{self.dataset(slug)}/distribution/{quote(dist_id, safe='')}"

    def publisher(self, pub_id: str) -> str:
        return f"{self.base}/publisher/{quote(pub_id, safe='')}"

    def theme(self, theme_id: str) -> str:
        return f"{self.base}/theme/{quote(theme_id, safe='')}"

    def borough(self, gss: str) -> str:
        return f"{self.base}/borough/{quote(gss, safe='')}"

    def graph(self, name: str) -> str:
        return f"{self.base}/graph/{name}"

    def source_graph(self, source: str, access: str = "public", publisher_id: str | None = None) -> str:
        """The graph of a source's records of one access level: its public records in one graph, its
        restricted records (every organisation's) in a sibling, and its non-public records in one graph per
        publisher, so a graph list can show one organisation's members its records and no one else's
        (docs/access.md). A non-public record without a publisher goes to ``non-public/unknown``."""
        if access == "public":
            return self.graph(source)
        if access == "restricted":
            return self.graph(f"{source}/restricted")
        if access == "non-public":
            return self.graph(f"{source}/non-public/{quote(publisher_id or 'unknown', safe='')}")
        raise ValueError(f"unknown access level {access!r}")

    def record_graph_access(self, source: str, graph: str) -> tuple[str, str | None] | None:
        """(access level, publisher id) when ``graph`` holds records of ``source`` (see :meth:`source_graph`);
        None for any other graph (tombstones, vocabularies, other sources)."""
        own = self.graph(source)
        if graph == own:
            return "public", None
        if graph == f"{own}/restricted":
            return "restricted", None
        head = f"{own}/non-public/"
        if graph.startswith(head) and "/" not in graph[len(head) :]:
            return "non-public", unquote(graph[len(head) :])
        return None

    def tombstone_graph(self, source: str) -> str:
        """Tombstones of a source's public datasets that were withdrawn (their IRIs answer 410 Gone)."""
        return self.graph(f"{source}/withdrawn")

    def vocab_graph(self, name: str) -> str:
        return self.graph(f"vocab/{name}")

    def system_graph(self) -> str:
        """Store bookkeeping (generation, graph registry): never public."""
        return self.graph("system")

    def scheme(self, kind: str) -> str:
        """The concept scheme (and browse list) of themes, boroughs or publishers."""
        return f"{self.base}/{kind}"

    # -- parsing ---------------------------------------------------------------------------------------
    def parse(self, iri: str) -> ParsedIri | None:
        """What a catalogue IRI names, or None for IRIs outside the base or of no known kind."""
        if not iri.startswith(self.base + "/"):
            return None
        path = iri[len(self.base) + 1 :].split("#", 1)[0]
        segments = [unquote(s) for s in path.split("/")]
        match segments:
            case ["catalog"]:
                return ParsedIri("catalog", "catalog")
            case ["dataset", slug]:
                return ParsedIri("dataset", slug)
            case ["service", slug]:
                return ParsedIri("service", slug)
            case ["dataset", slug, "distribution", dist_id]:
                return ParsedIri("distribution", slug, dist_id)
            case [("publisher" | "theme" | "borough") as kind, key]:
                return ParsedIri(kind, key)
            case ["graph", *rest] if rest:
                return ParsedIri("graph", "/".join(rest))
            case ["def", "dfl"]:
                return ParsedIri("def", "dfl")
        return None

    def prefixes(self) -> dict[str, str]:
        """The standard prefixes plus ``dfl:`` and the catalogue's own resource spaces."""
        from dfl_graph.namespaces import PREFIXES

        return {**PREFIXES, "dfl": self.vocab.iri}
