"""Dates as sources write them -> :class:`When` at the precision given (gYear, gYearMonth, date, dateTime)."""

from __future__ import annotations

from functools import lru_cache

from dfl_graph.records import _DATE_FORMS, When

# The date-time form of When.parse, tried first: exports are mostly instants. Everything else goes
# through When.parse itself, so the accepted forms are exactly the record model's.
_DATETIME = next(pattern for pattern, datatype in _DATE_FORMS if datatype == "dateTime")


def parse_when(value: object) -> When | None:
    """:meth:`When.parse` for a source value (None for absent/empty; ValueError when unreadable)."""
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else str(value)
    if len(text) > 16 and _DATETIME.match(text):
        return When(text, "dateTime")
    return _parse_short_when(text)


@lru_cache(maxsize=4096)
def _parse_short_when(text: str) -> When | None:
    return When.parse(text)
