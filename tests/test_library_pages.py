"""The Library's pages over real HTTP on the default catalogue: the home page and its charts, the search
page (facets, removable filters, paging), their ``.json`` twins, and search results as a Hydra
collection in every RDF format."""

from __future__ import annotations

import csv
import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import rdflib
from conftest import DEFAULT_CSV, LiveServer
from pyoxigraph import RdfFormat, parse
from rdflib.compare import isomorphic

from dfl_graph.uris import slugify

HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")


class Page(HTMLParser):
    """The parts of a page the tests look at: links (with classes), svgs, and all text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[dict] = []
        self.svgs: list[dict] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self._svg: dict | None = None
        self._in: list[str] = []
        self._link: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a":
            self._link = {**a, "text": ""}
            self.links.append(self._link)
        if tag == "svg":
            self._svg = {**a, "title": "", "desc": "", "bars": 0, "labels": []}
            self.svgs.append(self._svg)
        if self._svg is not None and tag == "rect" and "chart-bar" in a.get("class", ""):
            self._svg["bars"] += 1
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._svg = None
        if tag == "a":
            self._link = None
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._link is not None:
            self._link["text"] += data
        if self._svg is not None and self._in:
            if self._in[-1] == "title" and not self._svg["title"]:
                self._svg["title"] = data
            elif self._in[-1] == "desc":
                self._svg["desc"] += data
            elif self._in[-1] == "text":
                self._svg["labels"].append(data)

    def links_with(self, cls: str) -> list[dict]:
        return [link for link in self.links if cls in link.get("class", "").split()]

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


pytestmark = pytest.mark.both_backends


def csv_rows() -> list[dict]:
    with DEFAULT_CSV.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def theme_counts() -> Counter:
    counts: Counter = Counter()
    for row in csv_rows():
        for category in {c.strip() for c in row["categories"].split("|") if c.strip()}:
            counts[slugify(category)] += 1
    return counts


def year_counts() -> Counter:
    return Counter(row["date"].strip()[-4:] for row in csv_rows() if row["date"].strip())


def get_page(server: LiveServer, path: str, **params) -> Page:
    response = server.get(path, params=params)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/html")
    return Page(response.text)


# -- home ----------------------------------------------------------------------------------------------------------
def test_home_has_search_box_lists_and_charts_with_real_counts(default_server: LiveServer) -> None:
    page = get_page(default_server, "/")
    text = page.all_text
    assert f"Search {len(csv_rows())} datasets" in text
    assert "Recently updated" in text and "Themes" in text
    charts = {svg["id"]: svg for svg in page.svgs}
    assert {"chart-themes", "chart-publishers", "chart-years"} <= set(charts) or {"chart-themes", "chart-years"} <= set(
        charts
    )
    themes = charts["chart-themes"]
    # each bar is a link to that theme's search: a group of links, not an image
    assert themes["role"] == "group" and themes["title"] == "Datasets by theme"
    assert f"{themes['id']}-title" in page.ids and f"{themes['id']}-desc" in page.ids
    labels = {v["label"]: v["key"] for v in default_server.get("/index.json").json()["themes"]}
    for theme, count in theme_counts().items():
        label = next(label for label, key in labels.items() if key == theme)
        assert f"{label}: {count}" in themes["desc"], (label, count)
    assert themes["bars"] == len(labels)
    years = charts["chart-years"]
    for year, count in year_counts().items():
        assert f"{year}: {count}" in years["desc"]
        assert year in years["labels"]
    # each theme bar leads to that theme's search
    bar_links = [link for link in page.links if link.get("class") == "chart-link"]
    assert any("theme=health" in link["href"] for link in bar_links)


def test_home_json_twin_has_the_same_numbers(default_server: LiveServer) -> None:
    response = default_server.get("/index.json")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    data = response.json()
    assert data["datasets"] == len(csv_rows())
    by_theme = {t["key"]: t["count"] for t in data["charts"]["datasets_by_theme"]}
    for theme, count in theme_counts().items():
        assert by_theme[theme] == count
    years = {str(y["year"]): y["count"] for y in data["charts"]["datasets_by_year_of_last_update"]}
    assert years == dict(year_counts())
    assert data["charts"]["datasets_without_a_date"] == len(csv_rows()) - sum(year_counts().values())
    assert len(data["recently_updated"]) == 8
    negotiated = default_server.get("/", headers={"Accept": "application/json"})
    assert negotiated.json() == data and negotiated.headers["Vary"] == "Accept, Accept-Language"
    assert 'rel="alternate"; type="application/json"' in default_server.get("/").headers["Link"]


# -- search page -----------------------------------------------------------------------------------------------------
def test_search_page_shows_results_facets_and_counts(default_server: LiveServer) -> None:
    api = default_server.get("/api/search", params={"q": "crime"}).json()
    page = get_page(default_server, "/search", q="crime")
    assert f"{api['total']} datasets matching" in page.all_text
    assert "<mark>" in default_server.get("/search", params={"q": "crime"}).text
    values = page.links_with("facet-value")
    themes = {v["data-key"]: v for v in values if v["data-facet"] == "theme"}
    expected = {v["key"]: v["count"] for v in api["facets"]["theme"]}
    assert {k: int(v["text"].split()[-1].replace(",", "")) for k, v in themes.items()} == expected
    result_links = [link["href"] for link in page.links if link["href"].startswith("/dataset/")]
    assert [urljoin(default_server.url, h) for h in result_links[:20]] == [r["iri"] for r in api["results"]]


def test_clicking_a_facet_filters_and_the_active_filter_can_be_removed(default_server: LiveServer) -> None:
    page = get_page(default_server, "/search", q="rates")
    health = next(v for v in page.links_with("facet-value") if v["data-key"] == "health")
    count = int(health["text"].split()[-1])
    filtered_response = default_server.get(health["href"])
    filtered = Page(filtered_response.text)
    assert f"{count} datasets matching" in filtered.all_text
    active = filtered.links_with("remove-filter")
    assert len(active) == 1 and "Health" in active[0]["text"]
    assert parse_qs(urlsplit(health["href"]).query) == {"q": ["rates"], "theme": ["health"]}
    # a second value of the same facet is OR-ed: more results, both shown as active filters
    second = next(v for v in filtered.links_with("facet-value") if v["data-key"] == "employment-and-skills")
    both = Page(default_server.get(second["href"]).text)
    assert len(both.links_with("remove-filter")) == 2
    # removing the filter goes back to the unfiltered search
    back = Page(default_server.get(active[0]["href"]).text)
    assert not back.links_with("remove-filter")
    assert page.all_text.split(" datasets matching")[0].split()[-1] in back.all_text


def test_filters_named_by_iri_or_any_case_are_the_same_filter(default_server: LiveServer) -> None:
    by_key = default_server.get("/api/search", params={"theme": "health"}).json()
    for name in (f"{default_server.url}/theme/health", "HEALTH"):
        other = default_server.get("/api/search", params={"theme": name}).json()
        assert other["total"] == by_key["total"] and other["links"]["self"] == by_key["links"]["self"]
        page = get_page(default_server, "/search", theme=name)
        (remove,) = page.links_with("remove-filter")
        assert urlsplit(remove["href"]).query == ""


def test_paging_links_walk_every_result(default_server: LiveServer) -> None:
    total = default_server.get("/api/search", params={"q": "rates"}).json()["total"]
    path, seen = "/search?q=rates&per_page=10&group=0", []
    for _ in range(total // 10 + 2):
        page = Page(default_server.get(path).text)
        seen += [link["href"] for link in page.links if link["href"].startswith("/dataset/")]
        following = [link for link in page.links if link.get("rel") == "next"]
        if not following:
            break
        path = following[0]["href"]
    assert len(seen) == total == len(set(seen))
    last = Page(default_server.get(path).text)
    assert any(link.get("rel") == "prev" for link in last.links)
    assert any("aria-current" in link for link in last.links) or "Page" in last.all_text


def test_search_page_states_notices_for_odd_requests(default_server: LiveServer) -> None:
    assert "beyond the last page" in get_page(default_server, "/search", q="crime", page="50").all_text
    assert "no theme" in get_page(default_server, "/search", theme="nope").all_text
    bad = default_server.get("/search", params={"sort": "sideways"})
    assert bad.status_code == 400 and "sort must be one of" in bad.text


# -- machine twins -----------------------------------------------------------------------------------------------------
def test_search_json_twin_equals_the_api(default_server: LiveServer) -> None:
    params = {"q": "employment", "theme": "employment-and-skills", "page": "2", "per_page": "5"}
    twin = default_server.get("/search.json", params=params)
    api = default_server.get("/api/search", params=params)
    assert twin.status_code == api.status_code == 200
    assert twin.json() == api.json()
    assert twin.headers["Access-Control-Allow-Origin"] == "*"
    negotiated = default_server.get("/search", params=params, headers={"Accept": "application/json"})
    assert negotiated.json() == api.json() and "Accept" in negotiated.headers["Vary"]
    links = api.json()["links"]
    assert links["next"].startswith(default_server.url) and "page=3" in links["next"]
    assert "page=1" not in links["first"]


def test_search_results_as_a_hydra_collection_in_every_rdf_format(default_server: LiveServer) -> None:
    params = {"q": "rates", "per_page": "10", "page": "2"}
    api = default_server.get("/api/search", params=params).json()
    graphs = {}
    for suffix, media_type, fmt in [
        ("ttl", "text/turtle", "turtle"),
        ("jsonld", "application/ld+json", "json-ld"),
        ("rdf", "application/rdf+xml", "xml"),
        ("nt", "application/n-triples", "nt"),
    ]:
        by_suffix = default_server.get(f"/search.{suffix}", params=params)
        by_accept = default_server.get("/search", params=params, headers={"Accept": media_type})
        assert by_suffix.status_code == by_accept.status_code == 200
        assert by_suffix.headers["Content-Type"].startswith(media_type)
        assert by_accept.content == by_suffix.content and by_accept.headers["Vary"] == "Accept, Accept-Language"
        graphs[suffix] = rdflib.Graph().parse(data=by_suffix.content, format=fmt)
        if suffix in ("ttl", "nt", "rdf"):
            rdf_format = {"ttl": RdfFormat.TURTLE, "nt": RdfFormat.N_TRIPLES, "rdf": RdfFormat.RDF_XML}[suffix]
            assert list(parse(by_suffix.content, rdf_format))
    graph = graphs["ttl"]
    for other in graphs.values():
        assert isomorphic(graph, other)
    collection = next(graph.subjects(rdflib.RDF.type, HYDRA.Collection))
    assert int(graph.value(collection, HYDRA.totalItems)) == api["total"]
    assert {str(m) for m in graph.objects(collection, HYDRA.member)} == {r["iri"] for r in api["results"]}
    view = graph.value(collection, HYDRA.view)
    assert (view, rdflib.RDF.type, HYDRA.PartialCollectionView) in graph
    assert "page=2" in str(view) and str(collection).startswith(default_server.url + "/search?")
    assert "page=1" in str(graph.value(view, HYDRA.first)) and "page=3" in str(graph.value(view, HYDRA.next))
    assert "page=1" in str(graph.value(view, HYDRA.previous))
    pages = -(-api["total"] // 10)
    assert f"page={pages}" in str(graph.value(view, HYDRA.last))


def test_nothing_acceptable_is_a_406_and_head_works(default_server: LiveServer) -> None:
    response = default_server.get("/search", params={"q": "crime"}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    head = default_server.get("/search", params={"q": "crime"})
    assert default_server.get("/search.xyz").status_code == 404
    import requests

    assert requests.head(default_server.url + "/search?q=crime", timeout=30).status_code == head.status_code == 200
    assert default_server.get("/index.exe").status_code == 404
    assert default_server.get("/index.ttl").headers["Content-Type"].startswith("text/turtle")  # the catalogue, in RDF


def test_conditional_requests_get_304_until_the_catalogue_changes(default_server: LiveServer) -> None:
    for path in ("/", "/index.json", "/search?q=crime", "/search.ttl?q=crime"):
        first = default_server.get(path)
        etag = first.headers["ETag"]
        again = default_server.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and not again.content, path
        other = default_server.get(path + ("&" if "?" in path else "?") + "page=2", headers={"If-None-Match": etag})
        assert other.status_code == 200, path


# -- the dataset list partial other pages use -----------------------------------------------------------------
def test_dataset_list_partial_pages_a_themes_datasets(default_server: LiveServer) -> None:
    from flask import render_template

    from dfl_graph.config import Settings
    from dfl_graph.web.library import dataset_list
    from server import create_app

    app = create_app(Settings(data_dir=default_server.data_dir, base=default_server.url))
    theme = f"{default_server.url}/theme/health"
    with app.test_request_context("/theme/health?page=2"):
        listing = dataset_list("theme", theme, page=2, per_page=10, sort="title")
        assert listing.total == theme_counts()["health"]
        assert listing.pages == -(-listing.total // 10) and len(listing.items) == 10
        first_page = dataset_list("theme", theme, page=1, per_page=10, sort="title")
        titles = [i["title"] for i in first_page.items + listing.items]
        assert titles == sorted(titles, key=str.casefold)
        html = render_template("library/_dataset_list.html", listing=listing, heading="Datasets")
    page = Page(html)
    assert "Datasets (44)" in page.all_text or f"Datasets ({listing.total})" in page.all_text
    assert any(link.get("rel") == "next" and link["href"] == "/theme/health?page=3" for link in page.links)
    assert any(link.get("rel") == "prev" and link["href"] == "/theme/health" for link in page.links)
    assert any(link["href"] == "/search?theme=health" for link in page.links)
    with app.test_request_context("/theme/health?page=99"):
        beyond = render_template("library/_dataset_list.html", listing=dataset_list("theme", theme, page=99))
    assert "beyond the last page" in beyond and 'href="/theme/health?page=3"' in beyond


@pytest.mark.parametrize("path", ["/", "/search", "/search?q=crime&theme=health&sort=title"])
def test_pages_are_usable_on_a_phone(default_server: LiveServer, path: str) -> None:
    html = default_server.get(path).text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.search(r'<label[^>]*for="(home-q|search-q|site-search-q)"', html)


# -- browse, dataset and distribution pages on a catalogue with publishers and boroughs (issue 12) -----------------
@pytest.fixture(scope="module")
def london(tmp_path_factory: pytest.TempPathFactory):
    from london_catalogue import london_server

    with london_server(tmp_path_factory.mktemp("pages-london")) as server:
        yield server


def test_publisher_pages_count_chart_and_list_newest_first(london: LiveServer) -> None:
    total = london.get("/api/search", params={"publisher": "tfl"}).json()["total"]
    response = london.get("/publisher/tfl")
    page = Page(response.text)
    assert f"{total:,} datasets" in page.all_text
    assert {svg["id"] for svg in page.svgs} >= {"chart-publisher-by-theme", "chart-publisher-by-year"}
    assert "foaf:" not in response.text and "Agent" not in page.all_text  # words, not RDF jargon
    listed = london.get("/publisher/tfl.json").json()["datasets"]["items"]
    updated = [d["updated"] for d in listed]
    assert updated == sorted(updated, reverse=True) and len(listed) == 20
    by_title = Page(london.get("/publisher/tfl", params={"sort": "title"}).text)
    titles = [link["text"] for link in by_title.links if link["href"].startswith("/dataset/")]
    assert titles == sorted(titles, key=str.casefold)
    assert any(link["href"] == "/search.atom?publisher=tfl" for link in page.links)
    assert any(link["href"] == "/quality/tfl" for link in page.links)
    assert london.get("/publisher/tfl", params={"sort": "sideways"}).status_code == 400


def test_a_borough_page_links_to_its_council_and_lists_its_data(london: LiveServer) -> None:
    page = Page(london.get("/borough/E09000012").text)
    council = [link for link in page.links if link["href"] == "/publisher/hackney"]
    assert council and council[0]["text"] == "London Borough of Hackney"
    total = london.get("/api/search", params={"borough": "E09000012"}).json()["total"]
    assert f"{total:,} datasets" in page.all_text
    assert london.get("/borough/E09000012.json").json()["council"]["iri"].endswith("/publisher/hackney")


def test_scheme_pages_give_every_member_its_count_and_a_chart(london: LiveServer) -> None:
    page = Page(london.get("/publishers").text)
    counts = {v["key"]: v["count"] for v in london.get("/api/search").json()["facets"]["publisher"]}
    assert f"Transport for London ({counts['tfl']:,} datasets)" in page.all_text
    assert any(svg["id"] == "chart-publishers" for svg in page.svgs)


def test_a_dataset_page_keeps_lists_and_shows_quality_and_neighbours(london: LiveServer) -> None:
    stops = london.get("/api/search", params={"q": "hackney bus stops"}).json()["results"][0]
    html = london.get(stops["iri"][len(london.url) :]).text
    assert "<p>Bus stops in Hackney:</p><ul><li>their names</li><li>their positions</li></ul>" in html
    assert f"{stops['quality']['points']} of 405 points" in html
    assert "More from London Borough of Hackney" in html and "Related datasets" in html
    # the 2010 listing's monthly claimant counts are editions of one series
    monthly = sorted(r["title"] for r in csv_rows() if r["title"].startswith("GLA Claimant Count Model Output"))
    (edition,) = london.get("/api/search", params={"q": "claimant count model output"}).json()["results"]
    assert edition["title"] == monthly[-1] == "GLA Claimant Count Model Output 2010-02"
    assert edition["series"]["earlier"] == len(monthly) - 1
    assert "Other editions" in london.get(edition["iri"][len(london.url) :]).text


def test_a_distribution_page_names_its_dataset_and_previews_its_first_rows(london: LiveServer) -> None:
    stops = london.get("/api/search", params={"q": "hackney bus stops"}).json()["results"][0]["iri"]
    files = {d["title"]: d["iri"] for d in london.get(stops[len(london.url) :] + ".json").json()["distributions"]}
    csv_page = files["stops.csv"][len(london.url) :]
    page = Page(london.get(csv_page).text)
    assert "Part of Hackney bus stops" in page.all_text  # the dataset's title, not its slug
    assert any(link["href"] == csv_page + "/preview" for link in page.links)
    preview = london.get(csv_page + "/preview.json").json()
    assert preview["header"] == ["stop_id", "name", "borough", "lat", "lon"]
    assert preview["rows"][0] == ["490000001", "Hackney Central", "Hackney", "51.547", "-0.056"]
    assert len(preview["rows"]) == 10 and preview["more_rows"] and preview["problem"] is None
    table = london.get(csv_page + "/preview").text
    assert '<th scope="col">stop_id</th>' in table and "Hackney Central" in table
    as_json = london.get(files["stops.json"][len(london.url) :] + "/preview.json").json()
    assert as_json["header"] == ["stop_id", "name", "routes"] and as_json["rows"][0][2] == "[38, 242]"
    # a file with no preview: a clear 404 saying why
    zip_file = london.get("/api/search", params={"format": "ZIP", "per_page": 1}).json()["results"][0]["iri"]
    zipped = next(d["iri"] for d in london.get(zip_file[len(london.url) :] + ".json").json()["distributions"])
    missing = london.get(zipped[len(london.url) :] + "/preview")
    assert missing.status_code == 404 and "has no preview" in missing.text


def test_previews_never_reach_private_hosts_unless_allowed(london: LiveServer) -> None:
    from dfl_graph.config import Settings
    from server import create_app

    stops = london.get("/api/search", params={"q": "hackney bus stops"}).json()["results"][0]["iri"]
    csv_file = next(
        d["iri"]
        for d in london.get(stops[len(london.url) :] + ".json").json()["distributions"]
        if d["title"] == "stops.csv"
    )
    app = create_app(Settings(data_dir=london.data_dir, base=london.url))  # preview_local_hosts off
    with app.test_client() as client:
        preview = client.get(csv_file[len(london.url) :] + "/preview.json").get_json()
    assert preview["rows"] == [] and "not on the public internet" in preview["problem"]
