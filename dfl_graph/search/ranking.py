"""How search orders what matches: BM25 per column, a mild boost for fresh and well-described datasets,
then one result per series.

**Relevance.** BM25 per column, weighted (:data:`WEIGHTS`: a title match outweighs a description match),
k1 = 1.2, b = 0.75, each column normalised by its own average length. Term frequencies come from FTS5's
``highlight()`` of each candidate row (the marked spans are attributed to query terms by their stems), the
IDF from the index's ``terms`` table. A synonym's IDF is scaled by its weight (half a typed word's).

**Boosts.** The relevance score is multiplied by ``1 + FRESHNESS × f + QUALITY × q`` (at most 1.3):

* ``f`` = 0.5 ** (age / 2 years), the age counted from the catalogue's most recently updated dataset (not
  the clock, so a generation ranks the same whenever it is read); 0 for a dataset with no date;
* ``q`` = the dataset's metadata quality points / 405 (:mod:`dfl_graph.quality`); 0 when unmeasured.

So among datasets that match about equally, the fresh and well-described come first, but a boost never
lifts a description-only match over a title match (the title weighs 10, the description 1).

**Series.** Editions of one series (:mod:`dfl_graph.search.series`) are shown as one result: at the place
of the best-ranked edition, the latest edition that matched (a current one before an archived one).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from dfl_graph.quality import TOTAL_MAXIMUM
from dfl_graph.search.query import TEXT_COLUMNS, Term
from dfl_graph.search.text import MARK_OPEN, STEMMER, tokens

WEIGHTS = {"title": 10.0, "keywords": 5.0, "description": 1.0, "publisher": 3.0, "themes": 3.0, "boroughs": 3.0}
K1, B = 1.2, 0.75
FRESHNESS, QUALITY = 0.2, 0.1
HALF_LIFE_YEARS = 2.0
_SPAN = re.compile("\x01(.*?)\x02", re.S)


def fractional_year(date: str) -> float | None:
    """A lexical date (``2016``, ``2016-05``, ``2016-05-03T…``) as a fractional year."""
    if len(date) < 4 or not date[:4].isdigit():
        return None
    month = int(date[5:7]) if len(date) >= 7 and date[5:7].isdigit() else 1
    return int(date[:4]) + (month - 1) / 12


def boost(updated: str, quality: int | None, newest: float | None) -> float:
    """The multiplier of a dataset's relevance (see the module docstring)."""
    fresh = 0.0
    when = fractional_year(updated)
    if when is not None and newest is not None:
        fresh = 0.5 ** (max(newest - when, 0.0) / HALF_LIFE_YEARS)
    return 1 + FRESHNESS * fresh + QUALITY * ((quality or 0) / TOTAL_MAXIMUM)


@dataclass(frozen=True)
class Candidate:
    """A scored row: its rank key and what grouping and the hits need."""

    rowid: int
    score: float
    demoted: bool
    series: str
    edition: str


def collapse(candidates: list[Candidate]) -> list[Candidate]:
    """Best first, one per series: at the best edition's place, the latest edition that matched."""
    ordered = sorted(candidates, key=lambda c: (c.demoted, -c.score, c.rowid))
    shown: dict[str, int] = {}
    result: list[Candidate] = []
    for candidate in ordered:
        place = shown.get(candidate.series)
        if place is None:
            shown[candidate.series] = len(result)
            result.append(candidate)
            continue
        best = result[place]
        if (not candidate.demoted, candidate.edition) > (not best.demoted, best.edition):
            result[place] = Candidate(candidate.rowid, best.score, best.demoted, best.series, candidate.edition)
    return result


class Scorer:
    """BM25 per column, weighted, for one query's terms; rows are (rowid, one highlight() per text column,
    one length per text column, ...)."""

    def __init__(self, terms: list[Term], documents: int, frequency, average_lengths: dict[str, float]) -> None:
        self.terms = [(tuple(STEMMER.stems(list(t.words))), t.prefix) for t in terms]
        self.idf = []
        for (stems, prefix), term in zip(self.terms, terms, strict=True):
            if len(stems) == 1:
                df = frequency(stems[0], prefix)
            else:
                df = min(frequency(s, prefix and i == len(stems) - 1) for i, s in enumerate(stems))
            self.idf.append(math.log(1 + (documents - df + 0.5) / (df + 0.5)) * term.weight)
        self.single = len(self.terms) == 1
        # how marked spans are attributed: single words by stem, prefixes by start, phrases by sequence
        self.words: dict[str, list[int]] = {}
        self.prefixes: list[tuple[int, str]] = []
        self.phrases: list[tuple[int, tuple[str, ...], bool]] = []
        for i, (stems, prefix) in enumerate(self.terms):
            if len(stems) > 1:
                self.phrases.append((i, stems, prefix))
            elif prefix:
                self.prefixes.append((i, stems[0]))
            else:
                self.words.setdefault(stems[0], []).append(i)
        # per column: weight, and BM25's length norm k1 * (1 - b + b * length / average) as fixed + per token
        self.columns = [
            (i, WEIGHTS[c], K1 * (1 - B), K1 * B / max(average_lengths[c], 1.0)) for i, c in enumerate(TEXT_COLUMNS)
        ]

    def frequencies(self, marked: str) -> list[int]:
        """How often each term occurs in a highlighted column (each marked span attributed by its stems)."""
        counts = [0] * len(self.terms)
        words, prefixes, phrases = self.words, self.prefixes, self.phrases
        for span in _SPAN.findall(marked):
            stemmed = _span_stems(span)
            for stem in stemmed:
                for i in words.get(stem, ()):
                    counts[i] += 1
                for i, prefix in prefixes:
                    if stem.startswith(prefix):
                        counts[i] += 1
            if len(stemmed) > 1:
                for i, stems, prefix in phrases:
                    counts[i] += _occurrences(stemmed, stems, prefix)
        return counts

    def matched(self, row: tuple) -> set[int]:
        """The indexes of the terms found anywhere in a row."""
        found: set[int] = set()
        for c, *_ in self.columns:
            marked = row[1 + c]
            if MARK_OPEN in marked:
                found.update(i for i, tf in enumerate(self.frequencies(marked)) if tf)
        return found

    def score(self, row: tuple) -> float:
        """BM25 of a candidate row, before boosts."""
        total = 0.0
        lengths = len(TEXT_COLUMNS) + 1
        for c, weight, fixed, per_token in self.columns:
            marked = row[1 + c]
            if MARK_OPEN not in marked:
                continue
            norm = fixed + per_token * row[lengths + c]
            if self.single:  # every marked span is an instance of the one term
                tf = marked.count(MARK_OPEN)
                total += weight * self.idf[0] * tf * (K1 + 1) / (tf + norm)
                continue
            for i, tf in enumerate(self.frequencies(marked)):
                if tf:
                    total += weight * self.idf[i] * tf * (K1 + 1) / (tf + norm)
        return total


@lru_cache(maxsize=65536)
def _span_stems(span: str) -> tuple[str, ...]:
    return tuple(STEMMER.stems(tokens(span)))


def _occurrences(stemmed: tuple[str, ...], stems: tuple[str, ...], prefix: bool) -> int:
    n = len(stems)
    head, last = stems[:-1], stems[-1]
    count = 0
    for start in range(len(stemmed) - n + 1):
        end = stemmed[start + n - 1]
        if stemmed[start : start + n - 1] == head and (end.startswith(last) if prefix else end == last):
            count += 1
    return count


__all__ = ["WEIGHTS", "Candidate", "Scorer", "boost", "collapse", "fractional_year"]
