"""CKAN action API responses: ``package_search``, ``package_show``, or a bare list of packages.

Read as the API returns them: ``{"success": true, "result": {"count": .., "results": [..]}}`` (search),
``{"success": true, "result": {..one package..}}`` (show), ``{"result": [..packages..]}``
(``current_package_list_with_resources``) or ``[..packages..]``. ``"success": false`` is an error
response and the whole file is refused. See docs/loaders.md for the field mapping.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from dfl_graph.records import AccessLevel, Checksum, Contact, DatasetRecord, DistributionRecord, Status, When
from dfl_graph.uris import slugify
from loaders.access_rights import access_level
from loaders.base import Loader, LoadError, read_json
from loaders.dates import parse_when
from loaders.file_formats import file_format, parse_checksum, parse_size
from loaders.frequencies import frequency_code
from loaders.geometries import geojson_literal, location_statements
from loaders.iris import clean_email, clean_iri
from loaders.language_codes import language_statements
from loaders.licences import is_no_licence, licence_iri
from loaders.places import borough_code, split_names
from loaders.source_fields import (
    ACCESS_NOTE_KEYS,
    ACCESS_REASON_KEYS,
    ARCHIVED_KEYS,
    BOROUGH_KEYS,
    CATEGORY_KEYS,
    FREQUENCY_KEYS,
    LEGAL_BASIS_KEYS,
    PERSONAL_KEYS,
    field_key,
    parse_flag,
)
from loaders.text import clean_text, html_to_text, shown_value

# Package fields the mapper reads; BOOKKEEPING are CKAN's own bookkeeping (derived counts, internal ids, revision
# and relationship lists, the licence's openness flag): not about the dataset, not kept, documented in docs/loaders.md.
MAPPED_FIELDS = frozenset(
    {"name", "id", "title", "notes", "private", "state", "type", "metadata_created", "metadata_modified", "url"}
    | {"organization", "groups", "tags", "license_url", "license_id", "license_title", "maintainer", "author"}
    | {"maintainer_email", "author_email", "extras", "resources", "version"}
)
BOOKKEEPING = frozenset(
    {"num_tags", "num_resources", "owner_org", "creator_user_id", "revision_id", "isopen"}
    | {"relationships_as_object", "relationships_as_subject"}
)
# Resource fields the mapper reads; the resource's bookkeeping (its package's id, its revision, its position in the
# list the resources already come in) is not kept either. Any other resource field is reported as resources[].{name}.
RESOURCE_FIELDS = frozenset(
    {"id", "name", "description", "url", "format", "mimetype", "size", "hash", "created", "last_modified", "state"}
    | {"package_id", "revision_id", "position"}
)

# File types that name a web page or a service rather than a downloadable file.
NOT_DOWNLOADS = frozenset({"HTML", "XHTML", "WMS_SRVC", "WFS_SRVC", "WCS_SRVC", "REST", "MAP_SRVC"})
SKIPPED_STATES = frozenset({"deleted", "draft"})


def _packages(path: Path, data: Any) -> list:
    """The package dicts of a CKAN response, or LoadError naming what the file is instead."""
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        raise LoadError(
            path,
            f"wrong shape: expected a CKAN API response object or a list of packages, got {type(data).__name__}",
            "1:1",
        )
    if data.get("success") is False:
        error = data.get("error")
        message = error.get("message") or error.get("__type") if isinstance(error, dict) else error
        raise LoadError(path, f"the CKAN API reported failure (success: false): {message or 'no error message'}")
    if "result" not in data:
        if "name" in data and ("resources" in data or "title" in data):
            return [data]  # a bare package
        raise LoadError(path, "wrong shape: no 'result' in the CKAN response (package_search or package_show)", "1:1")
    result = data["result"]
    if isinstance(result, list):
        if result and all(isinstance(r, str) for r in result):
            raise LoadError(path, "wrong shape: this is a package_list (names only), not package metadata")
        return result
    if isinstance(result, dict):
        if isinstance(result.get("results"), list):
            return result["results"]
        if "name" in result or "id" in result:
            return [result]
    raise LoadError(path, "wrong shape: 'result' is neither a package_search result nor a package", "1:1")


class CkanLoader(Loader):
    name: ClassVar[str] = "ckan"
    description: ClassVar[str] = "CKAN action API JSON: package_search or package_show response, or a list of packages"

    kind: ClassVar[str] = "package"
    unique_by: ClassVar[str | None] = "name"
    mapped_fields: ClassVar[frozenset[str] | None] = MAPPED_FIELDS | BOOKKEEPING

    def items(self, path: Path) -> Iterator[Any]:
        """The packages of the response, as the API returns them."""
        yield from _packages(path, read_json(path))

    def item_name(self, item: Any) -> str | None:
        name = item.get("name") or item.get("id")
        return str(name) if name else None

    def _map(self, package: dict[str, Any], label: str) -> DatasetRecord | None:
        problem = self.problem
        state = package.get("state")
        if state in SKIPPED_STATES:
            problem(label, "state", f"skipped: the package is {state}")
            return None
        if package.get("type") not in (None, "dataset"):
            problem(label, "type", f"skipped: a {package['type']!r}, not a dataset")
            return None
        name = package.get("name") or package.get("id")
        if not isinstance(name, str) or not name.strip():
            problem(label, "name", "skipped: the package has neither name nor id")
            return None
        record_id = name.strip()
        title = clean_text(package.get("title"))
        notes = package.get("notes")
        record = DatasetRecord(
            id=record_id,
            title=title or "",
            slug=record_id,
            description=html_to_text(notes, markdown=True) if isinstance(notes, str) else None,
            access=AccessLevel.NON_PUBLIC if package.get("private") is True else AccessLevel.PUBLIC,
            version=clean_text(package.get("version")),
            source_url=self._package_url(package, record_id),
        )
        if record.source_url is None:  # provenance without the original's address: say so, never silently
            what = "no package_show URL for the record's provenance: the portal is unknown (dfl load --origin URL)"
            problem(record_id, "name", what)
        if not isinstance(package.get("private"), bool):
            record.assumed.append("dct:accessRights")  # CKAN says private or not; this package does not
        record.issued = self._when(record_id, "metadata_created", package.get("metadata_created"))
        record.modified = self._when(record_id, "metadata_modified", package.get("metadata_modified"))
        url = package.get("url")
        if isinstance(url, str) and url.strip():
            record.landing_page = clean_iri(url)
            if record.landing_page is None:
                problem(record_id, "url", f"not an http(s) URL, no landing page: {url.strip()!r}")

        self._publisher(record, package.get("organization"))
        self._groups(record, package.get("groups") or [])
        for tag in package.get("tags") or []:
            text = clean_text(tag.get("display_name") or tag.get("name")) if isinstance(tag, dict) else clean_text(tag)
            if not text:
                continue
            if text not in record.keywords:
                record.keywords.append(text)
            theme = self._theme_by_label.get(text.lower())
            if theme and theme not in record.themes:
                record.themes.append(theme)
        self._licence(record, package)
        record.contact = self._contact(record_id, package)
        extras = package.get("extras") or []
        if extras:
            self._extras(record, extras)
        seen: set[str] = set()
        resources = package.get("resources") or []
        self.count("distributions_read", len(resources))
        for position, resource in enumerate(resources, start=1):
            if not isinstance(resource, dict):
                problem(record_id, "resources", f"skipped: resource {position} is not an object", shown_value(resource))
                continue
            if resource.get("state") == "deleted":
                where = f"resources[{resource.get('id') or position}].state"
                problem(record_id, where, "skipped: the resource is deleted")
                continue
            dist = self._distribution(record, resource, position)
            if dist.id in seen:
                minted = f"{dist.id}-{position}"
                problem(record_id, f"resources[{dist.id}]", f"a second resource with this id: published as {minted!r}")
                dist.id = minted
            seen.add(dist.id)
            record.distributions.append(dist)
        return record

    def _package_url(self, package: dict, name: str) -> str | None:
        """The package_show URL of the package on its portal: the portal is the loader's ``origin``, else the
        site its uploaded resources live on (``{site}/dataset/{id}/resource/...``); None if neither is known."""
        site = self.origin
        if site is None:
            for resource in package.get("resources") or []:
                url = resource.get("url") if isinstance(resource, dict) else None
                if isinstance(url, str) and "/dataset/" in url and "/resource/" in url:
                    site = url.split("/dataset/", 1)[0]
                    break
        return f"{site}/api/3/action/package_show?id={quote(name, safe='')}" if site and clean_iri(site) else None

    def _when(self, record_id: str, field: str, value: Any) -> When | None:
        try:
            return parse_when(value)
        except ValueError as error:
            self.problem(record_id, field, str(error))
            return None

    def _publisher(self, record: DatasetRecord, organization: Any) -> None:
        if not isinstance(organization, dict):
            return
        title = clean_text(organization.get("title"))
        org_name = organization.get("name") if isinstance(organization.get("name"), str) else None
        known = self._publisher_by_name.get(title.lower()) if title else None
        if known is None and org_name in self._publishers:
            known = org_name
        if known:
            record.publisher = known
        elif org_name or title:
            record.publisher = slugify(org_name or title)
            record.publisher_name = title or org_name

    def _groups(self, record: DatasetRecord, groups: list) -> None:
        for group in groups:
            if not isinstance(group, dict):
                continue
            title = clean_text(group.get("title") or group.get("display_name"))
            group_name = group.get("name") if isinstance(group.get("name"), str) else None
            theme = self._theme_by_label.get(title.lower()) if title else None
            if theme is None and group_name:
                theme = group_name if group_name in self._themes else self._theme_by_label.get(group_name.lower())
            if theme is None:
                self.problem(record.id, "groups", f"group {title or group_name!r} is not a London theme")
            elif theme not in record.themes:
                record.themes.append(theme)

    def _licence(self, record: DatasetRecord, package: dict) -> None:
        values = [package.get(k) for k in ("license_url", "license_id", "license_title")]
        texts = [v.strip() for v in values if isinstance(v, str) and v.strip()]
        for text in texts:
            iri = licence_iri(text)
            if iri:
                record.licence = iri
                return
        if texts and not any(is_no_licence(t) for t in texts):
            self.problem(record.id, "license_id", "unknown licence", shown_value(texts[0]))

    def _contact(self, record_id: str, package: dict) -> Contact | None:
        for role in ("maintainer", "author"):
            name = clean_text(package.get(role))
            raw_email = package.get(f"{role}_email")
            email = clean_email(raw_email) if isinstance(raw_email, str) else None
            if isinstance(raw_email, str) and raw_email.strip() and email is None:
                self.problem(record_id, f"{role}_email", f"not an e-mail address: {raw_email.strip()!r}")
            if name or email:
                return Contact(name=name, email=email)
        return None

    def _extras(self, record: DatasetRecord, extras: Any) -> None:
        if isinstance(extras, dict):
            pairs = list(extras.items())
        else:
            pairs = [(e.get("key"), e.get("value")) for e in extras if isinstance(e, dict)]
        for name, value in pairs:
            if not isinstance(name, str) or value in (None, ""):
                continue
            key = field_key(name)
            if key in FREQUENCY_KEYS:
                code = frequency_code(value) if isinstance(value, str) else None
                if code is None:
                    self.problem(record.id, f"extras.{name}", f"unknown update frequency {value!r}")
                else:
                    record.frequency = code
            elif key in BOROUGH_KEYS and isinstance(value, str) and value.lstrip().startswith("{"):
                self._geometry(record, f"extras.{name}", value)  # ckanext-spatial's GeoJSON geometry
            elif key in BOROUGH_KEYS:
                for text in split_names(value):
                    gss = borough_code(text, self._boroughs, self._borough_by_name)
                    if gss is None:
                        self.problem(record.id, f"extras.{name}", f"not a London borough: {text!r}")
                    elif gss not in record.boroughs:
                        record.boroughs.append(gss)
            elif key in PERSONAL_KEYS:
                flag = parse_flag(value)
                if flag is None:
                    self.problem(record.id, f"extras.{name}", f"not a yes/no value: {value!r}")
                else:
                    record.personal_data = flag
            elif key == "access_rights":  # `private` decides public or not; this says which kind of not public
                level = access_level(value) if isinstance(value, str) else None
                if record.access is not AccessLevel.PUBLIC and level not in (None, AccessLevel.PUBLIC):
                    record.access = level
            elif key in ACCESS_REASON_KEYS:
                self._access_reasons(record, f"extras.{name}", value)
            elif key in ACCESS_NOTE_KEYS and isinstance(value, str) and value.strip():
                record.access_reason_note = value.strip()
            elif key in CATEGORY_KEYS:
                allowed = self.vocabularies.personal_data_categories
                record.personal_data_categories += self._dpv_terms(record.id, f"extras.{name}", value, allowed)
            elif key in LEGAL_BASIS_KEYS:
                allowed = self.vocabularies.legal_bases
                record.legal_basis += self._dpv_terms(record.id, f"extras.{name}", value, allowed)
            elif key in ARCHIVED_KEYS:
                flag = parse_flag(value)
                if flag is None:
                    self.problem(record.id, f"extras.{name}", f"not a yes/no value: {value!r}")
                elif flag:
                    record.status = Status.ARCHIVED
            elif key == "language":  # ckanext-dcat's dct:language: '["en"]' or "en, fr"
                by_code = self.vocabularies.language_by_code
                record.statements += language_statements(record.id, f"extras.{name}", value, by_code, self.problem)
            else:
                self.note_unmapped_value(f"extras.{name}", value)

    def _geometry(self, record: DatasetRecord, where: str, value: str) -> None:
        """A GeoJSON geometry kept on a location of the dataset (``locn:geometry``), or reported."""
        geometry = geojson_literal(value)
        if geometry is None:
            self.problem(record.id, where, "not a GeoJSON geometry: not kept", shown_value(value))
        else:
            record.statements += location_statements(geometry=geometry)

    def _access_reasons(self, record: DatasetRecord, where: str, value: object) -> None:
        """Reasons by concept id ("PersonalInformation") or notation ("personal-information"), as a list or text."""
        reasons = self.vocabularies.access_reasons
        by_notation = self.vocabularies.access_reason_by_notation
        for text in split_names(value):
            reason = text if text in reasons else by_notation.get(text.lower())
            if reason is None:
                self.problem(record.id, where, f"not a reason of dfl:AccessReasons: {text!r}")
            elif reason not in record.access_reasons:
                record.access_reasons.append(reason)

    def _dpv_terms(self, record_id: str, where: str, value: object, allowed: list[str]) -> list[str]:
        """DPV terms given as IRIs, CURIEs ("pd:Location", "dpv:PublicInterest") or local names, of ``allowed``."""
        by_name = {iri.rsplit("#", 1)[-1].lower(): iri for iri in allowed}
        found: list[str] = []
        for text in split_names(value):
            iri = text if text in allowed else by_name.get(text.split(":", 1)[-1].lower())
            if iri is None:
                self.problem(record_id, where, f"not one of the DPV terms the catalogue offers: {text!r}")
            elif iri not in found:
                found.append(iri)
        return found

    def _distribution(self, record: DatasetRecord, resource: dict, position: int) -> DistributionRecord:
        problem = self.problem
        dist_id = resource.get("id")
        dist_id = str(dist_id).strip() if dist_id not in (None, "") else str(position)
        where = f"resources[{dist_id}]"
        self.note_unmapped(resource, RESOURCE_FIELDS, "resources[].")
        raw_url = resource.get("url")
        url = clean_iri(raw_url) if isinstance(raw_url, str) else None
        if isinstance(raw_url, str) and raw_url.strip() and url is None:
            problem(record.id, f"{where}.url", f"not an http(s) URL: {raw_url.strip()!r}")
        fmt = resource.get("format")
        mimetype = resource.get("mimetype")
        media_type, file_type = file_format(
            fmt if isinstance(fmt, str) else None,
            mimetype if isinstance(mimetype, str) else None,
            paths=(url,),
        )
        if isinstance(fmt, str) and fmt.strip() and file_type is None and media_type is None:
            problem(record.id, f"{where}.format", f"unknown format {fmt.strip()!r}")
        description = resource.get("description")
        dist = DistributionRecord(
            id=dist_id,
            access_url=url,
            download_url=url if file_type not in NOT_DOWNLOADS else None,
            title=clean_text(resource.get("name")),
            description=html_to_text(description, markdown=True) if isinstance(description, str) else None,
            media_type=media_type,
            file_type=file_type,
        )
        try:
            dist.byte_size = parse_size(resource.get("size"))
        except ValueError as error:
            problem(record.id, f"{where}.size", str(error))
        digest = resource.get("hash")
        if isinstance(digest, str) and digest.strip():
            checksum = parse_checksum(digest)
            if checksum:
                dist.checksum = Checksum(*checksum)
            else:
                problem(record.id, f"{where}.hash", f"not an MD5, SHA-1 or SHA-256 hex digest: {digest!r}")
        dist.issued = self._when(record.id, f"{where}.created", resource.get("created"))
        dist.modified = self._when(record.id, f"{where}.last_modified", resource.get("last_modified"))
        return dist
