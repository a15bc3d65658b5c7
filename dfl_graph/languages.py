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


def variants(literals: Sequence[Literal]) -> list[list[str]] | None:
    """A text's literals as a list record keeps them: ``[tag, value]`` pairs, or None for one English text."""
    if len(literals) == 1 and literals[0].language == "en":
        return None
    return [[lit.language or "", lit.value] for lit in literals] or None


def record_texts(record: dict, languages: Sequence[str] = DEFAULT_LANGUAGES) -> tuple[str, str, str | None]:
    """A list record's title and description for a reader of ``languages``, and the title's language tag."""
    kept = record.get("languages") or {}
    chosen: list[tuple[str, str | None]] = []
    for name in ("title", "description"):
        text = record.get(name) or ""
        pairs = kept.get(name)
        best = (
            best_literal([Literal(value, language=tag or None) for tag, value in pairs], languages) if pairs else None
        )
        chosen.append((best.value, best.language) if best is not None else (text, "en" if text else None))
    (title, language), (description, _language) = chosen
    return title, description, language


def localised(record: dict, languages: Sequence[str] = DEFAULT_LANGUAGES) -> dict:
    """A list record with its title and description in the reader's language, and ``language`` the title's tag."""
    title, description, language = record_texts(record, languages)
    return {**record, "title": title, "description": description, "language": language}


__all__ = [
    "DEFAULT_LANGUAGES",
    "best_literal",
    "in_best_language",
    "localised",
    "preferred_languages",
    "record_texts",
    "variants",
]
