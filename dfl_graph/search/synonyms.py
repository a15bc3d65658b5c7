"""Words people search with that catalogue titles do not use: "air quality" for NO2 and PM10
datasets, "tube" for the Underground, "unemployment" for claimant counts.

Each line of :data:`SYNONYMS` is a set of equivalent expressions. A query word or phrase that is one
of them (compared by stem, so "schools" is "school") also matches the others, which score at
:data:`SYNONYM_WEIGHT` of a literal match: the datasets that say what the user typed come first.
Curated for London's data; extend it when a search that should find something finds nothing.
"""

from __future__ import annotations

from functools import cache

from dfl_graph.search.text import STEMMER, tokens

SYNONYM_WEIGHT = 0.5

SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("air quality", "air pollution", "pollution", "no2", "nitrogen dioxide", "pm10", "pm2.5", "particulates", "laei"),
    ("underground", "tube", "london underground"),
    ("unemployment", "unemployed", "jobless", "claimant count", "job seekers", "jobseekers"),
    ("planning applications", "planning approvals", "planning permissions"),
    ("schools", "pupils", "education"),
    ("cycling", "cycle", "bicycle", "bike", "bikes", "cycle hire"),
    ("deaths", "mortality"),
    ("obesity", "overweight"),
    ("recycling", "re-use", "reuse"),
    ("homelessness", "homeless", "rough sleeping"),
    ("income", "earnings", "pay", "wages"),
    ("jobs", "employment", "employees"),
    ("flooding", "floodplain", "flood risk"),
    ("drinking", "alcohol"),
    ("ethnicity", "ethnic group"),
    ("immigration", "migration", "overseas nationals"),
    ("elections", "election results", "voters"),
    ("buses", "bus"),
    ("carbon", "co2", "carbon dioxide", "greenhouse gas"),
    ("fly tipping", "dumping"),
    ("house prices", "property prices"),
    ("flu", "influenza"),
    ("road accidents", "road casualties", "collisions"),
)


@cache
def _table() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Stems of each expression -> the other expressions of its set (as token tuples)."""
    table: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    for group in SYNONYMS:
        expressions = [tuple(tokens(e)) for e in group]
        for expression in expressions:
            key = tuple(STEMMER.stems(list(expression)))
            others = tuple(e for e in expressions if tuple(STEMMER.stems(list(e))) != key)
            table[key] = tuple(dict.fromkeys(table.get(key, ()) + others))
    return table


def longest_key() -> int:
    return max(len(k) for k in _table())


def alternatives(words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The other expressions of the set ``words`` belong to (empty when it is in none)."""
    return _table().get(tuple(STEMMER.stems(list(words))), ())


__all__ = ["SYNONYMS", "SYNONYM_WEIGHT", "alternatives", "longest_key"]
