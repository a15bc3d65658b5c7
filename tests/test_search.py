"""Search quality and safety, over HTTP, on the real default catalogue (the 2010 London Datastore
listing) plus a small DataPress export with restricted, private, archived and superseded datasets.

Expected results were picked by reading data/london-datastore-2010/london-datastore-2010-datasets.csv;
facet counts are recomputed here from the source files, independently of the index.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import DEFAULT_CSV, LiveServer, dfl, free_port, live_server, load_default
from pyoxigraph import Literal

from dfl_graph.namespaces import DCT
from dfl_graph.uris import slugify

EXTRA_SOURCE = "zebra-crossings"


def _resource(dataset_id: str, name: str, size: int = 1000) -> dict:
    return {
        "dataset": dataset_id,
        "webpage": f"https://data.london.gov.uk/dataset/{dataset_id}",
        "id": f"{dataset_id}-{name.replace('.', '-')}",
        "title": name,
        "url": f"https://data.london.gov.uk/download/{dataset_id}/{name}",
        "description": "",
        "timeframeFrom": None,
        "timeframeTo": None,
        "size": size,
        "hash": None,
        "timestamp": "2021-05-01T10:00:00",
        "filename": name,
    }


def _dataset(
    dataset_id: str, title: str, description: str, publisher: tuple[str, str], files: list[str], **extra
) -> dict:
    item = {
        "webpage": f"https://data.london.gov.uk/dataset/{slugify(title)}-{dataset_id}",
        "id": dataset_id,
        "description": f"<p>{description}</p>",
        "title": title,
        "createdAt": "2019-01-01T00:00:00.000Z",
        "updatedAt": extra.pop("updated", "2021-06-01T00:00:00.000Z"),
        "nextReviewDate": None,
        "sharing": extra.pop("sharing", "public"),
        "masthead": {"id": publisher[0], "title": publisher[1]},
        "team": {"id": f"{publisher[0]}-team", "title": publisher[1]},
        "topics": [{"id": "transport", "title": "Transport"}],
        "tags": extra.pop("tags", ["road-safety"]),
        "licence": {"id": "OGLv3", "title": "UK Open Government Licence (OGL v3)"},
        "contact": None,
        "resources": [_resource(dataset_id, f) for f in files],
        "links": [],
        "custom": extra.pop("custom", {}),
    }
    item.update(extra)
    return item


TFL = ("tfl", "Transport for London")
GLA = ("gla", "Greater London Authority")
COVERT = ("covert-zebra-unit", "Covert Zebra Unit")  # publishes only restricted data
EXTRA = [
    _dataset(
        "zeb01",
        "Zebra crossings in London boroughs with lighting survey results",
        "Locations of zebra crossings and the lighting measured at each.",
        TFL,
        ["zebra-crossings.csv", "zebra-crossings.geojson"],
        custom={"update_frequency": "Monthly", "borough": "Camden"},
    ),
    _dataset("zeb02", "Zebra crossings", "The old register of zebra crossings.", TFL, ["register.pdf"], archived=True),
    _dataset(
        "zeb03",
        "Zebra crossing counts 2015",
        "Pedestrian counts at zebra crossings in 2015.",
        GLA,
        ["counts-2015.xlsx"],
        custom={"status": "superseded"},
    ),
    _dataset(
        "zeb04",
        "Zebra crossing restricted inspection notes",
        "Restricted zebra crossing inspection notes (quagga).",
        COVERT,
        ["notes.csv"],
        sharing="restricted",
    ),
    _dataset(
        "zeb05",
        "Zebra crossing private complaints register",
        "Private complaints about zebra crossings (quagga).",
        GLA,
        ["complaints.csv"],
        sharing="private",
    ),
    _dataset(
        "zeb06",
        "Pelican crossings",
        "Signal-controlled pedestrian crossings.",
        GLA,
        ["pelican.csv"],
        custom={"borough": "Camden"},
    ),
]
PUBLIC_EXTRA = [d for d in EXTRA if d["sharing"] == "public"]
HIDDEN_TITLES = [d["title"] for d in EXTRA if d["sharing"] != "public"]


def csv_rows() -> list[dict]:
    with DEFAULT_CSV.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def csv_theme_counts() -> Counter:
    """Datasets per 2010 category, straight from the CSV (theme keys are the slugged labels)."""
    counts: Counter = Counter()
    for row in csv_rows():
        for category in {c.strip() for c in row["categories"].split("|") if c.strip()}:
            counts[slugify(category)] += 1
    return counts


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("search")
    data_dir = root / "catalogue"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    load_default(data_dir, base)
    export = root / "zebra-export.json"
    export.write_text(json.dumps(EXTRA, indent=1))
    dfl("--base", base, "load", "datapress", str(export), "--source", EXTRA_SOURCE, "--store", str(data_dir))
    with live_server(data_dir, port) as running:
        yield running


def api(server: LiveServer, **params) -> dict:
    response = server.get("/api/search", params=params)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def titles(result: dict) -> list[str]:
    return [r["title"] for r in result["results"]]


def shown_titles(server: LiveServer, result: dict, top: int) -> list[str]:
    """The titles of the first ``top`` results and of the earlier editions grouped under them."""
    found = []
    for r in result["results"][:top]:
        found.append(r["title"])
        if r["series"]:
            found += titles(api(server, series=r["series"]["id"], per_page=100))
    return found


# -- quality on the real 2010 listing ----------------------------------------------------------------------------
QUALITY = {
    "crime": ["Crime Rates, Borough", "Crime Attributable to Alcohol", "London Communities' Crime Concerns"],
    "population projections": [
        "GLA Population Projections 2009 Round, London Plan, Borough SYA",
        "GLA Population Projections 2008 Round, London Plan, Ward",
    ],
    "air quality": [
        "LAEI-2006 Modelled Annual Mean Concentration NO2 2006 Values",
        "LAEI-2006 Modelled Annual Mean Concentration NO2 2010 Values",
    ],
    "housing": ["Housing Sales", "Local Authority Housing Stock"],
    "unemployment": ["Model Based Unemployment Estimates", "Unemployment rate  (working-age and aged 16+)"],
    "underground": ["Accessibility of London Underground Stations"],
    "tube": ["Accessibility of London Underground Stations"],
    "recycling": ["Household Waste Recycling Rates", "Waste Re-use Centres"],
    "planning applications": ["LDD Planning Approvals by Borough 2009"],
    "schools": ["Physically Active Children"],
    "obesity": ["Prevalence of Childhood Obesity"],
    "life expectancy": ["Life Expectancy at Birth", "Life Expectancy at 65", "Life Expectancy by Deprivation"],
    "house prices": ["Average House Prices", "Ratio of House Prices to Earnings"],
    "knife crime": ["Ambulance Call Outs to Assaults with Knife Injuries"],
    "cycle hire": ["TfL Cycle Hire Locations"],
    "homelessness": ["Homelessness"],
    "flu": ["Influenza Rates", "Immunisations Against Influenza"],
    "binge drinking": ["Hazardous, Harmful and Binge Drinking Rates"],
    "census ethnic group": ["Census 2001 Key Statistics 06: Ethnic Group"],
}


@pytest.mark.parametrize("query", sorted(QUALITY))
def test_real_queries_find_the_expected_datasets_in_the_top_five(server: LiveServer, query: str) -> None:
    result = api(server, q=query)
    top = shown_titles(server, result, 5)
    for expected in QUALITY[query]:
        assert expected in top, f"{query!r}: {expected!r} not in the top five (or their editions) {top}"


def test_first_result_is_the_obvious_one(server: LiveServer) -> None:
    for query, first in {
        "underground": "Accessibility of London Underground Stations",
        "obesity": "Prevalence of Childhood Obesity",
        "homelessness": "Homelessness",
        "recycling": "Household Waste Recycling Rates",
        "cycle hire": "TfL Cycle Hire Locations",
    }.items():
        assert titles(api(server, q=query))[0] == first, query


@pytest.mark.parametrize(
    "query", ["crime", "employment", "births", "incidents", "population", "benefit", "police", "ward"]
)
def test_a_title_match_ranks_above_a_description_only_match(server: LiveServer, query: str) -> None:
    results = [r for r in api(server, q=query, per_page=100)["results"] if r["status"] == "current"]
    in_title = ["<mark>" in r["title_html"] for r in results]
    assert any(in_title) and not all(in_title), f"{query!r} should match both titles and descriptions only"
    first_without = in_title.index(False)
    assert all(in_title[:first_without]) and not any(in_title[first_without:]), [
        (r["title"], t) for r, t in zip(results, in_title, strict=True)
    ]


def test_stemming_matches_other_forms_of_a_word(server: LiveServer) -> None:
    singular = api(server, q="projection")
    assert "GLA Population Projections 2009 Round, London Plan, Borough SYA" in titles(singular)
    assert singular["total"] == api(server, q="projections")["total"]
    assert "Household Waste Recycling Rates" in titles(api(server, q="recycled"))
    assert "Immunisation Rates at 1st Birthday" in titles(api(server, q="immunised"))


def test_prefix_matches_words_that_start_with_it(server: LiveServer) -> None:
    result = api(server, q="immunis*")
    assert {"Immunisation Rates at 1st Birthday", "Immunisations Against Influenza"} <= set(titles(result))
    assert api(server, q="proj*")["total"] >= api(server, q="projections")["total"] > 0


def test_phrase_matches_words_in_order(server: LiveServer) -> None:
    phrase = api(server, q='"house prices"')
    assert set(titles(phrase)) == {"Average House Prices", "Ratio of House Prices to Earnings"}
    assert api(server, q='"prices house"')["total"] == 0
    assert api(server, q="house prices")["total"] >= phrase["total"]
    assert "<mark>House Prices</mark>" in phrase["results"][0]["title_html"]


def test_excluded_words_and_or(server: LiveServer) -> None:
    without = titles(api(server, q="crime -alcohol", per_page=100))
    assert "Crime Rates, Borough" in without and "Crime Attributable to Alcohol" not in without
    either = titles(api(server, q="tourism OR cycling", per_page=100))
    assert {"Tourism Trips", "Tourism Spend Estimates", "TfL Cycle Hire Locations"} <= set(either)


def test_snippets_highlight_the_matched_words(server: LiveServer) -> None:
    result = api(server, q="binge drinking")
    top = result["results"][0]
    assert "<mark>" in top["title_html"]
    assert "<mark>drinking</mark>" in top["snippet_html"].lower()
    # markup in catalogue text is escaped, never passed through
    assert "&amp;" in api(server, q="deliberate fire")["results"][0]["snippet_html"]


def test_sorting_by_title_and_by_last_update(server: LiveServer) -> None:
    by_title = titles(api(server, q="census", sort="title", per_page=100))
    assert by_title == sorted(by_title, key=str.casefold)
    updated = [r["updated"] for r in api(server, sort="updated", per_page=100)["results"]]
    assert updated == sorted(updated, reverse=True)


def test_paging_covers_every_match_once(server: LiveServer) -> None:
    total = api(server, q="rates")["total"]
    seen = []
    for page in range(1, total // 7 + 2):
        seen += [r["iri"] for r in api(server, q="rates", per_page=7, page=page, group=0)["results"]]
    assert len(seen) == total == len(set(seen))


def test_grouped_pages_show_each_series_once_and_its_editions_cover_the_rest(server: LiveServer) -> None:
    first = api(server, q="rates", per_page=7)
    assert first["results_grouped"] < first["total"]  # the 2010 listing has series ("… 2002-2003", "… 2003-2004")
    shown, editions = [], set()
    for page in range(1, first["pages"] + 1):
        for r in api(server, q="rates", per_page=7, page=page)["results"]:
            shown.append(r["iri"])
            if r["series"]:
                editions |= {e["iri"] for e in api(server, series=r["series"]["id"], per_page=100)["results"]}
    assert len(shown) == len(set(shown)) == first["results_grouped"]
    everything = {r["iri"] for r in api(server, q="rates", per_page=100, group=0)["results"]}
    assert everything <= set(shown) | editions


# -- facets ----------------------------------------------------------------------------------------------------------
def facet(result: dict, name: str) -> dict[str, int]:
    return {v["key"]: v["count"] for v in result["facets"][name]}


def test_theme_counts_equal_the_csv_categories(server: LiveServer) -> None:
    expected = csv_theme_counts()
    counts = facet(api(server), "theme")
    for theme, count in expected.items():
        extra = sum(1 for d in PUBLIC_EXTRA if theme == "transport")
        assert counts.get(theme) == count + extra, theme


def test_filters_are_or_within_a_facet_and_and_across_facets(server: LiveServer) -> None:
    expected = csv_theme_counts()
    health = api(server, theme="health")
    assert health["total"] == expected["health"]
    either = api(server, theme=["health", "housing"])
    rows = csv_rows()
    union = sum(1 for r in rows if {"Health", "Housing"} & {c.strip() for c in r["categories"].split("|")})
    assert either["total"] == union
    # a facet's own selection does not narrow its counts: the other themes keep theirs
    assert facet(health, "theme")["housing"] == expected["housing"]
    assert [v["key"] for v in health["facets"]["theme"] if v["selected"]] == ["health"]

    # AND across facets, against the DataPress export
    publishers = {v["label"]: v["key"] for v in api(server)["facets"]["publisher"]}
    gla, tfl = publishers["Greater London Authority"], publishers["Transport for London"]
    both = api(server, publisher=[gla, tfl])
    assert both["total"] == sum(1 for d in PUBLIC_EXTRA if d["masthead"]["id"] in ("gla", "tfl"))
    gla_csv = api(server, publisher=gla, format="CSV")
    expected_titles = {
        d["title"]
        for d in PUBLIC_EXTRA
        if d["masthead"]["id"] == "gla" and any(r["filename"].endswith(".csv") for r in d["resources"])
    }
    assert set(titles(gla_csv)) == expected_titles == {"Pelican crossings"}
    # counts of the format facet under the publisher filter
    gla_formats = Counter(
        r["filename"].rsplit(".", 1)[1].upper()
        for d in PUBLIC_EXTRA
        if d["masthead"]["id"] == "gla"
        for r in d["resources"]
    )
    assert facet(api(server, publisher=gla), "format") == dict(gla_formats)
    # a text query narrows the counts too
    assert api(server, q="zebra", publisher=tfl)["total"] == 2


def test_format_kinds_group_formats(server: LiveServer) -> None:
    result = api(server, q="crossings")
    kinds = facet(result, "kind")
    # the 2010 listing's river-boat "crossings" dataset lists no files: its kind is not stated
    assert kinds == {"tables": 3, "geospatial": 1, "reports": 1, "not-stated": 1}
    geospatial = api(server, q="crossings", kind="geospatial")
    assert titles(geospatial) == ["Zebra crossings in London boroughs with lighting survey results"]


def test_other_facets_come_from_the_records(server: LiveServer) -> None:
    result = api(server, q="crossings")
    assert facet(result, "frequency") == {"MONTHLY": 1, "not-stated": result["total"] - 1}
    # every facet accounts for every dataset: the 2010 river-boat dataset states no licence
    assert facet(result, "licence") == {"OGL_3_0": len(PUBLIC_EXTRA), "not-stated": result["total"] - len(PUBLIC_EXTRA)}
    assert facet(result, "access") == {"PUBLIC": result["total"]}  # the 2010 river-boat "crossings" too
    assert facet(result, "status") == {"current": 3, "archived": 1, "superseded": 1}
    camden = [v for v in result["facets"]["borough"] if v["label"] == "Camden"]
    assert camden and camden[0]["count"] == 2


def test_archived_and_superseded_rank_below_current_and_are_labelled(server: LiveServer) -> None:
    result = api(server, q="zebra crossings")
    statuses = [r["status"] for r in result["results"]]
    assert statuses == ["current", "archived", "superseded"] or statuses == ["current", "superseded", "archived"]
    # the archived "Zebra crossings" matches best on text alone, yet comes after the current one
    assert result["results"][0]["title"].startswith("Zebra crossings in London")
    html = server.get("/search", params={"q": "zebra crossings"}).text
    assert "Archived</span>" in html and "Superseded</span>" in html


# -- never anything but public datasets -------------------------------------------------------------------------------
def test_restricted_and_private_datasets_are_never_returned(server: LiveServer) -> None:
    for query in ("zebra", "quagga", "restricted inspection", "private complaints", "covert"):
        for result in api(server, q=query, per_page=100)["results"]:
            assert result["title"] not in HIDDEN_TITLES
    assert api(server, q="quagga")["total"] == 0
    everything = api(server, per_page=100)
    assert everything["total"] == 249 + len(PUBLIC_EXTRA)
    seen = set()
    for page in range(1, everything["pages"] + 1):
        seen |= set(titles(api(server, per_page=100, page=page)))
    assert not seen & set(HIDDEN_TITLES)
    publishers = {v["label"] for v in everything["facets"]["publisher"]}
    assert "Covert Zebra Unit" not in publishers
    assert server.get("/search", params={"q": "quagga"}).text.count("quagga") >= 1  # the query, not a result
    assert "Covert Zebra Unit" not in server.get("/search", params={"q": "zebra"}).text


def test_the_index_file_holds_no_restricted_text(server: LiveServer) -> None:
    current = (server.data_dir / "CURRENT").read_text().strip()
    index = server.data_dir / "generations" / f"{int(current):08d}" / "indexes" / "search.sqlite"
    db = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    texts = " ".join(row[0] for row in db.execute("SELECT title || ' ' || description FROM docs"))
    db.close()
    assert "quagga" not in texts and "Zebra crossings" in texts


# -- bad input: a clear message or sensible results, never a 500 -----------------------------------------------
ODD_QUERIES = [
    "",
    " ",
    '"',
    '""',
    '"unbalanced quote',
    "NEAR(crime housing)",
    "crime NEAR housing",
    "NEAR",
    "*",
    "**",
    "crime*",
    "c*",
    "-",
    "--",
    "-crime",
    "NOT crime",
    ":",
    "title:crime",
    "{title}: crime",
    "(",
    ")",
    "((crime",
    "crime))",
    "(crime OR",
    "AND",
    "OR",
    "crime AND",
    "OR crime",
    "^crime",
    "crime + housing",
    "'",
    "' OR 1=1 --",
    "DROP TABLE docs;",
    "\\",
    "%",
    "café",
    "🚇 underground",
    "crime\x00housing",
    "a " * 200,
    "x" * 1000,
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=lambda q: repr(q[:20]))
def test_odd_queries_never_fail(server: LiveServer, query: str) -> None:
    for path in ("/api/search", "/search", "/search.ttl"):
        response = server.get(path, params={"q": query})
        assert response.status_code == 200, (path, response.text[:300])
    result = api(server, q=query)
    assert isinstance(result["total"], int)


def test_queries_mean_what_they_say_despite_syntax_characters(server: LiveServer) -> None:
    assert api(server, q="crime*")["total"] >= api(server, q="crime")["total"] > 0
    assert api(server, q="((crime")["total"] == api(server, q="crime")["total"]
    # only an exclusion: every dataset without the word, and the page says so
    without = api(server, q="-crime", per_page=100)
    assert without["total"] == 249 + len(PUBLIC_EXTRA) - api(server, q="crime")["total"] > 0
    assert "every dataset without crime" in without["notices"]
    assert not any("crime" in r["title"].casefold() for r in without["results"])
    assert api(server, q="").get("total") == 249 + len(PUBLIC_EXTRA)


def test_a_ten_thousand_character_query_gets_a_clear_message(server: LiveServer) -> None:
    long = "crime " * 1700  # 10,200 characters
    # POSTed (form or JSON), it reaches the application: a 400 saying what is wrong
    for response in (
        requests.post(server.url + "/api/search", data={"q": long}, timeout=30),
        requests.post(server.url + "/api/search", json={"q": long, "theme": ["health"]}, timeout=30),
    ):
        assert response.status_code == 400
        assert "10,200 characters long; at most 1,000" in response.json()["error"]["message"]
    # in a URL it is longer than the server reads (8,190 bytes): a 414 that says so
    response = server.get("/api/search", params={"q": "x" * 10_000})
    assert response.status_code == 414 and "too large" in response.text
    # shorter but still too long: our own 400, in the format asked for
    for path in ("/api/search", "/search.json"):
        response = server.get(path, params={"q": "crime " * 1000})
        assert response.status_code == 400
        assert "at most 1,000" in response.json()["error"]["message"]
    page = server.get("/search", params={"q": "x" * 5000})
    assert page.status_code == 400 and "at most 1,000" in page.text


def test_posted_searches_equal_get_searches(server: LiveServer) -> None:
    got = api(server, q="crime", theme="crime-and-community-safety")
    posted = requests.post(
        server.url + "/api/search", json={"q": "crime", "theme": ["crime-and-community-safety"]}, timeout=30
    )
    assert posted.status_code == 200 and posted.json()["results"] == got["results"]
    bad = requests.post(server.url + "/api/search", json=["crime"], timeout=30)
    assert bad.status_code == 400 and "must be an object" in bad.json()["error"]["message"]


def test_many_words_are_capped_with_a_notice(server: LiveServer) -> None:
    result = api(server, q=" ".join(f"word{i}" for i in range(60)))
    assert any("first 32 words" in n for n in result["notices"])


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"theme": "no-such-theme"}, 200, "no theme 'no-such-theme'"),
        ({"publisher": "x" * 300}, 200, "no publisher"),
        ({"page": "999999"}, 200, "beyond the last page"),
        ({"q": "crime", "page": "3"}, 200, "beyond the last page"),
        ({"page": "0"}, 400, "page must be between"),
        ({"page": "-1"}, 400, "page must be between"),
        ({"page": "abc"}, 400, "page must be a whole number"),
        ({"page": "1" * 30}, 400, "page must be between"),
        ({"per_page": "1000"}, 400, "per_page must be between"),
        ({"per_page": "0"}, 400, "per_page must be between"),
        ({"sort": "bogus"}, 400, "sort must be one of"),
        ({"unknown": "ignored"}, 200, None),
    ],
)
def test_bad_parameters_get_a_clear_answer(server: LiveServer, params: dict, status: int, message: str | None) -> None:
    response = server.get("/api/search", params=params)
    assert response.status_code == status, response.text[:300]
    body = response.json()
    text = json.dumps(body)
    if message:
        assert message in text
    if status == 200:
        assert body["results"] == [] or body["total"] > 0
    html = server.get("/search", params=params)
    assert html.status_code == status
    if message:
        assert message.replace("'", "&#39;") in html.text or message in html.text


def test_unknown_filter_value_is_ignored_not_applied(server: LiveServer) -> None:
    result = api(server, theme=["no-such-theme", "health"])
    assert result["total"] == csv_theme_counts()["health"]
    assert any("no-such-theme" in n for n in result["notices"])


def test_sort_by_relevance_without_a_query_falls_back_to_recent(server: LiveServer) -> None:
    assert api(server, sort="relevance")["query"]["sort"] == "updated"


def test_search_survives_concurrent_requests(server: LiveServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    queries = list(QUALITY) * 3
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda q: requests.get(server.url + "/api/search", params={"q": q}, timeout=30).status_code, queries
            )
        )
    assert set(statuses) == {200}


def test_a_new_generation_is_searched_at_once(server: LiveServer, tmp_path: Path) -> None:
    """The index is rebuilt in the same publish as the store: a dataset withdrawn from its source is gone
    from search as soon as the load returns, and a new one is found."""
    base = server.url
    changed = [d for d in EXTRA if d["id"] != "zeb06"] + [
        _dataset("zeb07", "Puffin crossings", "Pedestrian user-friendly intelligent crossings.", GLA, ["puffin.csv"])
    ]
    export = tmp_path / "changed.json"
    export.write_text(json.dumps(changed))
    dfl("--base", base, "load", "datapress", str(export), "--source", EXTRA_SOURCE, "--store", str(server.data_dir))
    try:
        assert titles(api(server, q="puffin")) == ["Puffin crossings"]
        assert api(server, q="pelican")["total"] == 0
    finally:
        original = tmp_path / "original.json"
        original.write_text(json.dumps(EXTRA))
        dfl(
            "--base",
            base,
            "load",
            "datapress",
            str(original),
            "--source",
            EXTRA_SOURCE,
            "--store",
            str(server.data_dir),
        )
    assert titles(api(server, q="pelican")) == ["Pelican crossings"]


# -- the parts, directly -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ODD_QUERIES, ids=lambda q: repr(q[:20]))
def test_every_parsed_query_is_a_valid_fts5_expression(query: str) -> None:
    from dfl_graph.search.query import TEXT_COLUMNS, parse_query
    from dfl_graph.search.text import TOKENIZER

    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE fts USING fts5({', '.join(TEXT_COLUMNS)}, tokenize='{TOKENIZER}')")
    db.execute("INSERT INTO fts(title) VALUES ('crime and housing near the underground')")
    expression = parse_query(query).expression()
    if expression is not None:
        db.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (expression,)).fetchall()


def test_a_one_word_query_counts_what_fts5_matches(server: LiveServer) -> None:
    """A query of one plain word is counted from the ``terms`` table, not through FTS5: the same number for
    every word the London catalogue's text has (spread over common and rare ones), and for unknown words."""
    from dfl_graph.search import SearchRequest
    from dfl_graph.search.index import SearchIndex
    from dfl_graph.search.query import parse_query
    from dfl_graph.store import CatalogueReader

    index = SearchIndex(CatalogueReader(server.data_dir).snapshot().index_dir)
    words = [w for (w,) in index.db.execute("SELECT term FROM terms ORDER BY docs DESC, term") if w.isalpha()]
    assert len(words) > 500
    checked = 0
    for word in [*words[:: len(words) // 150], "london", "zebra", "pelicanesque"]:
        result = index.search(SearchRequest(q=word, facets=False, spell=False))
        expression = parse_query(word, index.places).expression()
        if expression is None or " OR " in expression:  # a synonym or a place: not one plain word
            continue
        fts = index.db.execute("SELECT COUNT(*) FROM fts WHERE fts MATCH ?", (expression,)).fetchone()[0]
        assert result.total == fts, word
        checked += 1
    assert checked > 100


def test_snippets_keep_their_marks_balanced() -> None:
    from dfl_graph.search.index import marked_html, snippet

    words = [f"w{i}" for i in range(100)]
    words[60] = "\x01air"
    words[61] = "quality\x02"
    text = snippet(" ".join(words), size=10)
    assert text.startswith("…") and text.endswith("…")
    assert marked_html(text).count("<mark>") == marked_html(text).count("</mark>") == 1
    # a window that starts inside a marked phrase
    words = ["\x01" + "w0"] + [f"w{i}" for i in range(1, 40)] + ["end\x02"] + [f"x{i}" for i in range(60)]
    assert marked_html(snippet(" ".join(words), size=5)).count("<mark>") <= 1
    assert "<" not in marked_html("a <b> & c").replace("&lt;", "").replace("&gt;", "")


def test_an_in_place_write_updates_the_index_as_a_rebuild_would(tmp_path: Path) -> None:
    """An incremental harvest publishes ``changes.json``; the search index is then updated from the previous
    generation's, and must answer exactly as one rebuilt from scratch for the same generation."""

    from pyoxigraph import NamedNode, Quad

    from dfl_graph.dcat import DcatApWriter
    from dfl_graph.indexes.catalogue import build_catalogue_index
    from dfl_graph.indexes.registry import open_writer
    from dfl_graph.records import DatasetRecord
    from dfl_graph.search import SearchRequest
    from dfl_graph.search.build import build_search_index
    from dfl_graph.search.index import SearchIndex
    from dfl_graph.store import CatalogueReader
    from dfl_graph.uris import Uris
    from dfl_graph.vocabularies import Vocabularies

    base = "http://127.0.0.1:9"
    data_dir = tmp_path / "catalogue"
    load_default(data_dir, base)
    export = tmp_path / "zebra.json"
    export.write_text(json.dumps(EXTRA))
    dfl("--base", base, "load", "datapress", str(export), "--source", EXTRA_SOURCE, "--store", str(data_dir))
    uris = Uris(base)
    graph = NamedNode(uris.source_graph(EXTRA_SOURCE))
    before = SearchIndex(CatalogueReader(data_dir).snapshot().index_dir)
    pelican, counts = (
        next(h.iri for h in before.search(SearchRequest(q=q)).hits) for q in ("pelican", '"counts 2015"')
    )
    with open_writer(data_dir, uris) as store:
        gone = [
            q
            for q in store.store.quads_for_pattern(None, None, None, graph)
            if q.subject.value.startswith((pelican + "/", pelican + "#"))
            or pelican in (q.subject.value, q.object.value)
        ]
        old_title = next(store.store.quads_for_pattern(NamedNode(counts), DCT.title, None, graph))
        revised = Literal("Zebra crossing counts 2015, revised", language="en")
        new_title = Quad(old_title.subject, old_title.predicate, revised, graph)
        norwegian = Quad(old_title.subject, DCT.title, Literal("Sebraoverganger 2015", language="nb"), graph)
        record = DatasetRecord(
            id="zeb08",
            slug="toucan-crossings-zeb08",
            title="Toucan crossings",
            description="Crossings shared by cyclists and pedestrians.",
            keywords=["toucan"],
            themes=["transport"],
        )
        writer = DcatApWriter(uris, Vocabularies(uris))
        added = [new_title, norwegian, *writer.quads(record, graph)]
        store.update_source(
            EXTRA_SOURCE,
            {graph.value: True},
            [*gone, old_title],
            added,
            datasets={pelican, counts, writer.dataset_iri(record).value},
        )
    snapshot = CatalogueReader(data_dir).snapshot()
    updated = SearchIndex(snapshot.index_dir)
    meta = dict(updated.db.execute("SELECT key, value FROM meta"))
    assert meta["built"].startswith("incremental")

    rebuilt_dir = tmp_path / "rebuilt"
    (rebuilt_dir / "indexes").mkdir(parents=True)
    build_catalogue_index(snapshot, rebuilt_dir, None, frozenset())
    build_search_index(snapshot, rebuilt_dir, None, frozenset())
    rebuilt = SearchIndex(rebuilt_dir / "indexes")
    assert dict(rebuilt.db.execute("SELECT key, value FROM meta"))["built"] == "full"

    assert titles_of(updated, "toucan") == ["Toucan crossings"]
    assert titles_of(updated, "pelican") == []
    assert "Zebra crossing counts 2015, revised" in titles_of(updated, "revised")
    assert "Zebra crossing counts 2015" not in titles_of(updated, "zebra")
    # a title in another language is kept with its tag (lists show it to its readers) and found by search
    found = updated.search(SearchRequest(q="sebraoverganger")).hits
    assert [h.record["languages"]["title"] for h in found] == [
        [["en", "Zebra crossing counts 2015, revised"], ["nb", "Sebraoverganger 2015"]]
    ]
    queries = ("", "zebra", "crossings", "toucan", "pelican", "crime", "transport", "revised", "sebraoverganger")
    for q in (*queries, "population projections"):
        for sort in (None, "title", "updated"):
            a = updated.search(SearchRequest(q=q, sort=sort, per_page=100))
            b = rebuilt.search(SearchRequest(q=q, sort=sort, per_page=100))
            assert a.total == b.total, q
            assert {h.iri: round(h.score, 6) for h in a.hits} == {h.iri: round(h.score, 6) for h in b.hits}, q
            assert {h.iri: h.record for h in a.hits} == {h.iri: h.record for h in b.hits}, q  # every language's texts
            if sort == "title":
                assert [h.record["title"] for h in a.hits] == [h.record["title"] for h in b.hits]
            assert {f: [(v.key, v.count) for v in vs] for f, vs in a.facets.items()} == {
                f: [(v.key, v.count) for v in vs] for f, vs in b.facets.items()
            }, q
    assert updated.updated_years == rebuilt.updated_years
    assert updated.average_lengths == pytest.approx(rebuilt.average_lengths)
    # the update recounts only the terms and the quality of the publishers it touched: the same as a rebuild's
    terms = "SELECT term, docs FROM terms ORDER BY term"
    assert updated.db.execute(terms).fetchall() == rebuilt.db.execute(terms).fetchall()
    assert quality_by_publisher(updated) == quality_by_publisher(rebuilt)
    assert [r["datasets"] for r in quality_by_publisher(updated).values()] != [
        r["datasets"] for r in quality_by_publisher(before).values()
    ]


def quality_by_publisher(index) -> dict[str, dict]:
    return {r["publisher"].key: {k: v for k, v in r.items() if k != "publisher"} for r in index.quality_summary()}


def titles_of(index, query: str) -> list[str]:
    from dfl_graph.search import SearchRequest

    return [h.record["title"] for h in index.search(SearchRequest(q=query)).hits]


# -- names, places, dead ends (issue 12) -------------------------------------------------------------------------
def test_publishers_and_boroughs_are_found_by_their_names_and_codes(server: LiveServer) -> None:
    tfl = [d["title"] for d in PUBLIC_EXTRA if d["masthead"]["id"] == "tfl"]
    # "TfL" is in no title or description: the publisher's alternative name (publishers.ttl) finds them
    assert set(titles(api(server, q="TfL", per_page=100, group=0))) >= set(tfl)
    assert {"Zebra crossings in London boroughs with lighting survey results"} <= set(
        titles(api(server, q="tfl zebra"))
    )
    # names work as filter values too, and mean the same filter as the key
    by_key = api(server, publisher="tfl")
    assert api(server, publisher="TfL")["total"] == api(server, publisher="Transport for London")["total"]
    assert api(server, publisher="TfL")["total"] == by_key["total"] == len(tfl)
    camden = [d["title"] for d in PUBLIC_EXTRA if d["custom"].get("borough") == "Camden"]
    assert set(titles(api(server, borough="Camden"))) == set(camden)
    assert set(titles(api(server, q="E09000007"))) == set(camden)  # Camden's GSS code


def test_a_borough_among_other_words_finds_its_data_and_london_wide_data(server: LiveServer) -> None:
    result = api(server, q="crossings camden", per_page=100, group=0)
    places = [[b["key"] for b in r["boroughs"]] for r in result["results"]]
    assert places[0] == ["E09000007"] and ["E09000007"] in places
    assert all(p in (["E09000007"], []) for p in places), places  # Camden's, or naming no borough
    assert [] in places  # London-wide crossings data (the 2010 river-boat timetables, TfL's old register)
    assert api(server, q="camden", per_page=100)["total"] == 2  # a borough alone: its own data only


def test_misspelled_words_are_corrected_from_the_catalogues_own_words(server: LiveServer) -> None:
    result = api(server, q="polution")
    assert result["query"]["corrected"]["q"] == "pollution"
    assert result["total"] == api(server, q="pollution")["total"] > 0
    page = server.get("/search", params={"q": "polution"}).text
    assert "Did you mean <strong>pollution</strong>?" in page and "spell=0" in page
    assert api(server, q="polution", spell=0)["total"] == 0  # as typed, on request
    assert api(server, q="pollution")["query"]["corrected"] is None  # a known word is never second-guessed
    assert "immunisation" in api(server, q="imunisation")["query"]["corrected"]["q"]


def test_a_query_matching_nothing_falls_back_to_partial_matches_labelled_as_such(server: LiveServer) -> None:
    result = api(server, q="crime zzzqx", per_page=100)
    assert result["query"]["partial"] == {"groups": 2, "needed": 1}
    assert result["total"] == api(server, q="crime")["total"]
    assert all(r["missing"] == ["zzzqx"] for r in result["results"])
    page = server.get("/search", params={"q": "crime zzzqx"}).text
    assert "No dataset matches all of" in page and "Does not mention" in page
    # nothing at all: an empty page that leads on to themes and publishers
    empty = server.get("/search", params={"q": "zzzqx"}).text
    assert "Or browse by theme" in empty and 'href="/theme/health"' in empty and "All publishers" in empty


def test_synonyms_reach_what_londoners_call_things(server: LiveServer) -> None:
    for query, expected in {
        "boris bikes": "TfL Cycle Hire Locations",
        "santander cycles": "TfL Cycle Hire Locations",
        "vaccination": "Immunisation Rates at 1st Birthday",
        "teenage pregnancy": "Teenage Conceptions",
        "jobseekers": "Job Seekers Allowance Claimants",
    }.items():
        assert expected in shown_titles(server, api(server, q=query), 3), query


def test_every_line_of_the_synonym_list_is_a_rule(tmp_path: Path) -> None:
    from dfl_graph.search.synonyms import SYNONYMS_FILE, SynonymError, read_rules
    from dfl_graph.search.text import tokens

    rules = read_rules()
    lines = [line for line in SYNONYMS_FILE.read_text().splitlines() if line.split("#", 1)[0].strip()]
    assert len(rules) == len(lines) >= 40
    for sources, targets in rules:
        assert all(tokens(e) for e in (*sources, *targets))
    bad = tmp_path / "synonyms.txt"
    bad.write_text("# fine\nair quality, no2\nlonely\n")
    with pytest.raises(SynonymError, match="line 3"):
        read_rules(bad)


def test_every_facet_accounts_for_every_dataset(server: LiveServer) -> None:
    for params in ({}, {"q": "crime"}, {"q": "crossings"}):
        result = api(server, **params)
        for name, values in result["facets"].items():
            counted = sum(v["count"] for v in values)
            if name in ("theme", "borough", "format", "kind"):  # a dataset may have several
                assert counted >= result["total"], (params, name)
            else:
                assert counted == result["total"], (params, name, values)
    # the 2010 listing names no publisher: the facet says so instead of losing 249 datasets
    publishers = {v["key"]: v["count"] for v in api(server)["facets"]["publisher"]}
    assert publishers["not-stated"] == 249
    assert api(server, publisher="not-stated")["total"] == 249


def test_atom_feeds_of_new_and_changed_datasets(server: LiveServer) -> None:
    from xml.etree import ElementTree

    atom = "{http://www.w3.org/2005/Atom}"
    for path, params in (("/feed.atom", {}), ("/search.atom", {"publisher": "gla"}), ("/search.atom", {"q": "crime"})):
        response = server.get(path, params=params)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/atom+xml")
        feed = ElementTree.fromstring(response.content)
        assert feed.tag == f"{atom}feed" and feed.find(f"{atom}id").text and feed.find(f"{atom}updated").text
        entries = feed.findall(f"{atom}entry")
        assert entries
        stamps = [e.find(f"{atom}updated").text for e in entries]
        assert stamps == sorted(stamps, reverse=True)
        for entry in entries:
            assert entry.find(f"{atom}id").text.startswith(server.url + "/dataset/")
            assert entry.find(f"{atom}title").text
        if params.get("publisher"):
            gla = {d["title"] for d in PUBLIC_EXTRA if d["masthead"]["id"] == "gla"}
            assert {e.find(f"{atom}title").text for e in entries} == gla
            assert {e.find(f"{atom}author/{atom}name").text for e in entries} == {"Greater London Authority"}
    assert (
        server.get("/search.atom", params={"q": "crime"}).content
        == server.get("/search", params={"q": "crime"}, headers={"Accept": "application/atom+xml"}).content
    )


def test_the_search_api_is_described_in_openapi(server: LiveServer) -> None:
    document = server.get("/api/openapi.json").json()
    operation = document["paths"]["/api/search"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"q", "sort", "page", "per_page", "series", "group", "spell", "quality", "year", "borough"} <= names
    for name in names - {"q", "sort", "page", "per_page", "series", "group", "spell"}:  # the facets it lists exist
        assert api(server, **{name: "not-stated"})["total"] >= 0
    assert "/search.atom" in document["paths"] and "/feed.atom" in document["paths"]


def test_this_search_in_sparql_finds_the_same_kind_of_datasets(server: LiveServer) -> None:
    from urllib.parse import parse_qs, urlsplit

    link = api(server, q="zebra crossings", publisher="tfl")["links"]["sparql"]
    query = parse_qs(urlsplit(link).query)["query"][0]
    assert '"zebra"' in query and '"crossings"' in query and "/publisher/tfl>" in query
    response = server.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text[:300]
    found = {b["title"]["value"] for b in response.json()["results"]["bindings"]}
    expected = {d["title"] for d in PUBLIC_EXTRA if d["masthead"]["id"] == "tfl" and "crossings" in d["title"].lower()}
    assert found == expected


def test_spelling_and_series_parts() -> None:
    from dfl_graph.search.series import edition_key, series_id, title_stem
    from dfl_graph.search.spelling import distance, edits1

    assert distance("hackeny", "hackney") == 1 and distance("polution", "pollution") == 1
    assert distance("westminister", "westminster") == 1 and distance("abc", "abc") == 0
    assert "hackney" in edits1("hackeny")
    assert title_stem("House prices by borough, 2016") == title_stem("House prices by borough, 2017")
    assert title_stem("Hackney: Council tax bands, 2015") == title_stem("Council tax bands, 2016 - Hackney")
    assert title_stem("GLA Claimant Count Model Output 2009-01") == title_stem(
        "GLA Claimant Count Model Output 2010-02"
    )
    assert title_stem("Immunisation Rates at 1st Birthday") != title_stem("Immunisation Rates at 2nd Birthday")
    assert series_id("tfl", "Traffic flows, 2016") != series_id("gla", "Traffic flows, 2016")
    assert edition_key("TfL Business Plan 2009/10 to 2017/18", "") > edition_key("TfL Business Plan 2008/09", "")
    assert edition_key("Counts 2009-2010", "2011-01") > edition_key("Counts 2009-2010", "2010-06")


def test_freshness_and_quality_boost_relevance_mildly() -> None:
    from dfl_graph.search.ranking import FRESHNESS, QUALITY, Candidate, boost, collapse

    newest = 2024.0
    assert boost("2024-01-01", None, newest) == pytest.approx(1 + FRESHNESS)
    assert boost("2022-01", None, newest) == pytest.approx(1 + FRESHNESS / 2)  # two years older: half the boost
    assert boost("", 405, newest) == pytest.approx(1 + QUALITY)  # undated, fully described
    assert boost("2024", 405, newest) == pytest.approx(1.3) and boost("", None, newest) == 1
    assert boost("2024-06", 200, newest) > boost("2019-06", 200, newest) > boost("2019-06", 100, newest)
    # a title match (weight 10) outscores a description-only one (weight 1) whatever the boosts
    assert 10 * boost("", None, newest) > 1 * boost("2024", 405, newest) * 5

    editions = [
        Candidate(1, 9.0, False, "house-prices", "2016|0000|"),
        Candidate(2, 8.0, False, "house-prices", "2018|0000|"),
        Candidate(3, 8.5, False, "rents", "2018|0000|"),
        Candidate(4, 7.0, True, "house-prices", "2019|0000|"),  # archived: not the series' face
    ]
    ranked = collapse(editions)
    assert [(c.rowid, c.score) for c in ranked] == [(2, 9.0), (3, 8.5)]  # the latest current edition, first place
