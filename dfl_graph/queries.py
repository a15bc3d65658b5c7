"""Named SPARQL queries kept as ``queries/*.rq`` files, with a small header that documents them.

Header lines at the top of a file::

    # @title Datasets per theme
    # @description How many public datasets each theme has.
    # @param theme iri - the theme to count (optional: no default means all themes)
    # @param limit integer 20 the most rows to return
    # @param dataset iri (required) the dataset to describe
    # @param class iri {base}/def/dfl#WithdrawnDataset the class to list ({base}: the deployment's base)

The default is ``-`` for an optional parameter without a value, or ``(required)`` for one the query cannot do
without: a query whose unbound parameter would match the whole catalogue (``?dataset ?p ?o``) must not run
because a caller forgot it, so it answers 400 instead. ``{base}`` in a default is the deployment's base IRI.

Parameters are bound as RDF terms through pyoxigraph substitutions, never pasted into the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Variable

from dfl_graph.namespaces import XSD

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
_HEADER = re.compile(r"^#\s*@(title|description|param)\s+(.*)$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PARAM_TYPES = {"iri", "string", "integer", "date", "dateTime", "boolean"}
NO_DEFAULT = "-"
REQUIRED = "(required)"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str | None
    description: str
    required: bool = False

    def term(self, value: str) -> NamedNode | Literal:
        """The RDF term for a request value; ValueError says what is wrong."""
        if self.type == "iri":
            if not re.match(r"^[a-z][a-z0-9+.-]*:[^\s<>\"{}|\\^`]*$", value, re.I):
                raise ValueError(f"parameter {self.name!r} must be an absolute IRI, got {value!r}")
            return NamedNode(value)
        if self.type == "integer":
            if not re.match(r"^[+-]?\d{1,18}$", value):
                raise ValueError(f"parameter {self.name!r} must be an integer, got {value!r}")
            return Literal(str(int(value)), datatype=XSD.integer)
        if self.type == "boolean":
            if value not in ("true", "false"):
                raise ValueError(f"parameter {self.name!r} must be true or false, got {value!r}")
            return Literal(value, datatype=XSD.boolean)
        if self.type in ("date", "dateTime"):
            if not re.match(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$", value):
                raise ValueError(f"parameter {self.name!r} must be an ISO 8601 {self.type}, got {value!r}")
            return Literal(value, datatype=XSD[self.type])
        return Literal(value)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str
    title: str
    description: str
    parameters: tuple[Parameter, ...] = field(default=())

    def substitutions(self, values: dict[str, str], base: str | None = None) -> dict[Variable, NamedNode | Literal]:
        """Bind request values (and defaults, with ``{base}`` filled in) to the query's variables; ValueError
        for an unknown, missing required or malformed parameter."""
        unknown = set(values) - {p.name for p in self.parameters}
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(sorted(unknown))} for query {self.name!r}")
        bound: dict[Variable, NamedNode | Literal] = {}
        for parameter in self.parameters:
            value = values.get(parameter.name)
            if value is None and parameter.required:
                raise ValueError(
                    f"parameter {parameter.name!r} is required for query {self.name!r}: {parameter.description}"
                )
            if value is None and parameter.default is not None:
                value = parameter.default if base is None else parameter.default.replace("{base}", base)
            if value is not None:
                bound[Variable(parameter.name)] = parameter.term(value)
        return bound


def parse_query_file(path: Path) -> NamedQuery:
    title, description, parameters = path.stem, "", []
    for line in path.read_text().splitlines():
        match = _HEADER.match(line)
        if not match:
            if line.strip() and not line.startswith("#"):
                break
            continue
        key, value = match.groups()
        if key == "title":
            title = value.strip()
        elif key == "description":
            description = (description + " " + value.strip()).strip()
        else:
            parts = value.split(maxsplit=3)
            if len(parts) < 3 or parts[1] not in PARAM_TYPES:
                raise ValueError(
                    f"{path}: '@param {value}' must be 'name type default description', type one of "
                    f"{', '.join(sorted(PARAM_TYPES))}, default '{NO_DEFAULT}' for none or '{REQUIRED}'"
                )
            name, ptype, default = parts[:3]
            parameters.append(
                Parameter(
                    name,
                    ptype,
                    None if default in (NO_DEFAULT, REQUIRED) else default,
                    "".join(parts[3:]),
                    required=default == REQUIRED,
                )
            )
    return NamedQuery(path.stem, path.read_text(), title, description, tuple(parameters))


@cache
def named_queries(directory: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every ``*.rq`` in the queries folder, by name."""
    return {p.stem: parse_query_file(p) for p in sorted(directory.glob("*.rq")) if _NAME.match(p.stem)}


def query_text(name: str) -> str:
    """The text of one named query (KeyError if there is none)."""
    return named_queries()[name].text
