"""What of an RDF source's description of a dataset is kept as given: the DCAT loader as a faithful aggregator.

A dataset's *description* in the source is its own statements, its distributions' statements, and the statements
of the resources they link to (agents, contact points, places, periods, services, checksums, quality
measurements ...: :data:`DESCRIBED` lists the links followed), blank nodes followed to any depth. Every statement
of it is published as given -- literals with their language tag and datatype -- re-anchored on the IRIs we mint
(:class:`~dfl_graph.records.Anchor`: the dataset and its distributions get our IRIs, blank nodes get hash IRIs under
the dataset named from their statements), except:

* **replaced**: the properties the catalogue normalises and DCAT-AP allows once (publisher, licence, access rights,
  frequency, status, a distribution's media type and format; dates and byte sizes whose datatype the profile does
  not accept; URLs that are not valid http(s) IRIs): the normalised value is published instead (the writer's);
* **not kept, reported** (each a problem naming the statement): a second value of a property DCAT-AP allows once,
  an empty title, description or keyword, and the ``rdf:type`` of a linked resource that lacks what DCAT-AP
  requires of its class (an unnamed ``foaf:Agent``, a ``skos:Concept`` without ``skos:prefLabel`` ...), so what
  we publish stays valid.

docs/loaders.md ("Kept as given") has the tables; the Library shows an allow-list of these (see there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from dfl_graph.namespaces import ADMS, DCAT, DCT, DQV, FOAF, LOCN, PREFIXES, PROV, RDF, RDFS, SKOS, SPDX, VCARD, XSD
from dfl_graph.records import DATASET, Anchor, Statement
from loaders.iris import clean_iri

TIME = "http://www.w3.org/2006/time#"
RECORD_NODE = "record-node:"  # an Anchor key prefix: another record of the file, by its node (iri:... or blank:...)
DCATAP = "http://data.europa.eu/r5r/"
ODRL = "http://www.w3.org/ns/odrl/2/"
ELI_LEGAL_RESOURCE = "http://data.europa.eu/eli/ontology#LegalResource"

# Links from a dataset or distribution whose IRI objects are described too (their statements kept, one level;
# blank nodes are always followed). Other IRI objects (themes, licences, types ...) are kept as links only.
DESCRIBED = frozenset(
    p.value
    for p in (
        DCT.publisher,
        DCT.creator,
        DCT.rightsHolder,
        DCAT.contactPoint,
        DCT.spatial,
        DCT.temporal,
        DCAT.accessService,
        DCT.provenance,
        DCT.conformsTo,
        ADMS.identifier,
        SPDX.checksum,
        PROV.qualifiedAttribution,
        PROV.wasGeneratedBy,
        DCAT.qualifiedRelation,
        FOAF.page,
        DQV.hasQualityMeasurement,
        DQV.hasQualityAnnotation,
    )
)

# Normalised by the loader and allowed once by DCAT-AP: the source value is replaced by the normalised one.
REPLACED_ON_DATASET = frozenset(
    p.value for p in (DCT.publisher, DCT.license, DCT.accessRights, DCT.accrualPeriodicity, ADMS.status)
)
REPLACED_ON_DISTRIBUTION = frozenset(p.value for p in (DCT.license, DCAT.mediaType, DCT["format"]))
DATE_TYPES = frozenset(XSD[t].value for t in ("date", "dateTime", "gYearMonth", "gYear"))
DATES = frozenset({DCT.issued.value, DCT.modified.value})
URLS = frozenset({DCAT.landingPage.value, DCAT.accessURL.value, DCAT.downloadURL.value, DCAT.endpointURL.value})
TEXTS = frozenset({DCT.title.value, DCT.description.value, DCAT.keyword.value})
# DCAT-AP 3.0.1's node kinds and datatypes for a dataset's and a distribution's properties (sh:nodeKind, sh:datatype)
LITERALS = TEXTS | DATES | {DCT.identifier.value, DCAT.version.value, ADMS.versionNotes.value}
LITERALS |= {DCAT.spatialResolutionInMeters.value, DCAT.temporalResolution.value, DCAT.byteSize.value}
NODES = (
    frozenset(
        p.value
        for p in (
            DCT.accessRights,
            DCT.accrualPeriodicity,
            DCT.conformsTo,
            DCT.creator,
            DCT.isReferencedBy,
            DCT.language,
            DCT.provenance,
            DCT.publisher,
            DCT.relation,
            DCT.source,
            DCT.spatial,
            DCT.temporal,
            DCT.type,
            DCT["format"],
            DCT.license,
            DCT.rights,
            ADMS.identifier,
            ADMS.sample,
            ADMS.status,
            DCAT.contactPoint,
            DCAT.distribution,
            DCAT.hasVersion,
            DCAT.inSeries,
            DCAT.qualifiedRelation,
            DCAT.theme,
            DCAT.accessService,
            DCAT.compressFormat,
            DCAT.packageFormat,
            DCAT.mediaType,
            SPDX.checksum,
            PROV.qualifiedAttribution,
            PROV.wasGeneratedBy,
            FOAF.page,
        )
    )
    | URLS
    | {f"{DCATAP}applicableLegislation", f"{DCATAP}availability", f"{ODRL}hasPolicy"}
)
DATATYPES = {DCAT.spatialResolutionInMeters.value: XSD.decimal, DCAT.temporalResolution.value: XSD.duration}

# DCAT-AP 3.0.1 "at most one" (sh:maxCount 1) for a dataset, a distribution, and any other resource.
SINGLE_ON_DATASET = frozenset({DCT.issued.value, DCT.modified.value, DCAT.version.value, DCAT.temporalResolution.value})
SINGLE_ON_DISTRIBUTION = frozenset(
    p.value
    for p in (
        DCT.issued,
        DCT.modified,
        DCAT.byteSize,
        SPDX.checksum,
        DCAT.compressFormat,
        DCAT.packageFormat,
        DCAT.spatialResolutionInMeters,
        DCAT.temporalResolution,
        ADMS.status,
    )
) | {f"{DCATAP}availability", f"{ODRL}hasPolicy"}
SINGLE_ON_ANY = frozenset(
    p.value
    for p in (
        DCAT.centroid,
        DCAT.bbox,
        LOCN.geometry,
        DCAT.startDate,
        DCAT.endDate,
        SPDX.algorithm,
        SPDX.checksumValue,
        SKOS.notation,
    )
) | {f"{TIME}hasBeginning", f"{TIME}hasEnd"}

# What DCAT-AP 3.0.1 requires of a resource of a class (sh:minCount 1): a linked resource typed with the class
# but lacking one of these keeps its other statements, not the type (which would make it invalid).
REQUIRED_BY_CLASS: dict[str, tuple[str, ...]] = {
    FOAF.Agent.value: (FOAF.name.value,),
    SKOS.Concept.value: (SKOS.prefLabel.value,),
    SKOS.ConceptScheme.value: (DCT.title.value,),
    SPDX.Checksum.value: (SPDX.algorithm.value, SPDX.checksumValue.value),
    ADMS.Identifier.value: (SKOS.notation.value,),
    DCAT.DataService.value: (DCT.title.value, DCAT.endpointURL.value),
    DCAT.Relationship.value: (DCT.relation.value, DCAT.hadRole.value),
    DCAT.CatalogRecord.value: (DCT.modified.value, FOAF.primaryTopic.value),
    DCAT.Catalog.value: (DCT.title.value, DCT.description.value, DCT.publisher.value),
    DCAT.Distribution.value: (DCAT.accessURL.value,),
    DCAT.Dataset.value: (DCT.title.value, DCT.description.value),
    DCAT.DatasetSeries.value: (DCT.title.value, DCT.description.value),
}


def _ranges(*rows: tuple[NamedNode, NamedNode, str]) -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for domain, predicate, range_class in rows:
        table.setdefault(domain.value, {})[predicate.value] = range_class
    return table


LOCATION, PERIOD, CHECKSUM = DCT.Location, DCT.PeriodOfTime, SPDX.Checksum
# DCAT-AP 3.0.1's ranges (sh:class, a violation when the object is not typed so) of the properties a kept statement
# may use, by the subject's class: the type each range entails is written beside the statement (an RDFS entailment
# of DCAT-AP, not an invention); an object that cannot be of that class (a concept without a label ...) is reported.
RANGES = _ranges(
    *(
        (DCAT.Dataset, p, c)
        for p, c in (
            (DCT.conformsTo, DCT.Standard.value),
            (DCT.creator, FOAF.Agent.value),
            (DCAT.contactPoint, VCARD.Kind.value),
            (DCAT.landingPage, FOAF.Document.value),
            (FOAF.page, FOAF.Document.value),
            (DCAT.theme, SKOS.Concept.value),
            (DCT.type, SKOS.Concept.value),
            (DCT.language, DCT.LinguisticSystem.value),
            (DCT.provenance, DCT.ProvenanceStatement.value),
            (DCT.spatial, LOCATION.value),
            (DCT.temporal, PERIOD.value),
            (DCT.source, DCAT.Dataset.value),
            (DCAT.hasVersion, DCAT.Dataset.value),
            (DCAT.inSeries, DCAT.DatasetSeries.value),
            (DCAT.qualifiedRelation, DCAT.Relationship.value),
            (ADMS.identifier, ADMS.Identifier.value),
            (ADMS.sample, DCAT.Distribution.value),
            (PROV.qualifiedAttribution, PROV.Attribution.value),
            (PROV.wasGeneratedBy, PROV.Activity.value),
        )
    ),
    *(
        (DCAT.Distribution, p, c)
        for p, c in (
            (DCT.conformsTo, DCT.Standard.value),
            (DCT.language, DCT.LinguisticSystem.value),
            (FOAF.page, FOAF.Document.value),
            (DCT.rights, DCT.RightsStatement.value),
            (ADMS.status, SKOS.Concept.value),
            (DCAT.accessService, DCAT.DataService.value),
            (DCAT.compressFormat, DCT.MediaType.value),
            (DCAT.packageFormat, DCT.MediaType.value),
            (SPDX.checksum, SPDX.Checksum.value),
        )
    ),
    (LOCATION, LOCN.geometry, LOCN.Geometry.value),
    (PERIOD, NamedNode(f"{TIME}hasBeginning"), f"{TIME}Instant"),
    (PERIOD, NamedNode(f"{TIME}hasEnd"), f"{TIME}Instant"),
    (CHECKSUM, SPDX.algorithm, SPDX.ChecksumAlgorithm.value),
    (FOAF.Agent, DCT.type, SKOS.Concept.value),
    (DCAT.DataService, DCAT.contactPoint, VCARD.Kind.value),
    (DCAT.DataService, DCAT.landingPage, FOAF.Document.value),
    (DCAT.DataService, DCT.conformsTo, DCT.Standard.value),
    (DCAT.DataService, DCAT.theme, SKOS.Concept.value),
    (DCAT.DataService, DCT.publisher, FOAF.Agent.value),
    (DCAT.DataService, DCAT.endpointURL, RDFS.Resource.value),
    (DCAT.DataService, DCAT.endpointDescription, RDFS.Resource.value),
    (DCAT.DataService, FOAF.page, FOAF.Document.value),
    (DCAT.DataService, DCAT.servesDataset, DCAT.Dataset.value),
    *((c, NamedNode(f"{DCATAP}applicableLegislation"), ELI_LEGAL_RESOURCE) for c in (DCAT.Dataset, DCAT.Distribution)),
    (DCAT.DataService, NamedNode(f"{DCATAP}applicableLegislation"), ELI_LEGAL_RESOURCE),
)

Term = NamedNode | BlankNode | Literal
Index = dict[Any, dict[str, dict[Term, None]]]


@dataclass
class Sorted:
    """A dataset's source statements, sorted: kept as given, replaced by a normalised value, or not kept (why)."""

    kept: list[Statement] = field(default_factory=list)
    replaced: list[Statement] = field(default_factory=list)
    dropped: list[tuple[Statement, str]] = field(default_factory=list)


class SourceDescription:
    """Collects and sorts the source statements describing one dataset of a parsed source graph."""

    def __init__(
        self, index: Index, node_name: Callable[[BlankNode], str], datasets: set, services: frozenset = frozenset()
    ) -> None:
        self.index = index
        self.node_name = node_name  # a stable name for a blank node, from its statements
        self.datasets = datasets  # the file's record nodes: links to them are kept, their statements are not
        self.services = services  # those of them that are data services
        self.described: set = set()  # every source subject some dataset's description used

    def statements(self, node: Any, distributions: dict[Any, str]) -> list[Statement]:
        """The description of ``node`` (a dataset), re-anchored; ``distributions`` maps its distribution nodes to
        the distribution ids the loader minted."""
        anchors: dict[Any, Anchor | NamedNode] = {node: DATASET}
        anchors.update((dist, Anchor(f"dist:{dist_id}")) for dist, dist_id in distributions.items())
        # links to a data service, and a service's links to other records, name the record (resolved by the loader)
        linked = self.datasets if node in self.services else self.services
        for other in linked - {node}:
            key = f"iri:{other.value}" if isinstance(other, NamedNode) else f"blank:{self.node_name(other)}"
            anchors[other] = Anchor(f"{RECORD_NODE}{key}")
        out: list[Statement] = []
        queue = [node, *distributions]
        seen = set(queue)
        while queue:
            subject = queue.pop(0)
            self.described.add(subject)
            anchored = self._anchor(subject, anchors)
            follow_iris = subject is node or subject in distributions
            for predicate, objects in self.index.get(subject, {}).items():
                for obj in objects:
                    out.append(Statement(anchored, predicate, self._anchor(obj, anchors)))
                    if obj in seen or obj in self.datasets or isinstance(obj, Literal):
                        continue
                    if isinstance(obj, BlankNode) or (follow_iris and predicate in DESCRIBED and obj in self.index):
                        seen.add(obj)
                        queue.append(obj)
        return out

    def _anchor(self, term: Any, anchors: dict) -> Anchor | NamedNode | Literal:
        if term in anchors:
            return anchors[term]
        if isinstance(term, BlankNode):
            anchors[term] = Anchor(f"#node-{self.node_name(term)}")
            return anchors[term]
        return term


def sort_statements(
    statements: Iterable[Statement],
    described: Callable[[str], bool] = lambda _iri: False,
    own_class: str = DCAT.Dataset.value,
) -> Sorted:
    """Which statements are kept as given, replaced by the normalised value, or not kept (with the reason).

    ``described(iri)``: whether our own vocabularies describe an IRI (an EU theme, a licence ...), so a link to
    it meets DCAT-AP's requirements of its class without the source describing it. ``own_class``: the record's
    (``dcat:Dataset``, or ``dcat:DataService``), whose DCAT-AP ranges apply to its own statements.
    """
    result = Sorted()
    statements = list(statements)
    types: dict[Any, set[str]] = {DATASET: {own_class}}
    present: dict[Any, set[str]] = {}
    for s in statements:
        present.setdefault(s.subject, set()).add(s.predicate)
    for s in statements:  # the classes each resource has, of those whose requirements it meets
        if _is_distribution(s.subject):
            types.setdefault(s.subject, set()).add(DCAT.Distribution.value)
        elif (
            s.predicate == RDF.type.value
            and isinstance(s.object, NamedNode)
            and all(q in present[s.subject] for q in REQUIRED_BY_CLASS.get(s.object.value, ()))
        ):
            types.setdefault(s.subject, set()).add(s.object.value)
    values_seen: set[tuple] = set()
    for s in sorted(statements, key=_order):
        reason = _replaced_or_dropped(s, types, present)
        if reason is None:
            single = _single_valued(s)
            if single and (s.subject, s.predicate) in values_seen:
                reason = "a second value of a property DCAT-AP allows once: not kept"
            values_seen.add((s.subject, s.predicate))
        if reason is None:
            reason = _range_of(s, types, present, described, result)
        if reason is None:
            result.kept.append(s)
        elif reason == "replaced":
            result.replaced.append(s)
        else:
            result.dropped.append((s, reason))
    return result


def curie(iri: str) -> str:
    """An IRI as a problem names it: ``dct:title`` for the prefixes we know, else the IRI."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def field_name(statement: Statement) -> str:
    """Where a statement sits, as a problem's field: ``dct:title``, ``distribution[csv].dcat:byteSize``,
    ``#node-1a2b.foaf:name`` or ``<http://...>.foaf:name``."""
    subject = statement.subject
    if subject == DATASET:
        place = ""
    elif _is_distribution(subject):
        place = f"distribution[{subject.key[5:]}]."
    elif isinstance(subject, Anchor):
        place = f"{subject.key}."
    else:
        place = f"<{subject.value}>."
    return place + curie(statement.predicate)


GEOSPARQL_WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"


def _order(statement: Statement) -> tuple:
    """A file-independent order, so "the first value" kept of a single-valued property is always the same; of a
    geometry given as both WKT and GML (GeoDCAT-AP allows both), the WKT one: what GeoSPARQL clients read."""
    o = statement.object
    wkt = isinstance(o, Literal) and o.datatype.value == GEOSPARQL_WKT
    return (str(statement.subject), statement.predicate, not wkt, str(o))


def _is_dataset(subject: Any) -> bool:
    return subject == DATASET


def _is_record(term: Any) -> bool:
    """Another record of the run (a data service, the datasets it serves): described as a record of its own."""
    return isinstance(term, Anchor) and term.key.startswith(("record:", RECORD_NODE))


def _is_distribution(subject: Any) -> bool:
    return isinstance(subject, Anchor) and subject.key.startswith("dist:")


def _single_valued(s: Statement) -> bool:
    if _is_dataset(s.subject):
        return s.predicate in SINGLE_ON_DATASET
    if _is_distribution(s.subject):
        return s.predicate in SINGLE_ON_DISTRIBUTION
    return s.predicate in SINGLE_ON_ANY


def _range_of(s: Statement, types: dict, present: dict, described: Callable[[str], bool], result: Sorted) -> str | None:
    """Type the object as DCAT-AP's range for the statement entails (added to ``result.kept``), or say why the
    link is not kept: its object cannot be of the range's class (a concept with no label, an unnamed agent ...)."""
    o = s.object
    if isinstance(o, Literal) or _is_dataset(o) or _is_distribution(o) or _is_record(o):
        return None
    for subject_class in types.get(s.subject, ()):
        range_class = RANGES.get(subject_class, {}).get(s.predicate)
        if range_class is None or range_class in types.get(o, ()):
            continue
        missing = [q for q in REQUIRED_BY_CLASS.get(range_class, ()) if q not in present.get(o, ())]
        if missing and not (isinstance(o, NamedNode) and described(o.value)):
            shown = ", ".join(curie(q) for q in missing)
            return f"the link needs a {curie(range_class)} (DCAT-AP's range), which needs {shown}: not in the file"
        types.setdefault(o, set()).add(range_class)
        result.kept.append(Statement(o, RDF.type.value, NamedNode(range_class)))
    return None


def _replaced_or_dropped(s: Statement, types: dict, present: dict) -> str | None:
    """ "replaced", a reason it is not kept, or None (kept as given)."""
    p, o = s.predicate, s.object
    own = _is_dataset(s.subject) or _is_distribution(s.subject)
    if own:
        replaced = REPLACED_ON_DATASET if _is_dataset(s.subject) else REPLACED_ON_DISTRIBUTION
        if p in replaced:
            return "replaced"
        if p in DATES and not (isinstance(o, Literal) and o.datatype.value in DATE_TYPES):
            return "replaced"
        if p == DCAT.byteSize.value and not (isinstance(o, Literal) and o.datatype == XSD.nonNegativeInteger):
            return "replaced"
        if p in URLS and not (isinstance(o, NamedNode) and clean_iri(o.value) == o.value):
            return "replaced"
        if p in LITERALS and not isinstance(o, Literal):
            return "not a literal, as DCAT-AP requires: not kept"
        if p in NODES and isinstance(o, Literal):
            return "a literal where DCAT-AP requires an IRI: not kept"
        if p in DATATYPES and isinstance(o, Literal) and o.datatype != DATATYPES[p]:
            return f"not an {curie(DATATYPES[p].value)}, as DCAT-AP requires: not kept"
    if p in TEXTS and isinstance(o, Literal) and not o.value.strip():
        return "empty text: not kept"
    if p == RDF.type.value and isinstance(o, NamedNode) and not own:
        missing = [q for q in REQUIRED_BY_CLASS.get(o.value, ()) if q not in present.get(s.subject, ())]
        if missing:
            return f"typed {o.value} without {', '.join(missing)} (DCAT-AP requires it): the type is not kept"
    return None


__all__ = ["DESCRIBED", "RECORD_NODE", "Sorted", "SourceDescription", "curie", "field_name", "sort_statements"]
