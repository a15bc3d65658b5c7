"""``locn:geometry`` as DCAT-AP 3 wants it: a ``locn:Geometry`` node, with the source's literal as its GeoSPARQL
serialisation.

GeoDCAT-AP 2 and the DCAT 3 examples give a location's geometry as a literal (``geo:wktLiteral``,
``geo:gmlLiteral``, ``geo:geoJSONLiteral``); DCAT-AP 3.0.1's shapes want a node (``sh:nodeKind sh:BlankNodeOrIRI``,
``sh:class locn:Geometry``) and allow one per location. So the literals of one location become the
``geo:asWKT`` / ``geo:asGML`` / ``geo:asGeoJSON`` of one node ``#geometry-{hash}`` under the dataset (a GeoSPARQL
geometry may have several serialisations): every literal is kept, as given. Other literals are left as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode

from dfl_graph.namespaces import LOCN, RDF
from dfl_graph.records import Anchor, Statement

GEO = "http://www.opengis.net/ont/geosparql#"
SERIALISATIONS = {
    GEO + "wktLiteral": GEO + "asWKT",
    GEO + "gmlLiteral": GEO + "asGML",
    GEO + "geoJSONLiteral": GEO + "asGeoJSON",
}


def geometry_nodes(statements: Iterable[Statement]) -> tuple[list[Statement], list[Statement]]:
    """The statements with each location's geometry literals on one ``locn:Geometry`` node; the statements so
    replaced."""
    out: list[Statement] = []
    replaced: list[Statement] = []
    nodes: dict[object, Anchor] = {}
    for s in statements:
        o = s.object
        if s.predicate != LOCN.geometry.value or not isinstance(o, Literal) or o.datatype.value not in SERIALISATIONS:
            out.append(s)
            continue
        replaced.append(s)
        node = nodes.get(s.subject)
        if node is None:
            name = s.subject.key if isinstance(s.subject, Anchor) else s.subject.value
            node = nodes[s.subject] = Anchor(f"#geometry-{hashlib.sha256(name.encode()).hexdigest()[:12]}")
            out.append(Statement(s.subject, s.predicate, node))
            out.append(Statement(node, RDF.type.value, LOCN.Geometry))
            out.append(Statement(node, RDF.type.value, NamedNode(GEO + "Geometry")))
        out.append(Statement(node, SERIALISATIONS[o.datatype.value], o))
    return out, replaced


__all__ = ["SERIALISATIONS", "geometry_nodes"]
