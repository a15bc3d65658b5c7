"""What the shape index costs per kind of everyday catalogue question: the index's answer in one process, no
HTTP, no cache (a design measurement for issue 16, not a target), optionally beside the engine on the same
public SPARQL store. It reuses the catalogue that ``python -m bench.sparql`` prepares (run that first).

With ``--writes``, what keeping the index costs instead (issues 13/14): that many single-dataset in-place
writes (a title and a date changed) on a copy of the catalogue, each timed whole, with its SPARQL builder's
time (the SPARQL store and the shape index, updated from the delta), and the shape index alone updated again
from the same delta and rebuilt from scratch from the same SPARQL store, for comparison.

python -m bench.sparql_shapes [--n 100000] [--repeats 5] [--engine] [--writes 5]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import time
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, Store

from bench.common import WORK, append_results, markdown_table
from bench.sparql import OURS_PORT, PREFIXES, prepare_catalogue, vocabulary
from bench.sparql_catalogue import KINDS, catalogue_query
from dfl_graph.generations import CHANGES_FILE
from dfl_graph.indexes.registry import open_writer
from dfl_graph.namespaces import DCAT, DCT, RDF, XSD
from dfl_graph.sparql.public_store import public_store_dir
from dfl_graph.sparql.shape_index import ShapeIndex, Undetermined, build_shape_index, shape_index_path
from dfl_graph.sparql.shapes import recognise
from dfl_graph.store import CatalogueReader
from dfl_graph.uris import Uris

WORDS = ["crime", "housing", "ward", "population", "transport"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5, help="queries of each kind (other parameters)")
    parser.add_argument("--engine", action="store_true", help="time the engine on the same queries too")
    parser.add_argument("--writes", type=int, default=0, help="time this many single-dataset writes instead")
    args = parser.parse_args()
    data_dir, _, _ = prepare_catalogue(args.n)
    if args.writes:
        measure_writes(data_dir, args.n, args.writes)
        return
    snapshot = CatalogueReader(data_dir).snapshot()
    index = ShapeIndex(shape_index_path(snapshot.directory))
    store = Store.read_only(str(public_store_dir(snapshot.directory)))
    base = f"http://127.0.0.1:{OURS_PORT}"
    v = vocabulary(lambda query, var: [row[var].value for row in store.query(query)], base)
    rows = []
    for kind in KINDS[:-1]:  # the last, one dataset's CONSTRUCT, is a lookup, not an index query
        index_times, engine_times, declined = [], [], 0
        for i in range(args.repeats):
            text, _ = catalogue_query(kind, v, WORDS, args.n, random.Random(i))
            shape = recognise(PREFIXES + text, base + "/sparql")
            started = time.perf_counter()
            try:
                index.answer(shape, 100_000)  # type: ignore[arg-type]
            except Undetermined:
                declined += 1
            index_times.append(time.perf_counter() - started)
            if args.engine:
                started = time.perf_counter()
                list(store.query(PREFIXES + text, base_iri=base + "/sparql"))  # type: ignore[arg-type]
                engine_times.append(time.perf_counter() - started)
        index_times.sort()
        row = [kind, f"{index_times[len(index_times) // 2] * 1000:,.1f}", f"{index_times[-1] * 1000:,.1f}", declined]
        if args.engine:
            engine_times.sort()
            row.append(f"{engine_times[len(engine_times) // 2] * 1000:,.1f}")
        rows.append(row)
    header = ["kind", "index median ms", "index max ms", "declined"] + (["engine median ms"] if args.engine else [])
    append_results(
        f"SPARQL shape index at {args.n} datasets (design measurement)",
        "python -m bench.sparql_shapes "
        + " ".join(f"--{k} {val}" for k, val in vars(args).items() if val is not False),
        markdown_table(header, rows),
        f"{args.repeats} queries of each kind of `python -m bench.sparql_catalogue`'s mix (other parameters), "
        "answered by `ShapeIndex.answer` in one process (SQLite on the generation's `sparql-shapes.sqlite`), no "
        "HTTP, no cache; wall-clock. Declined: answered by the engine instead (ties at the page's edges).",
    )


def _shape_index_alone(generation: Path, previous: Path, scratch: Path, in_place: bool) -> float:
    """Seconds to make the generation's shape index again in ``scratch``: updated from ``previous``'s by the
    generation's delta, or rebuilt from its SPARQL store."""
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "indexes").mkdir(parents=True)
    (scratch / "indexes" / "sparql-store").symlink_to(generation / "indexes" / "sparql-store")
    for changes in [generation / CHANGES_FILE, *generation.glob("changes-*.nq")]:
        shutil.copy(changes, scratch / changes.name)
    snapshot = CatalogueReader(generation.parent.parent).snapshot()
    started = time.perf_counter()
    build_shape_index(snapshot, scratch, previous, frozenset({"datapress"}), in_place)
    return time.perf_counter() - started


def measure_writes(catalogue: Path, n: int, writes: int) -> None:
    data_dir = WORK / f"shape-writes-{n}"
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.copytree(catalogue, data_dir, symlinks=True)
    uris = Uris(f"http://127.0.0.1:{OURS_PORT}")
    graph = NamedNode(uris.source_graph("datapress"))
    snapshot = CatalogueReader(data_dir).snapshot()
    datasets = sorted(q.subject.value for q in snapshot.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, graph))
    del snapshot
    rng = random.Random(16)
    timings: dict[str, list[float]] = {"write": [], "sparql_store": [], "update": [], "rebuild": []}
    for i in range(writes):
        dataset = NamedNode(rng.choice(datasets))
        before = CatalogueReader(data_dir).snapshot()
        old = [q for p in (DCT.title, DCT.modified) for q in before.store.quads_for_pattern(dataset, p, None, graph)]
        previous = before.directory
        del before
        new = [
            Quad(dataset, DCT.title, Literal(f"Edited dataset {i}", language="en"), graph),
            Quad(dataset, DCT.modified, Literal(f"2030-01-01T00:00:{i % 60:02d}Z", datatype=XSD.dateTime), graph),
        ]
        started = time.perf_counter()
        with open_writer(data_dir, uris) as store:
            store.update_source("datapress", {graph.value: True}, old, new, datasets=[dataset.value])
        timings["write"].append(time.perf_counter() - started)
        generation = CatalogueReader(data_dir).snapshot().directory
        timings["sparql_store"].append(json.loads((generation / "build-seconds.json").read_text())["sparql_store"])
        scratch = WORK / "shape-writes-scratch"
        timings["update"].append(_shape_index_alone(generation, previous, scratch, True))
        timings["rebuild"].append(_shape_index_alone(generation, previous, scratch, False))
    shutil.rmtree(WORK / "shape-writes-scratch", ignore_errors=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    rows = [
        [what, f"{statistics.median(seconds):.2f}", f"{max(seconds):.2f}"]
        for what, seconds in (
            ("single-dataset write, whole (update_source, publish included)", timings["write"]),
            ("its SPARQL builder (SPARQL store + shape index, from the delta)", timings["sparql_store"]),
            ("shape index alone, updated from the delta", timings["update"]),
            ("shape index alone, rebuilt from the SPARQL store", timings["rebuild"]),
        )
    ]
    append_results(
        f"SPARQL shape index kept by single-dataset writes at {n} datasets",
        f"python -m bench.sparql_shapes --n {n} --writes {writes}",
        markdown_table(["", "median s", "max s"], rows),
        f"{writes} in-place writes (`CatalogueStore.update_source`: one random dataset's title and modified date "
        "replaced) on a copy of `python -m bench.sparql`'s catalogue, each published with every index. The shape "
        "index alone is made again in a scratch directory from the same generation: from the previous "
        "generation's copy and the delta, then from scratch. Wall-clock, on a shared machine (load average in "
        "the notes of docs/benchmarks.md).",
    )


if __name__ == "__main__":
    main()
