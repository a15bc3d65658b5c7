"""A look at a distribution's first rows: CSV, TSV and JSON files small enough to fetch, fetched server-side.

The file is downloaded with the harvester's HTTP client (:class:`dfl_graph.harvest.http.HttpClient`: time
limits, a byte cap that aborts a larger or endless body, no gzip bombs, bounded redirects), under a policy
of its own: ``preview_max_bytes`` (``DFL_PREVIEW_MAX_BYTES``, default 1 MB; 0 turns previews off), a 10 s
deadline, no retries. Only ``http(s)`` URLs whose host resolves to public addresses are fetched (so the
catalogue cannot be used to reach the server's own network; ``DFL_PREVIEW_LOCAL_HOSTS=1`` allows loopback
and private hosts, for tests and intranet deployments), and only for public distributions: the preview
page exists only where the distribution page does. A preview (rows, or why there is none) is cached per
worker and generation, so a popular file is fetched once.
"""

from __future__ import annotations

import codecs
import csv
import io
import ipaddress
import json
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import current_app

from dfl_graph.harvest.http import FetchError, HttpClient, HttpPolicy
from dfl_graph.memory_cache import MemoryCache
from dfl_graph.web.access import settings

ROWS = 10
COLUMNS = 20
CELL_CHARS = 200
KINDS = {"CSV": "csv", "TSV": "tsv", "JSON": "json", "text/csv": "csv", "application/json": "json"}


@dataclass(frozen=True)
class Preview:
    """The first rows of a file (``header`` and ``rows``), or the reason there are none (``problem``)."""

    url: str
    kind: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    problem: str | None = None
    size: int | None = None
    more: bool = False  # the file has more rows than shown

    def to_json(self) -> dict:
        return {
            "url": self.url,
            "kind": self.kind,
            "header": self.header,
            "rows": self.rows,
            "more_rows": self.more,
            "bytes": self.size,
            "problem": self.problem,
        }


def kind_of(distribution: dict) -> str | None:
    """ "csv", "tsv" or "json" for a distribution model whose format or media type says so."""
    for key in ("format", "media_type"):
        value = distribution.get(key)
        if value:
            found = KINDS.get(value["iri"].rstrip("/").rsplit("/", 1)[-1].upper()) or KINDS.get(
                value["iri"].split("/media-types/", 1)[-1].lower()
            )
            if found:
                return found
    return None


def previewable(distribution: dict) -> bool:
    """Whether a distribution may be previewed: a CSV, TSV or JSON file with a download URL, not stated to be
    larger than the cap."""
    cap = settings().preview_max_bytes
    size = distribution.get("byte_size")
    url = distribution.get("download_url") or ""
    return bool(
        cap and url.startswith(("http://", "https://")) and kind_of(distribution) and (size is None or size <= cap)
    )


def _cache() -> MemoryCache[Preview]:
    cache = current_app.extensions.get("dfl.preview_cache")
    if cache is None:
        cache = current_app.extensions["dfl.preview_cache"] = MemoryCache(max_entries=256)
    return cache


def preview(distribution: dict, generation: int) -> Preview:
    """The preview of a previewable distribution (cached per worker and generation)."""
    url = distribution["download_url"]
    kind = kind_of(distribution) or "csv"
    return _cache().get_or_make((generation, url, kind), lambda: _fetch(url, kind))


def _public_host(url: str) -> str | None:
    """Why a URL's host may not be fetched (None when it may)."""
    host = urlsplit(url).hostname
    if not host:
        return "the download URL has no host"
    if settings().preview_local_hosts:
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return f"the host {host} cannot be found"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            return f"the host {host} is not on the public internet"
    return None


def _fetch(url: str, kind: str) -> Preview:
    refused = _public_host(url)
    if refused:
        return Preview(url, kind, problem=refused)
    cap = settings().preview_max_bytes
    policy = HttpPolicy(connect_timeout=5, read_timeout=5, total_timeout=10, retries=0, max_bytes=cap)
    try:
        with HttpClient(policy) as client:
            body = client.get(url)
            data = body.read()
    except FetchError as error:
        message = str(error).removeprefix(f"{url}: ")
        return Preview(url, kind, problem=f"the file could not be fetched: {message}")
    try:
        return _parse(url, kind, data)
    except (ValueError, csv.Error, UnicodeDecodeError) as error:
        problem = f"the file is not readable as {kind.upper()}: {str(error)[:200]}"
        return Preview(url, kind, problem=problem, size=len(data))


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _parse(url: str, kind: str, data: bytes) -> Preview:
    text = _decode(data)
    if kind in ("csv", "tsv"):
        reader = csv.reader(io.StringIO(text), delimiter="\t" if kind == "tsv" else ",")
        rows = []
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append([_cell(c) for c in row[:COLUMNS]])
            if len(rows) > ROWS + 1:
                break
        if not rows:
            raise ValueError("it has no rows")
        return Preview(url, kind, rows[0], rows[1 : ROWS + 1], size=len(data), more=len(rows) > ROWS + 1)
    document = json.loads(text)
    records = document if isinstance(document, list) else None
    if isinstance(document, dict):  # {"data": [...]} and the like: the first list of objects in it
        records = next((v for v in document.values() if isinstance(v, list) and v and isinstance(v[0], dict)), None)
    if records and all(isinstance(r, dict) for r in records[:ROWS]):
        header = list(dict.fromkeys(k for r in records[:ROWS] for k in r))[:COLUMNS]
        rows = [[_cell(r.get(k, "")) for k in header] for r in records[:ROWS]]
        return Preview(url, kind, header, rows, size=len(data), more=len(records) > ROWS)
    if records:
        rows = [[_cell(r)] for r in records[:ROWS]]
        return Preview(url, kind, ["value"], rows, size=len(data), more=len(records) > ROWS)
    raise ValueError("it is not a list of records")


__all__ = ["Preview", "kind_of", "preview", "previewable"]
