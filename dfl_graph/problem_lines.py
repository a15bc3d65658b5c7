"""Problems as JSON lines: one object per problem, for publishers to read, filter and fix.

``dfl load --problems FILE`` writes every problem of a run this way (the terminal shows only the first
50). Each line is ``{"record": ..., "field": ..., "what": ..., "value": ...}``: the record as the source
names it (id, IRI or ``#position``), the field as the source names it, what is wrong or was done, and the
value concerned (``null`` when there is none), so a line can be traced back to the source without us.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dfl_graph.records import Problem


def problem_object(problem: Problem) -> dict[str, Any]:
    return {"record": problem.record, "field": problem.field, "what": problem.what, "value": problem.value}


def write_problem_lines(problems: Iterable[Problem], path: Path) -> int:
    """Write the problems to ``path`` (replacing it); the number written."""
    written = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for problem in problems:
            out.write(json.dumps(problem_object(problem), ensure_ascii=False) + "\n")
            written += 1
    return written
