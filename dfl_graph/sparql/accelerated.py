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
from dfl_graph.sparql.shape_index import Undetermined, shape_index_of
from dfl_graph.sparql.shapes import recognise

INDEX = "index"  # the header's "answered_by" for answers from the shape index (the engine's is "engine")


def answer_from_index(generation_dir: Path, job: dict) -> tuple[dict, bytes] | None:
    """(header, body) as a worker would send them, or None when the shape index cannot answer exactly."""
    if not job.get("store_default_graph") or job.get("substitutions") or "solutions" not in job["formats"]:
        return None
    shape = recognise(job["query"], job.get("base_iri"))
    if shape is None:
        return None
    index = shape_index_of(generation_dir)
    if index is None:
        return None
    started = time.monotonic()
    try:
        solutions = index.answer(shape, job["max_rows"])
    except Undetermined:
        return None
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
