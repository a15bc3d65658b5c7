"""File formats of distributions: EU file-type codes, the IANA media types that mean them, and the kinds of
data they are (tables, reports, geospatial, APIs, other), as the Data for London Library groups them.

A distribution may state ``dct:format`` (an EU file type), ``dcat:mediaType`` (an IANA media type) or both;
:func:`normalise_formats` makes one value of each, so a format counts once. Search facets and the metadata
quality score (:mod:`dfl_graph.quality`) both read formats through here.
"""

from __future__ import annotations

from dataclasses import dataclass

EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA_MEDIA_PREFIXES = (
    "http://www.iana.org/assignments/media-types/",
    "https://www.iana.org/assignments/media-types/",
    "https://www.w3.org/ns/iana/media-types/",
    "http://www.w3.org/ns/iana/media-types/",
)

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


__all__ = ["EU_FILE_TYPE", "IANA_MEDIA_PREFIXES", "KINDS", "MEDIA_TYPES", "FormatValue", "kind_of", "normalise_formats"]
