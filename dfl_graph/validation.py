"""SHACL validation of the catalogue (pyshacl) against our profile or the official DCAT-AP 3.0.1 shapes (with the
controlled-vocabulary shapes, mdr-vocabularies; ontology/shapes/dcat-ap-3.0.1/SOURCE.md says how they are read)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyshacl
import rdflib
from pyoxigraph import NamedNode, RdfFormat, Store, serialize

from dfl_graph.datatypes import all_published
from dfl_graph.vocabularies import ONTOLOGY_DIR

SHAPES = {
    "dfl": ONTOLOGY_DIR / "shapes" / "dfl-shapes.ttl",
    "dcat-ap": ONTOLOGY_DIR / "shapes" / "dcat-ap-3.0.1",
}
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@dataclass(frozen=True)
class Finding:
    severity: str  # Violation, Warning or Info
    focus: str
    path: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.focus} {self.path or ''}: {self.message}"


@dataclass
class ValidationReport:
    shapes: str
    findings: list[Finding] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)

    @property
    def violations(self) -> int:
        return self.count("Violation")

    @property
    def warnings(self) -> int:
        return self.count("Warning")

    @property
    def conforms(self) -> bool:
        return self.violations == 0


def shapes_graph(shapes: str | Path, base: str) -> rdflib.Graph:
    """A named shapes set ("dfl", "dcat-ap") or a file/folder of Turtle shapes."""
    path = SHAPES.get(str(shapes), Path(shapes))
    files = sorted(path.glob("*.ttl")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise FileNotFoundError(f"no SHACL shapes (.ttl) at {path}")
    graph = rdflib.Graph()
    for file in files:
        graph.parse(file, format="turtle", publicID=base + "/")
    return with_spdx_namespace(without_dangling_property_shapes(graph))


def without_dangling_property_shapes(graph: rdflib.Graph) -> rdflib.Graph:
    """Drop ``sh:property`` links to shapes defined nowhere.

    The official DCAT-AP 3.0.1 ``ranges.ttl`` lists property shapes that neither it nor
    ``dcat-ap-SHACL.ttl`` defines; pyshacl (rightly) refuses such a shapes graph. Dropping only the
    dangling links keeps every constraint that is actually written down.
    """
    for shape, _, target in list(graph.triples((None, SH.property, None))):
        if (target, None, None) not in graph:
            graph.remove((shape, SH.property, target))
    return graph


# The mdr-vocabularies shapes (DCAT-AP 3.0.1) want a checksum algorithm IRI to match this pattern, but SPDX's
# individuals are http IRIs (spdx:checksumAlgorithm_sha256 is <http://spdx.org/rdf/terms#checksumAlgorithm_sha256>,
# the namespace DCAT-AP itself uses): no real checksum could pass. The scheme is made optional, nothing else.
SPDX_PATTERN = rdflib.Literal("^https://spdx.org/rdf/terms")


def with_spdx_namespace(graph: rdflib.Graph) -> rdflib.Graph:
    """Accept SPDX's own (http) namespace where the mdr-vocabularies shapes only accept https."""
    for shape in list(graph.subjects(SH.pattern, SPDX_PATTERN)):
        graph.remove((shape, SH.pattern, SPDX_PATTERN))
        graph.add((shape, SH.pattern, rdflib.Literal("^https?://spdx.org/rdf/terms")))
    return graph


def data_graph(store: Store, graphs: list[NamedNode]) -> rdflib.Graph:
    """The union of the given graphs as one rdflib graph (shapes see records and vocabularies together)."""
    data = rdflib.Graph()
    for graph in graphs:
        triples = all_published(q.triple for q in store.quads_for_pattern(None, None, None, graph))
        data.parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    return data


def validate_graph(data: rdflib.Graph, shapes: str | Path, base: str) -> ValidationReport:
    _, results, _ = pyshacl.validate(
        data, shacl_graph=shapes_graph(shapes, base), inference="none", advanced=True, allow_warnings=True
    )
    report = ValidationReport(str(shapes))
    # the report's own results only: the sh:detail results nested under one (why an sh:node shape failed, as the
    # mdr-vocabularies shapes use) explain it and carry their inner shape's severity, not the result's
    for result in results.objects(None, SH.result):
        severity = results.value(result, SH.resultSeverity)
        path = results.value(result, SH.resultPath)
        report.findings.append(
            Finding(
                severity=str(severity).rsplit("#", 1)[-1],
                focus=str(results.value(result, SH.focusNode)),
                path=str(path) if path is not None else None,
                message=str(results.value(result, SH.resultMessage) or ""),
            )
        )
    report.findings.sort(key=lambda f: (f.severity, f.focus, f.path or ""))
    return report


def validate_store(store: Store, graphs: list[NamedNode], shapes: str | Path, base: str) -> ValidationReport:
    return validate_graph(data_graph(store, graphs), shapes, base)


__all__ = ["SHAPES", "Finding", "ValidationReport", "validate_graph", "validate_store"]
