"""Dataset and distribution pages: ``/dataset/{slug}`` and ``/dataset/{slug}/distribution/{id}``.

A dataset exists for the public when the catalogue index lists it (public graphs only): a restricted
dataset's IRI answers exactly like an unknown one (404), a withdrawn one 410 with its tombstone.
The HTML page and the ``.json`` twin are built from the same document as the RDF forms (its metadata
quality from the DQV measurements in it); the HTML page adds, from the search index, the other editions
of its series, more from its publisher and related datasets. A distribution's page shows its dataset's
title, and links to a preview of its first rows (``…/preview``: :mod:`dfl_graph.web.preview`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request
from pyoxigraph import Literal, NamedNode, Triple
from werkzeug.exceptions import Gone, NotFound

from dfl_graph.accounts import Visibility
from dfl_graph.languages import record_texts
from dfl_graph.namespaces import DCAT, DCT, DPV, DQV, PROV, RDF, SPDX, VCARD, XSD
from dfl_graph.quality import DIMENSIONS, MAXIMUM, measurement_iri
from dfl_graph.queries import named_queries
from dfl_graph.search.index import SearchRequest, search_index
from dfl_graph.store import Snapshot
from dfl_graph.web.access import catalogue_index, settings, snapshot
from dfl_graph.web.accounts import caller
from dfl_graph.web.documents import (
    Document,
    dataset_document,
    distribution_document,
    readable_graphs,
    service_document,
)
from dfl_graph.web.library import present, quality_badge, search_href
from dfl_graph.web.preview import preview, previewable
from dfl_graph.web.representations import (
    Resource,
    dataset_modified,
    reader_languages,
    render_page,
    representations,
    requested_format,
    respond,
)
from dfl_graph.web.views.paths import check_length, resolve

blueprint = Blueprint("datasets", __name__)

STATUS_LABELS = {"archived": "Archived", "superseded": "Superseded"}


def link(document: Document, iri: str | None) -> dict | None:
    """An IRI with its label (from the document) and its local path, for pages and the JSON twin."""
    if not iri:
        return None
    return {"iri": iri, "label": document.label(iri) or iri.rstrip("/").rsplit("/", 1)[-1]}


def links(document: Document, iris: list[str]) -> list[dict]:
    found = [link(document, iri) for iri in iris]
    return sorted((f for f in found if f), key=lambda item: item["label"].lower())


def sparql_link(iri: str) -> str:
    """/sparql?query=... with the named "dataset-about" query bound to this dataset by a VALUES clause."""
    text = named_queries()["dataset-about"].text
    body = "\n".join(line for line in text.splitlines() if not line.startswith("# @"))
    query = f"# About {iri}\n{body.strip()}\nVALUES ?dataset {{ {NamedNode(iri)} }}\n"
    return f"{request.script_root}/sparql?" + urlencode({"query": query})


def distribution_model(document: Document, iri: str) -> dict:
    checksum = next(iter(document.iris(SPDX.checksum, iri)), None)
    byte_size = document.text(DCAT.byteSize, iri)
    return {
        "iri": iri,
        "title": document.text(DCT.title, iri),
        "description": document.text(DCT.description, iri),
        "access_url": next(iter(document.iris(DCAT.accessURL, iri)), None),
        "download_url": next(iter(document.iris(DCAT.downloadURL, iri)), None),
        "media_type": link(document, next(iter(document.iris(DCAT.mediaType, iri)), None)),
        "format": link(document, next(iter(document.iris(DCT["format"], iri)), None)),
        "byte_size": int(byte_size) if byte_size and byte_size.isdigit() else None,
        "licence": link(document, next(iter(document.iris(DCT.license, iri)), None)),
        "services": links(document, document.iris(DCAT.accessService, iri)),
        "issued": document.text(DCT.issued, iri),
        "modified": document.text(DCT.modified, iri),
        "checksum": (
            {
                "algorithm": (document.iris(SPDX.algorithm, checksum) or [""])[0].rsplit("_", 1)[-1],
                "value": document.text(SPDX.checksumValue, checksum),
            }
            if checksum
            else None
        ),
    }


def dataset_model(document: Document, record: dict | None) -> dict:
    """Everything a dataset page shows, as plain JSON (the page's ``.json`` twin)."""
    iri = document.iri
    temporal = next(iter(document.iris(DCT.temporal)), None)
    contact = next(iter(document.iris(DCAT.contactPoint)), None)
    personal = document.text(NamedNode(f"{settings().base}/def/dfl#holdsPersonalData"))
    emails = document.iris(VCARD.hasEmail, contact) if contact else []
    distributions = [distribution_model(document, d) for d in document.iris(DCAT.distribution)]
    distributions.sort(key=lambda d: ((d["title"] or "").lower(), d["iri"]))
    status = (record or {}).get("status", "current")
    base = settings().base
    path = iri[len(base) :]
    return {
        "iri": iri,
        "title": document.text(DCT.title) or iri,
        "description": document.text(DCT.description),
        "identifier": document.text(DCT.identifier),
        "keywords": document.texts(DCAT.keyword),
        "publisher": link(document, next(iter(document.iris(DCT.publisher)), None)),
        "licence": link(document, next(iter(document.iris(DCT.license)), None)),
        "access": link(document, next(iter(document.iris(DCT.accessRights)), None)),
        "themes": links(document, [t for t in document.iris(DCAT.theme) if t.startswith(base + "/")]),
        "eu_themes": links(document, [t for t in document.iris(DCAT.theme) if not t.startswith(base + "/")]),
        "boroughs": links(document, document.iris(DCT.spatial)),
        "issued": document.text(DCT.issued),
        "modified": document.text(DCT.modified),
        "frequency": link(document, next(iter(document.iris(DCT.accrualPeriodicity)), None)),
        "temporal": (
            {"start": document.text(DCAT.startDate, temporal), "end": document.text(DCAT.endDate, temporal)}
            if temporal
            else None
        ),
        "contact": (
            {
                "name": document.text(VCARD.fn, contact),
                "email": emails[0].removeprefix("mailto:") if emails else None,
                "url": next(iter(document.iris(VCARD.hasURL, contact)), None),
            }
            if contact
            else None
        ),
        "landing_page": next(iter(document.iris(DCAT.landingPage)), None),
        "source": next(iter(document.iris(PROV.wasDerivedFrom)), None),
        "status": status,
        "status_label": STATUS_LABELS.get(status),
        "replaced_by": link(document, next(iter(document.iris(DCT.isReplacedBy)), None)),
        "personal_data": None if personal is None else personal == "true",
        "has_personal_data_dpv": DPV.PersonalData.value in document.iris(DPV.hasPersonalData),
        "access_reasons": links(document, document.iris(NamedNode(f"{base}/def/dfl#accessReason"))),
        "access_reason_note": document.text(NamedNode(f"{base}/def/dfl#accessReasonNote")),
        "personal_data_categories": links(
            document, [c for c in document.iris(DPV.hasPersonalData) if c != DPV.PersonalData.value]
        ),
        "legal_basis": links(document, document.iris(DPV.hasLegalBasis)),
        "distributions": distributions,
        "quality": quality_model(document),
        "representations": representations(path),
        "sparql": sparql_link(iri),
    }


def quality_model(document: Document) -> dict | None:
    """The dataset's metadata quality, from the DQV measurements in its document (None when it has none)."""
    dataset = NamedNode(document.iri)

    def points(dimension: str | None) -> int | None:
        value = document.text(DQV.value, measurement_iri(dataset, dimension).value)
        return int(value) if value is not None and value.lstrip("-").isdigit() else None

    badge = quality_badge(points(None))
    if badge is None:
        return None
    dimensions = [{"key": key, "label": label, "points": points(key), "of": MAXIMUM[key]} for key, label in DIMENSIONS]
    return {**badge, "dimensions": dimensions}


NEIGHBOURS = 5  # datasets in each of "more from this publisher" and "related"


def neighbours(record: dict, keywords: list[str]) -> dict:
    """Other editions of the dataset's series, more from its publisher, and related datasets (its keywords,
    within its themes), from the search index, each without the dataset itself and its editions."""
    index = search_index(snapshot())
    iri = record["iri"]
    series = index.series_of(iri)
    editions = [present(h, index) for h in index.editions(series)] if series else []
    skip = {iri, *(e["iri"] for e in editions)}

    def search(**wanted) -> list[dict]:
        result = index.search(SearchRequest(per_page=NEIGHBOURS + len(skip), facets=False, **wanted))
        return [present(h, index) for h in result.hits if h.iri not in skip][:NEIGHBOURS]

    publisher = index.value("publisher", record["publisher"]) if record.get("publisher") else None
    more = search(filters={"publisher": (publisher.key,)}, sort="updated") if publisher else []
    skip |= {m["iri"] for m in more}
    themes = tuple(v.key for v in (index.value("theme", t) for t in record.get("themes") or ()) if v)
    words = " OR ".join('"' + k.replace('"', " ") + '"' for k in keywords[:6])
    related = search(q=words, filters={"theme": themes} if themes else {}) if words else []
    if not related and themes:
        related = search(filters={"theme": themes}, sort="updated")
    root = request.script_root
    return {
        "editions": [e for e in editions if e["iri"] != iri],
        "more_from_publisher": more,
        "publisher_href": root + search_href([("publisher", publisher.key)]) if publisher else None,
        "related": related,
    }


def schema_org(model: dict) -> dict:
    """schema.org ``Dataset`` JSON-LD for dataset search engines (Google Dataset Search and the like)."""
    base = settings().base
    data: dict = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": model["iri"],
        "name": model["title"],
        "url": model["iri"],
        "includedInDataCatalog": {"@type": "DataCatalog", "name": "Data for London", "url": f"{base}/catalog"},
    }
    if model["description"]:
        data["description"] = model["description"]
    if model["identifier"]:
        data["identifier"] = model["identifier"]
    if model["keywords"]:
        data["keywords"] = model["keywords"]
    if model["licence"]:
        data["license"] = model["licence"]["iri"]
    if model["publisher"]:
        data["publisher"] = {
            "@type": "Organization",
            "name": model["publisher"]["label"],
            "url": model["publisher"]["iri"],
        }
    if model["boroughs"]:
        data["spatialCoverage"] = [{"@type": "Place", "name": b["label"], "@id": b["iri"]} for b in model["boroughs"]]
    temporal = model["temporal"]
    if temporal and (temporal["start"] or temporal["end"]):
        data["temporalCoverage"] = f"{temporal['start'] or '..'}/{temporal['end'] or '..'}"
    if model["modified"]:
        data["dateModified"] = model["modified"]
    if model["issued"]:
        data["datePublished"] = model["issued"]
    if model["access"]:
        data["isAccessibleForFree"] = model["access"]["iri"].endswith("/PUBLIC")
    downloads = []
    for d in model["distributions"]:
        url = d["download_url"] or d["access_url"]
        if not url:
            continue
        download = {"@type": "DataDownload", "contentUrl": url}
        if d["title"]:
            download["name"] = d["title"]
        encoding = d["media_type"]["iri"].split("/media-types/", 1)[-1] if d["media_type"] else None
        if encoding or d["format"]:
            download["encodingFormat"] = encoding or d["format"]["label"]
        if d["byte_size"] is not None:
            download["contentSize"] = f"{d['byte_size']} B"
        downloads.append(download)
    if downloads:
        data["distribution"] = downloads
    return data


def dataset_html(model: dict, record: dict) -> str:
    return render_page(
        "dataset.html",
        dataset=model,
        nearby=neighbours(record, model["keywords"]),
        schema_org=schema_org(model),
        alternates=model["representations"],
    )


def withdrawn_resource(
    current: Snapshot,
    iri: str,
    tombstone: dict,
    path: str,
    rdf_type: NamedNode | None = None,
    kind: str = "dataset",
) -> Resource:
    """A withdrawn dataset (or data service: ``rdf_type`` dfl:WithdrawnService): 410 Gone, with its tombstone in
    every format."""
    dfl = current.uris.vocab
    triples = [Triple(NamedNode(iri), RDF.type, rdf_type or dfl.WithdrawnDataset)]
    if tombstone.get("title"):
        triples.append(Triple(NamedNode(iri), DCT.title, Literal(tombstone["title"], language="en")))
    if tombstone.get("withdrawn_at"):
        triples.append(
            Triple(NamedNode(iri), PROV.invalidatedAtTime, Literal(tombstone["withdrawn_at"], datatype=XSD.dateTime))
        )
    model = {
        "iri": iri,
        "kind": kind,
        "status": "withdrawn",
        "title": tombstone.get("title"),
        "withdrawn_at": tombstone.get("withdrawn_at"),
    }
    return Resource(
        iri=iri,
        path=path,
        document=lambda: Document(iri, tuple(triples)),
        html=lambda _: render_page("withdrawn.html", dataset=model),
        json=lambda _: model,
        status=410,
    )


@blueprint.get("/dataset/<name>")
def dataset(name: str) -> Response:
    check_length()
    current = snapshot()
    index = catalogue_index(current)
    uris = current.uris
    visibility = caller().visibility

    def exists(candidate: str) -> bool:
        iri = uris.dataset(candidate)
        return index.dataset(iri, visibility) is not None or index.withdrawn(iri) is not None

    slug, suffix = resolve(name, exists)
    fmt, negotiated = requested_format(suffix)
    iri = uris.dataset(slug)
    path = iri[len(uris.base) :]
    record = index.dataset(iri, visibility)
    if record is None:
        tombstone = index.withdrawn(iri)
        if tombstone is not None:
            return respond(withdrawn_resource(current, iri, tombstone, path), fmt, negotiated)
        raise NotFound(f"There is no public dataset at {iri}.")
    languages = reader_languages()

    def model(document: Document) -> dict:
        document.languages = languages
        return {**dataset_model(document, record), "services": serving(current, iri, languages, visibility)}

    return respond(
        Resource(
            iri=iri,
            path=path,
            document=lambda: dataset_document(current, iri, visibility),
            html=lambda document: dataset_html(model(document), record),
            json=model,
            modified=lambda: dataset_modified(current, iri, visibility),
            languages=languages,
        ),
        fmt,
        negotiated,
    )


def serving(current: Snapshot, iri: str, languages: tuple[str, ...], visibility: Visibility) -> list[dict]:
    """The data services the caller may read that serve a dataset (``dcat:servesDataset``, pattern lookups in the
    caller's graphs: a service is published in its source's graph, which may not be the dataset's), with titles."""
    found = set()
    for graph in readable_graphs(current, visibility):
        found |= {
            q.subject.value for q in current.store.quads_for_pattern(None, DCAT.servesDataset, NamedNode(iri), graph)
        }
    result = []
    for service in sorted(found):
        document = service_document(current, service, visibility)
        if document:
            document.languages = languages
            result.append({"iri": service, "label": document.text(DCT.title) or service})
    return result


def distribution_html(model: dict) -> str:
    return render_page("distribution.html", distribution=model, alternates=model["representations"])


@blueprint.get("/dataset/<slug>/distribution/<name>")
def distribution(slug: str, name: str) -> Response:
    check_length()
    current = snapshot()
    index = catalogue_index(current)
    uris = current.uris
    visibility = caller().visibility
    dataset_iri = uris.dataset(slug)
    listed = index.dataset(dataset_iri, visibility) is not None

    def exists(candidate: str) -> bool:
        return listed and bool(distribution_document(current, uris.distribution(slug, candidate), visibility))

    dist_id, suffix = resolve(name, exists)
    fmt, negotiated = requested_format(suffix)
    iri = uris.distribution(slug, dist_id)
    if not exists(dist_id):
        tombstone = index.withdrawn(dataset_iri)
        if tombstone is not None:
            raise Gone(f"The dataset {dataset_iri} this distribution belonged to has been withdrawn.")
        raise NotFound(f"There is no public distribution at {iri}.")
    path = iri[len(uris.base) :]

    languages = reader_languages()
    record = index.dataset(dataset_iri, visibility) or {}

    def model(document: Document) -> dict:
        document.languages = languages
        result = distribution_model(document, iri)
        title = record_texts(record, languages)[0]
        result["dataset"] = {"iri": dataset_iri, "label": title or link(document, dataset_iri)["label"]}
        result["representations"] = representations(path)
        result["preview"] = f"{uris.base}{path}/preview" if previewable(result) else None
        return result

    return respond(
        Resource(
            iri=iri,
            path=path,
            document=lambda: distribution_document(current, iri, visibility),
            html=lambda document: distribution_html(model(document)),
            json=model,
            languages=languages,
        ),
        fmt,
        negotiated,
    )


@blueprint.get("/dataset/<slug>/distribution/<name>/preview")
@blueprint.get("/dataset/<slug>/distribution/<name>/preview.<suffix>")
def distribution_preview(slug: str, name: str, suffix: str | None = None) -> Response:
    """The first rows of a public distribution's CSV, TSV or JSON file (``.json``: the same as JSON)."""
    check_length()
    if suffix not in (None, "json"):
        raise NotFound(f"there is no {suffix[:40]!r} representation of a preview; available: .json")
    current = snapshot()
    uris = current.uris
    visibility = caller().visibility
    record = catalogue_index(current).dataset(uris.dataset(slug), visibility)
    iri = uris.distribution(slug, name)
    document = distribution_document(current, iri, visibility) if record is not None else None
    if not document:
        raise NotFound(f"There is no public distribution at {iri}.")
    model = distribution_model(document, iri)
    if not previewable(model):
        raise NotFound(
            f"{iri} has no preview: previews are of CSV, TSV and JSON files with a download URL, "
            f"of at most {settings().preview_max_bytes:,} bytes"
        )
    found = preview(model, current.generation)
    if suffix == "json":
        return jsonify(distribution=iri, dataset=record["iri"], **found.to_json())
    model["dataset"] = {"iri": record["iri"], "label": record.get("title") or record["iri"]}
    html = render_page("preview.html", distribution=model, preview=found)
    return Response(html, content_type="text/html; charset=utf-8")


__all__ = ["blueprint", "dataset_model", "schema_org"]
