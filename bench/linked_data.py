"""Issue 3: linked-data publishing, side by side with ``oxigraph serve``.

* dataset documents (Turtle and JSON-LD): requests/s, p50 and p99 from the production server (``dfl serve``:
  gunicorn, several workers) against ``oxigraph serve-read-only`` answering the equivalent CONSTRUCT
  (``queries/dataset-document.rq`` with the dataset IRI written in) over the same data: our public graphs,
  dumped as N-Quads from ``/catalog.nq`` and loaded with ``oxigraph load``, queried as the union graph;
* the same documents on first request (each document once: our document cache is empty for it);
* catalogue pages (Turtle, 100 per page): p50 of page 1 and of page 1000 (the last page at 100k) and their
  ratio, repeated (cached) and on first request (distinct pages near the start and near the end).

The load generator is a few client processes, each with threads holding keep-alive ``http.client``
connections to 127.0.0.1, bounded in requests and in seconds.

python -m bench.linked_data [--n 100000] [--workers 4] [--seconds 15]
python -m bench.linked_data --n 2000     # a quick smoke run
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench.common import DFL, ROOT, WORK, append_results, generated_export, markdown_table

OUR_PORT = 8801
OXIGRAPH_PORT = 8802
PER_PAGE = 100
DEEP_PAGE = 1000
CLIENT_PROCESSES = 2
THREADS_PER_PROCESS = 4
SAMPLE = 2000
MAX_REQUESTS = 200_000
DEFAULT_CATALOGUE = ROOT / "data" / "london-datastore-2010" / "london-datastore-2010-datasets.csv"
TURTLE, JSON_LD = "text/turtle", "application/ld+json"


@dataclass
class Measured:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    cache_hits: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- the load generator ---------------------------------------------------------------------------------
def _client(args: tuple[str, list[str], str, float, int, int]) -> tuple[int, list[float], int, float, int]:
    """One client process: threads with keep-alive connections, each walking its share of the targets."""
    import threading

    host_port, targets, accept, seconds, max_requests, threads = args
    host, port = host_port.split(":")
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = [0]
    count = [0]
    hits = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        local: list[float] = []
        i = offset
        while time.perf_counter() < deadline:
            with lock:
                if count[0] >= max_requests:
                    break
                count[0] += 1
            target = targets[i % len(targets)]
            i += threads
            started = time.perf_counter()
            try:
                connection.request("GET", target, headers={"Accept": accept})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
                if response.getheader("X-Cache") == "hit":
                    hits[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=60)
                continue
            local.append((time.perf_counter() - started) * 1000)
        connection.close()
        with lock:
            latencies.extend(local)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return len(latencies), latencies, errors[0], time.perf_counter() - started, hits[0]


def load(host_port: str, targets: list[str], accept: str, seconds: float, max_requests: int = MAX_REQUESTS) -> Measured:
    """Drive a server with CLIENT_PROCESSES x THREADS_PER_PROCESS keep-alive connections."""
    shares = [share for share in (targets[n::CLIENT_PROCESSES] for n in range(CLIENT_PROCESSES)) if share]
    per_process = max_requests // CLIENT_PROCESSES
    with ProcessPoolExecutor(CLIENT_PROCESSES) as pool:
        results = list(
            pool.map(
                _client, [(host_port, share, accept, seconds, per_process, THREADS_PER_PROCESS) for share in shares]
            )
        )
    latencies = [ms for _, lat, _, _, _ in results for ms in lat]
    return Measured(
        len(latencies), max(r[3] for r in results), latencies, sum(r[2] for r in results), sum(r[4] for r in results)
    )


def once_each(host_port: str, targets: list[str], accept: str) -> Measured:
    """Every target exactly once (first requests: nothing cached), with the same concurrency."""
    return load(host_port, targets, accept, seconds=3600, max_requests=len(targets))


def sequential(host_port: str, target: str, accept: str, repeats: int) -> Measured:
    host, port = host_port.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    latencies, errors = [], 0
    started = time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        connection.request("GET", target, headers={"Accept": accept})
        response = connection.getresponse()
        response.read()
        errors += response.status != 200
        latencies.append((time.perf_counter() - t) * 1000)
    connection.close()
    return Measured(repeats, time.perf_counter() - started, latencies, errors)


# -- servers ------------------------------------------------------------------------------------------------
def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    parts = urlsplit(url)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
            connection.request("GET", parts.path or "/")
            if connection.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up: {log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def oxigraph_cli() -> str:
    """The ``oxigraph`` command from PyPI, installed into this venv if missing."""
    found = Path(sys.executable).parent / "oxigraph"
    if not found.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "oxigraph"], check=True)
    return str(found)


def prepare_store(n: int, base: str) -> Path:
    """The default catalogue plus n generated datasets, loaded once for this base and reused."""
    data_dir = WORK / f"linked-data-{n}" / "catalogue"
    manifest = sorted((data_dir / "generations").glob("*/manifest.json"))[-1:] if data_dir.exists() else []
    ready = data_dir / "READY"
    if ready.exists() and manifest and json.loads(manifest[0].read_text())["base"] == base:
        return data_dir
    shutil.rmtree(data_dir.parent, ignore_errors=True)
    data_dir.parent.mkdir(parents=True)
    export = generated_export(n)
    for args in (
        ["lds2010", str(DEFAULT_CATALOGUE), "--source", "london-datastore-2010"],
        ["datapress", str(export), "--source", "generated"],
    ):
        subprocess.run([*DFL, "--base", base, "load", *args, "--store", str(data_dir)], check=True, cwd=ROOT)
    ready.write_text("ok\n")
    return data_dir


def ensure_free(port: int) -> None:
    """Refuse to measure whatever else is listening on our port."""
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"port {port} is already in use: stop what is listening there first")


def start_ours(data_dir: Path, base: str, workers: int) -> tuple[subprocess.Popen, Path]:
    ensure_free(OUR_PORT)
    log = data_dir.parent / "dfl-serve.log"
    process = subprocess.Popen(
        [
            *DFL,
            "--base",
            base,
            "serve",
            "--store",
            str(data_dir),
            "--port",
            str(OUR_PORT),
            "--workers",
            str(workers),
            "--no-default",
        ],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "DFL_DOCUMENT_CACHE_BYTES": str(256_000_000)},
    )
    wait_for(base + "/healthz", process, log)
    return process, log


def start_oxigraph(data_dir: Path, base: str) -> tuple[subprocess.Popen, Path]:
    cli = oxigraph_cli()
    directory = data_dir.parent / "oxigraph"
    dump = data_dir.parent / "public.nq"
    log = data_dir.parent / "oxigraph.log"
    if not (directory / "LOADED").exists():
        shutil.rmtree(directory, ignore_errors=True)
        parts = urlsplit(base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        connection.request("GET", "/catalog.nq")
        response = connection.getresponse()
        with dump.open("wb") as out:
            shutil.copyfileobj(response, out)
        subprocess.run(
            [cli, "load", "--location", str(directory), "--file", str(dump)], check=True, capture_output=True
        )
        (directory / "LOADED").write_text("ok\n")
    ensure_free(OXIGRAPH_PORT)
    process = subprocess.Popen(
        [
            cli,
            "serve-read-only",
            "--location",
            str(directory),
            "--bind",
            f"127.0.0.1:{OXIGRAPH_PORT}",
            "--union-default-graph",
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for(f"http://127.0.0.1:{OXIGRAPH_PORT}/query?query=ASK%7B%7D", process, log)
    return process, log


def construct_targets(iris: list[str]) -> list[str]:
    """oxigraph's equivalent of our dataset documents: the same CONSTRUCT with the IRI written in."""
    text = (ROOT / "queries" / "dataset-document.rq").read_text()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return ["/query?" + urlencode({"query": body.replace("?dataset", f"<{iri}>")}) for iri in iris]


# -- the run ---------------------------------------------------------------------------------------------------
def dataset_iris(host_port: str) -> list[str]:
    """Every public dataset IRI, read from the feed's JSON twin."""
    host, port = host_port.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    iris, page = [], 1
    while True:
        connection.request("GET", f"/catalog.json?page={page}&per_page=500")
        data = json.loads(connection.getresponse().read())
        iris += [item["iri"] for item in data["items"]]
        if not data["next"]:
            return iris
        page += 1


def document_rows(
    label: str, accept: str, ours: tuple[Measured, Measured], theirs: tuple[Measured, Measured]
) -> list[list]:
    rows = []
    for server, (cold, hot) in (("dfl serve", ours), ("oxigraph serve", theirs)):
        rows.append(
            [
                f"dataset document, {label}",
                server,
                f"{hot.rate:,.0f}",
                f"{hot.percentile(50):.1f}",
                f"{hot.percentile(99):.1f}",
                f"{cold.rate:,.0f}",
                f"{cold.percentile(50):.1f}",
                f"{cold.percentile(99):.1f}",
                hot.errors + cold.errors,
            ]
        )
    ratio_hot = ours[1].rate / theirs[1].rate if theirs[1].rate else float("nan")
    ratio_cold = ours[0].rate / theirs[0].rate if theirs[0].rate else float("nan")
    rows.append(
        [
            f"dataset document, {label}",
            "**dfl / oxigraph**",
            f"**{ratio_hot:.2f}x**",
            "",
            "",
            f"{ratio_cold:.2f}x",
            "",
            "",
            "",
        ]
    )
    return rows


def page_rows(host_port: str, total: int, workers: int) -> tuple[int, list[list]]:
    """Catalogue pages 1 and 1000 (or the last page, if fewer): repeated, and first requests near each end."""
    pages = -(-total // PER_PAGE)
    deep = min(DEEP_PAGE, pages)
    repeated = {}
    for page in (1, deep):
        for _ in range(workers * 2):  # every worker has seen it
            sequential(host_port, f"/catalog?page={page}", TURTLE, 1)
        repeated[page] = sequential(host_port, f"/catalog?page={page}", TURTLE, 200)
    span = max(1, min(20, (deep - 1) // 2))  # distinct pages near each end, never the same ones
    near_start = list(range(2, 2 + span))
    near_end = list(range(deep - span, deep))
    first_requests = {}
    for name, numbers in (("start", near_start), ("end", near_end)):
        measured = Measured(0, 0.0, [], 0)
        for page in numbers:
            measured.latencies_ms += sequential(host_port, f"/catalog?page={page}", TURTLE, 1).latencies_ms
        first_requests[name] = measured
    one, far = repeated[1], repeated[deep]
    start, end = first_requests["start"], first_requests["end"]
    rows = [
        [
            "repeated (cached)",
            f"{one.percentile(50):.1f}",
            f"{far.percentile(50):.1f}",
            f"{far.percentile(50) / one.percentile(50):.2f}",
        ],
        [
            f"first request (pages {near_start[0]}-{near_start[-1]} vs {near_end[0]}-{near_end[-1]})"
            if near_start and near_end
            else "first request",
            f"{start.percentile(50):.1f}",
            f"{end.percentile(50):.1f}",
            f"{end.percentile(50) / start.percentile(50):.2f}",
        ],
    ]
    return deep, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="generated datasets (plus the 249 default ones)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers of `dfl serve`")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each throughput run")
    parser.add_argument("--sample", type=int, default=SAMPLE, help="distinct dataset documents per run")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{OUR_PORT}"
    ours_hp, oxigraph_hp = f"127.0.0.1:{OUR_PORT}", f"127.0.0.1:{OXIGRAPH_PORT}"
    data_dir = prepare_store(args.n, base)
    ours, _ = start_ours(data_dir, base, args.workers)
    oxigraph = None
    rows: list[list] = []
    try:
        iris = dataset_iris(ours_hp)  # from the catalogue index: no document is built
        total = len(iris)
        deep, catalogue = page_rows(ours_hp, total, args.workers)  # first: every document cache is empty
        stop(ours)
        ours, _ = start_ours(data_dir, base, args.workers)  # empty caches again for the document runs
        oxigraph, _ = start_oxigraph(data_dir, base)
        random.Random(3).shuffle(iris)
        sample = min(args.sample, total // 3)
        hot_sample = iris[:sample]
        for number, (label, accept) in enumerate((("Turtle", TURTLE), ("JSON-LD", JSON_LD))):
            cold_sample = iris[sample * (number + 1) : sample * (number + 2)]  # never requested before
            cold_ours = once_each(ours_hp, [urlsplit(i).path for i in cold_sample], accept)
            cold_theirs = once_each(oxigraph_hp, construct_targets(cold_sample), accept)
            ours_paths, their_paths = [urlsplit(i).path for i in hot_sample], construct_targets(hot_sample)
            for _ in range(10 * args.workers):  # each worker caches for itself: warm until (nearly) all hit
                if once_each(ours_hp, ours_paths, accept).cache_hits >= 0.99 * len(ours_paths):
                    break
            once_each(oxigraph_hp, their_paths, accept)
            hot_ours = load(ours_hp, ours_paths, accept, args.seconds)
            hot_theirs = load(oxigraph_hp, their_paths, accept, args.seconds)
            rows += document_rows(label, accept, (cold_ours, hot_ours), (cold_theirs, hot_theirs))
    finally:
        stop(ours)
        if oxigraph is not None:
            stop(oxigraph)

    header = [
        "what",
        "server",
        "req/s (cached)",
        "p50 ms",
        "p99 ms",
        "req/s (first request)",
        "p50 ms",
        "p99 ms",
        "errors",
    ]
    table = markdown_table(header, rows)
    table += "\n\n" + markdown_table(
        ["catalogue pages (Turtle, 100 per page)", "page 1 p50 ms", f"page {deep} p50 ms", "ratio"], catalogue
    )
    command = "python -m bench.linked_data" + (f" --n {args.n}" if args.n != 100_000 else "")
    notes = (
        f"{total:,} public datasets; `dfl serve` with {args.workers} gunicorn workers (gthread, 4 threads) vs "
        "`oxigraph serve-read-only --union-default-graph` over the N-Quads dump of the same public graphs "
        "(`/catalog.nq`), answering `queries/dataset-document.rq` with the IRI written in; "
        f"{CLIENT_PROCESSES}x{THREADS_PER_PROCESS} keep-alive loopback clients on the same 2 cores; {sample:,} "
        f"distinct documents cycled for {args.seconds:.0f} s per cached run. *First request*: {sample:,} other "
        "documents (and pages) requested once each, so our per-worker document cache misses; oxigraph answers "
        "every request from its store. Our JSON-LD is compacted with the published context, oxigraph's expanded."
    )
    append_results("Issue 3: linked-data publishing (dataset documents, catalogue pages)", command, table, notes)


if __name__ == "__main__":
    main()
