"""Answering a query job from the shape index, in the web process, when it can be answered exactly.

The everyday catalogue questions (:mod:`dfl_graph.sparql.shapes`) take milliseconds on the shape index
(:mod:`dfl_graph.sparql.shape_index`) and seconds on the engine. Answered here, they need no worker, wait
behind nothing, and the answer is written by the same serializer a worker uses, within the same caps, so the
bytes are the ones the engine's answer would have given. Anything the index cannot vouch for (``None``
here) goes to the worker pool as before.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from dfl_graph.sparql import serializers
from dfl_graph.sparql.formats import BY_NAME
from dfl_graph.sparql.inspection import tokens
from dfl_graph.sparql.shape_index import Undetermined, shape_index_of
from dfl_graph.sparql.shapes import recognise

INDEX = "index"  # the header's "answered_by" for answers from the shape index (the engine's is "engine")
ORDERED_BY_DATE = ("modified", "issued")
FACETS = {"theme": "theme", "spatial": "borough", "publisher": "publisher", "format": "format"}


def slow_query_advice(query: str, why_not_indexed: str, base: str) -> str:
    """What to do about a query that ran out of time: what made it slow (as far as its text tells), why the
    catalogue index could not answer it, and the API that answers the same question fast."""
    words = {t.text.upper() for t in tokens(query) if t.kind == "word"}
    names = {t.text.rsplit(":", 1)[-1].rsplit("/", 1)[-1].rsplit("#", 1)[-1].rstrip(">") for t in tokens(query)}
    slow, hints = [], []
    if "ORDER" in words:
        slow.append("it sorts every solution (ORDER BY)")
    if "GROUP" in words or "COUNT" in words:
        slow.append("it groups or counts over the whole catalogue")
    if words & {"CONTAINS", "REGEX", "STRSTARTS", "STRENDS"}:
        slow.append("a text filter reads every value it tests")
        hints.append(f"to find datasets by text, use the Library's search: {base}/api/search?q=…")
    if "LIMIT" not in words:
        slow.append("it has no LIMIT")
    if "ORDER" in words and names & set(ORDERED_BY_DATE):
        hints.append(
            f"the latest datasets: {base}/api/queries/recently-modified, or this query with a total order "
            "(ORDER BY DESC(?modified) ?dataset) and a LIMIT, which the catalogue index answers in milliseconds"
        )
    facets = sorted({FACETS[n] for n in names if n in FACETS})
    if ("GROUP" in words or "COUNT" in words) and facets:
        hints.append(
            f"counts per {', '.join(facets)}: the facets of {base}/api/search, or {base}/api/queries "
            "(datasets-by-theme, -by-publisher, -by-borough, distributions-by-format)"
        )
    hints.append(f"the whole public catalogue, to query on your own machine: {base}/catalog.nq")
    parts = []
    if slow:
        parts.append("What was slow: " + "; ".join(slow) + ".")
    parts.append(f"It was not answered from the catalogue index because {why_not_indexed}.")
    parts.append("Instead: " + "; ".join(hints) + ".")
    return "\n".join(parts)


def answer_from_index(generation_dir: Path, job: dict) -> tuple[dict, bytes] | str:
    """(header, body) as a worker would send them, or why the shape index cannot answer exactly."""
    if not job.get("store_default_graph") or job.get("substitutions") or "solutions" not in job["formats"]:
        return "it names its own graphs or is not a SELECT"
    shape = recognise(job["query"], job.get("base_iri"))
    if shape is None:
        return "it is not one of the shapes the catalogue index answers (see the endpoint's documentation)"
    index = shape_index_of(generation_dir)
    if index is None:
        return "this catalogue has no shape index"
    started = time.monotonic()
    try:
        solutions = index.answer(shape, job["max_rows"])
    except Undetermined as why:
        return str(why)
    rows = solutions.rows
    if solutions.more:  # one row past the cap, so that the serializer flags the cut as the worker's would
        rows = [*rows, rows[-1]]
    fmt = BY_NAME[job["formats"]["solutions"]]
    out = io.BytesIO()
    written = serializers.write_solutions(solutions.variables, rows, fmt, out, job["max_rows"], job["max_bytes"])
    body = out.getvalue()
    header = {
        "status": 200,
        "kind": "solutions",
        "format": fmt.name,
        "length": len(body),
        "rows": written.rows,
        "truncated": written.truncated,
        "seconds": round(time.monotonic() - started, 4),
        "answered_by": INDEX,
    }
    return header, body
