"""Source values that become IRIs: web addresses and e-mail addresses made safe to write, or refused.

Every IRI the writer mints from a source value passes through here, so the store never holds an invalid IRI.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from pyoxigraph import NamedNode

_IRI_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


def clean_iri(value: str | None, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """An absolute IRI with one of ``schemes`` and a host that pyoxigraph accepts, percent-encoding
    stray characters such as spaces; None when the value cannot be one."""
    if not value:
        return None
    text = value.strip()
    sep = text.find("://")
    if sep <= 0 or text[:sep].lower() not in schemes or len(text) <= sep + 3 or text[sep + 3] in "/?#":
        return None
    try:
        NamedNode(text)
        return text
    except ValueError:
        pass
    quoted = quote(text, safe=_IRI_SAFE)
    try:
        NamedNode(quoted)
        return quoted
    except ValueError:
        return None


_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def clean_email(value: str | None) -> str | None:
    """An e-mail address (a ``mailto:`` prefix stripped) that makes a valid ``mailto:`` IRI, else None."""
    if not value:
        return None
    text = value.strip()
    if text.lower().startswith("mailto:"):
        text = text[7:].strip()
    if not _EMAIL.match(text):
        return None
    try:
        NamedNode("mailto:" + text)
    except ValueError:
        return None
    return text
