"""The shape index of a generation written in place is the previous one updated by the delta, and it is the
index a rebuild gives: the same terms in the same order, the same statements and the same counts.

A sequence of in-place writes (a dataset added with a new publisher, format and spellings of instants the
catalogue already has; one replaced with other themes, publisher and dates; one withdrawn; themes and a
publisher changed across several) runs on a generated catalogue and on the hand-made one full of ties. After
each write the updated index is compared, table by table (term ids read as their terms, tie numbers as their
order), with one rebuilt from the same SPARQL store, and the everyday query mix is answered as the engine
answers it.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from conftest import dfl
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Store
from test_sparql_shapes import BASE, EX, PREFIXES, _handmade, _mix, same_solutions

from dfl_graph.indexes.registry import open_writer
from dfl_graph.namespaces import DCAT, DCT, FOAF, RDF, XSD
from dfl_graph.sparql import shape_index
from dfl_graph.sparql.public_store import public_store_dir
from dfl_graph.sparql.shape_index import SPACING, ShapeIndex, Undetermined, build_shape_index, shape_index_path
from dfl_graph.sparql.shapes import recognise
from dfl_graph.store import CatalogueReader
from dfl_graph.uris import Uris


def _tables(path: Path) -> dict[str, object]:
    """The index's contents with term ids replaced by their terms and tie numbers by their rank."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    terms = db.execute("SELECT id, text, class, tie, lc FROM terms ORDER BY id").fetchall()
    text = {row[0]: row[1] for row in terms}
    ranks = {tie: n for n, tie in enumerate(sorted({row[3] for row in terms}))}
    tables = {
        "terms": [(t, cls, ranks[tie], lc) for _, t, cls, tie, lc in terms],
        "triples": sorted((p, text[s], text[o], ranks[t]) for p, s, o, t in db.execute("SELECT * FROM triples")),
        "classes": sorted(db.execute("SELECT * FROM classes")),
        "pair_classes": sorted(db.execute("SELECT * FROM pair_classes")),
        "facet_counts": sorted(
            (p, q, ranks[t], text[o], n) for p, q, t, o, n in db.execute("SELECT * FROM facet_counts")
        ),
        "chain_counts": sorted(
            (p1, p2, ranks[t], text[o], *n) for p1, p2, t, o, *n in db.execute("SELECT * FROM chain_counts")
        ),
        "typed": sorted((k, p, ranks[t], text[o], text[s]) for k, p, t, o, s in db.execute("SELECT * FROM typed")),
        "class_ties": sorted((c, ranks[low], ranks[high]) for c, low, high in db.execute("SELECT * FROM class_ties")),
        "predicates": sorted(db.execute("SELECT * FROM predicates")),
        "meta": sorted(db.execute("SELECT * FROM meta WHERE key != 'updated_from'")),
    }
    db.close()
    return tables


def _rebuilt(generation_dir: Path, work: Path) -> Path:
    """A shape index rebuilt from scratch from the generation's SPARQL store."""
    (work / "indexes").mkdir(parents=True)
    public_store_dir(work).symlink_to(public_store_dir(generation_dir).resolve())
    snapshot = CatalogueReader(generation_dir.parent.parent).snapshot()
    build_shape_index(snapshot, work, None, frozenset())
    return shape_index_path(work)


def _assert_engines_rows(data_dir: Path) -> int:
    directory = CatalogueReader(data_dir).snapshot().directory
    store, index = Store.read_only(str(public_store_dir(directory))), ShapeIndex(shape_index_path(directory))
    answered = 0
    for text in _mix(store, random.Random(str(data_dir))):
        query = PREFIXES + text
        shape = recognise(query, f"{BASE}/sparql")
        assert shape is not None, text
        engine = [tuple(row[v] for v in shape.variables) for row in store.query(query, base_iri=f"{BASE}/sparql")]  # type: ignore[union-attr]
        try:
            rows = index.answer(shape, max_rows=100_000).rows
        except Undetermined:
            continue
        answered += 1
        assert same_solutions(shape, rows, engine), text
    return answered


def _writes(data_dir: Path, graph: str) -> list[tuple[str, list[Quad], list[Quad]]]:
    """(what, removals, additions) of each write, drawn from the catalogue as it is before the first."""
    snapshot = CatalogueReader(data_dir).snapshot()
    g = NamedNode(graph)
    store = snapshot.store
    datasets = sorted(q.subject.value for q in store.quads_for_pattern(None, RDF.type, DCAT.Dataset, g))
    themes = sorted({q.object.value for q in store.quads_for_pattern(None, DCAT.theme, None, g)})

    def described(iri: str) -> list[Quad]:
        """The dataset's statements and its distributions'."""
        own = list(store.quads_for_pattern(NamedNode(iri), None, None, g))
        for link in [q for q in own if q.predicate == DCAT.distribution]:
            own += store.quads_for_pattern(link.object, None, None, g)  # type: ignore[arg-type]
        return own

    new, dist = NamedNode(EX + "dataset/new"), NamedNode(EX + "dataset/new/distribution/1")
    blank = BlankNode("newdistribution")
    publisher = NamedNode(EX + "publisher/new")
    first_modified = next(store.quads_for_pattern(NamedNode(datasets[0]), DCT.modified, None, g)).object
    added = [
        Quad(new, RDF.type, DCAT.Dataset, g),
        Quad(new, DCT.title, Literal("A new dataset", language="en"), g),
        Quad(new, DCT.title, Literal("Émile’s – new"), g),
        Quad(new, DCT.modified, first_modified, g),  # a value the catalogue has: shares its tie
        Quad(new, DCT.modified, Literal("2031-02-03T04:05:06+02:00", datatype=XSD.dateTime), g),
        Quad(new, DCT.issued, Literal("2031-02-03T00:00:00", datatype=XSD.dateTime), g),
        Quad(new, DCT.publisher, publisher, g),
        Quad(publisher, RDF.type, FOAF.Agent, g),
        Quad(publisher, FOAF.name, Literal("A new publisher"), g),
        Quad(new, DCAT.theme, NamedNode(themes[0]), g),
        Quad(new, DCAT.distribution, dist, g),
        Quad(dist, RDF.type, DCAT.Distribution, g),
        Quad(dist, DCT["format"], NamedNode(EX + "format/NEW"), g),
        Quad(dist, DCAT.byteSize, Literal("123", datatype=XSD.integer), g),
        Quad(new, DCAT.distribution, blank, g),  # a blank node subject
        Quad(blank, DCT["format"], NamedNode(EX + "format/NEW"), g),
        Quad(blank, DCAT.byteSize, Literal("-7", datatype=XSD.integer), g),
    ]
    replaced = described(datasets[1])
    changed = [q for q in replaced if q.subject.value == datasets[1] and q.predicate not in (DCAT.theme, DCT.modified)]
    changed += [
        Quad(NamedNode(datasets[1]), DCAT.theme, NamedNode(themes[-1]), g),
        Quad(NamedNode(datasets[1]), DCAT.theme, NamedNode(EX + "theme/brand-new"), g),
        Quad(NamedNode(datasets[1]), DCT.modified, Literal("1990-01-01T00:00:00Z", datatype=XSD.dateTime), g),
        Quad(NamedNode(datasets[1]), DCT.publisher, publisher, g),
    ]
    retheme = []
    for iri in datasets[3:9]:
        retheme += store.quads_for_pattern(NamedNode(iri), DCAT.theme, None, g)
        retheme += store.quads_for_pattern(NamedNode(iri), DCT.publisher, None, g)
    rethemed = [Quad(q.subject, q.predicate, NamedNode(themes[1 % len(themes)]), g) for q in retheme]
    title = next(store.quads_for_pattern(NamedNode(datasets[4]), DCT.title, None, g))
    return [
        (
            "retitle a dataset (rebuilt: another facet limit)",
            [title],
            [Quad(title.subject, DCT.title, Literal("T"), g)],
        ),
        ("add a dataset", [], added),
        ("replace a dataset", replaced, changed),
        ("withdraw a dataset", described(datasets[2]), []),
        ("change themes and publishers", retheme, rethemed),
        ("withdraw the added dataset", added, []),
    ]


def _generated(root: Path) -> tuple[Path, str]:
    export, data_dir = root / "export.json", root / "generated"
    dfl("generate", "120", str(export), "--seed", "3")
    dfl("--base", BASE, "load", "datapress", str(export), "--source", "datapress", "--store", str(data_dir))
    return data_dir, "datapress"


def _handmade_catalogue(root: Path) -> tuple[Path, str]:
    quads, data_dir = root / "handmade.nq", root / "handmade"
    _handmade(quads)
    dfl("--base", BASE, "restore", str(quads), "--public", "--store", str(data_dir))
    return data_dir, "handmade"


@pytest.mark.parametrize("make", [_generated, _handmade_catalogue], ids=["generated", "hand-made"])
def test_an_index_updated_by_each_write_is_the_rebuilt_one(
    tmp_path: Path, make, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, source = make(tmp_path)
    uris = Uris(BASE)
    graph = uris.source_graph(source) if source != "handmade" else f"{BASE}/graph/handmade"
    writes = _writes(data_dir, graph)
    # titles just within the facet limit (the first write rebuilds the index with it): adding a dataset takes
    # them over it (their counts are dropped), withdrawing it brings them back (counted again from the
    # statements); dct:issued comes to mix dates and dateTimes, and back
    store = Store.read_only(str(public_store_dir(CatalogueReader(data_dir).snapshot().directory)))
    titles = len({q.object for q in store.quads_for_pattern(None, DCT.title, None, None)})
    del store
    monkeypatch.setattr(shape_index, "FACET_VALUES", titles)
    between = 0
    for n, (what, removals, additions) in enumerate(writes):
        with open_writer(data_dir, uris) as store:
            store.update_source(source, {graph: True}, removals, additions)
        directory = CatalogueReader(data_dir).snapshot().directory
        assert (directory / "changes.json").exists(), "an in-place generation"
        assert not [r for r in caplog.records if r.levelname == "ERROR"], "the update failed and fell back"
        updated = shape_index_path(directory)
        db = sqlite3.connect(f"file:{updated}?mode=ro", uri=True)
        between += sum(1 for (i,) in db.execute("SELECT id FROM terms") if i % SPACING)
        made_from = db.execute("SELECT value FROM meta WHERE key = 'updated_from'").fetchone()
        db.close()
        # the first write rebuilds (the index was built with another facet limit); each later one updates
        assert made_from == ((str(int(directory.name) - 1),) if n else None), what
        fresh = _rebuilt(directory, tmp_path / f"rebuilt-{n}")
        assert _tables(updated) == _tables(fresh), what
        assert _assert_engines_rows(data_dir) >= 10, what
    assert between, "new terms were numbered between the old ones: the index was updated, not rebuilt"


@pytest.mark.parametrize("ascending", [True, False], ids=["ascending", "descending"])
def test_a_chain_of_writes_in_order_numbers_its_terms_without_a_rebuild(tmp_path: Path, ascending: bool) -> None:
    """Writes in order (dates, sequence numbers, slugs) each bring a term next to the last one's: 500 of them
    fit between the same two old terms (halving the room fitted 32, then the index was rebuilt), in order."""
    data_dir, _ = _generated(tmp_path)
    path = tmp_path / "shapes.sqlite"
    path.write_bytes(shape_index_path(CatalogueReader(data_dir).snapshot().directory).read_bytes())
    db = sqlite3.connect(path)
    update = shape_index._Update(db, Store())
    texts = [f"<{EX}chain/{n:04d}>" for n in range(500)]
    ids = {}
    for text in texts if ascending else reversed(texts):
        ids.update(update.place([text]))  # one write each: a _RebuildInstead here fails the test
    assert [ids[t] for t in texts] == sorted(ids.values())
    old = [i for (i,) in db.execute("SELECT id FROM terms WHERE id % ? = 0 ORDER BY id", (SPACING,))]
    assert len({sum(1 for o in old if o < ids[t]) for t in texts}) == 1, "all between the same two old terms"
    db.close()
