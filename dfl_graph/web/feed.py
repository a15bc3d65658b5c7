"""The harvestable catalogue: ``/catalog`` paged with Hydra, and the complete dumps ``/catalog.nt`` and ``/catalog.nq``.

Every page is a DCAT-AP ``dcat:Catalog`` (its title, description and publisher from the vocabulary
graph) listing ``dcat:dataset`` for the page's datasets together with their full descriptions, so a
harvester that walks ``hydra:next`` gets the whole catalogue. Pages come from the catalogue index's
feed ranks (datasets in IRI order): page 1000 is an indexed range lookup like page 1, never an OFFSET.

- ``?page=N&per_page=M``: numbered pages with ``hydra:first``, ``previous``, ``next`` and ``last``.
- ``?modified_since=ISO-8601``: only datasets modified since then, paged by ``cursor`` (the IRI of the
  last dataset of the previous page, which stays valid when a new generation is published); these
  views have ``hydra:first`` and ``hydra:next``.
- ``/catalog.nt`` (without paging parameters) and ``/catalog.nq``: every quad of the public graphs,
  streamed in batches straight from the store, never built in memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, request, stream_with_context
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, serialize
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.http import is_resource_modified

from dfl_graph.datatypes import published
from dfl_graph.languages import localised
from dfl_graph.namespaces import DCAT, DCT, HYDRA, RDF, XSD
from dfl_graph.store import Snapshot
from dfl_graph.web.access import catalogue_index, settings, snapshot
from dfl_graph.web.documents import Document, catalog_document, dataset_document, merge, service_document
from dfl_graph.web.negotiation import HTML, JSON, N_QUADS, N_TRIPLES, RDF_FORMATS, RESOURCE_FORMATS, Format
from dfl_graph.web.representations import (
    MACHINE_HEADERS,
    Resource,
    last_modified,
    reader_languages,
    render_page,
    representations,
    requested_format,
    respond,
)

blueprint = Blueprint("feed", __name__)

DEFAULT_PER_PAGE = 100
PAGING_PARAMETERS = ("page", "per_page", "modified_since", "cursor")
DUMP_BATCH = 5000
_INTEGER = re.compile(r"^[0-9]{1,15}$")
_SINCE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$")


@dataclass(frozen=True)
class FeedRequest:
    """The validated paging parameters of one request."""

    per_page: int
    page: int | None = None
    modified_since: str | None = None
    cursor: str | None = None

    def query(self, **changes: object) -> str:
        """The canonical query string of this view (or of a sibling view with some parameters changed)."""
        values = {
            "modified_since": self.modified_since,
            "page": self.page,
            "cursor": self.cursor,
            "per_page": self.per_page if self.per_page != DEFAULT_PER_PAGE else None,
        }
        values.update(changes)
        ordered = [
            (k, values[k]) for k in ("modified_since", "page", "cursor", "per_page") if values.get(k) is not None
        ]
        return urlencode(ordered)


def _positive_integer(name: str, raw: str) -> int:
    if not _INTEGER.match(raw) or int(raw) < 1:
        raise BadRequest(f"{name} must be a whole number from 1 (got {raw[:40]!r})")
    return int(raw)


def checked_since(value: str) -> str:
    """An ISO 8601 year, year-month, date or date-time (time zones normalised to UTC "Z"), else 400."""
    problem = BadRequest(
        "modified_since must be an ISO 8601 date or date-time such as 2024-01-31 or 2024-01-31T09:00:00Z "
        f"(got {value[:60]!r})"
    )
    if not _SINCE.match(value):
        raise problem
    try:
        if "T" in value:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "Z"
            return value
        date.fromisoformat((value + "-01-01")[:10] if len(value) < 10 else value)
    except ValueError:
        raise problem from None
    return value


def parse_feed_request() -> FeedRequest:
    """Read and check page, per_page, modified_since and cursor; 400 with a message for anything wrong."""
    args = request.args
    per_page = DEFAULT_PER_PAGE
    if "per_page" in args:
        per_page = min(_positive_integer("per_page", args["per_page"]), settings().max_per_page)
    since = args.get("modified_since")
    if since is not None:
        since = checked_since(since.strip())
    cursor = args.get("cursor")
    if cursor is not None and (not cursor or len(cursor) > 2000 or not cursor.startswith(("http://", "https://"))):
        raise BadRequest("cursor must be the IRI of a dataset, as given in a hydra:next link")
    page = None
    if "page" in args:
        page = _positive_integer("page", args["page"])
        if cursor is not None or since is not None:
            raise BadRequest("page cannot be combined with cursor or modified_since: follow the hydra:next links")
    if page is None and cursor is None and since is None:
        page = 1
    return FeedRequest(per_page=per_page, page=page, modified_since=since, cursor=cursor)


@dataclass
class FeedPage:
    items: list[dict]
    total: int
    view: str
    collection: str
    first: str
    next: str | None = None
    previous: str | None = None
    last: str | None = None
    page: int | None = None
    pages: int | None = None
    services: list[str] = field(default_factory=list)  # the public data services (on a view's first page)


def public_services(current: Snapshot) -> list[str]:
    """The catalogue's public data services (``<catalog> dcat:service``): one pattern lookup per public graph. They
    are few (APIs and endpoints, not datasets), so a harvester gets them all on the first page of the feed."""
    catalog = NamedNode(current.uris.catalog())
    found = {
        q.object.value
        for graph in current.public_graphs
        for q in current.store.quads_for_pattern(catalog, DCAT.service, None, graph)
    }
    return sorted(found)


def feed_page(current: Snapshot, feed: FeedRequest) -> FeedPage:
    """The datasets of one view and its links, from the catalogue index."""
    index = catalogue_index(current)
    catalog = current.uris.catalog()

    def url(query: str) -> str:
        return f"{catalog}?{query}" if query else catalog

    if feed.page is not None:
        total = index.count()
        pages = max(1, math.ceil(total / feed.per_page))
        if feed.page > pages:
            raise NotFound(
                f"page {feed.page} is past the last page of the catalogue ({pages} at {feed.per_page} per page)"
            )
        items = index.by_rank((feed.page - 1) * feed.per_page + 1, feed.per_page)
        return FeedPage(
            services=public_services(current) if feed.page == 1 and feed.modified_since is None else [],
            items=items,
            total=total,
            view=url(feed.query()),
            collection=catalog,
            first=url(feed.query(page=1)),
            last=url(feed.query(page=pages)),
            next=url(feed.query(page=feed.page + 1)) if feed.page < pages else None,
            previous=url(feed.query(page=feed.page - 1)) if feed.page > 1 else None,
            page=feed.page,
            pages=pages,
        )
    items, has_next = index.after(feed.cursor or "", feed.per_page, feed.modified_since)
    total = index.count(feed.modified_since)
    next_url = url(feed.query(cursor=items[-1]["iri"])) if has_next and items else None
    return FeedPage(
        services=public_services(current) if not feed.cursor and feed.modified_since is None else [],
        items=items,
        total=total,
        view=url(feed.query()),
        collection=url(feed.query(cursor=None)),
        first=url(feed.query(cursor=None)),
        next=next_url,
    )


def hydra_triples(page: FeedPage, catalog: str) -> list[Triple]:
    collection, view = NamedNode(page.collection), NamedNode(page.view)
    triples = [
        Triple(collection, RDF.type, HYDRA.Collection),
        Triple(collection, HYDRA.totalItems, Literal(str(page.total), datatype=XSD.nonNegativeInteger)),
        Triple(collection, HYDRA.view, view),
        Triple(view, RDF.type, HYDRA.PartialCollectionView),
        Triple(view, HYDRA.first, NamedNode(page.first)),
    ]
    for predicate, target in ((HYDRA.next, page.next), (HYDRA.previous, page.previous), (HYDRA.last, page.last)):
        if target:
            triples.append(Triple(view, predicate, NamedNode(target)))
    for item in page.items:  # dcat:dataset for DCAT harvesters, hydra:member for generic Hydra clients
        triples.append(Triple(NamedNode(catalog), DCAT.dataset, NamedNode(item["iri"])))
        triples.append(Triple(collection, HYDRA.member, NamedNode(item["iri"])))
    triples += [Triple(NamedNode(catalog), DCAT.service, NamedNode(service)) for service in page.services]
    return triples


def page_document(current: Snapshot, page: FeedPage) -> Document:
    """The catalogue's description, the Hydra view, and the full documents of the page's datasets."""
    catalog = current.uris.catalog()
    datasets = [dataset_document(current, item["iri"]) for item in page.items]
    services = [service_document(current, iri) for iri in page.services]
    return merge([catalog_document(current), *datasets, *services], catalog, hydra_triples(page, catalog))


def page_model(current: Snapshot, page: FeedPage, header: Document) -> dict:
    catalog = current.uris.catalog()
    return {
        "catalog": catalog,
        "title": header.text(NamedNode("http://purl.org/dc/terms/title")) or "Data for London",
        "description": header.text(NamedNode("http://purl.org/dc/terms/description")),
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "view": page.view,
        "first": page.first,
        "previous": page.previous,
        "next": page.next,
        "last": page.last,
        "items": page.items,
        "services": [
            {"iri": iri, "title": service_document(current, iri).text(DCT.title) or iri} for iri in page.services
        ],
    }


def dump(current: Snapshot, quads: bool) -> Iterator[bytes]:
    """Every quad (or triple) of the public graphs, serialised in batches as they are read."""
    fmt = RdfFormat.N_QUADS if quads else RdfFormat.N_TRIPLES
    for graph in current.public_graphs:
        batch: list = []
        for quad in current.store.quads_for_pattern(None, None, None, graph):
            quad = published(quad)
            batch.append(quad if quads else quad.triple)
            if len(batch) >= DUMP_BATCH:
                yield serialize(batch, format=fmt)
                batch = []
        if batch:
            yield serialize(batch, format=fmt)


def respond_dump(quads: bool) -> Response:
    current = snapshot()
    fmt = N_QUADS if quads else N_TRIPLES
    etag = f"g{current.generation}-dump-{fmt.name}"
    modified = last_modified(current)
    headers = {**MACHINE_HEADERS, "Link": f'<{current.uris.catalog()}>; rel="describes"'}
    if not is_resource_modified(request.environ, etag=etag, last_modified=modified):
        response = Response(status=304, headers=headers)
    else:
        response = Response(stream_with_context(dump(current, quads)), headers=headers, content_type=fmt.content_type)
    response.set_etag(etag)
    response.last_modified = modified
    return response


@blueprint.get("/catalog", defaults={"suffix": None})
@blueprint.get("/catalog.<suffix>")
def catalog(suffix: str | None) -> Response:
    paged = any(name in request.args for name in PAGING_PARAMETERS)
    if suffix in (N_QUADS.name, N_TRIPLES.name) and not paged:
        return respond_dump(quads=suffix == N_QUADS.name)
    fmt, negotiated = requested_format(suffix, RESOURCE_FORMATS)
    current = snapshot()
    feed = parse_feed_request()
    page = feed_page(current, feed)
    query = feed.query()

    languages = reader_languages() if fmt == HTML else ()

    def html(document: Document) -> str:
        model = page_model(current, page, catalog_document(current))
        model["items"] = [localised(record, languages) for record in page.items]
        labels = catalogue_index(current).labels(r["publisher"] for r in page.items if r.get("publisher"))
        return render_page(
            "catalog.html", feed=model, labels=labels, alternates=representations("/catalog", query), nav_active=None
        )

    return respond(
        Resource(
            iri=current.uris.catalog(),
            path="/catalog",
            query=query,
            document=lambda: page_document(current, page),
            html=html,
            json=lambda _: page_model(current, page, catalog_document(current)),
            languages=languages,
        ),
        fmt,
        negotiated,
    )


__all__ = ["DEFAULT_PER_PAGE", "FeedRequest", "blueprint", "feed_page", "parse_feed_request"]


def site_root(fmt: Format, negotiated: bool) -> Response:
    """The site root ``/`` in RDF: the catalogue's description (the root is its ``foaf:homepage``), for linked-data
    clients that dereference it. Browsers and JSON clients get the Library's home page (``web/library.py``)."""
    current = snapshot()
    return respond(
        Resource(
            iri=settings().base + "/",
            path="/index",
            document=lambda: catalog_document(current),
            html=lambda _document: "",
            json=lambda _document: {},
            formats=(HTML, JSON, *RDF_FORMATS),
            key="site-root",
        ),
        fmt,
        negotiated,
    )
