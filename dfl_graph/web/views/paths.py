"""From a request path to the resource it names and the format suffix it asks for.

``/dataset/x.ttl`` names the dataset ``x`` in Turtle, unless a resource is really called ``x.ttl``
(ids may contain dots). A suffix that is no format (``.exe``) on an existing resource is a 404 that
lists the suffixes there are; every other miss is the plain 404 of an unknown resource.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import request
from werkzeug.exceptions import NotFound, RequestURITooLarge

from dfl_graph.web.access import settings
from dfl_graph.web.negotiation import ALL_FORMATS, RESOURCE_FORMATS, Format, split_suffix

MAX_PATH = 2048


def check_length() -> None:
    """Refuse absurdly long resource paths before touching the store."""
    if len(request.path) > MAX_PATH:
        raise RequestURITooLarge(
            f"the path is {len(request.path)} characters long; resource paths are at most {MAX_PATH}"
        )


def resolve(
    name: str, exists: Callable[[str], bool], formats: tuple[Format, ...] = RESOURCE_FORMATS
) -> tuple[str, str | None]:
    """(resource key, format suffix or None) for the last path segment."""
    stem, suffix = split_suffix(name)
    if suffix is None or exists(name):
        return name, None
    if suffix.lower() in ALL_FORMATS:
        return stem, suffix.lower()
    if exists(stem):
        suffixes = ", ".join(f".{f.name}" for f in formats)
        raise NotFound(f"there is no {'.' + suffix[:40]!r} representation of this resource; available: {suffixes}")
    return name, None


def local(iri: str | None) -> str | None:
    """An IRI under the base as a path on this server (so links work behind a proxy and in development);
    any other IRI unchanged."""
    if not iri:
        return iri
    base = settings().base
    if iri == base or iri.startswith(base + "/") or iri.startswith(base + "#"):
        return request.script_root + (iri[len(base) :] or "/")
    return iri


__all__ = ["MAX_PATH", "check_length", "local", "resolve"]
