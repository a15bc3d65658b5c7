"""``locn:geometry`` as DCAT-AP 3 wants it: a ``locn:Geometry`` node, with the source's literal as its GeoSPARQL
serialisation.

GeoDCAT-AP 2 and the DCAT 3 examples give a location's geometry as a literal (``geo:wktLiteral``,
``geo:gmlLiteral``, ``geo:geoJSONLiteral``); DCAT-AP 3.0.1's shapes want a node (``sh:nodeKind sh:BlankNodeOrIRI``,
``sh:class locn:Geometry``) and allow one per location. So the literals of one location become the
``geo:asWKT`` / ``geo:asGML`` / ``geo:asGeoJSON`` of one node ``#geometry-{hash}`` under the dataset (a GeoSPARQL
geometry may have several serialisations): every literal is kept, as given. Other literals are left as they are.

JSON sources give a place as a bounding box (data.json ``spatial`` "W,S,E,N") or a GeoJSON geometry (data.json, CKAN's
``spatial`` extra): :func:`location_statements` keeps them on a ``dct:Location`` of the dataset, as the borough
locations of ``ontology/boroughs.ttl`` are written (``dcat:bbox`` a WKT polygon typed ``geo:wktLiteral``, CRS84).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode

from dfl_graph.namespaces import DCAT, DCT, LOCN, RDF
from dfl_graph.records import DATASET, Anchor, Statement

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


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def bbox_wkt(text: str) -> str | None:
    """A bounding box "west,south,east,north" in decimal degrees (DCAT-US ``spatial``) as a WKT polygon in CRS84
    (GeoSPARQL's default, longitude first), the numbers as given; None if it is not such a box."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not all(_NUMBER.match(p) for p in parts):
        return None
    west, south, east, north = parts
    lons, lats = (float(west), float(east)), (float(south), float(north))
    if not (all(-180 <= x <= 180 for x in lons) and all(-90 <= y <= 90 for y in lats) and lats[0] <= lats[1]):
        return None
    corners = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    return "POLYGON((" + ",".join(f"{x} {y}" for x, y in corners) + "))"


def geojson_literal(value: object) -> Literal | None:
    """A GeoJSON geometry (an object, or its JSON text) as a ``geo:geoJSONLiteral``; None if it is not one."""
    geometry = value
    if isinstance(value, str):
        try:
            geometry = json.loads(value)
        except ValueError:
            return None
    if not isinstance(geometry, dict) or not isinstance(geometry.get("type"), str):
        return None
    text = value.strip() if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return Literal(text, datatype=NamedNode(GEO + "geoJSONLiteral"))


def location_statements(wkt_bbox: str | None = None, geometry: Literal | None = None) -> list[Statement]:
    """A ``dct:spatial`` location of the dataset (``#location-{hash}`` of what it holds) with a bounding box
    (``dcat:bbox``) and / or a geometry (on a ``locn:Geometry`` node): the place as the source gave it."""
    key = f"{wkt_bbox}|{geometry.value if geometry else ''}"
    node = Anchor(f"#location-{hashlib.sha256(key.encode()).hexdigest()[:12]}")
    statements = [Statement(DATASET, DCT.spatial.value, node), Statement(node, RDF.type.value, DCT.Location)]
    if wkt_bbox:
        statements.append(Statement(node, DCAT.bbox.value, Literal(wkt_bbox, datatype=NamedNode(GEO + "wktLiteral"))))
    if geometry is not None:
        statements += geometry_nodes([Statement(node, LOCN.geometry.value, geometry)])[0]
    return statements


__all__ = ["SERIALISATIONS", "bbox_wkt", "geojson_literal", "geometry_nodes", "location_statements"]
