"""What a SPARQL request text is, found by a SPARQL lexer before anything runs.

pyoxigraph has no parse-only call and no switch to turn federation off, so the endpoint reads the text
itself to answer, before a worker is involved:

* which form it is (``SELECT``/``ASK``/``CONSTRUCT``/``DESCRIBE``, or an update): the response format is
  negotiated for that form, and updates are refused;
* its dataset clauses (``FROM``/``FROM NAMED``, with prefixes and ``BASE`` resolved): pyoxigraph's
  ``default_graph``/``named_graphs`` arguments replace a query's own dataset, so the endpoint has to know
  it to honour it (within the public graphs);
* whether it uses ``SERVICE``, which is refused;
* how deeply it nests (brackets, and chains of prefix operators such as ``!!!!``): oxigraph's parser is
  recursive, and a query nested a few thousand levels deep overflows the stack of the worker that parses it
  (a crash, not an error). Deeper than :data:`MAX_NESTING` is refused with 400 before a worker sees it.

The SERVICE check errs on the side of refusing. A ``<`` can start an IRI or be the less-than operator, and
oxigraph decides by grammar position while a lexer cannot: ``FILTER(?a<?b)SERVICE?x#>`` is, to oxigraph,
a filter, ``SERVICE ?x`` and a comment, but lexes as one IRI. So an IRI token that would hide the keyword
that way is refused too, and the text is also checked after ``\\u`` escape processing (which the SPARQL
grammar applies before parsing). This check gives a clear 400; it is not the only guard: the worker
processes cannot open network sockets at all (see :mod:`dfl_graph.sparql.sandbox`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
# Oxigraph's parser overflowed an 8 MB stack at 2,187 nested groups ({{{...}}}), 4,668 parentheses and 9,344
# "!" in a row (measured with pyoxigraph 0.5); no real query comes near this.
MAX_NESTING = 256
_OPENING, _CLOSING, _PREFIX_OPERATORS = "({[", ")}]", ("!", "-", "+")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")

_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"

_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><[^<>"{{}}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
              | \"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
              | '(?:[^'\\\n\r]|\\.)*'
              | "(?:[^"\\\n\r]|\\.)*")
  | (?P<var>[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)
  | (?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)
  | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
  | (?P<langtag>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|.)
    """,
    re.VERBOSE | re.DOTALL,
)
# An IRI token hiding the keyword SERVICE where oxigraph would read "<" as an operator: the keyword must
# be followed by a variable or a comment there (nothing else fits inside an IRI token), and no token
# ends in "/", so "<http://example.org/service#x>" passes.
_HIDDEN_SERVICE = re.compile(r"(?<!/)service[?$#]", re.IGNORECASE)
_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    offset: int


@dataclass
class QueryShape:
    """What the lexer found: the form, the dataset clauses, and reasons to refuse."""

    form: str | None = None  # SELECT, ASK, CONSTRUCT, DESCRIBE, UPDATE or None (could not tell)
    from_graphs: list[str] = field(default_factory=list)
    from_named_graphs: list[str] = field(default_factory=list)
    uses_service: bool = False
    uses_graph: bool = False  # a GRAPH pattern: it needs the named graphs, not only their merge
    nesting: int = 0  # the deepest nesting of brackets, or the longest chain of prefix operators
    problem: str | None = None  # a dataset clause that could not be read (left to the parser to report)

    @property
    def kind(self) -> str | None:
        """The kind of result: "solutions", "boolean" or "graph" (None for updates or unknown forms)."""
        return {"SELECT": "solutions", "ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph"}.get(self.form or "")

    @property
    def has_dataset(self) -> bool:
        return bool(self.from_graphs or self.from_named_graphs)


def tokens(text: str) -> list[Token]:
    """The significant tokens of a SPARQL text (whitespace and comments dropped)."""
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind not in ("ws", "comment"):
            found.append(Token(kind, match.group(), match.start()))
    return found


def unescape(text: str) -> str:
    """SPARQL's codepoint escape processing (``\\u0053`` is ``S``), applied before parsing."""

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code < 0x110000 and not 0xD800 <= code <= 0xDFFF else match.group()

    return _UNICODE_ESCAPE.sub(replace, text)


def _nesting(toks: list[Token]) -> int:
    """The deepest bracket nesting, or the longest run of prefix operators, whichever is more. Brackets inside
    IRI tokens count too: where the lexer reads ``<(((1)))>`` as an IRI, oxigraph may read operators."""
    deepest = depth = run = 0
    for token in toks:
        if token.kind == "punct" and token.text in _PREFIX_OPERATORS:
            run += 1
            deepest = max(deepest, run)
            continue
        run = 0
        text = token.text if token.kind in ("punct", "iri") else ""
        for char in text:
            if char in _OPENING:
                depth += 1
                deepest = max(deepest, depth)
            elif char in _CLOSING:
                depth = max(0, depth - 1)
    return deepest


def _uses_service(toks: list[Token]) -> bool:
    for token in toks:
        if token.kind == "word" and token.text.upper() == "SERVICE":
            return True
        if token.kind == "iri" and _HIDDEN_SERVICE.search(token.text):
            return True
    return False


@lru_cache(maxsize=2048)
def inspect(text: str, base_iri: str | None = None) -> QueryShape:
    """Read a query or update text: its form, its dataset clauses, and whether it uses SERVICE.
    (Remembered for repeated texts; the shape is not to be modified.)"""
    toks = tokens(text)
    shape = QueryShape(uses_service=_uses_service(toks), nesting=_nesting(toks))
    unescaped = unescape(text)
    if unescaped != text:
        toks_unescaped = tokens(unescaped)
        shape.uses_service = shape.uses_service or _uses_service(toks_unescaped)
        shape.nesting = max(shape.nesting, _nesting(toks_unescaped))
        toks = toks_unescaped
    base = base_iri
    prefixes: dict[str, str] = {}
    i = 0
    # Prologue: BASE <iri> and PREFIX p: <iri>, in any order and number.
    while i < len(toks):
        word = toks[i].text.upper() if toks[i].kind == "word" else None
        if word == "BASE" and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            base = _resolve(toks[i + 1].text[1:-1], base)
            i += 2
        elif word == "PREFIX" and i + 2 < len(toks) and toks[i + 1].kind == "pname" and toks[i + 2].kind == "iri":
            prefixes[toks[i + 1].text[:-1]] = _resolve(toks[i + 2].text[1:-1], base)
            i += 3
        else:
            break
    if i < len(toks) and toks[i].kind == "word":
        word = toks[i].text.upper()
        if word in QUERY_FORMS:
            shape.form = word
        elif word in UPDATE_KEYWORDS:
            shape.form = "UPDATE"
            return shape
    shape.uses_graph = any(t.kind == "word" and t.text.upper() == "GRAPH" for t in toks[i:])
    # Dataset clauses: FROM [NAMED] iri. FROM is used nowhere else in the query grammar.
    for j in range(i, len(toks)):
        if toks[j].kind != "word" or toks[j].text.upper() != "FROM":
            continue
        k = j + 1
        named = k < len(toks) and toks[k].kind == "word" and toks[k].text.upper() == "NAMED"
        if named:
            k += 1
        iri = _iri_of(toks[k], prefixes, base) if k < len(toks) else None
        if iri is None:
            shape.problem = f"FROM{' NAMED' if named else ''} must be followed by an IRI"
            continue
        (shape.from_named_graphs if named else shape.from_graphs).append(iri)
    return shape


def _resolve(iri: str, base: str | None) -> str:
    return urljoin(base, iri) if base else iri


def _iri_of(token: Token, prefixes: dict[str, str], base: str | None) -> str | None:
    if token.kind == "iri":
        return _resolve(token.text[1:-1], base)
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        if prefix not in prefixes:
            return None
        local = re.sub(r"\\(.)", r"\1", local)
        return prefixes[prefix] + local
    return None
