"""Writing query results with row and byte caps, as complete documents even when a cap cuts them short.

Solutions are written here rather than by pyoxigraph's ``QuerySolutions.serialize`` because the caps must
stop a result at a row boundary and still close the document (a truncated JSON array is not JSON).
Graphs are written by pyoxigraph's serializers over a counted iterator of triples.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize

from dfl_graph.sparql.formats import CSV, JSON, JSON_LD, N_TRIPLES, RDF_XML, ROWS_JSON, TSV, TURTLE, XML, ResultFormat

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_DIR_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString"
_INTEGERS = {
    XSD + t
    for t in (
        "integer",
        "long",
        "int",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
    )
}
_TSV_BARE = {XSD + "integer": re.compile(r"^[+-]?\d+$"), XSD + "decimal": re.compile(r"^[+-]?\d*\.\d+$")}
RDF_FORMATS = {TURTLE: RdfFormat.TURTLE, JSON_LD: RdfFormat.JSON_LD, RDF_XML: RdfFormat.RDF_XML}
RDF_FORMATS[N_TRIPLES] = RdfFormat.N_TRIPLES
_FLUSH = 1 << 16


@dataclass
class Written:
    """How much was written, and which cap (if any) stopped it: "rows" or "bytes"."""

    rows: int = 0
    truncated: str | None = None


class _Budget:
    """Appends encoded pieces to an output while they fit in a byte budget."""

    def __init__(self, out: io.RawIOBase | io.BufferedIOBase, max_bytes: int, reserve: int) -> None:
        self.out = out
        self.left = max_bytes - reserve
        self.pending: list[bytes] = []
        self.pending_size = 0

    def add(self, data: bytes) -> bool:
        if len(data) > self.left:
            return False
        self.left -= len(data)
        self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size >= _FLUSH:
            self.flush()
        return True

    def flush(self) -> None:
        if self.pending:
            self.out.write(b"".join(self.pending))
            self.pending, self.pending_size = [], 0


# -- terms --------------------------------------------------------------------------------------------
def _json_term(term) -> dict:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        found = {"type": "literal", "value": term.value}
        if term.language:
            found["xml:lang"] = term.language
            if getattr(term, "direction", None) is not None:
                found["its:dir"] = str(term.direction).rsplit(".", 1)[-1].lower()
        elif term.datatype.value != XSD_STRING:
            found["datatype"] = term.datatype.value
        return found
    if isinstance(term, Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    raise TypeError(f"not an RDF term: {term!r}")


def _xml_term(term) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            attrs = f" xml:lang={quoteattr(term.language)}"
            if getattr(term, "direction", None) is not None:
                direction = str(term.direction).rsplit(".", 1)[-1].lower()
                attrs += f' its:dir="{direction}" xmlns:its="http://www.w3.org/2005/11/its" its:version="2.0"'
        elif term.datatype.value != XSD_STRING:
            attrs = f" datatype={quoteattr(term.datatype.value)}"
        else:
            attrs = ""
        return f"<literal{attrs}>{escape(term.value)}</literal>"
    if isinstance(term, Triple):
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
            f"</predicate><object>{_xml_term(term.object)}</object></triple>"
        )
    raise TypeError(f"not an RDF term: {term!r}")


def _csv_field(term) -> str:
    if term is None:
        return ""
    if isinstance(term, BlankNode):
        value = "_:" + term.value
    elif isinstance(term, NamedNode | Literal):
        value = term.value
    else:
        value = str(term)
    if any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _tsv_field(term) -> str:
    if term is None:
        return ""
    if isinstance(term, Literal) and not term.language:
        bare = _TSV_BARE.get(term.datatype.value)
        if bare is not None and bare.match(term.value):
            return term.value
    return str(term)


def _plain(term):
    """A JSON value for the rows format: IRIs and strings as strings, numbers and booleans as such."""
    if term is None:
        return None
    if isinstance(term, Literal):
        datatype = term.datatype.value
        try:
            if datatype in _INTEGERS:
                return int(term.value)
            if datatype in (XSD + "decimal", XSD + "double", XSD + "float"):
                return float(term.value)
        except ValueError:
            return term.value
        if datatype == XSD + "boolean":
            return term.value in ("true", "1")
        return term.value
    if isinstance(term, BlankNode):
        return "_:" + term.value
    if isinstance(term, NamedNode):
        return term.value
    return str(term)


# -- documents ----------------------------------------------------------------------------------------
def write_solutions(
    variables: list[str], solutions: Iterable, fmt: ResultFormat, out, max_rows: int, max_bytes: int
) -> Written:
    """Write SELECT solutions (each an iterable of terms or None, in ``variables`` order)."""
    if fmt == JSON:
        head = json.dumps({"vars": variables}, ensure_ascii=False, separators=(",", ":"))
        start, sep, end = '{"head":' + head + ',"results":{"bindings":[', ",\n", "]}}\n"

        def row(values) -> str:
            return json.dumps(
                {v: _json_term(t) for v, t in zip(variables, values, strict=True) if t is not None},
                ensure_ascii=False,
                separators=(",", ":"),
            )

    elif fmt == XML:
        names = "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
        start = (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
            f"{names}</head><results>\n"
        )
        sep, end = "\n", "\n</results></sparql>\n"

        def row(values) -> str:
            bindings = "".join(
                f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                for v, t in zip(variables, values, strict=True)
                if t is not None
            )
            return f"<result>{bindings}</result>"

    elif fmt == CSV:
        start, sep, end = ",".join(variables) + "\r\n", "\r\n", "\r\n"

        def row(values) -> str:
            return ",".join(_csv_field(t) for t in values)

    elif fmt == TSV:
        start, sep, end = "\t".join("?" + v for v in variables) + "\n", "\n", "\n"

        def row(values) -> str:
            return "\t".join(_tsv_field(t) for t in values)

    elif fmt == ROWS_JSON:
        head = json.dumps(variables, ensure_ascii=False)
        start, sep, end = '{"columns":' + head + ',"rows":[\n', ",\n", '\n],"truncated":"bytes"}\n'

        def row(values) -> str:
            return json.dumps({v: _plain(t) for v, t in zip(variables, values, strict=True)}, ensure_ascii=False)

    else:
        raise ValueError(f"{fmt.label} cannot hold SELECT results")
    written = Written()
    end_bytes = end.encode()
    budget = _Budget(out, max_bytes, len(end_bytes))
    if not budget.add(start.encode()):
        raise ValueError("the byte cap is smaller than an empty result")
    separator = b""
    encoded_sep = sep.encode()
    for values in solutions:
        if written.rows >= max_rows:
            written.truncated = "rows"
            break
        data = separator + row(values).encode()
        if not budget.add(data):
            written.truncated = "bytes"
            break
        separator = encoded_sep
        written.rows += 1
    budget.left += len(end_bytes)
    if fmt == ROWS_JSON:  # the rows document says in-band whether (and why) it was cut short
        end_bytes = ('\n],"truncated":' + json.dumps(written.truncated) + "}\n").encode()
    budget.add(end_bytes if written.rows or fmt not in (CSV, TSV) else b"")
    budget.flush()
    return written


def write_boolean(value: bool, fmt: ResultFormat, out) -> Written:
    if fmt == JSON:
        out.write(b'{"head":{},"boolean":' + (b"true" if value else b"false") + b"}\n")
    elif fmt == XML:
        out.write(
            b'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head></head><boolean>'
            + (b"true" if value else b"false")
            + b"</boolean></sparql>\n"
        )
    else:
        raise ValueError(f"{fmt.label} cannot hold an ASK result")
    return Written(rows=1)


class _Counted:
    def __init__(self, items: Iterable, limit: int) -> None:
        self._items = iter(items)
        self.limit = limit
        self.count = 0
        self.more = False
        self.kept: list = []

    def __iter__(self) -> Iterator:
        for item in self._items:
            if self.count >= self.limit:
                self.more = True
                return
            self.count += 1
            self.kept.append(item)
            yield item


class _Overflow(Exception):
    pass


class _CappedFile(io.RawIOBase):
    def __init__(self, out, max_bytes: int) -> None:
        self.out = out
        self.left = max_bytes

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        size = len(data)
        if size > self.left:
            raise _Overflow
        self.left -= size
        self.out.write(bytes(data))
        return size


def write_graph(triples: Iterable, fmt: ResultFormat, out, max_triples: int, max_bytes: int, prefixes: dict) -> Written:
    """Write CONSTRUCT/DESCRIBE triples; over the byte cap, write fewer triples until the document fits."""
    rdf_format = RDF_FORMATS.get(fmt)
    if rdf_format is None:
        raise ValueError(f"{fmt.label} cannot hold a graph")
    counted = _Counted(triples, max_triples)
    options = {"prefixes": prefixes} if rdf_format in (RdfFormat.TURTLE, RdfFormat.RDF_XML) else {}
    start = out.tell()
    try:
        serialize(counted, _CappedFile(out, max_bytes), rdf_format, **options)
        return Written(rows=counted.count, truncated="rows" if counted.more else None)
    except _Overflow:
        pass
    kept = counted.kept
    keep = len(kept)
    while True:
        keep = keep * 9 // 10
        out.seek(start)
        out.truncate()
        try:
            serialize(kept[:keep], _CappedFile(out, max_bytes), rdf_format, **options)
            return Written(rows=keep, truncated="bytes")
        except _Overflow:
            if keep == 0:
                raise ValueError("the byte cap is smaller than an empty graph") from None
