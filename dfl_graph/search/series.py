"""Series of datasets: the same publication in successive editions ("House prices by borough, 2016",
"..., 2017"), which search shows as one result, its latest edition, with "N earlier editions".

Two datasets are editions of one series when they have the same publisher and the same *title stem*: the
title's words without the years, months, quarters and financial years that tell the editions apart, as a
set (so "Hackney: Council tax bands, 2015" and "Council tax bands, 2016 - Hackney" are one series). The
latest edition is the one with the latest year in its title, then the most recently updated.
"""

from __future__ import annotations

import hashlib
import re

from dfl_graph.search.text import tokens

# a year (1900-2099), with an optional second part: 2009/10, 2009-10, 2009-2010, 2009-01 (a month)
_YEAR = re.compile(r"\b((?:19|20)\d{2})(?:\s*[/-]\s*(\d{2,4}))?\b")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
_PERIOD_WORDS = frozenset(
    {*_MONTHS, "january", "february", "march", "april", "june", "july", "august", "september", "october"}
    | {"november", "december", "q1", "q2", "q3", "q4", "to", "fy"}
)


def title_stem(title: str) -> str:
    """The words of a title that stay the same from one edition to the next, sorted, space-separated."""
    words = set(tokens(_YEAR.sub(" ", title))) - _PERIOD_WORDS
    return " ".join(sorted(w for w in words if not w.isdigit()))


def series_id(publisher: str | None, title: str) -> str:
    """A short, stable id of the series a dataset belongs to (every dataset has one; most series have one
    member)."""
    key = f"{publisher or ''}|{title_stem(title)}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def edition_key(title: str, updated: str) -> str:
    """Sorts the editions of a series, oldest first: the latest year named in the title (2009-2010 ends in
    2010), then what follows it (a month: "2010-02"; a financial year's end: "2017/18"), then the last update."""
    latest = (0, 0)
    for match in _YEAR.finditer(title):
        year, second = int(match.group(1)), match.group(2) or ""
        if len(second) == 4 and second.startswith(("19", "20")):
            year, second = int(second), ""
        latest = max(latest, (year, int(second) if second else 0))
    return f"{latest[0]:04d}|{latest[1]:04d}|{updated}"


__all__ = ["edition_key", "series_id", "title_stem"]
