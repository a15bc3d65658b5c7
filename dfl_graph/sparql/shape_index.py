"""The shape index: the catalogue's everyday questions answered exactly, without sorting the whole store.

A per-generation SQLite file (``indexes/sparql-shapes.sqlite``, made by :func:`build_shape_index` from the
generation's public SPARQL store) holding every triple of the :data:`INDEXED` predicates in the public
merge, with each term numbered in the order the engine sorts it. A generation written in place (a harvest, a
load into an existing catalogue: see :class:`dfl_graph.generations.Delta`) gets the previous generation's
file copied and updated: the rows of the subjects the delta touched are replaced, new terms are numbered
between their neighbours (ids and ties are spaced :data:`SPACING` apart for that), and each count is
corrected by what those subjects contributed before and after; the result is the file a rebuild gives, but
for the numbers chosen (``tests/test_sparql_shapes_incremental.py`` compares the two after each of a
sequence of writes). A query that
:func:`dfl_graph.sparql.shapes.recognise` recognises, and whose patterns use only indexed predicates, is
translated into one SQL query over that table: a basic graph pattern is a join of triple rows (the same bag
of solutions as the engine's), ``ORDER BY`` walks a (predicate, object) index, ``COUNT``/``GROUP BY`` are
SQL's. So "the 20 most recently modified datasets" reads 20 index entries instead of sorting 100,000
solutions, and a deep ``OFFSET`` page steps through the index.

**Same answer as the engine, or no answer.** The result must be exactly what Oxigraph gives: the same
solutions, the same terms, and the same order wherever ``ORDER BY`` fixes it. So:

* terms are ordered as Oxigraph's ``ORDER BY`` compares them, which is only well defined inside one class
  of values (IRIs by their string; plain and language-tagged strings by (value, datatype, language);
  ``xsd:integer`` by value; ``xsd:dateTime`` by instant, all with a time zone or all without; ``xsd:date``,
  ``xsd:gYearMonth`` and ``xsd:gYear`` without time zone). An order key whose values (those of its
  predicate, or of its predicate on subjects that have another of the query's predicates) fall in more than
  one class, or in none of them, is not answered here;
* terms that compare equal (two spellings of one instant) share a *tie* number. Oxigraph sorts with an
  unstable sort, so where rows with equal keys but different values meet the page's edges or lie inside it,
  their order is the engine's accident: such a query is not answered here either
  (:class:`Undetermined`), and it runs on the engine;
* a query without ``ORDER BY`` is answered only when every solution fits in its ``LIMIT`` (the same bag of
  rows; SPARQL gives them no order) and it has no ``OFFSET``: otherwise which rows come is the engine's
  accident too.

The values of the :data:`ORDERED_PREDICATES` are also held per type of their subject (table ``typed``), so an
ordered walk over "the datasets' ``dct:modified``" skips the catalogue records' and distributions' (about three
in four ``dct:modified`` statements, and the newest ones) without reading them.

``tests/test_sparql_shapes.py`` runs both on varied catalogues and compares them row by row.

**Trusted readers' index.** Callers who may read RESTRICTED records query the main store with their graph list
(the public graphs and the restricted ones), not the public merge. When a generation has restricted graphs,
:func:`build_restricted_shape_index` makes a second file (``indexes/sparql-shapes-restricted.sqlite``) the same
way from the merge of exactly that list, read from the generation's store, and records the list in its
``meta``. It answers a job only when the job's default graphs are that list (so the engine's default graph
would be the same merge); anyone else's queries (members who also see an organisation's non-public graphs,
queries naming graphs) go to the engine as before.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import logging
import re
import sqlite3
import threading
import time
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, QueryResultsFormat, RdfFormat, Store, Variable, parse

from dfl_graph.accounts.visibility import Visibility
from dfl_graph.generations import Manifest, read_changes
from dfl_graph.index_files import copy_for_update, writing_index
from dfl_graph.namespaces import DCAT, DCT, FOAF, RDF, SKOS, XSD
from dfl_graph.sparql.public_store import build_public_store, public_store_dir
from dfl_graph.sparql.shapes import RDF_TYPE, Count, Iri, Shape, Var

log = logging.getLogger(__name__)
FILENAME = "sparql-shapes.sqlite"
RESTRICTED_FILENAME = "sparql-shapes-restricted.sqlite"  # the trusted readers' index (module docstring)

# What is indexed: every statement of these predicates in the public merge. rdf:type only for these classes
# (all types of every contact point, checksum and period would double the index for no question asked).
INDEXED_PREDICATES = (
    DCT.title,
    DCT.modified,
    DCT.issued,
    DCT.publisher,
    DCAT.theme,
    DCT.spatial,
    DCAT.distribution,
    DCT["format"],
    DCAT.mediaType,
    DCAT.byteSize,
    DCT.license,
    DCT.accessRights,
    DCT.accrualPeriodicity,
    SKOS.prefLabel,
    SKOS.inScheme,
    SKOS.notation,
    FOAF.name,
)
INDEXED_TYPES = (DCAT.Dataset, DCAT.Distribution, DCAT.Catalog, SKOS.Concept, SKOS.ConceptScheme, FOAF.Agent)
# the order keys of everyday questions: their values are also indexed per type of their subject (``typed``)
ORDERED_PREDICATES = (DCT.title, DCT.modified, DCT.issued, DCAT.byteSize)
INDEXED = [p.value for p in INDEXED_PREDICATES] + [f"{RDF.type.value} {c.value}" for c in INDEXED_TYPES]

# predicate codes (1-based places in INDEXED): the rdf:type ones, and the ORDERED_PREDICATES
TYPE_CODES = tuple(code for code, spec in enumerate(INDEXED, start=1) if " " in spec)
ORDERED_CODES = frozenset(INDEXED.index(p.value) + 1 for p in ORDERED_PREDICATES)

# Classes of terms, each ordered as Oxigraph orders it; 0: no order this index can vouch for.
UNORDERED, IRI, STRING, INTEGER, DATETIME_ZONED, DATETIME_LOCAL, DATE, YEAR_MONTH, YEAR = range(9)
_UNCASED = {"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "Zs", "Nd"}
NO_LOWER_CASE = -1  # in the classes table: some term at that position has no lower-case text here
_STRINGS = {XSD.string.value, RDF.langString.value}
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DATETIME = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$"
)
# dates, months and years without time zone, with 4-digit years: in value order and in lexical order alike
# (the engine compares them by value, or by their text where it does not parse the type)
_CALENDAR = {
    XSD.date.value: (DATE, re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")),
    XSD.gYearMonth.value: (YEAR_MONTH, re.compile(r"^[0-9]{4}-[0-9]{2}$")),
    XSD.gYear.value: (YEAR, re.compile(r"^[0-9]{4}$")),
}
_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_TSV_LITERAL = re.compile(r'^"(.*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?$', re.DOTALL)
_TSV_NUMBERS = (
    (re.compile(r"^[+-]?[0-9]+$"), XSD.integer.value),
    (re.compile(r"^[+-]?[0-9]*\.[0-9]+$"), XSD.decimal.value),
    (re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+$"), XSD.double.value),
)
# Term ids and tie numbers are spaced this far apart, so that an update can number new terms between old ones
SPACING = 1 << 32
# Beside a number an update placed (a chain of writes in order: dates, sequence numbers, slugs), new numbers
# take 1/2**CHAIN_SHARE of the room left rather than half of it: ~20,000 such writes in a row fit in one gap,
# where halving ran out after 32 and cost a rebuild (68 s at 100k datasets)
CHAIN_SHARE = 10
LAYOUT = "3"  # the schema and numbering this module writes (in meta "layout", see _layout)
SQL_DEADLINE = 5.0  # seconds an answer may take here before the query goes to the engine instead
# an ordered query with a pattern of a given object holding at most this many statements sorts their solutions
# rather than walk its order key's index; at most SORT_AT_ONCE, even where it could walk one type's values
SORT_AT_MOST, SORT_AT_ONCE = 20_000, 1_000
FACET_VALUES = 10_000  # a predicate with at most this many objects gets its counts per object precomputed
CHAIN_LINKS = (DCAT.distribution,)  # facets one link away are counted through these (formats of datasets)


def shape_index_path(generation_dir: Path) -> Path:
    return generation_dir / "indexes" / FILENAME


def restricted_shape_index_path(generation_dir: Path) -> Path:
    return generation_dir / "indexes" / RESTRICTED_FILENAME


def restricted_readers_graphs(graphs: dict[str, dict]) -> list[str]:
    """The graphs a reader of RESTRICTED records (and no organisation's non-public ones) queries, sorted:
    the graph list the trusted readers' index is the merge of."""
    return Visibility(restricted=True).graphs(graphs)


# -- terms ----------------------------------------------------------------------------------------------
def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        return chr(int(code, 16)) if code else _ESCAPES.get(match.group(3), match.group(0))

    return _ESCAPE.sub(replace, text) if "\\" in text else text


def read_term(text: str) -> NamedNode | BlankNode | Literal:
    """A term as the engine writes it in SPARQL TSV results (N-Triples syntax, bare numbers and booleans)."""
    if text.startswith("<"):
        return NamedNode(_unescape(text[1:-1]))
    if text.startswith("_:"):
        return BlankNode(text[2:])
    match = _TSV_LITERAL.match(text)
    if match:
        value, language, datatype = _unescape(match.group(1)), match.group(2), match.group(3)
        if language:
            return Literal(value, language=language)
        return Literal(value, datatype=NamedNode(datatype) if datatype else None)
    if text in ("true", "false"):
        return Literal(text, datatype=XSD.boolean)
    for pattern, datatype in _TSV_NUMBERS:
        if pattern.match(text):
            return Literal(text, datatype=NamedNode(datatype))
    raise ValueError(f"not a term: {text[:80]!r}")


def _lower(value: str) -> str | None:
    """LCASE of a string as the engine computes it (Rust's to_lowercase), where Python's lower() certainly
    agrees: Latin letters, whose case mappings have not changed across Unicode versions, and characters that
    have no case at all (punctuation such as "–" and "’", currency signs, digits, spaces). None elsewhere."""
    if value.isascii() or all(ord(c) < 0x250 or unicodedata.category(c) in _UNCASED for c in value):
        return value.lower()
    return None


def _instant(value: str) -> tuple[int, str] | None:
    """(class, sortable text) of an xsd:dateTime, or None if this index does not order it."""
    match = _DATETIME.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:  # 24:00:00 and the like
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        try:
            moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        except OverflowError:
            return None
    digits = (fraction or ".")[1:].rstrip("0").ljust(24, "0")
    return (DATETIME_ZONED if zone else DATETIME_LOCAL), f"{moment.isoformat()}.{digits}"


def sort_key(term: NamedNode | BlankNode | Literal) -> tuple[int, object, str]:
    """(class, key, secondary key): within one class, the engine's ORDER BY order; equal keys compare equal."""
    if isinstance(term, NamedNode):
        return IRI, term.value, ""
    if isinstance(term, BlankNode):
        return UNORDERED, term.value, ""
    datatype = term.datatype.value
    if datatype in _STRINGS:
        return STRING, term.value, f"{datatype}\x00{term.language or ''}"
    if datatype == XSD.integer.value and _INTEGER.match(term.value) and abs(int(term.value)) < 2**63:
        return INTEGER, int(term.value), ""
    if datatype == XSD.dateTime.value and (instant := _instant(term.value)) is not None:
        return instant[0], instant[1], ""
    calendar = _CALENDAR.get(datatype)
    if calendar is not None and calendar[1].match(term.value):
        return calendar[0], term.value, ""
    return UNORDERED, term.value, datatype


# -- building ---------------------------------------------------------------------------------------------
SCHEMA = """
CREATE TABLE predicates (code INTEGER PRIMARY KEY, iri TEXT NOT NULL, type TEXT, UNIQUE (iri, type));
-- lc: LCASE(STR(term)), where Python's lower() is certainly the engine's (Latin scripts); NULL elsewhere
CREATE TABLE terms (
  id INTEGER PRIMARY KEY, text TEXT NOT NULL, class INTEGER NOT NULL, tie INTEGER NOT NULL, lc TEXT
);
-- t: the object's tie number, so that ORDER BY walks (p, t) in the engine's order, equal keys together
CREATE TABLE triples (
  p INTEGER NOT NULL, s INTEGER NOT NULL, o INTEGER NOT NULL, t INTEGER NOT NULL, PRIMARY KEY (p, s, o)
) WITHOUT ROWID;
-- position "s" or "o"; class -1: some term there has no lc; n: how many of p's statements have one there
CREATE TABLE classes (
  p INTEGER NOT NULL, position TEXT NOT NULL, class INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (p, position, class)
);
-- classes of p's objects for subjects that also have q (dct:modified of datasets, not of distributions), for
-- the predicates whose objects fall in more than one class; n: how many statements of p count there
CREATE TABLE pair_classes (
  p INTEGER NOT NULL, q INTEGER NOT NULL, class INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (p, q, class)
);
-- facets: how many subjects have (p, o), and how many of them also have the type coded q (0: any subject);
-- for the predicates with at most FACET_VALUES objects (themes, publishers, boroughs, formats, licences...)
CREATE TABLE facet_counts (
  p INTEGER NOT NULL, q INTEGER NOT NULL, t INTEGER NOT NULL, o INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (p, q, t, o)
) WITHOUT ROWID;
-- facets one link away: per object o of p2, over the statements (s p1 x) (x p2 o): how many such pairs
-- (links), distinct subjects s and distinct x (datasets per format: p1 dcat:distribution, p2 dct:format)
CREATE TABLE chain_counts (
  p1 INTEGER NOT NULL, p2 INTEGER NOT NULL, t INTEGER NOT NULL, o INTEGER NOT NULL,
  links INTEGER NOT NULL, subjects INTEGER NOT NULL, objects INTEGER NOT NULL, PRIMARY KEY (p1, p2, t, o)
) WITHOUT ROWID;
-- the triples of ORDERED_PREDICATES again, once per indexed type k (a type's code) of their subject: an ordered
-- walk of one type's values (the datasets' dct:modified, not the catalogue records')
CREATE TABLE typed (
  k INTEGER NOT NULL, p INTEGER NOT NULL, t INTEGER NOT NULL, o INTEGER NOT NULL, s INTEGER NOT NULL,
  PRIMARY KEY (k, p, t, o, s)
) WITHOUT ROWID;
-- the tie numbers of each class: contiguous, since ties are numbered by class first
CREATE TABLE class_ties (class INTEGER PRIMARY KEY, low INTEGER NOT NULL, high INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
INDEXES = """
CREATE UNIQUE INDEX terms_text ON terms (text);
CREATE INDEX terms_class ON terms (class, tie);
CREATE INDEX triples_pos ON triples (p, t, o, s);
ANALYZE;
"""


@dataclass(frozen=True)
class Merge:
    """The statements an index is made from: a store's default graph (the public SPARQL store's merge), or the
    RDF merge of a list of its named graphs (the main store's, for the trusted readers' index)."""

    store: Store
    graphs: tuple[str, ...] | None = None

    def select(self, query: str, substitutions: dict | None = None) -> bytes:
        """A SELECT's solutions as SPARQL TSV, each solution once (a statement in two graphs is one statement of
        their merge)."""
        graphs = None
        if self.graphs is not None:
            query, graphs = query.replace("SELECT ", "SELECT DISTINCT ", 1), [NamedNode(g) for g in self.graphs]
        out = io.BytesIO()
        solutions = self.store.query(query, default_graph=graphs, substitutions=substitutions)
        solutions.serialize(out, QueryResultsFormat.TSV)  # type: ignore[union-attr]
        return out.getvalue()


def _statements(merge: Merge, spec: str, spool: Path) -> Iterator[tuple[str, str]]:
    """(subject, object) term texts of one indexed predicate, read in Rust as SPARQL TSV (building Python term
    objects for millions of statements costs several times more)."""
    iri, _, rdf_type = spec.partition(" ")
    query = f"SELECT ?s ?o WHERE {{ ?s <{iri}> ?o }}" if not rdf_type else f"SELECT ?s WHERE {{ ?s a <{rdf_type}> }}"
    with spool.open("wb") as out:
        out.write(merge.select(query))
    with spool.open("r", encoding="utf-8", newline="\n") as lines:
        next(lines, None)  # the header
        for line in lines:
            line = line.rstrip("\n")
            if rdf_type:
                yield line, f"<{rdf_type}>"
            elif line:
                subject, _, obj = line.partition("\t")
                yield subject, obj


class _Numbering:
    """Terms met while reading, numbered provisionally; then renumbered in the engine's order."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.texts: list[str] = []

    def __call__(self, text: str) -> int:
        number = self.numbers.get(text)
        if number is None:
            number = self.numbers[text] = len(self.texts)
            self.texts.append(text)
        return number

    def ordered(self) -> tuple[array, array, array, list[str | None]]:
        """(final id, tie, class, lower-case text) by provisional number."""
        terms = [read_term(text) for text in self.texts]
        keys = [sort_key(term) for term in terms]
        lowered = [_lower(term.value) for term in terms]
        del terms
        order = sorted(range(len(keys)), key=lambda n: (keys[n], self.texts[n]))
        final, tie, cls = (
            array("q", bytes(8 * len(keys))),
            array("q", bytes(8 * len(keys))),
            array("b", bytes(len(keys))),
        )
        previous, rank = None, 0
        for position, number in enumerate(order, start=1):
            key = keys[number]
            if key != previous:
                rank, previous = rank + 1, key
            final[number], tie[number], cls[number] = position * SPACING, rank * SPACING, key[0]
        return final, tie, cls, lowered


def _mixed(classes: Counter[tuple[int, str, int]]) -> set[int]:
    """The predicates whose objects fall in more than one class (those pair_classes are kept for)."""
    seen: dict[int, set[int]] = {}
    for (code, position, cls), n in classes.items():
        if position == "o" and cls != NO_LOWER_CASE and n > 0:
            seen.setdefault(code, set()).add(cls)
    return {code for code, found in seen.items() if len(found) > 1}


def _facet_counts(statements: list[array], final: array, tie: array, predicates_of: dict[int, int]) -> list[tuple]:
    """(p, q, tie, object, subjects) rows of the facet_counts table (see the schema)."""
    rows = []
    for code, pairs in enumerate(statements, start=1):
        objects = {pairs[i] for i in range(1, len(pairs), 2)}
        if len(objects) > FACET_VALUES:
            continue
        counted: dict[tuple[int, int], int] = {}
        for i in range(0, len(pairs), 2):
            bits, obj = predicates_of[final[pairs[i]]], pairs[i + 1]
            counted[(0, obj)] = counted.get((0, obj), 0) + 1
            for q in TYPE_CODES:
                if bits >> q & 1:
                    counted[(q, obj)] = counted.get((q, obj), 0) + 1
        rows.extend((code, q, tie[obj], final[obj], n) for (q, obj), n in counted.items())
    return sorted(rows)


def _chain_counts(statements: list[array], final: array, tie: array) -> list[tuple]:
    """(p1, p2, tie, object, links, subjects, objects) rows of the chain_counts table, for p1 in
    :data:`CHAIN_LINKS` and p2 with at most FACET_VALUES objects."""
    codes = {spec: code for code, spec in enumerate(INDEXED, start=1)}
    rows = []
    for link in CHAIN_LINKS:
        p1 = codes[link.value]
        sources: dict[int, list[int]] = {}  # x -> the subjects linking to it
        pairs = statements[p1 - 1]
        for i in range(0, len(pairs), 2):
            sources.setdefault(pairs[i + 1], []).append(pairs[i])
        for p2, facet in enumerate(statements, start=1):
            if len({facet[i] for i in range(1, len(facet), 2)}) > FACET_VALUES:
                continue
            links: dict[int, int] = {}
            subjects: dict[int, set[int]] = {}
            objects: dict[int, int] = {}
            for i in range(0, len(facet), 2):
                linked, obj = sources.get(facet[i]), facet[i + 1]
                if linked:
                    links[obj] = links.get(obj, 0) + len(linked)
                    subjects.setdefault(obj, set()).update(linked)
                    objects[obj] = objects.get(obj, 0) + 1
            rows.extend((p1, p2, tie[obj], final[obj], links[obj], len(subjects[obj]), objects[obj]) for obj in links)
    return sorted(rows)


def build_shape_index(
    snapshot, target: Path, previous: Path | None, changed: frozenset[str], in_place: bool = False
) -> None:
    """Index builder: the generation's shape index, from its public SPARQL store (so it must run after
    :func:`build_public_store`). Updated from the previous generation's when the SPARQL store was
    (``in_place``: the public merge differs from the previous one by the published delta only); else, or if
    the update cannot be made (see :class:`_RebuildInstead`), rebuilt from the whole merge."""
    store_dir = public_store_dir(target)
    path = shape_index_path(target)
    if not store_dir.exists():  # no SPARQL store, no shape index: every query goes to the engine
        return
    merge = Merge(Store.read_only(str(store_dir)))
    try:
        if not (
            in_place and previous and _update(target, shape_index_path(previous), path, merge, snapshot.generation)
        ):
            _build(merge, path, snapshot.generation)
    finally:
        del merge


def build_restricted_shape_index(snapshot, target: Path, previous: Path | None, changed: frozenset[str]) -> None:
    """Index builder: the trusted readers' shape index (module docstring), from the generation's store, when it
    has restricted graphs. Updated from the previous generation's when this one was written in place and the
    graph list is the same; else rebuilt. Like the public one, a failure costs the index, not the generation."""
    graphs = tuple(restricted_readers_graphs(snapshot.manifest.graphs))
    if snapshot.remote or set(graphs) <= set(snapshot.manifest.public_graphs):
        return  # nothing restricted: trusted readers' queries are the public ones
    path = restricted_shape_index_path(target)
    merge = Merge(snapshot.store, graphs)
    try:
        if not (previous and _update(target, restricted_shape_index_path(previous), path, merge, snapshot.generation)):
            _build(merge, path, snapshot.generation)
    except Exception:  # the engine answers these callers without it: publish all the same
        log.exception("the trusted readers' shape index of %s could not be built", target)


def _build(merge: Merge, path: Path, generation: int) -> None:
    """The index of a merge, from scratch."""
    spool = path.with_name(path.name + ".tsv")
    numbering = _Numbering()
    statements: list[array] = []  # per predicate code - 1: subject, object, subject, object, ...
    try:
        for spec in INDEXED:
            pairs = array("q")
            for subject, obj in _statements(merge, spec, spool):
                pairs.append(numbering(subject))
                pairs.append(numbering(obj))
            statements.append(pairs)
    finally:
        spool.unlink(missing_ok=True)
    final, tie, cls, lowered = numbering.ordered()
    texts = numbering.texts
    numbering.numbers.clear()
    with writing_index(path) as db:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO predicates VALUES (?,?,?)",
            ((code, *spec.partition(" ")[::2]) for code, spec in enumerate(INDEXED, start=1)),
        )
        db.execute("UPDATE predicates SET type = NULL WHERE type = ''")
        by_id = sorted(range(len(texts)), key=final.__getitem__)
        db.executemany(
            "INSERT INTO terms VALUES (?,?,?,?,?)", ((final[n], texts[n], cls[n], tie[n], lowered[n]) for n in by_id)
        )
        seen_classes: Counter[tuple[int, str, int]] = Counter()
        predicates_of: dict[int, int] = {}  # subject (final id) -> bit set of its predicate codes
        for code, pairs in enumerate(statements, start=1):
            rows = sorted({(final[pairs[i]], final[pairs[i + 1]], tie[pairs[i + 1]]) for i in range(0, len(pairs), 2)})
            db.executemany(f"INSERT INTO triples VALUES ({code},?,?,?)", rows)
            for i in range(0, len(pairs), 2):
                for position, number in (("s", pairs[i]), ("o", pairs[i + 1])):
                    seen_classes[(code, position, cls[number])] += 1
                    if lowered[number] is None:
                        seen_classes[(code, position, NO_LOWER_CASE)] += 1
                subject = final[pairs[i]]
                predicates_of[subject] = predicates_of.get(subject, 0) | (1 << code)
        db.executemany("INSERT INTO classes VALUES (?,?,?,?)", sorted((*k, n) for k, n in seen_classes.items()))
        pair_classes: Counter[tuple[int, int, int]] = Counter()
        for code in _mixed(seen_classes):
            pairs = statements[code - 1]
            for i in range(0, len(pairs), 2):
                bits, value_class = predicates_of[final[pairs[i]]], cls[pairs[i + 1]]
                pair_classes.update((code, q, value_class) for q in range(1, len(INDEXED) + 1) if bits >> q & 1)
        db.executemany("INSERT INTO pair_classes VALUES (?,?,?,?)", sorted((*k, n) for k, n in pair_classes.items()))
        db.executemany(
            "INSERT INTO facet_counts VALUES (?,?,?,?,?)", _facet_counts(statements, final, tie, predicates_of)
        )
        db.executemany("INSERT INTO chain_counts VALUES (?,?,?,?,?,?,?)", _chain_counts(statements, final, tie))
        db.execute(
            f"INSERT INTO typed SELECT k.p, x.p, x.t, x.o, x.s FROM triples k JOIN triples x "
            f"ON x.p IN ({','.join(map(str, sorted(ORDERED_CODES)))}) AND x.s = k.s "
            f"WHERE k.p IN ({','.join(map(str, TYPE_CODES))}) ORDER BY 1, 2, 3, 4, 5"
        )
        db.execute("INSERT INTO class_ties SELECT class, MIN(tie), MAX(tie) FROM terms GROUP BY class")
        db.executemany("INSERT INTO meta VALUES (?, ?)", [("generation", str(generation)), *_identity(merge)])
        db.executescript(INDEXES)


def build_sparql_indexes(snapshot, target: Path, previous: Path | None, changed: frozenset[str]) -> None:
    """Index builder: the generation's SPARQL store, then the shape index read from it (one builder, since the
    second needs the first; both run alongside the other builders)."""
    in_place = build_public_store(snapshot, target, previous, changed)
    try:
        build_shape_index(snapshot, target, previous, changed, in_place)
    except Exception:  # the endpoint answers everything on the engine without it: publish all the same
        log.exception("the SPARQL shape index of %s could not be built; queries will run on the engine", target)


def _room(first: int, last: int, count: int) -> tuple[int, int]:
    """The part of the numbers between ``first`` and ``last`` (exclusive) where ``count`` new ones are spread.
    Where one end was placed by an update (not a multiple of :data:`SPACING`) and the other was not, the new
    ones continue a chain: they take a small share of the room next to the placed end (see CHAIN_SHARE)."""
    share = max(count + 1, (last - first) >> CHAIN_SHARE)
    first_placed, last_placed = first % SPACING != 0, last % SPACING != 0
    if first_placed and not last_placed:
        return first, first + share
    if last_placed and not first_placed:
        return last - share, last
    return first, last


class _RebuildInstead(Exception):
    """The previous index cannot become this generation's by an update (another layout, a write touching much
    of the catalogue, no room left between two term numbers): the builder rebuilds it instead."""


def _update(target: Path, previous_index: Path, path: Path, merge: Merge, generation: int) -> bool:
    """The previous generation's shape index, copied and updated by the published delta: the changed subjects'
    rows replaced, new terms numbered between their neighbours, and only the counts they touch recounted.
    False if it cannot be done that way (then the index is rebuilt)."""
    changes = read_changes(target)
    if changes is None or not previous_index.exists():
        return False
    try:
        subjects = _changed_subjects(target, changes)
        with copy_for_update(previous_index, path) as db:
            made_of = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('layout', 'graphs')").fetchall())
            wanted = dict(_identity(merge))
            if made_of.keys() != wanted.keys() or made_of["layout"] != wanted["layout"]:
                raise _RebuildInstead
            if made_of.get("graphs") != wanted.get("graphs"):  # the merge of other graphs: only new ones will do
                before = json.loads(made_of["graphs"])
                if not _only_new_graphs(before, merge.graphs or (), previous_index.parent.parent):
                    raise _RebuildInstead
                db.execute("UPDATE meta SET value = ? WHERE key = 'graphs'", (wanted["graphs"],))
            _Update(db, merge).apply(subjects)
            # which generation's index this one was updated from (absent from a rebuilt one)
            db.execute("INSERT OR REPLACE INTO meta SELECT 'updated_from', value FROM meta WHERE key = 'generation'")
            db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(generation),))
    except _RebuildInstead:
        return False
    except Exception:  # a fault in the update must cost a rebuild, not the index
        log.exception("updating the SPARQL shape index of %s failed; it is rebuilt", target)
        return False
    return True


def _only_new_graphs(before: list[str], after: tuple[str, ...], previous_generation: Path) -> bool:
    """Whether a merge of ``after`` differs from that of ``before`` only by graphs that held nothing in the
    previous generation (a publisher's first write makes its source's graph): all their statements are then in
    the delta, and the update stays exact. A graph gone from the list costs a rebuild."""
    if not set(before) <= set(after):
        return False
    try:
        previous = Manifest.from_file(previous_generation / "manifest.json").graphs
    except (OSError, ValueError):
        return False
    return all(int(previous.get(graph, {}).get("quads", 0)) == 0 for graph in set(after) - set(before))


def _identity(merge: Merge) -> list[tuple[str, str]]:
    """The ``meta`` rows an index must have to be updated from rather than rebuilt: its layout, and the graphs
    it is the merge of (none for the public store's default graph)."""
    rows = [("layout", _layout())]
    if merge.graphs is not None:
        rows.append(("graphs", json.dumps(list(merge.graphs))))
    return rows


def _layout() -> str:
    """What an index must have been built with to be updated rather than rebuilt: this module's schema and
    numbering, and the facet limit (which predicates' counts it holds)."""
    return f"{LAYOUT} facets<={FACET_VALUES}"


def _changed_subjects(target: Path, changes: dict) -> list[NamedNode | BlankNode]:
    """The subjects of the delta's quads whose statements the index holds (in the public merge or not: their
    rows are read again from the merge, which is already updated)."""
    predicates = {p.value for p in INDEXED_PREDICATES}
    types = {c.value for c in INDEXED_TYPES}
    found: dict[NamedNode | BlankNode, None] = {}
    for name in ("removed", "added"):
        file = target / changes.get(name, f"changes-{name}.nq")
        if not file.exists() or file.stat().st_size == 0:
            continue
        for quad in parse(path=str(file), format=RdfFormat.N_QUADS):
            predicate, subject = quad.predicate.value, quad.subject
            indexed = predicate in predicates or (predicate == RDF.type.value and quad.object.value in types)
            if indexed and isinstance(subject, (NamedNode, BlankNode)):
                found[subject] = None
    return list(found)


@dataclass
class _Counts:
    """What some subjects contribute to the index's counts (see :meth:`_Update.contributions`)."""

    classes: Counter[tuple[int, str, int]]
    pairs: Counter[tuple[int, int, int]]
    facets: Counter[tuple[int, int, int, int]]
    chains: Counter[tuple[int, int, int, int, int]]  # (p1, p2, t, o, 0 links / 1 subjects / 2 objects)


class _Update:
    """One generation's changed subjects applied to a copy of the previous shape index (term ids and ties of
    unchanged terms stay as they were; every count ends as a rebuild would count it)."""

    def __init__(self, db: sqlite3.Connection, merge: Merge) -> None:
        self.db, self.merge = db, merge
        self.predicate_codes = {f"<{spec}>": code for code, spec in enumerate(INDEXED, start=1) if " " not in spec}
        self.type_codes = {
            f"<{spec.partition(' ')[2]}>": code for code, spec in enumerate(INDEXED, start=1) if " " in spec
        }
        self.links = [INDEXED.index(link.value) + 1 for link in CHAIN_LINKS]
        self.all_codes = ",".join(str(code) for code in range(1, len(INDEXED) + 1))
        self.terms: dict[int, tuple[int, int, bool]] = {}  # id -> (class, tie, no lower case)
        self.keys: dict[int, tuple] = {}  # id -> (sort key, text), for placing new terms
        self.probes: dict[int, tuple[int, str, int] | None] = {}
        self.changed_classes: set[int] = set()  # classes of the terms numbered here (their ties' bounds move)

    def fresh(self, subjects: list[NamedNode | BlankNode]) -> dict[str, set[tuple[int, str]]]:
        """Each subject's text and its indexed statements as (predicate code, object text), in the merge now
        (read as the rebuild reads them, as SPARQL TSV: IRIs 200 to a query, blank nodes one by one)."""
        found: dict[str, set[tuple[int, str]]] = {}
        iris = [s for s in subjects if isinstance(s, NamedNode)]
        pattern = "OPTIONAL { VALUES ?p { " + " ".join(self.predicate_codes) + f" <{RDF.type.value}> }} ?s ?p ?o }}"
        queries = [
            (
                "SELECT ?s ?p ?o WHERE { VALUES ?s { " + " ".join(map(str, iris[i : i + 200])) + f" }} {pattern} }}",
                None,
            )
            for i in range(0, len(iris), 200)
        ]
        queries += [(f"SELECT ?s ?p ?o WHERE {{ {pattern} }}", s) for s in subjects if isinstance(s, BlankNode)]
        for query, blank in queries:
            substitutions = {Variable("s"): blank} if blank is not None else None
            for line in self.merge.select(query, substitutions).decode("utf-8").split("\n")[1:]:
                if not line:
                    continue
                text, predicate, obj = line.split("\t", 2)
                statements = found.setdefault(text, set())
                if predicate == f"<{RDF.type.value}>" and obj in self.type_codes:
                    statements.add((self.type_codes[obj], obj))
                elif predicate in self.predicate_codes:
                    statements.add((self.predicate_codes[predicate], obj))
        return found

    def apply(self, subjects: list[NamedNode | BlankNode]) -> None:
        """Replace the subjects' rows by their statements in the merge now, and correct every count."""
        db = self.db
        total = sum(n for (n,) in db.execute("SELECT n FROM classes WHERE position = 's' AND class >= 0"))
        if len(subjects) > 1_000 and len(subjects) * 20 > total:  # a large share: a rebuild costs about as much
            raise _RebuildInstead
        fresh = self.fresh(subjects)
        wanted = {text for text, found in fresh.items() if found} | {o for found in fresh.values() for _, o in found}
        ids = self.ids(set(fresh) | wanted)
        ids.update(self.place(sorted(wanted - set(ids))))
        changed = sorted({ids[text] for text in fresh if text in ids})
        old = self.statements(changed)
        new = {ids[text]: {(code, ids[o]) for code, o in found} for text, found in fresh.items() if text in ids}
        sources = set()
        for p1 in self.links:
            for x in changed:
                tie = self.info([x])[x][1]
                sources.update(
                    s for (s,) in db.execute("SELECT s FROM triples WHERE p = ? AND t = ? AND o = ?", (p1, tie, x))
                )
        subjects_of_links = set(changed) | sources
        linked = set(changed) | {o for s in changed for p, o in old[s] | new[s] if p in self.links}
        before = self.contributions(changed, subjects_of_links, linked)
        for s in changed:
            gone, added = old[s] - new[s], new[s] - old[s]
            db.executemany("DELETE FROM triples WHERE p = ? AND s = ? AND o = ?", [(p, s, o) for p, o in gone])
            self.info([o for _, o in added])
            db.executemany("INSERT INTO triples VALUES (?,?,?,?)", [(p, s, o, self.terms[o][1]) for p, o in added])
            typed_before, typed_now = self.typed(s, old[s]), self.typed(s, new[s])
            db.executemany(
                "DELETE FROM typed WHERE k = ? AND p = ? AND t = ? AND o = ? AND s = ?", typed_before - typed_now
            )
            db.executemany("INSERT INTO typed VALUES (?,?,?,?,?)", typed_now - typed_before)
        after = self.contributions(changed, subjects_of_links, linked)
        self.recount(before, after)
        self.drop_unused(set(changed) | {o for s in changed for _, o in old[s]})

    def typed(self, s: int, statements: set[tuple[int, int]]) -> set[tuple[int, int, int, int, int]]:
        """The ``typed`` rows of subject ``s`` with these statements (as the rebuild's join makes them)."""
        types = {p for p, _ in statements if p in TYPE_CODES}
        ordered = [(p, o) for p, o in statements if p in ORDERED_CODES]
        self.info([o for _, o in ordered])
        return {(k, p, self.terms[o][1], o, s) for k in types for p, o in ordered}

    def ids(self, texts: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        ordered = list(texts)
        for start in range(0, len(ordered), 500):
            part = ordered[start : start + 500]
            marks = ",".join("?" * len(part))
            found.update(self.db.execute(f"SELECT text, id FROM terms WHERE text IN ({marks})", part))
        return found

    def info(self, ids: Iterable[int]) -> dict[int, tuple[int, int, bool]]:
        missing = [i for i in set(ids) if i not in self.terms]
        for start in range(0, len(missing), 500):
            part = missing[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(f"SELECT id, class, tie, lc IS NULL FROM terms WHERE id IN ({marks})", part)
            self.terms.update((i, (cls, tie, bool(none))) for i, cls, tie, none in rows)
        return self.terms

    def statements(self, subjects: Iterable[int]) -> dict[int, set[tuple[int, int]]]:
        """(predicate code, object id) of each subject, as the index holds them now."""
        found: dict[int, set[tuple[int, int]]] = {s: set() for s in subjects}
        ordered = list(found)
        for start in range(0, len(ordered), 500):
            part = ordered[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT s, p, o FROM triples WHERE p IN ({self.all_codes}) AND s IN ({marks})", part
            )
            for s, p, o in rows:
                found[s].add((p, o))
        return found

    # -- numbering new terms between the old ones ---------------------------------------------------------
    def _at_or_after(self, number: int) -> tuple[int, str, int] | None:
        if number not in self.probes:
            self.probes[number] = self.db.execute(
                "SELECT id, text, tie FROM terms WHERE id >= ? ORDER BY id LIMIT 1", (number,)
            ).fetchone()
        return self.probes[number]

    def _before(self, number: int) -> tuple[int, str, int] | None:
        return self.db.execute(
            "SELECT id, text, tie FROM terms WHERE id < ? ORDER BY id DESC LIMIT 1", (number,)
        ).fetchone()

    def _key(self, row: tuple[int, str, int]) -> tuple:
        if row[0] not in self.keys:
            self.keys[row[0]] = (sort_key(read_term(row[1])), row[1])
        return self.keys[row[0]]

    def _neighbours(self, wanted: tuple, low: int, high: int) -> tuple[tuple | None, tuple | None, int]:
        """The terms just before and just after ``wanted`` in the engine's order, and the id search stopped at:
        every term numbered below ``low`` comes before it, every term from ``high`` on after it. Galloping up
        from ``low`` first, since new terms are placed in order and mostly near each other."""
        step = SPACING
        while low + step < high:
            row = self._at_or_after(low + step)
            if row is None or row[0] >= high:
                break
            if self._key(row) >= wanted:
                high = row[0]
                break
            low, step = row[0] + 1, step * 2
        while low < high:  # halving the terms between low and high, not the ids (mostly unused numbers)
            middle = (low + high) // 2
            row = self._at_or_after(middle)
            if row is None or row[0] >= high:
                row = self._before(middle)
                if row is None or row[0] < low:
                    break  # no term between low and high
            if self._key(row) < wanted:
                low = row[0] + 1
            else:
                high = row[0]
        return self._before(low), self._at_or_after(low), low

    def place(self, texts: list[str]) -> dict[str, int]:
        """Number new terms: ids and ties between those of their neighbours in the engine's order, a tie shared
        with a neighbour whose key is equal."""
        if not texts:
            return {}
        terms = {text: read_term(text) for text in texts}
        keyed = sorted((sort_key(term), text) for text, term in terms.items())
        low, high = self.db.execute("SELECT MIN(id), MAX(id) FROM terms").fetchone()
        gaps: dict[tuple, list[tuple]] = {}
        for item in keyed:
            before, after = None, None
            if low is not None:  # the next term in order comes after this one's place
                before, after, low = self._neighbours(item, low, high + 1)
            gaps.setdefault((before, after), []).append(item)
        rows = []
        for (before, after), members in gaps.items():
            first_id, first_tie = (before[0], before[2]) if before else (0, 0)
            ties: dict[tuple, int] = {}
            if before:
                ties[self._key(before)[0]] = before[2]
            if after:
                ties[self._key(after)[0]] = after[2]
            own = sorted({key for key, _ in members} - set(ties))
            last_id = after[0] if after else first_id + (len(members) + 1) * SPACING
            last_tie = after[2] if after else first_tie + (len(own) + 1) * SPACING
            if last_id - first_id <= len(members) or last_tie - first_tie <= len(own):
                raise _RebuildInstead  # no room between the neighbours' numbers
            first_id, last_id = _room(first_id, last_id, len(members))
            first_tie, last_tie = _room(first_tie, last_tie, len(own))
            for n, key in enumerate(own, start=1):
                ties[key] = first_tie + (last_tie - first_tie) * n // (len(own) + 1)
            for n, (key, text) in enumerate(members, start=1):
                number = first_id + (last_id - first_id) * n // (len(members) + 1)
                rows.append((number, text, key[0], ties[key], _lower(terms[text].value)))
        self.db.executemany("INSERT INTO terms VALUES (?,?,?,?,?)", rows)
        self.probes.clear()
        self.changed_classes = {row[2] for row in rows}
        return {row[1]: row[0] for row in rows}

    # -- counts ---------------------------------------------------------------------------------------------
    def contributions(self, changed: list[int], sources: set[int], linked: set[int]) -> _Counts:
        """What the changed subjects add to classes, pair_classes and facet_counts, and what the subjects that
        link to them (``sources``) and the resources linked (``linked``) add to chain_counts, as things are."""
        db = self.db
        own = self.statements(sources | set(changed))
        reached = {x for s in sources for p, x in own[s] if p in self.links}
        theirs = self.statements(reached | linked)
        ids = set(own) | linked | {o for found in (*own.values(), *theirs.values()) for _, o in found}
        terms = self.info(ids)
        counts = _Counts(Counter(), Counter(), Counter(), Counter())
        for s in changed:
            found = own[s]
            predicates = {p for p, _ in found}
            for p, o in found:
                for position, term in (("s", s), ("o", o)):
                    counts.classes[(p, position, terms[term][0])] += 1
                    if terms[term][2]:
                        counts.classes[(p, position, NO_LOWER_CASE)] += 1
                counts.pairs.update((p, q, terms[o][0]) for q in predicates)
                counts.facets.update((p, q, terms[o][1], o) for q in {0} | (predicates & set(TYPE_CODES)))
        for p1 in self.links:
            for s in sources:
                through: Counter[tuple[int, int]] = Counter()
                for p, x in own[s]:
                    if p == p1:
                        through.update(theirs[x])
                for (p2, o), n in through.items():
                    counts.chains[(p1, p2, terms[o][1], o, 0)] += n
                    counts.chains[(p1, p2, terms[o][1], o, 1)] += 1
            for x in linked:
                if db.execute("SELECT 1 FROM triples WHERE p = ? AND t = ? AND o = ?", (p1, terms[x][1], x)).fetchone():
                    counts.chains.update((p1, p2, terms[o][1], o, 2) for p2, o in theirs[x])
        return counts

    def recount(self, before: _Counts, after: _Counts) -> None:
        """Apply the difference the changed subjects made to every count; recount from the triples a predicate
        that starts being counted (its objects came to fall in two classes, or to number FACET_VALUES or fewer)."""
        db = self.db
        old_classes = Counter({tuple(k): n for *k, n in db.execute("SELECT p, position, class, n FROM classes")})
        classes = _changed(old_classes, before.classes, after.classes)
        db.execute("DELETE FROM classes")
        db.executemany("INSERT INTO classes VALUES (?,?,?,?)", sorted((*k, n) for k, n in classes.items()))

        was_mixed, mixed = _mixed(old_classes), _mixed(classes)
        pairs = Counter({tuple(k): n for *k, n in db.execute("SELECT p, q, class, n FROM pair_classes")})
        pairs = _changed(pairs, before.pairs, after.pairs)
        pairs = Counter({k: n for k, n in pairs.items() if k[0] in mixed and k[0] in was_mixed})
        for p in mixed - was_mixed:
            for q in range(1, len(INDEXED) + 1):
                rows = db.execute(
                    "SELECT m.class, COUNT(*) FROM triples a JOIN terms m ON m.id = a.o WHERE a.p = ? "
                    "AND EXISTS (SELECT 1 FROM triples b WHERE b.p = ? AND b.s = a.s) GROUP BY m.class",
                    (p, q),
                )
                pairs.update({(p, q, cls): n for cls, n in rows})
        db.execute("DELETE FROM pair_classes")
        db.executemany("INSERT INTO pair_classes VALUES (?,?,?,?)", sorted((*k, n) for k, n in pairs.items()))

        was_faceted = self.faceted()
        facets = _changed(Counter(), before.facets, after.facets, keep_negative=True)
        counted = [(*k, n) for k, n in facets.items() if k[0] in was_faceted]
        db.executemany(
            "INSERT INTO facet_counts VALUES (?,?,?,?,?) ON CONFLICT (p, q, t, o) DO UPDATE SET n = n + excluded.n",
            counted,
        )
        db.executemany(
            "DELETE FROM facet_counts WHERE p = ? AND q = ? AND t = ? AND o = ? AND n = 0", [r[:4] for r in counted]
        )
        for p in {k[0] for k in facets}:
            if p in was_faceted:
                many = db.execute("SELECT COUNT(*) FROM facet_counts WHERE p = ? AND q = 0", (p,)).fetchone()[0]
                if many > FACET_VALUES:
                    db.execute("DELETE FROM facet_counts WHERE p = ?", (p,))
                continue
            distinct = "SELECT COUNT(*) FROM (SELECT DISTINCT t, o FROM triples WHERE p = ? LIMIT ?)"
            if 0 < db.execute(distinct, (p, FACET_VALUES + 1)).fetchone()[0] <= FACET_VALUES:
                db.execute(
                    "INSERT INTO facet_counts SELECT p, 0, t, o, COUNT(*) FROM triples WHERE p = ? GROUP BY t, o", (p,)
                )
                for q in TYPE_CODES:
                    db.execute(
                        "INSERT INTO facet_counts SELECT a.p, ?, a.t, a.o, COUNT(*) FROM triples a WHERE a.p = ? "
                        "AND EXISTS (SELECT 1 FROM triples b WHERE b.p = ? AND b.s = a.s) GROUP BY a.t, a.o",
                        (q, p, q),
                    )
        faceted = self.faceted()

        chains = _changed(Counter(), before.chains, after.chains, keep_negative=True)
        for p1 in self.links:
            for p2 in range(1, len(INDEXED) + 1):
                if p2 in was_faceted and p2 in faceted:
                    rows: dict[tuple, list[int]] = {}
                    for (a, b, t, o, kind), n in chains.items():
                        if (a, b) == (p1, p2):
                            rows.setdefault((a, b, t, o), [0, 0, 0])[kind] += n
                    db.executemany(
                        "INSERT INTO chain_counts VALUES (?,?,?,?,?,?,?) ON CONFLICT (p1, p2, t, o) DO UPDATE SET "
                        "links = links + excluded.links, subjects = subjects + excluded.subjects, "
                        "objects = objects + excluded.objects",
                        [(*k, *n) for k, n in rows.items()],
                    )
                    db.executemany(
                        "DELETE FROM chain_counts WHERE p1 = ? AND p2 = ? AND t = ? AND o = ? AND links = 0", list(rows)
                    )
                    continue
                db.execute("DELETE FROM chain_counts WHERE p1 = ? AND p2 = ?", (p1, p2))
                if p2 in faceted:
                    db.execute(
                        "INSERT INTO chain_counts SELECT ?, b.p, b.t, b.o, COUNT(*), COUNT(DISTINCT a.s), "
                        "COUNT(DISTINCT b.s) FROM triples b JOIN terms x ON x.id = b.s JOIN triples a "
                        "ON a.p = ? AND a.t = x.tie AND a.o = b.s WHERE b.p = ? GROUP BY b.t, b.o",
                        (p1, p1, p2),
                    )

    def faceted(self) -> set[int]:
        """The predicates whose counts per object are kept (see :data:`FACET_VALUES`)."""
        found = "SELECT 1 FROM facet_counts WHERE p = ? LIMIT 1"
        return {p for p in range(1, len(INDEXED) + 1) if self.db.execute(found, (p,)).fetchone()}

    def drop_unused(self, candidates: set[int]) -> None:
        """Delete the terms no statement has any more, then bound each class's ties again."""
        db = self.db
        classes = set(self.changed_classes)
        info = self.info(candidates)
        for term in sorted(candidates):
            used = (
                db.execute(f"SELECT 1 FROM triples WHERE p IN ({self.all_codes}) AND s = ? LIMIT 1", (term,)).fetchone()
                or db.execute(
                    f"SELECT 1 FROM triples WHERE p IN ({self.all_codes}) AND t = ? AND o = ? LIMIT 1",
                    (info[term][1], term),
                ).fetchone()
            )
            if not used:
                db.execute("DELETE FROM terms WHERE id = ?", (term,))
                classes.add(info[term][0])
        for cls in classes:
            low, high = db.execute("SELECT MIN(tie), MAX(tie) FROM terms WHERE class = ?", (cls,)).fetchone()
            db.execute("DELETE FROM class_ties WHERE class = ?", (cls,))
            if low is not None:
                db.execute("INSERT INTO class_ties VALUES (?,?,?)", (cls, low, high))


def _changed(counts: Counter, before: Counter, after: Counter, keep_negative: bool = False) -> Counter:
    """``counts`` less ``before`` plus ``after``, key by key: zeros dropped unless ``keep_negative`` (a
    difference to apply, where zeros are skipped too but negatives kept)."""
    result = Counter(counts)
    result.update(after)
    result.subtract(before)
    return Counter({k: n for k, n in result.items() if n > 0 or (keep_negative and n != 0)})


# -- answering --------------------------------------------------------------------------------------------
class Undetermined(Exception):
    """The shape index cannot vouch for this query's answer (an unindexed predicate, an order it cannot
    reproduce, ties at the page's edges): the engine answers it."""


@dataclass
class Solutions:
    variables: list[str]
    rows: list[tuple]  # pyoxigraph terms (or None), in variables order
    more: bool  # rows beyond those listed exist within the query's LIMIT (the row cap cut it)


_COUNT_TYPE = XSD.integer


class ShapeIndex:
    """Read side of one generation's shape index: one read-only SQLite connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._codes: dict[tuple[str, str | None], int] | None = None
        self._classes: dict[tuple[int, str], set[int]] | None = None
        self.class_ties: dict[int, tuple[int, int]] = {}
        self._lock = threading.Lock()

    @property
    def db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def _tables(self) -> tuple[dict[tuple[str, str | None], int], dict[tuple[int, str], set[int]]]:
        with self._lock:
            if self._codes is None or self._classes is None:
                rows = self.db.execute("SELECT code, iri, type FROM predicates")
                self._codes = {(iri, t): code for code, iri, t in rows}
                classes: dict[tuple[int, str], set[int]] = {}
                for p, position, cls in self.db.execute("SELECT p, position, class FROM classes"):
                    classes.setdefault((p, position), set()).add(cls)
                for p, q, cls in self.db.execute("SELECT p, q, class FROM pair_classes"):
                    classes.setdefault((p, f"o/{q}"), set()).add(cls)
                self.class_ties = {c: (lo, hi) for c, lo, hi in self.db.execute("SELECT * FROM class_ties")}
                self._classes = classes
            return self._codes, self._classes

    @functools.cached_property
    def graphs(self) -> list[str] | None:
        """The graphs this index is the merge of (sorted), or None: the public SPARQL store's default graph."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'graphs'").fetchone()
        return json.loads(row[0]) if row else None

    def has_facet(self, code: int) -> bool:
        return self.db.execute("SELECT 1 FROM facet_counts WHERE p = ? LIMIT 1", (code,)).fetchone() is not None

    def has_chain(self, p1: int, p2: int) -> bool:
        found = self.db.execute("SELECT 1 FROM chain_counts WHERE p1 = ? AND p2 = ? LIMIT 1", (p1, p2)).fetchone()
        return found is not None

    def _term(self, iri: str) -> tuple[int, int]:
        """(id, tie) of an IRI; (-1, -1), matching nothing, if no indexed statement has it."""
        row = self.db.execute("SELECT id, tie FROM terms WHERE text = ?", (f"<{iri}>",)).fetchone()
        return (row[0], row[1]) if row else (-1, -1)

    def answer(self, shape: Shape, max_rows: int, deadline: float = SQL_DEADLINE) -> Solutions:
        """The query's solutions, exactly as the engine would give them (raises Undetermined otherwise)."""
        started = time.monotonic()
        db = self.db
        db.set_progress_handler(lambda: int(time.monotonic() - started > deadline), 10_000)
        try:
            return _Plan(self, shape).run(max_rows)
        except sqlite3.Error as error:  # interrupted at the deadline, or an index of an older layout
            raise Undetermined(f"the shape index gave up: {error}") from None
        finally:
            db.set_progress_handler(None, 0)


class _Plan:
    """One recognised query as SQL over the shape index."""

    def __init__(self, index: ShapeIndex, shape: Shape) -> None:
        self.index, self.shape = index, shape
        codes, classes = index._tables()
        self.classes = classes
        self.columns: dict[str, str] = {}  # variable -> the SQL column it is first bound to (a term id)
        self.ties: dict[str, str] = {}  # variable -> the column of its tie number (an IRI subject's is its id)
        # variable -> where it is bound: (predicate code, "s" or "o"), and (code, "o/q") when the same subject
        # also has predicate q (whose values may fall in fewer classes)
        self.positions: dict[str, list[tuple[int, str]]] = {}
        tables, conditions, pattern_codes = [], [], []
        self.precounted = _facet_core(shape, codes, index) or _chain_core(shape, codes, index)
        if self.precounted is not None:  # counts per facet value, read rather than computed
            counted = self.precounted
            tables.append(counted.table)
            conditions += counted.conditions
            self.columns[counted.group], self.ties[counted.group] = "pc.o", "pc.t"
            self.positions[counted.group] = [(counted.code, "o")]
        for n, pattern in enumerate(shape.patterns):
            alias = f"t{n}"
            if self.precounted is not None and n in self.precounted.patterns:
                pattern_codes.append(0)
                continue
            if pattern.predicate == RDF_TYPE:
                if not isinstance(pattern.object, Iri) or (RDF_TYPE, pattern.object.value) not in codes:
                    raise Undetermined("rdf:type of a class the shape index does not hold")
                code = codes[(RDF_TYPE, pattern.object.value)]
            elif (pattern.predicate, None) in codes:
                code = codes[(pattern.predicate, None)]
            else:
                raise Undetermined(f"<{pattern.predicate}> is not in the shape index")
            pattern_codes.append(code)
            tables.append(f"triples {alias}")
            conditions.append(f"{alias}.p = {code}")
            for position, node in (("s", pattern.subject), ("o", pattern.object)):
                column = f"{alias}.{position}"
                if isinstance(node, Iri):
                    term, tie = index._term(node.value)
                    conditions.append(f"{column} = {term}")
                    if position == "o":
                        conditions.append(f"{alias}.t = {tie}")  # lets SQLite use (p, t, o, s)
                elif node.name in self.columns:
                    conditions.append(f"{column} = {self.columns[node.name]}")
                else:
                    self.columns[node.name] = column
                    self.ties[node.name] = f"{alias}.t" if position == "o" else column
                if isinstance(node, Var):
                    self.positions.setdefault(node.name, []).append((code, position))
        _require_connected(shape)
        self.params: list[str] = []
        for n, text_filter in enumerate(shape.filters):
            found = self.classes_of(text_filter.var)
            if NO_LOWER_CASE in found:
                raise Undetermined(f"?{text_filter.var} has values whose lower case this index does not hold")
            alias = f"f{n}"
            tables.append(f"terms {alias}")
            conditions.append(f"{alias}.id = {self.columns[text_filter.var]}")
            conditions.append(f"instr({alias}.lc, ?) > 0")
            if not text_filter.through_str:  # LCASE of anything but a string is an error: no solution
                conditions.append(f"{alias}.class = {STRING}")
            self.params.append(text_filter.text)
        for pattern, code in zip(shape.patterns, pattern_codes, strict=True):
            if isinstance(pattern.object, Var) and code:
                for other, other_code in zip(shape.patterns, pattern_codes, strict=True):
                    if other is not pattern and other.subject == pattern.subject:
                        self.positions[pattern.object.name].append((code, f"o/{other_code}"))
        # Without ORDER BY the engine's order is its own, and so is its choice of rows under a LIMIT: answered
        # only when every solution fits (the same bag of rows; SPARQL gives them no order).
        self.unordered = not shape.order_by and bool(shape.group_by or not shape.aggregated)
        if self.unordered and shape.offset:
            raise Undetermined("OFFSET without ORDER BY: which rows come is the engine's choice")
        for name, _ in shape.order_by:
            if name not in self.columns:
                continue
            cls = self._order_class(name)
            if cls is None:
                raise Undetermined(f"?{name} takes values the shape index cannot order as the engine does")
            if cls in index.class_ties and self.ties[name].endswith(".t"):
                # every value is of this class: say so, and an ordered walk starts where its values start
                low, high = index.class_ties[cls]
                conditions.append(f"{self.ties[name]} BETWEEN {low} AND {high}")
        first = self._driving_table(tables)
        if first is not None:  # walk the first order key's index in order: LIMIT 20 reads about 20 entries
            alias = tables[first].split()[1]
            typed = self._typed_walk(alias, pattern_codes)
            rare = self._rare_value(pattern_codes)
            if rare is not None and (rare[1] <= SORT_AT_ONCE or typed is None):
                # few solutions: start from the rare value and sort them (a walk would step over every other
                # subject's values, the catalogue records' and the other publishers' datasets', to find them)
                first = tables.index(f"triples t{rare[0]}")
            elif typed is not None:  # ... of the values of subjects of one type only
                tables[first] = f"typed {alias}"
                conditions.append(typed)
            tables.insert(0, tables.pop(first))
            joined = " CROSS JOIN ".join(tables)
        else:
            joined = ", ".join(tables)
        self.from_sql = "FROM " + joined + " WHERE " + " AND ".join(conditions)
        if shape.distinct and any(v not in shape.variables for v, _ in shape.order_by):
            raise Undetermined("DISTINCT ordered by a variable it does not project")

    def _driving_table(self, tables: list[str]) -> int | None:
        """Where SQLite must start when a plain (ungrouped) query is ordered: at the table of the first order
        key, so that it reads the key's index in order and stops at the LIMIT (left to itself it joins
        everything first and sorts, which costs the whole catalogue whatever the LIMIT)."""
        shape = self.shape
        if shape.aggregated or not shape.order_by:
            return None
        alias = self.ties[shape.order_by[0][0]].split(".")[0]
        return tables.index(f"triples {alias}")

    def _rare_value(self, pattern_codes: list[int]) -> tuple[int, int] | None:
        """The pattern with a given object (``dct:publisher <p>``) that has the fewest statements, if at most
        :data:`SORT_AT_MOST`: (its number, how many)."""
        found = None
        for n, (pattern, code) in enumerate(zip(self.shape.patterns, pattern_codes, strict=True)):
            if not code or pattern.predicate == RDF_TYPE or not isinstance(pattern.object, Iri):
                continue
            term, tie = self.index._term(pattern.object.value)
            (count,) = self.index.db.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM triples WHERE p = ? AND t = ? AND o = ? LIMIT ?)",
                (code, tie, term, SORT_AT_MOST + 1),
            ).fetchone()
            if count <= SORT_AT_MOST and (found is None or count < found[1]):
                found = (n, count)
        return found

    def _typed_walk(self, alias: str, pattern_codes: list[int]) -> str | None:
        """The condition that walks ``typed`` instead of ``triples`` for the driving pattern (``alias``), when its
        predicate is one of :data:`ORDERED_PREDICATES` and the query also asks its subject's indexed type; the
        type's own pattern stays in the join, so the solutions are the same."""
        if not self.ties[self.shape.order_by[0][0]].endswith(".t"):  # ordered by the subject: the (p, s) key
            return None
        n = int(alias[1:])
        pattern = self.shape.patterns[n]
        if pattern_codes[n] not in ORDERED_CODES:
            return None
        for other, code in zip(self.shape.patterns, pattern_codes, strict=True):
            if code and other.predicate == RDF_TYPE and other.subject == pattern.subject:
                return f"{alias}.k = {code}"
        return None

    def classes_of(self, name: str) -> set[int]:
        """The classes of the values ``name`` takes at its first binding."""
        return self.classes.get(self.positions[name][0], set())

    def _order_class(self, name: str) -> int | None:
        """The one class of values ``name`` can take (IRI for none at all: there is nothing to order)."""
        for key in self.positions.get(name, []):
            found = self.classes.get(key, set()) - {NO_LOWER_CASE}
            if not found:
                return IRI
            if len(found) == 1 and UNORDERED not in found:
                return next(iter(found))
        return None

    def _inner(self) -> tuple[str, list[str], list[str]]:
        """SQL for the solutions before slicing (columns v0.. projected, c0.. the order keys' tie numbers), the
        ORDER BY terms, and the tie columns."""
        shape = self.shape
        projected: list[str] = []
        counts: dict[str, str] = {}
        for item in shape.projection:
            if isinstance(item, Count):
                if self.precounted is not None:  # a row stands for its count, repeated by any join
                    counts[item.alias] = self.precounted.counts[item.alias]
                elif item.var is None:
                    counts[item.alias] = "COUNT(*)"
                else:
                    counts[item.alias] = f"COUNT({'DISTINCT ' if item.distinct else ''}{self.columns[item.var]})"
                projected.append(counts[item.alias])
            else:
                projected.append(self.columns[item])
        order, ties = [], []
        for i, (name, descending) in enumerate(shape.order_by):
            # tie numbers follow the engine's order, equal for terms it compares equal
            ties.append(counts[name] if name in counts else self.ties[name])
            order.append(f"c{i}{' DESC' if descending else ''}")
        select = [f"{c} AS v{i}" for i, c in enumerate(projected)] + [f"{t} AS c{i}" for i, t in enumerate(ties)]
        sql = f"SELECT {'DISTINCT ' if shape.distinct else ''}{', '.join(select)} {self.from_sql}"
        if shape.group_by:  # by tie and term, the order of the (p, t, o, s) index: groups come one after another
            groups = [(self.ties[g], self.columns[g]) for g in shape.group_by]
            sql += " GROUP BY " + ", ".join(dict.fromkeys(c for pair in groups for c in pair))
        return sql, order, [f"c{i}" for i in range(len(ties))]

    def run(self, max_rows: int) -> Solutions:
        shape = self.shape
        sql, order, ties = self._inner()
        width = len(shape.projection)
        wanted = max_rows if shape.limit is None else min(shape.limit, max_rows)
        if self.unordered:
            every = self.index.db.execute(f"{sql} LIMIT ?", (*self.params, wanted + 1)).fetchall()
            if len(every) > wanted:
                raise Undetermined("no ORDER BY and more solutions than asked for: which come is the engine's choice")
            return Solutions(shape.variables, self._terms(every, width), False)
        ordered = f"{sql} ORDER BY {', '.join(order)}" if order else sql
        start = max(0, shape.offset - 1)
        before = shape.offset - start  # 1 if a row before the page is read too
        rows = self.index.db.execute(
            f"{ordered} LIMIT ? OFFSET ?", (*self.params, wanted + before + 1, start)
        ).fetchall()
        page = rows[before : before + wanted]
        after = rows[before + wanted] if len(rows) > before + wanted else None
        if order:
            self._check_determined(sql, rows[:before], page, [after] if after is not None else [], width, ties)
        more = after is not None and (shape.limit is None or wanted < shape.limit)
        return Solutions(shape.variables, self._terms(page, width), more)

    def _check_determined(self, sql: str, before: list, page: list, after: list, width: int, ties: list[str]) -> None:
        """Rows with equal order keys come in the engine's accidental order: refuse where that shows."""

        def tie(row) -> tuple:
            return tuple(row[width:])

        for first, second in itertools.pairwise(page):
            if tie(first) == tie(second) and first[:width] != second[:width]:
                raise Undetermined("rows with equal order keys inside the page")
        for edge, outside in ((page[:1], before), (page[-1:], after)):
            if edge and outside and tie(edge[0]) == tie(outside[0]):
                # the tied rows run past the page's edge: all of them must be one and the same row
                condition = " AND ".join(f"{c} = ?" for c in ties)
                distinct = ", ".join(f"v{i}" for i in range(width))
                found = self.index.db.execute(
                    f"SELECT DISTINCT {distinct} FROM ({sql}) WHERE {condition} LIMIT 2", (*self.params, *tie(edge[0]))
                ).fetchall()
                if len(found) > 1:
                    raise Undetermined("rows with equal order keys across the page's edge")

    def _terms(self, page: list, width: int) -> list[tuple]:
        counted = [isinstance(item, Count) for item in self.shape.projection]
        wanted = {row[i] for row in page for i in range(width) if not counted[i]}
        texts: dict[int, str] = {}
        ids = list(wanted)
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            texts.update(self.index.db.execute(f"SELECT id, text FROM terms WHERE id IN ({marks})", part))
        cache = {i: read_term(text) for i, text in texts.items()}
        return [
            tuple(Literal(str(row[i]), datatype=_COUNT_TYPE) if counted[i] else cache[row[i]] for i in range(width))
            for row in page
        ]


@dataclass(frozen=True)
class _Precounted:
    """Patterns of a query whose counts per group were counted when the index was built: the table to read
    them from (as ``pc``), the patterns it replaces, the group variable and its predicate, and the SQL of each
    count (a SUM where the count is of rows, which other patterns' joins repeat; a MAX where it is distinct)."""

    table: str
    conditions: list[str]
    patterns: frozenset[int]
    group: str
    code: int
    counts: dict[str, str]


def _counted_only_here(shape: Shape, names: set[str], patterns: list[int]) -> bool:
    """Whether the variables ``names`` occur only in these patterns and inside counts."""
    for n, pattern in enumerate(shape.patterns):
        if n not in patterns and any(Var(name) in (pattern.subject, pattern.object) for name in names):
            return False
    used = set(shape.group_by) | {v for v, _ in shape.order_by} | set(shape.variables) | {f.var for f in shape.filters}
    return not names & used


def _counts(shape: Shape) -> list[Count] | None:
    counts = [item for item in shape.projection if isinstance(item, Count)]
    return counts if shape.group_by and counts and not shape.filters else None


def _facet_core(shape: Shape, codes: dict, index: ShapeIndex) -> _Precounted | None:
    """The query counts, per value of a facet, the subjects that have it (``?d a dcat:Dataset ; dcat:theme
    ?theme`` ... ``GROUP BY ?theme``, ``COUNT(?d)``), the subject appearing nowhere else."""
    counts = _counts(shape)
    if counts is None or len({c.var for c in counts} - {None}) > 1:
        return None
    for name in sorted({p.subject.name for p in shape.patterns if isinstance(p.subject, Var)}):
        own = [n for n, p in enumerate(shape.patterns) if p.subject == Var(name)]
        types = [n for n in own if shape.patterns[n].predicate == RDF_TYPE]
        values = [n for n in own if shape.patterns[n].predicate != RDF_TYPE]
        if len(values) != 1 or len(types) > 1 or not _counted_only_here(shape, {name}, own):
            continue
        group = shape.patterns[values[0]].object
        if not isinstance(group, Var) or group.name not in shape.group_by or group.name == name:
            continue
        if any(c.var not in (None, name) for c in counts):
            continue
        code = codes.get((shape.patterns[values[0]].predicate, None))
        type_code = 0
        if types:
            kind = shape.patterns[types[0]].object
            if not isinstance(kind, Iri) or (RDF_TYPE, kind.value) not in codes:
                return None
            type_code = codes[(RDF_TYPE, kind.value)]
        if code is None or not index.has_facet(code):
            return None
        return _Precounted(
            "facet_counts pc",
            [f"pc.p = {code}", f"pc.q = {type_code}"],
            frozenset(own),
            group.name,
            code,
            {c.alias: "MAX(pc.n)" if c.distinct else "SUM(pc.n)" for c in counts},
        )
    return None


def _chain_core(shape: Shape, codes: dict, index: ShapeIndex) -> _Precounted | None:
    """The query counts, per value of a facet of what its subjects link to, the links, subjects or linked
    resources (``?d dcat:distribution ?x . ?x dct:format ?f`` ... ``GROUP BY ?f``, ``COUNT(DISTINCT ?d)``)."""
    counts = _counts(shape)
    if counts is None:
        return None
    for n, link in enumerate(shape.patterns):
        p1 = codes.get((link.predicate, None))
        if p1 is None or link.predicate not in {c.value for c in CHAIN_LINKS}:
            continue
        if not isinstance(link.subject, Var) or not isinstance(link.object, Var):
            continue
        subject, linked = link.subject.name, link.object.name
        facets = [m for m, p in enumerate(shape.patterns) if p.subject == Var(linked)]
        if subject == linked or len(facets) != 1:
            continue
        facet = shape.patterns[facets[0]]
        p2 = codes.get((facet.predicate, None))
        if p2 is None or not isinstance(facet.object, Var) or facet.object.name not in shape.group_by:
            continue
        if facet.object.name in (subject, linked) or not _counted_only_here(shape, {subject, linked}, [n, *facets]):
            continue
        sql = {}
        for c in counts:
            if not c.distinct:
                sql[c.alias] = "SUM(pc.links)"  # rows: one per (subject, linked) pair
            elif c.var == subject:
                sql[c.alias] = "MAX(pc.subjects)"
            elif c.var == linked:
                sql[c.alias] = "MAX(pc.objects)"
            else:
                return None
        if any(c.var not in (None, subject, linked) for c in counts) or not index.has_chain(p1, p2):
            return None
        return _Precounted(
            "chain_counts pc", [f"pc.p1 = {p1}", f"pc.p2 = {p2}"], frozenset((n, *facets)), facet.object.name, p2, sql
        )
    return None


def _require_connected(shape: Shape) -> None:
    """Patterns that share no variable multiply each other's rows: such a query is left to the engine (and its
    time limit) rather than run unbounded in the web process."""
    groups: list[set[str]] = []
    for pattern in shape.patterns:
        names = {n.name for n in (pattern.subject, pattern.object) if isinstance(n, Var)}
        if not names:
            raise Undetermined("a pattern without variables")
        joined = [g for g in groups if g & names]
        merged = names.union(*joined)
        groups = [g for g in groups if not g & names] + [merged]
    if len(groups) > 1:
        raise Undetermined("patterns that share no variable")


_indexes: dict[Path, ShapeIndex] = {}
_indexes_lock = threading.Lock()


def shape_index_of(generation_dir: Path) -> ShapeIndex | None:
    """The generation's shape index (opened once per process), or None if it has none."""
    return _index_at(shape_index_path(generation_dir))


def restricted_shape_index_of(generation_dir: Path) -> ShapeIndex | None:
    """The generation's trusted readers' shape index (module docstring), or None if it has none."""
    return _index_at(restricted_shape_index_path(generation_dir))


def _index_at(path: Path) -> ShapeIndex | None:
    with _indexes_lock:
        found = _indexes.get(path)
        if found is None:
            if not path.exists():
                return None
            found = _indexes[path] = ShapeIndex(path)
            for stale in [p for p in _indexes if p != path and not p.exists()]:
                del _indexes[stale]
        return found


__all__ = [
    "FILENAME",
    "ShapeIndex",
    "Solutions",
    "Undetermined",
    "build_restricted_shape_index",
    "build_shape_index",
    "build_sparql_indexes",
    "restricted_shape_index_of",
    "shape_index_of",
]
