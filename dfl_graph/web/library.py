"""The Library: the home page, search with facets, and the JSON search API.

Pages read the generation's search index (:mod:`dfl_graph.search`), never the store. Every page has a
machine twin: ``/index.json`` for the home page; ``/search.json`` (= ``/api/search``) for results,
and the results as RDF by content negotiation or suffix (``/search.ttl``, ``.jsonld``, ``.rdf``,
``.nt``): a ``hydra:Collection`` of the matching datasets with ``hydra:totalItems`` and a
``hydra:PartialCollectionView`` for the page; ``/search.atom`` (and ``/feed.atom`` for everything) is an
Atom feed of the newest and most recently changed matches (:mod:`dfl_graph.web.atom`). ``?format=`` is
the format *facet* here, so a representation is chosen by suffix or ``Accept`` only.

Other views list a publisher's, theme's or borough's datasets with :func:`dataset_list` and the
``library/_dataset_list.html`` partial (see docs/library.md).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from flask import Blueprint, Response, g, render_template, request
from markupsafe import Markup
from pyoxigraph import Literal, NamedNode, Triple
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.http import is_resource_modified

from dfl_graph.format_kinds import normalise_formats
from dfl_graph.languages import record_texts
from dfl_graph.namespaces import DCAT, DCT, HYDRA, RDF, XSD
from dfl_graph.quality import RATING_LABELS, TOTAL_MAXIMUM, rating_of
from dfl_graph.queries import named_queries
from dfl_graph.search import QueryError, SearchIndex, SearchRequest, SearchResult, search_index
from dfl_graph.search.facets import BY_NAME, FACET_NAMES, FACETS, NOT_STATED, dataset_themes
from dfl_graph.search.index import MAX_PAGE, MAX_PER_PAGE, SORTS, FacetValue, Hit, Restriction, search_index_for
from dfl_graph.search.query import MAX_QUERY_CHARS
from dfl_graph.web.access import settings, snapshot
from dfl_graph.web.accounts import caller
from dfl_graph.web.atom import ATOM, ENTRIES, atom_feed
from dfl_graph.web.charts import Bar, bar_chart, column_chart
from dfl_graph.web.feed import site_root
from dfl_graph.web.negotiation import HTML, JSON, JSON_LD, N_TRIPLES, RDF_FORMATS, RDF_XML, TURTLE, Format, choose
from dfl_graph.web.prose import paragraphs
from dfl_graph.web.rdf_documents import serializer_for
from dfl_graph.web.representations import reader_languages

blueprint = Blueprint("library", __name__)
blueprint.add_app_template_filter(paragraphs, "paragraphs")


@blueprint.app_context_processor
def site_feed_url() -> dict:
    """The catalogue's Atom feed, absolute (every page's <head> links to it, as to its other alternates)."""
    return {"site_feed": settings().base + "/feed.atom"}


SEARCH_FORMATS: tuple[Format, ...] = (HTML, JSON, TURTLE, JSON_LD, RDF_XML, N_TRIPLES, ATOM)
HOME_FORMATS: tuple[Format, ...] = (HTML, JSON, *RDF_FORMATS)  # RDF: the catalogue's description (feed.site_root)
MACHINE_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Location, ETag, Last-Modified, Link",
}
SORT_LABELS = {"relevance": "Best match", "updated": "Newest first", "title": "Title A-Z"}
SWITCHES = {"group": "0", "spell": "0"}  # parameters that turn grouping and spelling correction off
FACETS_SHOWN = 8  # values listed before "show all"
MAX_SPARQL_WORDS = 8  # words of a search carried into its SPARQL query


# -- the request ------------------------------------------------------------------------------------------
def _integer(params: MultiDict, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {raw[:50]!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low:,} and {high:,}, not {value:,}")
    return value


def search_request(params: MultiDict | None = None, facets: bool = True) -> SearchRequest:
    """The search a request asks for (query string parameters); 400 for values that make no sense."""
    params = request.args if params is None else params
    q = params.get("q", "")
    if not isinstance(q, str):
        raise BadRequest("q must be a string")
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"the search text is {len(q):,} characters long; at most {MAX_QUERY_CHARS:,} are allowed")
    filters = {name: tuple(str(v) for v in params.getlist(name) if v) for name in FACET_NAMES}
    sort = params.get("sort") or None
    return SearchRequest(
        q=q,
        filters={k: v for k, v in filters.items() if v},
        sort=str(sort) if sort else None,
        page=_integer(params, "page", 1, 1, MAX_PAGE),
        per_page=_integer(params, "per_page", 20, 1, MAX_PER_PAGE),
        facets=facets,
        series=str(params.get("series"))[:64] if params.get("series") else None,
        group=_switch(params, "group"),
        spell=_switch(params, "spell"),
    )


def _switch(params: MultiDict, name: str) -> bool:
    """``group=0`` / ``spell=0`` (or false, no, off) turn a default-on behaviour off; 1 / true / yes / on keep it."""
    raw = str(params.get(name, "1")).strip().lower()
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on", ""):
        return True
    raise BadRequest(f"{name} must be 1 or 0 (true or false), not {raw[:20]!r}")


def _posted_params() -> MultiDict:
    """Search parameters of a POST (a form or a JSON object), for queries too long for a URL."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest('a JSON search must be an object such as {"q": "air quality", "theme": ["transport"]}')
        pairs = []
        for key, value in body.items():
            for item in value if isinstance(value, list) else [value]:
                if not isinstance(item, (str, int)) or isinstance(item, bool):
                    raise BadRequest(f"search parameter {str(key)[:50]!r} must be a string or a list of strings")
                pairs.append((str(key), str(item)))
        return MultiDict(pairs)
    return MultiDict(list(request.args.items(multi=True)) + list(request.form.items(multi=True)))


def run_search(index: SearchIndex, wanted: SearchRequest, restriction: Restriction | None = None) -> SearchResult:
    try:
        return index.search(wanted, restriction)
    except QueryError as error:
        raise BadRequest(str(error)) from None


def _choose(suffix: str | None, formats: tuple[Format, ...]) -> tuple[Format, bool]:
    g.dfl_formats = formats
    if suffix == ATOM.name and ATOM in formats:  # a format of the Library's own, unknown to negotiation's suffixes
        g.dfl_format = ATOM
        return ATOM, False
    fmt, negotiated = choose(suffix, None, request.headers.get("Accept"), formats)
    g.dfl_format = fmt
    return fmt, negotiated


# -- links ---------------------------------------------------------------------------------------------------
def state_of(result: SearchResult) -> list[tuple[str, str]]:
    """The parameters that define a result set (not the page), in a canonical order: filters by their
    keys (however the request named them), unknown filter values dropped."""
    wanted = result.request
    pairs: list[tuple[str, str]] = []
    if wanted.q:
        pairs.append(("q", wanted.q))
    for name in FACET_NAMES:
        pairs += [(name, v.key) for v in result.selected.get(name, ())]
    if wanted.series:
        pairs.append(("series", wanted.series))
    pairs += [(name, off) for name, off in SWITCHES.items() if not getattr(wanted, name)]
    if wanted.sort:
        pairs.append(("sort", wanted.sort))
    if wanted.per_page != 20:
        pairs.append(("per_page", str(wanted.per_page)))
    return pairs


def search_href(pairs: list[tuple[str, str]], page: int = 1, path: str = "/search") -> str:
    query = pairs + ([("page", str(page))] if page > 1 else [])
    return path + ("?" + urlencode(query) if query else "")


def toggle_href(result: SearchResult, facet: str, key: str) -> str:
    """The search with one facet value added, or removed if it is selected (back to page 1)."""
    pairs = state_of(result)
    if (facet, key) in pairs:
        pairs.remove((facet, key))
    else:
        pairs.append((facet, key))
    return request.script_root + search_href(pairs)


def absolute(path: str) -> str:
    return settings().base + path


# -- presenting a dataset -------------------------------------------------------------------------------------
def _value(index: SearchIndex, facet: str, iri: str | None) -> dict | None:
    if not iri:
        return None
    found = index.value(facet, iri)
    if found is None:
        return {"key": None, "iri": iri, "label": iri.rstrip("/").rsplit("/", 1)[-1]}
    return {"key": found.key, "iri": found.iri, "label": found.label}


def present(hit: Hit, index: SearchIndex) -> dict:
    """A dataset as lists show it and the JSON API returns it: its title and description in the reader's language
    (``Accept-Language``, English first: :func:`dfl_graph.languages.record_texts`), with the language's tag."""
    r = hit.record
    formats = [index.value("format", f.key) for f in normalise_formats(r.get("formats") or [])]
    title, description, language = record_texts(r, reader_languages())
    if (title, description) == (r.get("title", ""), r.get("description", "")):
        title_html, snippet_html = hit.title_html, hit.snippet_html
    else:
        title_html, snippet_html = index.marked(hit, title, description)
    return {
        "iri": hit.iri,
        "title": title,
        "language": language,
        "title_html": title_html,
        "snippet_html": snippet_html,
        "description": description,
        "publisher": _value(index, "publisher", r.get("publisher")),
        "themes": [v for v in (_value(index, "theme", t) for t in dataset_themes(r)) if v],
        "boroughs": [v for v in (_value(index, "borough", b) for b in r.get("boroughs") or []) if v],
        "formats": [{"key": f.key, "iri": f.iri, "label": f.label} for f in formats if f],
        "licence": _value(index, "licence", r.get("licence")),
        "access": _value(index, "access", r.get("access")),
        "access_reasons": [v for v in (_value(index, "reason", a) for a in r.get("access_reasons") or ()) if v],
        "personal_data": r.get("personal_data"),
        "frequency": _value(index, "frequency", r.get("frequency")),
        "status": r.get("status", "current"),
        "issued": r.get("issued"),
        "modified": r.get("modified"),
        "updated": r.get("modified") or r.get("issued"),
        "distributions": r.get("distributions", 0),
        "score": round(hit.score, 4),
        "quality": quality_badge(hit.quality),
        "series": (
            {
                "id": hit.series,
                "earlier": hit.earlier,
                "later": hit.later,
                "href": absolute(search_href([("series", hit.series)])),
            }
            if hit.earlier or hit.later
            else None
        ),
        "missing": hit.missing,
    }


def quality_badge(points: int | None) -> dict | None:
    """A dataset's metadata quality as pages and the API show it (None when it was not measured)."""
    if points is None:
        return None
    rating = rating_of(points)
    return {
        "points": points,
        "of": TOTAL_MAXIMUM,
        "percent": round(100 * points / TOTAL_MAXIMUM),
        "rating": rating,
        "label": RATING_LABELS[rating],
    }


# -- the list other pages embed --------------------------------------------------------------------------------
LIST_SORTS = {"updated": "Newest first", "title": "Title A-Z"}


@dataclass
class DatasetList:
    """One page of datasets, ready for ``library/_dataset_list.html``."""

    items: list[dict]
    total: int
    page: int
    per_page: int
    search_url: str  # the same list in the search page (with facets, sorting, text search)
    page_param: str = "page"
    sort: str = "updated"
    feed_url: str = ""  # the Atom feed of the list's new and changed datasets
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)  # counts of the list's datasets
    key: str = ""  # the key of the publisher, theme or borough listed

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    def page_url(self, page: int) -> str:
        """This page's URL with another page number (other query parameters kept)."""
        args = [(k, v) for k, v in request.args.items(multi=True) if k != self.page_param]
        if page > 1:
            args.append((self.page_param, str(page)))
        return request.script_root + request.path + ("?" + urlencode(args) if args else "")

    def sort_links(self) -> list[dict]:
        """The list in each order it can be read in (back to its first page)."""
        links = []
        for key, label in LIST_SORTS.items():
            args = [(k, v) for k, v in request.args.items(multi=True) if k not in (self.page_param, "sort")]
            if key != "updated":
                args.append(("sort", key))
            href = request.script_root + request.path + ("?" + urlencode(args) if args else "")
            links.append({"key": key, "label": label, "href": href, "current": key == self.sort})
        return links


def list_sort() -> str:
    """``?sort=`` of a publisher's, theme's or borough's list: newest first (default) or by title."""
    raw = request.args.get("sort") or "updated"
    if raw not in LIST_SORTS:
        raise BadRequest(f"sort must be one of {', '.join(LIST_SORTS)}, not {raw[:40]!r}")
    return raw


def dataset_list(
    facet: str, iri: str, page: int = 1, per_page: int = 20, sort: str = "updated", facets: bool = False
) -> DatasetList:
    """The datasets of one publisher, theme or borough (``facet`` = "publisher", "theme" or "borough"),
    a page at a time, newest first (or by title), from the search index: page 1000 costs about what page 1
    costs. With ``facets``, also the counts of the list's datasets per theme, publisher, year, ... (charts)."""
    index, restriction = search_index_for(snapshot(), caller().visibility)
    value = index.value(facet, iri)
    if value is None:
        return DatasetList([], 0, 1, per_page, request.script_root + "/search", sort=sort)
    wanted = SearchRequest(filters={facet: (value.key,)}, sort=sort, page=page, per_page=per_page, facets=facets)
    result = run_search(index, wanted, restriction)
    url = request.script_root + search_href([(facet, value.key)])
    feed = absolute(search_href([(facet, value.key)], path="/search.atom"))
    items = [present(h, index) for h in result.hits]
    return DatasetList(
        items, result.total, result.page, per_page, url, sort=sort, feed_url=feed, facets=result.facets, key=value.key
    )


def list_charts(listing: DatasetList, facet: str, chart_id: str) -> list[tuple[str, Markup]]:
    """(caption, chart) of a list's datasets by the most telling other facet (a publisher's by theme, a theme's
    by publisher), and by year of last update."""
    other = "publisher" if facet == "theme" else "theme"
    root = request.script_root
    values = [v for v in listing.facets.get(other, []) if v.count and v.key != NOT_STATED][:10]
    charts = []
    if values:
        caption = f"Datasets by {BY_NAME[other].label.lower()}" + (" (the ten with most)" if len(values) == 10 else "")
        bars = [Bar(v.label, v.count, root + search_href([(facet, listing.key), (other, v.key)])) for v in values]
        charts.append((caption, bar_chart(f"{chart_id}-by-{other}", caption, bars)))
    years = {v.key: v.count for v in listing.facets.get("year", []) if v.key != NOT_STATED and v.count}
    if years:
        caption = "Datasets by year of last update"
        charts.append((caption, column_chart(f"{chart_id}-by-year", caption, year_bars(years))))
    return charts


def year_bars(counts: dict[str, int], span: int = 40) -> list[Bar]:
    """One column per year from the first to the last with datasets (at most the last ``span``), gaps as 0."""
    if not counts:
        return []
    last = max(int(y) for y in counts)
    first = max(min(int(y) for y in counts), last - span + 1)
    return [Bar(str(y), counts.get(str(y), 0)) for y in range(first, last + 1)]


# -- responses -----------------------------------------------------------------------------------------------------
def _respond(body: bytes, fmt: Format, negotiated: bool, alternates: dict[Format, str], status: int = 200) -> Response:
    current = snapshot()
    links = [f'<{url}>; rel="alternate"; type="{f.media_type}"' for f, url in alternates.items()]
    headers = {"Link": ", ".join(links), "Content-Location": alternates[fmt]}
    headers["Vary"] = "Accept, Accept-Language" if negotiated else "Accept-Language"  # texts in the reader's language
    if fmt != HTML:
        headers.update(MACHINE_HEADERS)
    audience = caller().visibility.cache_key  # what one audience sees is never another's to revalidate
    audience += "+form" if caller().publishes_by_form else ""  # the header's "Publish" link
    languages = " ".join(reader_languages())
    digest = hashlib.sha1(f"{request.full_path}|{fmt.name}|{status}|{audience}|{languages}".encode()).hexdigest()[:20]
    etag = f"g{current.generation}-{digest}"
    if status == 200 and not is_resource_modified(request.environ, etag=etag):
        return Response(status=304, headers=headers)
    response = Response(body, status=status, headers=headers, content_type=fmt.content_type)
    response.set_etag(etag)
    return response


def _json_bytes(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


# -- home ----------------------------------------------------------------------------------------------------------
def _stated(index: SearchIndex, facet: str) -> list[FacetValue]:
    return [v for v in index.facet_values(facet) if v.key != NOT_STATED]


def _home_model(index: SearchIndex, restriction: Restriction | None = None) -> dict:
    """The home page's counts and lists: of the whole index, or (a caller who sees beyond the public, on the index
    of every dataset) of what the caller may read, from one search."""
    if restriction is None:
        themes, publishers = _stated(index, "theme"), _stated(index, "publisher")
        boroughs = _stated(index, "borough")
        years_counted, total, recent = index.updated_years, index.documents, index.recent(8)
    else:
        everything = index.search(SearchRequest(sort="updated", per_page=8, facets=True, group=False), restriction)
        facets = {name: [v for v in values if v.key != NOT_STATED] for name, values in everything.facets.items()}
        themes, publishers, boroughs = facets.get("theme", []), facets.get("publisher", []), facets.get("borough", [])
        years_counted = {v.key: v.count for v in facets.get("year", [])}
        total, recent = everything.total, everything.hits
    boroughs = sorted(boroughs, key=lambda v: v.label.casefold())
    years = [(b.label, b.value) for b in year_bars(years_counted)]
    undated = total - sum(years_counted.values())
    return {
        "datasets": total,
        "generation": index.generation,
        "themes": themes,
        "publishers": publishers,
        "boroughs": boroughs,
        "recent": [present(h, index) for h in recent],
        "by_theme": [(v, v.count) for v in themes],
        "by_publisher": [(v, v.count) for v in publishers[:10]],
        "by_year": years,
        "undated": undated,
    }


@blueprint.get("/")
@blueprint.get("/index.<suffix>")
def home(suffix: str | None = None) -> Response:
    if suffix is not None and suffix not in {f.name for f in HOME_FORMATS}:
        available = ", ".join(f".{f.name}" for f in HOME_FORMATS)
        raise NotFound(f"there is no {suffix[:40]!r} representation of the home page; available: {available}")
    fmt, negotiated = _choose(suffix, HOME_FORMATS)
    if fmt.rdf:
        return site_root(fmt, negotiated)
    index, restriction = search_index_for(snapshot(), caller().visibility)
    model = _home_model(index, restriction)
    alternates = {HTML: absolute("/"), JSON: absolute("/index.json")}
    if fmt == JSON:
        return _respond(_json_bytes(home_json(model)), fmt, negotiated, alternates)
    root = request.script_root
    charts = {
        "by_theme": bar_chart(
            "chart-themes",
            "Datasets by theme",
            [Bar(v.label, n, f"{root}/search?{urlencode({'theme': v.key})}") for v, n in model["by_theme"]],
        ),
        "by_publisher": bar_chart(
            "chart-publishers",
            "Datasets by publisher (the ten largest)",
            [Bar(v.label, n, f"{root}/search?{urlencode({'publisher': v.key})}") for v, n in model["by_publisher"]],
        ),
        "by_year": column_chart(
            "chart-years", "Datasets by year of last update", [Bar(y, n) for y, n in model["by_year"]]
        ),
    }
    html = render_template("library/home.html", model=model, charts=charts, nav_active="home", alternates=alternates)
    return _respond(html.encode(), fmt, negotiated, alternates)


def _facet_json(v: FacetValue) -> dict:
    return {"key": v.key, "iri": v.iri, "label": v.label, "count": v.count}


def home_json(model: dict) -> dict:
    base = settings().base
    return {
        "title": "Data for London",
        "datasets": model["datasets"],
        "generation": model["generation"],
        "themes": [_facet_json(v) for v in model["themes"]],
        "publishers": [_facet_json(v) for v in model["publishers"]],
        "boroughs": [_facet_json(v) for v in model["boroughs"]],
        "recently_updated": model["recent"],
        "charts": {
            "datasets_by_theme": [{"label": v.label, "key": v.key, "count": n} for v, n in model["by_theme"]],
            "datasets_by_publisher": [{"label": v.label, "key": v.key, "count": n} for v, n in model["by_publisher"]],
            "datasets_by_year_of_last_update": [{"year": int(y), "count": n} for y, n in model["by_year"]],
            "datasets_without_a_date": model["undated"],
        },
        "links": {
            "search": f"{base}/search",
            "search_api": f"{base}/api/search?q=",
            "catalog": f"{base}/catalog",
            "sparql": f"{base}/sparql",
        },
    }


# -- search --------------------------------------------------------------------------------------------------------
def result_json(result: SearchResult, index: SearchIndex) -> dict:
    wanted = result.request
    pairs = state_of(result)
    links = {"self": absolute(search_href(pairs, result.page, "/search.json"))}
    links["first"] = absolute(search_href(pairs, 1, "/search.json"))
    links["last"] = absolute(search_href(pairs, result.pages, "/search.json"))
    if result.page > 1:
        links["previous"] = absolute(search_href(pairs, min(result.page - 1, result.pages), "/search.json"))
    if result.page < result.pages:
        links["next"] = absolute(search_href(pairs, result.page + 1, "/search.json"))
    links["html"] = absolute(search_href(pairs, result.page))
    links["turtle"] = absolute(search_href(pairs, result.page, "/search.ttl"))
    links["atom"] = absolute(search_href(feed_pairs(pairs), path="/search.atom"))
    links["sparql"] = absolute(sparql_href(result))
    correction = result.correction
    return {
        "query": {
            "q": wanted.q,
            "understood": result.query.describe(),
            "related_terms": result.query.related,
            "filters": {f: [v.to_json() for v in values] for f, values in result.selected.items()},
            "series": wanted.series,
            "sort": result.sort,
            "page": result.page,
            "per_page": result.per_page,
            "corrected": (
                {"q": correction.corrected, "words": correction.words, "original": correction.original}
                if correction
                else None
            ),
            "partial": (
                {"groups": len(result.query.groups), "needed": result.partial} if result.partial is not None else None
            ),
        },
        "total": result.total,
        "results_grouped": result.results,
        "results_estimated": result.results_estimated,
        "pages": result.pages,
        "exhaustive_ranking": result.exhaustive,
        "notices": result.notices,
        "results": [present(h, index) for h in result.hits],
        "facets": {f: [v.to_json() for v in values] for f, values in result.facets.items()},
        "links": links,
    }


def result_triples(result: SearchResult) -> list[Triple]:
    """The results as a Hydra collection of dataset IRIs, the page as its partial view."""
    pairs = [p for p in state_of(result) if p[0] != "per_page"]
    per_page = [("per_page", str(result.per_page))] if result.per_page != 20 else []
    collection = NamedNode(absolute(search_href(pairs)))

    def page_iri(page: int) -> NamedNode:
        query = urlencode([*pairs, *per_page, ("page", str(page))])
        return NamedNode(absolute(f"/search?{query}"))

    view = page_iri(result.page)
    triples = [
        Triple(collection, RDF.type, HYDRA.Collection),
        Triple(collection, HYDRA.totalItems, Literal(str(result.total), datatype=XSD.integer)),
        Triple(collection, HYDRA.view, view),
        Triple(view, RDF.type, HYDRA.PartialCollectionView),
        Triple(view, HYDRA.first, page_iri(1)),
        Triple(view, HYDRA.last, page_iri(result.pages)),
    ]
    if result.query.describe():
        triples.append(
            Triple(collection, DCT.title, Literal(f"Datasets matching {result.query.describe()}", language="en"))
        )
    if 1 < result.page <= result.pages:
        triples.append(Triple(view, HYDRA.previous, page_iri(result.page - 1)))
    if result.page < result.pages:
        triples.append(Triple(view, HYDRA.next, page_iri(result.page + 1)))
    for hit in result.hits:
        member = NamedNode(hit.iri)
        title, _description, language = record_texts(hit.record, reader_languages())
        triples += [
            Triple(collection, HYDRA.member, member),
            Triple(member, RDF.type, DCAT.Dataset),
            Triple(member, DCT.title, Literal(title, language=language)),
        ]
    return triples


def _pager(result: SearchResult, pairs: list[tuple[str, str]]) -> list[dict]:
    """Page links: first, last, and a window around the current page."""
    shown = sorted({1, result.pages, *range(max(1, result.page - 2), min(result.pages, result.page + 2) + 1)})
    items, previous = [], 0
    for page in shown:
        if page - previous > 1:
            items.append({"gap": True})
        items.append(
            {"page": page, "href": request.script_root + search_href(pairs, page), "current": page == result.page}
        )
        previous = page
    return items


def feed_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A search's parameters as its feed takes them (the feed has its own order and page size)."""
    return [(k, v) for k, v in pairs if k not in ("sort", "per_page", "group")]


def sparql_href(result: SearchResult) -> str:
    """/sparql?query=... with the named "search-datasets" query bound to this search's words and filters."""
    text = named_queries()["search-datasets"].text
    body = "\n".join(line for line in text.splitlines() if not line.startswith("# @"))
    words = [t for g in result.query.groups for t in g if t.typed][:MAX_SPARQL_WORDS] or []
    bindings = {
        "word": " ".join(str(Literal(" ".join(t.words))) for t in words) or '""',
        "needed": str(result.partial or len(words) or 1),
    }
    for facet in ("publisher", "theme", "borough"):
        chosen = [v for v in result.selected.get(facet, ()) if v.iri]
        bindings[facet] = " ".join(str(NamedNode(v.iri)) for v in chosen) or "UNDEF"  # type: ignore[arg-type]
    lines = []
    for line in body.splitlines():
        stripped = line.strip()
        for name, value in bindings.items():
            if stripped.startswith(f"VALUES ?{name} "):
                line = line[: len(line) - len(line.lstrip())] + f"VALUES ?{name} {{ {value} }}"
        lines.append(line)
    query = f"# {result.query.describe() or 'every dataset'}: the search in SPARQL\n" + "\n".join(lines).strip() + "\n"
    return f"{request.script_root}/sparql?" + urlencode({"query": query})


def _atom_response(result: SearchResult, index: SearchIndex, negotiated: bool, site_wide: bool = False) -> Response:
    pairs = feed_pairs(state_of(result))
    self_path = "/feed.atom" if site_wide else search_href(pairs, path="/search.atom")
    alternates = {ATOM: absolute(self_path), HTML: absolute(search_href(pairs))}
    understood = result.query.describe()
    named = [v.label for values in result.selected.values() for v in values]
    scope = " · ".join(([f"“{understood}”"] if understood else []) + named)
    title = "Data for London: new and changed datasets" + (f" ({scope})" if scope else "")
    entries = [present(h, index) for h in result.hits]
    body = atom_feed(title, alternates[ATOM], alternates[HTML], entries, snapshot().manifest.published_at)
    return _respond(body, ATOM, negotiated, alternates)


def _facet_panels(result: SearchResult) -> list[dict]:
    panels = []
    for facet in FACETS:
        values = result.facets.get(facet.name, [])
        if not values:
            continue
        if not facet.shown_unstated and all(v.key == NOT_STATED and not v.selected for v in values):
            continue
        entries = [{"value": v, "href": toggle_href(result, facet.name, v.key)} for v in values]
        first = [e for i, e in enumerate(entries) if i < FACETS_SHOWN or e["value"].selected]
        rest = [e for i, e in enumerate(entries) if i >= FACETS_SHOWN and not e["value"].selected]
        panels.append(
            {
                "name": facet.name,
                "label": facet.label,
                "first": first,
                "rest": rest,
                "has_selected": any(v.selected for v in values),
            }
        )
    return panels


@blueprint.get("/search")
@blueprint.get("/search.<suffix>")
def search(suffix: str | None = None) -> Response:
    fmt, negotiated = _choose(suffix, SEARCH_FORMATS)
    wanted = search_request()
    if fmt == ATOM:  # a feed: newest and most recently changed first, one page
        wanted = replace(wanted, sort="updated", page=1, per_page=ENTRIES, facets=False, group=False)
    if fmt == ATOM:  # feeds are public only, for everyone
        index = search_index(snapshot())
        return _atom_response(run_search(index, wanted), index, negotiated)
    index, restriction = search_index_for(snapshot(), caller().visibility)
    result = run_search(index, wanted, restriction)
    pairs = state_of(result)
    alternates = {
        f: absolute(
            search_href(
                feed_pairs(pairs) if f == ATOM else pairs, wanted.page, "/search" + ("" if f == HTML else f".{f.name}")
            )
        )
        for f in SEARCH_FORMATS
    }
    if fmt == JSON:
        return _respond(_json_bytes(result_json(result, index)), fmt, negotiated, alternates)
    if fmt != HTML:
        body = serializer_for(settings().base).serialize(result_triples(result), fmt)
        return _respond(body, fmt, negotiated, alternates)
    active = [
        {"facet": BY_NAME[f].label, "value": v, "href": toggle_href(result, f, v.key)}
        for f, values in result.selected.items()
        for v in values
    ]
    sorts = [
        {"key": key, "label": SORT_LABELS[key], "selected": key == result.sort}
        for key in SORTS
        if key != "relevance" or not result.query.empty
    ]
    correction = result.correction
    original_href = None
    public = search_index(snapshot())  # the browse lists count the public catalogue
    if correction is not None:
        original_href = request.script_root + search_href([("q", correction.original), ("spell", "0")])
    html = render_template(
        "library/search.html",
        result=result,
        items=[present(h, index) for h in result.hits],
        facets=_facet_panels(result),
        facets_shown=FACETS_SHOWN,
        active=active,
        sorts=sorts,
        hidden=[(k, v) for k, v in pairs if k not in ("q", "sort", "spell")],  # a new search is spelled anew
        clear_href=request.script_root + search_href([("q", wanted.q)] if wanted.q else []),
        pager=_pager(result, pairs),
        prev_href=request.script_root + search_href(pairs, result.page - 1)
        if 1 < result.page <= result.pages
        else None,
        next_href=request.script_root + search_href(pairs, result.page + 1) if result.page < result.pages else None,
        original_href=original_href,
        sparql_href=sparql_href(result),
        feed_href=alternates[ATOM],
        browse={"themes": _stated(public, "theme"), "publishers": _stated(public, "publisher")[:12]},
        search_query=wanted.q,
        nav_active="search",
        alternates=alternates,
        rdf_formats=[(f, alternates[f]) for f in SEARCH_FORMATS if f not in (HTML, ATOM)],
    )
    return _respond(html.encode(), fmt, negotiated, alternates)


@blueprint.get("/feed.atom")
def site_feed() -> Response:
    """The Atom feed of the whole catalogue's new and changed datasets."""
    g.dfl_format = ATOM
    index = search_index(snapshot())
    wanted = SearchRequest(sort="updated", per_page=ENTRIES, facets=False, group=False)
    return _atom_response(run_search(index, wanted), index, False, site_wide=True)


@blueprint.route("/api/search", methods=["GET", "POST"])
def api_search() -> Response:
    """The JSON search API (the same document as ``/search.json``); POST a form or JSON object for
    searches longer than a URL may be."""
    g.dfl_format = JSON
    wanted = search_request(_posted_params() if request.method == "POST" else None)
    index, restriction = search_index_for(snapshot(), caller().visibility)
    result = run_search(index, wanted, restriction)
    alternates = {JSON: absolute(search_href(state_of(result), wanted.page, "/search.json"))}
    return _respond(_json_bytes(result_json(result, index)), JSON, False, alternates)


__all__ = ["DatasetList", "blueprint", "dataset_list", "present", "search_request"]
