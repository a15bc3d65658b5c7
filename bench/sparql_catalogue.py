"""Issue 16: a catalogue's everyday SPARQL questions at scale, side by side with `oxigraph serve` and Virtuoso.

The same endpoints and quads as ``python -m bench.sparql`` (its ``endpoints``), and a query mix a new user of a
catalogue would write, with varied parameters, every text new (a nonce), 4 clients (each a process of its own,
so that no client's parsing delays another's clock), interleaved rounds:

* counts of datasets per theme, per borough, per publisher; distributions per format;
* a publisher's latest datasets; the 20 most recently modified datasets; a deep page ordered by
  modification date (random OFFSET); the largest distributions of a format; datasets by title;
* a title substring search (``CONTAINS(LCASE(?title), …)``);
* one dataset's CONSTRUCT.

Every ordered query ends its ORDER BY with the dataset (or distribution) IRI, so the order is total and
all three engines must give the same rows: that is checked first, on one parameter set per kind. Then:
throughput, latencies and statuses per endpoint (the 504s are the issue's first complaint), our p50 per kind
(and which of our answers came from the catalogue index), and the single-dataset CONSTRUCT's p50 inside the
mix against its p50 alone.

python -m bench.sparql_catalogue                        # 100,000 datasets, 30 s per endpoint in 3 rounds
python -m bench.sparql_catalogue --n 2000 --duration 9  # a quick run
"""

from __future__ import annotations

import random
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime

import requests
from pyoxigraph import RdfFormat, parse

from bench.common import append_results, markdown_table
from bench.sparql import (
    CLIENTS,
    JSON,
    OURS_PORT,
    PREFIXES,
    Outcome,
    Vocabulary,
    drive,
    endpoint_arguments,
    endpoint_vocabulary,
    endpoints,
    merge,
    summary_row,
)

N_TRIPLES = "application/n-triples"
KINDS = [
    "theme counts",
    "borough counts",
    "publisher counts",
    "format counts",
    "publisher's latest",
    "20 most recently modified",
    "deep page by modified",
    "largest distributions of a format",
    "by title",
    "title search",
    "one dataset (CONSTRUCT)",
]


def catalogue_query(kind: str, v: Vocabulary, words: list[str], n: int, rng: random.Random) -> tuple[str, str]:
    """One query of the mix with parameters drawn from the catalogue: (text, Accept)."""
    if kind == "theme counts":
        return (
            "SELECT ?theme ?label (COUNT(?dataset) AS ?datasets) WHERE { ?theme skos:prefLabel ?label . "
            "?dataset a dcat:Dataset ; dcat:theme ?theme } GROUP BY ?theme ?label ORDER BY DESC(?datasets) ?theme "
            f"LIMIT {rng.randint(10, 40)}",
            JSON,
        )
    if kind == "borough counts":
        return (
            "SELECT ?borough ?name (COUNT(?dataset) AS ?datasets) WHERE { "
            f"?borough skos:inScheme <{v.base}/boroughs> ; skos:prefLabel ?name . "
            "?dataset dct:spatial ?borough } GROUP BY ?borough ?name "
            f"ORDER BY DESC(?datasets) ?borough LIMIT {rng.randint(5, 33)}",
            JSON,
        )
    if kind == "publisher counts":
        return (
            "SELECT ?publisher (COUNT(?dataset) AS ?datasets) WHERE { ?dataset a dcat:Dataset ; dct:publisher "
            f"?publisher }} GROUP BY ?publisher ORDER BY DESC(?datasets) ?publisher LIMIT {rng.randint(5, 30)}",
            JSON,
        )
    if kind == "format counts":
        return (
            "SELECT ?format (COUNT(?distribution) AS ?distributions) WHERE { ?dataset dcat:distribution ?distribution "
            f". ?distribution dct:format ?format }} GROUP BY ?format ORDER BY DESC(?distributions) ?format "
            f"LIMIT {rng.randint(5, 20)}",
            JSON,
        )
    if kind == "publisher's latest":
        return (
            f"SELECT ?dataset ?title ?modified WHERE {{ ?dataset dct:publisher <{rng.choice(v.publishers)}> ; "
            "dct:title ?title ; dct:modified ?modified } ORDER BY DESC(?modified) ?dataset "
            f"LIMIT {rng.randint(10, 30)}",
            JSON,
        )
    if kind == "20 most recently modified":
        return (
            "SELECT ?dataset ?title ?modified WHERE { ?dataset a dcat:Dataset ; dct:title ?title ; dct:modified "
            f"?modified }} ORDER BY DESC(?modified) ?dataset LIMIT {rng.randint(15, 25)}",
            JSON,
        )
    if kind == "deep page by modified":
        return (
            "SELECT ?dataset ?modified WHERE { ?dataset a dcat:Dataset ; dct:modified ?modified } "
            f"ORDER BY DESC(?modified) ?dataset LIMIT 20 OFFSET {rng.randrange(0, max(1, n // 2))}",
            JSON,
        )
    if kind == "largest distributions of a format":
        return (
            f"SELECT ?distribution ?size WHERE {{ ?distribution dct:format <{rng.choice(v.formats)}> ; "
            f"dcat:byteSize ?size }} ORDER BY DESC(?size) ?distribution LIMIT {rng.randint(10, 30)}",
            JSON,
        )
    if kind == "by title":
        return (
            "SELECT ?dataset ?title WHERE { ?dataset a dcat:Dataset ; dct:title ?title } "
            f"ORDER BY ?title ?dataset LIMIT 20 OFFSET {rng.randrange(0, max(1, n // 10))}",
            JSON,
        )
    if kind == "title search":
        return (
            "SELECT ?dataset ?title WHERE { ?dataset a dcat:Dataset ; dct:title ?title "
            f'FILTER(CONTAINS(LCASE(?title), "{rng.choice(words)}")) }} ORDER BY ?title ?dataset LIMIT 50',
            JSON,
        )
    dataset = rng.choice(v.datasets)
    return f"CONSTRUCT {{ <{dataset}> ?p ?o }} WHERE {{ <{dataset}> ?p ?o }}", N_TRIPLES


def title_words(url: str) -> list[str]:
    """Words of real titles, for the title search."""
    response = requests.post(
        url,
        data={"query": PREFIXES + "SELECT ?t WHERE { ?d a dcat:Dataset ; dct:title ?t } LIMIT 500"},
        headers={"Accept": JSON},
        timeout=600,
    )
    response.raise_for_status()
    titles = [b["t"]["value"] for b in response.json()["results"]["bindings"]]
    return sorted({w.lower() for t in titles for w in t.split() if len(w) >= 5 and w.isalpha()})[:200] or ["data"]


def _normalised(response: requests.Response, accept: str) -> object:
    """Rows as comparable values (IRIs and lexical forms; numbers as numbers), or a graph as a set of triples."""
    if accept == N_TRIPLES:
        return sorted(str(t) for t in parse(response.content, format=RdfFormat.N_TRIPLES))
    rows = []
    for binding in response.json()["results"]["bindings"]:
        row = []
        for name in sorted(binding):
            value, datatype = binding[name]["value"], binding[name].get("datatype", "")
            if datatype.endswith(("#integer", "#int", "#long")):
                value = str(int(value))
            elif datatype.endswith("#dateTime"):  # the same instant, however an engine spells it
                value = datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
            row.append((name, value))
        rows.append(tuple(row))
    return rows


def compare_engines(urls: dict[str, str], v: Vocabulary, words: list[str], n: int) -> list[str]:
    """One query of each kind on every endpoint: are the rows the same?"""
    findings = []
    for kind in KINDS:
        text, accept = catalogue_query(kind, v, words, n, random.Random(kind))
        answers = {}
        for name, url in urls.items():
            response = requests.post(url, data={"query": PREFIXES + text}, headers={"Accept": accept}, timeout=600)
            answers[name] = _normalised(response, accept) if response.ok else f"HTTP {response.status_code}"
        reference = answers["ours"]
        differing = [name for name, answer in answers.items() if answer != reference]
        size = len(reference) if isinstance(reference, list) else reference
        found = f"{kind}: {size} rows, " + ("identical" if not differing else f"DIFFER on {differing}")
        for name in differing:  # the first row that differs, to see why
            other = answers[name]
            first = next((i for i, (a, b) in enumerate(zip(reference, other, strict=False)) if a != b), None)
            if isinstance(other, list) and first is not None:
                found += f" (row {first}: ours {reference[first]}, {name} {other[first]})"
            else:
                found += f" ({name}: {other if isinstance(other, str) else f'{len(other)} rows'})"
        findings.append(found)
    return findings


def unique_mix(v: Vocabulary, words: list[str], n: int, only: str | None = None) -> Callable[[int], tuple]:
    rngs = [random.Random(seed) for seed in range(CLIENTS)]
    counters = [0] * CLIENTS

    def next_query(number: int) -> tuple[str, str, str]:
        counters[number] += 1
        kind = only or KINDS[(counters[number] * 3 + number) % len(KINDS)]
        text, accept = catalogue_query(kind, v, words, n, rngs[number])
        return f"{PREFIXES}{text}\n# unique {number}-{counters[number]}-{random.random()}", accept, kind

    return next_query


def answered_by(url: str, v: Vocabulary, words: list[str], n: int) -> dict[str, str]:
    """Which of our components answered each kind (X-DFL-Answered-By)."""
    found = {}
    for kind in KINDS:
        text, accept = catalogue_query(kind, v, words, n, random.Random(kind + "!"))
        response = requests.post(url, data={"query": PREFIXES + text}, headers={"Accept": accept}, timeout=600)
        found[kind] = response.headers.get("X-DFL-Answered-By", f"HTTP {response.status_code}")
    return found


def main() -> None:
    args = endpoint_arguments(__doc__).parse_args()
    command = "python -m bench.sparql_catalogue " + " ".join(sys.argv[1:])
    base = f"http://127.0.0.1:{OURS_PORT}"
    with endpoints(args.n, args.timeout, virtuoso_wanted=not args.no_virtuoso) as (urls, virtuoso_note, _):
        v = endpoint_vocabulary(urls["ours"], base)
        words = title_words(urls["ours"])
        findings = compare_engines(urls, v, words, args.n)
        sources = answered_by(urls["ours"], v, words, args.n)
        slice_ = args.duration / args.rounds
        runs: dict[str, list[Outcome]] = {}
        alone: list[Outcome] = []
        for _round in range(args.rounds):
            for name, url in urls.items():
                mix = unique_mix(v, words, args.n)
                runs.setdefault(name, []).append(drive(url, mix, slice_, CLIENTS, processes=True))
            constructs = unique_mix(v, words, args.n, "one dataset (CONSTRUCT)")
            alone.append(drive(urls["ours"], constructs, slice_ / 3, 1, processes=True))
    results = {name: merge(outcomes) for name, outcomes in runs.items()}
    single = merge(alone)
    table = markdown_table(
        ["endpoint", "queries/s", "p50 ms", "p99 ms", "answered (200)", "other statuses"],
        [summary_row(name, outcome) for name, outcome in results.items()],
    )
    ours = results["ours"]
    kinds_table = markdown_table(
        ["kind (ours)", "answered by", "p50 ms", "p99 ms", "answered", "other statuses"]
        + [f"{name} p50 ms" for name in results if name != "ours"],
        [
            [
                kind,
                sources[kind],
                f"{ours.percentile(50, kind) * 1000:.1f}",
                f"{ours.percentile(99, kind) * 1000:.1f}",
                len(ours.by_kind.get(kind, [])),
                ", ".join(f"{s}: {c}" for s, c in sorted(ours.failed_kinds.get(kind, {}).items())) or "0",
                *[f"{results[name].percentile(50, kind) * 1000:.1f}" for name in results if name != "ours"],
            ]
            for kind in KINDS
        ],
    )
    construct_loaded = ours.percentile(50, "one dataset (CONSTRUCT)")
    construct_alone = single.percentile(50, "one dataset (CONSTRUCT)")
    checks = [f"rows across engines (one query of each kind): {'; '.join(findings)}"]
    timeouts = {name: outcome.statuses.get(504, 0) for name, outcome in results.items()}
    checks.append(f"timeouts (504): {timeouts} (target for ours: 0)")
    if "Virtuoso" in results:
        ratio = ours.qps / max(results["Virtuoso"].qps, 1e-9)
        checks.append(f"unique-query throughput, ours / Virtuoso: {ratio:.2f}x (target >= 1.0x)")
    else:
        checks.append(f"Virtuoso not measured: {virtuoso_note}")
    if "oxigraph serve" in results:
        ratio = ours.qps / max(results["oxigraph serve"].qps, 1e-9)
        checks.append(f"unique-query throughput, ours / oxigraph serve: {ratio:.2f}x")
    checks.append(
        f"one dataset's CONSTRUCT, p50 in the mix {construct_loaded * 1000:.1f} ms vs alone "
        f"{construct_alone * 1000:.1f} ms = {construct_loaded / construct_alone:.2f}x (target <= 2x)"
    )
    about = textwrap.dedent(
        f"""
        The mix: {", ".join(KINDS)}; every text new (varied parameters and a nonce), {CLIENTS} clients (processes),
        {args.duration:g} s per endpoint in {args.rounds} interleaved rounds, {args.n} datasets, our time limit
        {args.timeout:g} s. "Alone": one client sending only single-dataset CONSTRUCTs to our endpoint, between
        the rounds. "Answered by": `index` is the catalogue shape index (`dfl_graph/sparql/shape_index.py`),
        `engine` a query worker. The same endpoints as `python -m bench.sparql`.
        """
    ).strip()
    notes = "\n".join(f"- {c}" for c in checks) + "\n\n" + kinds_table + "\n\n" + about
    append_results(f"Issue 16: catalogue questions at {args.n} datasets", command, table, notes)


if __name__ == "__main__":
    main()
