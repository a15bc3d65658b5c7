"""DataPress, the platform behind today's London Datastore: the v3 bulk export and the per-dataset API.

Two shapes are read (see docs/loaders.md for the field mapping):

* ``/api/v3/datasets/export.json`` -- a JSON array of datasets, each with ``resources`` as an array;
* ``/api/dataset/{id}`` -- one dataset object whose ``resources`` is an object keyed by resource id.

Exports run to hundreds of thousands of datasets, so the mapping is a straight pass over plain dicts:
vocabulary lookups are bound once per load, the value normalisers (:mod:`loaders.file_formats`,
:mod:`loaders.licences` ...) are table-driven, and the cyclic garbage collector is paused while the file is
read and mapped (:func:`loaders.base.no_cyclic_gc`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from dfl_graph.records import AccessLevel, Checksum, Contact, DatasetRecord, DistributionRecord, Status, When
from dfl_graph.uris import slugify
from loaders.base import Loader, LoadError, read_json
from loaders.dates import parse_when
from loaders.file_formats import file_format, parse_checksum, parse_size
from loaders.frequencies import frequency_code
from loaders.iris import clean_email, clean_iri
from loaders.licences import is_no_licence, licence_iri
from loaders.places import borough_code, split_names
from loaders.source_fields import (
    ARCHIVED_KEYS,
    BOROUGH_KEYS,
    FREQUENCY_KEYS,
    PERSONAL_KEYS,
    STATUS_KEYS,
    field_key,
    parse_flag,
)
from loaders.text import clean_text, html_to_text, shown_value

SHARING = {
    "public": AccessLevel.PUBLIC,
    "restricted": AccessLevel.RESTRICTED,
    "private": AccessLevel.NON_PUBLIC,
    "non-public": AccessLevel.NON_PUBLIC,
    "non_public": AccessLevel.NON_PUBLIC,
    "nonpublic": AccessLevel.NON_PUBLIC,
}
STATUS_VALUES = {
    "archived": Status.ARCHIVED,
    "archive": Status.ARCHIVED,
    "superseded": Status.SUPERSEDED,
    "current": Status.CURRENT,
    "active": Status.CURRENT,
    "live": Status.CURRENT,
    "published": Status.CURRENT,
}


def last_segment(url: str) -> str | None:
    """The last non-empty path segment of a URL (query and fragment dropped)."""
    path = url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    if "://" in path and path.count("/") < 3:
        return None
    segment = path.rsplit("/", 1)[-1].strip()
    return segment or None


# Dataset fields the mapper reads (any other is reported once per run, with a count).
MAPPED_FIELDS = frozenset(
    {"id", "webpage", "title", "description", "createdAt", "updatedAt", "sharing", "masthead", "team", "topics"}
    | {"tags", "licence", "license", "contact", "archived", "custom", "resources"}
)
# Resource fields the mapper reads ("order" orders them), and the resource's links back to the dataset that holds it
# ("dataset", "webpage": not kept, the distribution is the dataset's). Any other is reported as resources[].{name}.
RESOURCE_FIELDS = frozenset(
    {"id", "title", "description", "url", "format", "filename", "size", "check_size", "hash", "timestamp", "order"}
    | {"timeframeFrom", "timeframeTo", "dataset", "webpage"}
)


class DataPressLoader(Loader):
    name: ClassVar[str] = "datapress"
    mapped_fields: ClassVar[frozenset[str] | None] = MAPPED_FIELDS
    description: ClassVar[str] = (
        "DataPress (London Datastore) JSON: the v3 export (/api/v3/datasets/export.json) or one /api/dataset/{id}"
    )

    def items(self, path: Path) -> Iterator[Any]:
        """The datasets of an export (a JSON array), or the one dataset of ``/api/dataset/{id}``."""
        data = read_json(path)
        if isinstance(data, list):
            items = data
        elif isinstance(data, dict) and "id" in data and ("title" in data or "resources" in data):
            items = [data]
        else:
            kind = type(data).__name__ if not isinstance(data, dict) else "object without id/title"
            raise LoadError(
                path,
                f"wrong shape: expected a JSON array of datasets (DataPress v3 export.json)"
                f" or one dataset object (/api/dataset/{{id}}), got {kind}",
                "1:1",
            )
        yield from items

    # -- one dataset --------------------------------------------------------------------------------
    def _map(self, item: dict[str, Any], label: str) -> DatasetRecord | None:
        problem = self.problem
        webpage = item.get("webpage")
        landing_page = clean_iri(webpage) if isinstance(webpage, str) else None
        if webpage and landing_page is None:
            problem(label, "webpage", f"not an http(s) URL: {webpage!r}")
        record_id = item.get("id")
        if record_id in (None, "") or isinstance(record_id, (dict, list, bool)):
            page_slug = last_segment(landing_page) if landing_page else None
            if not page_slug:
                problem(label, "id", "skipped: the dataset has no id")
                return None
            record_id = page_slug
            problem(label, "id", f"no id: using the webpage's last segment {page_slug!r}")
        record_id = str(record_id).strip()
        slug = (last_segment(landing_page) if landing_page else None) or record_id

        title = clean_text(item.get("title"))
        site = self.origin
        if site is None and landing_page and "/dataset/" in landing_page:  # the portal the dataset page is on
            site = landing_page.split("/dataset/", 1)[0]
        record = DatasetRecord(
            id=record_id,
            source_url=f"{site}/api/dataset/{quote(record_id, safe='')}" if site else None,
            title=title or "",
            slug=slug,
            description=html_to_text(item["description"]) if isinstance(item.get("description"), str) else None,
            landing_page=landing_page,
        )
        record.issued = self._when(record_id, "createdAt", item.get("createdAt"))
        record.modified = self._when(record_id, "updatedAt", item.get("updatedAt"))

        sharing = item.get("sharing")
        level = SHARING.get(sharing.strip().lower()) if isinstance(sharing, str) else None
        if level is None:
            level = AccessLevel.NON_PUBLIC
            problem(record_id, "sharing", f"unknown sharing value {sharing!r}: treated as non-public")
            if sharing in (None, ""):
                record.assumed.append("dct:accessRights")
        record.access = level

        self._publisher(record, item.get("masthead"), item.get("team"))
        self._topics(record, item.get("topics"))
        tags = item.get("tags")
        if tags:
            keywords = (clean_text(t.get("name") if isinstance(t, dict) else t) for t in tags)
            record.keywords = list(dict.fromkeys(k for k in keywords if k))
        licence = item.get("licence", item.get("license"))
        if licence is not None:
            record.licence = self._licence(record_id, licence)
        contact = item.get("contact")
        if contact:
            record.contact = self._contact(record_id, contact)
        if item.get("archived") is True:
            record.status = Status.ARCHIVED
        custom = item.get("custom")
        if custom:
            self._custom(record, custom)
        resources = item.get("resources")
        if resources:
            self._resources(record, resources)
        return record

    def _when(self, record_id: str, field: str, value: Any) -> When | None:
        try:
            return parse_when(value)
        except ValueError as error:
            self.problem(record_id, field, str(error))
            return None

    def _publisher(self, record: DatasetRecord, masthead: Any, team: Any) -> None:
        orgs = []
        for org in (masthead, team):
            if isinstance(org, dict):
                org_id, title = org.get("id"), clean_text(org.get("title") or org.get("name"))
            elif isinstance(org, str):
                org_id, title = None, clean_text(org)
            else:
                continue
            if isinstance(org_id, str) and org_id in self._publishers:
                record.publisher = org_id
                return
            if title:
                known = self._publisher_by_name.get(title.lower())
                if known:
                    record.publisher = known
                    return
            orgs.append((org_id, title))
        for org_id, title in orgs:
            if title:
                record.publisher, record.publisher_name = slugify(title), title
                return
            if isinstance(org_id, str) and org_id.strip():
                record.publisher = slugify(org_id)
                return

    def _topics(self, record: DatasetRecord, topics: Any) -> None:
        if not topics:
            return
        themes = self._themes
        by_label = self._theme_by_label
        for topic in topics if isinstance(topics, list) else [topics]:
            if isinstance(topic, dict):
                topic_id, title = topic.get("id"), topic.get("title") or topic.get("name")
            else:
                topic_id, title = topic, topic
            theme = None
            if isinstance(topic_id, str) and topic_id in themes:
                theme = topic_id
            elif isinstance(title, str):
                theme = by_label.get(title.strip().lower())
                if theme is None and isinstance(topic_id, str):
                    theme = by_label.get(topic_id.strip().lower().replace("-", " "))
            if theme is None:
                self.problem(record.id, "topics", f"unknown topic {title or topic_id!r}")
            elif theme not in record.themes:
                record.themes.append(theme)

    def _licence(self, record_id: str, licence: Any) -> str | None:
        if isinstance(licence, dict):
            candidates = [licence.get(k) for k in ("url", "uri", "id", "title", "name")]
        else:
            candidates = [licence]
        texts = [c.strip() for c in candidates if isinstance(c, str) and c.strip()]
        for text in texts:
            iri = licence_iri(text)
            if iri:
                return iri
        if texts and not any(is_no_licence(t) for t in texts):
            self.problem(record_id, "licence", "unknown licence", shown_value(texts[0]))
        return None

    def _contact(self, record_id: str, contact: Any) -> Contact | None:
        if isinstance(contact, str):
            text = contact.strip()
            if "@" in text:
                email = clean_email(text)
                if email is None:
                    self.problem(record_id, "contact", f"not an e-mail address: {text!r}")
                    return None
                return Contact(email=email)
            url = clean_iri(text)
            return Contact(url=url) if url else Contact(name=clean_text(text))
        if not isinstance(contact, dict):
            self.problem(record_id, "contact", f"unreadable contact {contact!r}")
            return None
        name = clean_text(contact.get("name") or contact.get("title"))
        raw_email = contact.get("email")
        email = clean_email(raw_email) if isinstance(raw_email, str) else None
        if raw_email and email is None:
            self.problem(record_id, "contact", f"not an e-mail address: {raw_email!r}")
        raw_url = contact.get("url") or contact.get("webpage")
        url = clean_iri(raw_url) if isinstance(raw_url, str) else None
        if raw_url and url is None:
            self.problem(record_id, "contact", f"not an http(s) URL: {raw_url!r}")
        if name or email or url:
            return Contact(name=name, email=email, url=url)
        return None

    def _custom(self, record: DatasetRecord, custom: Any) -> None:
        if isinstance(custom, list):  # [{"key": .., "value": ..}] as some exports write it
            pairs = (c for c in custom if isinstance(c, dict) and isinstance(c.get("key"), str))
            custom = {c["key"]: c.get("value") for c in pairs}
        if not isinstance(custom, dict):
            self.problem(record.id, "custom", f"unreadable custom fields {custom!r}")
            return
        for name, value in custom.items():
            if value is None or value == "" or not isinstance(name, str):
                continue
            key = field_key(name)
            if key in FREQUENCY_KEYS:
                code = frequency_code(value) if isinstance(value, str) else None
                if code is None:
                    self.problem(record.id, f"custom.{name}", f"unknown update frequency {value!r}")
                else:
                    record.frequency = code
            elif key in BOROUGH_KEYS:
                self._boroughs_from(record, name, value)
            elif key in PERSONAL_KEYS:
                flag = parse_flag(value)
                if flag is None:
                    self.problem(record.id, f"custom.{name}", f"not a yes/no value: {value!r}")
                else:
                    record.personal_data = flag
            elif key in ARCHIVED_KEYS:
                flag = parse_flag(value)
                if flag is None:
                    self.problem(record.id, f"custom.{name}", f"not a yes/no value: {value!r}")
                elif flag:
                    record.status = Status.ARCHIVED
            elif key in STATUS_KEYS and isinstance(value, str):
                status = STATUS_VALUES.get(value.strip().lower())
                if status is None:
                    self.problem(record.id, f"custom.{name}", f"unknown status {value!r}")
                elif status is not Status.CURRENT:
                    record.status = status
            else:
                self.note_unmapped_value(f"custom.{name}", value)

    def _boroughs_from(self, record: DatasetRecord, name: str, value: Any) -> None:
        names = split_names(value)
        if not names:
            self.problem(record.id, f"custom.{name}", f"unreadable borough value {value!r}")
        for text in names:
            gss = borough_code(text, self._boroughs, self._borough_by_name)
            if gss is None:
                self.problem(record.id, f"custom.{name}", f"not a London borough: {text!r}")
            elif gss not in record.boroughs:
                record.boroughs.append(gss)

    # -- resources ----------------------------------------------------------------------------------
    def _resources(self, record: DatasetRecord, resources: Any) -> None:
        if isinstance(resources, dict):  # /api/dataset/{id}: keyed by resource id, ordered by "order"
            entries = [(key, value) for key, value in resources.items() if isinstance(value, dict)]
            if any("order" in value for _, value in entries):
                entries.sort(key=lambda e: e[1]["order"] if isinstance(e[1].get("order"), (int, float)) else 1e9)
        elif isinstance(resources, list):
            entries = [(r.get("id"), r) for r in resources if isinstance(r, dict)]
        else:
            self.problem(record.id, "resources", f"unreadable resources {type(resources).__name__}")
            return
        self.count("distributions_read", len(entries))
        starts: list[When] = []
        ends: list[When] = []
        seen: set[str] = set()
        for position, (key, resource) in enumerate(entries, start=1):
            dist = self._distribution(record.id, key, resource, position, starts, ends)
            if dist.id in seen:
                minted = f"{dist.id}-{position}"
                what = f"a second resource with this id: published as {minted!r}"
                self.problem(record.id, f"resources[{dist.id}]", what)
                dist.id = minted
            seen.add(dist.id)
            record.distributions.append(dist)
        if starts:
            record.temporal_start = min(starts, key=lambda w: w.sort_key)
        if ends:
            record.temporal_end = max(ends, key=lambda w: w.sort_key)

    def _distribution(
        self, record_id: str, key: Any, resource: dict, position: int, starts: list, ends: list
    ) -> DistributionRecord:
        problem = self.problem
        dist_id = key if isinstance(key, str) and key.strip() else resource.get("id")
        dist_id = str(dist_id).strip() if dist_id not in (None, "") else str(position)
        where = f"resources[{dist_id}]"
        self.note_unmapped(resource, RESOURCE_FIELDS, "resources[].")
        raw_url = resource.get("url")
        url = clean_iri(raw_url) if isinstance(raw_url, str) else None
        if raw_url and url is None:
            problem(record_id, f"{where}.url", f"not an http(s) URL: {raw_url!r}")
        filename = resource.get("filename")
        media_type, file_type = file_format(
            resource.get("format") if isinstance(resource.get("format"), str) else None,
            paths=(filename if isinstance(filename, str) else None, url),
        )
        dist = DistributionRecord(
            id=dist_id,
            access_url=url,
            download_url=url,
            title=clean_text(resource.get("title")),
            description=html_to_text(resource["description"]) if isinstance(resource.get("description"), str) else None,
            media_type=media_type,
            file_type=file_type,
        )
        try:
            dist.byte_size = parse_size(resource.get("size", resource.get("check_size")))
        except ValueError as error:
            problem(record_id, f"{where}.size", str(error))
        digest = resource.get("hash")
        if digest:
            checksum = parse_checksum(digest)
            if checksum:
                dist.checksum = Checksum(*checksum)
            else:
                problem(record_id, f"{where}.hash", f"not an MD5, SHA-1 or SHA-256 hex digest: {digest!r}")
        dist.modified = self._when(record_id, f"{where}.timestamp", resource.get("timestamp"))
        start = self._when(record_id, f"{where}.timeframeFrom", resource.get("timeframeFrom"))
        end = self._when(record_id, f"{where}.timeframeTo", resource.get("timeframeTo"))
        if start:
            starts.append(start)
        if end:
            ends.append(end)
        return dist
