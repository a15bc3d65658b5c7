"""``/harvest``: what each harvested portal gave in its latest runs (HTML, and ``/harvest.json``).

Read from the published snapshot's public graphs, where each harvest run is kept as a ``prov:Activity``
(see :mod:`dfl_graph.harvest.report`): so the page shows public counts only, and exactly what the
catalogue now holds. ``/harvest/{source}/{run}`` (the run's IRI) answers with one run (``.json`` for JSON).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify

from dfl_graph.harvest.report import COUNTS, read_runs
from dfl_graph.store import Snapshot
from dfl_graph.web.access import snapshot
from dfl_graph.web.representations import render_page

blueprint = Blueprint("harvest", __name__)
HISTORY = 10  # runs listed per source


def _runs(current: Snapshot) -> list[dict]:
    vocab = current.uris.graph("vocab/")
    graphs = [g for g in current.public_graphs if not g.value.startswith(vocab)]
    runs = read_runs(current.store, current.uris, graphs)
    for run in runs:
        run["path"] = run["iri"][len(current.uris.base) :]
    return runs


def harvest_model(current: Snapshot) -> dict:
    by_source: dict[str, list[dict]] = {}
    for run in _runs(current):
        by_source.setdefault(run.get("source", "?"), []).append(run)
    sources = []
    for name in sorted(by_source):
        runs = by_source[name]
        latest = runs[0]
        sources.append(
            {
                "source": name,
                "type": latest.get("type"),
                "url": latest.get("url"),
                "title": (latest.get("label") or "").removeprefix("Harvest of ") or name,
                "latest": latest,
                "runs": runs[:HISTORY],
            }
        )
    return {
        "generation": current.generation,
        "published_at": current.manifest.published_at,
        "counts": list(COUNTS),
        "sources": sources,
    }


@blueprint.get("/harvest")
def harvest_page() -> str:
    return render_page("harvest/index.html", model=harvest_model(snapshot()))


@blueprint.get("/harvest.json")
def harvest_json() -> Response:
    response = jsonify(harvest_model(snapshot()))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/harvest/<source>/<run>")
def harvest_run(source: str, run: str):
    current = snapshot()
    as_json = run.endswith(".json")
    stamp = run.removesuffix(".json")
    iri = f"{current.uris.base}/harvest/{source}/{stamp}"
    found = next((r for r in _runs(current) if r["iri"] == iri), None)
    if found is None:
        abort(404, description=f"No harvest run {iri} in the catalogue (only the latest runs of each source are kept).")
    if as_json:
        response = jsonify(found)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    return render_page("harvest/run.html", run=found, counts=COUNTS)


__all__ = ["blueprint", "harvest_model"]
