"""Text as the search index sees it: one tokenizer for index and queries, and its stemmer.

The index uses SQLite FTS5's ``porter unicode61`` tokenizer. Scoring and snippet attribution need
the same stems in Python, so :class:`Stemmer` asks FTS5 itself (an in-memory table with the same
tokenizer, read through ``fts5vocab``) rather than re-implementing Porter and drifting from it.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence

TOKENIZER = "porter unicode61 remove_diacritics 2"
# unicode61 keeps letters and digits together and splits on everything else (underscore included)
TOKEN = re.compile(r"[^\W_]+")
# highlight() markers: control characters no catalogue text keeps (stripped at index time)
MARK_OPEN, MARK_CLOSE = "\x01", "\x02"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str | None) -> str:
    """Catalogue text ready for the index: control characters (our highlight markers) removed."""
    return _CONTROL.sub(" ", text) if text else ""


def tokens(text: str) -> list[str]:
    """The words of a text as the tokenizer splits them (before stemming), lower-cased."""
    return [t.lower() for t in TOKEN.findall(text)]


def token_count(text: str) -> int:
    return len(TOKEN.findall(text))


def scratch_index(columns: Sequence[str], vocabulary: str) -> sqlite3.Connection:
    """An in-memory FTS5 table ``scratch`` over ``columns`` with the index's tokenizer, and its ``fts5vocab``
    table ``vocab`` of the given kind ("row", "instance"): what the index makes of a text, asked of FTS5 itself
    rather than imitated."""
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute(f"CREATE VIRTUAL TABLE scratch USING fts5({', '.join(columns)}, tokenize='{TOKENIZER}')")
    db.execute(f"CREATE VIRTUAL TABLE vocab USING fts5vocab(scratch, '{vocabulary}')")
    return db


def terms_of(rows: Iterable[Sequence[str]], columns: Sequence[str]) -> list[str]:
    """Every term the index makes of some rows of text (one value per column)."""
    db = scratch_index(columns, "row")
    try:
        db.executemany(f"INSERT INTO scratch VALUES ({', '.join('?' * len(columns))})", rows)
        return [row[0] for row in db.execute("SELECT term FROM vocab")]
    finally:
        db.close()


class Stemmer:
    """Porter stems exactly as FTS5 makes them, cached (the catalogue's vocabulary is small)."""

    MAX_CACHE = 200_000

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = scratch_index(["word"], "instance")
            self._local.db = db
        return db

    def stems(self, words: list[str]) -> list[str]:
        """The stem of each word (each a single token as :func:`tokens` makes them)."""
        missing = [w for w in dict.fromkeys(words) if w not in self._cache]
        if missing:
            db = self._db()
            with db:  # one row per word: a word the tokenizer splits differently cannot shift the others
                db.executemany("INSERT INTO scratch(rowid, word) VALUES (?, ?)", enumerate(missing, start=1))
                found = dict(db.execute("SELECT doc, term FROM vocab WHERE offset = 0").fetchall())
                db.execute("DELETE FROM scratch")
            if len(self._cache) > self.MAX_CACHE:
                self._cache.clear()
            for row, word in enumerate(missing, start=1):
                self._cache[word] = found.get(row, word)
        return [self._cache[w] for w in words]

    def stem(self, word: str) -> str:
        return self.stems([word])[0]


STEMMER = Stemmer()

__all__ = [
    "MARK_CLOSE",
    "MARK_OPEN",
    "STEMMER",
    "TOKEN",
    "TOKENIZER",
    "Stemmer",
    "clean",
    "scratch_index",
    "terms_of",
    "token_count",
    "tokens",
]
