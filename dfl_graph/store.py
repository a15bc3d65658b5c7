"""The catalogue's on-disk Oxigraph store, written by one writer and published in generations.

Layout of a data directory::

    primary/                  the writer's read-write Oxigraph store (source of truth)
    generations/00000042/     one published generation:
        store/                  a RocksDB checkpoint of primary (hard links: cheap), opened read-only
        indexes/                indexes derived from that same store (search, list orders, ...)
        manifest.json           generation number, time, public graphs
    CURRENT                   the published generation's number, swapped by atomic rename
    writer.lock               flock held by the one writer

Why generations: pyoxigraph has no user transactions over "drop a graph and add a million quads",
and opening a store read-only while another process writes it is undefined behaviour. So readers
(web workers, SPARQL worker processes) only ever open immutable checkpoints: they see the previous
catalogue or the next, never a mix, and a failed load never publishes. If a write fails half-way,
the primary is restored from the last published checkpoint before anything else happens.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, parse, serialize

from dfl_graph.namespaces import DCT, XSD
from dfl_graph.queries import query_text
from dfl_graph.uris import Uris

KEEP_GENERATIONS = 3
# The public triples a bulk write wrote, one N-Triples file per (whole) graph, listed in its index.json:
# published with the generation so index builders need not read them back out of the store.
FRESH_TRIPLES = "fresh-public"

# Called while publishing with (snapshot, generation directory, previous generation directory or
# None, names of changed sources): see dfl_graph.indexes.
IndexBuilder = Callable[["Snapshot", Path, "Path | None", "frozenset[str]"], None]


class StoreError(Exception):
    """A store operation could not be done; the published catalogue is unchanged."""


CHANGES_FILE = "changes.json"


@dataclass
class Delta:
    """What an in-place write (:meth:`CatalogueStore.update_source`) changed, quad by quad.

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
    generation (while its indexes are built; see :meth:`CatalogueStore._bulk_write`). Empty if none."""
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

    def to_json(self) -> str:
        return json.dumps(
            {
                "base": self.base,
                "generation": self.generation,
                "published_at": self.published_at,
                "public_graphs": list(self.public_graphs),
                "graphs": self.graphs,
            },
            indent=1,
        )

    @classmethod
    def from_file(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text())
        return cls(data["generation"], data["published_at"], tuple(data["public_graphs"]), data["graphs"], data["base"])


@dataclass
class Snapshot:
    """One published generation, opened read-only: what every reader works on."""

    directory: Path
    manifest: Manifest
    store: Store

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

    @classmethod
    def open(cls, directory: Path) -> Snapshot:
        return cls(
            directory, Manifest.from_file(directory / "manifest.json"), Store.read_only(str(directory / "store"))
        )


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class CatalogueReader:
    """Opens the published generation and reopens when a newer one is published."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
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
                self._snapshot = Snapshot.open(generation_dir(self.data_dir, generation))
                self._seen = key
            return self._snapshot


def generation_dir(data_dir: Path, generation: int) -> Path:
    return data_dir / "generations" / f"{generation:08d}"


class CatalogueStore:
    """The writer's handle on a data directory. Only one may be open at a time (flock)."""

    def __init__(self, data_dir: Path | str, uris: Uris) -> None:
        self.data_dir = Path(data_dir)
        self.uris = uris
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = (self.data_dir / "writer.lock").open("w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise StoreError(f"another `dfl` process is writing {self.data_dir}; try again when it ends") from None
        self.system_graph = NamedNode(uris.system_graph())
        self.dfl = uris.vocab
        if (self.data_dir / "DIRTY").exists():
            self._recover()
        self.store = Store(str(self.data_dir / "primary"))

    def close(self) -> None:
        with contextlib.suppress(AttributeError):
            self.store.flush()
            del self.store
        self._lock_file.close()

    def __enter__(self) -> CatalogueStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading the primary (writer-side views) ---------------------------------------------------
    @property
    def generation(self) -> int:
        return CatalogueReader(self.data_dir).current_generation() or 0

    def graphs(self) -> dict[str, dict]:
        """Registered graphs: IRI -> {"source", "public"}."""
        result: dict[str, dict] = {}
        for quad in self.store.quads_for_pattern(None, self.dfl.visibility, None, self.system_graph):
            source = next(
                self.store.quads_for_pattern(quad.subject, self.dfl.sourceName, None, self.system_graph), None
            )
            result[quad.subject.value] = {
                "source": source.object.value if source else None,
                "public": quad.object == self.dfl.Public,
            }
        return result

    def public_graphs(self) -> list[str]:
        return sorted(g for g, info in self.graphs().items() if info["public"])

    # -- writing ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _writing(self, changed: Iterable[str], delta: Delta | None = None) -> Iterator[None]:
        """Marks the primary dirty for the length of a write; publishes on success, recovers on failure."""
        marker = self.data_dir / "DIRTY"
        marker.write_text(_now())
        try:
            yield
            self._bump_generation()
            self.store.flush()
            self.publish(frozenset(changed), delta)
        except BaseException:
            self._recover()
            raise
        marker.unlink()

    def _register_graph(self, graph: str, source: str, public: bool) -> list[Quad]:
        g = NamedNode(graph)
        return [
            Quad(g, self.dfl.visibility, self.dfl.Public if public else self.dfl.Restricted, self.system_graph),
            Quad(g, self.dfl.sourceName, Literal(source), self.system_graph),
            Quad(g, DCT.modified, Literal(_now(), datatype=XSD.dateTime), self.system_graph),
        ]

    def _clear_graph(self, graph: str) -> None:
        if self.store.contains_named_graph(NamedNode(graph)):
            self.store.remove_graph(NamedNode(graph))
        self._unregister_graph(graph)

    def _unregister_graph(self, graph: str) -> None:
        for quad in list(self.store.quads_for_pattern(NamedNode(graph), None, None, self.system_graph)):
            self.store.remove(quad)

    def replace_graphs(
        self, source: str, graphs: dict[str, tuple[bool, Iterable[Quad]]], vocabulary_digest: str | None = None
    ) -> int:
        """Atomically replace a source's graphs: {graph IRI: (public, quads)}. Returns quads written.

        The quads are consumed while writing, so a generator keeps memory flat; if it raises (a
        malformed record half-way through a file), the previous catalogue stays published.
        """
        with self._writing([source]):
            for graph in graphs:
                self._clear_graph(graph)
            public_graphs = frozenset(g for g, (public, _) in graphs.items() if public)
            written = self._bulk_write([(g, quads) for g, (_, quads) in graphs.items()], public_graphs)
            for graph, (public, _) in graphs.items():
                self.store.extend(self._register_graph(graph, source, public))
            if vocabulary_digest is not None:
                self._set_system(self.dfl.vocabularyDigest, Literal(vocabulary_digest))
        return written

    def _bulk_write(
        self, segments: Iterable[tuple[str | None, Iterable[Quad]]], fresh_public: frozenset[str] = frozenset()
    ) -> int:
        """Bulk-load quads while they are being produced, on both cores, then compact the store.

        pyoxigraph's ``bulk_load`` from a path releases the GIL, ``bulk_extend`` does not. So this
        thread maps and serialises batches into a pipe while a second thread bulk-loads from it:
        the load costs about what the bulk loader alone costs. If the producer raises, the pipe is
        closed, the partial load is discarded by :meth:`_writing`'s recovery, and the error goes up.

        ``segments`` are (graph IRI, its quads), or (None, quads of any graphs). The segments of the graphs
        ``fresh_public`` (whole public graphs being replaced) are also written as N-Triples to
        :data:`FRESH_TRIPLES` (see :func:`fresh_triples`), for the index builders. The compaction
        afterwards (``optimize``) costs about a fifth of the load at 100k datasets and halves the time of
        every later read: the index builders' scans, the documents, the queries.
        """
        fresh = self.data_dir / FRESH_TRIPLES
        shutil.rmtree(fresh, ignore_errors=True)
        files: dict[str, str] = {}
        if fresh_public:
            fresh.mkdir()

        def tee_for(graph: str | None) -> BinaryIO | None:
            if graph not in fresh_public:
                return None
            files[graph] = f"{len(files)}.nt"
            return (fresh / files[graph]).open("wb")

        written = self._pipe_to_bulk_loader(segments, tee_for)
        if files:
            (fresh / "index.json").write_text(json.dumps(files))
        self.store.optimize()
        return written

    def _pipe_to_bulk_loader(
        self,
        segments: Iterable[tuple[str | None, Iterable[Quad]]],
        tee_for: Callable[[str | None], BinaryIO | None],
    ) -> int:
        with tempfile.TemporaryDirectory(prefix="dfl-load-") as tmp:
            fifo = Path(tmp) / "quads.nq"
            os.mkfifo(fifo)
            failure: list[BaseException] = []

            def consume() -> None:
                try:
                    self.store.bulk_load(path=str(fifo), format=RdfFormat.N_QUADS)
                except BaseException as error:  # reported to the producer below
                    failure.append(error)

            loader = threading.Thread(target=consume, name="dfl-bulk-load")
            loader.start()
            written = 0
            try:
                with fifo.open("wb") as pipe:
                    for graph, quads in segments:
                        # N-Quads lines of one graph all end " <graph> .\n" (a newline inside a literal is
                        # escaped): cut that and they are N-Triples, without a second serialisation
                        graph_end = f" <{graph}> .\n".encode()
                        tee = tee_for(graph)
                        try:
                            for batch in _batches(quads, 20_000):
                                text = serialize(batch, format=RdfFormat.N_QUADS)
                                pipe.write(text)
                                written += len(batch)
                                if tee is not None:
                                    tee.write(text.replace(graph_end, b" .\n"))
                        finally:
                            if tee is not None:
                                tee.close()
            except BrokenPipeError:
                pass  # the loader died; its error is raised below
            finally:
                loader.join()
            if failure:
                raise StoreError(f"bulk load failed: {failure[0]}") from failure[0]
        return written

    def replace_source(self, source: str, public: Iterable[Quad], restricted: Iterable[Quad]) -> int:
        """Replace one source's public and restricted graphs in one published step."""
        return self.replace_graphs(
            source,
            {
                self.uris.source_graph(source, public=True): (True, public),
                self.uris.source_graph(source, public=False): (False, restricted),
            },
        )

    def update_source(
        self,
        source: str,
        graphs: dict[str, bool],
        removals: Iterable[Quad],
        additions: Iterable[Quad],
        cleanup: Callable[[Store], Iterable[Quad]] | None = None,
        datasets: Iterable[str] = (),
        bulk: bool = False,
        notes: dict | None = None,
    ) -> Delta:
        """Edit a source's graphs in place, record by record, as one published step (incremental harvests).

        ``removals`` are removed first, then ``additions`` written (both consumed lazily, so they may read
        the store as it was), then the quads ``cleanup(store)`` yields are removed (descriptions nothing
        refers to any more). ``graphs`` ({graph IRI: public}) are (re-)registered to the source. As with
        :meth:`replace_graphs`, any exception leaves the published catalogue and the primary unchanged.

        Unless ``bulk`` (a large write: additions go through the bulk loader, untracked), the returned
        :class:`Delta` holds exactly the quads removed and added, and is published with the generation.
        """
        delta = Delta(set(datasets), notes=dict(notes or {}))
        tracked = not bulk
        with self._writing([source], delta if tracked else None):
            store = self.store
            for quad in removals:
                if quad in store:
                    store.remove(quad)
                    if tracked:
                        delta.removed.append(quad)
            if bulk:
                self._bulk_write([(None, additions)])
            else:
                for batch in _batches(additions, 10_000):
                    fresh = list(dict.fromkeys(q for q in batch if q not in store))
                    store.extend(fresh)
                    delta.added.extend(fresh)
            if cleanup is not None:
                for quad in list(cleanup(store)):
                    if quad in store:
                        store.remove(quad)
                        if tracked:
                            delta.removed.append(quad)
            for graph, public in graphs.items():
                self._unregister_graph(graph)
                store.extend(self._register_graph(graph, source, public))
        return delta

    def drop_source(self, source: str) -> None:
        with self._writing([source]):
            for graph in (self.uris.source_graph(source, True), self.uris.source_graph(source, False)):
                self._clear_graph(graph)

    def restore(self, path: Path, public: bool = False) -> int:
        """Load an N-Quads dump keeping its graph names (replacing those graphs), in one step.

        Parsed fully before anything is written, so a malformed dump changes nothing.
        """
        by_graph: dict[str, list[Quad]] = {}
        with path.open("rb") as handle:
            for quad in _parse_nquads(handle, path):
                key = quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else ""
                by_graph.setdefault(key, []).append(quad)
        system = by_graph.pop(self.system_graph.value, [])
        registered = {q.subject.value: q for q in system if q.predicate == self.dfl.visibility}
        written = 0
        with self._writing(["restore"]):
            for graph, quads in by_graph.items():
                if graph:
                    self._clear_graph(graph)
                written += self._bulk_write([(graph or None, quads)])
                if graph and graph not in registered:
                    self.store.extend(self._register_graph(graph, "restore", public))
            if system:
                for graph in registered:
                    self._unregister_graph(graph)
                self.store.extend(q for q in system if q.predicate != self.dfl.generation)
        return written

    def dump(self, path: Path) -> int:
        """Write every quad of the store (all graphs, the system graph too) as N-Quads, sorted."""
        tmp = path.with_name(path.name + ".part")
        with tmp.open("wb") as out:
            self.store.dump(out, RdfFormat.N_QUADS)
        count = sum(1 for _ in tmp.open("rb"))
        tmp.replace(path)
        return count

    def vocabulary_digest(self) -> str | None:
        found = next(
            self.store.quads_for_pattern(self.system_graph, self.dfl.vocabularyDigest, None, self.system_graph), None
        )
        return found.object.value if found else None

    def load_vocabularies(self, quads_by_graph: dict[str, Iterable[Quad]], digest: str) -> int:
        """Replace the shipped vocabulary graphs (all public), recording the digest of what was loaded."""
        written = self.replace_graphs("vocab", {g: (True, q) for g, q in quads_by_graph.items()}, digest)
        return written

    # -- publishing -------------------------------------------------------------------------------
    def _set_system(self, predicate: NamedNode, value: Literal) -> None:
        for quad in list(self.store.quads_for_pattern(self.system_graph, predicate, None, self.system_graph)):
            self.store.remove(quad)
        self.store.add(Quad(self.system_graph, predicate, value, self.system_graph))

    def _bump_generation(self) -> None:
        self._set_system(self.dfl.generation, Literal(str(self.generation + 1), datatype=XSD.integer))

    def publish(self, changed: frozenset[str] = frozenset(), delta: Delta | None = None) -> int:
        """Checkpoint the primary as the next generation, build its indexes, then swap CURRENT.

        With a ``delta`` (an in-place write), it is published as ``changes.json`` for the index builders,
        and the quad counts are the previous generation's plus the delta's (no count over the store).
        """
        previous = self.generation
        generation = previous + 1
        target = generation_dir(self.data_dir, generation)
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        self.store.backup(str(target / "store"))
        graphs = self.graphs()
        counts = self._counts_after(delta, previous)
        if counts is None:
            counts = {row["g"].value: int(row["n"].value) for row in self.store.query(query_text("quads-per-graph"))}
        if delta is not None:
            delta.write(target, changed)
        self._stage_fresh_triples(target)
        for g, info in graphs.items():
            info["quads"] = counts.get(g, 0)
        public = tuple(sorted(g for g, i in graphs.items() if i["public"]))
        manifest = Manifest(generation, _now(), public, graphs, self.uris.base)
        (target / "manifest.json").write_text(manifest.to_json())
        snapshot = Snapshot(target, manifest, Store.read_only(str(target / "store")))
        previous_dir = generation_dir(self.data_dir, previous) if previous else None
        (target / "indexes").mkdir()
        from dfl_graph.indexes import BUILDERS, CONCURRENT_BUILDERS

        seconds: dict[str, float] = {}

        def build(builder: IndexBuilder, snapshot: Snapshot) -> None:
            started = time.perf_counter()
            builder(snapshot, target, previous_dir, changed)
            seconds[builder.__name__] = round(time.perf_counter() - started, 3)  # type: ignore[attr-defined]

        all_started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, len(CONCURRENT_BUILDERS)), thread_name_prefix="dfl-index") as pool:
            alongside = [pool.submit(build, builder, snapshot) for builder in CONCURRENT_BUILDERS]
            for builder in BUILDERS:
                build(builder, snapshot)
            for future in alongside:
                future.result()  # its error, if any, fails the publish
        seconds["all_indexes"] = round(time.perf_counter() - all_started, 3)  # wall time, builders overlapping
        shutil.rmtree(target / FRESH_TRIPLES, ignore_errors=True)  # large, and of no use once the indexes exist
        (target / "build-seconds.json").write_text(json.dumps(seconds))  # what each index cost (benchmarks)
        del snapshot
        fd, tmp = tempfile.mkstemp(dir=self.data_dir, prefix=".CURRENT")
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{generation}\n")
        os.replace(tmp, self.data_dir / "CURRENT")
        self._collect_garbage(generation)
        return generation

    def _counts_after(self, delta: Delta | None, previous: int) -> dict[str, int] | None:
        """Quads per graph from the previous manifest and a delta; None when they must be counted."""
        if delta is None or not previous:
            return None
        try:
            counts = {
                g: info["quads"]
                for g, info in Manifest.from_file(
                    generation_dir(self.data_dir, previous) / "manifest.json"
                ).graphs.items()
            }
        except (FileNotFoundError, KeyError, ValueError):
            return None
        for graph, change in delta.per_graph().items():
            counts[graph] = counts.get(graph, 0) + change
        return counts

    def _stage_fresh_triples(self, target: Path | None) -> None:
        """Move the fresh public triples of this write into the generation (or drop them)."""
        path = self.data_dir / FRESH_TRIPLES
        if target is not None and path.exists():
            path.replace(target / FRESH_TRIPLES)
        shutil.rmtree(path, ignore_errors=True)

    def _collect_garbage(self, current: int) -> None:
        """Keep the last few generations: readers that opened an older one finish their request on it."""
        root = self.data_dir / "generations"
        for child in sorted(root.iterdir()):
            with contextlib.suppress(ValueError):
                if int(child.name) <= current - KEEP_GENERATIONS:
                    shutil.rmtree(child, ignore_errors=True)

    def _recover(self) -> None:
        """Restore the primary from the last published checkpoint (or empty it if none)."""
        with contextlib.suppress(AttributeError):
            del self.store
        primary = self.data_dir / "primary"
        shutil.rmtree(primary, ignore_errors=True)
        self._stage_fresh_triples(None)
        for stale in (self.data_dir / "generations").glob("*") if (self.data_dir / "generations").exists() else ():
            with contextlib.suppress(ValueError):
                if int(stale.name) > self.generation:
                    shutil.rmtree(stale, ignore_errors=True)
        if self.generation:
            Store.read_only(str(generation_dir(self.data_dir, self.generation) / "store")).backup(str(primary))
        self.store = Store(str(primary))
        (self.data_dir / "DIRTY").unlink(missing_ok=True)


def _batches(items: Iterable[Quad], size: int) -> Iterator[list[Quad]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _parse_nquads(handle, path: Path) -> Iterator[Quad]:
    try:
        yield from parse(handle, RdfFormat.N_QUADS)
    except SyntaxError as error:
        raise StoreError(f"{path}: not valid N-Quads: {error}") from None
