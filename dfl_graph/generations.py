"""Published generations: the files a write leaves for readers and index builders, and the readers' side.

Layout of a data directory::

    FORMAT                    the store format's version (a newer one is refused, not misread)
    primary/                  the writer's read-write Oxigraph store (source of truth)
    generations/00000042/     one published generation:
        store/                  a RocksDB checkpoint of primary (hard links: cheap), opened read-only
        indexes/                indexes derived from that same store (search, list orders, ...)
        manifest.json           generation number, time, public graphs (and, on a remote store, the stored name
                                of each graph: see :mod:`dfl_graph.backends`)
        changes.json            what an in-place write changed (see :class:`Delta`), if it was one
    CURRENT                   the published generation's number, swapped by atomic rename
    DIRTY                     present while a write is under way (or died): the primary is then rebuilt
    writer.lock               flock held by the one writer

The writer is :class:`dfl_graph.store.CatalogueStore`; :class:`dfl_graph.publish.Publisher` turns its
checkpoint into a generation. Readers (web workers, SPARQL workers) only ever open the immutable generation
``CURRENT`` names, through :class:`CatalogueReader`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, serialize

from dfl_graph.uris import Uris

if TYPE_CHECKING:
    from dfl_graph.backends import GraphStore, StoreBackend

# The version of this layout and of what the store holds. A store written by a newer version is refused
# (with a message saying so) rather than read wrongly; an older one is read and upgraded by the next write.
FORMAT_VERSION = 2
FORMAT_FILE = "FORMAT"
CHANGES_FILE = "changes.json"
# The public triples a bulk write wrote, one N-Triples file per (whole) graph, listed in its index.json:
# published with the generation so index builders need not read them back out of the store.
FRESH_TRIPLES = "fresh-public"


class StoreError(Exception):
    """A store operation could not be done; the published catalogue is unchanged."""


def now() -> str:
    """The current time as the store writes it (UTC, seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def generation_dir(data_dir: Path, generation: int) -> Path:
    return data_dir / "generations" / f"{generation:08d}"


def check_format(data_dir: Path) -> None:
    """StoreError if the data directory was written by a newer version of dfl."""
    try:
        text = (data_dir / FORMAT_FILE).read_text().strip()
    except FileNotFoundError:
        return
    try:
        version = int(text.rsplit(" ", 1)[-1])
    except ValueError:
        raise StoreError(f"{data_dir / FORMAT_FILE}: not a dfl store format file ({text[:40]!r})") from None
    if version > FORMAT_VERSION:
        raise StoreError(
            f"{data_dir} was written by a newer version of dfl (store format {version}; this version reads up to"
            f" {FORMAT_VERSION}): upgrade dfl, or use another --store"
        )


@dataclass
class Delta:
    """What an in-place write (:meth:`dfl_graph.store.CatalogueStore.update_source`) changed, quad by quad.

    Published with the generation as ``changes.json`` (+ ``changes-removed.nq`` / ``changes-added.nq``)
    so that index builders can update the previous generation's index instead of rebuilding it: the
    quads are exactly those removed from and added to the store, and ``datasets`` the IRIs of every
    dataset added, changed or removed. A generation without ``changes.json`` may differ in anything.
    """

    datasets: set[str] = field(default_factory=set)
    removed: list[Quad] = field(default_factory=list)
    added: list[Quad] = field(default_factory=list)
    notes: dict = field(default_factory=dict)  # extra, builder-specific facts (JSON)

    def per_graph(self) -> dict[str, int]:
        """Quads added minus quads removed, per graph."""
        counts: dict[str, int] = {}
        for sign, quads in ((-1, self.removed), (1, self.added)):
            for quad in quads:
                key = quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else ""
                counts[key] = counts.get(key, 0) + sign
        return counts

    def write(self, target: Path, sources: frozenset[str]) -> None:
        for name, quads in (("removed", self.removed), ("added", self.added)):
            with (target / f"changes-{name}.nq").open("wb") as out:
                if quads:
                    out.write(serialize(quads, format=RdfFormat.N_QUADS))
        (target / CHANGES_FILE).write_text(
            json.dumps(
                {
                    "sources": sorted(sources),
                    "datasets": sorted(self.datasets),
                    "removed": "changes-removed.nq",
                    "added": "changes-added.nq",
                    "notes": self.notes,
                },
                indent=1,
            )
        )


def fresh_triples(generation_directory: Path) -> dict[str, Path]:
    """Graph IRI -> an N-Triples file of all its triples, for the public graphs a bulk write replaced in this
    generation (while its indexes are built; see :meth:`dfl_graph.store.CatalogueStore.replace_graphs`)."""
    directory = generation_directory / FRESH_TRIPLES
    try:
        files = json.loads((directory / "index.json").read_text())
    except (OSError, ValueError):
        return {}
    return {graph: directory / name for graph, name in files.items()}


def read_changes(generation_directory: Path) -> dict | None:
    """The ``changes.json`` of a generation (see :class:`Delta`), or None: anything may have changed."""
    try:
        return json.loads((generation_directory / CHANGES_FILE).read_text())
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class Manifest:
    generation: int
    published_at: str
    public_graphs: tuple[str, ...]
    graphs: dict[str, dict] = field(default_factory=dict)  # graph IRI -> {"source", "public", "quads"}
    base: str = ""
    format: int = FORMAT_VERSION
    stored: dict[str, str] = field(default_factory=dict)  # on a remote store: logical graph -> its stored name
    backend: str = "embedded"

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": self.format,
                "base": self.base,
                "generation": self.generation,
                "published_at": self.published_at,
                "public_graphs": list(self.public_graphs),
                "graphs": self.graphs,
                "backend": self.backend,
                "stored": self.stored,
            },
            indent=1,
        )

    @classmethod
    def from_file(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text())
        version = data.get("format", 1)
        if version > FORMAT_VERSION:
            raise StoreError(
                f"{path.parent} was published by a newer version of dfl (store format {version}; this version"
                f" reads up to {FORMAT_VERSION}): upgrade dfl"
            )
        return cls(
            data["generation"],
            data["published_at"],
            tuple(data["public_graphs"]),
            data["graphs"],
            data["base"],
            version,
            data.get("stored", {}),
            data.get("backend", "embedded"),
        )


@dataclass
class Snapshot:
    """One published generation, opened read-only: what every reader works on.

    ``store`` is the generation's graphs, read through :class:`dfl_graph.backends.GraphStore` (the embedded
    checkpoint, or the graphs the manifest names on a remote store).
    """

    directory: Path
    manifest: Manifest
    store: GraphStore

    @property
    def generation(self) -> int:
        return self.manifest.generation

    @property
    def public_graphs(self) -> list[NamedNode]:
        return [NamedNode(g) for g in self.manifest.public_graphs]

    @property
    def uris(self) -> Uris:
        return Uris(self.manifest.base)

    @property
    def index_dir(self) -> Path:
        return self.directory / "indexes"

    @property
    def remote(self) -> bool:
        """True when the graphs are on a remote store (each read is a request, so readers batch them)."""
        return self.manifest.backend != "embedded"

    @classmethod
    def open(cls, directory: Path, backend: StoreBackend | None = None) -> Snapshot:
        manifest = Manifest.from_file(directory / "manifest.json")
        if backend is None:
            return cls(directory, manifest, Store.read_only(str(directory / "store")))
        return cls(directory, manifest, backend.open_generation(directory, manifest))


class CatalogueReader:
    """Opens the published generation and reopens when a newer one is published.

    ``backend`` is where the generation's graphs are read (:func:`dfl_graph.backends.backend_for`); None: the
    embedded checkpoint in the generation's directory.
    """

    def __init__(self, data_dir: Path | str, backend: StoreBackend | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.backend = backend
        self._snapshot: Snapshot | None = None
        self._seen: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def current_generation(self) -> int | None:
        try:
            return int((self.data_dir / "CURRENT").read_text().strip())
        except FileNotFoundError:
            return None

    def snapshot(self) -> Snapshot:
        """The newest published snapshot (a cheap stat when nothing changed)."""
        current = self.data_dir / "CURRENT"
        try:
            st = current.stat()
        except FileNotFoundError:
            raise StoreError(f"no catalogue has been published in {self.data_dir} yet (run `dfl load`)") from None
        key = (st.st_mtime_ns, st.st_ino)
        with self._lock:
            if self._snapshot is None or key != self._seen:
                generation = int(current.read_text().strip())
                self._snapshot = Snapshot.open(generation_dir(self.data_dir, generation), self.backend)
                self._seen = key
            return self._snapshot
