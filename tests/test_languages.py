"""The reader's language: the best of the texts a publisher wrote, by Accept-Language, English first by default;
on the real pages of a dataset published in English and Dutch (the W3C DCAT 3 spatial example)."""

from __future__ import annotations

from pathlib import Path

import requests
from conftest import dfl, free_port, live_server
from pyoxigraph import Literal

from dfl_graph.languages import best_literal, in_best_language, preferred_languages

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
