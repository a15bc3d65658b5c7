"""Which of a resource's texts to show a reader: the best literal for their languages, English first by default.

The catalogue keeps every language a publisher wrote (``"Adressen"@nl`` beside ``"Addresses"@en``) and leaves
untagged what the source left untagged. A page shows one title: the reader's language when the publisher wrote
one (``Accept-Language``, best quality first), else English, else an untagged text, else any, so a Norwegian
reader sees the ``@nb`` title and everyone else the English one. Subtags match their language: a reader of
``en-GB`` gets ``@en``, and a reader of ``en`` gets ``@en-GB`` when that is all there is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pyoxigraph import Literal
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

DEFAULT_LANGUAGES: tuple[str, ...] = ("en",)


def preferred_languages(accept_language: str | None) -> tuple[str, ...]:
    """The languages of an ``Accept-Language`` header, best first (``*`` and q=0 dropped), then English."""
    ranges = parse_accept_header(accept_language or "", LanguageAccept)
    chosen = [value.lower() for value, quality in ranges if quality > 0 and value != "*"]
    return tuple(dict.fromkeys([*chosen, *DEFAULT_LANGUAGES]))


def _rank(literal: Literal, languages: Sequence[str]) -> tuple:
    tag = (literal.language or "").lower()
    primary = tag.split("-", 1)[0]
    for position, wanted in enumerate(languages):
        if tag == wanted:
            return (position, 0)
        if primary == wanted.split("-", 1)[0] and tag:
            return (position, 1)
    return (len(languages), 0 if not tag else 1)  # untagged before other languages


def best_literal(literals: Iterable[Literal], languages: Sequence[str] = DEFAULT_LANGUAGES) -> Literal | None:
    """The literal a reader of ``languages`` should see (ties broken by value, so the choice is stable)."""
    candidates = [lit for lit in literals if isinstance(lit, Literal)]
    if not candidates:
        return None
    return min(candidates, key=lambda lit: (_rank(lit, languages), lit.value))


def in_best_language(literals: Iterable[Literal], languages: Sequence[str] = DEFAULT_LANGUAGES) -> list[str]:
    """The values of a many-valued text (keywords) in the reader's best language, with the untagged ones."""
    candidates = [lit for lit in literals if isinstance(lit, Literal)]
    best = best_literal(candidates, languages)
    chosen = best.language if best is not None else None
    return list(dict.fromkeys(lit.value for lit in candidates if lit.language in (None, chosen)))


__all__ = ["DEFAULT_LANGUAGES", "best_literal", "in_best_language", "preferred_languages"]
