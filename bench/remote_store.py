"""Issue 15: the remote store backend (Virtuoso) against the embedded store, and against Virtuoso queried directly.

One generated export of N datasets (``bench.common.generated_export``) is loaded with ``dfl load`` twice, into
a fresh embedded data directory and into a data directory whose store is a fresh local Virtuoso started for the
run (``dfl_graph/backends/local_virtuoso.py``: its own database under ``bench/work``, stopped at the end; the
catalogue reaches it through ``DFL_STORE``, as docs/deployment.md sets it). Each load is timed (wall, peak RSS
and CPU of the command; Virtuoso's own CPU read from ``/proc``); then the same export with 1% of the datasets
changed (``bench.harvest.changed_export``) is loaded again into both (written in place), timed the same way.

Both catalogues are then served by ``dfl serve`` (gunicorn, its default 4 web processes) and three endpoints get
the unique-query SPARQL mix (``bench.sparql``'s mix, or with ``--mix catalogue`` ``bench.sparql_catalogue``'s;
every query text new: varied parameters and a random nonce), 4 clients each a process of its own, interleaved
rounds:

* ours, embedded: our endpoint on the embedded backend;
* ours, Virtuoso: our endpoint on the Virtuoso backend (it sends each query to Virtuoso with the public graphs'
  stored names as the dataset and its time limit);
* Virtuoso direct: Virtuoso's own ``/sparql``, sent the same texts with the same dataset (the public graphs'
  stored names as ``default-graph-uri``/``named-graph-uri``) and the same time limit: the same public quads.

Reported: throughput, p50/p99, timeouts and other statuses per endpoint and per kind, and the issue's overhead,
Virtuoso direct / ours on Virtuoso throughput (target <= 1.2x). Rows are compared across the three on one query
of each kind of ``bench.sparql_catalogue`` (totally ordered, so they must be identical). Last, catalogue pages
(page 1 and a deep page, repeated and first requests: ``bench.linked_data.page_rows``) and dataset documents
(first request and repeated) p50 on both backends.

python -m bench.remote_store                                  # 100,000 datasets, 30 s per endpoint in 3 rounds
python -m bench.remote_store --n 2000 --duration 4 --rounds 1  # a quick run
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests

from bench.common import DFL, WORK, Run, append_results, generated_export, markdown_table, timed
from bench.harvest import changed_export
from bench.linked_data import TURTLE, ensure_free, page_rows, sequential
from bench.load import built, current
from bench.sparql import (
    CLIENTS,
    JSON,
    MIX_KINDS,
    PREFIXES,
    Outcome,
    drive,
    endpoint_vocabulary,
    merge,
    mix_query,
    process,
    summary_row,
    unique_queries,
    wait_for,
)
from bench.sparql_catalogue import KINDS, catalogue_query, compare_engines, title_words, unique_mix
from dfl_graph.backends import local_virtuoso
from dfl_graph.generations import Manifest

EMBEDDED_PORT = 8811
REMOTE_PORT = 8812
VIRTUOSO_HTTP_PORT = 8813
VIRTUOSO_SQL_PORT = 1121
BASE = "http://data.london.bench"  # both catalogues: the same IRIs, so their answers compare row for row
SOURCE = "datapress"
DOCUMENTS = 50  # distinct dataset documents, each requested once, per backend
EMBEDDED, REMOTE, DIRECT = "ours, embedded", "ours, Virtuoso", "Virtuoso direct"


def virtuoso_cpu(directory: Path) -> float:
    """User + system CPU seconds of the Virtuoso server whose database is ``directory`` (0 if not found)."""
    ini = str(directory / "virtuoso.ini").encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if ini not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def load(data_dir: Path, export: Path, env: dict[str, str], virtuoso_dir: Path | None) -> tuple[Run, float, float]:
    """``dfl load`` of the export into ``data_dir``: the run, the index builders' wall time, Virtuoso's CPU."""
    before = virtuoso_cpu(virtuoso_dir) if virtuoso_dir else 0.0
    command = ["load", "datapress", str(export), "--source", SOURCE, "--store", str(data_dir)]
    run = timed([*DFL, "--base", BASE, *command], env)
    used = virtuoso_cpu(virtuoso_dir) - before if virtuoso_dir else 0.0
    return run, built(data_dir).get("all_indexes", float("nan")), used


def direct_url(virtuoso: local_virtuoso.LocalVirtuoso, data_dir: Path, timeout: float) -> str:
    """Virtuoso's /sparql with the dataset and time limit our endpoint sends it (as URL parameters, so that a
    client posting only ``query`` sends them too)."""
    manifest = Manifest.from_file(current(data_dir) / "manifest.json")
    stored = [manifest.stored[g] for g in manifest.public_graphs if g in manifest.stored]
    params = [("default-graph-uri", g) for g in stored] + [("named-graph-uri", g) for g in stored]
    params.append(("timeout", str(int(timeout * 1000))))
    return f"{virtuoso.url}/sparql?{urlencode(params)}"


def count_triples(url: str) -> int | str:
    response = requests.post(
        url, data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}, headers={"Accept": JSON}, timeout=600
    )
    if not response.ok:
        return f"HTTP {response.status_code}"
    counted = int(response.json()["results"]["bindings"][0]["n"]["value"])
    return f"{counted} (partial: cut at the time limit)" if response.headers.get("X-SQL-State") else counted


def sparql_mix(v) -> Callable[[int], tuple[str, str, str]]:
    """bench.sparql's unique queries, with their kind, and a random nonce: new texts in every round too."""
    generators = [unique_queries(v, seed) for seed in range(CLIENTS)]
    counters = [0] * CLIENTS

    def next_query(number: int) -> tuple[str, str, str]:
        text, accept = next(generators[number])
        kind = MIX_KINDS[counters[number] % len(MIX_KINDS)]
        counters[number] += 1
        return f"{text}-{random.random()}", accept, kind

    return next_query


def answered_by(url: str, samples: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Which of our components answered one query of each kind (X-DFL-Answered-By)."""
    found = {}
    for kind, (text, accept) in samples.items():
        response = requests.post(url, data={"query": text + "\n# answered-by"}, headers={"Accept": accept}, timeout=600)
        found[kind] = response.headers.get("X-DFL-Answered-By", f"HTTP {response.status_code}")
    return found


def documents(host_port: str, paths: list[str]) -> tuple[float, float]:
    """p50 ms of dataset documents: each of ``paths`` once (first requests), and the first one repeated."""
    first = [ms for path in paths for ms in sequential(host_port, path, TURTLE, 1).latencies_ms]
    for _ in range(8):  # every web process has it cached
        sequential(host_port, paths[0], TURTLE, 1)
    repeated = sequential(host_port, paths[0], TURTLE, 100).latencies_ms
    return sorted(first)[len(first) // 2], sorted(repeated)[len(repeated) // 2]


def total_datasets(base_url: str) -> int:
    response = requests.get(base_url + "/catalog.json", params={"page": 1, "per_page": 1}, timeout=600)
    response.raise_for_status()
    return int(response.json()["total"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="datasets in the generated catalogue")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of the mix per endpoint")
    parser.add_argument("--rounds", type=int, default=3, help="the endpoints are interleaved in this many rounds")
    parser.add_argument("--timeout", type=float, default=10.0, help="the query time limit (ours and Virtuoso's)")
    parser.add_argument("--mix", choices=("sparql", "catalogue"), default="sparql", help="which unique-query mix")
    args = parser.parse_args()
    command = "python -m bench.remote_store " + " ".join(sys.argv[1:])
    started = time.perf_counter()
    for port in (EMBEDDED_PORT, REMOTE_PORT, VIRTUOSO_HTTP_PORT, VIRTUOSO_SQL_PORT):
        ensure_free(port)
    export = generated_export(args.n)
    work = WORK / f"remote-store-{args.n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    embedded_dir, remote_dir, virtuoso_dir = work / "embedded", work / "on-virtuoso", work / "virtuoso"
    revised = work / "export-changed.json"
    changed = changed_export(export, 0.01, revised)
    env = {"DFL_QUERY_TIMEOUT": str(args.timeout)}
    loads: list[list[object]] = []
    timings: dict[str, float] = {}
    with local_virtuoso.running(virtuoso_dir, VIRTUOSO_HTTP_PORT, VIRTUOSO_SQL_PORT) as virtuoso:
        remote_env = {**env, "DFL_STORE": virtuoso.store_url}
        for label, file in (("full load", export), (f"re-load, {changed:,} changed (1%)", revised)):
            for backend, data_dir, backend_env, vdir in (
                ("embedded", embedded_dir, env, None),
                ("Virtuoso", remote_dir, remote_env, virtuoso_dir),
            ):
                run, builders, vcpu = load(data_dir, file, backend_env, vdir)
                timings[f"{label}/{backend}"] = run.seconds
                loads.append(
                    [
                        label,
                        backend,
                        f"{run.seconds:.1f}",
                        f"{builders:.1f}",
                        f"{run.cpu_seconds:.0f}",
                        f"{vcpu:.0f}" if vdir else "",
                        f"{run.peak_rss_mb:,.0f}",
                    ]
                )
        phases = {"loads": time.perf_counter() - started}
        print(f"loads done after {phases['loads']:.0f} s", flush=True)
        serve = [*DFL, "--base", BASE, "serve", "--port"]
        with (
            process(
                [*serve, str(EMBEDDED_PORT), "--store", str(embedded_dir), "--no-default"], work / "embedded.log", env
            ),
            process(
                [*serve, str(REMOTE_PORT), "--store", str(remote_dir), "--no-default"], work / "remote.log", remote_env
            ),
        ):
            servers = {EMBEDDED: f"127.0.0.1:{EMBEDDED_PORT}", REMOTE: f"127.0.0.1:{REMOTE_PORT}"}
            for host_port in servers.values():
                wait_for(f"http://{host_port}/healthz")
            urls = {name: f"http://{host_port}/sparql" for name, host_port in servers.items()}
            urls[DIRECT] = direct_url(virtuoso, remote_dir, args.timeout)
            sizes = {name: count_triples(url) for name, url in urls.items()}
            v = endpoint_vocabulary(urls[EMBEDDED], BASE)
            words = title_words(urls[EMBEDDED])
            same = {"ours": urls[EMBEDDED], REMOTE: urls[REMOTE], DIRECT: urls[DIRECT]}  # "ours": the reference
            findings = compare_engines(same, v, words, args.n)
            if args.mix == "sparql":
                kinds = MIX_KINDS
                samples = {kind: mix_query(i, v, random.Random(i)) for i, kind in enumerate(MIX_KINDS)}

                def mix() -> Callable[[int], tuple]:
                    return sparql_mix(v)
            else:
                kinds = KINDS
                samples = {kind: catalogue_query(kind, v, words, args.n, random.Random(kind)) for kind in KINDS}
                samples = {kind: (PREFIXES + text, accept) for kind, (text, accept) in samples.items()}

                def mix() -> Callable[[int], tuple]:
                    return unique_mix(v, words, args.n)

            sources = {name: answered_by(urls[name], samples) for name in (EMBEDDED, REMOTE)}
            phases["servers and checks"] = time.perf_counter() - started - sum(phases.values())
            print(f"checks done after {time.perf_counter() - started:.0f} s", flush=True)
            runs: dict[str, list[Outcome]] = {}
            slice_ = args.duration / args.rounds
            for _round in range(args.rounds):
                for name, url in urls.items():
                    runs.setdefault(name, []).append(drive(url, mix(), slice_, CLIENTS, processes=True))
            phases["mix"] = time.perf_counter() - started - sum(phases.values())
            print(f"mix done after {time.perf_counter() - started:.0f} s", flush=True)
            pages: list[list[object]] = []
            docs: list[list[object]] = []
            deep = 1
            paths = [
                urlsplit(iri).path for iri in random.Random(15).sample(v.datasets, min(DOCUMENTS, len(v.datasets)))
            ]
            for name, host_port in servers.items():
                total = total_datasets(f"http://{host_port}")
                deep, rows = page_rows(host_port, total, 4)
                pages += [[name, f"{total:,}", *row] for row in rows]
                first, repeated = documents(host_port, paths)
                docs.append([name, f"{first:.1f}", f"{repeated:.1f}"])
    wall = time.perf_counter() - started
    phases["pages and documents, stopping"] = wall - sum(phases.values())

    results = {name: merge(outcomes) for name, outcomes in runs.items()}
    table = markdown_table(
        ["load", "backend", "wall s", "index builders s (wall)", "CPU s (dfl)", "CPU s (Virtuoso)", "peak RSS MB"],
        loads,
    )
    table += "\n\n" + markdown_table(
        ["endpoint (unique-query mix)", "queries/s", "p50 ms", "p99 ms", "answered (200)", "other statuses"],
        [summary_row(name, outcome) for name, outcome in results.items()],
    )
    table += "\n\n" + markdown_table(
        ["kind", *(f"{name} p50 ms" for name in results), *(f"{name}: answered by" for name in sources)],
        [
            [
                kind,
                *(f"{outcome.percentile(50, kind) * 1000:.1f}" for outcome in results.values()),
                *(found[kind] for found in sources.values()),
            ]
            for kind in kinds
        ],
    )
    table += "\n\n" + markdown_table(
        ["backend", "datasets listed", "pages (Turtle, 100 per page)", "page 1 p50 ms", f"page {deep} p50 ms", "ratio"],
        pages,
    )
    table += "\n\n" + markdown_table(
        ["dataset documents (Turtle)", f"first request p50 ms ({len(paths)} documents)", "repeated p50 ms"], docs
    )
    overhead = results[DIRECT].qps / max(results[REMOTE].qps, 1e-9)
    timeouts = {name: outcome.statuses.get(504, 0) for name, outcome in results.items()}
    checks = [
        f"**overhead, Virtuoso direct / ours on Virtuoso throughput: {overhead:.2f}x** (target <= 1.2x: "
        f"{'met' if overhead <= 1.2 else 'not met'}); ours embedded / ours on Virtuoso: "
        f"{results[EMBEDDED].qps / max(results[REMOTE].qps, 1e-9):.2f}x",
        f"timeouts (504): {timeouts}",
        f"triples in each endpoint's default graph (the public graphs): {sizes}",
        "rows across the three (one query of each kind of bench.sparql_catalogue, reference: ours embedded): "
        + "; ".join(findings),
        "re-load with 1% changed, of the full load: "
        + ", ".join(
            f"{b} {timings[f're-load, {changed:,} changed (1%)/{b}'] / timings[f'full load/{b}']:.1%}"
            for b in ("embedded", "Virtuoso")
        ),
        f"the whole run took {wall:.0f} s (" + ", ".join(f"{name} {s:.0f} s" for name, s in phases.items()) + ")",
    ]
    about = " ".join(
        f"""
        {args.n:,} generated datasets (`dfl generate`), one source, base {BASE} on both backends. Loads: the whole
        `dfl load` command (read, map, write, publish with every index the backend has: on Virtuoso the graphs are
        uploaded with the Graph Store Protocol and the embedded SPARQL store and its shape index are not built);
        "CPU s (dfl)" is the command's, Virtuoso's own work is the next column (not comparable one to one: on
        Virtuoso the store's work is in the server). The re-load is `dfl load` of the same export with every 100th
        dataset's title and update time changed (bench.harvest's changed export), written in place. Mix:
        {"bench.sparql's unique queries" if args.mix == "sparql" else "bench.sparql_catalogue's questions"}
        ({", ".join(kinds)}), every text new, {CLIENTS} client processes, {args.duration:g} s per endpoint in
        {args.rounds} interleaved rounds, time limit {args.timeout:g} s (ours: `DFL_QUERY_TIMEOUT`; Virtuoso direct:
        its `timeout` parameter, as ours sends it). Our embedded endpoint answers some kinds from its shape index
        ("answered by": `index`); on Virtuoso every query goes to the store (`engine`), so "Virtuoso direct" against
        "ours, Virtuoso" is the same engine on the same quads with and without our endpoint in front (one more HTTP
        hop, parsing, the dataset rewrite, re-serialising the answer). Pages and documents: `dfl serve`, 4 web
        processes; "repeated" after every process has seen the page, "first request" pages near each end and
        {len(paths)} documents requested once each (the same ones on both backends). Everything shares the
        machine's cores: the clients, both servers and Virtuoso. Virtuoso's default graph over several graphs
        is a bag, not the merge: a triple held in two public graphs counts twice in its COUNT(*), so its triple
        count can exceed the embedded one on the same quads.
        """.split()
    )
    notes = "\n".join(f"- {c}" for c in checks) + "\n\n" + about
    append_results(f"Issue 15: the Virtuoso backend at {args.n} datasets", command, table, notes)


if __name__ == "__main__":
    main()
