"""Words people search with that catalogue titles do not use: "air quality" for NO2 and PM10 datasets,
"tube" for the Underground, "boris bikes" for cycle hire, "vaccination" for immunisation.

The list is data, reviewed like code: ``data/search/synonyms.txt``, in the Solr synonym format (``a, b, c``
equivalent; ``x, y => a, b`` one way). A query word or phrase that is one of them (compared by stem, so
"schools" is "school") also matches the others, which score at :data:`SYNONYM_WEIGHT` of a literal match:
the datasets that say what the user typed come first.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from dfl_graph.search.text import STEMMER, tokens

SYNONYM_WEIGHT = 0.5
SYNONYMS_FILE = Path(__file__).resolve().parents[2] / "data" / "search" / "synonyms.txt"


class SynonymError(ValueError):
    """A line of the synonym file that is not a rule; the message names the line."""


Rule = tuple[tuple[str, ...], tuple[str, ...]]  # (expressions that trigger, expressions they also match)


def read_rules(path: Path = SYNONYMS_FILE) -> list[Rule]:
    """The rules of a synonym file: an equivalence ``a, b`` is the rule ``a, b => a, b``."""
    rules: list[Rule] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        left, arrow, right = text.partition("=>")
        sources = tuple(e.strip() for e in left.split(",") if e.strip())
        targets = tuple(e.strip() for e in right.split(",") if e.strip()) if arrow else sources
        if not sources or not targets or (not arrow and len(sources) < 2):
            raise SynonymError(f"{path.name} line {number}: {line.strip()!r} is not 'a, b, ...' or 'a, b => c, d'")
        for expression in (*sources, *targets):
            if not tokens(expression):
                raise SynonymError(f"{path.name} line {number}: {expression!r} has no words")
        rules.append((sources, targets))
    return rules


def _key(expression: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(STEMMER.stems(list(expression)))


@cache
def _table() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Stems of each triggering expression -> the other expressions it also matches (as token tuples)."""
    table: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    for sources, targets in read_rules():
        others = [tuple(tokens(t)) for t in targets]
        for source in sources:
            key = _key(tuple(tokens(source)))
            found = tuple(o for o in others if _key(o) != key)
            table[key] = tuple(dict.fromkeys(table.get(key, ()) + found))
    return table


def longest_key() -> int:
    return max(len(k) for k in _table())


def alternatives(words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The other expressions a query expression also matches (empty when it triggers no rule)."""
    return _table().get(_key(words), ())


__all__ = ["SYNONYMS_FILE", "SYNONYM_WEIGHT", "SynonymError", "alternatives", "longest_key", "read_rules"]
