"""The geometry of each London borough and of London itself, derived from open boundary data.

Input: ``sources/londonBoroughs.json``, the London borough boundaries (ONS / OS ``London_Borough_Excluding_MHW``,
from the London Datastore's "Statistical GIS Boundary Files for London", Open Government Licence v3.0) as
simplified TopoJSON in longitude/latitude, shipped by the npm package ``vega-datasets`` (``sources/SOURCE.md``).
Output: per borough its bounding box, centroid and shape as WKT in CRS84 (longitude latitude, GeoSPARQL's default
CRS, so no CRS IRI is written: Virtuoso 7 refuses WKT that starts with one); London's bounding box and centroid
from all 33, and its outline from the boundary arcs no two boroughs share. ``build_vocabularies.py`` writes them
into ``boroughs.ttl``.

The centroid is the area-weighted centroid of the polygons, computed in the longitude/latitude plane: at London's
size it is within metres of the geodesic one, and the same number on every run.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "sources" / "londonBoroughs.json"
DECIMALS = 6  # about 0.1 m: far finer than the simplified source

Point = tuple[float, float]
Ring = list[Point]
Polygon = list[Ring]  # the outer ring, then holes


@dataclass(frozen=True)
class Geometry:
    bbox: str  # WKT POLYGON
    centroid: str  # WKT POINT
    shape: str | None  # WKT POLYGON or MULTIPOLYGON


def read_topology(path: Path = SOURCE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def decoded_arcs(topology: dict) -> list[list[Point]]:
    """TopoJSON arcs are quantised and delta-encoded: back to longitude/latitude positions."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_of(indexes: list[int], arcs: list[list[Point]]) -> Ring:
    """A ring from arc indexes (``~i`` is arc ``i`` reversed); consecutive arcs share their end point."""
    ring: Ring = []
    for index in indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(points if not ring else points[1:])
    return ring


def borough_polygons(topology: dict) -> dict[str, list[Polygon]]:
    """Each borough's polygons, by the name the source gives it ("Kingston upon Thames")."""
    arcs = decoded_arcs(topology)
    shapes: dict[str, list[Polygon]] = {}
    for geometry in topology["objects"]["boroughs"]["geometries"]:
        parts = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        shapes[geometry["id"]] = [[ring_of(ring, arcs) for ring in part] for part in parts]
    return shapes


def outline(topology: dict) -> list[Polygon]:
    """London's outline: the rings formed by the arcs that only one borough uses (shared arcs are inner borders)."""
    arcs = decoded_arcs(topology)
    uses: dict[int, list[int]] = {}
    for geometry in topology["objects"]["boroughs"]["geometries"]:
        parts = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        for part in parts:
            for ring in part:
                for index in ring:
                    uses.setdefault(index if index >= 0 else ~index, []).append(index)
    outer = [signed[0] for signed in uses.values() if len(signed) == 1]
    by_start: dict[Point, list[int]] = {}
    for index in outer:
        by_start.setdefault(ring_of([index], arcs)[0], []).append(index)
    rings: list[Ring] = []
    remaining = set(outer)
    while remaining:
        first = min(remaining, key=lambda i: i if i >= 0 else ~i)
        chain = [first]
        remaining.discard(first)
        start = ring_of([first], arcs)[0]
        end = ring_of([first], arcs)[-1]
        while end != start:
            following = [i for i in by_start.get(end, []) if i in remaining]
            if not following:
                raise ValueError("the outer arcs do not close into rings")
            chain.append(following[0])
            remaining.discard(following[0])
            end = ring_of([following[0]], arcs)[-1]
        rings.append(ring_of(chain, arcs))
    return [[ring] for ring in rings]


def signed_area(ring: Ring) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2


def centroid(polygons: list[Polygon]) -> Point:
    """The area-weighted centroid of polygons (holes subtract)."""
    total = cx = cy = 0.0
    for polygon in polygons:
        for n, ring in enumerate(polygon):
            area = signed_area(ring)
            weight = abs(area) if n == 0 else -abs(area)
            if area == 0:
                continue
            rx = sum((x0 + x1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in itertools.pairwise(ring))
            ry = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in itertools.pairwise(ring))
            cx += rx / (6 * area) * weight
            cy += ry / (6 * area) * weight
            total += weight
    return cx / total, cy / total


def number(value: float) -> str:
    """A coordinate rounded to ``DECIMALS``, written as Virtuoso 7 writes a double back (``%.14g``: ``51.485529``,
    ``2.6e-05``), so boxes and shapes read back byte for byte from every backend."""
    text = format(round(value, DECIMALS), ".14g")
    return "0" if text == "-0" else text


def position(point: Point) -> str:
    return f"{number(point[0])} {number(point[1])}"


def wkt_ring(ring: Ring) -> str:
    """Positions separated by a comma without a space: the form Virtuoso 7 answers a WKT literal in, so the value
    reads back byte for byte from every backend."""
    return "(" + ",".join(position(p) for p in ring) + ")"


def wkt_shape(polygons: list[Polygon]) -> str:
    if len(polygons) == 1:
        return "POLYGON(" + ",".join(wkt_ring(r) for r in polygons[0]) + ")"
    return "MULTIPOLYGON(" + ",".join("(" + ",".join(wkt_ring(r) for r in p) + ")" for p in polygons) + ")"


def geometry(polygons: list[Polygon], shape: bool = True) -> Geometry:
    points = [p for polygon in polygons for ring in polygon for p in ring]
    west, east = min(x for x, _ in points), max(x for x, _ in points)
    south, north = min(y for _, y in points), max(y for _, y in points)
    corners = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    return Geometry(
        bbox=f"POLYGON({wkt_ring(corners)})",
        centroid=f"POINT({position(centroid(polygons))})",
        shape=wkt_shape(polygons) if shape else None,
    )


def london_geometries(places: dict[str, str], path: Path = SOURCE) -> tuple[dict[str, Geometry], Geometry]:
    """Each borough's geometry by GSS code (``places``: GSS code -> place name as the source names it), and
    London's: its bounding box and centroid from all the boroughs, its shape the outline."""
    topology = read_topology(path)
    shapes = borough_polygons(topology)
    if sorted(shapes) != sorted(places.values()):
        missing = sorted(set(places.values()) ^ set(shapes))
        raise SystemExit(f"{path}: the boroughs do not match the register's places: {missing}")
    boroughs = {gss: geometry(shapes[place]) for gss, place in places.items()}
    everything = [polygon for polygons in shapes.values() for polygon in polygons]
    whole = geometry(everything, shape=False)
    return boroughs, Geometry(whole.bbox, whole.centroid, wkt_shape(outline(topology)))
