"""Access rights (EU access-right IRIs, sharing labels) -> :class:`AccessLevel`; unrecognised values give None.

Callers fail closed on None: an access value we cannot read never makes a dataset public.
"""

from __future__ import annotations

from dfl_graph.records import AccessLevel
from loaders.text import match_key

EU_ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right/"

_ACCESS_WORDS: dict[str, AccessLevel] = {
    "public": AccessLevel.PUBLIC,
    "open": AccessLevel.PUBLIC,
    "normal": AccessLevel.PUBLIC,
    "restricted": AccessLevel.RESTRICTED,
    "non public": AccessLevel.NON_PUBLIC,
    "nonpublic": AccessLevel.NON_PUBLIC,
    "not public": AccessLevel.NON_PUBLIC,
    "private": AccessLevel.NON_PUBLIC,
    "confidential": AccessLevel.NON_PUBLIC,
    "sensitive": AccessLevel.NON_PUBLIC,
}


def access_level(value: str | None) -> AccessLevel | None:
    """An EU access-right IRI or a label -> AccessLevel; None when unrecognised (callers fail closed)."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith(EU_ACCESS_RIGHT):
        text = text[len(EU_ACCESS_RIGHT) :]
    return _ACCESS_WORDS.get(match_key(text))
