"""DCAT RDF (Turtle, RDF/XML, JSON-LD, N-Triples, N-Quads, TriG): every dcat:Dataset normalised to a record.

The file is parsed whole with pyoxigraph (all or nothing: a syntax error anywhere refuses the file,
with its line and column), indexed by subject, and each dataset is read from that index. What is
normalised, and how, is listed in docs/loaders.md ("DCAT RDF"); in short:

* the dataset is re-minted under our base (``{base}/dataset/{slug}``) with ``prov:wasDerivedFrom`` pointing at
  the source's own IRI (``original_iri``); the slug comes from the IRI's last meaningful path segment or
  fragment, so it is stable across reloads; clashes within the file get a short hash of the IRI;
* blank-node datasets get a slug and id from a hash of their own statements (nested blank nodes followed);
* a dataset without ``dct:accessRights`` is public; an access right we cannot read is non-public;
* every ``dcat:DataService`` (or a subclass the file declares) is a record of its own, minted at
  ``{base}/service/{slug}`` by the same rules; links to it (a distribution's ``dcat:accessService``) and from it
  (``dcat:servesDataset``) are rewritten to the IRIs we mint; a public record's link to a non-public one is dropped
  and reported (it would name what the public may not see);
* licences, formats, media types and frequencies go through the value normalisers of :mod:`loaders`
  (:mod:`loaders.licences`, :mod:`loaders.file_formats`, :mod:`loaders.frequencies` ...).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat

from dfl_graph.namespaces import ADMS, DCAT, DCT, FOAF, LOCN, OWL, RDF, RDFS, SKOS, SPDX, VCARD
from dfl_graph.records import (
    DATASET,
    AccessLevel,
    Anchor,
    Checksum,
    Contact,
    DataServiceRecord,
    DatasetRecord,
    DistributionRecord,
    Rejection,
    Statement,
    Status,
    When,
    record_anchor,
)
from dfl_graph.uris import slugify
from dfl_graph.vocabularies import iri_key
from loaders.access_rights import access_level
from loaders.base import Loader, LoadError
from loaders.dates import parse_when
from loaders.file_formats import format_from_name, format_from_path, parse_checksum, parse_size
from loaders.frequencies import frequency_code
from loaders.geometries import geometry_nodes
from loaders.iris import clean_email, clean_iri
from loaders.language_codes import normalised_languages
from loaders.licences import licence_iri
from loaders.places import borough_code
from loaders.rdf_reading import RdfReadError, read_rdf
from loaders.source_statements import RECORD_NODE, SourceDescription, field_name, sort_statements
from loaders.text import html_to_text, shown_value

FORMATS: dict[str, RdfFormat] = {
    ".ttl": RdfFormat.TURTLE,
    ".turtle": RdfFormat.TURTLE,
    ".rdf": RdfFormat.RDF_XML,
    ".xml": RdfFormat.RDF_XML,
    ".owl": RdfFormat.RDF_XML,
    ".jsonld": RdfFormat.JSON_LD,
    ".json": RdfFormat.JSON_LD,
    ".nt": RdfFormat.N_TRIPLES,
    ".nq": RdfFormat.N_QUADS,
    ".trig": RdfFormat.TRIG,
}

# DCAT 3 defines dcat:DatasetSeries as a subclass of dcat:Dataset; classes the file itself declares
# rdfs:subClassOf dcat:Dataset (transitively) are added per file. Application profiles that specialise
# dcat:Dataset in a vocabulary their files do not include are listed here: PublishMyData's pmdcat:Dataset
# (the UK GSS catalogue types 100 of its datasets with it alone).
DATASET_CLASSES = frozenset({DCAT.Dataset.value, DCAT.DatasetSeries.value, "http://publishmydata.com/pmdcat#Dataset"})
SERVICE_CLASSES = frozenset({DCAT.DataService.value})  # and the subclasses the file declares
EU_THEME_CODES = frozenset(
    {
        "AGRI",
        "ECON",
        "EDUC",
        "ENER",
        "ENVI",
        "GOVE",
        "HEAL",
        "INTR",
        "JUST",
        "OP_DATPRO",
        "REGI",
        "SOCI",
        "TECH",
        "TRAN",
    }
)
EU_DATA_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_DATASET_STATUS = "http://publications.europa.eu/resource/authority/dataset-status/"
SCHEMA_HTTP = "http://schema.org/"
SCHEMA_HTTPS = "https://schema.org/"
TIME = "http://www.w3.org/2006/time#"

# Words that say what a resource is rather than which one it is: path segments made only of these
# ("dataset", "catalog-entry", "dataset-catalog-entry") are skipped when minting slugs.
GENERIC_WORDS = frozenset(
    {"dataset", "datasets", "id", "doc", "data", "resource", "resources", "catalog", "catalogue", "dcat", "record"}
    | {"distribution", "distributions", "def", "metadata", "entry", "index", "about", "page", "this", "self"}
)
FILE_SUFFIXES = (".csv", ".json", ".jsonld", ".ttl", ".rdf", ".xml", ".html", ".htm", ".xlsx", ".xls", ".zip", ".pdf")

P_TYPE = RDF.type.value
P_TITLE = DCT.title.value
P_DESCRIPTION = DCT.description.value
DC_ELEMENTS = "http://purl.org/dc/elements/1.1/"
# a dataset's title when it has no dct:title: Dublin Core elements (older DCAT files), then labels and names
P_LABEL_PROPS = (
    f"{DC_ELEMENTS}title",
    RDFS.label.value,
    SKOS.prefLabel.value,
    f"{SCHEMA_HTTP}name",
    f"{SCHEMA_HTTPS}name",
)
NAME_PROPS = (
    FOAF.name.value,
    SKOS.prefLabel.value,
    RDFS.label.value,
    VCARD.fn.value,
    VCARD["organization-name"].value,
    DCT.title.value,
    f"{SCHEMA_HTTP}name",
    f"{SCHEMA_HTTPS}name",
)
FORMAT_NODE_PROPS = (RDFS.isDefinedBy.value, RDFS.label.value, OWL.sameAs.value, DCT.identifier.value)
PLACE_NAME_PROPS = (SKOS.prefLabel.value, RDFS.label.value, LOCN.geographicName.value, DCT.title.value)
START_PROPS = (DCAT.startDate.value, f"{SCHEMA_HTTP}startDate", f"{SCHEMA_HTTPS}startDate")
END_PROPS = (DCAT.endDate.value, f"{SCHEMA_HTTP}endDate", f"{SCHEMA_HTTPS}endDate")
INSTANT_PROPS = tuple(
    f"{TIME}{p}" for p in ("inXSDDate", "inXSDDateTimeStamp", "inXSDDateTime", "inXSDgYear", "inXSDgYearMonth")
)

Term = NamedNode | BlankNode | Literal
Index = dict[Any, dict[str, dict[Term, None]]]


def _digest(text: str, length: int = 10) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def iri_slug(iri: str) -> str:
    """A readable, stable slug from an IRI: its last meaningful path segment or fragment part.

    ``http://gss-data.org.uk/def/concept-scheme/sdmx-code-area/dataset`` -> ``sdmx-code-area``;
    ``https://data.csiro.au/dap/landingpage?pid=csiro:33937`` -> ``landingpage-pid-csiro-33937``.
    """
    parts = urlsplit(iri)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    segments += [unquote(s) for s in parts.fragment.split("/") if s]
    meaningful = [s for s in segments if not GENERIC_WORDS.issuperset(slugify(s).split("-"))]
    if meaningful:
        segment = meaningful[-1]
    elif segments:
        segment = segments[-1]
    else:
        segment = parts.netloc or iri
    if segment.lower().endswith(FILE_SUFFIXES) and "." in segment[1:]:
        segment = segment.rsplit(".", 1)[0]
    if parts.query:
        segment = f"{segment}-{unquote(parts.query)}"
    return slugify(segment)


def _read_triples(path: Path, rdf_format: RdfFormat) -> Iterable:
    """All triples/quads of the file (graph names ignored), or LoadError with the position."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if rdf_format is not RdfFormat.RDF_XML:  # RDF/XML may declare another encoding
            raise LoadError(path, f"not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        return read_rdf(raw, rdf_format, path.resolve().as_uri())
    except RdfReadError as error:
        raise LoadError(path, error.message, error.position) from None


def _byte_size(term: Any) -> int | None:
    """dcat:byteSize as a whole number of bytes (xsd:nonNegativeInteger, or a decimal like "1.5E6")."""
    text = term.value.strip() if isinstance(term, Literal) else None
    if text is None:
        raise ValueError(f"not a literal: {term}")
    try:
        return parse_size(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"not a byte count (an integer >= 0): {text!r}") from None
        if number >= 0 and number.is_integer():
            return int(number)
        raise


class SourceGraph:
    """A parsed source graph indexed by subject: subject -> predicate IRI -> objects (a dict as an ordered
    set, since quads may repeat a triple)."""

    def __init__(self) -> None:
        self.index: Index = defaultdict(lambda: defaultdict(dict))
        self.description: SourceDescription | None = None  # set once the datasets are known
        self.services: set = set()  # the nodes mapped as data services (the others are datasets)


@dataclass(frozen=True)
class SourceDataset:
    """The item the DCAT loader maps: one dataset node of a parsed source graph."""

    graph: SourceGraph
    node: NamedNode | BlankNode


class DcatRdfLoader(Loader):
    name: ClassVar[str] = "dcat"
    title_field: ClassVar[str] = "dct:title"
    description: ClassVar[str] = "DCAT RDF: Turtle, RDF/XML, JSON-LD, N-Triples, N-Quads or TriG (by file extension)"

    def items(self, path: Path) -> Iterator[Any]:
        """The datasets of the file, each a :class:`SourceDataset` of the one parsed graph."""
        rdf_format = FORMATS.get(path.suffix.lower())
        if rdf_format is None:
            raise LoadError(
                path,
                f"unknown RDF file extension {path.suffix or '(none)'!r}; expected one of {', '.join(sorted(FORMATS))}",
            )
        yield from self.items_from_triples(_read_triples(path, rdf_format))

    def items_from_triples(self, statements: Iterable) -> list[SourceDataset]:
        """The datasets of a set of triples or quads (graph names ignored), as items to map.

        The harvester hands it the merged statements of a run; :meth:`items` those of a file.
        """
        graph = SourceGraph()
        for statement in statements:
            graph.index[statement[0]][statement[1].value][statement[2]] = None
        self.index = graph.index
        datasets = self._typed_nodes(DATASET_CLASSES)
        dataset_set = set(datasets)
        services = [n for n in self._typed_nodes(SERVICE_CLASSES) if n not in dataset_set]
        self.count("services_read", len(services))
        graph.services = {n for n in services if self._text(n, P_TITLE) or self._text(n, *P_LABEL_PROPS)}
        for node in services:
            if node not in graph.services:  # GeoDCAT-AP's inline [ a dcat:DataService ; dcat:endpointURL ... ]
                label = node.value if isinstance(node, NamedNode) else f"a blank node ({self._node_hash(node)})"
                what = "a data service without a title: not a record of its own; kept in the records that link to it"
                self.problem(label, "dct:title", what)
        nodes = datasets + sorted(graph.services, key=self._node_order)
        graph.description = SourceDescription(graph.index, self._node_hash, set(nodes), frozenset(graph.services))
        return [SourceDataset(graph, node) for node in nodes]

    def is_item(self, item: Any) -> bool:
        return isinstance(item, SourceDataset)

    def item_name(self, item: Any) -> str | None:
        node = item.node
        return node.value if isinstance(node, NamedNode) else None

    def records_from(self, items: Iterable[Any]) -> Iterator[DatasetRecord | Rejection]:
        """Every dataset mapped; ids and slugs are then made unique across the graph (whatever its order)."""
        items = list(items)
        results = [self._map_at(item, position) for position, item in enumerate(items)]
        mapped = [(r, item) for r, item in zip(results, items, strict=True) if isinstance(r, DatasetRecord)]
        if mapped:
            self.index = mapped[0][1].graph.index
            records, nodes = [r for r, _ in mapped], [item.node for _, item in mapped]
            self._unique_ids(records, nodes)
            self._unique_slugs(records, nodes)
            for record in records:
                _one_identifier(record)
            self._link_records(records, nodes)
        if items:
            self._report_undescribed(items[0].graph, {item.node for item in items})
        self.index = {}  # the parsed graph is no longer needed
        for result in results:
            yield self._counted(result)

    def _report_undescribed(self, graph: SourceGraph, datasets: set) -> None:
        """Resources of the file that no dataset's description reaches (catalogues, catalogue records, code
        lists, services no distribution links to ...): not kept, and reported, one problem per type."""
        described = graph.description.described if graph.description else set()
        by_type: dict[str, list[str]] = defaultdict(list)
        for subject, props in graph.index.items():
            if subject in described or subject in datasets:
                continue
            types = sorted(t.value for t in props.get(P_TYPE, ()) if isinstance(t, NamedNode)) or ["(no rdf:type)"]
            by_type[types[0]].append(subject.value if isinstance(subject, NamedNode) else "a blank node")
        for rdf_type, subjects in sorted(by_type.items()):
            what = f"{len(subjects)} resources typed {rdf_type} are about no dataset of the file: not kept"
            self.problem(f"({len(subjects)} resources)", "rdf:type", what, subjects[0])

    def _link_records(self, records: list[DatasetRecord], nodes: list) -> None:
        """Links to a data service, and a service's links to the file's records (``record-node:`` anchors), on the
        IRIs we mint (``record:`` anchors); a public record's link to a non-public one, or to a record that is not
        published, is not kept, and reported."""
        by_key: dict[str, DatasetRecord] = {}
        for record, node in zip(records, nodes, strict=True):
            key = f"iri:{node.value}" if isinstance(node, NamedNode) else f"blank:{self._node_hash(node)}"
            by_key[RECORD_NODE + key] = record
        for record in records:
            kept = []
            for statement in record.statements:
                obj = statement.object
                if not (isinstance(obj, Anchor) and obj.key.startswith(RECORD_NODE)):
                    kept.append(statement)
                    continue
                target = by_key.get(obj.key)
                shown = obj.key[len(RECORD_NODE) :].split(":", 1)[1]
                if target is None:
                    what = "links to a resource of the file that is not published (see its own problems): not kept"
                    self.problem(record.id, field_name(statement), what, shown)
                elif record.is_public and not target.is_public:
                    what = "links to a record that is not public: not published"
                    self.problem(record.id, field_name(statement), what, shown)
                else:
                    kept.append(Statement(statement.subject, statement.predicate, record_anchor(target.id)))
            record.statements = kept

    # -- finding datasets ---------------------------------------------------------------------------
    def _node_order(self, node: Any) -> tuple:
        return (isinstance(node, BlankNode), node.value if isinstance(node, NamedNode) else self._node_hash(node))

    def _typed_nodes(self, base_classes: frozenset[str]) -> list:
        """The nodes typed with one of ``base_classes`` or a subclass the file declares, in a file-independent order."""
        classes = set(base_classes)
        subclass = RDFS.subClassOf.value
        changed = True
        while changed:  # transitive closure of the file's own rdfs:subClassOf statements
            changed = False
            for subject, props in self.index.items():
                if (
                    isinstance(subject, NamedNode)
                    and subject.value not in classes
                    and any(isinstance(o, NamedNode) and o.value in classes for o in props.get(subclass, ()))
                ):
                    classes.add(subject.value)
                    changed = True
        found = [
            s
            for s, props in self.index.items()
            if isinstance(s, NamedNode | BlankNode)
            and any(isinstance(t, NamedNode) and t.value in classes for t in props.get(P_TYPE, ()))
        ]
        return sorted(found, key=self._node_order)

    # -- value helpers ------------------------------------------------------------------------------
    def _values(self, node: Any, *predicates: str) -> list[Term]:
        props = self.index.get(node)
        if not props:
            return []
        out: list[Term] = []
        for predicate in predicates:
            out.extend(props.get(predicate, ()))
        return out

    def _text(self, node: Any, *predicates: str) -> str | None:
        """The best literal of the first predicate that has one: English, then no language, then any."""
        for predicate in predicates:
            literals = [v for v in self._values(node, predicate) if isinstance(v, Literal) and v.value.strip()]
            if literals:
                return self._best_literal(literals)
        return None

    @staticmethod
    def _best_literal(literals: list[Literal]) -> str:
        def rank(lit: Literal) -> tuple:
            lang = (lit.language or "").lower()
            return (0 if lang == "en" else 1 if lang.startswith("en-") else 2 if not lang else 3, lit.value)

        return min(literals, key=rank).value.strip()

    def _label(self, node: Any) -> str | None:
        if isinstance(node, Literal):
            return node.value.strip() or None
        return self._text(node, *NAME_PROPS)

    def _node_hash(self, node: Any) -> str:
        """A stable hash of a blank node: its statements, nested blank nodes followed (a few levels deep)."""
        return _digest(self._node_text(node, 4, set()), 12)

    def _node_text(self, node: Any, depth: int, seen: set) -> str:
        seen = seen | {node}
        lines = []
        for predicate, objects in self.index.get(node, {}).items():
            for obj in objects:
                if isinstance(obj, Literal):  # lexical form and language: datatypes vary between syntaxes
                    lines.append(f"{predicate} {obj.value!r}@{obj.language or ''}")
                elif isinstance(obj, NamedNode):
                    lines.append(f"{predicate} <{obj.value}>")
                elif depth > 0 and obj not in seen:
                    lines.append(f"{predicate} [{self._node_text(obj, depth - 1, seen)}]")
                else:
                    lines.append(f"{predicate} []")
        return " ; ".join(sorted(lines))

    def _when(self, record_id: str, field: str, term: Any) -> When | None:
        if not isinstance(term, Literal):
            if term is not None:
                self.problem(record_id, field, f"not a date literal: {term}")
            return None
        try:
            return parse_when(term.value)
        except ValueError as error:
            self.problem(record_id, field, str(error))
            return None

    def _first_when(self, record_id: str, node: Any, predicate: str, field: str) -> When | None:
        values = self._values(node, predicate)
        return self._when(record_id, field, values[0]) if values else None

    def _iri(self, record_id: str, field: str, term: Any) -> str | None:
        if isinstance(term, NamedNode):
            iri = clean_iri(term.value)
            if iri is None:
                self.problem(record_id, field, f"not an http(s) IRI: {term.value}")
            return iri
        if isinstance(term, Literal):
            iri = clean_iri(term.value)
            if iri is None:
                self.problem(record_id, field, f"not an http(s) URL: {term.value!r}")
            return iri
        return None

    # -- one dataset --------------------------------------------------------------------------------
    def _map(self, item: SourceDataset, label: str) -> DatasetRecord | None:
        self.index = item.graph.index
        self.uris = self.vocabularies.uris
        node = item.node
        problem = self.problem
        iri = node.value if isinstance(node, NamedNode) else None
        identifier = self._text(node, DCT.identifier.value)
        if identifier is None:
            ids = [v for v in self._values(node, DCT.identifier.value) if isinstance(v, NamedNode)]
            identifier = ids[0].value if ids else None
        service = node in item.graph.services
        kind = "service" if service else "dataset"
        own = self.uris.parse(iri) if iri else None
        if own is not None and own.kind == kind:
            slug, original = own.key, None  # one of ours, reloaded: keep its slug, no prov:wasDerivedFrom to itself
        elif iri:
            slug, original = iri_slug(iri), iri
        elif identifier:
            slug, original = slugify(identifier), None
        else:
            slug, original = f"{kind}-{self._node_hash(node)}", None
        record_id = identifier or iri or slug
        label = iri or record_id

        title = self._text(node, P_TITLE) or self._text(node, *P_LABEL_PROPS)
        description = self._text(node, P_DESCRIPTION, f"{DC_ELEMENTS}description", RDFS.comment.value)
        record = DatasetRecord(
            id=record_id,
            title=" ".join(title.split()) if title else "",
            slug=slug,
            description=html_to_text(description) if description else None,
            original_iri=original,
            source_url=iri,
        )
        keywords = [v for v in self._values(node, DCAT.keyword.value) if isinstance(v, Literal) and v.value.strip()]
        preferred = [k for k in keywords if not k.language or k.language.lower().startswith("en")]
        record.keywords = list(dict.fromkeys(" ".join(k.value.split()) for k in (preferred or keywords)))
        for theme in self._values(node, DCAT.theme.value):
            self._theme(record, label, theme)
        self._publisher(record, label, self._values(node, DCT.publisher.value))
        record.licence = self._licence(label, node)
        record.access = self._access(label, self._values(node, DCT.accessRights.value))
        if not self._values(node, DCT.accessRights.value):
            record.assumed.append("dct:accessRights")
        record.issued = self._first_when(label, node, DCT.issued.value, "dct:issued")
        record.modified = self._first_when(label, node, DCT.modified.value, "dct:modified")
        for page in self._values(node, DCAT.landingPage.value, FOAF.homepage.value)[:1]:
            record.landing_page = self._iri(label, "dcat:landingPage", page)
        for place in self._values(node, DCT.spatial.value):
            self._spatial(record, label, place)
        self._temporal(record, label, self._values(node, DCT.temporal.value))
        for frequency in self._values(node, DCT.accrualPeriodicity.value)[:1]:
            text = frequency.value if isinstance(frequency, NamedNode | Literal) else self._label(frequency)
            record.frequency = frequency_code(text)
            if record.frequency is None:
                problem(label, "dct:accrualPeriodicity", f"unknown frequency {text!r}")
        for contact in self._values(node, DCAT.contactPoint.value)[:1]:
            record.contact = self._contact(label, contact)
        for status in self._values(node, ADMS.status.value):
            if isinstance(status, NamedNode) and status.value in (
                EU_DATASET_STATUS + "DEPRECATED",
                EU_DATASET_STATUS + "WITHDRAWN",
            ):
                record.status = Status.ARCHIVED
        for replacement in self._values(node, DCT.isReplacedBy.value)[:1]:
            if isinstance(replacement, NamedNode) and clean_iri(replacement.value):
                record.replaced_by = replacement.value
                record.status = Status.SUPERSEDED
        distribution_ids = self._distributions(record, label, node)
        if record.licence is None and record.distributions:
            licences = {d.licence for d in record.distributions}
            if len(licences) == 1 and None not in licences:
                record.licence = licences.pop()  # every distribution under one licence: the dataset's
        if service:
            record = self._service(record, label, node)
        if item.graph.description is not None:
            self._keep(record, label, item.graph.description.statements(node, distribution_ids))
        return record

    def _service(self, record: DatasetRecord, label: str, node: Any) -> DataServiceRecord:
        """A data service: what it shares with a dataset, and its endpoints; one without an endpoint URL is kept
        (its other statements are the publisher's) and reported, since DCAT-AP requires one."""
        service = DataServiceRecord(**vars(record))
        self.count("services_kept")
        for value in self._values(node, DCAT.endpointURL.value):
            url = self._iri(label, "dcat:endpointURL", value)
            if url and url not in service.endpoint_urls:
                service.endpoint_urls.append(url)
        if not self._values(node, DCAT.endpointURL.value):
            what = "a data service without an endpoint URL (DCAT-AP requires one): kept, and invalid under DCAT-AP"
            self.problem(label, "dcat:endpointURL", what)
        for value in self._values(node, DCAT.endpointDescription.value):
            if isinstance(value, NamedNode):
                service.endpoint_descriptions.append(value.value)
        service.conforms_to = [v.value for v in self._values(node, DCT.conformsTo.value) if isinstance(v, NamedNode)]
        return service

    def fit_to_profile(self, record: DatasetRecord) -> DatasetRecord:
        """A data service needs no theme nor description (DCAT-AP): it is published as the source describes it."""
        return record if isinstance(record, DataServiceRecord) else super().fit_to_profile(record)

    def _keep(self, record: DatasetRecord, label: str, statements: list[Statement]) -> None:
        """The source's own statements, kept as given beside the normalised record (loaders/source_statements.py)."""
        own_class = DCAT.DataService if isinstance(record, DataServiceRecord) else DCAT.Dataset
        statements, geometries = geometry_nodes(statements)
        statements, languages, unknown = normalised_languages(statements, self.vocabularies.language_by_code)
        for statement in unknown:
            self.problem(label, field_name(statement), "not a language code we know: not kept", statement.object.value)
        sorted_statements = sort_statements(statements, self.vocabularies.labels.__contains__, own_class.value)
        record.statements = sorted_statements.kept
        record.replaced = sorted_statements.replaced + geometries + languages
        for statement, reason in sorted_statements.dropped:
            shown = statement.object.value if not isinstance(statement.object, Anchor) else statement.object.key
            self.problem(label, field_name(statement), reason, shown)

    def _theme(self, record: DatasetRecord, label: str, theme: Any) -> None:
        value = theme.value if isinstance(theme, NamedNode) else None
        if value and value.startswith(EU_DATA_THEME):
            code = value[len(EU_DATA_THEME) :].strip("/")
            if code in EU_THEME_CODES:
                if code not in record.eu_themes:
                    record.eu_themes.append(code)
                return
        found = None
        if value:
            own = self.uris.parse(value)
            if own is not None and own.kind == "theme" and own.key in self._themes:
                found = own.key
        if found is None:
            name = self._label(theme)
            if name:
                found = self._theme_by_label.get(name.lower())
        if found is None and value:
            local = unquote(value.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1])
            found = local if local in self._themes else self._theme_by_label.get(local.replace("-", " ").lower())
        if found is None:
            shown = value or self._label(theme) or "a blank node"
            self.problem(label, "dcat:theme", "not a London or EU data theme to browse by", shown)
        elif found not in record.themes:
            record.themes.append(found)

    def _publisher(self, record: DatasetRecord, label: str, publishers: list) -> None:
        if not publishers:
            return
        agent = publishers[0]
        if isinstance(agent, NamedNode):
            own = self.uris.parse(agent.value)
            if own is not None and own.kind == "publisher":
                record.publisher = own.key
                return
            record.publisher_source_iri = agent.value
            known = self.vocabularies.publisher_by_iri.get(iri_key(agent.value))
            if known:  # the organisation's web address (or another IRI of it) is one the vocabulary knows
                record.publisher = known
                return
        name = self._label(agent)
        if name:
            known = self._publisher_by_name.get(name.lower())
            if known:
                record.publisher = known
            else:
                record.publisher, record.publisher_name = slugify(name), name
            return
        slug = iri_slug(agent.value) if isinstance(agent, NamedNode) else ""
        known = slug if slug in self._publishers else self._publisher_by_name.get(slug.replace("-", " "))
        if known:  # gov.uk/government/organisations/office-for-national-statistics names ONS by its path
            record.publisher = known
        else:
            shown = agent.value if isinstance(agent, NamedNode) else "a blank node"
            what = "a publisher without a name (foaf:name, skos:prefLabel ...): not kept"
            self.problem(label, "dct:publisher", what, shown)
            record.publisher_source_iri = None

    def _licence(self, label: str, node: Any) -> str | None:
        licences = self._values(node, DCT.license.value)
        for licence in licences:
            iri = licence_iri(licence.value) if isinstance(licence, NamedNode | Literal) else None
            if iri is None and not isinstance(licence, Literal):
                name = self._label(licence)
                iri = licence_iri(name) if name else None
            if iri:
                return iri
        for rights in self._values(node, DCT.rights.value):  # a rights IRI that is a known licence
            if isinstance(rights, NamedNode):
                iri = licence_iri(rights.value)
                if iri and iri.startswith("http://publications.europa.eu/resource/authority/licence/"):
                    return iri
        if licences:
            shown = licences[0].value if isinstance(licences[0], NamedNode | Literal) else self._label(licences[0])
            self.problem(label, "dct:license", "unknown licence", shown_value(shown))
        return None

    def _access(self, label: str, values: list) -> AccessLevel:
        if not values:
            return AccessLevel.PUBLIC  # DCAT-AP: no access rights stated; documented normalisation
        term = values[0]
        level = None
        if isinstance(term, NamedNode | Literal):
            level = access_level(term.value)
        if level is None and not isinstance(term, Literal):
            name = self._text(term, SKOS.prefLabel.value, RDFS.label.value, DCT.title.value)
            level = access_level(name) if name else None
        if level is None:
            shown = term.value if isinstance(term, NamedNode | Literal) else self._text(term, RDFS.comment.value)
            self.problem(label, "dct:accessRights", f"not an access-right concept ({shown!r}): treated as non-public")
            return AccessLevel.NON_PUBLIC
        return level

    def _spatial(self, record: DatasetRecord, label: str, place: Any) -> None:
        gss = None
        if isinstance(place, NamedNode):
            gss = borough_code(place.value, self._boroughs, self._borough_by_name)
            if gss is None:
                for same in self._values(place, OWL.sameAs.value):
                    if isinstance(same, NamedNode):
                        gss = borough_code(same.value, self._boroughs, self._borough_by_name)
                        if gss:
                            break
        if gss is None:
            name = place.value if isinstance(place, Literal) else self._text(place, *PLACE_NAME_PROPS)
            gss = borough_code(name, self._boroughs, self._borough_by_name) if name else None
        if gss is not None and gss not in record.boroughs:  # other places are kept as the source gives them
            record.boroughs.append(gss)

    def _temporal(self, record: DatasetRecord, label: str, periods: list) -> None:
        starts: list[When] = []
        ends: list[When] = []
        for period in periods:
            for target, props, edge in ((starts, START_PROPS, "hasBeginning"), (ends, END_PROPS, "hasEnd")):
                values = self._values(period, *props)
                for instant in self._values(period, f"{TIME}{edge}"):
                    values += self._values(instant, *INSTANT_PROPS)
                for value in values[:1]:
                    when = self._when(label, "dct:temporal", value)
                    if when:
                        target.append(when)
        if starts:
            record.temporal_start = min(starts, key=lambda w: w.sort_key)
        if ends:
            record.temporal_end = max(ends, key=lambda w: w.sort_key)

    def _contact(self, label: str, contact: Any) -> Contact | None:
        if isinstance(contact, NamedNode) and contact.value.lower().startswith("mailto:"):
            email = clean_email(contact.value)
            if email is None:
                self.problem(label, "dcat:contactPoint", f"not an e-mail address: {contact.value}")
            return Contact(email=email) if email else None
        name = self._text(contact, VCARD.fn.value, VCARD["organization-name"].value, FOAF.name.value, RDFS.label.value)
        email = None
        for value in self._values(contact, VCARD.hasEmail.value, VCARD.email.value, FOAF.mbox.value)[:1]:
            email = clean_email(value.value) if isinstance(value, NamedNode | Literal) else None
            if email is None:
                self.problem(label, "dcat:contactPoint", f"not an e-mail address: {getattr(value, 'value', value)}")
        url = None
        for value in self._values(contact, VCARD.hasURL.value, VCARD.url.value, FOAF.homepage.value)[:1]:
            url = self._iri(label, "dcat:contactPoint", value)
        if url is None and isinstance(contact, NamedNode) and not (name or email):
            url = clean_iri(contact.value)  # a contact point given only as a web address
        return Contact(name=name, email=email, url=url) if (name or email or url) else None

    # -- distributions ------------------------------------------------------------------------------
    def _distributions(self, record: DatasetRecord, label: str, node: Any) -> dict[Any, str]:
        """The dataset's distributions as records; returns each distribution node's minted id."""
        nodes = [d for d in self._values(node, DCAT.distribution.value) if not isinstance(d, Literal)]
        self.count("distributions_read", len(nodes))
        nodes.sort(key=lambda n: n.value if isinstance(n, NamedNode) else "~" + self._node_hash(n))
        dists = []
        for dist_node in nodes:
            if isinstance(dist_node, NamedNode):
                dist_id, key = iri_slug(dist_node.value), dist_node.value
            else:
                key = self._node_hash(dist_node)
                identifier = self._text(dist_node, DCT.identifier.value)
                dist_id = slugify(identifier) if identifier else key
            dists.append((dist_id, key, dist_node))
        counts: dict[str, int] = defaultdict(int)
        for dist_id, _, _ in dists:
            counts[dist_id] += 1
        ids: dict[Any, str] = {}
        for dist_id, key, dist_node in dists:
            if counts[dist_id] > 1:
                dist_id = f"{dist_id}-{_digest(key, 8)}"
            ids[dist_node] = dist_id
            record.distributions.append(self._distribution(label, dist_id, dist_node))
        return ids

    def _distribution(self, label: str, dist_id: str, node: Any) -> DistributionRecord:
        where = f"distribution[{dist_id}]"
        dist = DistributionRecord(id=dist_id, original_iri=node.value if isinstance(node, NamedNode) else None)
        for value in self._values(node, DCAT.accessURL.value)[:1]:
            dist.access_url = self._iri(label, f"{where}.dcat:accessURL", value)
        for value in self._values(node, DCAT.downloadURL.value)[:1]:
            dist.download_url = self._iri(label, f"{where}.dcat:downloadURL", value)
        title = self._text(node, P_TITLE) or self._text(node, RDFS.label.value)
        dist.title = " ".join(title.split()) if title else None
        description = self._text(node, P_DESCRIPTION)
        dist.description = html_to_text(description) if description else None
        media_values = self._values(node, DCAT.mediaType.value)
        format_values = self._values(node, DCT["format"].value)
        media = self._format_of(media_values)
        declared = self._format_of(format_values)
        for values, found, field in ((media_values, media, "dcat:mediaType"), (format_values, declared, "dct:format")):
            if values and found is None:
                first = values[0]
                shown = first.value if isinstance(first, NamedNode | Literal) else self._node_text(first, 1, set())
                self.problem(label, f"{where}.{field}", f"unknown format {shown!r}")
        if media is None and declared is None:
            for url in (dist.download_url, dist.access_url):
                declared = format_from_path(url)
                if declared:
                    break
        dist.media_type = (media and media[0]) or (declared and declared[0])
        dist.file_type = (declared and declared[1]) or (media and media[1])
        for value in self._values(node, DCAT.byteSize.value)[:1]:
            try:
                dist.byte_size = _byte_size(value)
            except ValueError as error:
                self.problem(label, f"{where}.dcat:byteSize", str(error))
        for checksum in self._values(node, SPDX.checksum.value)[:1]:
            dist.checksum = self._checksum(label, where, checksum)
        dist.issued = self._first_when(label, node, DCT.issued.value, f"{where}.dct:issued")
        dist.modified = self._first_when(label, node, DCT.modified.value, f"{where}.dct:modified")
        licences = self._values(node, DCT.license.value)
        for licence in licences[:1]:
            text = licence.value if isinstance(licence, NamedNode | Literal) else self._label(licence)
            dist.licence = licence_iri(text) if text else None
            if dist.licence is None:
                self.problem(label, f"{where}.dct:license", "unknown licence", shown_value(text))
        return dist

    def _format_of(self, values: list) -> tuple[str | None, str | None] | None:
        """The format named by an IANA / EU IRI, a string, or a node labelled or defined by one."""
        for value in values:
            if isinstance(value, NamedNode | Literal):
                candidates = [value.value]
            else:
                candidates = [self._label(value)] + [
                    v.value for v in self._values(value, *FORMAT_NODE_PROPS) if isinstance(v, NamedNode | Literal)
                ]
            for text in candidates:
                found = format_from_name(text) if text else None
                if found:
                    return found
        return None

    def _checksum(self, label: str, where: str, node: Any) -> Checksum | None:
        algorithms = [v for v in self._values(node, SPDX.algorithm.value) if isinstance(v, NamedNode)]
        values = [v for v in self._values(node, SPDX.checksumValue.value) if isinstance(v, Literal)]
        if not algorithms or not values:
            self.problem(label, f"{where}.spdx:checksum", "a checksum without algorithm or value")
            return None
        name = algorithms[0].value.rsplit("#", 1)[-1].rsplit("/", 1)[-1].removeprefix("checksumAlgorithm_")
        parsed = parse_checksum(f"{name}:{values[0].value}")
        if parsed is None:
            self.problem(label, f"{where}.spdx:checksum", f"unsupported checksum {name}: {values[0].value!r}")
            return None
        return Checksum(*parsed)

    # -- ids and slugs unique within the file --------------------------------------------------------
    def _unique_ids(self, records: list[DatasetRecord], nodes: list) -> None:
        """Two datasets with one dct:identifier: both fall back to their IRI (or node hash)."""
        counts: dict[str, int] = defaultdict(int)
        for record in records:
            counts[record.id] += 1
        for record, node in zip(records, nodes, strict=True):
            if counts[record.id] > 1:
                shared = record.id
                record.id = node.value if isinstance(node, NamedNode) else f"{record.id}#{self._node_hash(node)}"
                what = "shared by several datasets in the file: the dataset's IRI is its identifier"
                self.problem(record.id, "dct:identifier", what, shared)

    def _unique_slugs(self, records: list[DatasetRecord], nodes: list) -> None:
        """Slugs that clash get a short hash of the dataset IRI (or id), whatever the file order.

        Datasets that still clash have identical statements (blank nodes saying the same thing):
        they are numbered in file-independent sort order, which cannot tell them apart either.
        """
        counts: dict[str, int] = defaultdict(int)
        for record in records:
            counts[record.slug or ""] += 1
        for record, node in zip(records, nodes, strict=True):
            if counts[record.slug or ""] > 1:
                key = node.value if isinstance(node, NamedNode) else record.id
                record.slug = f"{record.slug}-{_digest(key, 8)}"
        seen: dict[str, int] = defaultdict(int)
        for record in records:
            seen[record.slug or ""] += 1
            if seen[record.slug or ""] > 1:
                self.problem(record.id, "dataset", "a second dataset with identical statements: numbered")
                number = seen[record.slug or ""]
                record.slug = f"{record.slug}-{number}"
                record.id = f"{record.id}-{number}"


def _one_identifier(record: DatasetRecord) -> None:
    """The catalogue knows a record by one ``dct:identifier``, its id: the source's other identifiers (one shared
    by several datasets, a second one) are replaced by it, not published beside it."""
    ours = Literal(record.id)
    others = [
        s
        for s in record.statements
        if s.subject == DATASET and s.predicate == DCT.identifier.value and s.object != ours
    ]
    if others:
        record.statements = [s for s in record.statements if s not in others]
        record.replaced += others
