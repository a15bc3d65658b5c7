"""Issue 14: what one publisher write costs (validate + publish one dataset), at a catalogue size.

Loads a generated DataPress export of ``--datasets`` datasets, then a publisher creates or replaces one dataset
``--writes`` times (alternating: a new one, then a replacement of it). Timed three ways: the write in this
process (:func:`dfl_graph.publishing.run_write`: open the writer, map, authorise, SHACL-validate, one in-place
delta, publish the generation with its indexes updated from the delta, copying the previous index files), and
as the web runs it (:func:`dfl_graph.publishing.write`: the same in a process forked from a clean forkserver,
then spare copies of the index files made in the background for the next write) back to back, and with
``--spacing`` seconds between writes (a publisher's form is not submitted many times a second: the spares
are ready). The target is p50 <= 1 s at 100,000 datasets.

python -m bench.publisher_writes [--datasets 100000] [--writes 20] [--spacing 5]
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
    parser.add_argument("--spacing", type=float, default=5.0, help="seconds between the spaced writes")
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
        ways = (
            ("in process, back to back (copies)", run_write, 0.0),
            ("as the web runs it, back to back", write, 0.0),
            (f"as the web runs it, {args.spacing:g} s apart", write, args.spacing),
        )
        samples: dict[str, list[float]] = {way: [] for way, _run, _spacing in ways}
        for number, (way, run, spacing) in enumerate(ways):
            for n in range(args.writes):
                time.sleep(spacing)
                name = f"bench-write-{number}-{n // 2}"
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
        f"python -m bench.publisher_writes --datasets {args.datasets} --writes {args.writes}"
        f" --spacing {args.spacing:g}",
        markdown_table(["how", "writes", "p50", "p90"], rows),
    )


if __name__ == "__main__":
    main()
