"""Issue 6: a full harvest of an n-dataset DataPress export served over local HTTP, then a re-harvest with 1%
of the datasets changed (target: at most 10% of the full harvest's time), then one with nothing changed.

python -m bench.harvest [--n 100000] [--changed 0.01]

Each harvest is the real `dfl harvest` command in its own process (timed with its peak RSS); the export is
served by a plain HTTP server in this process, from a file, as a portal would serve it. The table splits
each run into its phases as the harvest reports them (fetch, reading the stored state, hashing, mapping,
writing) and the index builders of the publish step.
"""

from __future__ import annotations

import argparse
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.common import DFL, WORK, append_results, generated_export, markdown_table, timed

PATH = "/api/v3/datasets/export.json"


class Portal:
    """Serves whichever export file is current at PATH."""

    def __init__(self) -> None:
        self.current: Path | None = None
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:
                if self.path != PATH or portal.current is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(portal.current.stat().st_size))
                self.end_headers()
                with portal.current.open("rb") as body:
                    shutil.copyfileobj(body, self.wfile, 1 << 20)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{PATH}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def changed_export(export: Path, share: float, out: Path) -> int:
    """The same export with every k-th dataset's title and update time changed; returns how many changed."""
    items = json.loads(export.read_text(encoding="utf-8"))
    step = max(1, round(1 / share)) if share > 0 else 0
    changed = 0
    for n, item in enumerate(items):
        if step and n % step == 0:
            item["title"] = item["title"] + " (revised)"
            item["updatedAt"] = "2026-11-01T09:00:00.000Z"
            changed += 1
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with out.open("w", encoding="utf-8") as handle:
        handle.write("[\n" + ",\n".join(encode(i) for i in items) + "\n]\n")
    return changed


def run(store: Path, config: Path) -> tuple[float, float, dict]:
    result = timed(
        [*DFL, "--base", "http://bench.test", "harvest", "--config", str(config), "--store", str(store), "--json"]
    )
    start = result.output.index("[")
    report = json.loads(result.output[start : result.output.rindex("]") + 1])[0]
    if report["status"] != "ok":
        raise RuntimeError(f"harvest failed: {report['error']}")
    return result.seconds, result.peak_rss_mb, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="datasets in the export (default 100000)")
    parser.add_argument("--changed", type=float, default=0.01, help="share of datasets changed for the re-harvest")
    args = parser.parse_args()
    n = args.n
    export = generated_export(n)
    work = WORK / f"harvest-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    revised = work / "export-changed.json"
    changed = changed_export(export, args.changed, revised)
    portal = Portal()
    config = work / "harvest.toml"
    config.write_text(f'[[source]]\nname = "bench"\ntype = "datapress"\nurl = "{portal.url}"\n')
    store = work / "store"

    portal.current = export
    full_s, full_rss, full = run(store, config)
    portal.current = revised
    again_s, again_rss, again = run(store, config)
    same_s, same_rss, same = run(store, config)

    phases = ("fetch", "state", "hash", "map", "write")
    builders = sorted({k for r in (full, again, same) for k in r["timings"] if k.startswith("index:")})

    def row(label: str, seconds: float, rss: float, report: dict) -> list[object]:
        t = report["totals"]
        timing = report["timings"]
        counts = (
            f"{t['new']:,} new, {t['updated']:,} updated, {t['unchanged']:,} unchanged, {t['withdrawn']:,} withdrawn"
        )
        return [
            label,
            f"{n:,}",
            counts,
            f"{seconds:.1f}",
            f"{seconds / full_s:.1%}",
            f"{rss:,.0f}",
            *(f"{timing.get(p, 0):.1f}" for p in phases),
            *(f"{timing.get(b, 0):.1f}" for b in builders),
        ]

    header = ["run", "datasets", "records", "wall s", "of full", "peak RSS MB", *(f"{p} s" for p in phases)]
    header += [f"{b.removeprefix('index:').removeprefix('build_')} s" for b in builders]
    table = markdown_table(
        header,
        [
            row("full harvest", full_s, full_rss, full),
            row(f"re-harvest, {changed:,} changed ({args.changed:.0%})", again_s, again_rss, again),
            row("re-harvest, nothing changed", same_s, same_rss, same),
        ],
    )
    ratio = again_s / full_s
    verdict = "met" if ratio <= 0.10 else "not met"
    notes = (
        f"Re-harvest with {args.changed:.0%} changed: **{ratio:.1%}** of the full harvest's time"
        f" (target ≤ 10%: {verdict}). "
        "Phases as `dfl harvest --json` reports them: fetch (HTTP + JSON parse), state (the source's stored hashes), "
        "hash (canonical JSON of every item), map (loader on new/changed items only), write (the store update and the "
        "whole publish step, which includes the index builders listed after it). An in-place write publishes "
        "`changes.json` (the datasets and quads it changed); the builders that read it update the previous "
        "generation's index instead of rebuilding it."
    )
    extra = "" if n == 100_000 else f" --n {n}"
    extra += "" if args.changed == 0.01 else f" --changed {args.changed}"
    append_results("Harvest: full and incremental (issue 6)", f"python -m bench.harvest{extra}", table, notes)


if __name__ == "__main__":
    main()
