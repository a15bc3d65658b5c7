"""What the shape index costs per kind of everyday catalogue question: the index's answer in one process, no
HTTP, no cache (a design measurement for issue 16, not a target), optionally beside the engine on the same
public SPARQL store. It reuses the catalogue that ``python -m bench.sparql`` prepares (run that first).

python -m bench.sparql_shapes [--n 100000] [--repeats 5] [--engine]
"""

from __future__ import annotations

import argparse
import random
import time

from pyoxigraph import Store

from bench.common import append_results, markdown_table
from bench.sparql import OURS_PORT, PREFIXES, prepare_catalogue, vocabulary
from bench.sparql_catalogue import KINDS, catalogue_query
from dfl_graph.sparql.public_store import public_store_dir
from dfl_graph.sparql.shape_index import ShapeIndex, Undetermined, shape_index_path
from dfl_graph.sparql.shapes import recognise
from dfl_graph.store import CatalogueReader

WORDS = ["crime", "housing", "ward", "population", "transport"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5, help="queries of each kind (other parameters)")
    parser.add_argument("--engine", action="store_true", help="time the engine on the same queries too")
    args = parser.parse_args()
    data_dir, _, _ = prepare_catalogue(args.n)
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


if __name__ == "__main__":
    main()
