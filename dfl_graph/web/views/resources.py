"""Publishers, themes, boroughs, their concept schemes (``/publishers``, ``/themes``, ``/boroughs``) and our
vocabulary (``/def/dfl``, whose terms are ``/def/dfl#term``): one generic page per resource.

Each is its document from the public graphs (``queries/resource-document.rq``); a resource exists when
that document is not empty, so a publisher that only restricted records mention is a 404. Pages of a
publisher, theme or borough also show how many datasets it has, charts of them (by theme or publisher, by
year of last update) and list them newest first (``?sort=title``: A-Z), 20 at a time (``?page=``), with the
Library's ``dataset_list`` and its ``library/_dataset_list.html`` partial; a borough's page links to its
council as a publisher. The HTML says things in words (no ``foaf:Agent``); the RDF forms say everything.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from markupsafe import Markup
from pyoxigraph import Literal, NamedNode
from werkzeug.exceptions import BadRequest, NotFound

from dfl_graph.namespaces import DCT, PREFIXES, PROV, RDF, RDFS, SKOS
from dfl_graph.search.index import SearchRequest, search_index, search_index_for
from dfl_graph.web.access import settings, snapshot
from dfl_graph.web.accounts import caller
from dfl_graph.web.charts import Bar, bar_chart
from dfl_graph.web.documents import LABEL_PREDICATES, Document, resource_document
from dfl_graph.web.library import DatasetList, dataset_list, list_charts, list_sort
from dfl_graph.web.representations import (
    Resource,
    reader_languages,
    render_page,
    representations,
    requested_format,
    respond,
)
from dfl_graph.web.views.datasets import link, links
from dfl_graph.web.views.paths import check_length, local, resolve

blueprint = Blueprint("resources", __name__)

DATASETS_PER_PAGE = 20
MAX_LISTING_PAGE = 1_000_000
DESCRIPTION_PREDICATES = (DCT.description.value, SKOS.definition.value, RDFS.comment.value)
MEMBER_PREDICATES = (SKOS.inScheme.value, RDFS.isDefinedBy.value)
PROPERTY_LABELS = {
    SKOS.altLabel.value: "Also known as",
    SKOS.notation.value: "Code",
    SKOS.inScheme.value: "In scheme",
    SKOS.topConceptOf.value: "Top concept of",
    SKOS.hasTopConcept.value: "Top concepts",
    SKOS.exactMatch.value: "Same as (exact match)",
    SKOS.closeMatch.value: "Close match",
    SKOS.broadMatch.value: "Broader match",
    SKOS.scopeNote.value: "Scope note",
    "http://www.w3.org/2002/07/owl#sameAs": "Same as",
    RDFS.seeAlso.value: "See also",
    RDFS.domain.value: "Domain",
    RDFS.range.value: "Range",
    RDFS.isDefinedBy.value: "Defined by",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": "Type",
    "http://xmlns.com/foaf/0.1/homepage": "Home page",
    DCT.spatial.value: "Area",
    DCT.type.value: "Kind",
    PROV.wasDerivedFrom.value: "Source",
    DCT.license.value: "Licence",
    DCT.publisher.value: "Publisher",
    "http://www.w3.org/2002/07/owl#versionInfo": "Version",
}
# facet of the catalogue index listing a resource's datasets, by path segment
FACETS = {"publisher": "publisher", "theme": "theme", "borough": "borough"}
SECTIONS = {
    "publisher": "publishers",
    "theme": "themes",
    "borough": "boroughs",
    "publishers": "publishers",
    "themes": "themes",
    "boroughs": "boroughs",
}


def curie(iri: str) -> str:
    base = settings().base
    for prefix, namespace in {**PREFIXES, "dfl": f"{base}/def/dfl#"}.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def value_model(document: Document, term) -> dict:
    if isinstance(term, NamedNode):
        return {"iri": term.value, "label": document.label(term.value) or curie(term.value)}
    if isinstance(term, Literal):
        return {"value": term.value, "language": term.language}
    return {"value": str(term)}


def resource_model(document: Document, kind: str, path: str) -> dict:
    """Everything a resource page shows, as plain JSON (the page's ``.json`` twin)."""
    iri = document.iri
    properties = document.properties()
    description = next((document.text(NamedNode(p)) for p in DESCRIPTION_PREDICATES if p in properties), None)
    hidden = {*LABEL_PREDICATES, *DESCRIPTION_PREDICATES}
    rows = []
    for predicate in sorted(properties, key=lambda p: PROPERTY_LABELS.get(p, curie(p)).lower()):
        if predicate in hidden:
            continue
        values = [value_model(document, v) for v in document.values(NamedNode(predicate))]
        values = [v for v in values if v.get("language") in (None, "en")]
        if values:
            rows.append({"iri": predicate, "label": PROPERTY_LABELS.get(predicate, curie(predicate)), "values": values})
    members = []
    for subject in document.subjects():
        props = document.properties(subject)
        if subject != iri and any(iri in [v.value for v in props.get(p, [])] for p in MEMBER_PREDICATES):
            member_description = next(
                (document.text(NamedNode(p), subject) for p in DESCRIPTION_PREDICATES if p in props), None
            )
            members.append(
                {"iri": subject, "label": document.label(subject) or curie(subject), "description": member_description}
            )
    members.sort(key=lambda m: m["label"].lower())
    return {
        "iri": iri,
        "kind": kind,
        "label": document.label(iri) or curie(iri),
        "description": description,
        "types": links(document, document.types()),
        "properties": rows,
        "members": members,
        "representations": representations(path),
    }


def listing_page() -> int:
    """``?page=`` of a publisher's, theme's or borough's list of datasets (400 when it is not 1, 2, ...)."""
    raw = request.args.get("page")
    if raw is None:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LISTING_PAGE:
        raise BadRequest(f"page must be a whole number from 1 to {MAX_LISTING_PAGE:,} (got {raw[:40]!r})")
    return int(raw)


def add_datasets(model: dict, listing: DatasetList) -> dict:
    """A page of the resource's datasets (the Library's search index: title order, any depth)."""
    model["datasets"] = {
        "total": listing.total,
        "page": listing.page,
        "pages": listing.pages,
        "search": listing.search_url,
        "items": listing.items,
    }
    return model


def add_member_counts(model: dict, facet: str) -> dict:
    """Each member's number of datasets the caller may read (from the search index's facet counts: for a caller
    who sees beyond the public, those of everything it may read, which the index keeps once made)."""
    index, restriction = search_index_for(snapshot(), caller().visibility)
    counts = None
    if restriction is not None:
        everything = index.search(SearchRequest(per_page=1, facets=True), restriction)
        counts = {value.iri: value.count for value in everything.facets.get(facet, [])}
    for member in model["members"]:
        if counts is not None:
            member["datasets"] = counts.get(member["iri"], 0)
        else:
            value = index.value(facet, member["iri"])
            member["datasets"] = value.count if value else 0
    return model


def members_chart(model: dict, kind: str) -> tuple[str, Markup] | None:
    """(caption, chart) of the members with the most datasets (each bar goes to that member's page)."""
    ranked = sorted((m for m in model["members"] if m.get("datasets")), key=lambda m: -m["datasets"])[:15]
    if not ranked:
        return None
    bars = [Bar(m["label"], m["datasets"], local(m["iri"])) for m in ranked]
    caption = f"Datasets by {kind.rstrip('s')}" + (" (the 15 with most)" if len(model["members"]) > 15 else "")
    return caption, bar_chart(f"chart-{kind}", caption, bars)


def council(borough_iri: str) -> dict | None:
    """The council publishing for a borough, as a link (None when the catalogue names none)."""
    index = search_index(snapshot())
    publisher = index.council_of(borough_iri)
    if publisher is None:
        return None
    value = index.value("publisher", publisher)
    return {"iri": publisher, "label": value.label if value else publisher.rsplit("/", 1)[-1]}


def respond_resource(kind: str, iri: str, suffix: str | None) -> Response:
    current = snapshot()
    fmt, negotiated = requested_format(suffix)
    document = resource_document(current, iri)
    if not document:
        raise NotFound(f"There is no {kind} at {iri}.")
    path = iri[len(current.uris.base) :]
    page = listing_page() if kind in FACETS else 1
    sort = list_sort() if kind in FACETS else "updated"

    def listing(facets: bool = False) -> DatasetList:
        return dataset_list(FACETS[kind], iri, page=page, per_page=DATASETS_PER_PAGE, sort=sort, facets=facets)

    def model(doc: Document) -> dict:
        result = resource_model(doc, kind, path)
        if kind in FACETS:
            add_datasets(result, listing())
        elif kind in ("publishers", "themes", "boroughs"):
            add_member_counts(result, kind.rstrip("s"))
        if kind == "borough":
            result["council"] = council(iri)
        return result

    def html(doc: Document) -> str:
        data = resource_model(doc, kind, path)
        if kind in FACETS:  # in words: the types are for machines
            data["properties"] = [row for row in data["properties"] if row["iri"] != RDF.type.value]
        charts = []
        if kind in ("publishers", "themes", "boroughs"):
            add_member_counts(data, kind.rstrip("s"))
            charts = [c for c in [members_chart(data, kind)] if c]
        listed = listing(facets=True) if kind in FACETS else None
        if listed is not None:
            charts = list_charts(listed, FACETS[kind], f"chart-{kind}")
        return render_page(
            "resource.html",
            resource=data,
            listing=listed,
            charts=charts,
            council=council(iri) if kind == "borough" else None,
            alternates=data["representations"],
            nav_active=SECTIONS.get(kind),
        )

    languages = reader_languages() if kind in FACETS else ()  # its datasets' texts in the reader's language
    resource = Resource(iri=iri, path=path, document=lambda: document, html=html, json=model, languages=languages)
    query = [f"page={page}"] if page > 1 else []
    query += [f"sort={sort}"] if sort != "updated" else []
    resource.query = "&".join(query)
    return respond(resource, fmt, negotiated)


def _single(kind: str, name: str, mint) -> Response:
    check_length()
    current = snapshot()
    key, suffix = resolve(name, lambda candidate: bool(resource_document(current, mint(current.uris, candidate))))
    return respond_resource(kind, mint(current.uris, key), suffix)


@blueprint.get("/publisher/<name>")
def publisher(name: str) -> Response:
    return _single("publisher", name, lambda uris, key: uris.publisher(key))


@blueprint.get("/theme/<name>")
def theme(name: str) -> Response:
    return _single("theme", name, lambda uris, key: uris.theme(key))


@blueprint.get("/borough/<name>")
def borough(name: str) -> Response:
    return _single("borough", name, lambda uris, key: uris.borough(key))


def _scheme(kind: str, suffix: str | None) -> Response:
    return respond_resource(kind, snapshot().uris.scheme(kind), suffix)


@blueprint.get("/themes", defaults={"suffix": None})
@blueprint.get("/themes.<suffix>")
def themes(suffix: str | None) -> Response:
    return _scheme("themes", suffix)


@blueprint.get("/publishers", defaults={"suffix": None})
@blueprint.get("/publishers.<suffix>")
def publishers(suffix: str | None) -> Response:
    return _scheme("publishers", suffix)


@blueprint.get("/boroughs", defaults={"suffix": None})
@blueprint.get("/boroughs.<suffix>")
def boroughs(suffix: str | None) -> Response:
    return _scheme("boroughs", suffix)


@blueprint.get("/def/dfl", defaults={"suffix": None})
@blueprint.get("/def/dfl.<suffix>")
def vocabulary(suffix: str | None) -> Response:
    return respond_resource("vocabulary", f"{snapshot().uris.base}/def/dfl", suffix)


__all__ = ["blueprint", "curie", "link", "resource_model"]
