"""Issue 13: what a load costs. A full `dfl load` of an n-dataset export (each index builder separately, peak RSS,
index sizes), the store write alone against raw `Store.bulk_load` of the same quads, and a 1,000-dataset source
loaded into the n-dataset catalogue (in proportion to that source, not to the catalogue).

python -m bench.load [--sizes 100000] [--incremental 1000] [--no-raw]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import DFL, ROOT, WORK, append_results, generated_export, markdown_table, timed

RAW_LOAD = (
    "import sys, pyoxigraph as o\n"
    "store = o.Store(sys.argv[1])\n"
    "store.bulk_load(path=sys.argv[2], format=o.RdfFormat.N_QUADS)\n"
    "store.flush()\n"
    "print(len(store))"
)
EXPORT_SOURCE = (
    "import sys, pyoxigraph as o\n"
    "from dfl_graph.store import CatalogueReader\n"
    "snap = CatalogueReader(sys.argv[1]).snapshot()\n"
    "graphs = [g for g, info in snap.manifest.graphs.items() if info['source'] == 'bench']\n"
    "with open(sys.argv[2], 'wb') as out:\n"
    "    for g in graphs:\n"
    "        o.serialize(snap.store.quads_for_pattern(None, None, None, o.NamedNode(g)), out, o.RdfFormat.N_QUADS)\n"
)
BUILDERS = ("catalogue", "search", "source_records", "sparql_store", "sparql_restricted")


def current(store: Path) -> Path:
    return store / "generations" / f"{int((store / 'CURRENT').read_text().strip()):08d}"


def built(store: Path) -> dict[str, float]:
    return json.loads((current(store) / "build-seconds.json").read_text())


def size_mb(path: Path) -> float:
    paths = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in paths) / 2**20


def other_source(n: int) -> Path:
    """A second, independent export (another seed: other ids), standing for one borough's export."""
    path = WORK / f"export-{n}-borough.json"
    if not path.exists():
        subprocess.run([*DFL, "generate", str(n), str(path), "--seed", "77"], check=True, cwd=ROOT)
    return path


def measure(n: int, incremental: int, raw: bool) -> tuple[list[object], list[object]]:
    export = generated_export(n)
    store = WORK / f"load-{n}"
    shutil.rmtree(store, ignore_errors=True)
    # the vocabularies are loaded first (a separate, tiny publish) so both sides write the same quads
    warmup = ROOT / "data" / "london-datastore-2010" / "london-datastore-2010-datasets.csv"
    subprocess.run([*DFL, "load", "lds2010", str(warmup), "--source", "warmup", "--store", str(store)], check=True)
    full = timed([*DFL, "load", "datapress", str(export), "--source", "bench", "--store", str(store)])
    full_built = built(store)
    indexes = {p.name: size_mb(p) for p in sorted((current(store) / "indexes").iterdir())}
    store_mb = size_mb(current(store) / "store")
    row = [f"{n:,}", f"{full.seconds:.1f}", f"{full.peak_rss_mb:,.0f}", f"{full.cpu_seconds:.0f}"]
    write_alone = full.seconds - full_built["all_indexes"]
    row += [f"{write_alone:.1f}"]
    if raw:
        quads_file = WORK / f"load-{n}.nq"
        subprocess.run([sys.executable, "-c", EXPORT_SOURCE, str(store), str(quads_file)], check=True)
        quads = sum(1 for _ in quads_file.open("rb"))
        raw_store = WORK / f"raw-{n}"
        shutil.rmtree(raw_store, ignore_errors=True)
        bulk = timed([sys.executable, "-c", RAW_LOAD, str(raw_store), str(quads_file)])
        shutil.rmtree(raw_store, ignore_errors=True)
        quads_file.unlink()
        row += [f"{quads:,}", f"{bulk.seconds:.1f}", f"**{bulk.seconds / write_alone:.2f}×**"]
    else:
        row += ["", "", ""]
    row += [f"{full_built['all_indexes']:.1f}"] + [f"{full_built.get(b, 0):.1f}" for b in BUILDERS]
    row += [f"{store_mb:,.0f}", ", ".join(f"{name} {mb:,.0f}" for name, mb in indexes.items())]

    borough = other_source(incremental)
    added = timed([*DFL, "load", "datapress", str(borough), "--source", "borough", "--store", str(store)])
    added_built = built(store)
    again = timed([*DFL, "load", "datapress", str(borough), "--source", "borough", "--store", str(store)])
    inc_row = [
        f"{incremental:,} into {n:,}",
        f"{added.seconds:.1f}",
        f"**{added.seconds / full.seconds:.1%}**",
        f"{added.peak_rss_mb:,.0f}",
        f"{added_built['all_indexes']:.1f}",
        *[f"{added_built.get(b, 0):.1f}" for b in BUILDERS],
        f"{again.seconds:.1f}",
    ]
    return row, inc_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--incremental", type=int, default=1_000)
    parser.add_argument("--no-raw", action="store_true", help="skip the raw bulk_load comparison")
    args = parser.parse_args()
    rows, inc_rows = [], []
    for n in args.sizes:
        row, inc_row = measure(n, args.incremental, not args.no_raw)
        rows.append(row)
        inc_rows.append(inc_row)
    header = [
        "datasets",
        "dfl load s",
        "peak RSS MB",
        "CPU s",
        "store write alone s",
        "quads (source)",
        "raw bulk_load s",
        "store write vs raw (target ≥ 0.7×)",
        "index builders s (wall)",
        *[f"{b} s" for b in BUILDERS],
        "store MB",
        "index MB",
    ]
    inc_header = [
        "load",
        "s",
        "of the full load (target ≤ 10%)",
        "peak RSS MB",
        "index builders s (wall)",
        *[f"{b} s" for b in BUILDERS],
        "same file again s",
    ]
    notes = (
        "`dfl load` is the whole command (read, map, plan, write, checkpoint, every index of the new generation; "
        "each builder's time from the generation's `build-seconds.json`, the SPARQL store alongside the others). "
        '"Store write alone" is the command less the index builders\' wall time: read, map, plan, bulk load, '
        "compaction, checkpoint. Raw is `Store.bulk_load` of the same source graphs dumped as N-Quads, in a fresh "
        "process. The second table loads another source (a generated export with another seed) into that "
        "catalogue: written in place, its indexes updated from the published delta; then the same file again "
        "(nothing changed: the plan writes nothing)."
    )
    command = "python -m bench.load --sizes " + " ".join(map(str, args.sizes)) + f" --incremental {args.incremental}"
    command += " --no-raw" if args.no_raw else ""
    table = markdown_table(header, rows) + "\n\n" + markdown_table(inc_header, inc_rows)
    append_results("Load (issue 13)", command, table, notes)


if __name__ == "__main__":
    main()
