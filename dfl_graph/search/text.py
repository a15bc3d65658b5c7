"""Text as the search index sees it: one tokenizer for index and queries, and its stemmer.

The index uses SQLite FTS5's ``porter unicode61`` tokenizer. Scoring and snippet attribution need
the same stems in Python, so :class:`Stemmer` asks FTS5 itself (an in-memory table with the same
tokenizer, read through ``fts5vocab``) rather than re-implementing Porter and drifting from it.
"""

from __future__ import annotations

import re
import sqlite3
import threading

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


class Stemmer:
    """Porter stems exactly as FTS5 makes them, cached (the catalogue's vocabulary is small)."""

    MAX_CACHE = 200_000

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(":memory:", check_same_thread=False)
            db.execute(f"CREATE VIRTUAL TABLE words USING fts5(word, tokenize='{TOKENIZER}')")
            db.execute("CREATE VIRTUAL TABLE stems USING fts5vocab(words, 'instance')")
            self._local.db = db
        return db

    def stems(self, words: list[str]) -> list[str]:
        """The stem of each word (each a single token as :func:`tokens` makes them)."""
        missing = [w for w in dict.fromkeys(words) if w not in self._cache]
        if missing:
            db = self._db()
            with db:  # one row per word: a word the tokenizer splits differently cannot shift the others
                db.executemany("INSERT INTO words(rowid, word) VALUES (?, ?)", enumerate(missing, start=1))
                found = dict(db.execute("SELECT doc, term FROM stems WHERE offset = 0").fetchall())
                db.execute("DELETE FROM words")
            if len(self._cache) > self.MAX_CACHE:
                self._cache.clear()
            for row, word in enumerate(missing, start=1):
                self._cache[word] = found.get(row, word)
        return [self._cache[w] for w in words]

    def stem(self, word: str) -> str:
        return self.stems([word])[0]


STEMMER = Stemmer()

__all__ = ["MARK_CLOSE", "MARK_OPEN", "STEMMER", "TOKEN", "TOKENIZER", "Stemmer", "clean", "token_count", "tokens"]
