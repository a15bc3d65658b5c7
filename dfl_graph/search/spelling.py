"""Spelling correction from the index's own vocabulary: "polution" finds pollution, "hackeny" Hackney.

The vocabulary is every word of the datasets' titles, keywords, publishers, themes and boroughs (and of
the synonym list), with how many datasets use it, written at build time (``spelling`` table). A word the
index does not know is corrected to the most used known word one edit away (a letter added, dropped,
changed, or two swapped: Norvig's candidates, looked up in the table); failing that, for words of five
letters or more, to the most used word two edits away among those sharing its first two letters (an
optimal-string-alignment distance over a short range of the table). Only words the index does not know
are ever corrected, so a correct query is never second-guessed.
"""

from __future__ import annotations

import sqlite3
import string
from collections.abc import Iterable

LETTERS = string.ascii_lowercase + string.digits
MIN_LENGTH = 3  # shorter words are codes or initials: not corrected
LONG_LENGTH = 5  # words this long may be two edits out


def edits1(word: str) -> set[str]:
    """Every string one edit from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in LETTERS]
    inserts = [a + c + b for a, b in splits for c in LETTERS]
    return set(deletes + swaps + replaces + inserts)


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _best(found: Iterable[tuple[str, int]]) -> str | None:
    ranked = sorted(found, key=lambda item: (-item[1], item[0]))
    return ranked[0][0] if ranked else None


def correct(db: sqlite3.Connection, word: str) -> str | None:
    """The known word ``word`` was most likely meant to be, or None (see the module docstring)."""
    word = word.lower()
    if len(word) < MIN_LENGTH or not word.isalnum() or word.isdigit():
        return None
    candidates = sorted(edits1(word) - {word})
    found: list[tuple[str, int]] = []
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found += db.execute(f"SELECT word, docs FROM spelling WHERE word IN ({marks})", chunk).fetchall()
    best = _best(found)
    if best or len(word) < LONG_LENGTH:
        return best
    rows = db.execute(
        "SELECT word, docs FROM spelling WHERE word >= ? AND word < ? AND length(word) BETWEEN ? AND ?",
        (word[:2], word[:2] + "\uffff", len(word) - 2, len(word) + 2),
    ).fetchall()
    return _best((w, n) for w, n in rows if distance(word, w) <= 2)


__all__ = ["correct", "distance", "edits1"]
