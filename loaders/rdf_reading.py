"""Reading RDF documents into statements: the one parser the DCAT loader and the harvester share.

pyoxigraph parses every syntax; two cases it leaves to rdflib:

* JSON-LD it refuses for another reason than bad JSON is retried with rdflib -- but a document that names
  a remote ``@context`` is refused (loaders and harvests never fetch a URL the document names);
* RDF/XML errors come from pyoxigraph without a position, so the document is read again with rdflib's
  SAX-based parser only to find the line and column, reported like Turtle's.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple, parse

Term = NamedNode | BlankNode | Literal
_SAX_POSITION = re.compile(r":(\d+):(\d+):\s*(.*)$", re.S)


class RdfReadError(Exception):
    """A document that is not the RDF it claims to be: what is wrong and, where known, ``line:column``.

    ``reason`` is what the parser said; ``message`` says it for a reader ("malformed Turtle: ...").
    """

    def __init__(self, reason: str, position: str | None = None, syntax: str | None = None) -> None:
        self.reason = reason
        self.position = position
        self.message = f"malformed {syntax}: {reason}" if syntax else reason
        super().__init__(f"{position}: {self.message}" if position else self.message)


def read_rdf(raw: bytes, rdf_format: RdfFormat, base_iri: str) -> list[Quad | Triple]:
    """Every statement of the document (a leading UTF-8 byte-order mark is skipped), or RdfReadError."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return list(parse(raw, rdf_format, base_iri=base_iri))
    except SyntaxError as error:
        message = str(error.args[0]) if error.args else str(error)
        if rdf_format is RdfFormat.JSON_LD:
            return _json_ld_fallback(raw, base_iri, message)
        position = f"{error.lineno}:{error.offset}" if error.lineno else None
        if position is None and rdf_format is RdfFormat.RDF_XML:
            position, message = _rdf_xml_position(raw, base_iri, message)
        raise RdfReadError(message, position, rdf_format.name) from None


def _rdf_xml_position(raw: bytes, base_iri: str, message: str) -> tuple[str | None, str]:
    """Where rdflib's RDF/XML parser stops on the same document (its message, when it gives a position)."""
    import rdflib

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rdflib.Graph().parse(data=raw, format="xml", publicID=base_iri)
    except Exception as rdflib_error:  # SAXParseException, ParserError ...: all carry "id:line:column: message"
        found = _SAX_POSITION.search(str(rdflib_error))
        if found:
            return f"{found.group(1)}:{found.group(2)}", f"{message} ({found.group(3).strip()})"
    return None, message


def _json_ld_fallback(raw: bytes, base_iri: str, message: str) -> list[Triple]:
    """JSON-LD pyoxigraph refuses: bad JSON is reported with its position; remote contexts are not
    fetched; anything else is retried with rdflib."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise RdfReadError(f"not UTF-8 ({error.reason} at byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise RdfReadError(f"malformed JSON: {error.msg}", f"{error.lineno}:{error.colno}") from None
    if "remote context" in message.lower() or "LoadDocumentCallback" in message or remote_context(document):
        raise RdfReadError("JSON-LD with a remote @context: loaders do not fetch URLs; inline the context") from None
    try:
        import rdflib

        graph = rdflib.Graph()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # rdflib's own use of ConjunctiveGraph
            graph.parse(data=raw.decode("utf-8"), format="json-ld", publicID=base_iri)
        return [Triple(*(_from_rdflib(term) for term in triple)) for triple in graph]
    except Exception as rdflib_error:  # rdflib raises many kinds; all mean "unreadable"
        raise RdfReadError(f"{message} (rdflib: {rdflib_error})", syntax="JSON-LD") from None


def remote_context(node: Any) -> bool:
    """True if any @context in the document names a context by URL (which rdflib would fetch)."""
    if isinstance(node, list):
        return any(remote_context(item) for item in node)
    if not isinstance(node, dict):
        return False
    for key, value in node.items():
        if key == "@context":
            contexts = value if isinstance(value, list) else [value]
            if any(isinstance(c, str) for c in contexts) or any(remote_context(c) for c in contexts):
                return True
        elif remote_context(value):
            return True
    return False


def _from_rdflib(value: Any) -> Term:
    """An rdflib term as a pyoxigraph term (ValueError for a term rdflib let through that is no valid RDF)."""
    import rdflib

    if isinstance(value, rdflib.URIRef):
        return NamedNode(str(value))
    if isinstance(value, rdflib.BNode):
        return BlankNode(str(value))
    if value.language:
        return Literal(str(value), language=value.language)
    if value.datatype:
        return Literal(str(value), datatype=NamedNode(str(value.datatype)))
    return Literal(str(value))


__all__ = ["RdfReadError", "read_rdf", "remote_context"]
