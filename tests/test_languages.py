"""The reader's language: the best of the texts a publisher wrote, by Accept-Language, English first by default;
on the real pages of a dataset published in English and Dutch (the W3C DCAT 3 spatial example)."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from conftest import dfl, free_port, live_server
from pyoxigraph import Literal

from dfl_graph.languages import best_literal, in_best_language, preferred_languages, record_texts, variants

SPATIAL = Path(__file__).parent / "data" / "w3c-dcat3-examples" / "examples" / "spatial-properties.ttl"
TITLES = [Literal("Addresses", language="en"), Literal("Adressen", language="nl")]


def test_accept_language_orders_the_readers_languages_then_english() -> None:
    assert preferred_languages("nl-BE, nl;q=0.9, *;q=0.5") == ("nl-be", "nl", "en")
    assert preferred_languages("fr;q=0.2, de") == ("de", "fr", "en")
    assert preferred_languages(None) == ("en",) == preferred_languages("")
    assert preferred_languages("da, en;q=0") == ("da", "en")


def test_the_best_literal_is_the_readers_language_else_english_else_untagged() -> None:
    assert best_literal(TITLES).value == "Addresses"
    assert best_literal(TITLES, ("nl", "en")).value == "Adressen"
    assert best_literal(TITLES, ("nl-be", "en")).value == "Adressen"  # a subtag reads its language
    assert best_literal([Literal("Kart", language="nb"), Literal("Map")], ("en",)).value == "Map"
    assert best_literal([Literal("Kart", language="nb"), Literal("Map", language="en-GB")]).value == "Map"
    assert best_literal([]) is None
    keywords = [Literal("maps", language="en"), Literal("kart", language="nb"), Literal("gis")]
    assert in_best_language(keywords) == ["maps", "gis"]
    assert in_best_language(keywords, ("nb", "en")) == ["kart", "gis"]


def test_a_list_record_keeps_other_languages_only_and_chooses_as_a_page_does() -> None:
    assert variants([Literal("Addresses", language="en")]) is None  # the common English-only text: nothing more
    assert variants(TITLES) == [["en", "Addresses"], ["nl", "Adressen"]]
    assert variants([Literal("Map")]) == [["", "Map"]]  # untagged stays untagged
    record = {"title": "Addresses", "description": "Where.", "languages": {"title": variants(TITLES)}}
    assert record_texts(record) == ("Addresses", "Where.", "en")
    assert record_texts(record, ("nl-be", "en")) == ("Adressen", "Where.", "nl")
    untagged = {"title": "Map", "description": "", "languages": {"title": [["", "Map"], ["nb", "Kart"]]}}
    assert record_texts(untagged, ("de", "en")) == ("Map", "", None)
    assert record_texts(untagged, ("nb", "en")) == ("Kart", "", "nb")


def test_pages_show_the_title_in_the_readers_language(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "catalogue"
    dfl("--base", base, "load", "dcat", str(SPATIAL), "--source", "w3c-spatial", "--store", str(data_dir))
    with live_server(data_dir, port) as server:
        page = f"{server.url}/dataset/dutch-postal"
        english = requests.get(page, headers={"Accept": "text/html"}, timeout=30)
        dutch = requests.get(page, headers={"Accept": "text/html", "Accept-Language": "nl"}, timeout=30)
        assert english.status_code == dutch.status_code == 200

        def heading(page: requests.Response) -> str:
            return page.text.split("<h1", 1)[1].split("</h1>", 1)[0]

        assert "Addresses" in heading(english) and "Adressen" not in heading(english)
        assert "Adressen" in heading(dutch)
        assert "Accept-Language" in dutch.headers["Vary"]
        twin = requests.get(page + ".json", headers={"Accept-Language": "nl"}, timeout=30).json()
        assert twin["title"] == "Adressen"
        assert twin["description"].startswith("INSPIRE Adressen")
        assert requests.get(page + ".json", timeout=30).json()["title"] == "Addresses"


NORWEGIAN = """\
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/dataset/bus-stops> a dcat:Dataset ;
  dct:title "Bus stops"@en , "Bussholdeplasser"@nb ;
  dct:description "Every bus stop in London."@en , "Alle bussholdeplasser i London."@nb ;
  dcat:theme <http://publications.europa.eu/resource/authority/data-theme/TRAN> ;
  dct:publisher <https://example.org/org/tfl> ; dct:modified "2024-05-01"^^xsd:date .
<https://example.org/dataset/cycle-lanes> a dcat:Dataset ;
  dct:title "Cycle lanes"@en ; dct:description "Where London's cycle lanes are."@en ;
  dcat:theme <http://publications.europa.eu/resource/authority/data-theme/TRAN> ;
  dct:publisher <https://example.org/org/tfl> ; dct:modified "2023-05-01"^^xsd:date .
<https://example.org/org/tfl> a foaf:Agent ; foaf:name "Transport for London"@en .
"""


def _link_text(page: requests.Response, path: str) -> str:
    """The text of the page's first link to ``path`` (its marks taken out)."""
    found = re.search(rf'<a href="{re.escape(path)}"[^>]*>(.*?)</a>', page.text, re.S)
    assert found, f"no link to {path} in {page.url}"
    return re.sub(r"</?mark>", "", found.group(1)).strip()


def test_lists_show_each_dataset_in_the_readers_language(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    source = tmp_path / "norwegian.ttl"
    source.write_text(NORWEGIAN)
    data_dir = tmp_path / "catalogue"
    dfl("--base", base, "load", "dcat", str(source), "--source", "norwegian", "--store", str(data_dir))
    lists = ["/search?q=bus", "/search?q=bussholdeplasser", "/theme/transport", "/publisher/tfl", "/", "/catalog"]
    with live_server(data_dir, port) as server:

        def get(path: str, language: str | None, **headers: str) -> requests.Response:
            headers = {"Accept": "text/html", **headers} | ({"Accept-Language": language} if language else {})
            response = requests.get(server.url + path, headers=headers, timeout=30)
            assert response.status_code == 200, (path, response.status_code)
            return response

        for _ in range(2):  # each language after the other, twice: no worker's cache answers one with the other's
            for path in lists:
                norwegian = get(path, "nb, en;q=0.5")
                assert _link_text(norwegian, "/dataset/bus-stops") == "Bussholdeplasser", path
                assert "Accept-Language" in norwegian.headers["Vary"], path
                for language in (None, "en", "en-GB, nb;q=0.3"):
                    english = get(path, language)
                    assert _link_text(english, "/dataset/bus-stops") == "Bus stops", (path, language)
                    if "q=" not in path:  # an English-only dataset beside it, as it always was
                        assert _link_text(english, "/dataset/cycle-lanes") == "Cycle lanes", (path, language)
                    assert "Accept-Language" in english.headers["Vary"], path
                    # an entity tag one language was given is not another's to revalidate
                    revalidated = get(path, language, **{"If-None-Match": norwegian.headers["ETag"]})
                    assert _link_text(revalidated, "/dataset/bus-stops") == "Bus stops", path

        found = get("/search?q=bussholdeplasser", "nb")
        assert '<a href="/dataset/bus-stops" lang="nb"><mark>Bussholdeplasser</mark></a>' in found.text
        assert "Alle <mark>bussholdeplasser</mark> i London." in found.text

        api = f"{server.url}/api/search?q=bus"
        twin = requests.get(api, headers={"Accept-Language": "nb"}, timeout=30)
        assert "Accept-Language" in twin.headers["Vary"]
        hit = next(r for r in twin.json()["results"] if r["iri"] == f"{base}/dataset/bus-stops")
        assert (hit["title"], hit["language"]) == ("Bussholdeplasser", "nb")
        assert hit["description"] == "Alle bussholdeplasser i London."
        for headers in ({}, {"Accept-Language": "en"}):
            hit = requests.get(api, headers=headers, timeout=30).json()["results"][0]
            assert (hit["title"], hit["language"], hit["description"]) == (
                "Bus stops",
                "en",
                "Every bus stop in London.",
            )
        home = requests.get(f"{server.url}/index.json", headers={"Accept-Language": "nb"}, timeout=30).json()
        assert [r["title"] for r in home["recently_updated"]] == ["Bussholdeplasser", "Cycle lanes"]
