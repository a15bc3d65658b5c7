"""Fetching a whole source, one fetcher per portal type; a source is fetched completely or not at all.

* ``datapress`` -- the DataPress v3 export (``/api/v3/datasets/export.json``): one JSON array;
* ``ckan`` -- the action API's ``package_search``, paged with ``rows``/``start`` in ``id`` order (stable
  while the portal changes), until ``start`` passes ``count``;
* ``datajson`` -- a DCAT-US 1.1 ``data.json`` catalogue (Socrata, ArcGIS Hub);
* ``dcat`` -- DCAT RDF (Turtle, RDF/XML, JSON-LD, N-Triples, TriG) following Hydra paging: the next page is
  ``hydra:next`` (``hydra:PartialCollectionView``) or ``hydra:nextPage`` (the older ``hydra:PagedCollection``
  that ckanext-dcat writes), as an IRI or as a literal, resolved against the page's URL.

Paging is loop-safe: a page URL or a page body seen before, a CKAN page that repeats the ids of an earlier
one, or more than ``max_pages`` pages stop the fetch with a :class:`FetchError` -- the source then stays as it
was (a partial fetch must never withdraw the records it did not reach).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urldefrag, urljoin, urlsplit

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize

from dfl_graph.harvest.config import SourceConfig
from dfl_graph.harvest.http import Body, FetchError, HttpClient
from dfl_graph.namespaces import HYDRA, RDF
from loaders.rdf_reading import RdfReadError, read_rdf

Progress = Callable[[str], None]
RDF_ACCEPT = (
    "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.8, application/n-triples;q=0.7,"
    " application/trig;q=0.6, application/n-quads;q=0.6, */*;q=0.1"
)
NEXT_PAGE = (HYDRA.next, HYDRA.nextPage)
VIEW_TYPES = (HYDRA.PartialCollectionView, HYDRA.PagedCollection)
PAGING_PREDICATES = frozenset(
    HYDRA[name].value
    for name in (
        "next",
        "nextPage",
        "previous",
        "previousPage",
        "first",
        "firstPage",
        "last",
        "lastPage",
        "view",
        "totalItems",
        "itemsPerPage",
        "member",
    )
)
EXTENSIONS = {".ttl": RdfFormat.TURTLE, ".rdf": RdfFormat.RDF_XML, ".xml": RdfFormat.RDF_XML}
EXTENSIONS |= {".jsonld": RdfFormat.JSON_LD, ".json": RdfFormat.JSON_LD, ".nt": RdfFormat.N_TRIPLES}
EXTENSIONS |= {".nq": RdfFormat.N_QUADS, ".trig": RdfFormat.TRIG, ".n3": RdfFormat.N3}


@dataclass
class Fetched:
    """Everything a source gave, ready for mapping: JSON items (with the URL of each item's own metadata
    record), or for RDF sources one N-Triples file of all pages merged."""

    items: list[dict] = field(default_factory=list)
    origins: list[str | None] = field(default_factory=list)
    rdf: Path | None = None
    rdf_triples: int = 0
    pages: int = 0
    declared_total: int | None = None  # what the source said it holds (CKAN count, hydra:totalItems)


def fetch(source: SourceConfig, client: HttpClient, progress: Progress | None = None) -> Fetched:
    """Fetch a whole source; FetchError if anything prevents a complete fetch."""
    say = progress or (lambda _message: None)
    return FETCHERS[source.type](source, client, say)


# -- JSON documents ---------------------------------------------------------------------------------------


def parse_json(body: Body, page: str = "") -> Any:
    raw = body.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FetchError(body.url, f"{page}not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        truncated = error.pos >= len(text.rstrip()) - 1
        hint = " (the body looks truncated)" if truncated else ""
        raise FetchError(
            body.url, f"{page}malformed JSON at line {error.lineno} column {error.colno}: {error.msg}{hint}"
        ) from None


def _site(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def fetch_datapress(source: SourceConfig, client: HttpClient, say: Progress) -> Fetched:
    say(f"fetching {source.url}")
    body = client.get(source.url, accept="application/json", expect="json")
    say(f"parsing {body.size:,} bytes")
    data = parse_json(body)
    if isinstance(data, dict) and "id" in data:
        data = [data]  # one /api/dataset/{id}
    if not isinstance(data, list):
        raise FetchError(
            source.url, f"expected a JSON array of datasets (a DataPress export), got a {type(data).__name__}"
        )
    site = _site(body.final_url)
    fetched = Fetched(pages=1, declared_total=len(data))
    for item in data:
        fetched.items.append(item)
        ident = item.get("id") if isinstance(item, dict) else None
        fetched.origins.append(f"{site}/api/dataset/{quote(str(ident), safe='')}" if ident not in (None, "") else None)
    return fetched


def fetch_datajson(source: SourceConfig, client: HttpClient, say: Progress) -> Fetched:
    say(f"fetching {source.url}")
    body = client.get(source.url, accept="application/json", expect="json")
    data = parse_json(body)
    if isinstance(data, dict) and isinstance(data.get("dataset"), list):
        items = data["dataset"]
    elif isinstance(data, list):
        items = data
    else:
        raise FetchError(source.url, "expected a DCAT-US data.json catalogue (an object with a `dataset` array)")
    fetched = Fetched(pages=1, declared_total=len(items))
    for item in items:
        fetched.items.append(item)
        origin = None
        if isinstance(item, dict):
            for key in ("identifier", "landingPage"):
                value = item.get(key)
                if isinstance(value, str) and value.strip().startswith(("http://", "https://")):
                    origin = value.strip()
                    break
        fetched.origins.append(origin)
    return fetched


def ckan_api_base(url: str) -> str:
    """The action API base (ending in ``/action/``) of a CKAN site root or action URL."""
    for marker in ("/api/3/action/", "/api/action/"):
        if marker in url:
            return url.split(marker, 1)[0] + marker
    return url.rstrip("/") + "/api/3/action/"


def fetch_ckan(source: SourceConfig, client: HttpClient, say: Progress) -> Fetched:
    api = ckan_api_base(source.url)
    rows = int(source.option("rows"))
    max_pages = int(source.option("max_pages"))
    params: dict[str, Any] = {"rows": rows, "sort": "id asc"}
    if source.option("q"):
        params["q"] = source.option("q")
    if source.option("fq"):
        params["fq"] = source.option("fq")
    fetched = Fetched()
    seen: set[str] = set()
    start = 0
    count = None
    while True:
        if fetched.pages >= max_pages:
            raise FetchError(api, f"more than {max_pages} pages of package_search: stopped (raise max_pages?)")
        page = fetched.pages + 1
        say(f"fetching page {page} (start={start})" + (f" of {count:,} datasets" if count is not None else ""))
        body = client.get(api + "package_search", params={**params, "start": start}, expect="json")
        data = parse_json(body, f"page {page}: ")
        result = _ckan_result(body.url, data)
        results = result.get("results")
        if not isinstance(results, list):
            raise FetchError(body.url, "package_search result has no `results` list")
        if isinstance(result.get("count"), int):
            count = result["count"]
        fetched.pages = page
        if not results:
            break
        fresh = 0
        for package in results:
            key = _package_key(package)
            if key is None:
                fetched.items.append(package)  # the loader reports it
                fetched.origins.append(None)
                continue
            if key in seen:
                continue
            seen.add(key)
            fresh += 1
            fetched.items.append(package)
            fetched.origins.append(f"{api}package_show?id={quote(key, safe='')}")
        if not fresh:
            raise FetchError(
                body.url, f"page {page} repeats only datasets already fetched: the portal seems to ignore `start`"
            )
        start += len(results)
        if count is not None and start >= count:
            break
    fetched.declared_total = count
    if count is not None and len(seen) < count:
        raise FetchError(
            api, f"incomplete: the portal reports {count:,} datasets but paging reached only {len(seen):,}"
        )
    return fetched


def _ckan_result(url: str, data: Any) -> dict:
    if not isinstance(data, dict) or ("result" not in data and "success" not in data):
        raise FetchError(url, "not a CKAN action API response (no `success`/`result`)")
    if data.get("success") is False:
        error = data.get("error")
        message = (error.get("message") or error.get("__type")) if isinstance(error, dict) else error
        raise FetchError(url, f"the CKAN API reported failure: {message or 'no message'}")
    result = data.get("result")
    if not isinstance(result, dict):
        raise FetchError(url, "package_search returned no result object")
    return result


def _package_key(package: Any) -> str | None:
    if not isinstance(package, dict):
        return None
    for key in ("name", "id"):
        value = package.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


# -- DCAT RDF with Hydra paging ---------------------------------------------------------------------------


def rdf_format(body: Body) -> RdfFormat:
    """The RDF syntax of a body: its media type, else the URL's extension, else a look at its first bytes."""
    if body.content_type:
        found = RdfFormat.from_media_type(body.content_type)
        if found is not None:
            return found
        if body.content_type == "application/json":
            return RdfFormat.JSON_LD
    suffix = Path(urlsplit(body.final_url).path).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    head = body.head().lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return RdfFormat.JSON_LD
    if head.startswith((b"<?xml", b"<rdf:RDF", b"<RDF")):
        return RdfFormat.RDF_XML
    return RdfFormat.TURTLE


def parse_page(body: Body, number: int) -> list[Triple]:
    """The triples of one page (graph names dropped), its blank nodes made unique to the page."""
    fmt = rdf_format(body)
    raw = body.read()
    try:
        quads = read_rdf(raw, fmt, body.final_url)
    except RdfReadError as error:
        where = f" at line {error.position.replace(':', ' column ')}" if error.position else ""
        raise FetchError(body.url, f"page {number} is not valid {fmt.name}{where}: {error.reason}") from None
    renamed: dict[str, BlankNode] = {}

    def fresh(term):
        if isinstance(term, BlankNode):
            return renamed.setdefault(term.value, BlankNode())
        return term

    return [Triple(fresh(q.subject), q.predicate, fresh(q.object)) for q in quads]


def next_page(triples: list[Triple], page_url: str, asked_url: str) -> str | None:
    """The next page's absolute URL from a page's Hydra paging triples, or None on the last page."""
    views = {t.object for t in triples if t.predicate == HYDRA.view}
    views |= {t.subject for t in triples if t.predicate == RDF.type and t.object in VIEW_TYPES}
    here = {NamedNode(page_url), NamedNode(asked_url)}
    candidates: list[tuple[int, str]] = []
    for t in triples:
        if t.predicate not in NEXT_PAGE:
            continue
        if isinstance(t.object, NamedNode):
            value = t.object.value
        elif isinstance(t.object, Literal) and t.object.value.strip():
            value = urljoin(page_url, t.object.value.strip())
        else:
            continue
        rank = 0 if t.subject in here else 1 if t.subject in views else 2
        candidates.append((rank, urldefrag(value)[0]))
    if not candidates:
        return None
    return min(candidates)[1]


def _total_items(triples: list[Triple]) -> int | None:
    for t in triples:
        if t.predicate == HYDRA.totalItems and isinstance(t.object, Literal) and t.object.value.isdigit():
            return int(t.object.value)
    return None


def fetch_dcat(source: SourceConfig, client: HttpClient, say: Progress) -> Fetched:
    max_pages = int(source.option("max_pages"))
    accept = source.option("accept") or RDF_ACCEPT
    fetched = Fetched()
    seen_urls: dict[str, int] = {}
    seen_bodies: dict[str, int] = {}
    merged = client.workdir / "merged.nt"
    url: str | None = source.url
    with merged.open("wb") as out:
        while url is not None:
            page = fetched.pages + 1
            if page > max_pages:
                raise FetchError(source.url, f"more than {max_pages} pages: stopped (a page loop, or raise max_pages)")
            key = urldefrag(url)[0]
            if key in seen_urls:
                raise FetchError(url, f"page loop: page {page - 1} links back to page {seen_urls[key]}")
            seen_urls[key] = page
            say(f"fetching page {page}: {url}")
            body = client.get(url, accept=accept, expect="rdf")
            digest = hashlib.sha256(body.read()).hexdigest()
            if digest in seen_bodies:
                raise FetchError(url, f"page loop: page {page} is the same document as page {seen_bodies[digest]}")
            seen_bodies[digest] = page
            triples = parse_page(body, page)
            fetched.pages = page
            if fetched.declared_total is None:
                fetched.declared_total = _total_items(triples)
            url = next_page(triples, body.final_url, url)
            content = [t for t in triples if t.predicate.value not in PAGING_PREDICATES]
            fetched.rdf_triples += len(content)
            if content:
                out.write(serialize(content, format=RdfFormat.N_TRIPLES))
            body.path.unlink(missing_ok=True)
    fetched.rdf = merged
    return fetched


FETCHERS: dict[str, Callable[[SourceConfig, HttpClient, Progress], Fetched]] = {
    "datapress": fetch_datapress,
    "ckan": fetch_ckan,
    "datajson": fetch_datajson,
    "dcat": fetch_dcat,
}

__all__ = ["FETCHERS", "Fetched", "ckan_api_base", "fetch", "next_page", "parse_page", "rdf_format"]
