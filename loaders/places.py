"""Places as sources name them -> London boroughs (GSS codes).

Names and alternative names come from ``ontology/boroughs.ttl`` (passed in as lookups by the loader).
"""

from __future__ import annotations


def split_names(value: object) -> list[str]:
    """Names from a string ("Camden, Islington" / "Camden; Islington") or a list of strings."""
    if isinstance(value, str):
        parts = value.replace(";", ",").split(",") if ("," in value or ";" in value) else [value]
    elif isinstance(value, list):
        parts = [v for v in value if isinstance(v, str)]
    else:
        return []
    return [p.strip() for p in parts if p.strip()]


def borough_code(text: str, boroughs: dict, by_name: dict[str, str]) -> str | None:
    """A GSS code from a borough name, a GSS code, or an ONS statistical-geography / catalogue borough IRI."""
    text = text.strip()
    if text in boroughs:
        return text
    if "/" in text:
        tail = text.rstrip("/").rsplit("/", 1)[-1]
        if tail in boroughs:
            return tail
    lower = text.lower()
    found = by_name.get(lower)
    if found is None and lower.startswith("london borough of "):
        found = by_name.get(lower[len("london borough of ") :])
    return found
