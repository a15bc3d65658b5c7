"""Recognising the catalogue's everyday query shapes, so the endpoint can answer them from the shape index.

Oxigraph evaluates ``ORDER BY ?modified LIMIT 20`` by sorting the whole catalogue, and a count per theme by
grouping every dataset: seconds at 100,000 datasets, more than the time limit at a million. Those questions
are asked all the time (the 20 most recently modified datasets, counts per theme, borough, publisher or
format, a deep page ordered by date), and a per-generation index can answer them in milliseconds
(:mod:`dfl_graph.sparql.shape_index`). This module decides, structurally, whether a query is one of them.

It parses a small subset of SPARQL 1.1 into a normalised form (prefixes and relative IRIs resolved, ``;``
and ``,`` expanded, ``$x`` read as ``?x``)::

    SELECT [DISTINCT] (?var | (COUNT([DISTINCT] ?var | *) AS ?var))+
    [WHERE] { subject verb object [; verb object] [, object] . ...      # triple patterns
              [FILTER(CONTAINS(LCASE([STR(]?var[)]), "text"))] ... }    # and text filters
    [GROUP BY ?var+] [ORDER BY (?var | ASC(?var) | DESC(?var))+] [LIMIT n] [OFFSET n]

where subjects and objects are variables or IRIs and verbs are IRIs (or ``a``). Anything else — another
FILTER, OPTIONAL, a literal in a pattern, a blank node, an expression, ``SELECT *``, a dataset clause, a
``\\u`` escape — is not recognised, and the query runs on the engine as before: :func:`recognise` answers
``None`` rather than guess.
Whether the recognised query can be answered exactly (the predicates are indexed, the order is determined)
is the shape index's decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

from dfl_graph.sparql.inspection import Token, tokens, unescape

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
MAX_PATTERNS = 12
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_ECHAR = re.compile(r"\\([tbnrf\"'\\])")
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Iri:
    value: str


Node = Var | Iri


@dataclass(frozen=True)
class Count:
    """``(COUNT([DISTINCT] ?var | *) AS ?alias)``; ``var`` None for ``*``."""

    alias: str
    var: str | None
    distinct: bool


@dataclass(frozen=True)
class Pattern:
    subject: Node
    predicate: str
    object: Node


@dataclass(frozen=True)
class TextFilter:
    """``FILTER(CONTAINS(LCASE(?var), "text"))``, or with ``LCASE(STR(?var))`` (``through_str``)."""

    var: str
    text: str
    through_str: bool


@dataclass(frozen=True)
class Shape:
    """A recognised SELECT: projection, triple patterns, grouping, order and slice, in a normalised form."""

    distinct: bool
    projection: tuple[str | Count, ...]  # variable names and COUNT aggregates, in SELECT order
    patterns: tuple[Pattern, ...]
    group_by: tuple[str, ...]
    order_by: tuple[tuple[str, bool], ...]  # (variable, descending)
    limit: int | None
    offset: int
    filters: tuple[TextFilter, ...] = ()

    @property
    def variables(self) -> list[str]:
        """The result's variables, in order."""
        return [item.alias if isinstance(item, Count) else item for item in self.projection]

    @property
    def aggregated(self) -> bool:
        return bool(self.group_by) or any(isinstance(item, Count) for item in self.projection)


def _resolve(reference: str, base: str | None) -> str:
    """An IRI reference resolved against the base (urljoin, but an absolute IRI is kept as written, with its
    empty fragment: ``<http://www.w3.org/2004/02/skos/core#>`` must stay as it is)."""
    if _ABSOLUTE.match(reference) or not base:
        return reference
    joined = urljoin(base, reference)
    return joined + "#" if reference.endswith("#") and not joined.endswith("#") else joined


class _NotRecognised(Exception):
    pass


class _Reader:
    def __init__(self, toks: list[Token], base: str | None) -> None:
        self.toks, self.i, self.base = toks, 0, base
        self.prefixes: dict[str, str] = {}

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise _NotRecognised
        self.i += 1
        return token

    def word(self, *words: str) -> str | None:
        """The next token if it is one of these keywords (consumed), else None."""
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.upper() in words:
            self.i += 1
            return token.text.upper()
        return None

    def punct(self, *texts: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text in texts:
            self.i += 1
            return token.text
        return None

    def expect_punct(self, text: str) -> None:
        if self.punct(text) is None:
            raise _NotRecognised

    def var(self) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "var":
            self.i += 1
            return token.text[1:]
        return None

    def integer(self) -> int:
        token = self.next()
        if token.kind != "number" or not token.text.isdigit():
            raise _NotRecognised
        return int(token.text)

    def iri(self, token: Token) -> str | None:
        if token.kind == "iri":
            text = token.text[1:-1]
            if "\\" in text:
                raise _NotRecognised
            return _resolve(text, self.base)
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            if prefix not in self.prefixes or "\\" in local or "%" in local:
                raise _NotRecognised
            return self.prefixes[prefix] + local
        return None

    # -- the grammar --------------------------------------------------------------------------------
    def prologue(self) -> None:
        while True:
            if self.word("BASE"):
                token = self.next()
                if token.kind != "iri":
                    raise _NotRecognised
                self.base = self.iri(token)
            elif self.word("PREFIX"):
                name, iri = self.next(), self.next()
                if name.kind != "pname" or not name.text.endswith(":") or iri.kind != "iri":
                    raise _NotRecognised
                self.prefixes[name.text[:-1]] = self.iri(iri)  # type: ignore[assignment]
            else:
                return

    def projection(self) -> list[str | Count]:
        items: list[str | Count] = []
        while True:
            if (name := self.var()) is not None:
                items.append(name)
            elif self.punct("("):
                if not self.word("COUNT"):
                    raise _NotRecognised
                self.expect_punct("(")
                distinct = self.word("DISTINCT") is not None
                counted = None if self.punct("*") else self.var()
                if counted is None and (distinct or self.toks[self.i - 1].text != "*"):
                    raise _NotRecognised
                self.expect_punct(")")
                if not self.word("AS"):
                    raise _NotRecognised
                alias = self.var()
                if alias is None:
                    raise _NotRecognised
                self.expect_punct(")")
                items.append(Count(alias, counted, distinct))
            else:
                break
        if not items:
            raise _NotRecognised
        return items

    def node(self) -> Node:
        token = self.next()
        if token.kind == "var":
            return Var(token.text[1:])
        iri = self.iri(token)
        if iri is None:
            raise _NotRecognised
        return Iri(iri)

    def verb(self) -> str:
        token = self.next()
        if token.kind == "word" and token.text == "a":
            return RDF_TYPE
        iri = self.iri(token)
        if iri is None:
            raise _NotRecognised
        return iri

    def string(self) -> str:
        """A simple string literal (no language tag, no datatype), unescaped."""
        token = self.next()
        if token.kind != "string":
            raise _NotRecognised
        following = self.peek()
        if following is not None and (following.kind == "langtag" or following.text == "^^"):
            raise _NotRecognised
        quote = 3 if token.text[:3] in ('"""', "'''") else 1
        return _ECHAR.sub(lambda m: _ECHARS[m.group(1)], token.text[quote:-quote])

    def text_filter(self) -> TextFilter:
        """What follows FILTER: ``(CONTAINS(LCASE([STR(]?var[)]), "text"))``."""
        depth = 0
        while self.punct("("):
            depth += 1
        if not self.word("CONTAINS"):
            raise _NotRecognised
        self.expect_punct("(")
        if not self.word("LCASE"):
            raise _NotRecognised
        self.expect_punct("(")
        through_str = self.word("STR") is not None
        if through_str:
            self.expect_punct("(")
        name = self.var()
        if name is None:
            raise _NotRecognised
        for _ in range(2 if through_str else 1):
            self.expect_punct(")")
        self.expect_punct(",")
        text = self.string()
        for _ in range(depth + 1):
            self.expect_punct(")")
        return TextFilter(name, text, through_str)

    def triples(self) -> tuple[list[Pattern], list[TextFilter]]:
        self.expect_punct("{")
        found: list[Pattern] = []
        filters: list[TextFilter] = []
        while not self.punct("}"):
            if self.word("FILTER"):
                filters.append(self.text_filter())
                self.punct(".")
                continue
            subject = self.node()
            while True:
                predicate = self.verb()
                found.append(Pattern(subject, predicate, self.node()))
                while self.punct(","):
                    found.append(Pattern(subject, predicate, self.node()))
                if not self.punct(";"):
                    break
                token = self.peek()
                if token is not None and token.kind == "punct" and token.text in (".", "}", ";"):
                    while self.punct(";"):
                        pass
                    break
            if not self.punct(".") and not ((token := self.peek()) and token.text.upper() == "FILTER"):
                self.expect_punct("}")
                break
        if not found or len(found) > MAX_PATTERNS or len(filters) > MAX_PATTERNS:
            raise _NotRecognised
        return found, filters

    def modifiers(self) -> tuple[list[str], list[tuple[str, bool]], int | None, int]:
        group_by: list[str] = []
        if self.word("GROUP"):
            if not self.word("BY"):
                raise _NotRecognised
            while (name := self.var()) is not None:
                group_by.append(name)
            if not group_by:
                raise _NotRecognised
        order_by: list[tuple[str, bool]] = []
        if self.word("ORDER"):
            if not self.word("BY"):
                raise _NotRecognised
            while True:
                if (name := self.var()) is not None:
                    order_by.append((name, False))
                elif direction := self.word("ASC", "DESC"):
                    self.expect_punct("(")
                    name = self.var()
                    if name is None:
                        raise _NotRecognised
                    self.expect_punct(")")
                    order_by.append((name, direction == "DESC"))
                else:
                    break
            if not order_by:
                raise _NotRecognised
        limit, offset = None, 0
        for _ in range(2):
            if limit is None and self.word("LIMIT"):
                limit = self.integer()
            elif not offset and self.word("OFFSET"):
                offset = self.integer()
        if self.peek() is not None:
            raise _NotRecognised
        return group_by, order_by, limit, offset


def _check(shape: Shape) -> None:
    """The rules SPARQL sets on a query of this form (a query breaking them is an error the engine reports)."""
    bound = {n.name for p in shape.patterns for n in (p.subject, p.object) if isinstance(n, Var)}
    names = shape.variables
    if len(set(names)) != len(names):
        raise _NotRecognised
    counts = [item for item in shape.projection if isinstance(item, Count)]
    if any(c.alias in bound or (c.var is not None and c.var not in bound) for c in counts):
        raise _NotRecognised
    if shape.aggregated:
        plain = [item for item in shape.projection if isinstance(item, str)]
        if any(name not in shape.group_by for name in plain) or any(g not in bound for g in shape.group_by):
            raise _NotRecognised
        if any(v not in shape.group_by and v not in [c.alias for c in counts] for v, _ in shape.order_by):
            raise _NotRecognised
    elif any(name not in bound for name in names) or any(v not in bound for v, _ in shape.order_by):
        raise _NotRecognised
    if any(f.var not in bound for f in shape.filters):
        raise _NotRecognised


@lru_cache(maxsize=2048)
def recognise(text: str, base_iri: str | None = None) -> Shape | None:
    """The query's shape if it is in the subset above, else None (then it runs on the engine)."""
    if unescape(text) != text:
        return None
    reader = _Reader(tokens(text), base_iri)
    try:
        reader.prologue()
        if not reader.word("SELECT"):
            return None
        distinct = reader.word("DISTINCT") is not None
        projection = reader.projection()
        reader.word("WHERE")
        patterns, filters = reader.triples()
        group_by, order_by, limit, offset = reader.modifiers()
        shape = Shape(
            distinct,
            tuple(projection),
            tuple(patterns),
            tuple(group_by),
            tuple(order_by),
            limit,
            offset,
            tuple(filters),
        )
        _check(shape)
    except _NotRecognised:
        return None
    return shape


@dataclass(frozen=True)
class Lookup:
    """``DESCRIBE <iri>``, or ``CONSTRUCT { <iri> ?p ?o } WHERE { <iri> ?p ?o }`` (or ``CONSTRUCT WHERE``): one
    resource's statements, a bounded lookup that needs no query engine."""

    subject: str
    describe: bool


def _statement_pattern(reader: _Reader) -> tuple[str, str, str]:
    """``{ <iri> ?p ?o [.] }``: (subject IRI, predicate variable, object variable)."""
    reader.expect_punct("{")
    subject = reader.node()
    predicate, obj = reader.var(), reader.var()
    reader.punct(".")
    reader.expect_punct("}")
    if not isinstance(subject, Iri) or predicate is None or obj is None or predicate == obj:
        raise _NotRecognised
    return subject.value, predicate, obj


@lru_cache(maxsize=2048)
def recognise_lookup(text: str, base_iri: str | None = None) -> Lookup | None:
    """The resource a one-resource DESCRIBE or CONSTRUCT asks for, else None."""
    if unescape(text) != text:
        return None
    reader = _Reader(tokens(text), base_iri)
    try:
        reader.prologue()
        if reader.word("DESCRIBE"):
            found = reader.node()
            if not isinstance(found, Iri) or reader.peek() is not None:
                return None
            return Lookup(found.value, describe=True)
        if not reader.word("CONSTRUCT"):
            return None
        if reader.word("WHERE"):
            subject, _, _ = _statement_pattern(reader)
        else:
            template = _statement_pattern(reader)
            reader.word("WHERE")
            if _statement_pattern(reader) != template:
                return None
            subject = template[0]
        if reader.peek() is not None:
            return None
    except _NotRecognised:
        return None
    return Lookup(subject, describe=False)
