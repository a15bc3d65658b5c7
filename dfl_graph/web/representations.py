"""Turning one resource into the HTTP response for the representation a request chose.

Every negotiated resource answers the same way: the body from the document cache (built once per
generation), a strong ``ETag`` that is a digest of those bytes, so it changes only when the document does
(a new generation that leaves a document as it was keeps its ETag, and a crawler's conditional request
gets 304: re-loading one source does not make crawlers fetch the whole catalogue again), ``Last-Modified``
where the view knows when the document last changed (a dataset: when the write pipeline last wrote its
catalogue record, or the vocabularies it cites were last loaded, whichever is later), ``Vary: Accept``
when the format came from ``Accept``, ``Content-Location`` of the chosen representation, a
``Link: rel="alternate"`` for every advertised representation, and ``Access-Control-Allow-Origin: *`` on
machine formats. JSON-LD honours the ``profile`` parameter of ``Accept`` (expanded, compacted, flattened).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Response, current_app, g, render_template, request
from pyoxigraph import NamedNode
from werkzeug.http import is_resource_modified

from dfl_graph.accounts.visibility import Visibility
from dfl_graph.dcat_ap2 import DCAT_AP_3, to_dcat_ap_2, wants_dcat_ap_2
from dfl_graph.dcat_ap2 import PROFILE as DCAT_AP_2
from dfl_graph.languages import preferred_languages
from dfl_graph.memory_cache import MemoryCache
from dfl_graph.namespaces import DCT
from dfl_graph.store import Snapshot
from dfl_graph.web.access import settings, snapshot
from dfl_graph.web.accounts import caller
from dfl_graph.web.documents import Document, readable_graphs
from dfl_graph.web.negotiation import (
    DOCUMENT_FORMATS,
    HTML,
    JSON,
    JSON_LD,
    RESOURCE_FORMATS,
    Format,
    choose,
    jsonld_profile,
)
from dfl_graph.web.rdf_documents import body_cache, serializer_for

MACHINE_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Location, ETag, Last-Modified, Link",
}


@dataclass
class Resource:
    """What a view knows about one resource: where it lives and how to render each representation."""

    iri: str
    path: str  # under the base, without a format suffix, e.g. "/dataset/x"
    document: Callable[[], Document]
    html: Callable[[Document], str]
    json: Callable[[Document], dict]
    formats: tuple[Format, ...] = RESOURCE_FORMATS
    query: str = ""  # canonical query string kept on every representation (catalogue pages)
    status: int = 200
    key: str = ""  # cache key; defaults to path + query
    extra_headers: dict[str, str] = field(default_factory=dict)
    languages: tuple[str, ...] = ()  # a page showing texts in the reader's languages: cached per them, Vary says so
    modified: Callable[[], datetime | None] | None = None  # when the document last changed, if the view knows

    def url(self, fmt: Format | None = None) -> str:
        base = settings().base
        suffix = f".{fmt.name}" if fmt is not None else ""
        return f"{base}{self.path}{suffix}" + (f"?{self.query}" if self.query else "")


def reader_languages() -> tuple[str, ...]:
    """The request's ``Accept-Language``, best first, then English (:func:`dfl_graph.languages.preferred_languages`)."""
    return preferred_languages(request.headers.get("Accept-Language"))


def representations(path: str, query: str = "") -> list[dict]:
    """The alternates a page links to (``<link rel="alternate">`` and the "also as" list)."""
    base = settings().base
    tail = f"?{query}" if query else ""
    return [
        {"format": f.name, "label": f.label, "media_type": f.media_type, "url": f"{base}{path}.{f.name}{tail}"}
        for f in RESOURCE_FORMATS[1:]
    ]


def document_cache() -> MemoryCache[bytes]:
    cache = current_app.extensions.get("dfl.document_cache")
    if cache is None:
        cache = current_app.extensions["dfl.document_cache"] = body_cache(settings().document_cache_bytes)
    return cache


def requested_format(suffix: str | None, formats: tuple[Format, ...] = DOCUMENT_FORMATS) -> tuple[Format, bool]:
    """The format of this request (suffix > ?format= > Accept); remembered for error pages."""
    g.dfl_formats = formats
    fmt, negotiated = choose(suffix, request.args.get("format"), request.headers.get("Accept"), formats)
    g.dfl_format = fmt
    return fmt, negotiated


def last_modified(current: Snapshot) -> datetime:
    return datetime.fromisoformat(current.manifest.published_at.replace("Z", "+00:00")).astimezone(UTC)


def _instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


_vocabulary_times: dict[str, datetime | None] = {}  # generation directory -> time (a few generations)


def _vocabularies_loaded(current: Snapshot) -> datetime | None:
    """When the generation's vocabularies were last loaded (their graphs' registration in the system graph)."""
    key = str(current.directory)
    if key in _vocabulary_times:
        return _vocabulary_times[key]
    system = NamedNode(current.uris.system_graph())
    times = [
        _instant(q.object.value)
        for graph, info in current.manifest.graphs.items()
        if info.get("source") == "vocab"
        for q in current.store.quads_for_pattern(NamedNode(graph), DCT.modified, None, system)
    ]
    if len(_vocabulary_times) > 8:
        _vocabulary_times.clear()
    found = _vocabulary_times[key] = max((t for t in times if t is not None), default=None)
    return found


def dataset_modified(current: Snapshot, iri: str, visibility: Visibility = Visibility.ANONYMOUS) -> datetime | None:
    """When a dataset's document last changed: the later of when the write pipeline last wrote its catalogue
    record (``{iri}#record dct:modified``) and when the vocabularies its labels come from were loaded. None for a
    dataset written without a catalogue record."""
    readable = {g.value for g in readable_graphs(current, visibility)}
    written = [
        _instant(q.object.value)
        for q in current.store.quads_for_pattern(NamedNode(iri + "#record"), DCT.modified, None, None)
        if q.graph_name.value in readable  # type: ignore[union-attr]
    ]
    if not written or written[0] is None:
        return None
    vocabularies = _vocabularies_loaded(current)
    return max(written[0], vocabularies) if vocabularies else written[0]


def link_header(resource: Resource) -> str:
    links = [f'<{quote(resource.iri, safe=":/?#[]@!$&()*+,;=%~")}>; rel="canonical"']
    for fmt in resource.formats:
        links.append(f'<{resource.url(fmt)}>; rel="alternate"; type="{fmt.media_type}"')
    return ", ".join(links)


def content_tag(body: bytes) -> str:
    """A strong entity tag that is a digest of the bytes: the same document has the same tag in every generation
    and every worker (documents are serialised in a stable order)."""
    return hashlib.blake2b(body, digest_size=12).hexdigest()


def body_for(
    resource: Resource, fmt: Format, jsonld_form: str = "compacted", profile: str = DCAT_AP_3
) -> tuple[bytes, bool]:
    """The bytes of one representation (cached per generation and audience: the caller's visibility), and
    whether they came from the cache;
    RDF in the DCAT-AP 2.1.1 view when ``profile`` is that profile (dfl_graph/dcat_ap2.py), JSON-LD in
    ``jsonld_form`` (expanded, compacted or flattened)."""
    current = snapshot()

    def make() -> bytes:
        document = resource.document()
        if fmt == HTML:
            return resource.html(document).encode()
        if fmt == JSON:
            return json.dumps(resource.json(document), ensure_ascii=False, indent=1).encode()
        triples = to_dcat_ap_2(document.triples) if profile == DCAT_AP_2 else document.triples
        return serializer_for(current.uris.base).serialize(triples, fmt, resource.iri, jsonld_form)

    form = f"{fmt.name}:{jsonld_form}" if fmt == JSON_LD else fmt.name
    key = (current.generation, current.manifest.published_at, resource.key or resource.url(), form, resource.status)
    key += (profile, caller().visibility.cache_key, fmt == HTML and caller().publishes_by_form, resource.languages)
    cache = document_cache()
    body = cache.get(key)
    if body is not None:
        return body, True
    body = make()
    cache.put(key, body)
    return body, False


def respond(resource: Resource, fmt: Format, negotiated: bool) -> Response:
    """The response for one representation of a resource, conditional requests answered with 304."""
    headers = {
        "Content-Location": resource.url(fmt),
        "Link": link_header(resource),
        **resource.extra_headers,
    }
    if resource.languages:
        headers["Vary"] = ", ".join(v for v in (headers.get("Vary"), "Accept-Language") if v)
    if negotiated:  # beside any Vary the view gives, and Accept-Language on pages that show the reader's language
        headers["Vary"] = ", ".join(v for v in (headers.get("Vary"), "Accept") if v)
    if fmt != HTML:
        headers.update(MACHINE_HEADERS)
    profile = DCAT_AP_3
    if fmt not in (HTML, JSON):  # RDF: DCAT-AP 3, or the DCAT-AP 2.1.1 view (conneg by profile)
        if wants_dcat_ap_2(request.args.get("profile"), request.headers.get("Accept-Profile")):
            profile = DCAT_AP_2
        headers["Content-Profile"] = f"<{profile}>"
        headers["Vary"] = ", ".join(v for v in (headers.get("Vary"), "Accept-Profile") if v)
    jsonld_form = jsonld_profile(request.headers.get("Accept")) if fmt == JSON_LD else "compacted"
    body, cached = body_for(resource, fmt, jsonld_form, profile)
    etag = content_tag(body)
    modified = resource.modified() if resource.modified is not None else None
    if resource.status == 200 and not is_resource_modified(request.environ, etag=etag, last_modified=modified):
        response = Response(status=304, headers=headers)
    else:
        response = Response(body, status=resource.status, headers=headers)
        response.content_type = fmt.content_type
        response.headers["X-Cache"] = "hit" if cached else "miss"  # this worker's document cache
    response.set_etag(etag)
    if modified is not None:
        response.last_modified = modified
    response.cache_control.public = True
    response.cache_control.max_age = 60
    return response


def respond_fixed(key: str, content_type: str, make: Callable[[], bytes], machine: bool = True) -> Response:
    """A resource with a single representation (sitemaps, robots.txt, the JSON-LD context): cached per
    generation, with ETag / Last-Modified and 304."""
    current = snapshot()
    cache_key = (current.generation, current.manifest.published_at, key, "fixed", 200)
    body = document_cache().get_or_make(cache_key, make)
    etag = content_tag(body)
    headers = dict(MACHINE_HEADERS) if machine else {}
    if not is_resource_modified(request.environ, etag=etag):
        response = Response(status=304, headers=headers)
    else:
        response = Response(body, headers=headers, content_type=content_type)
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


def render_page(template: str, **context) -> str:
    """An HTML page in the site layout."""
    return render_template(template, **context)


__all__ = [
    "Resource",
    "body_for",
    "dataset_modified",
    "document_cache",
    "reader_languages",
    "render_page",
    "requested_format",
    "respond",
]
