"""The on-disk store: generations, atomic replace, failed writes, dump/restore, the writer lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from dfl_graph.accounts.visibility import Visibility
from dfl_graph.namespaces import DCAT, DCT, RDF
from dfl_graph.store import CatalogueReader, CatalogueStore, StoreError
from dfl_graph.uris import Uris

URIS = Uris("http://data.test")


def datasets(source: str, n: int, tag: str) -> list[Quad]:
    graph = NamedNode(URIS.source_graph(source))
    quads = []
    for i in range(n):
        d = NamedNode(URIS.dataset(f"{source}-{i}"))
        quads += [Quad(d, RDF.type, DCAT.Dataset, graph), Quad(d, DCT.title, Literal(f"{tag} {i}"), graph)]
    return quads


def titles(reader: CatalogueReader, source: str) -> set[str]:
    snap = reader.snapshot()
    graph = NamedNode(URIS.source_graph(source))
    return {q.object.value.split()[0] for q in snap.store.quads_for_pattern(None, DCT.title, None, graph)}


def test_replace_publishes_a_new_generation(tmp_path: Path) -> None:
    with CatalogueStore(tmp_path, URIS) as store:
        store.replace_source("alpha", datasets("alpha", 3, "old"), [])
        assert store.generation == 1
        store.replace_source("alpha", datasets("alpha", 2, "new"), [])
        assert store.generation == 2
    reader = CatalogueReader(tmp_path)
    snap = reader.snapshot()
    assert snap.generation == 2
    assert titles(reader, "alpha") == {"new"}
    assert URIS.source_graph("alpha") in snap.manifest.public_graphs
    assert URIS.source_graph("alpha", "restricted") not in snap.manifest.public_graphs
    assert URIS.system_graph() not in snap.manifest.public_graphs


def test_failed_write_changes_nothing(tmp_path: Path) -> None:
    def broken():
        yield from datasets("alpha", 50, "half")
        raise ValueError("record 51 is malformed")

    with CatalogueStore(tmp_path, URIS) as store:
        store.replace_source("alpha", datasets("alpha", 3, "good"), [])
        with pytest.raises(ValueError, match="record 51"):
            store.replace_source("alpha", broken(), [])
        assert store.generation == 1
        # the writer's own primary was restored too: the next write starts from the good state
        graph = NamedNode(URIS.source_graph("alpha"))
        assert len(list(store.store.quads_for_pattern(None, DCT.title, None, graph))) == 3
    assert titles(CatalogueReader(tmp_path), "alpha") == {"good"}
    assert not (tmp_path / "DIRTY").exists()


def test_concurrent_reader_never_sees_a_mix(tmp_path: Path) -> None:
    with CatalogueStore(tmp_path, URIS) as store:
        store.replace_source("alpha", datasets("alpha", 2000, "v0"), [])
    seen: list[set[str]] = []
    counts: list[int] = []
    stop = threading.Event()

    def read() -> None:
        reader = CatalogueReader(tmp_path)
        graph = NamedNode(URIS.source_graph("alpha"))
        while not stop.is_set():
            snap = reader.snapshot()
            found = [q.object.value.split()[0] for q in snap.store.quads_for_pattern(None, DCT.title, None, graph)]
            seen.append(set(found))
            counts.append(len(found))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        with CatalogueStore(tmp_path, URIS) as store:
            for version in range(1, 6):
                store.replace_source("alpha", datasets("alpha", 2000, f"v{version}"), [])
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 5
    assert all(len(tags) == 1 for tags in seen), "a reader saw records of two loads at once"
    assert set(counts) == {2000}
    assert titles(CatalogueReader(tmp_path), "alpha") == {"v5"}


def test_dump_restore_round_trip_is_identical(tmp_path: Path) -> None:
    with CatalogueStore(tmp_path / "a", URIS) as store:
        store.replace_source("alpha", datasets("alpha", 10, "x"), datasets("alpha", 2, "secret"))
        store.replace_source("beta", datasets("beta", 5, "y"), [])
        store.dump(tmp_path / "dump.nq")
    with CatalogueStore(tmp_path / "b", URIS) as store:
        store.restore(tmp_path / "dump.nq")
        store.dump(tmp_path / "again.nq")
    first = set((tmp_path / "dump.nq").read_text().splitlines())
    second = set((tmp_path / "again.nq").read_text().splitlines())
    generation = str(URIS.vocab.generation)
    assert {line for line in first if generation not in line} == {line for line in second if generation not in line}
    restored = CatalogueReader(tmp_path / "b").snapshot()
    assert set(restored.manifest.public_graphs) == {URIS.source_graph("alpha"), URIS.source_graph("beta")}


def test_restore_public_marks_new_graphs_public_and_rejects_bad_nquads(tmp_path: Path) -> None:
    good = tmp_path / "suite.nq"
    good.write_text('<http://ex/s> <http://ex/p> "o" <http://kasei.us/data1.rdf> .\n')
    bad = tmp_path / "bad.nq"
    bad.write_text('<http://ex/s> <http://ex/p> "o" <http://ex/g> .\n<http://ex/s> <http://ex/p> "unterminated .\n')
    with CatalogueStore(tmp_path / "d", URIS) as store:
        store.restore(good, public=True)
        with pytest.raises(StoreError, match=r"bad\.nq"):
            store.restore(bad, public=True)
        assert store.generation == 1
    snap = CatalogueReader(tmp_path / "d").snapshot()
    assert snap.manifest.public_graphs == ("http://kasei.us/data1.rdf",)


def test_only_one_writer(tmp_path: Path) -> None:
    with CatalogueStore(tmp_path, URIS), pytest.raises(StoreError, match="another"):
        CatalogueStore(tmp_path, URIS)


def test_reader_before_any_publish_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="dfl load"):
        CatalogueReader(tmp_path).snapshot()


def test_the_store_knows_no_index_and_ingest_no_harvest() -> None:
    """The write side's layering: the store writes and checkpoints (its builders are handed to it), and the
    pipeline that loads and harvests share imports nothing of the harvester."""
    import subprocess
    import sys

    probe = (
        "import sys, importlib; importlib.import_module(sys.argv[1]); "
        "print(' '.join(m for m in sys.modules if m.startswith(tuple(sys.argv[2:]))))"
    )
    for module, forbidden in (
        ("dfl_graph.store", ["dfl_graph.indexes.", "dfl_graph.search", "dfl_graph.sparql", "dfl_graph.harvest"]),
        ("dfl_graph.ingest", ["dfl_graph.harvest"]),
    ):
        found = subprocess.run([sys.executable, "-c", probe, module, *forbidden], capture_output=True, text=True)
        assert found.returncode == 0, found.stderr
        assert found.stdout.strip() == "", f"{module} imports {found.stdout.strip()}"


def test_graph_registry_says_who_may_read_each_graph_and_an_old_mixed_graph_stays_closed(tmp_path: Path) -> None:
    """One graph per source, access level and organisation is registered with its level and organisation; a
    restored dump of the old layout (one ``restricted`` graph mixing RESTRICTED and NON_PUBLIC records) is seen
    only by callers who see everything, until the non-public records have left it."""
    restricted, tfl = URIS.source_graph("alpha", "restricted"), URIS.source_graph("alpha", "non-public", "tfl")
    system = URIS.system_graph()
    dfl, eu = URIS.vocab.iri, "http://publications.europa.eu/resource/authority/access-right/"

    def record(name: str, level: str, graph: str) -> list[Quad]:
        node = NamedNode(URIS.dataset(name))
        return [
            Quad(node, RDF.type, DCAT.Dataset, NamedNode(graph)),
            Quad(node, DCT.accessRights, NamedNode(eu + level), NamedNode(graph)),
        ]

    old_layout = record("r", "RESTRICTED", restricted) + record("n", "NON_PUBLIC", restricted)
    old_layout += [
        Quad(NamedNode(restricted), NamedNode(dfl + "visibility"), NamedNode(dfl + "Restricted"), NamedNode(system)),
        Quad(NamedNode(restricted), NamedNode(dfl + "sourceName"), Literal("alpha"), NamedNode(system)),
    ]
    dump = tmp_path / "old.nq"
    dump.write_text("".join(f"{quad} .\n" for quad in old_layout))
    with CatalogueStore(tmp_path / "store", URIS) as store:
        store.restore(dump)
        graphs = CatalogueReader(tmp_path / "store").snapshot().manifest.graphs
        assert "access" not in graphs[restricted]
        assert restricted not in Visibility(restricted=True).graphs(graphs)
        assert restricted in Visibility(everything=True).graphs(graphs)
        store.update_source("alpha", {restricted: False}, record("n", "NON_PUBLIC", restricted), [])  # n moves out
        assert CatalogueReader(tmp_path / "store").snapshot().manifest.graphs[restricted]["access"] == "restricted"
        store.update_source("alpha", {tfl: False}, [], record("n", "NON_PUBLIC", tfl))
        graphs = CatalogueReader(tmp_path / "store").snapshot().manifest.graphs
    assert graphs[tfl]["access"] == "non-public" and graphs[tfl]["organisation"] == URIS.publisher("tfl")
    assert Visibility(restricted=True).graphs(graphs) == [restricted]
    assert tfl in Visibility(non_public_of=frozenset({URIS.publisher("tfl")})).graphs(graphs)
    assert tfl not in Visibility(restricted=True, non_public_of=frozenset({URIS.publisher("gla")})).graphs(graphs)
