"""The RDF vocabularies the catalogue speaks, as pyoxigraph term factories.

One place for namespace IRIs so that loaders, views and tests never spell them twice.
"""

from __future__ import annotations

from pyoxigraph import NamedNode


class Namespace:
    """An IRI prefix; ``NS.term`` or ``NS["term"]`` gives a :class:`NamedNode`.

    Not a ``str`` subclass on purpose: ``DCT.title`` and ``DCT.format`` must be terms, not str methods.
    """

    def __init__(self, iri: str) -> None:
        self.iri = iri

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        term = NamedNode(self.iri + name)
        setattr(self, name, term)  # cached: the next lookup is a plain attribute read (hot in loaders)
        return term

    def __getitem__(self, name: str) -> NamedNode:
        cached = self.__dict__.get(name)
        return cached if cached is not None else self.__getattr__(name)

    def __str__(self) -> str:
        return self.iri

    def __repr__(self) -> str:
        return f"Namespace({self.iri!r})"


RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
DCTYPE = Namespace("http://purl.org/dc/dcmitype/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
DPV = Namespace("https://w3id.org/dpv#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
VOID = Namespace("http://rdfs.org/ns/void#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SCHEMA = Namespace("https://schema.org/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
SH = Namespace("http://www.w3.org/ns/shacl#")

# EU Publications Office authority lists (DCAT-AP controlled vocabularies)
EU_ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
EU_THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
EU_LICENCE = Namespace("http://publications.europa.eu/resource/authority/licence/")
EU_LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
IANA_MEDIA = Namespace("http://www.iana.org/assignments/media-types/")
ONS_GEOGRAPHY = Namespace("http://statistics.data.gov.uk/id/statistical-geography/")

PREFIXES: dict[str, str] = {
    name: ns.iri
    for name, ns in {
        "rdf": RDF,
        "rdfs": RDFS,
        "owl": OWL,
        "xsd": XSD,
        "dcat": DCAT,
        "dct": DCT,
        "foaf": FOAF,
        "vcard": VCARD,
        "adms": ADMS,
        "skos": SKOS,
        "org": ORG,
        "prov": PROV,
        "dqv": DQV,
        "spdx": SPDX,
        "dpv": DPV,
        "hydra": HYDRA,
        "void": VOID,
        "sd": SD,
        "schema": SCHEMA,
        "locn": LOCN,
    }.items()
}
