"""What the SPARQL store's layout costs: the catalogue query mix, uncached, in one process, on the public
graphs laid out three ways (a design measurement for issues 2 and 4, not a target):

* merged: the endpoint's SPARQL store (one default graph holding the merge of the public graphs);
* union: the public graphs as named graphs, queried with ``use_default_graph_as_union`` (what the main
  store could answer if it held nothing but public graphs);
* list: the same named graphs passed as ``default_graph=[...]`` (what the main store answers today for a
  query with its own dataset).

It reuses the catalogue and N-Quads dump that ``python -m bench.sparql`` prepares (run that first).

python -m bench.sparql_layouts [--n 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from pyoxigraph import Store

from bench.common import append_results, markdown_table
from bench.sparql import MIX_KINDS, OURS_PORT, mix_query, prepare_catalogue, prepare_oxigraph, vocabulary
from dfl_graph.sparql.public_store import public_store_dir
from dfl_graph.store import CatalogueReader


def timings(run: Callable[[str], object], queries: list[list[str]]) -> list[float]:
    """Mean seconds per query of each kind (every answer read to the end)."""
    means = []
    for texts in queries:
        started = time.perf_counter()
        for text in texts:
            answer = run(text)
            if not isinstance(answer, bool):
                for _ in answer:  # type: ignore[attr-defined]
                    pass
        means.append((time.perf_counter() - started) / len(texts))
    return means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="queries of each kind (other parameters)")
    args = parser.parse_args()
    data_dir, public, _ = prepare_catalogue(args.n)
    snapshot = CatalogueReader(data_dir).snapshot()
    merged = Store.read_only(str(public_store_dir(snapshot.directory)))
    named = Store.read_only(str(prepare_oxigraph(public)))
    graphs = list(named.named_graphs())
    v = vocabulary(lambda query, var: [row[var].value for row in merged.query(query)], f"http://127.0.0.1:{OURS_PORT}")
    rng = random.Random(7)
    queries = [[mix_query(kind, v, rng)[0] for _ in range(args.repeats)] for kind in range(len(MIX_KINDS))]
    layouts: dict[str, Callable[[str], object]] = {
        "merged": merged.query,
        "union": lambda text: named.query(text, use_default_graph_as_union=True),
        "list": lambda text: named.query(text, default_graph=graphs),
    }
    timings(layouts["merged"], queries)  # warm the page cache of both stores
    timings(layouts["union"], queries)
    results = {name: timings(run, queries) for name, run in layouts.items()}
    rows = [[kind] + [f"{results[name][i] * 1000:,.1f}" for name in layouts] for i, kind in enumerate(MIX_KINDS)]
    totals = {name: sum(means) for name, means in results.items()}
    rows.append(["**whole mix**"] + [f"**{totals[name] * 1000:,.0f}**" for name in layouts])
    table = markdown_table(["query (mean ms)", *layouts], rows)
    notes = (
        f"{len(graphs)} public graphs, {args.n} datasets, {args.repeats} queries of each kind, one process, "
        f"no cache. Union / merged: {totals['union'] / totals['merged']:.2f}x the time; list / merged: "
        f"{totals['list'] / totals['merged']:.2f}x."
    )
    append_results(
        f"SPARQL store layouts at {args.n} datasets (design measurement)",
        "python -m bench.sparql_layouts " + " ".join(f"--{k} {val}" for k, val in vars(args).items()),
        table,
        notes,
    )


if __name__ == "__main__":
    main()
