"""Issue 4: the public SPARQL endpoint, side by side with `oxigraph serve` and Virtuoso, on the same data.

The catalogue (``dfl generate N`` + ``dfl load datapress``) is served by ``dfl serve`` (gunicorn, the
default 4 web processes); its public graphs are dumped as N-Quads and loaded into ``oxigraph serve-read-only
--union-default-graph`` (PyPI ``oxigraph``, installed if missing) and into Virtuoso (Debian
``virtuoso-opensource``, installed by scripts/install-system-deps, its own instance bound to 127.0.0.1). Each
endpoint gets the catalogue query mix (datasets by theme with counts, by publisher, recently modified,
keyword filter, describe one dataset, counts by borough, distributions by format) from 4 concurrent
clients, as the same query texts:

* unique queries: every request a new text (other parameters, and a nonce comment), so no cache helps;
* a repeated mix: 14 popular queries again and again;
* (ours only) the repeated mix with 5 runaway queries in flight: benign p99 against the unloaded p99, and
  the time every runaway took to be answered (limit + 2 s at most).

python -m bench.sparql                       # 100,000 datasets, 30 s per scenario
python -m bench.sparql --n 2000 --duration 8 --timeout 5   # a quick smoke run
python -m bench.sparql --only-runaways --rounds 6           # just ours, unloaded vs 5 runaways
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.common import DFL, ROOT, WORK, append_results, generated_export, markdown_table
from dfl_graph.backends import local_virtuoso

OURS_PORT = 8781
OXIGRAPH_PORT = 8782
VIRTUOSO_HTTP_PORT = 8783
VIRTUOSO_SQL_PORT = 1119
CLIENTS = 4
RUNAWAYS = 5
JSON = "application/sparql-results+json"
TURTLE = "text/turtle"
PREFIXES = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


# -- the query mix ---------------------------------------------------------------------------------------
@dataclass
class Vocabulary:
    """Parameter values found in the catalogue, for varied queries."""

    base: str
    themes: list[str]
    publishers: list[str]
    boroughs: list[str]
    datasets: list[str]
    keywords: list[str]
    formats: list[str]


def _select(url: str, query: str) -> list[dict]:
    response = requests.post(url, data={"query": query}, headers={"Accept": JSON}, timeout=600)
    response.raise_for_status()
    return response.json()["results"]["bindings"]


def vocabulary(values: Callable[[str, str], list[str]], base: str) -> Vocabulary:
    """Parameters for the mix, found with ``values(query, variable)`` (over HTTP or on a store)."""
    return Vocabulary(
        base,
        values(PREFIXES + f"SELECT ?t WHERE {{ ?t skos:inScheme <{base}/themes> }}", "t"),
        values(PREFIXES + "SELECT DISTINCT ?p WHERE { ?d dct:publisher ?p } LIMIT 200", "p"),
        values(PREFIXES + f"SELECT ?b WHERE {{ ?b skos:inScheme <{base}/boroughs> }}", "b"),
        values(PREFIXES + "SELECT ?d WHERE { ?d a dcat:Dataset } LIMIT 2000", "d"),
        values(PREFIXES + "SELECT DISTINCT ?k WHERE { ?d dcat:keyword ?k } LIMIT 300", "k"),
        values(PREFIXES + "SELECT DISTINCT ?f WHERE { ?x dct:format ?f } LIMIT 50", "f"),
    )


def endpoint_vocabulary(url: str, base: str) -> Vocabulary:
    return vocabulary(lambda query, var: [b[var]["value"] for b in _select(url, query) if var in b], base)


# The kinds of query in the mix, in the order of mix_query's `kind`.
MIX_KINDS = [
    "by theme",
    "by publisher",
    "recently modified",
    "keyword filter",
    "describe one",
    "by borough",
    "by format",
]


def mix_query(kind: int, v: Vocabulary, rng: random.Random) -> tuple[str, str]:
    """One query of the mix (kind: an index of MIX_KINDS) with parameters drawn from the catalogue: (text, Accept)."""
    if kind == 0:  # datasets by theme, with counts (all themes, or one)
        one = f"VALUES ?theme {{ <{rng.choice(v.themes)}> }}" if rng.random() < 0.5 else ""
        return (
            PREFIXES + "SELECT ?theme ?label (COUNT(?dataset) AS ?datasets) WHERE { "
            f"{one} ?theme skos:inScheme <{v.base}/themes> ; skos:prefLabel ?label . "
            "?dataset dcat:theme ?theme } GROUP BY ?theme ?label ORDER BY DESC(?datasets)",
            JSON,
        )
    if kind == 1:  # datasets of a publisher, newest first
        return (
            PREFIXES + "SELECT ?dataset ?title ?modified WHERE { "
            f"?dataset dct:publisher <{rng.choice(v.publishers)}> ; dct:title ?title ; dct:modified ?modified }} "
            "ORDER BY DESC(?modified) LIMIT 20",
            JSON,
        )
    if kind == 2:  # recently modified
        since = f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-01"
        return (
            PREFIXES + "SELECT ?dataset ?title ?modified WHERE { ?dataset a dcat:Dataset ; dct:title ?title ; "
            f'dct:modified ?modified FILTER(STR(?modified) >= "{since}") }} ORDER BY DESC(?modified) LIMIT 50',
            JSON,
        )
    if kind == 3:  # keyword filter
        keyword = rng.choice(v.keywords).lower()[:6]
        return (
            PREFIXES + "SELECT DISTINCT ?dataset ?title WHERE { ?dataset dcat:keyword ?k ; dct:title ?title "
            f'FILTER(CONTAINS(LCASE(STR(?k)), "{keyword}")) }} LIMIT 100',
            JSON,
        )
    if kind == 4:  # describe one dataset
        return f"DESCRIBE <{rng.choice(v.datasets)}>", TURTLE
    if kind == 5:  # counts by borough
        return (
            PREFIXES + "SELECT ?borough ?name (COUNT(?dataset) AS ?datasets) WHERE { "
            f"?borough skos:inScheme <{v.base}/boroughs> ; skos:prefLabel ?name . ?dataset dct:spatial ?borough }} "
            "GROUP BY ?borough ?name ORDER BY DESC(?datasets)",
            JSON,
        )
    one = f"VALUES ?format {{ <{rng.choice(v.formats)}> }}" if v.formats and rng.random() < 0.5 else ""
    return (  # distributions by format
        PREFIXES + f"SELECT ?format (COUNT(?distribution) AS ?distributions) WHERE {{ {one} "
        "?dataset dcat:distribution ?distribution . ?distribution dct:format ?format } "
        "GROUP BY ?format ORDER BY DESC(?distributions)",
        JSON,
    )


def unique_queries(v: Vocabulary, seed: int) -> Iterator[tuple[str, str]]:
    rng = random.Random(seed)
    for i in range(10**9):
        text, accept = mix_query(i % len(MIX_KINDS), v, rng)
        yield f"{text}\n# unique {seed}-{i}", accept


def popular_mix(v: Vocabulary) -> list[tuple[str, str]]:
    rng = random.Random(2010)
    return [mix_query(kind, v, rng) for kind in range(len(MIX_KINDS)) for _ in range(2)]


def runaway(i: int) -> str:
    return f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} # runaway {i}"


# -- load generation -------------------------------------------------------------------------------------
@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # successes' latencies per kind of query
    failed_kinds: dict[str, dict[int, int]] = field(default_factory=dict)  # other statuses per kind

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def qps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float, kind: str | None = None) -> float:
        latencies = self.latencies if kind is None else self.by_kind.get(kind, [])
        if not latencies:
            return float("nan")
        ordered = sorted(latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _client(url: str, next_query: Callable[[int], tuple[str, ...]], number: int, stop: float) -> list[tuple]:
    """One client sending queries back to back until ``stop``: (status, seconds, kinds) of each."""
    records = []
    with requests.Session() as session:
        while time.monotonic() < stop:
            text, accept, *kind = next_query(number)
            started = time.perf_counter()
            try:
                status = session.post(url, data={"query": text}, headers={"Accept": accept}, timeout=120).status_code
            except requests.RequestException:
                status = 0
            records.append((status, time.perf_counter() - started, kind))
    return records


def drive(
    url: str, next_query: Callable[[int], tuple[str, ...]], seconds: float, clients: int, processes: bool = False
) -> Outcome:
    """`clients` clients sending queries back to back for `seconds`; successes' latencies recorded (also per
    kind, when ``next_query`` gives (text, Accept, kind)). Threads of this process by default; ``processes``:
    each client a process of its own, as independent users are (threads share this process's GIL, so one
    parsing a long answer delays the others' clocks: that time is the client's, not the endpoint's)."""
    started = time.monotonic()
    stop = started + seconds
    records: list[tuple] = []
    if processes:
        context = multiprocessing.get_context("fork")
        results = context.Queue()

        def run(number: int) -> None:
            random.seed()  # the parent's random state was copied: fresh nonces
            results.put(_client(url, next_query, number, stop))

        workers = [context.Process(target=run, args=(n,)) for n in range(clients)]
        for worker in workers:
            worker.start()
        for _ in workers:
            records += results.get()
        for worker in workers:
            worker.join()
    else:
        lock = threading.Lock()

        def client(number: int) -> None:
            found = _client(url, next_query, number, stop)
            with lock:
                records.extend(found)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    outcome = Outcome(seconds=time.monotonic() - started)
    for status, elapsed, kind in records:
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        if status == 200:
            outcome.latencies.append(elapsed)
            for name in kind:
                outcome.by_kind.setdefault(name, []).append(elapsed)
        else:
            for name in kind:
                failed = outcome.failed_kinds.setdefault(name, {})
                failed[status] = failed.get(status, 0) + 1
    return outcome


def unique_source(v: Vocabulary) -> Callable[[int], tuple[str, str]]:
    generators = [unique_queries(v, seed) for seed in range(CLIENTS)]
    return lambda number: next(generators[number])


def repeated_source(v: Vocabulary) -> Callable[[int], tuple[str, str]]:
    mix = popular_mix(v)
    counters = [0] * CLIENTS

    def next_query(number: int) -> tuple[str, str]:
        counters[number] += 1
        return mix[(counters[number] * 5 + number) % len(mix)]

    return next_query


# -- servers ---------------------------------------------------------------------------------------------
def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=5).status_code < 500:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


@contextlib.contextmanager
def process(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def prepare_catalogue(n: int) -> tuple[Path, Path, float | None]:
    """The loaded catalogue (loaded once per n and base) and its public graphs as N-Quads."""
    from pyoxigraph import NamedNode, RdfFormat, serialize

    from dfl_graph.store import CatalogueReader

    directory = WORK / f"sparql-{n}"
    data_dir = directory / "catalogue"
    load_seconds = None
    if CatalogueReader(data_dir).current_generation() is None:
        export = generated_export(n)
        started = time.perf_counter()
        load = ["load", "datapress", str(export), "--source", "datapress", "--store", str(data_dir)]
        subprocess.run(
            [*DFL, "--base", f"http://127.0.0.1:{OURS_PORT}", *load],
            check=True,
            cwd=ROOT,
        )
        load_seconds = time.perf_counter() - started
    public = directory / "public.nq"
    snapshot = CatalogueReader(data_dir).snapshot()
    stamp = directory / "public.generation"
    if not public.exists() or not stamp.exists() or stamp.read_text() != str(snapshot.generation):
        with public.open("wb") as out:
            for graph in snapshot.manifest.public_graphs:
                serialize(snapshot.store.quads_for_pattern(None, None, None, NamedNode(graph)), out, RdfFormat.N_QUADS)
        stamp.write_text(str(snapshot.generation))
    return data_dir, public, load_seconds


def oxigraph_binary() -> str:
    found = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(found).exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "oxigraph"], check=True)
        found = str(Path(sys.executable).parent / "oxigraph")
    return found


def prepare_oxigraph(public: Path) -> Path:
    location = public.parent / "oxigraph"
    stamp = location / ".loaded-from"
    if not stamp.exists() or stamp.read_text() != str(public.stat().st_mtime_ns):
        shutil.rmtree(location, ignore_errors=True)
        location.mkdir(parents=True)
        subprocess.run(
            [oxigraph_binary(), "load", "--location", str(location), "--file", str(public)], check=True, cwd=ROOT
        )
        stamp.write_text(str(public.stat().st_mtime_ns))
    return location


@contextlib.contextmanager
def virtuoso(public: Path) -> Iterator[str]:
    """Virtuoso (dfl_graph.backends.local_virtuoso: the same instance the tests use) with the public N-Quads
    bulk-loaded once per file; its database is kept between runs."""
    directory = public.parent / "virtuoso"
    stamp = directory / ".loaded-from"
    fresh = not stamp.exists() or stamp.read_text() != str(public.stat().st_mtime_ns)
    if fresh:
        shutil.rmtree(directory, ignore_errors=True)
    with local_virtuoso.running(directory, VIRTUOSO_HTTP_PORT, VIRTUOSO_SQL_PORT) as instance:
        if fresh:
            data = directory / "data"
            data.mkdir(exist_ok=True)
            shutil.copy(public, data / "public.nq")
            instance.isql(f"ld_dir('{data}', 'public.nq', 'http://example.org/unused');", timeout=7200)
            instance.isql("rdf_loader_run();", timeout=7200)
            instance.isql("checkpoint;", timeout=7200)
            stamp.write_text(str(public.stat().st_mtime_ns))
        yield instance.url + "/sparql"


# -- the run ---------------------------------------------------------------------------------------------
def summary_row(name: str, outcome: Outcome) -> list[object]:
    errors = ", ".join(f"{k or 'no answer'}: {v}" for k, v in sorted(outcome.statuses.items()) if k != 200) or "0"
    return [
        name,
        f"{outcome.qps:.1f}",
        f"{outcome.percentile(50) * 1000:.1f}",
        f"{outcome.percentile(99) * 1000:.1f}",
        outcome.ok,
        errors,
    ]


def answer_sizes(url: str, v: Vocabulary) -> list[object]:
    """Row counts of the popular SELECTs: the endpoints must agree, so they are compared on the same work."""
    sizes: list[object] = []
    for text, accept in popular_mix(v):
        if accept == JSON:
            response = requests.post(url, data={"query": text}, headers={"Accept": JSON}, timeout=600)
            sizes.append(len(response.json()["results"]["bindings"]) if response.ok else f"HTTP {response.status_code}")
    return sizes


def merge(outcomes: list[Outcome]) -> Outcome:
    merged = Outcome()
    for outcome in outcomes:
        merged.latencies += outcome.latencies
        merged.seconds += outcome.seconds
        for status, count in outcome.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + count
        for kind, latencies in outcome.by_kind.items():
            merged.by_kind.setdefault(kind, []).extend(latencies)
        for kind, statuses in outcome.failed_kinds.items():
            failed = merged.failed_kinds.setdefault(kind, {})
            for status, count in statuses.items():
                failed[status] = failed.get(status, 0) + count
    return merged


class Runaways:
    """RUNAWAYS threads, each sending a runaway query and, when it is answered, the next one.

    Every runaway text is new for the whole run: the endpoint answers a text that ran out of time in the
    last minute with 504 at once, and a runaway that is not running is not in flight."""

    numbers = itertools.count()  # shared by every round

    def __init__(self, url: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self.answers: list[tuple[int, float]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run) for _ in range(RUNAWAYS)]

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                response = requests.post(
                    self.url, data={"query": runaway(next(Runaways.numbers))}, timeout=self.timeout + 60
                )
                status = response.status_code
            except requests.RequestException:
                status = 0
            self.answers.append((status, time.perf_counter() - started))

    def __enter__(self) -> Runaways:
        for thread in self.threads:
            thread.start()
        time.sleep(min(2.0, self.timeout / 2))  # all in flight
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def endpoint_arguments(description: str | None) -> argparse.ArgumentParser:
    """The options of a benchmark that drives the endpoints of :func:`endpoints`."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="datasets in the generated catalogue")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per scenario and endpoint")
    parser.add_argument("--rounds", type=int, default=3, help="the scenarios are interleaved in this many rounds")
    parser.add_argument("--timeout", type=float, default=10.0, help="our endpoint's query time limit")
    parser.add_argument("--no-virtuoso", action="store_true", help="skip Virtuoso")
    return parser


@contextlib.contextmanager
def endpoints(
    n: int, timeout: float, peers: bool = True, virtuoso_wanted: bool = True
) -> Iterator[tuple[dict[str, str], str | None, float | None]]:
    """Ours, and (with ``peers``) `oxigraph serve` and Virtuoso on the same public quads, all up at once (an
    idle server costs nothing, so rounds can interleave them and whatever else the machine does falls on all
    alike): (their query URLs by name, why Virtuoso is missing if it is, our catalogue's load time if it was
    loaded now)."""
    data_dir, public, load_seconds = prepare_catalogue(n)
    base = f"http://127.0.0.1:{OURS_PORT}"
    logs = data_dir.parent
    env = {"DFL_QUERY_TIMEOUT": str(timeout)}
    ours_cmd = [*DFL, "--base", base, "serve", "--store", str(data_dir), "--port", str(OURS_PORT), "--no-default"]
    virtuoso_note = None
    with contextlib.ExitStack() as stack:
        stack.enter_context(process(ours_cmd, logs / "ours.log", env))
        urls = {"ours": base + "/sparql"}
        if peers:
            oxigraph_cmd = [oxigraph_binary(), "serve-read-only", "--location", str(prepare_oxigraph(public))]
            oxigraph_cmd += ["--bind", f"127.0.0.1:{OXIGRAPH_PORT}", "--union-default-graph"]
            stack.enter_context(process(oxigraph_cmd, logs / "oxigraph.log"))
            urls["oxigraph serve"] = f"http://127.0.0.1:{OXIGRAPH_PORT}/query"
            wait_for(urls["oxigraph serve"] + "?query=ASK%7B%7D")
        wait_for(base + "/healthz")
        if not (peers and virtuoso_wanted):
            virtuoso_note = "skipped"
        else:
            try:
                urls["Virtuoso"] = stack.enter_context(virtuoso(public))
            except (local_virtuoso.VirtuosoMissing, RuntimeError, subprocess.SubprocessError) as error:
                virtuoso_note = f"Virtuoso failed: {str(error)[-400:]}"
        yield urls, virtuoso_note, load_seconds


def main() -> None:
    parser = endpoint_arguments(__doc__)
    parser.add_argument(
        "--only-runaways",
        action="store_true",
        help="only our endpoint: the repeated mix, then unloaded against 5 runaways",
    )
    args = parser.parse_args()
    command = "python -m bench.sparql " + " ".join(sys.argv[1:])

    base = f"http://127.0.0.1:{OURS_PORT}"
    notes: list[str] = []
    with endpoints(args.n, args.timeout, peers=not args.only_runaways, virtuoso_wanted=not args.no_virtuoso) as (
        urls,
        virtuoso_note,
        load_seconds,
    ):
        if load_seconds is not None:
            notes.append(f"Catalogue loaded (with its SPARQL store index) in {load_seconds:.0f} s.")
        v = endpoint_vocabulary(urls["ours"], base)
        print(f"vocabulary: {len(v.themes)} themes, {len(v.publishers)} publishers, {len(v.datasets)} datasets")
        sizes = {}
        for name, url in urls.items():  # warm up (our cache stays cold for the popular texts: "# warm")
            for text, accept in popular_mix(v):
                requests.post(url, data={"query": text + "\n# warm"}, headers={"Accept": accept}, timeout=600)
            sizes[name] = answer_sizes(url, v)
        runs: dict[tuple[str, str], list[Outcome]] = {}
        slice_ = args.duration / args.rounds
        for _round in range(0 if args.only_runaways else args.rounds):
            for name, url in urls.items():
                runs.setdefault((name, "unique"), []).append(drive(url, unique_source(v), slice_, CLIENTS))
        for _round in range(args.rounds):  # also with --only-runaways: the caches warm as in a whole run
            for name, url in urls.items():
                runs.setdefault((name, "repeated"), []).append(drive(url, repeated_source(v), slice_, CLIENTS))
        # The repeated mix on our endpoint with and without 5 runaway queries in flight, alternately.
        runaway_answers: list[tuple[int, float]] = []
        for _round in range(args.rounds):
            runs.setdefault(("ours", "repeated, unloaded"), []).append(
                drive(urls["ours"], repeated_source(v), slice_, CLIENTS)
            )
            with Runaways(urls["ours"], args.timeout) as runaways:
                runs.setdefault(("ours", "repeated + 5 runaways"), []).append(
                    drive(urls["ours"], repeated_source(v), slice_, CLIENTS)
                )
            runaway_answers += runaways.answers

    results = {key: merge(outcomes) for key, outcomes in runs.items()}
    rows = [summary_row(f"{name}: {scenario}", outcome) for (name, scenario), outcome in results.items()]
    table = markdown_table(
        ["endpoint: scenario", "queries/s", "p50 ms", "p99 ms", "answered (200)", "other statuses"], rows
    )

    def qps(name: str, scenario: str) -> float:
        return max(results[(name, scenario)].qps, 1e-9)

    checks = []
    if "oxigraph serve" in urls:
        unique_ratio = qps("ours", "unique") / qps("oxigraph serve", "unique")
        checks.append(f"unique queries, ours / oxigraph: {unique_ratio:.2f}x (target >= 0.8x)")
    if "Virtuoso" in urls:
        repeated_ratio = qps("ours", "repeated") / qps("Virtuoso", "repeated")
        checks.append(f"repeated mix, ours / Virtuoso: {repeated_ratio:.2f}x (target >= 1.3x)")
        checks.append(
            f"repeated mix, Virtuoso / oxigraph: {qps('Virtuoso', 'repeated') / qps('oxigraph serve', 'repeated'):.2f}x"
        )
    else:
        checks.append(f"Virtuoso not measured: {virtuoso_note}")
    unloaded = results[("ours", "repeated, unloaded")].percentile(99)
    loaded = results[("ours", "repeated + 5 runaways")].percentile(99)
    checks.append(
        f"benign p99 with 5 runaways in flight: {loaded * 1000:.1f} ms vs {unloaded * 1000:.1f} ms unloaded = "
        f"{loaded / unloaded:.2f}x (target <= 2x)"
    )
    by_round = zip(runs[("ours", "repeated, unloaded")], runs[("ours", "repeated + 5 runaways")], strict=True)
    checks.append(
        "the same, round by round: "
        + ", ".join(f"{b.percentile(99) * 1000:.1f}/{a.percentile(99) * 1000:.1f} ms" for a, b in by_round)
    )
    if runaway_answers:
        slowest = max(t for _, t in runaway_answers)
        statuses = {}
        for status, _ in runaway_answers:
            statuses[status] = statuses.get(status, 0) + 1
        counted = ", ".join(f"{k}: {c}" for k, c in sorted(statuses.items()))
        checks.append(
            f"runaways: {len(runaway_answers)} answered ({counted}), slowest after {slowest:.2f} s "
            f"(limit {args.timeout:g} s + 2 s = {args.timeout + 2:g} s)"
        )
    if len({str(s) for s in sizes.values()}) > 1:
        checks.append(f"the endpoints' answers differ in size: {sizes}")
    else:
        checks.append(f"all endpoints gave the same row counts on the popular mix: {sizes['ours']}")
    notes += [f"- {c}" for c in checks]
    notes.append(
        textwrap.dedent(
            f"""
            Ours: `dfl serve` (gunicorn, 4 web processes, query workers per process, result cache on).
            oxigraph: `oxigraph serve-read-only --union-default-graph` on the public graphs (N-Quads).
            Virtuoso: Debian virtuoso-opensource 7, its own instance on 127.0.0.1, the same N-Quads.
            {CLIENTS} clients on the same machine, {args.duration:g} s per scenario and endpoint in {args.rounds}
            interleaved rounds, {args.n} datasets, query time limit {args.timeout:g} s (ours). Unique: every
            query text new (varied parameters and a nonce). Repeated: 14 popular queries. Runaway:
            `{runaway(0)}`, 5 kept in flight (resent as soon as answered).
            """
        ).strip()
    )
    append_results(f"Issue 4: SPARQL endpoint at {args.n} datasets", command, table, "\n".join(notes))


if __name__ == "__main__":
    main()
