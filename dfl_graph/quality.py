"""Metadata quality of one dataset, from its own statements, published as W3C DQV measurements.

In the spirit of data.europa.eu's Metadata Quality Assessment (MQA): the same five dimensions, the same
checks where a check can be made from the statements alone, and the same points, so a score here reads
like an MQA score. A dataset's score is a pure function of its triples (the dataset, its distributions
and their sub-resources, as :class:`dfl_graph.dcat.DcatApWriter` writes them): no network, no other
dataset, no clock. What MQA measures that the statements cannot tell (whether an access URL answers,
whether the record passes the DCAT-AP SHACL shapes) is replaced by the nearest check they can (the URL is
given; the DCAT-AP mandatory description is there). docs/library.md ("Metadata quality") lists every check.

Distribution checks score the share of distributions that pass (2 of 4 distributions with a media type:
half the points); a dataset with no distribution gets none of them.

The measurements are written after a dataset's own statements (:func:`measurement_quads`), one
``dqv:QualityMeasurement`` per dimension and one for the total, with hash IRIs under the dataset
(``{dataset}#quality-findability``, ..., ``{dataset}#quality``), ``dqv:computedOn`` the dataset and
``dqv:isMeasurementOf`` our metrics (``ontology/dfl.ttl``): ``dfl:findabilityScore``,
``dfl:accessibilityScore``, ``dfl:interoperabilityScore``, ``dfl:reusabilityScore``,
``dfl:contextualityScore`` (each ``dqv:inDimension`` ``dfl:Findability``, ``dfl:Accessibility``,
``dfl:Interoperability``, ``dfl:Reusability``, ``dfl:Contextuality`` of the ``dfl:MetadataQuality``
category) and ``dfl:metadataQualityScore`` for the total.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Quad, Triple

from dfl_graph.format_kinds import kind_of, normalise_formats
from dfl_graph.namespaces import DCAT, DCT, DQV, EU_ACCESS_RIGHT, EU_FILE_TYPE, EU_LICENCE, IANA_MEDIA, RDF, XSD

# (dimension id, label): the MQA dimensions, in MQA's order
DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("findability", "Findability"),
    ("accessibility", "Accessibility"),
    ("interoperability", "Interoperability"),
    ("reusability", "Reusability"),
    ("contextuality", "Contextuality"),
)
DIMENSION_IDS = tuple(d for d, _ in DIMENSIONS)


@dataclass(frozen=True)
class Check:
    """One check: what it looks for, in which dimension, and the points it is worth (MQA's)."""

    name: str
    dimension: str
    points: int
    description: str
    per_distribution: bool = False


CHECKS: tuple[Check, ...] = (
    Check("keywords", "findability", 30, "at least one dcat:keyword"),
    Check("themes", "findability", 30, "at least one dcat:theme"),
    Check("spatial", "findability", 20, "a dct:spatial coverage (a borough, or London)"),
    Check("temporal", "findability", 20, "a dct:temporal period"),
    Check("access_url", "accessibility", 50, "a dcat:accessURL (MQA: one that answers)", True),
    Check("download_url", "accessibility", 50, "a dcat:downloadURL (MQA: given, 20, and answers, 30)", True),
    Check("format", "interoperability", 20, "a dct:format", True),
    Check("media_type", "interoperability", 10, "a dcat:mediaType", True),
    Check("format_vocabulary", "interoperability", 10, "format from the EU file-type list or IANA", True),
    Check("non_proprietary", "interoperability", 20, "an open, non-proprietary format", True),
    Check("machine_readable", "interoperability", 20, "a machine-readable format", True),
    Check("description", "interoperability", 30, "a dct:description (MQA: passes the DCAT-AP shapes)"),
    Check("licence", "reusability", 20, "a dct:license"),
    Check("licence_vocabulary", "reusability", 10, "a licence from the EU licence list"),
    Check("access_rights", "reusability", 10, "dct:accessRights"),
    Check("access_rights_vocabulary", "reusability", 5, "access rights from the EU access-right list"),
    Check("contact_point", "reusability", 20, "a dcat:contactPoint"),
    Check("publisher", "reusability", 10, "a dct:publisher"),
    Check("rights", "contextuality", 5, "dct:rights", True),
    Check("byte_size", "contextuality", 5, "a dcat:byteSize", True),
    Check("issued", "contextuality", 5, "a dct:issued date"),
    Check("modified", "contextuality", 5, "a dct:modified date"),
)
MAXIMUM = {d: sum(c.points for c in CHECKS if c.dimension == d) for d in DIMENSION_IDS}
TOTAL_MAXIMUM = sum(MAXIMUM.values())  # 405, as MQA's
# MQA's rating bands on the total (out of 405); MQA calls the lowest "bad"
RATINGS: tuple[tuple[int, str, str], ...] = (
    (351, "excellent", "Excellent"),
    (221, "good", "Good"),
    (121, "sufficient", "Sufficient"),
    (0, "poor", "Poor"),
)

# EU file-type codes of open, non-proprietary formats (MQA's list, abridged to the codes London catalogues use);
# machine-readable formats are the kinds of data search groups as tables, geospatial and APIs
NON_PROPRIETARY = frozenset(
    {
        *("CSV", "TSV", "JSON", "JSON_LD", "XML", "GEOJSON", "ODS", "ODT", "ODP", "TXT", "HTML", "XHTML", "RDF"),
        *("RDF_XML", "RDF_TURTLE", "RDF_N_TRIPLES", "RDF_N_QUADS", "RDF_TRIG", "KML", "GML", "GPKG", "PDF"),
        *("PDFA1A", "PDFA1B", "PDFA2A", "PDFA2B", "PDFA3", "ZIP", "GZIP", "ATOM", "RSS", "SPARQLQ", "SPARQLQRES"),
        *("GTFS", "PNG", "GEOTIFF", "NETCDF"),
    }
)
MACHINE_READABLE_KINDS = frozenset({"tables", "geospatial", "apis"})


@dataclass(frozen=True)
class Assessment:
    """The points a dataset scored, per check and per dimension."""

    checks: dict[str, float]  # check name -> points scored (a share of its points for distribution checks)

    def dimension(self, dimension: str) -> int:
        return round(sum(v for name, v in self.checks.items() if _BY_NAME[name].dimension == dimension))

    @property
    def dimensions(self) -> dict[str, int]:
        return {d: self.dimension(d) for d in DIMENSION_IDS}

    @property
    def total(self) -> int:
        return sum(self.dimensions.values())

    @property
    def percent(self) -> int:
        return round(100 * self.total / TOTAL_MAXIMUM)

    @property
    def rating(self) -> str:
        return rating_of(self.total)


_BY_NAME = {c.name: c for c in CHECKS}


def rating_of(total: int) -> str:
    """The rating key ("excellent", "good", "sufficient", "poor") of a total out of :data:`TOTAL_MAXIMUM`."""
    return next(key for floor, key, _ in RATINGS if total >= floor)


RATING_LABELS = {key: label for _, key, label in RATINGS}


def assess(dataset: NamedNode, statements: Iterable[Triple | Quad]) -> Assessment:
    """Score one dataset from its statements (any others in ``statements`` are ignored)."""
    about: dict[str, dict[str, list]] = {}
    for s in statements:
        about.setdefault(s.subject.value, {}).setdefault(s.predicate.value, []).append(s.object)
    own = about.get(dataset.value, {})

    def has(predicate: NamedNode, node: dict[str, list] = own) -> bool:
        return bool(node.get(predicate.value))

    def iris(predicate: NamedNode, node: dict[str, list] = own) -> list[str]:
        return [o.value for o in node.get(predicate.value, ()) if isinstance(o, NamedNode)]

    distributions = [about.get(iri, {}) for iri in dict.fromkeys(iris(DCAT.distribution))]

    def share(test) -> float:
        return sum(1 for d in distributions if test(d)) / len(distributions) if distributions else 0.0

    def codes(d: dict[str, list]) -> set[str]:
        return {f.key for f in normalise_formats(iris(DCT["format"], d) + iris(DCAT.mediaType, d))}

    described = any(isinstance(o, Literal) and o.value.strip() for o in own.get(DCT.description.value, ()))

    passed: dict[str, float] = {
        "keywords": float(has(DCAT.keyword)),
        "themes": float(has(DCAT.theme)),
        "spatial": float(has(DCT.spatial)),
        "temporal": float(has(DCT.temporal)),
        "access_url": share(lambda d: has(DCAT.accessURL, d)),
        "download_url": share(lambda d: has(DCAT.downloadURL, d)),
        "format": share(lambda d: has(DCT["format"], d)),
        "media_type": share(lambda d: has(DCAT.mediaType, d)),
        "format_vocabulary": share(
            lambda d: (
                any(i.startswith((EU_FILE_TYPE.iri, IANA_MEDIA.iri)) for i in iris(DCT["format"], d))
                or any(i.startswith(IANA_MEDIA.iri) for i in iris(DCAT.mediaType, d))
            )
        ),
        "non_proprietary": share(lambda d: bool(codes(d) & NON_PROPRIETARY)),
        "machine_readable": share(lambda d: any(kind_of(c) in MACHINE_READABLE_KINDS for c in codes(d))),
        "description": float(described),
        "licence": float(has(DCT.license)),
        "licence_vocabulary": float(any(i.startswith(EU_LICENCE.iri) for i in iris(DCT.license))),
        "access_rights": float(has(DCT.accessRights)),
        "access_rights_vocabulary": float(any(i.startswith(EU_ACCESS_RIGHT.iri) for i in iris(DCT.accessRights))),
        "contact_point": float(has(DCAT.contactPoint)),
        "publisher": float(has(DCT.publisher)),
        "rights": share(lambda d: has(DCT.rights, d)),
        "byte_size": share(lambda d: has(DCAT.byteSize, d)),
        "issued": float(has(DCT.issued)),
        "modified": float(has(DCT.modified)),
    }
    return Assessment({name: _BY_NAME[name].points * value for name, value in passed.items()})


def measurement_iri(dataset: NamedNode, dimension: str | None = None) -> NamedNode:
    """``{dataset}#quality-{dimension}``, or ``{dataset}#quality`` for the total."""
    return NamedNode(f"{dataset.value}#quality" + (f"-{dimension}" if dimension else ""))


def metric_iri(vocab_namespace: str, dimension: str | None = None) -> NamedNode:
    """Our metric of a dimension (``dfl:findabilityScore``, ...) or of the total (``dfl:metadataQualityScore``)."""
    return NamedNode(vocab_namespace + (f"{dimension}Score" if dimension else "metadataQualityScore"))


def measurement_quads(
    dataset: NamedNode, statements: Iterable[Triple | Quad], graph: NamedNode, vocab_namespace: str
) -> Iterator[Quad]:
    """The DQV measurements of a dataset's quality (one per dimension and the total), in ``graph``."""
    assessment = assess(dataset, statements)
    values = [*((d, assessment.dimension(d)) for d in DIMENSION_IDS), (None, assessment.total)]
    for dimension, value in values:
        node = measurement_iri(dataset, dimension)
        yield Quad(node, RDF.type, DQV.QualityMeasurement, graph)
        yield Quad(node, DQV.computedOn, dataset, graph)
        yield Quad(node, DQV.isMeasurementOf, metric_iri(vocab_namespace, dimension), graph)
        yield Quad(node, DQV.value, Literal(str(value), datatype=XSD.integer), graph)


def from_measurements(values: dict[str, int]) -> dict[str, int] | None:
    """Dimension points from measurement values keyed by fragment (``quality-findability`` ...); None when
    a dimension is missing (a dataset written before quality was measured)."""
    found = {d: values.get(f"quality-{d}") for d in DIMENSION_IDS}
    if any(v is None for v in found.values()):
        return None
    return {d: int(v) for d, v in found.items()}  # type: ignore[arg-type]


__all__ = [
    "CHECKS",
    "DIMENSIONS",
    "DIMENSION_IDS",
    "MAXIMUM",
    "RATINGS",
    "RATING_LABELS",
    "TOTAL_MAXIMUM",
    "Assessment",
    "Check",
    "assess",
    "from_measurements",
    "measurement_iri",
    "measurement_quads",
    "metric_iri",
    "rating_of",
]
