"""Shared value normalisers for loaders: file formats, licences, frequencies, access rights, text, IRIs.

Every function here is pure and table-driven (tables built once at import), so loaders reading a
million records pay a dict lookup per value, never a regex compilation.

* :func:`file_format` -- a filename, URL, extension, format name, media type or EU file-type IRI to
  ``(IANA media type, EU file-type code)``.
* :func:`licence_iri` -- a licence id, title or URL as portals spell it to a licence IRI (the EU
  licence authority list where it has the licence; other http(s) IRIs are kept as given).
* :func:`frequency_code` -- "Monthly", "Ad hoc", an EU frequency IRI or a Dublin Core ``freq:`` IRI to
  an EU frequency code.
* :func:`access_level` -- an EU access-right IRI or a sharing label to :class:`AccessLevel`.
* :func:`html_to_text` -- HTML (or Markdown-ish plain text) to clean plain text with paragraph breaks.
* :func:`clean_iri`, :func:`clean_email` -- make a source value safe to write as an IRI, or refuse it.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

from pyoxigraph import NamedNode

from dfl_graph.records import _DATE_FORMS, AccessLevel, When

EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LICENCE = "http://publications.europa.eu/resource/authority/licence/"
EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
EU_ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right/"
EU_DATA_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
IANA_MEDIA_PREFIXES = (
    "http://www.iana.org/assignments/media-types/",
    "https://www.iana.org/assignments/media-types/",
    "https://www.w3.org/ns/iana/media-types/",
    "http://www.w3.org/ns/iana/media-types/",
)

# ------------------------------------------------------------------------------------------------
# File formats
# ------------------------------------------------------------------------------------------------


def _names(text: str) -> frozenset[str]:
    """A set from a whitespace-separated list (keeps long code lists readable)."""
    return frozenset(text.split())


# The EU file-type authority list (codes only; the labels ship in ontology/eu-vocabularies.ttl).
EU_FILE_TYPES = _names(
    """7Z AAB AAC AKN4EU AKN4EU_ZIP APK APPX ARC ARCINFO_COV ARC_GZ ARJ ATOM AZW BIN BITS BMP BWF BZIP2 CSS CSV
    DAPK DBF DCR DEB DGN DMG DMP DOC DOCX DTD_SGML DTD_XML DWG DXF E00 EAR ECW EPS EPUB ETSI_XML EXE FMX2 FMX3
    FMX4 FMX4_ZIP GDB GEOJSON GEOTIFF GIF GML GMZ GPKG GRID GRID_ASCII GTFS GZIP HDF HDT HTML HTML5 HTML_SIMPL
    ICS IMMC_XML INDD IPA ISO ISO_ZIP JAR JATS JPEG JPEG2000 JS JSON JSON_LD KML KMZ LAS LAZ LEG LHA LPK LZIP LZMA
    LZO MAP_PRVW MAP_SRVC MBOX MDB METS METS_ZIP MHTML MIF_MID MOBI MOP MP3 MPEG2 MPEG4 MPEG4_AVC MRSID MSG_HTTP
    MSI MXD N3 NETCDF OAPK OCTET ODB ODC ODF ODG ODP ODS ODT OVF OWL PDF PDF1X PDFA1A PDFA1B PDFA2A PDFA2B PDFA3
    PDFUA PDFX PDFX1A PDFX2A PDFX4 PL PNG PPS PPSX PPT PPTX PS PSD PWP QGS RAR RDF RDFA RDF_N_QUADS RDF_N_TRIPLES
    RDF_THRIFT RDF_TRIG RDF_TRIX RDF_TURTLE RDF_XML REST RPM RSS RTF SB3 SCHEMA_XML SDMX SGML SHP SKOS_XML SPARQLQ
    SPARQLQRES SQL STL SVG SWM TAB TAB_RSTR TAR TAR_GZ TAR_XZ TIFF TIFF_FX TMX TSV TXT UNGEN WAR WARC WARC_GZ WAV
    WCS_SRVC WFS_SRVC WIM WMS_SRVC WORLD XHTML XHTML5 XHTML_SIMPL XLIFF XLS XLSB XLSM XLSX XML XSLFO XSLT XYZ XZ
    YAML Z ZIP"""
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
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

Format = tuple[str | None, str | None]


def _words(text: str) -> str:
    return _NON_ALNUM.sub(" ", text.lower()).strip()


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
    words = _words(text)
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


# ------------------------------------------------------------------------------------------------
# Licences
# ------------------------------------------------------------------------------------------------

OGL_3 = EU_LICENCE + "OGL_3_0"
CC_BY_4 = EU_LICENCE + "CC_BY_4_0"

# Normalised licence names/ids (see _licence_key) -> EU licence code. An unversioned name means the
# version current when DCAT-AP 3 was published (OGL v3, CC 4.0, ODC 1.0): documented in docs/loaders.md.
_LICENCE_KEYS: dict[str, str] = {}


def _add_licences(code: str, *keys: str) -> None:
    for key in keys:
        _LICENCE_KEYS[key] = code


_add_licences(
    "OGL_3_0",
    "ogl",
    "uk ogl",
    "ogl uk",
    "ogl v3",
    "ogl v3 0",
    "ogl 3",
    "ogl 3 0",
    "ogl uk 3 0",
    "ogl3",
    "uk ogl v3",
    "open government licence",
    "open government license",
    "open government licence v3",
    "open government licence v3 0",
    "open government licence version 3",
    "open government licence version 3 0",
    "open government licence 3 0",
    "uk open government licence",
    "uk open government licence ogl",
    "uk open government licence ogl v3",
    "ogl uk 3",
    "oglv3",
    "ogl v 3",
)
_add_licences(
    "OGL_2_0",
    "oglv2",
    "uk open government licence ogl v2",
    "ogl v2",
    "ogl 2",
    "ogl 2 0",
    "ogl uk 2 0",
    "open government licence v2",
    "open government licence v2 0",
)
_add_licences(
    "OGL_1_0",
    "oglv1",
    "uk open government licence ogl v1",
    "ogl v1",
    "ogl 1",
    "ogl 1 0",
    "ogl uk 1 0",
    "open government licence v1",
    "open government licence v1 0",
)
_add_licences("OGL_NC", "ogl nc", "ncgl", "non commercial government licence")
_add_licences(
    "CC_BY_4_0",
    "cc by",
    "cc by 4 0",
    "cc by 4",
    "cc by v4",
    "ccby",
    "creative commons attribution",
    "creative commons attribution 4 0",
    "creative commons attribution 4 0 international",
    "creative commons attribution cc by",
    "cc attribution",
)
_add_licences("CC_BY_3_0", "cc by 3 0", "cc by 3", "creative commons attribution 3 0")
_add_licences("CC_BY_2_5", "cc by 2 5")
_add_licences("CC_BY_2_0", "cc by 2 0")
_add_licences(
    "CC_BYSA_4_0",
    "cc by sa",
    "cc by sa 4 0",
    "creative commons attribution share alike",
    "creative commons attribution sharealike",
    "creative commons attribution sharealike 4 0",
    "creative commons attribution share alike 4 0",
)
_add_licences("CC_BYSA_3_0", "cc by sa 3 0")
_add_licences("CC_BYNC_4_0", "cc by nc", "cc by nc 4 0", "cc nc", "creative commons non commercial")
_add_licences("CC_BYND_4_0", "cc by nd", "cc by nd 4 0")
_add_licences("CC_BYNCSA_4_0", "cc by nc sa", "cc by nc sa 4 0")
_add_licences("CC_BYNCND_4_0", "cc by nc nd", "cc by nc nd 4 0")
_add_licences(
    "CC0",
    "cc0",
    "cc0 1 0",
    "cc zero",
    "cc 0",
    "creative commons cc0",
    "creative commons cc zero",
    "creative commons cczero",
    "cc0 1 0 universal",
    "creative commons cc0 1 0 universal",
    "public domain dedication",
)
_add_licences("CC_PDM_1_0", "public domain mark", "cc pdm", "pdm")
_add_licences(
    "ODC_BL",
    "odbl",
    "odbl 1 0",
    "odc odbl",
    "odc odbl 1 0",
    "open database license",
    "open data commons open database license",
    "open data commons open database license odbl",
    "open data commons open database license v1 0",
)
_add_licences("ODC_BY", "odc by", "odc by 1 0", "open data commons attribution license")
_add_licences("ODC_PDDL", "odc pddl", "pddl", "open data commons public domain dedication and license")
_add_licences("MIT", "mit", "mit license")
_add_licences("APACHE_2_0", "apache 2 0", "apache license 2 0")

# Canonical licence URLs (host+path, lower-case, no trailing slash / "legalcode" / "deed.*") -> EU code.
_LICENCE_URLS: dict[str, str] = {
    "www.nationalarchives.gov.uk/doc/open-government-licence/version/3": "OGL_3_0",
    "www.nationalarchives.gov.uk/doc/open-government-licence/version/2": "OGL_2_0",
    "www.nationalarchives.gov.uk/doc/open-government-licence/version/1": "OGL_1_0",
    "www.nationalarchives.gov.uk/doc/open-government-licence": "OGL_3_0",
    "www.nationalarchives.gov.uk/doc/open-government-licence/open-government-licence.htm": "OGL_3_0",
    "www.nationalarchives.gov.uk/doc/non-commercial-government-licence": "OGL_NC",
    "reference.data.gov.uk/id/open-government-licence": "OGL_3_0",
    "creativecommons.org/licenses/by/4.0": "CC_BY_4_0",
    "creativecommons.org/licenses/by/3.0": "CC_BY_3_0",
    "creativecommons.org/licenses/by/2.5": "CC_BY_2_5",
    "creativecommons.org/licenses/by/2.0": "CC_BY_2_0",
    "creativecommons.org/licenses/by-sa/4.0": "CC_BYSA_4_0",
    "creativecommons.org/licenses/by-sa/3.0": "CC_BYSA_3_0",
    "creativecommons.org/licenses/by-nc/4.0": "CC_BYNC_4_0",
    "creativecommons.org/licenses/by-nd/4.0": "CC_BYND_4_0",
    "creativecommons.org/licenses/by-nc-sa/4.0": "CC_BYNCSA_4_0",
    "creativecommons.org/licenses/by-nc-nd/4.0": "CC_BYNCND_4_0",
    "creativecommons.org/publicdomain/zero/1.0": "CC0",
    "creativecommons.org/publicdomain/mark/1.0": "CC_PDM_1_0",
    "opendatacommons.org/licenses/odbl": "ODC_BL",
    "opendatacommons.org/licenses/odbl/1.0": "ODC_BL",
    "opendatacommons.org/licenses/by": "ODC_BY",
    "opendatacommons.org/licenses/by/1.0": "ODC_BY",
    "opendatacommons.org/licenses/pddl": "ODC_PDDL",
    "opendatacommons.org/licenses/pddl/1.0": "ODC_PDDL",
    "www.opendefinition.org/licenses/cc-by": "CC_BY_4_0",
    "www.opendefinition.org/licenses/cc-by-sa": "CC_BYSA_4_0",
    "www.opendefinition.org/licenses/cc-zero": "CC0",
    "www.opendefinition.org/licenses/odc-odbl": "ODC_BL",
    "www.opendefinition.org/licenses/odc-by": "ODC_BY",
    "www.opendefinition.org/licenses/odc-pddl": "ODC_PDDL",
    "opendefinition.org/licenses/cc-by": "CC_BY_4_0",
    "opendefinition.org/licenses/cc-zero": "CC0",
    "opendefinition.org/licenses/odc-odbl": "ODC_BL",
}

#: Every EU licence-authority code :func:`licence_iri` can map a name, id or URL to (an EU licence IRI
#: given as such is passed through unchanged). ``ontology/tools/build_vocabularies.py`` describes each
#: of these in ``eu-vocabularies.ttl``, so every licence IRI the loaders mint has a label there.
LICENCE_CODES: frozenset[str] = frozenset(_LICENCE_KEYS.values()) | frozenset(_LICENCE_URLS.values())

# Licence ids that name no specific licence: "not specified", and CKAN's generic "other-*" ids
# ("Other (Open)", "Other (Attribution)" ...), which no licence IRI can stand for.
_NO_LICENCE = frozenset(
    {
        "notspecified",
        "not specified",
        "none",
        "null",
        "unknown",
        "n a",
        "na",
        "",
        "other",
        "other open",
        "other pd",
        "other public domain",
        "other at",
        "other attribution",
        "other nc",
        "other non commercial",
        "other closed",
        "other not open",
    }
)


def _licence_key(text: str) -> str:
    return _NON_ALNUM.sub(" ", text.lower().replace("licensed", "licence")).strip()


def _licence_url_key(url: str) -> str:
    parts = urlsplit(url.strip())
    host = parts.netloc.lower()
    if host in ("nationalarchives.gov.uk", "creativecommons.org", "opendatacommons.org"):
        host = {"nationalarchives.gov.uk": "www.nationalarchives.gov.uk"}.get(host, host)
    if host == "www.creativecommons.org":
        host = "creativecommons.org"
    path = parts.path.rstrip("/")
    for suffix in ("/legalcode", "/deed.en", "/deed.en_gb", "/summary"):
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
    # creative commons jurisdiction ports: /licenses/by/2.5/dk/ stays specific (kept verbatim)
    return f"{host}{path.rstrip('/')}".lower()


@lru_cache(maxsize=4096)
def licence_iri(value: str | None) -> str | None:
    """A licence id, title or URL -> licence IRI; None if the value names no licence we can identify.

    Known licences map to the EU licence authority list (``.../licence/OGL_3_0``); any other http(s)
    URL is kept as the licence IRI (when it is a valid IRI). Unknown names give None: the caller reports.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.startswith(EU_LICENCE):
        return text
    if text.startswith(("http://", "https://")):
        code = _LICENCE_URLS.get(_licence_url_key(text))
        if code:
            return EU_LICENCE + code
        return clean_iri(text)
    key = _licence_key(text)
    if key in _LICENCE_KEYS:
        return EU_LICENCE + _LICENCE_KEYS[key]
    if key.replace(" ", "_").upper() in LICENCE_CODES:
        return EU_LICENCE + key.replace(" ", "_").upper()
    return None


def is_no_licence(value: str | None) -> bool:
    """True for ids such as CKAN's "notspecified" that say the source names no licence."""
    return value is None or _licence_key(value) in _NO_LICENCE


# ------------------------------------------------------------------------------------------------
# Frequencies
# ------------------------------------------------------------------------------------------------

EU_FREQUENCIES = _names(
    """10MIN 12HRS 15MIN 1MIN 30MIN 5MIN ANNUAL ANNUAL_2 ANNUAL_3 AS_NEEDED BIDECENNIAL BIENNIAL BIHOURLY
    BIMONTHLY BIWEEKLY CONT DAILY DAILY_2 DECENNIAL HOURLY IRREG MONTHLY MONTHLY_2 MONTHLY_3 NEVER NOT_PLANNED
    OTHER QUADRENNIAL QUARTERLY QUINQUENNIAL TRIDECENNIAL TRIENNIAL TRIHOURLY UNKNOWN UPDATE_CONT WEEKLY
    WEEKLY_2 WEEKLY_3"""
)

_FREQUENCY_WORDS: dict[str, str] = {}


def _add_frequencies(code: str, *labels: str) -> None:
    for label in labels:
        _FREQUENCY_WORDS[label] = code


_add_frequencies("DAILY", "daily", "every day", "day", "each day")
_add_frequencies("DAILY_2", "twice a day", "twice daily")
_add_frequencies("WEEKLY", "weekly", "every week", "week", "each week")
_add_frequencies("WEEKLY_2", "semiweekly", "semi weekly", "twice a week", "twice weekly")
_add_frequencies("WEEKLY_3", "three times a week", "threetimesaweek")
_add_frequencies("BIWEEKLY", "biweekly", "bi weekly", "fortnightly", "every two weeks", "every 2 weeks")
_add_frequencies("MONTHLY", "monthly", "every month", "month", "each month")
_add_frequencies("MONTHLY_2", "semimonthly", "semi monthly", "twice a month", "twice monthly")
_add_frequencies("MONTHLY_3", "three times a month", "threetimesamonth")
_add_frequencies("BIMONTHLY", "bimonthly", "bi monthly", "every two months", "every 2 months")
_add_frequencies("QUARTERLY", "quarterly", "every quarter", "every three months", "every 3 months", "quarter")
_add_frequencies(
    "ANNUAL_2",
    "semiannual",
    "semi annual",
    "semiannually",
    "semi annually",
    "biannual",
    "biannually",
    "bi annually",
    "half yearly",
    "six monthly",
    "6 monthly",
    "twice a year",
    "every six months",
    "every 6 months",
)
_add_frequencies("ANNUAL_3", "three times a year", "threetimesayear")
_add_frequencies("ANNUAL", "annual", "annually", "yearly", "every year", "year", "each year", "once a year")
_add_frequencies("BIENNIAL", "biennial", "biennially", "every two years", "every 2 years")
_add_frequencies("TRIENNIAL", "triennial", "every three years", "every 3 years")
_add_frequencies("QUADRENNIAL", "quadrennial", "every four years", "every 4 years")
_add_frequencies("QUINQUENNIAL", "quinquennial", "every five years", "every 5 years")
_add_frequencies("DECENNIAL", "decennial", "every ten years", "every 10 years")
_add_frequencies("HOURLY", "hourly", "every hour")
_add_frequencies("CONT", "continuous", "continual", "continuously")
_add_frequencies("UPDATE_CONT", "real time", "realtime", "live", "continuously updated", "updated continuously")
_add_frequencies("IRREG", "irregular", "irregularly", "ad hoc", "adhoc", "as required", "when required", "occasional")
_add_frequencies("AS_NEEDED", "as needed")
_add_frequencies("NEVER", "never", "one off", "once", "no updates", "not updated", "no longer updated", "static")
_add_frequencies("NOT_PLANNED", "not planned", "no planned updates")
_add_frequencies("UNKNOWN", "unknown")
_add_frequencies("OTHER", "other")

_CLD_FREQ = "http://purl.org/cld/freq/"  # Dublin Core Collection Description frequencies (DCAT 2 examples)
_SDMX_FREQ = "http://purl.org/linked-data/sdmx/2009/code#freq-"  # SDMX code list (W3C DCAT examples)
_SDMX_CODES = {"A": "ANNUAL", "S": "ANNUAL_2", "Q": "QUARTERLY", "M": "MONTHLY", "W": "WEEKLY", "D": "DAILY"}


@lru_cache(maxsize=1024)
def frequency_code(value: str | None) -> str | None:
    """A frequency label or IRI -> EU frequency code ("Monthly" -> "MONTHLY"); None if unknown."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.startswith(EU_FREQUENCY):
        code = text[len(EU_FREQUENCY) :].strip("/")
        return code if code in EU_FREQUENCIES else None
    if text.startswith(_SDMX_FREQ):
        return _SDMX_CODES.get(text[len(_SDMX_FREQ) :])
    if text.startswith(_CLD_FREQ):
        text = text[len(_CLD_FREQ) :].lower()
    if text in EU_FREQUENCIES:
        return text
    return _FREQUENCY_WORDS.get(_words(text))


# ------------------------------------------------------------------------------------------------
# Access rights
# ------------------------------------------------------------------------------------------------

_ACCESS_WORDS: dict[str, AccessLevel] = {
    "public": AccessLevel.PUBLIC,
    "open": AccessLevel.PUBLIC,
    "normal": AccessLevel.PUBLIC,
    "restricted": AccessLevel.RESTRICTED,
    "non public": AccessLevel.NON_PUBLIC,
    "nonpublic": AccessLevel.NON_PUBLIC,
    "not public": AccessLevel.NON_PUBLIC,
    "private": AccessLevel.NON_PUBLIC,
    "confidential": AccessLevel.NON_PUBLIC,
    "sensitive": AccessLevel.NON_PUBLIC,
}


def access_level(value: str | None) -> AccessLevel | None:
    """An EU access-right IRI or a label -> AccessLevel; None when unrecognised (callers fail closed)."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith(EU_ACCESS_RIGHT):
        text = text[len(EU_ACCESS_RIGHT) :]
    return _ACCESS_WORDS.get(_words(text))


# ------------------------------------------------------------------------------------------------
# Text
# ------------------------------------------------------------------------------------------------

_BLOCK_TAGS = _names(
    "p div br ul ol dl dt dd h1 h2 h3 h4 h5 h6 tr table thead tbody tfoot blockquote pre section article"
    " header footer aside nav hr address figure figcaption details summary main form fieldset"
)
LIST_ITEM = "\n- "  # what an <li> starts: descriptions keep their lists as Markdown-style "- " lines
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"})
_BLANK_LINES = re.compile(r"\n{3,}")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_MARKDOWN_LINE_MARKS = re.compile(r"(?m)^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?)")  # headings, quotes
_HTML_HINT = re.compile(r"<[a-zA-Z!/?]")
# a start or end tag whose attributes hold no "<" or ">" outside quotes (the loop unrolled: fast in `re`)
_PLAIN_TAG = re.compile(r"""<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*)?/?>""")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":  # list items stay a list: one "- item" line each
            self.parts.append(LIST_ITEM)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS and tag != "br":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def _tidy(text: str) -> str:
    """Collapse runs of spaces, keep single line breaks and one blank line between paragraphs."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\u200b" in text:
        text = text.replace("\u200b", "")
    if "\n" not in text:
        return " ".join(text.split())
    text = "\n".join([" ".join(line.split()) for line in text.split("\n")])
    return _BLANK_LINES.sub("\n\n", text).strip("\n")  # a blank line (or several): one paragraph break


_TAG_TEXT = {**dict.fromkeys(_BLOCK_TAGS, "\n\n"), "br": "\n", **dict.fromkeys(_SKIP_TAGS, "\x00")}


def _tag_text(match: re.Match) -> str:
    name = match.group(2).lower()
    if name == "li":
        return "" if match.group(1) else LIST_ITEM
    text = _TAG_TEXT.get(name)
    if text is not None:
        return text
    return " " if name in ("td", "th") and not match.group(1) else ""


def _simple_html(text: str) -> str | None:
    """Text of markup made only of plain tags (no comments, scripts, styles or stray "<"), by one
    regex pass; None when the markup needs the real parser. Gives what :class:`_TextExtractor` gives
    (tests/test_loaders.py compares the two)."""
    if "<!" in text or "<?" in text or "\x00" in text:
        return None
    text = _PLAIN_TAG.sub(_tag_text, text)
    if "\x00" in text or _HTML_HINT.search(text):  # a script/style, or something tag-like but not plain
        return None
    return unescape(text) if "&" in text else text


def html_to_text(value: str | None, markdown: bool = False) -> str | None:
    """HTML to plain text: tags, scripts and styles dropped, entities unescaped, paragraphs kept.

    Markup is read with the stdlib :class:`html.parser.HTMLParser`; markup made only of plain tags
    takes a regex fast path with the same result (exports carry hundreds of thousands of descriptions).
    ``markdown=True`` also reduces Markdown links to "text (url)" and drops heading/emphasis marks
    (CKAN notes). Empty results give None.
    """
    if value is None:
        return None
    text = str(value)
    if not text or text.isspace():
        return None
    if markdown:
        if "](" in text:
            text = _MARKDOWN_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(1) else m.group(2), text)
        if "#" in text or ">" in text:
            text = _MARKDOWN_LINE_MARKS.sub("", text)
        if "**" in text:
            text = text.replace("**", "")  # bold marks
    if _HTML_HINT.search(text):
        simple = _simple_html(text)
        if simple is None:
            parser = _TextExtractor()
            parser.feed(text)
            parser.close()
            simple = "".join(parser.parts)
        text = simple
    elif "&" in text:
        text = unescape(text)
    elif text.isprintable() and "  " not in text:
        return text.strip() or None  # one line, nothing to tidy
    return _tidy(text) or None


def clean_text(value: object) -> str | None:
    """A trimmed one-line string (runs of whitespace as one space), or None for empty/absent values
    and non-strings."""
    if isinstance(value, str):
        if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
            return value or None  # the common case: nothing to collapse
    elif value is None or isinstance(value, (dict, list, bool)):
        return None
    text = " ".join(str(value).split())
    return text or None


# ------------------------------------------------------------------------------------------------
# IRIs
# ------------------------------------------------------------------------------------------------

_IRI_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


def clean_iri(value: str | None, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """An absolute IRI with one of ``schemes`` and a host that pyoxigraph accepts, percent-encoding
    stray characters such as spaces; None when the value cannot be one."""
    if not value:
        return None
    text = value.strip()
    sep = text.find("://")
    if sep <= 0 or text[:sep].lower() not in schemes or len(text) <= sep + 3 or text[sep + 3] in "/?#":
        return None
    try:
        NamedNode(text)
        return text
    except ValueError:
        pass
    quoted = quote(text, safe=_IRI_SAFE)
    try:
        NamedNode(quoted)
        return quoted
    except ValueError:
        return None


_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def clean_email(value: str | None) -> str | None:
    """An e-mail address (a ``mailto:`` prefix stripped) that makes a valid ``mailto:`` IRI, else None."""
    if not value:
        return None
    text = value.strip()
    if text.lower().startswith("mailto:"):
        text = text[7:].strip()
    if not _EMAIL.match(text):
        return None
    try:
        NamedNode("mailto:" + text)
    except ValueError:
        return None
    return text


def parse_flag(value: object) -> bool | None:
    """A yes/no flag as sources spell it (True, "yes", "Y", "true", "1", "no" ...); None if neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("yes", "y", "true", "t", "1"):
            return True
        if word in ("no", "n", "false", "f", "0"):
            return False
    return None


# ------------------------------------------------------------------------------------------------
# Shared field helpers (custom/extra fields, sizes, checksums, boroughs)
# ------------------------------------------------------------------------------------------------

# custom-field / extras keys, normalised by field_key(): lower-case, runs of non-alphanumerics as "_"
FREQUENCY_KEYS = frozenset(
    {
        "update_frequency",
        "frequency",
        "update_freq",
        "accrual_periodicity",
        "accrualperiodicity",
        "refresh_frequency",
        "update_cycle",
        "frequency_of_update",
    }
)
BOROUGH_KEYS = frozenset({"borough", "boroughs", "london_borough", "london_boroughs", "local_authority", "spatial"})
PERSONAL_KEYS = frozenset({"personal_data", "contains_personal_data", "has_personal_data", "personal"})
ARCHIVED_KEYS = frozenset({"archived", "is_archived"})
STATUS_KEYS = frozenset({"status", "dataset_status", "lifecycle"})

_FIELD_KEYS: dict[str, str] = {}


def field_key(name: str) -> str:
    """A custom field's name normalised for matching: "Update frequency" -> "update_frequency"."""
    key = _FIELD_KEYS.get(name)
    if key is None:
        key = _FIELD_KEYS[name] = "_".join(_NON_ALNUM.sub(" ", name.lower()).split())
    return key


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


def split_names(value: object) -> list[str]:
    """Names from a string ("Camden, Islington" / "Camden; Islington") or a list of strings."""
    if isinstance(value, str):
        parts = value.replace(";", ",").split(",") if ("," in value or ";" in value) else [value]
    elif isinstance(value, list):
        parts = [v for v in value if isinstance(v, str)]
    else:
        return []
    return [p.strip() for p in parts if p.strip()]


def borough_code(text: str, boroughs: dict, by_name: dict[str, str]) -> str | None:
    """A GSS code from a borough name, a GSS code, or an ONS statistical-geography / catalogue borough IRI."""
    text = text.strip()
    if text in boroughs:
        return text
    if "/" in text:
        tail = text.rstrip("/").rsplit("/", 1)[-1]
        if tail in boroughs:
            return tail
    lower = text.lower()
    found = by_name.get(lower)
    if found is None and lower.startswith("london borough of "):
        found = by_name.get(lower[len("london borough of ") :])
    return found


# ------------------------------------------------------------------------------------------------
# Dates
# ------------------------------------------------------------------------------------------------

# The date-time form of When.parse, tried first: exports are mostly instants. Everything else goes
# through When.parse itself, so the accepted forms are exactly the record model's.
_DATETIME = next(pattern for pattern, datatype in _DATE_FORMS if datatype == "dateTime")


def parse_when(value: object) -> When | None:
    """:meth:`When.parse` for a source value (None for absent/empty; ValueError when unreadable)."""
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else str(value)
    if len(text) > 16 and _DATETIME.match(text):
        return When(text, "dateTime")
    return _parse_short_when(text)


@lru_cache(maxsize=4096)
def _parse_short_when(text: str) -> When | None:
    return When.parse(text)


# ------------------------------------------------------------------------------------------------
# Bulk loading
# ------------------------------------------------------------------------------------------------


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large export is parsed and mapped.

    JSON documents and records are acyclic (reference counting frees them), but creating millions of
    container objects triggers full collections that re-scan everything already built: on a 100k-dataset
    DataPress export that roughly doubles the loading time. The collector's previous state is restored
    on exit (for a generator: when it is exhausted or closed).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
