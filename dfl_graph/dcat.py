"""DCAT-AP 3 triples from :class:`DatasetRecord` values: the one shape every source comes out in.

Sub-resources (contact point, period of time, identifier, checksum) get hash IRIs under their
dataset or distribution rather than blank nodes, so a dataset document is a closed, stable set of
triples that dereferences, diffs and compares across formats without blank-node matching.

Text is written as the source gave it: JSON sources give no language, so their titles, descriptions and
keywords are plain strings (never re-tagged ``@en``). Records of RDF sources carry the source's own
statements (``record.statements``, re-anchored on our IRIs, language tags and datatypes as given); they are
written as they are, and where they already give a property (a title in each language, the dates, the
contact point ...) the writer does not add its own value of it beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pyoxigraph import Literal, NamedNode, Quad

from dfl_graph.namespaces import (
    ADMS,
    DCAT,
    DCT,
    DPV,
    EU_ACCESS_RIGHT,
    EU_FILE_TYPE,
    EU_FREQUENCY,
    EU_THEME,
    FOAF,
    IANA_MEDIA,
    OWL,
    PROV,
    RDF,
    RDFS,
    SKOS,
    SPDX,
    VCARD,
    XSD,
)
from dfl_graph.quality import measurement_quads
from dfl_graph.records import DATASET, Anchor, DataServiceRecord, DatasetRecord, DistributionRecord, Status, When
from dfl_graph.uris import Uris, slugify
from dfl_graph.vocabularies import Vocabularies

EU_DATASET_STATUS = "http://publications.europa.eu/resource/authority/dataset-status/"
# the properties a record may name in ``assumed`` (the catalogue supplied their value: see dfl:assumed)
ASSUMABLE = {
    "dct:description": DCT.description,
    "dct:accessRights": DCT.accessRights,
    "dcat:accessURL": DCAT.accessURL,
    "dcat:theme": DCAT.theme,  # the Unclassified theme only: a source's own themes stay the source's
}
TRUE = Literal("true", datatype=XSD.boolean)
FALSE = Literal("false", datatype=XSD.boolean)


def when_literal(when: When) -> Literal:
    return Literal(when.value, datatype=XSD[when.datatype])


def text(value: str) -> Literal:
    """A text a JSON source gave: as given, with no language tag (the source states none)."""
    return Literal(value)


class DcatApWriter:
    """Maps records to DCAT-AP 3 quads in a given named graph."""

    def __init__(self, uris: Uris, vocabularies: Vocabularies) -> None:
        self.uris = uris
        self.vocabularies = vocabularies
        self.catalog = NamedNode(uris.catalog())
        self.dfl = uris.vocab
        # the IRIs of the run's records by source id, set by the write (dfl_graph.ingest), for ``record:`` anchors
        self.record_iris: dict[str, str] = {}

    def dataset_iri(self, record: DatasetRecord) -> NamedNode:
        """The record's IRI: a dataset's, or a data service's (``/service/{slug}``)."""
        slug = record.slug or slugify(record.id)
        return NamedNode(self.uris.service(slug) if isinstance(record, DataServiceRecord) else self.uris.dataset(slug))

    def publisher_iri(self, record: DatasetRecord) -> NamedNode | None:
        if record.publisher is None:
            return None
        known = self.vocabularies.publishers.get(record.publisher)
        return known or NamedNode(self.uris.publisher(record.publisher))

    def quads(self, record: DatasetRecord, graph: NamedNode) -> Iterator[Quad]:
        """All quads describing one dataset, its distributions and its local sub-resources, then the DQV
        measurements of its metadata quality (:mod:`dfl_graph.quality`), computed from those quads."""
        own = list(self._own_quads(record, graph))
        yield from own
        if isinstance(record, DataServiceRecord):
            return
        yield from measurement_quads(self.dataset_iri(record), own, graph, self.dfl.iri)

    def _own_quads(self, record: DatasetRecord, graph: NamedNode) -> Iterator[Quad]:
        d = self.dataset_iri(record)
        slug = d.value.rsplit("/", 1)[1]
        given = {(s.subject, s.predicate) for s in record.statements}  # what the source's own statements give

        def q(s: NamedNode, p: NamedNode, o: NamedNode | Literal) -> Quad:
            return Quad(s, p, o, graph)

        def ours(p: NamedNode, on: Anchor = DATASET) -> bool:
            return not given or (on, p.value) not in given

        service = isinstance(record, DataServiceRecord)
        yield q(d, RDF.type, DCAT.DataService if service else DCAT.Dataset)
        if record.is_public:
            yield q(self.catalog, DCAT.service if service else DCAT.dataset, d)
        if service:
            yield from self._service_quads(record, d, q, ours)
        if ours(DCT.title):
            yield q(d, DCT.title, text(record.title))
        if record.description and ours(DCT.description):
            yield q(d, DCT.description, text(record.description))
        yield q(d, DCT.identifier, Literal(record.id))  # how the catalogue knows the record (the source's own)
        identifier = NamedNode(d.value + "#identifier")
        yield q(d, ADMS.identifier, identifier)
        yield q(identifier, RDF.type, ADMS.Identifier)
        yield q(identifier, SKOS.notation, Literal(record.id))
        if record.original_iri:
            yield q(d, PROV.wasDerivedFrom, NamedNode(record.original_iri))
        if ours(DCAT.keyword):
            for keyword in dict.fromkeys(record.keywords):
                yield q(d, DCAT.keyword, text(keyword))
        eu_themes = {EU_THEME[code] for code in record.eu_themes}
        for theme_id in dict.fromkeys(record.themes):
            theme = self.vocabularies.themes.get(theme_id)
            if theme is not None:
                yield q(d, DCAT.theme, theme)
                eu_themes.update(self.vocabularies.theme_eu_match.get(theme_id, ()))
        for eu_theme in sorted(eu_themes, key=lambda n: n.value):
            yield q(d, DCAT.theme, eu_theme)
        publisher = self.publisher_iri(record)
        if publisher is not None:
            yield q(d, DCT.publisher, publisher)
            if record.publisher not in self.vocabularies.publishers:
                yield q(publisher, RDF.type, FOAF.Organization)
                yield q(publisher, RDF.type, FOAF.Agent)
                yield q(publisher, FOAF.name, text(record.publisher_name or record.publisher))
            if record.publisher_source_iri and record.publisher_source_iri != publisher.value:
                yield q(publisher, OWL.sameAs, NamedNode(record.publisher_source_iri))
        if record.licence:
            yield q(d, DCT.license, NamedNode(record.licence))
            yield q(NamedNode(record.licence), RDF.type, DCT.LicenseDocument)
        yield q(d, DCT.accessRights, EU_ACCESS_RIGHT[record.access.eu_code])
        for curie in record.assumed:
            yield q(d, self.dfl.assumed, ASSUMABLE[curie])
        for reason in dict.fromkeys(record.access_reasons):
            yield q(d, self.dfl.accessReason, self.dfl[reason])
        if record.access_reason_note:
            yield q(d, self.dfl.accessReasonNote, text(record.access_reason_note))
        if record.personal_data is not None:
            yield q(d, self.dfl.holdsPersonalData, TRUE if record.personal_data else FALSE)
            if record.personal_data:
                for category in record.personal_data_categories or [DPV.PersonalData.value]:
                    yield q(d, DPV.hasPersonalData, NamedNode(category))
        for basis in dict.fromkeys(record.legal_basis):
            yield q(d, DPV.hasLegalBasis, NamedNode(basis))
        if record.issued and ours(DCT.issued):
            yield q(d, DCT.issued, when_literal(record.issued))
        if record.modified and ours(DCT.modified):
            yield q(d, DCT.modified, when_literal(record.modified))
        if record.landing_page and ours(DCAT.landingPage):
            page = NamedNode(record.landing_page)
            yield q(d, DCAT.landingPage, page)
            yield q(page, RDF.type, FOAF.Document)
        for gss in dict.fromkeys(record.boroughs):
            yield q(d, DCT.spatial, NamedNode(self.uris.borough(gss)))
        if (record.temporal_start or record.temporal_end) and ours(DCT.temporal):
            period = NamedNode(d.value + "#temporal")
            yield q(d, DCT.temporal, period)
            yield q(period, RDF.type, DCT.PeriodOfTime)
            if record.temporal_start:
                yield q(period, DCAT.startDate, when_literal(record.temporal_start))
            if record.temporal_end:
                yield q(period, DCAT.endDate, when_literal(record.temporal_end))
        if record.frequency:
            yield q(d, DCT.accrualPeriodicity, EU_FREQUENCY[record.frequency])
        if (
            record.contact
            and (record.contact.name or record.contact.email or record.contact.url)
            and ours(DCAT.contactPoint)
        ):
            contact = NamedNode(d.value + "#contact")
            yield q(d, DCAT.contactPoint, contact)
            yield q(contact, RDF.type, VCARD.Kind)
            if record.contact.name:
                yield q(contact, VCARD.fn, Literal(record.contact.name))
            if record.contact.email:
                yield q(contact, VCARD.hasEmail, NamedNode("mailto:" + record.contact.email))
            if record.contact.url:
                yield q(contact, VCARD.hasURL, NamedNode(record.contact.url))
        if record.status is not Status.CURRENT:
            yield q(d, ADMS.status, NamedNode(EU_DATASET_STATUS + "DEPRECATED"))
            yield q(d, self.dfl.lifecycle, self.dfl[record.status.value.capitalize()])
        if record.version and ours(DCAT.version):
            yield q(d, DCAT.version, Literal(record.version))
        if record.replaced_by:
            yield q(d, DCT.isReplacedBy, NamedNode(record.replaced_by))
        for distribution in record.distributions:
            yield from self._distribution_quads(record, slug, d, distribution, q, given)
        for s in record.statements:
            yield q(self._resolve(s.subject, d, slug), NamedNode(s.predicate), self._resolve(s.object, d, slug))

    @staticmethod
    def _service_quads(
        record: DataServiceRecord, d: NamedNode, q: Callable[..., Quad], ours: Callable[[NamedNode], bool]
    ) -> Iterator[Quad]:
        """What only a data service has: its endpoints and the standards it conforms to."""
        if ours(DCAT.endpointURL):
            for url in record.endpoint_urls:
                yield q(d, DCAT.endpointURL, NamedNode(url))
                yield q(NamedNode(url), RDF.type, RDFS.Resource)  # DCAT-AP's range
        if ours(DCAT.endpointDescription):
            for description in record.endpoint_descriptions:
                yield q(d, DCAT.endpointDescription, NamedNode(description))
                yield q(NamedNode(description), RDF.type, RDFS.Resource)
        if ours(DCT.conformsTo):
            for standard in record.conforms_to:
                yield q(d, DCT.conformsTo, NamedNode(standard))
                yield q(NamedNode(standard), RDF.type, DCT.Standard)

    def _resolve(self, term: Anchor | NamedNode | Literal, d: NamedNode, slug: str) -> NamedNode | Literal:
        """A source statement's term on our IRIs: the dataset, one of its distributions, a node under it, or another
        record of the run."""
        if not isinstance(term, Anchor):
            return term
        if term.key.startswith("record:"):  # another record of the write; a writer used alone: its default IRI
            record_id = term.key[7:]
            return NamedNode(self.record_iris.get(record_id) or self.uris.dataset(slugify(record_id)))
        if term.key.startswith("dist:"):
            return NamedNode(self.uris.distribution(slug, term.key[5:]))
        return NamedNode(d.value + term.key) if term.key else d

    def _distribution_quads(self, record, slug, d, dist: DistributionRecord, q, given: set) -> Iterator[Quad]:
        x = NamedNode(self.uris.distribution(slug, dist.id))
        anchor = Anchor(f"dist:{dist.id}")

        def ours(p: NamedNode) -> bool:
            return not given or (anchor, p.value) not in given

        yield q(d, DCAT.distribution, x)
        yield q(x, RDF.type, DCAT.Distribution)
        if dist.original_iri:
            yield q(x, PROV.wasDerivedFrom, NamedNode(dist.original_iri))
        if dist.title and ours(DCT.title):
            yield q(x, DCT.title, text(dist.title))
        if dist.description and ours(DCT.description):
            yield q(x, DCT.description, text(dist.description))
        if ours(DCAT.accessURL):
            access_url = dist.access_url or dist.download_url or record.landing_page
            yield q(x, DCAT.accessURL, NamedNode(access_url) if access_url else d)
        for curie in dist.assumed:
            yield q(x, self.dfl.assumed, ASSUMABLE[curie])
        if dist.download_url and ours(DCAT.downloadURL):
            yield q(x, DCAT.downloadURL, NamedNode(dist.download_url))
        if dist.media_type:
            media_type = IANA_MEDIA[dist.media_type]
            yield q(x, DCAT.mediaType, media_type)
            yield q(media_type, RDF.type, DCT.MediaType)
        if dist.file_type:
            yield q(x, DCT["format"], EU_FILE_TYPE[dist.file_type])
        if dist.byte_size is not None and ours(DCAT.byteSize):
            yield q(x, DCAT.byteSize, Literal(str(dist.byte_size), datatype=XSD.nonNegativeInteger))
        if dist.checksum and ours(SPDX.checksum):
            checksum = NamedNode(x.value + "#checksum")
            yield q(x, SPDX.checksum, checksum)
            yield q(checksum, RDF.type, SPDX.Checksum)
            yield q(checksum, SPDX.algorithm, SPDX["checksumAlgorithm_" + dist.checksum.algorithm])
            yield q(checksum, SPDX.checksumValue, Literal(dist.checksum.value.lower(), datatype=XSD.hexBinary))
        if dist.issued and ours(DCT.issued):
            yield q(x, DCT.issued, when_literal(dist.issued))
        if dist.modified and ours(DCT.modified):
            yield q(x, DCT.modified, when_literal(dist.modified))
        licence = dist.licence or record.licence
        if licence:
            yield q(x, DCT.license, NamedNode(licence))
            yield q(NamedNode(licence), RDF.type, DCT.LicenseDocument)
