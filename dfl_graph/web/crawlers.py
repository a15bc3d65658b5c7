"""What crawlers and linked-data tools look for first: ``/.well-known/void``, ``/sitemap.xml``, ``/robots.txt``,
the JSON-LD context at ``/context.jsonld``, and the public named graphs (``/graph/{name}``) the VoID
description lists as subsets.

Sitemaps list every public dataset page (from the catalogue index, so nothing restricted) with its
``lastmod``; past ``sitemap_max_urls`` (50,000 by default, the sitemaps.org limit) ``/sitemap.xml``
becomes a sitemap index of ``/sitemap-pages.xml`` and ``/sitemap-datasets-{n}.xml``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from xml.sax.saxutils import escape

from flask import Blueprint, Response
from pyoxigraph import Literal, NamedNode, Triple
from werkzeug.exceptions import NotFound

from dfl_graph.namespaces import DCT, FOAF, PREFIXES, RDF, SD, VOID, XSD
from dfl_graph.queries import query_text
from dfl_graph.store import Snapshot
from dfl_graph.web.access import catalogue_index, settings, snapshot
from dfl_graph.web.documents import Document, catalog_document
from dfl_graph.web.feed import public_services
from dfl_graph.web.negotiation import HTML, JSON, JSON_LD, N_TRIPLES, RDF_XML, TURTLE
from dfl_graph.web.rdf_documents import published_context
from dfl_graph.web.representations import Resource, render_page, requested_format, respond, respond_fixed
from dfl_graph.web.views.paths import check_length
from dfl_graph.web.views.resources import resource_model

blueprint = Blueprint("crawlers", __name__)

VOID_FORMATS = (TURTLE, JSON_LD, RDF_XML, N_TRIPLES, HTML, JSON)  # RDF first: "*/*" gets Turtle
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FORMATS_NS = "http://www.w3.org/ns/formats/"
VOCABULARIES = ("dcat", "dct", "foaf", "vcard", "adms", "skos", "spdx", "dpv", "prov", "hydra")
EXAMPLE_RESOURCES = 3
# lastmod must be a W3C Datetime: a year, year-month, date, or date-time with a time zone
_W3C_DATETIME = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$")


# -- VoID --------------------------------------------------------------------------------------------
def void_triples(current: Snapshot) -> list[Triple]:
    """The VoID description of the public catalogue (counts from the manifest and one GROUP BY per generation)."""
    base = current.uris.base
    description = NamedNode(f"{base}/.well-known/void")
    dataset = NamedNode(f"{base}/.well-known/void#catalogue")
    catalog = NamedNode(current.uris.catalog())
    header = catalog_document(current)
    t = Triple
    triples = [
        t(description, RDF.type, VOID.DatasetDescription),
        t(description, DCT.title, Literal("VoID description of Data for London", language="en")),
        t(description, FOAF.primaryTopic, dataset),
        t(dataset, RDF.type, VOID.Dataset),
        t(dataset, DCT.title, Literal(header.text(DCT.title) or "Data for London", language="en")),
        t(dataset, FOAF.homepage, NamedNode(f"{base}/")),
        t(dataset, VOID.rootResource, catalog),
        t(dataset, VOID.sparqlEndpoint, NamedNode(f"{base}/sparql")),
        t(dataset, VOID.uriSpace, Literal(f"{base}/")),
        t(dataset, VOID.dataDump, NamedNode(f"{base}/catalog.nt")),
        t(dataset, VOID.dataDump, NamedNode(f"{base}/catalog.nq")),
        t(dataset, VOID.vocabulary, NamedNode(f"{base}/def/dfl#")),
        t(dataset, DCT.source, catalog),
    ]
    for literal_predicate in (DCT.description,):
        text = header.text(literal_predicate)
        if text:
            triples.append(t(dataset, literal_predicate, Literal(text, language="en")))
    for predicate in (DCT.publisher, DCT.license):
        triples += [t(dataset, predicate, NamedNode(iri)) for iri in header.iris(predicate)]
    triples += [t(dataset, VOID.vocabulary, NamedNode(PREFIXES[name])) for name in VOCABULARIES]
    for name in ("Turtle", "JSON-LD", "RDF_XML", "N-Triples", "N-Quads"):
        triples.append(t(dataset, VOID.feature, NamedNode(FORMATS_NS + name)))
    for record in catalogue_index(current).by_rank(1, EXAMPLE_RESOURCES):
        triples.append(t(dataset, VOID.exampleResource, NamedNode(record["iri"])))
    public = set(current.manifest.public_graphs)
    graphs = {g: info for g, info in current.manifest.graphs.items() if g in public}
    total = sum(int(info.get("quads") or 0) for info in graphs.values())
    triples.append(t(dataset, VOID.triples, Literal(str(total), datatype=XSD.integer)))
    classes = list(
        current.store.query(
            query_text("void-class-partitions"), default_graph=current.public_graphs, named_graphs=current.public_graphs
        )
    )
    triples.append(t(dataset, VOID.classes, Literal(str(len(classes)), datatype=XSD.integer)))
    entities = sum(int(row["entities"].value) for row in classes)
    triples.append(t(dataset, VOID.entities, Literal(str(entities), datatype=XSD.integer)))
    for number, row in enumerate(classes, start=1):
        partition = NamedNode(f"{base}/.well-known/void#class-{number}")
        triples += [
            t(dataset, VOID.classPartition, partition),
            t(partition, VOID["class"], row["class"]),
            t(partition, VOID.entities, Literal(row["entities"].value, datatype=XSD.integer)),
        ]
    for graph, info in sorted(graphs.items()):
        subset = NamedNode(graph)
        triples += [
            t(dataset, VOID.subset, subset),
            t(subset, RDF.type, VOID.Dataset),
            t(subset, RDF.type, SD.NamedGraph),
            t(subset, SD.name, subset),
            t(subset, VOID.triples, Literal(str(int(info.get("quads") or 0)), datatype=XSD.integer)),
        ]
        if info.get("source"):
            triples.append(t(subset, DCT.title, Literal(f"{info['source']} ({graph.rsplit('/graph/', 1)[-1]})")))
    return triples


def graph_triples(current: Snapshot, graph: str) -> list[Triple]:
    """A public named graph described as a VoID subset of the catalogue."""
    info = current.manifest.graphs.get(graph, {})
    node = NamedNode(graph)
    triples = [
        Triple(node, RDF.type, VOID.Dataset),
        Triple(node, RDF.type, SD.NamedGraph),
        Triple(node, SD.name, node),
        Triple(node, VOID.triples, Literal(str(int(info.get("quads") or 0)), datatype=XSD.integer)),
        Triple(NamedNode(f"{current.uris.base}/.well-known/void#catalogue"), VOID.subset, node),
    ]
    if info.get("source"):
        triples.append(Triple(node, DCT.title, Literal(f"{info['source']} ({graph.rsplit('/graph/', 1)[-1]})")))
    return triples


def described(iri: str, triples: Callable[[], list[Triple]], path: str, kind: str) -> Resource:
    """A resource whose document is built here rather than read from the store."""

    def model(document: Document) -> dict:
        return resource_model(document, kind, path)

    def html(document: Document) -> str:
        data = model(document)
        return render_page("resource.html", resource=data, alternates=data["representations"])

    return Resource(iri=iri, path=path, document=lambda: Document(iri, tuple(triples())), html=html, json=model)


@blueprint.get("/.well-known/void", defaults={"suffix": None})
@blueprint.get("/.well-known/void.<suffix>")
def void(suffix: str | None) -> Response:
    fmt, negotiated = requested_format(suffix, VOID_FORMATS)
    current = snapshot()
    iri = f"{current.uris.base}/.well-known/void"
    resource = described(iri, lambda: void_triples(current), "/.well-known/void", "void")
    resource.formats = VOID_FORMATS
    return respond(resource, fmt, negotiated)


@blueprint.get("/graph/<path:name>")
def graph(name: str) -> Response:
    check_length()
    current = snapshot()
    stem, dot, suffix = name.rpartition(".")
    graph_iri = current.uris.graph(name)
    chosen_suffix = None
    if graph_iri not in current.manifest.public_graphs and dot and "/" not in suffix:
        graph_iri, chosen_suffix = current.uris.graph(stem), suffix
    fmt, negotiated = requested_format(chosen_suffix)
    if graph_iri not in current.manifest.public_graphs:
        raise NotFound(f"There is no public named graph at {graph_iri}.")
    path = graph_iri[len(current.uris.base) :]
    return respond(described(graph_iri, lambda: graph_triples(current, graph_iri), path, "graph"), fmt, negotiated)


# -- sitemaps ----------------------------------------------------------------------------------------
def lastmod(value: str | None) -> str | None:
    if not value:
        return None
    if _W3C_DATETIME.match(value):
        return value
    return value[:10] if re.match(r"^\d{4}-\d{2}-\d{2}", value) else None


def url_entry(loc: str, modified: str | None) -> str:
    entry = f"<url><loc>{escape(loc)}</loc>"
    when = lastmod(modified)
    if when:
        entry += f"<lastmod>{when}</lastmod>"
    return entry + "</url>\n"


def page_urls(current: Snapshot) -> list[tuple[str, str | None]]:
    """The catalogue's own pages: home, catalogue, schemes, every publisher, theme and borough with datasets, and
    every public data service."""
    base = current.uris.base
    published = current.manifest.published_at
    urls = [(f"{base}/", published), (current.uris.catalog(), published)]
    urls += [(current.uris.scheme(kind), published) for kind in ("themes", "publishers", "boroughs")]
    index = catalogue_index(current)
    for facet in ("theme", "publisher", "borough"):
        urls += [(iri, published) for iri, _ in index.facet_counts(facet) if iri.startswith(base + "/")]
    urls += [(iri, published) for iri in public_services(current)]
    return urls


def urlset(entries: Iterator[str]) -> bytes:
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n'
    return (head + "".join(entries) + "</urlset>\n").encode()


def dataset_entries(current: Snapshot, first: int, count: int) -> Iterator[str]:
    for record in catalogue_index(current).by_rank(first, count):
        yield url_entry(record["iri"], record.get("modified") or record.get("issued"))


def sitemap_files(current: Snapshot) -> int:
    """How many dataset sitemaps there are (0: everything fits in /sitemap.xml itself)."""
    limit = settings().sitemap_max_urls
    datasets = catalogue_index(current).count()
    if datasets + len(page_urls(current)) <= limit:
        return 0
    return max(1, math.ceil(datasets / limit))


@blueprint.get("/sitemap.xml")
def sitemap() -> Response:
    current = snapshot()
    files = sitemap_files(current)
    base = current.uris.base

    def make() -> bytes:
        if files == 0:
            pages = (url_entry(loc, when) for loc, when in page_urls(current))
            return urlset(iter([*pages, *dataset_entries(current, 1, settings().sitemap_max_urls)]))
        published = lastmod(current.manifest.published_at)
        names = ["sitemap-pages.xml"] + [f"sitemap-datasets-{n}.xml" for n in range(1, files + 1)]
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">\n'
        body += "".join(
            f"<sitemap><loc>{base}/{name}</loc><lastmod>{published}</lastmod></sitemap>\n" for name in names
        )
        return (body + "</sitemapindex>\n").encode()

    return respond_fixed("/sitemap.xml", "application/xml; charset=utf-8", make, machine=False)


@blueprint.get("/sitemap-pages.xml")
def sitemap_pages() -> Response:
    current = snapshot()
    if sitemap_files(current) == 0:
        raise NotFound("The catalogue fits in one sitemap: see /sitemap.xml.")
    return respond_fixed(
        "/sitemap-pages.xml",
        "application/xml; charset=utf-8",
        lambda: urlset(url_entry(loc, when) for loc, when in page_urls(current)),
        machine=False,
    )


@blueprint.get("/sitemap-datasets-<int:number>.xml")
def sitemap_datasets(number: int) -> Response:
    current = snapshot()
    files = sitemap_files(current)
    if not 1 <= number <= files:
        raise NotFound(f"There is no dataset sitemap {number}; see /sitemap.xml.")
    limit = settings().sitemap_max_urls
    return respond_fixed(
        f"/sitemap-datasets-{number}.xml",
        "application/xml; charset=utf-8",
        lambda: urlset(dataset_entries(current, (number - 1) * limit + 1, limit)),
        machine=False,
    )


# -- robots.txt and the JSON-LD context ---------------------------------------------------------------
@blueprint.get("/robots.txt")
def robots() -> Response:
    base = settings().base
    text = (
        "# Data for London: every dataset page is in the sitemap; the catalogue is also a DCAT feed at /catalog.\n"
        "User-agent: *\n"
        "Allow: /\n"
        "Disallow: /sparql\n"
        "Disallow: /search\n"
        "Disallow: /api/\n"
        f"\nSitemap: {base}/sitemap.xml\n"
    )
    return respond_fixed("/robots.txt", "text/plain; charset=utf-8", text.encode, machine=False)


@blueprint.get("/context.jsonld")
def context() -> Response:
    document = published_context(settings().base)
    return respond_fixed(
        "/context.jsonld", JSON_LD.content_type, lambda: json.dumps(document, indent=1, ensure_ascii=False).encode()
    )


__all__ = ["blueprint", "void_triples"]
