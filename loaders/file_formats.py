"""What a distribution's file is: its format (IANA media type and EU file type), byte size and checksum.

Table-driven (tables built once at import) and cached, so a million resources cost a dict lookup each.

* :func:`file_format` -- a filename, URL, extension, format name, media type or EU file-type IRI to
  ``(IANA media type, EU file-type code)``;
* :func:`parse_size` -- a byte count; :func:`parse_checksum` -- an MD5 / SHA-1 / SHA-256 digest.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from dfl_graph.format_kinds import EU_FILE_TYPE, IANA_MEDIA_PREFIXES
from loaders.text import match_key

# The EU file-type authority list (codes only; the labels ship in ontology/eu-vocabularies.ttl).
EU_FILE_TYPES = frozenset(
    [
        "7Z",
        "AAB",
        "AAC",
        "AKN4EU",
        "AKN4EU_ZIP",
        "APK",
        "APPX",
        "ARC",
        "ARCINFO_COV",
        "ARC_GZ",
        "ARJ",
        "ATOM",
        "AZW",
        "BIN",
        "BITS",
        "BMP",
        "BWF",
        "BZIP2",
        "CSS",
        "CSV",
        "DAPK",
        "DBF",
        "DCR",
        "DEB",
        "DGN",
        "DMG",
        "DMP",
        "DOC",
        "DOCX",
        "DTD_SGML",
        "DTD_XML",
        "DWG",
        "DXF",
        "E00",
        "EAR",
        "ECW",
        "EPS",
        "EPUB",
        "ETSI_XML",
        "EXE",
        "FMX2",
        "FMX3",
        "FMX4",
        "FMX4_ZIP",
        "GDB",
        "GEOJSON",
        "GEOTIFF",
        "GIF",
        "GML",
        "GMZ",
        "GPKG",
        "GRID",
        "GRID_ASCII",
        "GTFS",
        "GZIP",
        "HDF",
        "HDT",
        "HTML",
        "HTML5",
        "HTML_SIMPL",
        "ICS",
        "IMMC_XML",
        "INDD",
        "IPA",
        "ISO",
        "ISO_ZIP",
        "JAR",
        "JATS",
        "JPEG",
        "JPEG2000",
        "JS",
        "JSON",
        "JSON_LD",
        "KML",
        "KMZ",
        "LAS",
        "LAZ",
        "LEG",
        "LHA",
        "LPK",
        "LZIP",
        "LZMA",
        "LZO",
        "MAP_PRVW",
        "MAP_SRVC",
        "MBOX",
        "MDB",
        "METS",
        "METS_ZIP",
        "MHTML",
        "MIF_MID",
        "MOBI",
        "MOP",
        "MP3",
        "MPEG2",
        "MPEG4",
        "MPEG4_AVC",
        "MRSID",
        "MSG_HTTP",
        "MSI",
        "MXD",
        "N3",
        "NETCDF",
        "OAPK",
        "OCTET",
        "ODB",
        "ODC",
        "ODF",
        "ODG",
        "ODP",
        "ODS",
        "ODT",
        "OVF",
        "OWL",
        "PDF",
        "PDF1X",
        "PDFA1A",
        "PDFA1B",
        "PDFA2A",
        "PDFA2B",
        "PDFA3",
        "PDFUA",
        "PDFX",
        "PDFX1A",
        "PDFX2A",
        "PDFX4",
        "PL",
        "PNG",
        "PPS",
        "PPSX",
        "PPT",
        "PPTX",
        "PS",
        "PSD",
        "PWP",
        "QGS",
        "RAR",
        "RDF",
        "RDFA",
        "RDF_N_QUADS",
        "RDF_N_TRIPLES",
        "RDF_THRIFT",
        "RDF_TRIG",
        "RDF_TRIX",
        "RDF_TURTLE",
        "RDF_XML",
        "REST",
        "RPM",
        "RSS",
        "RTF",
        "SB3",
        "SCHEMA_XML",
        "SDMX",
        "SGML",
        "SHP",
        "SKOS_XML",
        "SPARQLQ",
        "SPARQLQRES",
        "SQL",
        "STL",
        "SVG",
        "SWM",
        "TAB",
        "TAB_RSTR",
        "TAR",
        "TAR_GZ",
        "TAR_XZ",
        "TIFF",
        "TIFF_FX",
        "TMX",
        "TSV",
        "TXT",
        "UNGEN",
        "WAR",
        "WARC",
        "WARC_GZ",
        "WAV",
        "WCS_SRVC",
        "WFS_SRVC",
        "WIM",
        "WMS_SRVC",
        "WORLD",
        "XHTML",
        "XHTML5",
        "XHTML_SIMPL",
        "XLIFF",
        "XLS",
        "XLSB",
        "XLSM",
        "XLSX",
        "XML",
        "XSLFO",
        "XSLT",
        "XYZ",
        "XZ",
        "YAML",
        "Z",
        "ZIP",
    ]
)

# extension -> (IANA media type or None where IANA registers none, EU file-type code)
_EXTENSIONS: dict[str, tuple[str | None, str]] = {
    "csv": ("text/csv", "CSV"),
    "tsv": ("text/tab-separated-values", "TSV"),
    "tab": ("text/tab-separated-values", "TSV"),
    "xls": ("application/vnd.ms-excel", "XLS"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
    "xlsm": ("application/vnd.ms-excel.sheet.macroEnabled.12", "XLSM"),
    "xlsb": ("application/vnd.ms-excel.sheet.binary.macroEnabled.12", "XLSB"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "ODS"),
    "odt": ("application/vnd.oasis.opendocument.text", "ODT"),
    "odp": ("application/vnd.oasis.opendocument.presentation", "ODP"),
    "json": ("application/json", "JSON"),
    "geojson": ("application/geo+json", "GEOJSON"),
    "jsonld": ("application/ld+json", "JSON_LD"),
    "json-ld": ("application/ld+json", "JSON_LD"),
    "zip": ("application/zip", "ZIP"),
    "gz": ("application/gzip", "GZIP"),
    "gzip": ("application/gzip", "GZIP"),
    "tar": (None, "TAR"),
    "tar.gz": ("application/gzip", "TAR_GZ"),
    "tgz": ("application/gzip", "TAR_GZ"),
    "7z": (None, "7Z"),
    "rar": ("application/vnd.rar", "RAR"),
    "pdf": ("application/pdf", "PDF"),
    "kml": ("application/vnd.google-earth.kml+xml", "KML"),
    "kmz": ("application/vnd.google-earth.kmz", "KMZ"),
    "shp": ("application/vnd.shp", "SHP"),
    "dbf": ("application/vnd.dbf", "DBF"),
    "gml": ("application/gml+xml", "GML"),
    "gpkg": ("application/geopackage+sqlite3", "GPKG"),
    "gtfs": (None, "GTFS"),
    "tif": ("image/tiff", "TIFF"),
    "tiff": ("image/tiff", "TIFF"),
    "geotiff": ("image/tiff", "GEOTIFF"),
    "xml": ("application/xml", "XML"),
    "xsd": ("application/xml", "SCHEMA_XML"),
    "html": ("text/html", "HTML"),
    "htm": ("text/html", "HTML"),
    "xhtml": ("application/xhtml+xml", "XHTML"),
    "rdf": ("application/rdf+xml", "RDF_XML"),
    "owl": ("application/rdf+xml", "OWL"),
    "ttl": ("text/turtle", "RDF_TURTLE"),
    "nt": ("application/n-triples", "RDF_N_TRIPLES"),
    "nq": ("application/n-quads", "RDF_N_QUADS"),
    "trig": ("application/trig", "RDF_TRIG"),
    "n3": ("text/n3", "N3"),
    "txt": ("text/plain", "TXT"),
    "text": ("text/plain", "TXT"),
    "doc": ("application/msword", "DOC"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"),
    "ppt": ("application/vnd.ms-powerpoint", "PPT"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "PPTX"),
    "rtf": ("application/rtf", "RTF"),
    "png": ("image/png", "PNG"),
    "jpg": ("image/jpeg", "JPEG"),
    "jpeg": ("image/jpeg", "JPEG"),
    "gif": ("image/gif", "GIF"),
    "svg": ("image/svg+xml", "SVG"),
    "bmp": ("image/bmp", "BMP"),
    "sql": ("application/sql", "SQL"),
    "mdb": (None, "MDB"),
    "yaml": ("application/yaml", "YAML"),
    "yml": ("application/yaml", "YAML"),
    "atom": ("application/atom+xml", "ATOM"),
    "rss": (None, "RSS"),
    "ics": ("text/calendar", "ICS"),
    "nc": (None, "NETCDF"),
    "netcdf": (None, "NETCDF"),
    "dwg": (None, "DWG"),
    "dxf": (None, "DXF"),
    "js": ("text/javascript", "JS"),
    "css": ("text/css", "CSS"),
    "epub": ("application/epub+zip", "EPUB"),
    "mp3": ("audio/mpeg", "MP3"),
    "mp4": ("video/mp4", "MPEG4"),
    "wav": (None, "WAV"),
}

# Format names portals use that are not extensions (lower-cased, punctuation as spaces).
_FORMAT_NAMES: dict[str, tuple[str | None, str]] = {
    "excel": _EXTENSIONS["xls"],
    "ms excel": _EXTENSIONS["xls"],
    "microsoft excel": _EXTENSIONS["xls"],
    "spreadsheet": _EXTENSIONS["xls"],
    "word": _EXTENSIONS["doc"],
    "ms word": _EXTENSIONS["doc"],
    "shapefile": _EXTENSIONS["shp"],
    "esri shapefile": _EXTENSIONS["shp"],
    "shape": _EXTENSIONS["shp"],
    "geo json": _EXTENSIONS["geojson"],
    "json ld": _EXTENSIONS["jsonld"],
    "rdf xml": _EXTENSIONS["rdf"],
    "rdf turtle": _EXTENSIONS["ttl"],
    "turtle": _EXTENSIONS["ttl"],
    "n triples": _EXTENSIONS["nt"],
    "n quads": _EXTENSIONS["nq"],
    "plain text": _EXTENSIONS["txt"],
    "web page": _EXTENSIONS["html"],
    "webpage": _EXTENSIONS["html"],
    "geopackage": _EXTENSIONS["gpkg"],
    "geotiff": _EXTENSIONS["geotiff"],
    "wms": (None, "WMS_SRVC"),
    "wfs": (None, "WFS_SRVC"),
    "wcs": (None, "WCS_SRVC"),
}

# IANA media type -> EU code (first extension that names it wins, so text/csv -> CSV).
_MEDIA_TYPES: dict[str, str] = {}
_CANONICAL_MEDIA: dict[str, str] = {}  # lower-cased -> as IANA registers it (media types are case-insensitive)
for _media, _code in (*_EXTENSIONS.values(), *_FORMAT_NAMES.values()):
    if _media is not None:
        _MEDIA_TYPES.setdefault(_media.lower(), _code)
        _CANONICAL_MEDIA[_media.lower()] = _media
_MEDIA_TYPES.update(
    {
        "application/vnd.geo+json": "GEOJSON",
        "application/x-zip-compressed": "ZIP",
        "application/x-gzip": "GZIP",
        "application/x-shapefile": "SHP",
        "application/x-esri-shape": "SHP",
        "application/excel": "XLS",
        "application/x-excel": "XLS",
        "application/x-msexcel": "XLS",
        "text/xml": "XML",
        "application/x-netcdf": "NETCDF",
        "application/netcdf": "NETCDF",
        "application/octet-stream": "OCTET",
        "application/sparql-query": "SPARQLQ",
        "application/sparql-results+json": "SPARQLQRES",
        "application/sparql-results+xml": "SPARQLQRES",
    }
)
# Media types the EU code maps back to (so a bare EU code also yields a media type).
_EU_TO_MEDIA: dict[str, str] = {}
for _media, _code in _EXTENSIONS.values():
    if _media is not None:
        _EU_TO_MEDIA.setdefault(_code, _media)

_BRACKETED_EXTENSION = re.compile(r"\(\.?([a-z0-9.]{2,8})\)\s*$")
_MEDIA_TYPE_SYNTAX = re.compile(r"^[a-z]+/[a-z0-9][a-z0-9!#$&^_.+-]*$")

Format = tuple[str | None, str | None]


@lru_cache(maxsize=4096)
def format_from_name(value: str | None) -> Format | None:
    """A format name, extension, media type, EU code or EU/IANA IRI -> (media type, EU code); None if unknown.

    >>> format_from_name("XLS")
    ('application/vnd.ms-excel', 'XLS')
    >>> format_from_name("text/csv; charset=utf-8")
    ('text/csv', 'CSV')
    """
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    if text.startswith(EU_FILE_TYPE):
        code = text[len(EU_FILE_TYPE) :].strip("/")
        return (_EU_TO_MEDIA.get(code), code) if code in EU_FILE_TYPES else None
    for prefix in IANA_MEDIA_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :].split("#", 1)[0]
            break
    lower = text.lower()
    media = lower.split(";", 1)[0].strip()
    if "/" in media and " " not in media:
        if _MEDIA_TYPE_SYNTAX.match(media):
            registered = not media.startswith(("application/x-", "text/x-"))
            return (_CANONICAL_MEDIA.get(media, media) if registered else None, _MEDIA_TYPES.get(media))
        return None
    lower = lower.lstrip(".")
    if lower in _EXTENSIONS:
        return _EXTENSIONS[lower]
    upper = text.upper().replace("-", "_").replace(" ", "_")
    if upper in EU_FILE_TYPES:
        return (_EU_TO_MEDIA.get(upper), upper)
    words = match_key(text)
    if words in _FORMAT_NAMES:
        return _FORMAT_NAMES[words]
    if words in _EXTENSIONS:
        return _EXTENSIONS[words]
    bracketed = _BRACKETED_EXTENSION.search(lower)  # "Spreadsheet (csv)", "Google Earth (kml)"
    if bracketed and bracketed.group(1) in _EXTENSIONS:
        return _EXTENSIONS[bracketed.group(1)]
    return None


@lru_cache(maxsize=8192)
def format_from_path(name_or_url: str | None) -> Format | None:
    """The format a filename or URL's extension names; None if there is no known extension."""
    if not name_or_url:
        return None
    path = urlsplit(name_or_url).path if "://" in name_or_url else name_or_url.split("?", 1)[0].split("#", 1)[0]
    last = path.rstrip("/").rsplit("/", 1)[-1].lower()
    if "." not in last:
        return None
    if last.endswith(".tar.gz"):
        return _EXTENSIONS["tar.gz"]
    return _EXTENSIONS.get(last.rsplit(".", 1)[1])


def file_format(*candidates: str | None, paths: tuple[str | None, ...] = ()) -> Format:
    """The first format one of the named ``candidates`` gives, else the first from a filename/URL in ``paths``.

    Declared formats win over extensions: ``file_format("XLS", paths=(url,))``.
    """
    for candidate in candidates:
        found = format_from_name(candidate)
        if found is not None:
            return found
    for path in paths:
        found = format_from_path(path)
        if found is not None:
            return found
    return (None, None)


_HASH_ALGORITHMS = {32: "md5", 40: "sha1", 64: "sha256"}
_HASH_NAMES = {"md5": "md5", "sha1": "sha1", "sha-1": "sha1", "sha256": "sha256", "sha-256": "sha256"}
_HEX = frozenset("0123456789abcdefABCDEF")


def parse_checksum(value: object) -> tuple[str, str] | None:
    """(spdx algorithm local name, lower-case hex) from a bare hex digest (by length: MD5, SHA-1,
    SHA-256) or an "algorithm:hex" form; None when the value is neither."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    algorithm = None
    if ":" in text:
        name, text = text.split(":", 1)
        algorithm = _HASH_NAMES.get(name.strip().lower())
        if algorithm is None:
            return None
        text = text.strip()
    by_length = _HASH_ALGORITHMS.get(len(text))
    if by_length is None or (algorithm and algorithm != by_length) or not _HEX.issuperset(text):
        return None
    return by_length, text.lower()


def parse_size(value: object) -> int | None:
    """A byte count (int >= 0, or a string of digits); None when absent; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"not a byte count (an integer >= 0): {value!r}")
