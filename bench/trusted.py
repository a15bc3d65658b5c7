"""Issue 14, phase 2: search and SPARQL for a trusted reader against anonymous (target: within 1.2x at 100k).

A generated catalogue (``dfl generate``: ~3% RESTRICTED, ~1% NON_PUBLIC datasets) is loaded once; then, in
process (Flask's test client: no network), the same searches (``/api/search``) and SPARQL queries (``/sparql``,
each made unique by a comment so the answer cache never serves it) are timed for an anonymous caller and for a
trusted reader with an API token, interleaved, for several rounds. Anonymous searches run on the public index,
the reader's on the index of every dataset with its restriction; anonymous SPARQL queries over the whole
catalogue run on the merged public store (and its shape index), the reader's on the main store with its graph
list (docs/access.md).

python -m bench.trusted [--size 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

from bench.common import DFL, WORK, append_results, generated_export, markdown_table, timed

BASE = "http://127.0.0.1:8804"
SEARCHES = ["", "crime", "housing prices", "transport borough", "population estimates 2021", "schools"]
SPARQL = {
    "count datasets": "SELECT (COUNT(?d) AS ?n) WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> }",
    "titles containing": (
        "SELECT ?d ?t WHERE { ?d <http://purl.org/dc/terms/title> ?t FILTER(CONTAINS(LCASE(?t), 'crime')) } LIMIT 20"
    ),
    "datasets of a publisher": (
        "SELECT ?d WHERE { ?d <http://purl.org/dc/terms/publisher> <BASE/publisher/tfl> } LIMIT 50"
    ),
    "one dataset (DESCRIBE)": "DESCRIBE <DATASET>",
}


def store_for(n: int) -> Path:
    store = WORK / f"trusted-{n}"
    marker = store / "bench-trusted.json"
    if marker.exists() and json.loads(marker.read_text()).get("n") == n:
        return store
    shutil.rmtree(store, ignore_errors=True)
    timed(
        [*DFL, "--base", BASE, "load", "datapress", str(generated_export(n)), "--source", "gen", "--store", str(store)]
    )
    marker.write_text(json.dumps({"n": n}))
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from dfl_graph.accounts import open_directory
    from dfl_graph.config import Settings
    from server import create_app

    data_dir = store_for(args.size)
    settings = Settings(data_dir=data_dir, base=BASE)
    app = create_app(settings)
    directory = open_directory(settings)
    account = directory.ensure_account("bench-reader@camden.gov.uk")
    if not directory.grants_for(account):
        directory.add_grant("bench", "reader", account="bench-reader@camden.gov.uk")
    token = directory.issue_token(account, "bench", "read").text
    callers = {"anonymous": {}, "trusted reader": {"Authorization": f"Bearer {token}"}}
    client = app.test_client()
    first = client.get("/api/search?per_page=1").get_json()["results"][0]["iri"]
    work: dict[str, str] = {f"search: {q or '(everything)'}": f"/api/search?q={q}" for q in SEARCHES}
    queries = {name: text.replace("BASE", BASE).replace("DATASET", first) for name, text in SPARQL.items()}
    samples: dict[tuple[str, str], list[float]] = {}
    for round_number in range(args.rounds):
        for name, url in work.items():
            for caller, headers in callers.items():
                started = time.perf_counter()
                response = client.get(url, headers=headers)
                samples.setdefault((name, caller), []).append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{caller} {url}: {response.status_code}")
        for name, text in queries.items():
            for caller, headers in callers.items():
                unique = f"{text}\n# {caller} round {round_number}"  # never from the answer cache
                started = time.perf_counter()
                response = client.get("/sparql", query_string={"query": unique}, headers={**headers, "Accept": "*/*"})
                body = response.get_data()
                samples.setdefault((f"SPARQL: {name}", caller), []).append(time.perf_counter() - started)
                if response.status_code != 200 or not body:
                    raise SystemExit(f"{caller} SPARQL {name}: {response.status_code}")

    rows = []
    for name in dict.fromkeys(key[0] for key in samples):
        anonymous = statistics.median(samples[(name, "anonymous")])
        reader = statistics.median(samples[(name, "trusted reader")])
        rows.append([name, f"{anonymous * 1000:.1f} ms", f"{reader * 1000:.1f} ms", f"{reader / anonymous:.2f}×"])
    append_results(
        f"Access, phase 2: a trusted reader against anonymous at {args.size:,} datasets (in process)",
        f"python -m bench.trusted --size {args.size} --rounds {args.rounds}",
        markdown_table(["request", "anonymous p50", "trusted reader p50", "ratio"], rows),
    )


if __name__ == "__main__":
    main()
