"""Issue 14: what one publisher write costs (validate + publish one dataset), at a catalogue size.

Loads a generated DataPress export of ``--datasets`` datasets, then a publisher creates or replaces one dataset
``--writes`` times (alternating: a new one, then a replacement of it). Timed two ways: the write in this process
(:func:`dfl_graph.publishing.run_write`: open the writer, map, authorise, SHACL-validate, one in-place delta,
publish the generation with its indexes updated from the delta), and as the web runs it
(:func:`dfl_graph.publishing.write`: the same in a freshly spawned process). The target is p50 <= 1 s at
100,000 datasets.

python -m bench.publisher_writes [--datasets 100000] [--writes 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import DFL, append_results, generated_export, markdown_table, timed

BASE = "http://127.0.0.1:8804"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=20, help="writes timed each way")
    args = parser.parse_args()

    from dfl_graph.accounts import open_directory
    from dfl_graph.config import Settings
    from dfl_graph.publishing import WriteRequest, run_write, write

    export = generated_export(args.datasets)
    with tempfile.TemporaryDirectory(prefix="dfl-bench-writes-") as tmp:
        data_dir = Path(tmp) / "catalogue"
        timed([*DFL, "--base", BASE, "load", "datapress", str(export), "--source", "bench", "--store", str(data_dir)])
        settings = Settings(data_dir=data_dir, base=BASE)
        directory = open_directory(settings)
        account = directory.ensure_account("bench@tfl.gov.uk")
        directory.add_grant("bench", "publisher", account=account.id, organisation="tfl")
        visibility = directory.visibility_of(directory.account(account.id))
        samples: dict[str, list[float]] = {"in process": [], "spawned (as the web runs it)": []}
        for way, run in (("in process", run_write), ("spawned (as the web runs it)", write)):
            for n in range(args.writes):
                name = f"bench-write-{way[:2]}-{n // 2}"
                package = {
                    "name": name,
                    "title": f"Benchmark dataset {n // 2}" + (" (replaced)" if n % 2 else ""),
                    "notes": "Written by bench/publisher_writes.py.",
                    "owner_org": "tfl",
                    "license_id": "OGL-UK-3.0",
                    "groups": [{"name": "transport"}],
                    "resources": [{"url": f"https://example.org/{name}.csv", "format": "CSV"}],
                }
                request = WriteRequest("write", account.id, visibility, package=package, via="bench")
                started = time.perf_counter()
                outcome = run(settings, request)
                samples[way].append(time.perf_counter() - started)
                if not outcome.ok:
                    raise SystemExit(f"write refused: {outcome.status} {outcome.message}")

    rows = [
        [way, args.writes, f"{statistics.median(s):.3f} s", f"{sorted(s)[int(len(s) * 0.9)]:.3f} s"]
        for way, s in samples.items()
    ]
    append_results(
        f"Publisher writes: one dataset created or replaced at {args.datasets:,} datasets",
        f"python -m bench.publisher_writes --datasets {args.datasets} --writes {args.writes}",
        markdown_table(["how", "writes", "p50", "p90"], rows),
    )


if __name__ == "__main__":
    main()
