"""The result formats of the endpoint and how a request picks one (``Accept``, or ``format`` for browsers).

Three kinds of result: solutions (SELECT), a boolean (ASK) and a graph (CONSTRUCT/DESCRIBE); each has its
own formats. The named-query API adds a plain JSON rows format (:data:`ROWS_JSON`).
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MIMEAccept

FORMATS_NS = "http://www.w3.org/ns/formats/"


@dataclass(frozen=True)
class ResultFormat:
    name: str
    media_type: str
    label: str
    iri: str | None = None  # the W3C formats IRI (service description)
    text: bool = False  # a text/* type: send a charset

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.text else self.media_type


JSON = ResultFormat("json", "application/sparql-results+json", "SPARQL JSON", FORMATS_NS + "SPARQL_Results_JSON")
XML = ResultFormat("xml", "application/sparql-results+xml", "SPARQL XML", FORMATS_NS + "SPARQL_Results_XML")
CSV = ResultFormat("csv", "text/csv", "CSV", FORMATS_NS + "SPARQL_Results_CSV", text=True)
TSV = ResultFormat("tsv", "text/tab-separated-values", "TSV", FORMATS_NS + "SPARQL_Results_TSV", text=True)
TURTLE = ResultFormat("turtle", "text/turtle", "Turtle", FORMATS_NS + "Turtle", text=True)
JSON_LD = ResultFormat("jsonld", "application/ld+json", "JSON-LD", FORMATS_NS + "JSON-LD")
RDF_XML = ResultFormat("rdfxml", "application/rdf+xml", "RDF/XML", FORMATS_NS + "RDF_XML")
N_TRIPLES = ResultFormat("ntriples", "application/n-triples", "N-Triples", FORMATS_NS + "N-Triples", text=False)
ROWS_JSON = ResultFormat("rows", "application/json", "JSON rows")

BY_NAME = {f.name: f for f in (JSON, XML, CSV, TSV, TURTLE, JSON_LD, RDF_XML, N_TRIPLES, ROWS_JSON)}

# What each kind of result can be written as, in order of preference, with the media types (aliases
# included) that select each format.
OFFERS: dict[str, list[tuple[str, ResultFormat]]] = {
    "solutions": [
        (JSON.media_type, JSON),
        (XML.media_type, XML),
        (CSV.media_type, CSV),
        (TSV.media_type, TSV),
        ("application/json", JSON),
        ("application/xml", XML),
        ("text/xml", XML),
    ],
    "boolean": [
        (JSON.media_type, JSON),
        (XML.media_type, XML),
        ("application/json", JSON),
        ("application/xml", XML),
        ("text/xml", XML),
    ],
    "graph": [
        (TURTLE.media_type, TURTLE),
        (JSON_LD.media_type, JSON_LD),
        (RDF_XML.media_type, RDF_XML),
        (N_TRIPLES.media_type, N_TRIPLES),
        ("application/x-turtle", TURTLE),
        ("text/n3", TURTLE),
        ("application/json", JSON_LD),
        ("application/xml", RDF_XML),
        ("text/xml", RDF_XML),
        ("text/plain", N_TRIPLES),
    ],
}
RESULT_FORMATS = {kind: list(dict.fromkeys(f for _, f in offers)) for kind, offers in OFFERS.items()}

# ``format=`` (and ``output=``) values a browser or a client such as SPARQLWrapper sends.
_PARAM_NAMES = {
    "solutions": {"json": JSON, "srj": JSON, "xml": XML, "srx": XML, "csv": CSV, "tsv": TSV},
    "boolean": {"json": JSON, "srj": JSON, "xml": XML, "srx": XML},
    "graph": {
        "turtle": TURTLE,
        "ttl": TURTLE,
        "n3": TURTLE,
        "jsonld": JSON_LD,
        "json-ld": JSON_LD,
        "json": JSON_LD,
        "rdfxml": RDF_XML,
        "rdf": RDF_XML,
        "xml": RDF_XML,
        "rdf+xml": RDF_XML,
        "ntriples": N_TRIPLES,
        "nt": N_TRIPLES,
        "n-triples": N_TRIPLES,
    },
}


class NotAcceptable(Exception):
    """No format of this kind of result is acceptable to the client (406)."""

    def __init__(self, kind: str, asked: str) -> None:
        names = ", ".join(f"{f.media_type} (format={f.name})" for f in RESULT_FORMATS[kind])
        what = {"solutions": "SELECT results", "boolean": "ASK results", "graph": "CONSTRUCT/DESCRIBE results"}[kind]
        super().__init__(f"cannot answer {asked}: {what} are available as {names}")


def negotiate(kind: str, accept: MIMEAccept, format_param: str | None = None) -> ResultFormat:
    """The format to write a result of this kind in; ``format`` wins over ``Accept``."""
    offers = OFFERS[kind]
    if format_param:
        value = format_param.strip().lower()
        chosen = _PARAM_NAMES[kind].get(value) or next((f for m, f in offers if m == value.split(";")[0]), None)
        if chosen is None:
            raise NotAcceptable(kind, f"format={format_param!r}")
        return chosen
    if not accept:
        return offers[0][1]
    best = accept.best_match([m for m, _ in offers])
    if best is None:
        raise NotAcceptable(kind, f"Accept: {accept}")
    return next(f for m, f in offers if m == best)
