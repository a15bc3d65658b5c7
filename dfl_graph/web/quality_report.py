"""How well the catalogue's datasets are described: ``/quality`` (every publisher) and ``/quality/{publisher}``
(one publisher: its averages per dimension, its datasets per rating, and where to start improving).

The scores are :mod:`dfl_graph.quality`'s, published on each dataset as DQV measurements; the summary per
publisher is computed when the search index is built (``quality_summary``), so these pages read one small
table. ``.json`` twins (``/quality.json``, ``/quality/{publisher}.json``) carry the same numbers.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from werkzeug.exceptions import NotFound

from dfl_graph.quality import CHECKS, DIMENSIONS, MAXIMUM, RATINGS, TOTAL_MAXIMUM
from dfl_graph.search.facets import NOT_STATED
from dfl_graph.search.index import search_index
from dfl_graph.web.access import settings, snapshot
from dfl_graph.web.charts import Bar, bar_chart
from dfl_graph.web.library import search_href

blueprint = Blueprint("quality_report", __name__)


def _row_json(row: dict) -> dict:
    publisher = row["publisher"]
    average = row["average"]
    return {
        "publisher": {"key": publisher.key, "iri": publisher.iri, "label": publisher.label},
        "datasets": row["datasets"],
        "measured": row["measured"],
        "average_points": round(average, 1) if average is not None else None,
        "average_percent": round(100 * average / TOTAL_MAXIMUM) if average is not None else None,
        "dimensions": {
            d: {"average_points": round(v, 1), "of": MAXIMUM[d]} for d, v in row["dimensions"].items() if v is not None
        },
        "ratings": row["ratings"],
        "datasets_href": settings().base + search_href([("publisher", publisher.key)]),
    }


def _methodology() -> dict:
    return {
        "maximum": TOTAL_MAXIMUM,
        "ratings": [{"key": key, "label": label, "from": floor} for floor, key, label in RATINGS],
        "dimensions": [
            {
                "key": d,
                "label": label,
                "of": MAXIMUM[d],
                "checks": [
                    {
                        "name": c.name,
                        "points": c.points,
                        "description": c.description,
                        "per_distribution": c.per_distribution,
                    }
                    for c in CHECKS
                    if c.dimension == d
                ],
            }
            for d, label in DIMENSIONS
        ],
    }


def _wants_json(suffix: str | None) -> bool:
    if suffix not in (None, "json"):
        raise NotFound(f"there is no {suffix[:40]!r} representation of this page; available: .json")
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return suffix == "json" or best == "application/json"


@blueprint.get("/quality")
@blueprint.get("/quality.<suffix>")
def overview(suffix: str | None = None) -> Response:
    rows = search_index(snapshot()).quality_summary()
    if _wants_json(suffix):
        return jsonify(methodology=_methodology(), publishers=[_row_json(r) for r in rows])
    root = request.script_root
    measured = [r for r in rows if r["average"] is not None and r["publisher"].key != NOT_STATED][:15]
    chart = bar_chart(
        "chart-quality",
        "Average metadata quality by publisher (% of the points)",
        [
            Bar(r["publisher"].label, round(100 * r["average"] / TOTAL_MAXIMUM), f"{root}/quality/{r['publisher'].key}")
            for r in measured
        ],
    )
    html = render_template(
        "quality.html",
        rows=[_row_json(r) for r in rows],
        methodology=_methodology(),
        chart=chart if measured else None,
        nav_active="quality",
    )
    return Response(html, content_type="text/html; charset=utf-8")


@blueprint.get("/quality/<key>")
def publisher(key: str) -> Response:
    stem, dot, suffix = key.rpartition(".")
    key, suffix = (stem, suffix) if dot and suffix == "json" else (key, None)
    index = search_index(snapshot())
    value = index.value("publisher", key)
    row = next((r for r in index.quality_summary() if value is not None and r["publisher"].key == value.key), None)
    if row is None:
        raise NotFound(f"There is no publisher {key[:80]!r} with datasets in the catalogue.")
    data = _row_json(row)
    if _wants_json(suffix):
        return jsonify(methodology=_methodology(), **data)
    root = request.script_root
    ratings = [
        {
            "label": label,
            "count": data["ratings"].get(rating, 0),
            "href": root + search_href([("publisher", value.key), ("quality", rating)]),  # type: ignore[union-attr]
        }
        for _, rating, label in RATINGS
    ]
    html = render_template(
        "quality.html",
        rows=[data],
        one=data,
        ratings=ratings,
        methodology=_methodology(),
        nav_active="quality",
    )
    return Response(html, content_type="text/html; charset=utf-8")


__all__ = ["blueprint"]
