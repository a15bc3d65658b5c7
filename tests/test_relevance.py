"""Search relevance on judged London queries (tests/data/relevance/london-queries.json): at least 90% of
them must have a dataset judged relevant in the top three results.

The catalogue is the real 2010 London Datastore listing plus a deterministic synthetic DataPress export
made from real London publishers, boroughs and subjects (``dfl generate``). Judgements are rules over
the *source* records (the CSV rows and the export's items), evaluated here; each search result is mapped
back to its source record by its slug, so nothing the engine says about a dataset is used to judge it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DEFAULT_CSV, ROOT, LiveServer, dfl, free_port, live_server, load_default

from dfl_graph.generate import BOROUGHS
from dfl_graph.uris import slugify

QUERIES = ROOT / "tests" / "data" / "relevance" / "london-queries.json"
GENERATED = 3000
TOP = 3
TARGET = 0.9
COUNCILS = {slugify(place): place for _, place, _, _ in BOROUGHS}


def judged() -> list[dict]:
    return json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, dict]]]:
    """The server, and every public source record by its dataset slug: {"title", "publisher", "place"}."""
    root = tmp_path_factory.mktemp("relevance")
    data_dir, port = root / "catalogue", free_port()
    base = f"http://127.0.0.1:{port}"
    load_default(data_dir, base)
    export = root / "generated.json"
    dfl("generate", str(GENERATED), str(export))
    dfl("--base", base, "load", "datapress", str(export), "--source", "generated", "--store", str(data_dir))
    records: dict[str, dict] = {}
    with DEFAULT_CSV.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            slug = row["path"].rstrip("/").rsplit("/", 1)[-1]
            records[slug] = {"title": " ".join(row["title"].split()), "publisher": None, "place": None}
    for item in json.loads(export.read_text(encoding="utf-8")):
        if item["sharing"] != "public":
            continue
        publisher = item["masthead"]["id"]
        place = (item.get("custom") or {}).get("borough") or COUNCILS.get(publisher)
        slug = item["webpage"].rstrip("/").rsplit("/", 1)[-1]
        records[slug] = {"title": item["title"], "publisher": publisher, "place": place}
    with live_server(data_dir, port) as server:
        yield server, records


def _matches(rule: dict, record: dict) -> bool:
    title = record["title"].casefold()
    checks = []
    if "titles" in rule:
        checks.append(record["title"] in rule["titles"])
    if "title_has" in rule:
        checks.append(all(word.casefold() in title for word in rule["title_has"]))
    if "title_any" in rule:
        checks.append(any(phrase.casefold() in title for phrase in rule["title_any"]))
    if "publisher" in rule:
        checks.append(record["publisher"] in rule["publisher"])
    if "about" in rule:
        here = record["place"] in rule["about"]
        checks.append(here or (rule.get("or_london_wide", False) and record["place"] is None))
    return bool(checks) and all(checks)


def relevant(spec: dict | list, record: dict) -> bool:
    return any(_matches(rule, record) for rule in (spec if isinstance(spec, list) else [spec]))


def test_the_judged_set_is_large_and_every_query_has_answers_in_the_catalogue(catalogue) -> None:
    _server, records = catalogue
    queries = judged()
    assert len(queries) >= 60
    assert len({q["q"].casefold() for q in queries}) == len(queries), "a query is judged twice"
    for query in queries:
        answers = [slug for slug, record in records.items() if relevant(query["relevant"], record)]
        assert answers, f"{query['q']!r}: no dataset of the catalogue is judged relevant (a vacuous judgement)"


def test_ninety_percent_of_queries_have_a_relevant_dataset_in_the_top_three(catalogue, artifacts: Path) -> None:
    server, records = catalogue
    report, hits = [], 0
    for query in judged():
        response = server.get("/api/search", params={"q": query["q"], "per_page": TOP})
        assert response.status_code == 200, response.text[:300]
        results = response.json()["results"]
        top = [records.get(r["iri"].rsplit("/", 1)[-1]) for r in results]
        assert all(record is not None for record in top), f"{query['q']!r}: a result with no source record"
        found = any(relevant(query["relevant"], record) for record in top)  # type: ignore[arg-type]
        hits += found
        titles = "; ".join(r["title"] for r in results) or "(nothing)"
        report.append(f"| {'✓' if found else '✗'} | {query['kind']} | `{query['q']}` | {titles} |")
    share = hits / len(report)
    (artifacts / "relevance.md").write_text(
        f"{hits} of {len(report)} queries ({share:.0%}) have a relevant dataset in the top {TOP}\n\n"
        "| | kind | query | top results |\n|---|---|---|---|\n" + "\n".join(report) + "\n",
        encoding="utf-8",
    )
    misses = [line for line in report if line.startswith("| ✗")]
    assert share >= TARGET, f"{hits}/{len(report)} in the top {TOP}; misses:\n" + "\n".join(misses)
