"""Issue 13: web worker memory under a long mixed load. Each gunicorn worker's RSS, sampled while a mixed request
load runs (dataset documents in every format and JSON-LD profile, catalogue pages, search pages and the search API,
SPARQL queries that miss the cache, publisher pages, the home page), against the worker's documented cache
budgets (docs/linked-data.md, "What a web worker holds") + 200 MB.

python -m bench.soak --store bench/work/load-100000 [--minutes 30] [--clients 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import requests

from bench.common import DFL, ROOT, append_results, markdown_table
from dfl_graph.config import Settings
from dfl_graph.sparql.limits import Limits
from dfl_graph.store import CatalogueReader
from dfl_graph.web.documents import DOCUMENT_TRIPLES_BYTES, LABEL_TRIPLES_BYTES

MB = 2**20
ACCEPTS = [
    "text/html",
    "text/turtle",
    "application/ld+json",
    'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"',
    'application/ld+json;profile="http://www.w3.org/ns/json-ld#flattened"',
    "application/rdf+xml",
    "application/n-triples",
    "application/json",
]
WORDS = ["crime", "transport", "population", "housing", "air", "schools", "budget", "planning", "health", "waste"]
SPARQL = (
    "PREFIX dct: <http://purl.org/dc/terms/> PREFIX dcat: <http://www.w3.org/ns/dcat#> "
    'SELECT ?d ?t WHERE {{ ?d a dcat:Dataset ; dct:title ?t . FILTER(CONTAINS(LCASE(?t), "{word}")) }} '
    "LIMIT {limit}"
)


def budget_mb() -> float:
    """The caches a web worker may fill, by their documented budgets."""
    settings = Settings()
    caches = settings.document_cache_bytes + DOCUMENT_TRIPLES_BYTES + LABEL_TRIPLES_BYTES
    caches += Limits.from_settings(settings).cache_bytes
    return caches / MB


def memory_mb(pid: int) -> dict[str, float]:
    """A process's resident memory (VmRSS) and its parts: private anonymous memory (RssAnon: the heap, what the
    process holds) and file pages mapped into it (RssFile: store and index files read through mmap; the kernel's
    page cache, shared between workers and dropped under memory pressure)."""
    fields = {"VmRSS:", "RssAnon:", "RssFile:"}
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {f[0][:-1]: int(f[1]) / 1024 for f in (line.split() for line in lines) if f and f[0] in fields}


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(c) for c in children)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_paths(store: Path) -> tuple[list[str], list[str], int]:
    snapshot = CatalogueReader(store).snapshot()
    db = sqlite3.connect(f"file:{snapshot.index_dir / 'catalogue.sqlite'}?mode=ro", uri=True)
    slugs = [row[0] for row in db.execute("SELECT slug FROM datasets ORDER BY random() LIMIT 20000")]
    publishers = [row[0] for row in db.execute("SELECT DISTINCT value FROM facets WHERE facet = 'publisher'")]
    total = db.execute("SELECT COUNT(*) FROM datasets").fetchone()[0]
    return slugs, [p.rsplit("/", 1)[-1] for p in publishers], total


def client(url: str, deadline: float, slugs: list[str], publishers: list[str], pages: int, counts: dict) -> None:
    session = requests.Session()
    rng = random.Random(threading.get_ident())
    while time.monotonic() < deadline:
        kind = rng.random()
        headers = {}
        if kind < 0.5:
            path = f"/dataset/{rng.choice(slugs)}"
            headers["Accept"] = rng.choice(ACCEPTS)
        elif kind < 0.6:
            path = f"/catalog?page={rng.randint(1, pages)}&per_page=100"
            headers["Accept"] = rng.choice(ACCEPTS[:3])
        elif kind < 0.75:
            path = f"/search?q={rng.choice(WORDS)}+{rng.choice(WORDS)}&page={rng.randint(1, 5)}"
        elif kind < 0.85:
            path = f"/api/search?q={rng.choice(WORDS)}&per_page=50"
        elif kind < 0.95:
            query = SPARQL.format(word=rng.choice(WORDS) + rng.choice("abcdefghij"), limit=rng.randint(10, 500))
            path = "/sparql?" + requests.compat.urlencode({"query": query})
            headers["Accept"] = "application/sparql-results+json"
        elif kind < 0.98:
            path = f"/publisher/{rng.choice(publishers)}?page={rng.randint(1, 3)}"
        else:
            path = "/"
        try:
            status = session.get(url + path, headers=headers, timeout=60).status_code
        except requests.RequestException:
            status = 0
        counts[status] = counts.get(status, 0) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=ROOT / "bench" / "work" / "load-100000")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--print-only", action="store_true", help="print the results, do not record them")
    args = parser.parse_args()
    store = args.store.resolve()
    slugs, publishers, total = sample_paths(store)
    base = CatalogueReader(store).snapshot().manifest.base
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (store.parent / f"soak-{port}.log").open("w")
    server = subprocess.Popen(
        [*DFL, "--base", base, "serve", "--store", str(store), "--port", str(port), "--workers", str(args.workers)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for _ in range(300):
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        workers = workers_of(server.pid)
        started = time.monotonic()
        deadline = started + args.minutes * 60
        counts: dict[int, int] = {}
        clients = [
            threading.Thread(target=client, args=(url, deadline, slugs, publishers, total // 100, counts))
            for _ in range(args.clients)
        ]
        samples: list[tuple[float, list[dict[str, float]]]] = [(0.0, [memory_mb(w) for w in workers])]
        for thread in clients:
            thread.start()
        while time.monotonic() < deadline:
            time.sleep(min(15, max(0.1, deadline - time.monotonic())))
            samples.append(((time.monotonic() - started) / 60, [memory_mb(w) for w in workers_of(server.pid)]))
        for thread in clients:
            thread.join()
        restarted = workers_of(server.pid) != workers
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    limit = budget_mb() + 200
    marks = [0, 1, 5, 10, 20, 30]
    rows = []
    for number in range(len(workers)):
        series = [(minute, memory[number]) for minute, memory in samples if number < len(memory)]
        at = [min(series, key=lambda s, m=m: abs(s[0] - m))[1]["VmRSS"] for m in marks if m <= args.minutes + 0.01]
        peak = max(series, key=lambda s: s[1]["VmRSS"])[1]
        rows.append(
            [
                f"worker {number + 1}",
                *[f"{r:,.0f}" for r in at],
                f"{peak['VmRSS']:,.0f} ({peak['RssAnon']:,.0f} + {peak['RssFile']:,.0f})",
                f"{limit:,.0f}",
                "**yes**" if peak["VmRSS"] <= limit else "**no**",
            ]
        )
    header = [
        "",
        *[f"RSS MB at {m} min" for m in marks if m <= args.minutes + 0.01],
        "peak MB (anonymous + file-mapped)",
        "limit MB",
        "within",
    ]
    requests_made = sum(counts.values())
    notes = (
        f"{requests_made:,} requests by {args.clients} clients over {args.minutes:g} minutes on a {total:,}-dataset "
        f"catalogue ({args.workers} gunicorn workers); statuses: "
        + ", ".join(f"{code}: {n:,}" for code, n in sorted(counts.items()))
        + f". Limit: the caches' budgets ({budget_mb():,.0f} MB: finished documents, document triples, labels, "
        "SPARQL answers) + 200 MB." + (" A worker was restarted during the run." if restarted else "")
    )
    table = markdown_table(header, rows)
    if args.print_only:
        print(table, notes, sep="\n\n")
        return
    append_results(
        "Web worker memory soak (issue 13)", f"python -m bench.soak --minutes {args.minutes:g}", table, notes
    )


if __name__ == "__main__":
    main()
