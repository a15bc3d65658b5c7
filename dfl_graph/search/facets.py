"""The facets of the Library's search: which values a dataset has for each, their keys and labels.

A facet value has a short *key* used in URLs (``theme=transport``, ``publisher=tfl``,
``borough=E09000001``, ``format=CSV``, ``licence=OGL_3_0``, ``frequency=ANNUAL``) and the IRI it
stands for. Formats are normalised to EU file-type codes (a distribution that states both
``dct:format`` and ``dcat:mediaType`` counts once) and grouped into *kinds*, as the Data for London
Library groups them: tables, reports, geospatial, APIs, other.
"""

from __future__ import annotations

from dataclasses import dataclass

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
EU_FILE_TYPE = EU_AUTHORITY + "file-type/"
EU_DATA_THEME = EU_AUTHORITY + "data-theme/"
IANA_MEDIA_PREFIXES = (
    "http://www.iana.org/assignments/media-types/",
    "https://www.iana.org/assignments/media-types/",
    "https://www.w3.org/ns/iana/media-types/",
    "http://www.w3.org/ns/iana/media-types/",
)


@dataclass(frozen=True)
class Facet:
    name: str  # URL parameter and API key
    label: str  # heading on the page
    plural: str


FACETS: tuple[Facet, ...] = (
    Facet("theme", "Theme", "themes"),
    Facet("publisher", "Publisher", "publishers"),
    Facet("borough", "Borough", "boroughs"),
    Facet("kind", "Kind of data", "kinds"),
    Facet("format", "Format", "formats"),
    Facet("licence", "Licence", "licences"),
    Facet("access", "Access", "access levels"),
    Facet("frequency", "Update frequency", "update frequencies"),
    Facet("status", "Status", "statuses"),
)
FACET_NAMES = tuple(f.name for f in FACETS)
BY_NAME = {f.name: f for f in FACETS}

# Format kinds, in the order pages show them.
KINDS: dict[str, str] = {
    "tables": "Tables",
    "reports": "Reports",
    "geospatial": "Geospatial",
    "apis": "APIs",
    "other": "Other",
}
_KIND_OF: dict[str, str] = {}
for _kind, _codes in {
    "tables": "CSV TSV XLS XLSX XLSM XLSB ODS DBF SDMX JSON XML MDB ODB SQL TAB",
    "reports": "PDF PDF1X PDFA1A PDFA1B PDFA2A PDFA2B PDFA3 PDFUA PDFX DOC DOCX ODT RTF PPT PPTX ODP TXT HTML HTML5 "
    "XHTML EPUB MHTML",
    "geospatial": "SHP GEOJSON KML KMZ GML GPKG GEOTIFF GDB DWG DXF MIF_MID E00 ECW GRID GRID_ASCII LAS LAZ WORLD "
    "TAB_RSTR MAP_PRVW GMZ",
    "apis": "REST WMS_SRVC WFS_SRVC WCS_SRVC MAP_SRVC SPARQLQ SPARQLQRES ATOM RSS JSON_LD RDF RDF_XML RDF_TURTLE "
    "RDF_N_TRIPLES RDF_N_QUADS RDF_TRIG GTFS",
}.items():
    for _code in _codes.split():
        _KIND_OF[_code] = _kind

# IANA media type -> EU file-type code, for distributions that state only a media type.
MEDIA_TYPES: dict[str, str] = {
    "text/csv": "CSV",
    "text/tab-separated-values": "TSV",
    "application/vnd.ms-excel": "XLS",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
    "application/json": "JSON",
    "application/geo+json": "GEOJSON",
    "application/vnd.geo+json": "GEOJSON",
    "application/ld+json": "JSON_LD",
    "application/zip": "ZIP",
    "application/gzip": "GZIP",
    "application/pdf": "PDF",
    "application/vnd.google-earth.kml+xml": "KML",
    "application/vnd.google-earth.kmz": "KMZ",
    "application/vnd.shp": "SHP",
    "application/gml+xml": "GML",
    "application/geopackage+sqlite3": "GPKG",
    "application/xml": "XML",
    "text/xml": "XML",
    "text/html": "HTML",
    "application/xhtml+xml": "XHTML",
    "application/rdf+xml": "RDF_XML",
    "text/turtle": "RDF_TURTLE",
    "application/n-triples": "RDF_N_TRIPLES",
    "application/n-quads": "RDF_N_QUADS",
    "application/trig": "RDF_TRIG",
    "text/plain": "TXT",
    "application/msword": "DOC",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.ms-powerpoint": "PPT",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PPTX",
    "application/rtf": "RTF",
    "application/sparql-query": "SPARQLQ",
    "application/sparql-results+json": "SPARQLQRES",
    "application/atom+xml": "ATOM",
    "image/tiff": "TIFF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
}


def dataset_themes(record: dict) -> list[str]:
    """The themes a dataset is faceted and shown by: its own (London) themes, the EU data themes they
    map to being implied; EU data themes only for a dataset that has nothing else."""
    themes = record.get("themes") or []
    own = [t for t in themes if not t.startswith(EU_DATA_THEME)]
    return own or themes


def kind_of(format_code: str) -> str:
    return _KIND_OF.get(format_code, "other")


@dataclass(frozen=True)
class FormatValue:
    key: str  # EU code, or the media type / last IRI segment when there is none
    iri: str


def normalise_formats(iris: list[str]) -> list[FormatValue]:
    """A dataset's distribution formats (EU file types and media types mixed) as distinct values."""
    found: dict[str, FormatValue] = {}
    for iri in iris:
        if iri.startswith(EU_FILE_TYPE):
            code = iri[len(EU_FILE_TYPE) :].strip("/")
            found.setdefault(code, FormatValue(code, iri))
            continue
        media = next((iri[len(p) :] for p in IANA_MEDIA_PREFIXES if iri.startswith(p)), None)
        if media is not None:
            media = media.split(";", 1)[0].strip().lower()
            code = MEDIA_TYPES.get(media)
            if code is not None:
                found.setdefault(code, FormatValue(code, EU_FILE_TYPE + code))
            else:
                found.setdefault(media, FormatValue(media, iri))
            continue
        key = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or iri
        found.setdefault(key.upper(), FormatValue(key.upper(), iri))
    return sorted(found.values(), key=lambda v: v.key)


def value_key(facet: str, iri: str, base: str) -> str:
    """The short key of a facet value's IRI (its id under our base, or an EU authority code)."""
    for kind in ("theme", "publisher", "borough"):
        prefix = f"{base}/{kind}/"
        if facet == kind and iri.startswith(prefix):
            return iri[len(prefix) :]
    if iri.startswith(EU_AUTHORITY):
        return iri.rstrip("/").rsplit("/", 1)[-1]
    return iri


__all__ = [
    "BY_NAME",
    "EU_DATA_THEME",
    "FACETS",
    "FACET_NAMES",
    "KINDS",
    "Facet",
    "FormatValue",
    "dataset_themes",
    "kind_of",
    "normalise_formats",
    "value_key",
]
