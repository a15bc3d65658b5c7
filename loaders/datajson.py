"""DCAT-US 1.1 ``data.json`` (Project Open Data): what Socrata, ArcGIS Hub and many US and UK portals publish.

A catalogue object ``{"@type": "dcat:Catalog", "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
"dataset": [..]}`` (or a bare array of datasets, as v1.0 catalogues are). Field mapping (see docs/loaders.md):

* ``identifier`` -> the record id (required); when it is an http(s) IRI it is also ``prov:wasDerivedFrom``,
  and the slug is its last path segment, else the identifier itself: stable across harvests;
* ``title``, ``description`` (HTML to text), ``keyword``, ``issued``, ``modified`` (ISO 8601, also with a space
  before the time as some exporters write it), ``landingPage``;
* ``publisher.name`` -> a known publisher by name, else one minted from the name; ``contactPoint`` (``fn``,
  ``hasEmail``) -> the contact point;
* ``accessLevel``: ``public`` / ``restricted public`` / ``non-public``; anything else is non-public (fail closed);
* ``license`` -> licence IRI (POD's ``unknown-license`` placeholder means none); ``rights`` is not mapped;
* ``accrualPeriodicity``: ISO 8601 repeating durations (``R/P1Y``, ``R/P3M``, ...) or ``irregular``;
* ``temporal``: an ISO 8601 interval ``start/end``; ``spatial``: a London borough name or GSS code -> the borough;
  a bounding box "W,S,E,N" or a GeoJSON geometry -> a ``dct:Location`` with ``dcat:bbox`` / ``locn:geometry``;
  any other place is not kept, and reported;
* ``theme`` -> London themes by label; ``distribution`` -> distributions (``downloadURL``, ``accessURL``,
  ``mediaType``, ``format``, ``title``, ``description``), ids from a hash of their URL so they are stable
  when the source reorders them; their other fields (``conformsTo``, ``describedBy`` ...) are reported.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from dfl_graph.records import AccessLevel, Contact, DatasetRecord, DistributionRecord, When
from dfl_graph.uris import slugify
from loaders.base import Loader, LoadError, read_json
from loaders.dates import parse_when
from loaders.file_formats import file_format
from loaders.frequencies import frequency_code
from loaders.geometries import bbox_wkt, geojson_literal, location_statements
from loaders.iris import clean_email, clean_iri
from loaders.language_codes import language_statements
from loaders.licences import is_no_licence, licence_iri
from loaders.places import borough_code
from loaders.text import clean_text, html_to_text, shown_value

ACCESS_LEVELS = {
    "public": AccessLevel.PUBLIC,
    "restricted public": AccessLevel.RESTRICTED,
    "restricted": AccessLevel.RESTRICTED,
    "non-public": AccessLevel.NON_PUBLIC,
    "non public": AccessLevel.NON_PUBLIC,
    "private": AccessLevel.NON_PUBLIC,
}
NO_LICENCE_URLS = frozenset(
    {
        "https://project-open-data.cio.gov/unknown-license",
        "http://project-open-data.cio.gov/unknown-license",
        "https://project-open-data.cio.gov/unknown-license/",
    }
)
# ISO 8601 repeating durations DCAT-US uses for accrualPeriodicity -> EU frequency codes
DURATIONS = {
    "R/P10Y": "DECENNIAL",
    "R/P4Y": "QUADRENNIAL",
    "R/P3Y": "TRIENNIAL",
    "R/P2Y": "BIENNIAL",
    "R/P1Y": "ANNUAL",
    "R/P6M": "ANNUAL_2",
    "R/P4M": "ANNUAL_3",
    "R/P3M": "QUARTERLY",
    "R/P2M": "BIMONTHLY",
    "R/P0.5M": "MONTHLY_2",
    "R/P1M": "MONTHLY",
    "R/P0.33M": "MONTHLY_3",
    "R/P2W": "BIWEEKLY",
    "R/P0.5W": "WEEKLY_2",
    "R/P3.5D": "WEEKLY_2",
    "R/P1W": "WEEKLY",
    "R/P0.33W": "WEEKLY_3",
    "R/P1D": "DAILY",
    "R/PT1H": "HOURLY",
    "R/PT1S": "CONT",
}
UNDEFINED_FORMATS = frozenset({"", "undefined", "unknown", "other", "n/a", "none"})
_SPACE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$")
_BOUNDING_BOX = re.compile(r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$")


def _datasets(path: Path, data: Any) -> list:
    if isinstance(data, list):
        return data  # DCAT-US 1.0: a bare array
    if isinstance(data, dict) and isinstance(data.get("dataset"), list):
        return data["dataset"]
    kind = "object without a `dataset` array" if isinstance(data, dict) else type(data).__name__
    raise LoadError(
        path, f"wrong shape: expected a DCAT-US data.json catalogue ({{'dataset': [..]}}), got {kind}", "1:1"
    )


# Dataset fields the mapper reads ("@type" only says it is a dcat:Dataset); any other DCAT-US field (rights,
# bureauCode, conformsTo, references ...) is reported once per run, with a count.
MAPPED_FIELDS = frozenset(
    {"@type", "identifier", "title", "description", "keyword", "issued", "modified", "landingPage", "accessLevel"}
    | {"publisher", "contactPoint", "license", "accrualPeriodicity", "temporal", "spatial", "theme", "distribution"}
    | {"language"}
)
# Distribution fields the mapper reads ("@type" says dcat:Distribution); others are reported as distribution[].{name}.
DISTRIBUTION_FIELDS = frozenset({"@type", "downloadURL", "accessURL", "format", "mediaType", "title", "description"})


class DataJsonLoader(Loader):
    name: ClassVar[str] = "datajson"
    mapped_fields: ClassVar[frozenset[str] | None] = MAPPED_FIELDS
    description: ClassVar[str] = "DCAT-US 1.1 data.json (Project Open Data): Socrata, ArcGIS Hub and others"

    unique_by: ClassVar[str | None] = "identifier"

    def items(self, path: Path) -> Iterator[Any]:
        """The datasets of the catalogue's ``dataset`` array (or of a bare array)."""
        yield from _datasets(path, read_json(path))

    def item_name(self, item: Any) -> str | None:
        return str(item["identifier"]) if item.get("identifier") else None

    # -- one dataset --------------------------------------------------------------------------------
    def _map(self, item: dict[str, Any], label: str) -> DatasetRecord | None:
        problem = self.problem
        identifier = clean_text(item.get("identifier"))
        if identifier is None:
            problem(label, "identifier", "skipped: the dataset has no identifier")
            return None
        original = clean_iri(identifier)
        slug = _last_segment(original) if original else None
        title = clean_text(item.get("title"))
        description = item.get("description")
        record = DatasetRecord(
            id=identifier,
            title=title or "",
            slug=slugify(slug or identifier),
            description=html_to_text(description) if isinstance(description, str) else None,
            original_iri=original,
            source_url=original,
        )
        keywords = item.get("keyword")
        if isinstance(keywords, str):
            keywords = [k for k in keywords.split(",")]
        if isinstance(keywords, list):
            record.keywords = list(dict.fromkeys(k for k in (clean_text(x) for x in keywords) if k))
        record.issued = self._when(identifier, "issued", item.get("issued"))
        record.modified = self._when(identifier, "modified", item.get("modified"))
        page = item.get("landingPage")
        if isinstance(page, str) and page.strip():
            record.landing_page = clean_iri(page)
            if record.landing_page is None:
                problem(identifier, "landingPage", f"not an http(s) URL: {page.strip()!r}")
        record.access = self._access(identifier, item.get("accessLevel"))
        if item.get("accessLevel") in (None, ""):
            record.assumed.append("dct:accessRights")
        self._publisher(record, item.get("publisher"))
        record.contact = self._contact(identifier, item.get("contactPoint"))
        record.licence = self._licence(identifier, item.get("license"))
        self._frequency(record, item.get("accrualPeriodicity"))
        self._temporal(record, item.get("temporal"))
        self._spatial(record, item.get("spatial"))
        self._add_themes(record, item.get("theme"))
        if item.get("language") not in (None, "", []):
            by_code = self.vocabularies.language_by_code
            record.statements += language_statements(identifier, "language", item["language"], by_code, problem)
        distributions = item.get("distribution")
        if isinstance(distributions, dict):
            distributions = [distributions]
        if isinstance(distributions, list):
            self._distributions(record, distributions)
        elif distributions is not None:
            problem(identifier, "distribution", f"unreadable distributions {type(distributions).__name__}")
        return record

    def _when(self, record_id: str, field: str, value: Any) -> When | None:
        if value is None or value == "":
            return None
        text = str(value).strip()
        spaced = _SPACE_TIME.match(text)
        if spaced:
            text = f"{spaced.group(1)}T{spaced.group(2)}"
        try:
            return parse_when(text)
        except ValueError as error:
            self.problem(record_id, field, str(error))
            return None

    def _access(self, record_id: str, value: Any) -> AccessLevel:
        level = ACCESS_LEVELS.get(value.strip().lower()) if isinstance(value, str) else None
        if level is None:
            self.problem(record_id, "accessLevel", f"unknown access level {value!r}: treated as non-public")
            return AccessLevel.NON_PUBLIC
        return level

    def _publisher(self, record: DatasetRecord, publisher: Any) -> None:
        name = clean_text(publisher.get("name")) if isinstance(publisher, dict) else clean_text(publisher)
        if not name:
            return
        known = self._publisher_by_name.get(name.lower())
        if known:
            record.publisher = known
        else:
            record.publisher, record.publisher_name = slugify(name), name

    def _contact(self, record_id: str, contact: Any) -> Contact | None:
        if not isinstance(contact, dict):
            return None
        name = clean_text(contact.get("fn"))
        raw = contact.get("hasEmail")
        email = None
        if isinstance(raw, str) and raw.strip() and raw.strip().lower() != "mailto:":
            email = clean_email(raw)
            if email is None:
                self.problem(record_id, "contactPoint.hasEmail", f"not an e-mail address: {raw.strip()!r}")
        return Contact(name=name, email=email) if name or email else None

    def _licence(self, record_id: str, value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip() or value.strip() in NO_LICENCE_URLS:
            return None
        iri = licence_iri(value)
        if iri is None and not is_no_licence(value):
            self.problem(record_id, "license", "unknown licence", shown_value(value))
        return iri

    def _frequency(self, record: DatasetRecord, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            return
        text = value.strip()
        code = DURATIONS.get(text.upper()) or frequency_code(text)
        if code is None:
            self.problem(record.id, "accrualPeriodicity", f"unknown frequency {text!r}")
        record.frequency = code

    def _temporal(self, record: DatasetRecord, value: Any) -> None:
        if value in (None, ""):
            return
        start, _, end = value.strip().partition("/") if isinstance(value, str) else ("", "", "")
        if not end or start.upper().startswith("R") or end.upper().startswith("P"):  # repeating, or a duration
            self.problem(record.id, "temporal", "not an interval start/end: not kept", shown_value(value))
            return
        record.temporal_start = self._when(record.id, "temporal", start)
        record.temporal_end = self._when(record.id, "temporal", end)

    def _spatial(self, record: DatasetRecord, value: Any) -> None:
        """A borough; a bounding box or GeoJSON geometry kept on a location; any other place reported."""
        if value in (None, ""):
            return
        if isinstance(value, dict) or (isinstance(value, str) and value.lstrip().startswith("{")):
            geometry = geojson_literal(value)
            if geometry is None:
                self.problem(record.id, "spatial", "not a GeoJSON geometry: not kept", shown_value(value))
            else:
                record.statements += location_statements(geometry=geometry)
        elif isinstance(value, str) and _BOUNDING_BOX.match(value):
            wkt = bbox_wkt(value)
            if wkt is None:
                what = "not a bounding box west,south,east,north in degrees: not kept"
                self.problem(record.id, "spatial", what, value.strip())
            else:
                record.statements += location_statements(wkt_bbox=wkt)
        else:
            gss = borough_code(value, self._boroughs, self._borough_by_name) if isinstance(value, str) else None
            if gss is None:
                self.problem(record.id, "spatial", "not a London borough: not kept", shown_value(value))
            else:
                record.boroughs.append(gss)

    def _add_themes(self, record: DatasetRecord, themes: Any) -> None:
        if isinstance(themes, str):
            themes = [themes]
        if not isinstance(themes, list):
            return
        for theme in themes:
            text = clean_text(theme)
            if not text:
                continue
            found = self._theme_by_label.get(text.lower())
            if found is None:
                self.problem(record.id, "theme", f"{text!r} is not a London theme")
            elif found not in record.themes:
                record.themes.append(found)

    # -- distributions ------------------------------------------------------------------------------
    def _distributions(self, record: DatasetRecord, items: list) -> None:
        self.count("distributions_read", len(items))
        ids: set[str] = set()
        for position, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                self.problem(record.id, "distribution", f"item {position} is not a distribution object")
                continue
            dist = self._distribution(record.id, item, position)
            if dist.id in ids:
                dist.id = f"{dist.id}-{position}"
            ids.add(dist.id)
            record.distributions.append(dist)

    def _distribution(self, record_id: str, item: dict, position: int) -> DistributionRecord:
        where = f"distribution[{position}]"
        self.note_unmapped(item, DISTRIBUTION_FIELDS, "distribution[].")
        urls = {}
        for key in ("downloadURL", "accessURL"):
            raw = item.get(key)
            if isinstance(raw, str) and raw.strip():
                urls[key] = clean_iri(raw)
                if urls[key] is None:
                    self.problem(record_id, f"{where}.{key}", f"not an http(s) URL: {raw.strip()!r}")
        download, access = urls.get("downloadURL"), urls.get("accessURL")
        key = download or access
        dist_id = hashlib.sha1(key.encode()).hexdigest()[:12] if key else str(position)
        declared = clean_text(item.get("format"))
        media = clean_text(item.get("mediaType"))
        media_type, file_type = file_format(declared, media, paths=(download, access))
        if declared and declared.lower() not in UNDEFINED_FORMATS and media_type is None and file_type is None:
            self.problem(record_id, f"{where}.format", f"unknown format {declared!r}")
        description = item.get("description")
        return DistributionRecord(
            id=dist_id,
            access_url=access or download,
            download_url=download,
            title=clean_text(item.get("title")),
            description=html_to_text(description) if isinstance(description, str) else None,
            media_type=media_type,
            file_type=file_type,
        )


def _last_segment(url: str) -> str | None:
    path = url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    if path.count("/") < 3:
        return None
    return path.rsplit("/", 1)[-1] or None


__all__ = ["DataJsonLoader"]
