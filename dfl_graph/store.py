"""The writer's side of the catalogue's on-disk Oxigraph store: one writer, writes that publish or change nothing.

The data directory's layout, and the readers' side, are in :mod:`dfl_graph.generations`. Why generations:
pyoxigraph has no user transactions over "drop a graph and add a million quads", and opening a store
read-only while another process writes it is undefined behaviour. So readers only ever open immutable
checkpoints: they see the previous catalogue or the next, never a mix, and a failed write never publishes.

This module writes and checkpoints; :class:`dfl_graph.publish.Publisher` turns a checkpoint into a generation
with its indexes, running the builders the writer was opened with (:mod:`dfl_graph.indexes.registry`).

Crash safety: every write runs with a ``DIRTY`` marker in the data directory. If a write fails, or the
process dies at any moment (``kill -9``, a full disk, a power cut), the marker stays and the primary is
rebuilt from the published generation's checkpoint (hard links: cheap) -- at once after a failure, or by
the next writer to open the directory after a death. Whatever was half-published (a generation directory
newer than ``CURRENT``, a staged ``CURRENT``) is removed. :mod:`dfl_graph.crash_points` names the moments
the crash tests kill a write at.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import itertools
import json
import os
import shutil
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Store, parse, serialize

from dfl_graph.backends.embedded import EmbeddedBackend
from dfl_graph.crash_points import crash_point
from dfl_graph.generations import (
    CHANGES_FILE,
    FORMAT_FILE,
    FORMAT_VERSION,
    FRESH_TRIPLES,
    CatalogueReader,
    Delta,
    Manifest,
    Snapshot,
    StoreError,
    check_format,
    fresh_triples,
    generation_dir,
    now,
    read_changes,
)
from dfl_graph.namespaces import DCT, EU_ACCESS_RIGHT, XSD
from dfl_graph.publish import Publisher, collect_garbage
from dfl_graph.queries import query_text
from dfl_graph.uris import Uris

if TYPE_CHECKING:
    from dfl_graph.backends import StoreBackend
    from dfl_graph.indexes import IndexBuilder

T = TypeVar("T")


class CatalogueStore:
    """The writer's handle on a data directory. Only one may be open at a time (flock).

    ``builders`` are the index builders each publish runs (:data:`dfl_graph.indexes.registry.BUILDERS` for the
    product; none gives generations without indexes, which only store-level tests want). ``backend`` is where
    each generation's graphs are published for readers (:mod:`dfl_graph.backends`; default: the embedded
    checkpoint). The primary is embedded either way: it is the writer's working copy, which planning a write
    reads thousands of times (a request each on a remote store).
    """

    def __init__(
        self,
        data_dir: Path | str,
        uris: Uris,
        builders: Sequence[IndexBuilder] = (),
        backend: StoreBackend | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.uris = uris
        self.builders = tuple(builders)
        self.backend: StoreBackend = backend or EmbeddedBackend()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = (self.data_dir / "writer.lock").open("w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise StoreError(f"another `dfl` process is writing {self.data_dir}; try again when it ends") from None
        try:
            check_format(self.data_dir)
        except StoreError:
            self._lock_file.close()
            raise
        self.system_graph = NamedNode(uris.system_graph())
        self.dfl = uris.vocab
        if (self.data_dir / "DIRTY").exists():
            self._recover()  # the last writer died (or failed to recover): rebuild the primary first
        else:
            self.store = Store(str(self.data_dir / "primary"))
        self._write_format()

    def _write_format(self) -> None:
        path = self.data_dir / FORMAT_FILE
        if not path.exists():
            tmp = path.with_name(FORMAT_FILE + ".part")
            tmp.write_text(f"dfl store format {FORMAT_VERSION}\n")
            tmp.replace(path)

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
        """Registered graphs: IRI -> {"source", "public"}, with ``access`` (``restricted`` or ``non-public``) and
        ``organisation`` (a publisher IRI) for graphs that hold only records of that level and organisation."""
        result: dict[str, dict] = {}
        for quad in self.store.quads_for_pattern(None, self.dfl.visibility, None, self.system_graph):
            info = {"source": None, "public": quad.object == self.dfl.Public}
            for about in self.store.quads_for_pattern(quad.subject, None, None, self.system_graph):
                if about.predicate == self.dfl.sourceName:
                    info["source"] = about.object.value
                elif about.predicate == self.dfl.accessLevel and about.object.value in _ACCESS_OF:
                    info["access"] = _ACCESS_OF[about.object.value]
                elif about.predicate == self.dfl.organisation:
                    info["organisation"] = about.object.value
            result[quad.subject.value] = info
        return result

    def source_graphs(self, source: str) -> list[str]:
        """The registered graphs holding ``source``'s records (every access level and organisation)."""
        return sorted(g for g in self.graphs() if self.uris.record_graph_access(source, g) is not None)

    def public_graphs(self) -> list[str]:
        return sorted(g for g, info in self.graphs().items() if info["public"])

    # -- writing ----------------------------------------------------------------------------------
    def _write(self, changed: Iterable[str], work: Callable[[], T], delta: Delta | None = None) -> T:
        """Run ``work`` (which writes the primary) as one published step: publish on success; on any error
        restore the primary from the published generation and re-raise. See the module docstring."""
        marker = self.data_dir / "DIRTY"
        marker.write_text(now())
        crash_point("write-started")
        try:
            result = work()
            self._bump_generation()
            self.store.flush()
            Publisher(self, self.builders).publish(frozenset(changed), delta)
        except BaseException as error:
            # the frames ``work`` unwound may hold the primary (a local, a generator): let them go, so the
            # store closes and can be rebuilt under the same path in this process
            traceback.clear_frames(error.__traceback__)
            self._recover_after_failure()
            raise
        marker.unlink()
        return result

    def _register_graph(self, graph: str, source: str, public: bool) -> list[Quad]:
        """The registry entry of a graph. A non-public graph of a source's records (its name says which access
        level and publisher, :meth:`Uris.source_graph`) also gets ``dfl:accessLevel`` and ``dfl:organisation``,
        which is what lets a trusted reader or an organisation's member see it (docs/access.md). A
        ``restricted`` graph still holding NON_PUBLIC records (the layout before there was one graph per
        publisher, kept by a restored dump) gets neither: only callers who see everything see it."""
        g = NamedNode(graph)
        quads = [
            Quad(g, self.dfl.visibility, self.dfl.Public if public else self.dfl.Restricted, self.system_graph),
            Quad(g, self.dfl.sourceName, Literal(source), self.system_graph),
            Quad(g, DCT.modified, Literal(now(), datatype=XSD.dateTime), self.system_graph),
        ]
        level = None if public else self.uris.record_graph_access(source, graph)
        if level is None or level[0] == "public":
            return quads
        access, publisher_id = level
        if access == "restricted" and self._holds_non_public(g):
            return quads
        quads.append(Quad(g, self.dfl.accessLevel, EU_ACCESS_RIGHT[_EU_CODE[access]], self.system_graph))
        if publisher_id and publisher_id != "unknown":
            quads.append(
                Quad(g, self.dfl.organisation, NamedNode(self.uris.publisher(publisher_id)), self.system_graph)
            )
        return quads

    def _holds_non_public(self, graph: NamedNode) -> bool:
        non_public = EU_ACCESS_RIGHT["NON_PUBLIC"]
        return next(self.store.quads_for_pattern(None, DCT.accessRights, non_public, graph), None) is not None

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

        def work() -> int:
            for graph in graphs:
                self._clear_graph(graph)
            public_graphs = frozenset(g for g, (public, _) in graphs.items() if public)
            written = self._bulk_write([(g, quads) for g, (_, quads) in graphs.items()], public_graphs)
            for graph, (public, _) in graphs.items():
                self.store.extend(self._register_graph(graph, source, public))
            crash_point("registered")
            if vocabulary_digest is not None:
                self._set_system(self.dfl.vocabularyDigest, Literal(vocabulary_digest))
            return written

        return self._write([source], work)

    def _bulk_write(
        self, segments: Iterable[tuple[str | None, Iterable[Quad]]], fresh_public: frozenset[str] = frozenset()
    ) -> int:
        """Bulk-load quads while they are being produced, on both cores, then compact the store.

        pyoxigraph's ``bulk_load`` from a path releases the GIL, ``bulk_extend`` does not. So this
        thread maps and serialises batches into a pipe while a second thread bulk-loads from it:
        the load costs about what the bulk loader alone costs. If the producer raises, the pipe is
        closed, the partial load is discarded by :meth:`_write`'s recovery, and the error goes up.

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
        crash_point("bulk-loaded")
        if files:
            (fresh / "index.json").write_text(json.dumps(files))
        self.store.optimize()
        crash_point("compacted")
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
                                crash_point("bulk-batch")
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
                self.uris.source_graph(source): (True, public),
                self.uris.source_graph(source, "restricted"): (False, restricted),
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

        def work() -> Delta:
            store = self.store
            for quad in removals:
                if quad in store:
                    store.remove(quad)
                    if tracked:
                        delta.removed.append(quad)
            crash_point("removed")
            if bulk:
                self._bulk_write([(None, additions)])
            else:
                for batch in _batches(additions, 10_000):
                    fresh = list(dict.fromkeys(q for q in batch if q not in store))
                    store.extend(fresh)
                    delta.added.extend(fresh)
                    crash_point("added")
            if cleanup is not None:
                for quad in list(cleanup(store)):
                    if quad in store:
                        store.remove(quad)
                        if tracked:
                            delta.removed.append(quad)
            for graph, public in graphs.items():
                self._unregister_graph(graph)
                store.extend(self._register_graph(graph, source, public))
            crash_point("registered")
            return delta

        return self._write([source], work, delta if tracked else None)

    def drop_source(self, source: str) -> None:
        def work() -> None:
            for graph in {self.uris.source_graph(source), *self.source_graphs(source)}:
                self._clear_graph(graph)

        self._write([source], work)

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
        crash_point("restore-parsed")

        def work() -> int:
            written = 0
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
            crash_point("registered")
            return written

        return self._write(["restore"], work)

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

    def checkpoint(self, target: Path, delta: Delta | None, previous: int) -> dict[str, dict]:
        """Checkpoint the primary into ``target`` (RocksDB hard links); returns the registered graphs with
        their quad counts: the previous generation's plus the delta's after an in-place write, else counted."""
        self.store.backup(str(target))
        graphs = self.graphs()
        counts = self._counts_after(delta, previous)
        if counts is None:
            counts = {row["g"].value: int(row["n"].value) for row in self.store.query(query_text("quads-per-graph"))}
        for g, info in graphs.items():
            info["quads"] = counts.get(g, 0)
        return graphs

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

    def stage_fresh_triples(self, target: Path | None) -> None:
        """Move the fresh public triples of this write into the generation ``target`` (or drop them)."""
        path = self.data_dir / FRESH_TRIPLES
        if target is not None and path.exists():
            path.replace(target / FRESH_TRIPLES)
        shutil.rmtree(path, ignore_errors=True)

    def _recover_after_failure(self) -> None:
        """:meth:`_recover` after a failed write in this process. If the primary cannot be reopened here (a
        caller still holds it), the ``DIRTY`` marker stays and the next writer recovers."""
        gc.collect()
        try:
            self._recover()
        except OSError:
            with contextlib.suppress(AttributeError):
                del self.store

    def _recover(self) -> None:
        """Rebuild the primary from the published generation's checkpoint (or empty it if none), and remove
        whatever a dead write left half-published. Idempotent: a recovery that dies is redone by the next."""
        with contextlib.suppress(AttributeError):
            del self.store
        primary = self.data_dir / "primary"
        shutil.rmtree(primary, ignore_errors=True)
        crash_point("recovery-started")
        self.stage_fresh_triples(None)
        current = self.generation
        collect_garbage(self.data_dir, current)
        if current:
            Store.read_only(str(generation_dir(self.data_dir, current) / "store")).backup(str(primary))
        self.store = Store(str(primary))
        (self.data_dir / "DIRTY").unlink(missing_ok=True)


_EU_CODE = {"restricted": "RESTRICTED", "non-public": "NON_PUBLIC"}
_ACCESS_OF = {EU_ACCESS_RIGHT[code].value: access for access, code in _EU_CODE.items()}


def _batches(items: Iterable[Quad], size: int) -> Iterator[list[Quad]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _parse_nquads(handle, path: Path) -> Iterator[Quad]:
    try:
        yield from parse(handle, RdfFormat.N_QUADS)
    except SyntaxError as error:
        raise StoreError(f"{path}: not valid N-Quads: {error}") from None


__all__ = [
    "CHANGES_FILE",
    "FRESH_TRIPLES",
    "CatalogueReader",
    "CatalogueStore",
    "Delta",
    "Manifest",
    "Snapshot",
    "StoreError",
    "fresh_triples",
    "generation_dir",
    "read_changes",
]
