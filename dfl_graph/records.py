"""The catalogue's record model: what every loader maps its source into.

Loaders (one per source format) produce :class:`DatasetRecord` values; :mod:`dfl_graph.dcat` turns
them into DCAT-AP 3 triples. Keeping this middle layer small and typed is what makes every source
come out in the same shape, the way ckanext-dcat profiles map into one internal dict.

A field a source lacks stays ``None`` or empty: nothing here invents values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from pyoxigraph import Literal, NamedNode


class AccessLevel(StrEnum):
    """DCAT-AP access rights (EU access-right authority list)."""

    PUBLIC = "public"
    RESTRICTED = "restricted"
    NON_PUBLIC = "non-public"

    @property
    def eu_code(self) -> str:
        return {"public": "PUBLIC", "restricted": "RESTRICTED", "non-public": "NON_PUBLIC"}[self.value]


class Status(StrEnum):
    """Lifecycle of a dataset; archived and superseded ones are shown, but labelled and ranked lower."""

    CURRENT = "current"
    ARCHIVED = "archived"
    SUPERSEDED = "superseded"


_DATE_FORMS = (
    (re.compile(r"^\d{4}$"), "gYear"),
    (re.compile(r"^\d{4}-\d{2}$"), "gYearMonth"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "date"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$"), "dateTime"),
)


@dataclass(frozen=True)
class When:
    """A point in time at the precision the source gives (year, month, day or instant)."""

    value: str
    datatype: str  # an XSD local name: gYear, gYearMonth, date or dateTime

    @classmethod
    def parse(cls, text: str | None) -> When | None:
        """Read an ISO 8601 value; None for empty input, ValueError for anything else."""
        if text is None or not str(text).strip():
            return None
        text = str(text).strip()
        for pattern, datatype in _DATE_FORMS:
            if pattern.match(text):
                if datatype == "dateTime" and len(text) == 16:
                    text += ":00"
                return cls(text, datatype)
        raise ValueError(f"not an ISO 8601 date or date-time: {text!r}")

    @property
    def sort_key(self) -> str:
        """Lexically sortable across precisions ("2010-02" sorts with "2010-02-01")."""
        return self.value


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    email: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Checksum:
    algorithm: str  # spdx algorithm local name, e.g. "md5", "sha1", "sha256"
    value: str


@dataclass(frozen=True)
class Anchor:
    """A resource of the source re-anchored under the IRIs we mint, resolved by the writer once the slug is final:
    ``""`` the dataset, ``"dist:{id}"`` one of its distributions, ``"#{name}"`` a node under the dataset's IRI
    (blank nodes of the source, named deterministically from their statements), ``"record:{id}"`` another record
    of the same run (a distribution's ``dcat:accessService``, a service's ``dcat:servesDataset``)."""

    key: str


DATASET = Anchor("")


def record_anchor(record_id: str) -> Anchor:
    """A link to another record of the run, by its id: the writer resolves it to the IRI that record gets."""
    return Anchor(f"record:{record_id}")


@dataclass(frozen=True)
class Statement:
    """One statement of the source, as given (literals keep their language tag and datatype), with the source's
    own dataset, distributions and blank nodes re-anchored (:class:`Anchor`); other IRIs are the source's."""

    subject: Anchor | NamedNode
    predicate: str  # IRI
    object: Anchor | NamedNode | Literal


@dataclass
class DistributionRecord:
    id: str
    access_url: str | None = None
    download_url: str | None = None
    title: str | None = None
    description: str | None = None
    media_type: str | None = None  # IANA media type, e.g. "text/csv"
    file_type: str | None = None  # EU file-type code, e.g. "CSV"
    byte_size: int | None = None
    checksum: Checksum | None = None
    issued: When | None = None
    modified: When | None = None
    licence: str | None = None  # licence IRI
    assumed: list[str] = field(default_factory=list)  # properties the catalogue supplied (see DatasetRecord)
    original_iri: str | None = None  # the IRI the source gave the distribution (prov:wasDerivedFrom)


@dataclass
class DatasetRecord:
    """One dataset as a source describes it, normalised but not embellished."""

    id: str  # the source's own identifier; stable across harvests
    title: str
    slug: str | None = None  # the path segment of the dataset IRI; defaults to a slug of ``id``
    description: str | None = None
    keywords: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)  # London theme ids (ontology/themes.ttl)
    eu_themes: list[str] = field(default_factory=list)  # EU data-theme codes beyond the London mapping
    publisher: str | None = None  # publisher id (ontology/publishers.ttl) or a slug minted by the loader
    publisher_name: str | None = None  # for publishers the vocabulary does not know
    publisher_source_iri: str | None = None  # the IRI the source gave the publisher (kept as owl:sameAs)
    licence: str | None = None  # licence IRI
    access: AccessLevel = AccessLevel.PUBLIC
    access_reasons: list[str] = field(default_factory=list)  # concept ids of dfl:AccessReasons (ontology/access.ttl)
    access_reason_note: str | None = None  # why not public, in the publisher's words
    personal_data: bool | None = None
    personal_data_categories: list[str] = field(default_factory=list)  # DPV IRIs of dfl:PersonalDataCategories
    legal_basis: list[str] = field(default_factory=list)  # DPV IRIs of dfl:LegalBases
    issued: When | None = None
    modified: When | None = None
    landing_page: str | None = None
    boroughs: list[str] = field(default_factory=list)  # GSS codes E09000001..E09000033
    temporal_start: When | None = None
    temporal_end: When | None = None
    frequency: str | None = None  # EU frequency code, e.g. "ANNUAL"
    contact: Contact | None = None
    status: Status = Status.CURRENT
    replaced_by: str | None = None  # IRI of the superseding dataset
    version: str | None = None  # the source's version label (dcat:version)
    original_iri: str | None = None  # the IRI the source itself gave the dataset, if any
    source_url: str | None = None  # the URL of the source's own metadata record for this dataset, if any
    # Properties (as CURIEs, e.g. "dct:accessRights") whose value the catalogue supplied because the source gave
    # none and the profile needs one; the writer marks each with dfl:assumed so no consumer mistakes it for source data.
    assumed: list[str] = field(default_factory=list)
    distributions: list[DistributionRecord] = field(default_factory=list)
    # RDF sources: the source's statements about the dataset (its distributions, blank nodes, and the agents, places,
    # services ... it links to), kept as given; the writer adds the normalised statements beside them.
    statements: list[Statement] = field(default_factory=list)
    # RDF sources: source statements whose value the catalogue publishes normalised instead (a licence URL as the EU
    # licence IRI, a free-text publisher as our publisher ...): docs/loaders.md lists which, and why.
    replaced: list[Statement] = field(default_factory=list)

    @property
    def is_public(self) -> bool:
        return self.access is AccessLevel.PUBLIC


@dataclass
class DataServiceRecord(DatasetRecord):
    """A data service (``dcat:DataService``: an API, a query endpoint, a map service), published as its own record at
    ``{base}/service/{slug}`` under the same rules as a dataset (slugs, withdrawal, access rights, provenance). The
    fields it shares with a dataset mean the same; distributions, places and periods do not apply. The datasets it
    serves (``dcat:servesDataset``) are among its ``statements``, linked with :func:`record_anchor`."""

    endpoint_urls: list[str] = field(default_factory=list)  # dcat:endpointURL (DCAT-AP: at least one)
    endpoint_descriptions: list[str] = field(default_factory=list)  # dcat:endpointDescription IRIs
    conforms_to: list[str] = field(default_factory=list)  # dct:conformsTo: the standards (protocols) it implements


@dataclass(frozen=True)
class Problem:
    """A per-record problem a loader met: reported, not fatal.

    Said so a publisher can act on it: which record (its id, IRI or ``#position`` in the source), which
    field (the source's own name for it), what is wrong or was done, and the value concerned (as text).
    """

    record: str
    field: str
    what: str
    value: str | None = None

    def __str__(self) -> str:
        shown = f" ({self.value})" if self.value is not None and self.value not in self.what else ""
        return f"{self.record}: {self.field}: {self.what}{shown}"


@dataclass(frozen=True)
class Rejection:
    """An item the loader could not turn into a record: not published, reported with its reasons."""

    record: str  # the item's name in the source: its id, IRI, or "#<position>"
    problems: tuple[Problem, ...]  # why (at least one)
