"""Which representation a request gets: the formats we publish, chosen by suffix, ``?format=`` or ``Accept``.

Order of precedence: a format suffix in the path (``/dataset/x.ttl``), then ``?format=``, then the
``Accept`` header (parsed by werkzeug, q-values and wildcards included). Nothing acceptable is a
406 that lists what there is; an ``Accept`` header with no parseable media range at all is a 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import BadRequest, NotAcceptable, NotFound
from werkzeug.http import parse_accept_header


@dataclass(frozen=True)
class Format:
    """One representation: its short name (= path suffix), media type and what it is."""

    name: str
    media_type: str
    label: str
    rdf: bool
    aliases: tuple[str, ...] = ()  # other media types that mean the same
    names: tuple[str, ...] = ()  # other ``?format=`` spellings

    @property
    def content_type(self) -> str:
        textual = self.media_type.startswith("text/") or self.media_type.endswith(("+xml", "xml"))
        return f"{self.media_type}; charset=utf-8" if textual else self.media_type


HTML = Format("html", "text/html", "HTML", False, ("application/xhtml+xml",))
TURTLE = Format("ttl", "text/turtle", "Turtle", True, ("application/x-turtle",), ("turtle",))
JSON_LD = Format("jsonld", "application/ld+json", "JSON-LD", True, (), ("json-ld",))
RDF_XML = Format("rdf", "application/rdf+xml", "RDF/XML", True, ("application/xml", "text/xml"), ("rdfxml", "xml"))
N_TRIPLES = Format("nt", "application/n-triples", "N-Triples", True, (), ("ntriples", "n-triples"))
JSON = Format("json", "application/json", "JSON", False)
N_QUADS = Format("nq", "application/n-quads", "N-Quads", True, (), ("nquads", "n-quads"))
# Formats a document's triples are also valid in (its default graph, for the quad formats): for clients that
# only ask for these. Not advertised as alternates: the four above say the same.
TRIG = Format("trig", "application/trig", "TriG", True)
N3 = Format("n3", "text/n3", "N3", True, ("text/rdf+n3",))

# The order matters: it breaks ties (``*/*`` gets HTML, ``application/*`` JSON-LD).
RESOURCE_FORMATS: tuple[Format, ...] = (HTML, TURTLE, JSON_LD, RDF_XML, N_TRIPLES, JSON)
RDF_FORMATS: tuple[Format, ...] = (TURTLE, JSON_LD, RDF_XML, N_TRIPLES)
# what a document answers: the advertised formats, then the others its triples can be written in
DOCUMENT_FORMATS: tuple[Format, ...] = (*RESOURCE_FORMATS, N_QUADS, TRIG, N3)
ALL_FORMATS: dict[str, Format] = {f.name: f for f in DOCUMENT_FORMATS}

JSON_LD_PROFILES = {
    "http://www.w3.org/ns/json-ld#expanded": "expanded",
    "http://www.w3.org/ns/json-ld#compacted": "compacted",
    "http://www.w3.org/ns/json-ld#flattened": "flattened",
}

_MEDIA_RANGE = re.compile(r"^(\*/\*|[A-Za-z0-9][\w!#$&^.+-]*/(\*|[A-Za-z0-9][\w!#$&^.+-]*))$")


def by_name(name: str) -> Format | None:
    """A format by suffix, alias name or media type (``ttl``, ``turtle``, ``text/turtle``)."""
    key = name.strip().lower()
    for fmt in ALL_FORMATS.values():
        if key == fmt.name or key in fmt.names or key == fmt.media_type or key in fmt.aliases:
            return fmt
    return None


def split_suffix(segment: str) -> tuple[str, str | None]:
    """``"x.ttl"`` -> ``("x", "ttl")``; a segment without a dot -> ``(segment, None)``."""
    stem, dot, suffix = segment.rpartition(".")
    if not dot or not stem or not suffix:
        return segment, None
    return stem, suffix


def parse_accept(header: str | None) -> MIMEAccept | None:
    """The client's media ranges, parameters other than q dropped (a JSON-LD ``profile`` must not
    stop a match); None when there is no header. Raises 400 when a non-empty header has no valid range."""
    if header is None or not header.strip():
        return None
    parsed = parse_accept_header(header, MIMEAccept)
    ranges = []
    for value, quality in parsed:
        media_range = value.split(";", 1)[0].strip().lower()
        if _MEDIA_RANGE.match(media_range):
            ranges.append((media_range, quality))
    if not ranges:
        raise BadRequest(
            f"malformed Accept header {header[:200]!r}: expected media ranges such as "
            '"text/turtle", "application/ld+json;q=0.9" or "*/*"'
        )
    return MIMEAccept(ranges)


def jsonld_profile(accept_header: str | None) -> str:
    """The JSON-LD form a client asks for with ``profile`` on ``application/ld+json`` (``expanded``, ``compacted``
    or ``flattened``; the first known one of the best-rated range), else ``compacted``, ours by default."""
    if not accept_header:
        return "compacted"
    ranges = parse_accept_header(accept_header)
    for value, _quality in sorted(ranges, key=lambda r: -r[1]):
        media, _, parameters = value.partition(";")
        if media.strip().lower() != JSON_LD.media_type:
            continue
        for parameter in parameters.split(";"):
            name, _, raw = parameter.partition("=")
            if name.strip().lower() == "profile":
                for iri in raw.strip().strip('"').split():
                    if iri in JSON_LD_PROFILES:
                        return JSON_LD_PROFILES[iri]
    return "compacted"


def negotiate(accept_header: str | None, available: tuple[Format, ...] = RESOURCE_FORMATS) -> Format:
    """The best of ``available`` for an Accept header (the first one when the client says nothing)."""
    accept = parse_accept(accept_header)
    if accept is None:
        return available[0]
    offers: list[str] = [f.media_type for f in available] + [a for f in available for a in f.aliases]
    best = accept.best_match(offers)
    if best is None:
        raise not_acceptable(available, accept_header or "")
    return next(f for f in available if best == f.media_type or best in f.aliases)


def not_acceptable(available: tuple[Format, ...], asked: str) -> NotAcceptable:
    listing = ", ".join(f"{f.media_type} (.{f.name})" for f in available)
    error = NotAcceptable(f"nothing here matches Accept: {asked[:200]}; available: {listing}")
    error.available = available  # type: ignore[attr-defined]  # the error page lists them
    return error


def choose(
    suffix: str | None, format_param: str | None, accept_header: str | None, available: tuple[Format, ...]
) -> tuple[Format, bool]:
    """The representation to send and whether it was negotiated from Accept (then ``Vary: Accept``)."""
    if suffix is not None:
        fmt = ALL_FORMATS.get(suffix.lower())
        if fmt is None or fmt not in available:
            suffixes = ", ".join(f".{f.name}" for f in available)
            raise NotFound(f"there is no {suffix[:50]!r} representation here; available suffixes: {suffixes}")
        return fmt, False
    if format_param is not None:
        fmt = by_name(format_param)
        if fmt is None or fmt not in available:
            names = ", ".join(f.name for f in available)
            raise BadRequest(f"unknown format {format_param[:100]!r}: use one of {names}")
        return fmt, False
    return negotiate(accept_header, available), True


__all__ = [
    "ALL_FORMATS",
    "DOCUMENT_FORMATS",
    "HTML",
    "JSON",
    "JSON_LD",
    "JSON_LD_PROFILES",
    "N3",
    "N_QUADS",
    "N_TRIPLES",
    "RDF_FORMATS",
    "RDF_XML",
    "RESOURCE_FORMATS",
    "TRIG",
    "TURTLE",
    "Format",
    "by_name",
    "choose",
    "jsonld_profile",
    "negotiate",
    "parse_accept",
    "split_suffix",
]
