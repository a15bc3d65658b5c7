"""Restoring the datatypes the DCAT-AP profile requires, on the way out of the store.

Oxigraph stores literals in a normalised, compact form: ``"2000"^^xsd:nonNegativeInteger`` is kept
as ``"2000"^^xsd:integer`` (oxigraph/oxigraph#526, no switch to turn it off). DCAT-AP 3 requires
``dcat:byteSize`` to be an ``xsd:nonNegativeInteger``. The value is the same, so everything that
publishes triples (documents, feeds, dumps, validation) passes them through :func:`published`,
which puts the profile's datatype back for the few properties whose range is fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from pyoxigraph import Literal, Quad, Triple

from dfl_graph.namespaces import DCAT, XSD

PROFILE_DATATYPES = {DCAT.byteSize: XSD.nonNegativeInteger}
_NORMALISED_AS = XSD.integer

T = TypeVar("T", Triple, Quad)


def published(statement: T) -> T:
    """The statement with the profile's datatype restored, if Oxigraph normalised it."""
    wanted = PROFILE_DATATYPES.get(statement.predicate)
    value = statement.object
    if wanted is None or not isinstance(value, Literal) or value.datatype != _NORMALISED_AS:
        return statement
    retyped = Literal(value.value, datatype=wanted)
    if isinstance(statement, Quad):
        return Quad(statement.subject, statement.predicate, retyped, statement.graph_name)  # type: ignore[return-value]
    return Triple(statement.subject, statement.predicate, retyped)  # type: ignore[return-value]


def all_published(statements: Iterable[T]) -> Iterator[T]:
    return (published(s) for s in statements)
