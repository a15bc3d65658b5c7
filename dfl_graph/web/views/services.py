"""Data service pages: ``/service/{slug}`` (a ``dcat:DataService``: an API, a query endpoint, a map service).

A service is a record like a dataset (docs/linked-data.md): it exists for the public when a public graph types it
``dcat:DataService`` (a restricted or non-public one answers exactly like an unknown IRI, 404), a withdrawn one
answers 410 with its ``dfl:WithdrawnService`` tombstone. Every representation is built from one document
(``queries/service-document.rq``); the page links the datasets it serves and the endpoints to use.
"""

from __future__ import annotations

from flask import Blueprint, Response
from pyoxigraph import Literal, NamedNode
from werkzeug.exceptions import NotFound

from dfl_graph.namespaces import DCAT, DCT, FOAF, PROV, RDF, VCARD
from dfl_graph.store import Snapshot
from dfl_graph.web.access import settings, snapshot
from dfl_graph.web.accounts import caller
from dfl_graph.web.documents import Document, service_document
from dfl_graph.web.representations import (
    Resource,
    dataset_modified,
    reader_languages,
    render_page,
    representations,
    requested_format,
    respond,
)
from dfl_graph.web.views.datasets import link, links, withdrawn_resource
from dfl_graph.web.views.paths import check_length, resolve

blueprint = Blueprint("services", __name__)


def service_model(document: Document) -> dict:
    """Everything a data service's page shows, as plain JSON (the page's ``.json`` twin)."""
    iri = document.iri
    base = settings().base
    contact = next(iter(document.iris(DCAT.contactPoint)), None)
    emails = document.iris(VCARD.hasEmail, contact) if contact else []
    return {
        "iri": iri,
        "title": document.text(DCT.title) or iri,
        "description": document.text(DCT.description),
        "identifier": document.text(DCT.identifier),
        "keywords": document.texts(DCAT.keyword),
        "endpoint_urls": document.iris(DCAT.endpointURL),
        "endpoint_descriptions": document.iris(DCAT.endpointDescription),
        "conforms_to": links(document, document.iris(DCT.conformsTo)),
        "serves": links(document, document.iris(DCAT.servesDataset)),
        "publisher": link(document, next(iter(document.iris(DCT.publisher)), None)),
        "licence": link(document, next(iter(document.iris(DCT.license)), None)),
        "access": link(document, next(iter(document.iris(DCT.accessRights)), None)),
        "themes": links(document, document.iris(DCAT.theme)),
        "issued": document.text(DCT.issued),
        "modified": document.text(DCT.modified),
        "landing_page": next(iter(document.iris(DCAT.landingPage)), None),
        "pages": document.iris(FOAF.page),
        "contact": (
            {
                "name": document.text(VCARD.fn, contact) or document.text(VCARD["organization-name"], contact),
                "email": emails[0].removeprefix("mailto:") if emails else None,
                "url": next(iter(document.iris(VCARD.hasURL, contact)), None),
            }
            if contact
            else None
        ),
        "source": next(iter(document.iris(PROV.wasDerivedFrom)), None),
        "representations": representations(iri[len(base) :]),
    }


def tombstone(current: Snapshot, iri: str) -> dict | None:
    """A withdrawn public service's tombstone (pattern lookups in the public graphs), or None."""
    node, kind = NamedNode(iri), current.uris.vocab.WithdrawnService
    for graph in current.public_graphs:
        if next(current.store.quads_for_pattern(node, RDF.type, kind, graph), None) is None:
            continue

        def first(predicate: NamedNode, graph: NamedNode = graph) -> str | None:
            found = next(current.store.quads_for_pattern(node, predicate, None, graph), None)
            return found.object.value if found is not None and isinstance(found.object, Literal) else None

        return {"title": first(DCT.title), "withdrawn_at": first(PROV.invalidatedAtTime)}
    return None


@blueprint.get("/service/<name>")
def service(name: str) -> Response:
    check_length()
    current = snapshot()
    uris = current.uris
    visibility = caller().visibility

    def exists(candidate: str) -> bool:
        iri = uris.service(candidate)
        return bool(service_document(current, iri, visibility)) or tombstone(current, iri) is not None

    slug, suffix = resolve(name, exists)
    fmt, negotiated = requested_format(suffix)
    iri = uris.service(slug)
    path = iri[len(uris.base) :]
    if not service_document(current, iri, visibility):
        withdrawn = tombstone(current, iri)
        if withdrawn is not None:
            resource = withdrawn_resource(current, iri, withdrawn, path, uris.vocab.WithdrawnService, "data service")
            return respond(resource, fmt, negotiated)
        raise NotFound(f"There is no data service at {iri} that you may read.")
    languages = reader_languages()

    def model(document: Document) -> dict:
        document.languages = languages
        return service_model(document)

    return respond(
        Resource(
            iri=iri,
            path=path,
            document=lambda: service_document(current, iri, visibility),
            html=lambda document: render_page(
                "service.html", service=model(document), alternates=model(document)["representations"]
            ),
            json=model,
            modified=lambda: dataset_modified(current, iri, visibility),
            languages=languages,
        ),
        fmt,
        negotiated,
    )


__all__ = ["blueprint", "service_model"]
