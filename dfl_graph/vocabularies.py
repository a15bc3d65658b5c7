"""The controlled vocabularies shipped in ``ontology/`` and what loaders need to know of them.

The Turtle files there use IRIs relative to the catalogue base (``<theme/transport>``,
``@prefix dfl: <def/dfl#>``), so one file serves every deployment: they are resolved against the
configured base when read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pyoxigraph import NamedNode, Quad, RdfFormat, parse

from dfl_graph.namespaces import DCT, FOAF, OWL, RDF, SKOS
from dfl_graph.uris import Uris

ONTOLOGY_DIR = Path(__file__).resolve().parent.parent / "ontology"

EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"

# Files loaded as vocabulary graphs, each into {base}/graph/vocab/{stem}.
VOCABULARY_FILES = ("dfl", "access", "catalog", "themes", "boroughs", "publishers", "eu-vocabularies")


def iri_key(iri: str) -> str:
    """An IRI compared the way people write web addresses: no scheme, no "www.", no trailing slash, lower case."""
    text = iri.strip().lower().split("://", 1)[-1].removeprefix("www.")
    return text.rstrip("/")


def read_vocabulary(uris: Uris, stem: str, ontology_dir: Path = ONTOLOGY_DIR) -> Iterator[Quad]:
    """The quads of one shipped vocabulary file, in its vocabulary graph."""
    path = ontology_dir / f"{stem}.ttl"
    graph = NamedNode(uris.vocab_graph(stem))
    with path.open("rb") as handle:
        for triple in parse(handle, RdfFormat.TURTLE, base_iri=uris.base + "/"):
            yield Quad(triple.subject, triple.predicate, triple.object, graph)


@dataclass
class Vocabularies:
    """Lookup tables over the shipped vocabularies, for loaders mapping source values to concepts."""

    uris: Uris
    ontology_dir: Path = ONTOLOGY_DIR
    _triples: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._triples = [
            q.triple for stem in VOCABULARY_FILES for q in read_vocabulary(self.uris, stem, self.ontology_dir)
        ]

    def _subjects(self, rdf_type: NamedNode, prefix: str) -> dict[str, NamedNode]:
        found = {t.subject for t in self._triples if t.predicate == RDF.type and t.object == rdf_type}
        return {s.value[len(prefix) :]: s for s in found if isinstance(s, NamedNode) and s.value.startswith(prefix)}

    def _labels(self, predicate: NamedNode) -> dict[str, str]:
        return {t.subject.value: t.object.value for t in self._triples if t.predicate == predicate}

    @cached_property
    def themes(self) -> dict[str, NamedNode]:
        """London theme id -> concept IRI."""
        return self._subjects(SKOS.Concept, self.uris.theme(""))

    @cached_property
    def theme_eu_match(self) -> dict[str, list[NamedNode]]:
        """London theme id -> the EU data themes it maps to (skos:exactMatch / skos:closeMatch / broadMatch)."""
        matches = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch)
        result: dict[str, list[NamedNode]] = {}
        for theme_id, iri in self.themes.items():
            result[theme_id] = sorted(
                (t.object for t in self._triples if t.subject == iri and t.predicate in matches),
                key=lambda n: n.value,
            )
        return result

    @cached_property
    def themes_by_eu_exact_match(self) -> dict[str, list[str]]:
        """EU data-theme code -> the London themes that are skos:exactMatch of it (no looser matches)."""
        result: dict[str, list[str]] = {}
        for theme_id, iri in self.themes.items():
            for t in self._triples:
                if t.subject == iri and t.predicate == SKOS.exactMatch:
                    result.setdefault(t.object.value.rsplit("/", 1)[-1], []).append(theme_id)
        return result

    @cached_property
    def theme_by_label(self) -> dict[str, str]:
        """Lower-cased label (preferred or alternative) -> London theme id."""
        by_label: dict[str, str] = {}
        for theme_id, iri in self.themes.items():
            for t in self._triples:
                if t.subject == iri and t.predicate in (SKOS.prefLabel, SKOS.altLabel):
                    by_label[t.object.value.lower()] = theme_id
        return by_label

    @cached_property
    def publishers(self) -> dict[str, NamedNode]:
        """Publisher id -> organisation IRI."""
        return self._subjects(FOAF.Organization, self.uris.publisher(""))

    @cached_property
    def publisher_by_name(self) -> dict[str, str]:
        """Lower-cased name (foaf:name or skos:altLabel) -> publisher id."""
        names: dict[str, str] = {}
        for pub_id, iri in self.publishers.items():
            for t in self._triples:
                if t.subject == iri and t.predicate in (FOAF.name, SKOS.altLabel, SKOS.prefLabel):
                    names[t.object.value.lower()] = pub_id
        return names

    @cached_property
    def publisher_by_iri(self) -> dict[str, str]:
        """An organisation's web address or other IRI (foaf:homepage, owl:sameAs), as :func:`iri_key` normalises
        it -> publisher id: so ``https://www.ons.gov.uk/`` in a source is our ONS."""
        found: dict[str, str] = {}
        for pub_id, iri in self.publishers.items():
            for t in self._triples:
                if t.subject == iri and t.predicate in (FOAF.homepage, OWL.sameAs) and isinstance(t.object, NamedNode):
                    found[iri_key(t.object.value)] = pub_id
        return found

    @cached_property
    def boroughs(self) -> dict[str, NamedNode]:
        """GSS code -> borough IRI."""
        return self._subjects(DCT.Location, self.uris.borough(""))

    @cached_property
    def borough_by_name(self) -> dict[str, str]:
        """Lower-cased borough name -> GSS code."""
        names: dict[str, str] = {}
        for gss, iri in self.boroughs.items():
            for t in self._triples:
                if t.subject == iri and t.predicate in (SKOS.prefLabel, SKOS.altLabel):
                    names[t.object.value.lower()] = gss
        return names

    @cached_property
    def language_by_code(self) -> dict[str, str]:
        """Lower-cased language code (the EU authority code and the ISO 639-1, 639-2/B and 639-2/T notations:
        "eng", "en", "fre", "fra") -> the EU language concept IRI."""
        scheme = NamedNode(EU_LANGUAGE.removesuffix("/"))
        languages = {t.subject for t in self._triples if t.predicate == SKOS.inScheme and t.object == scheme}
        return {
            t.object.value.lower(): t.subject.value
            for t in self._triples
            if t.subject in languages and t.predicate == SKOS.notation
        }

    @cached_property
    def access_reasons(self) -> dict[str, NamedNode]:
        """Access-reason concept id (its local name, e.g. "PersonalInformation") -> IRI, of ``dfl:AccessReasons``."""
        scheme = self.uris.vocab.AccessReasons
        found = {t.subject for t in self._triples if t.predicate == SKOS.inScheme and t.object == scheme}
        prefix = self.uris.vocab.iri
        return {s.value[len(prefix) :]: s for s in found if isinstance(s, NamedNode) and s.value.startswith(prefix)}

    @cached_property
    def access_reason_by_notation(self) -> dict[str, str]:
        """An access reason's notation ("personal-information") -> its concept id, for sources that use it."""
        ids = {iri: reason for reason, iri in self.access_reasons.items()}
        return {
            t.object.value: ids[t.subject] for t in self._triples if t.subject in ids and t.predicate == SKOS.notation
        }

    def _members(self, collection: NamedNode) -> list[str]:
        return sorted(t.object.value for t in self._triples if t.subject == collection and t.predicate == SKOS.member)

    @cached_property
    def personal_data_categories(self) -> list[str]:
        """The DPV personal-data category IRIs publishers may name (``dfl:PersonalDataCategories``)."""
        return self._members(self.uris.vocab.PersonalDataCategories)

    @cached_property
    def legal_bases(self) -> list[str]:
        """The DPV legal-basis IRIs publishers may name (``dfl:LegalBases``)."""
        return self._members(self.uris.vocab.LegalBases)

    @cached_property
    def labels(self) -> dict[str, str]:
        """IRI -> preferred label or name, for anything the vocabularies describe."""
        return {**self._labels(DCT.title), **self._labels(FOAF.name), **self._labels(SKOS.prefLabel)}
