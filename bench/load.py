"""Issue 2 §8: load rate and peak RSS of `dfl load datapress`, against raw `Store.bulk_load` of the very same quads.

python -m bench.load [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys

from bench.common import DFL, WORK, append_results, generated_export, markdown_table, timed

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


def measure(n: int) -> list[object]:
    export = generated_export(n)
    store = WORK / f"load-{n}"
    shutil.rmtree(store, ignore_errors=True)
    # the vocabularies are loaded first (a separate, tiny publish) so both sides write the same quads
    subprocess.run(
        [
            *DFL,
            "load",
            "lds2010",
            "data/london-datastore-2010/london-datastore-2010-datasets.csv",
            "--source",
            "warmup",
            "--store",
            str(store),
        ],
        check=True,
        capture_output=True,
    )
    ours = timed([*DFL, "load", "datapress", str(export), "--source", "bench", "--store", str(store)])
    generation = (store / "CURRENT").read_text().strip()
    builders = json.loads((store / "generations" / f"{int(generation):08d}" / "build-seconds.json").read_text())
    indexes = builders["all_indexes"]
    quads_file = WORK / f"load-{n}.nq"
    subprocess.run([sys.executable, "-c", EXPORT_SOURCE, str(store), str(quads_file)], check=True)
    quads = sum(1 for _ in quads_file.open("rb"))
    raw_store = WORK / f"raw-{n}"
    shutil.rmtree(raw_store, ignore_errors=True)
    raw = timed([sys.executable, "-c", RAW_LOAD, str(raw_store), str(quads_file)])
    shutil.rmtree(raw_store, ignore_errors=True)
    quads_file.unlink()
    return [
        f"{n:,}",
        f"{quads:,}",
        f"{ours.seconds:.1f}",
        f"{n / ours.seconds:,.0f}",
        f"{quads / ours.seconds:,.0f}",
        f"{ours.peak_rss_mb:,.0f}",
        f"{raw.seconds:.1f}",
        f"{quads / raw.seconds:,.0f}",
        f"{raw.peak_rss_mb:,.0f}",
        f"**{raw.seconds / ours.seconds:.2f}×**",
        f"{indexes:.1f}",
        f"{raw.seconds / (ours.seconds - indexes):.2f}×",
        f"{ours.cpu_seconds:.0f} / {raw.cpu_seconds:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    rows = [measure(n) for n in args.sizes]
    header = [
        "datasets",
        "quads",
        "dfl load s",
        "datasets/s",
        "quads/s",
        "peak RSS MB",
        "raw bulk_load s",
        "raw quads/s",
        "raw peak RSS MB",
        "rate vs raw (target ≥ 0.7×)",
        "of which index builders s",
        "store load alone vs raw",
        "CPU s, ours / raw",
    ]
    notes = (
        "`dfl load` is the whole command: JSON parse, mapping to DCAT-AP, bulk load, checkpoint and every derived "
        "index of the new generation (catalogue index, search index, the SPARQL endpoint's public store, harvest "
        "state; each builder's time is in the generation's `build-seconds.json`). Raw is `Store.bulk_load` of the "
        'same source graphs dumped as N-Quads, in a fresh process. "Index builders" is the wall time of '
        "building the generation's indexes (`all_indexes` in `build-seconds.json`; the SPARQL store builds alongside "
        'the others); "store load alone" is the rest: reading and mapping the export, the bulk load, compaction '
        "and the checkpoint."
    )
    append_results(
        "Load (issue 2)",
        "python -m bench.load --sizes " + " ".join(map(str, args.sizes)),
        markdown_table(header, rows),
        notes,
    )


if __name__ == "__main__":
    main()
