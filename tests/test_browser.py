"""The Library in a real browser: Debian's headless Chromium driven by Playwright (never `playwright
install`), at a phone's width (390 px) and a desktop's (1280 px).

* a journey: search from the home page, narrow by a facet, open a dataset, follow its Turtle link;
* axe-core (the npm package pinned in package.json, installed by `make test`) on every kind of page:
  no critical, serious or moderate violations;
* the phone layout: the first screen shows results (one search box), the filters open from a button at
  the top, results come before the filters in the tab order; no horizontal scrolling;
* charts: no label overlaps another or leaves its chart.

Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import ROOT, LiveServer
from london_catalogue import london_server
from pyoxigraph import RdfFormat, parse

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
BLOCKING = ("critical", "serious", "moderate")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (Debian packages chromium, chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make test does) to install axe-core from package.json")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def london(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with london_server(tmp_path_factory.mktemp("browser-london")) as server:
        yield server


def page_paths(server: LiveServer) -> list[str]:
    """One page of every kind: the Library's, the browse pages, a dataset and its files, SPARQL, errors."""
    stops = server.get("/api/search", params={"q": "hackney bus stops"}).json()["results"][0]["iri"]
    dataset = stops[len(server.url) :]
    csv_file = next(
        d["iri"] for d in server.get(dataset + ".json").json()["distributions"] if d["title"] == "stops.csv"
    )[len(server.url) :]
    return [
        "/",
        "/search?q=crime",
        "/search?q=polution",
        "/search?q=crime+zzzqx",
        "/search?q=zzzqx",
        "/search?theme=health&publisher=not-stated",
        "/publishers",
        "/publisher/tfl",
        "/themes",
        "/theme/transport",
        "/boroughs",
        "/borough/E09000012",
        dataset,
        csv_file,
        csv_file + "/preview",
        "/quality",
        "/quality/tfl",
        "/sparql",
        "/sparql?query=SELECT+%3Fs+%3Fp+%3Fo+WHERE+%7B+%3Fs+%3Fp+%3Fo+%7D+LIMIT+30",
        "/catalog",
        "/harvest",
        "/def/dfl",
        "/no-such-page",
    ]


@pytest.mark.parametrize("size", sorted(SIZES))
def test_axe_finds_nothing_serious_or_moderate_on_any_page(
    browser, axe_source: str, london: LiveServer, size: str, artifacts: Path
) -> None:
    page = browser.new_page(**SIZES[size])
    found = {}
    for path in page_paths(london):
        page.goto(london.url + path)
        page.add_script_tag(content=axe_source)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        violations = [
            f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}"
            for v in result["violations"]
            if v["impact"] in BLOCKING
        ]
        if violations:
            found[path] = violations
        fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert fits, f"{path} scrolls sideways"
    page.screenshot(path=str(artifacts / f"library-{size}-last.png"))
    page.close()
    assert not found, found


def test_a_phone_sees_results_first_and_opens_the_filters_from_the_top(
    browser, london: LiveServer, artifacts: Path
) -> None:
    page = browser.new_page(**PHONE)
    page.goto(london.url + "/search?q=crime")
    assert page.locator("[role=search]").count() == 1  # one search box, one search landmark
    first = page.locator("ol.results > li h3 a").first
    assert first.bounding_box()["y"] + first.bounding_box()["height"] <= 844, "no result on the first screen"
    page.screenshot(path=str(artifacts / "library-search-phone.png"))
    button = page.locator("a.filters-button")
    assert button.is_visible() and button.bounding_box()["y"] < 400
    assert not page.locator("#filters").is_visible()
    button.click()
    page.wait_for_url(re.compile(r"#filters$"))
    panel = page.locator("#filters")
    assert panel.is_visible() and panel.bounding_box()["y"] <= 1  # over the results, from the top
    theme = page.locator('#filters a.facet-value[data-facet="theme"]').first
    assert theme.is_visible()
    page.screenshot(path=str(artifacts / "library-filters-phone.png"))
    page.locator("#filters a.facets-close").click()
    assert not page.locator("#filters").is_visible()
    # narrowing by a facet from the panel works like on a desktop
    page.locator("a.filters-button").click()
    expected = int(theme.locator(".facet-count").text_content().replace(",", ""))
    theme.click()
    page.wait_for_url(re.compile(r"theme="))
    assert f"{expected:,} dataset" in page.locator("#results-heading").text_content()
    page.close()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_results_come_before_the_filters_in_the_tab_order(browser, london: LiveServer, size: str) -> None:
    page = browser.new_page(**SIZES[size])
    page.goto(london.url + "/search?q=crime")
    first = page.locator("ol.results > li h3 a").first.get_attribute("href")
    presses = 0
    while True:
        presses += 1
        page.keyboard.press("Tab")
        focused = page.evaluate("[document.activeElement.getAttribute('href'), document.activeElement.className]")
        assert "facet-value" not in (focused[1] or ""), "a filter comes before the first result"
        if focused[0] == first:
            break
        assert presses < 15, "the first result is not among the first 15 stops of the tab order"
    page.close()


CHART_BOXES = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.viewBox.baseVal;
  const texts = [...svg.querySelectorAll('text')].map(t => {
    const b = t.getBBox();
    return [b.x, b.y, b.width, b.height, t.textContent];
  });
  return {id: svg.id, width: box.width, height: box.height, texts};
})"""


def _overlap(a: list, b: list) -> bool:
    """Whether two boxes [x, y, width, height, ...] overlap (by more than half a unit)."""
    apart_x = a[0] + a[2] - 0.5 <= b[0] or b[0] + b[2] - 0.5 <= a[0]
    apart_y = a[1] + a[3] - 0.5 <= b[1] or b[1] + b[3] - 0.5 <= a[1]
    return not (apart_x or apart_y)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_chart_labels_never_overlap_or_leave_the_chart(browser, london: LiveServer, size: str) -> None:
    page = browser.new_page(**SIZES[size])
    charts = 0
    for path in ("/", "/publisher/gla", "/theme/transport", "/borough/E09000012", "/publishers", "/quality"):
        page.goto(london.url + path)
        for chart in page.evaluate(CHART_BOXES):
            charts += 1
            texts = chart["texts"]
            assert texts, (path, chart["id"])
            for x, y, w, h, text in texts:
                assert x >= -0.5 and y >= -0.5, (path, chart["id"], text, "clipped at the top or left")
                assert x + w <= chart["width"] + 0.5 and y + h <= chart["height"] + 0.5, (path, chart["id"], text)
            for i, a in enumerate(texts):
                for b in texts[i + 1 :]:
                    assert not _overlap(a, b), (path, chart["id"], a[4], b[4])
    assert charts >= 8
    page.close()


def test_the_site_has_a_favicon(browser, london: LiveServer) -> None:
    page = browser.new_page(**DESKTOP)
    page.goto(london.url + "/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    response = requests.get(london.url + href, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in response.content
    page.close()


def test_search_facet_dataset_and_turtle(browser, default_server: LiveServer, artifacts: Path) -> None:
    page = browser.new_page(**DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(default_server.url + "/")
    assert page.locator("svg#chart-themes title").first.text_content() == "Datasets by theme"
    page.screenshot(path=str(artifacts / "library-home.png"), full_page=True)

    page.fill("#home-q", "fire incidents")
    page.press("#home-q", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=fire\+incidents"))
    heading = page.locator("#results-heading").text_content()
    total = int(re.search(r"([\d,]+) datasets?", heading).group(1).replace(",", ""))
    assert total >= 3
    assert page.locator("ol.results mark").count() > 0  # the matched words are highlighted
    page.screenshot(path=str(artifacts / "library-search.png"), full_page=True)

    # narrow by a facet: the theme the results fall under
    theme = page.locator('a.facet-value[data-facet="theme"][data-key="crime-and-community-safety"]')
    expected = int(theme.locator(".facet-count").text_content().replace(",", ""))
    theme.click()
    page.wait_for_url(re.compile(r"theme=crime-and-community-safety"))
    assert f"{expected} dataset" in page.locator("#results-heading").text_content()
    assert page.locator("a.remove-filter").count() == 1
    page.screenshot(path=str(artifacts / "library-search-filtered.png"), full_page=True)

    # open the first result
    first = page.locator("ol.results > li h3 a").first
    title = first.text_content().strip()
    first.click()
    page.wait_for_url(re.compile(r"/dataset/"))
    assert page.locator("h1").first.text_content().strip() == title
    page.screenshot(path=str(artifacts / "library-dataset.png"), full_page=True)

    # follow its Turtle link
    turtle = page.locator('main a[type="text/turtle"]').first
    href = turtle.get_attribute("href")
    response = page.request.get(default_server.url + href if href.startswith("/") else href)
    assert response.status == 200 and response.headers["content-type"].startswith("text/turtle")
    triples = list(parse(response.body(), RdfFormat.TURTLE, base_iri=default_server.url + "/"))
    dataset_iri = page.url.split("?")[0]
    assert any(t.subject.value == dataset_iri for t in triples)
    (artifacts / "library-dataset.ttl").write_bytes(response.body())
    assert not errors, errors
    page.close()


def test_search_works_on_a_phone_with_the_keyboard(browser, default_server: LiveServer, artifacts: Path) -> None:
    page = browser.new_page(**PHONE)
    page.goto(default_server.url + "/search?q=population")
    # no horizontal scrolling on a narrow screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / "library-search-phone-2010.png"), full_page=True)
    # the sort control submits without JavaScript
    page.select_option("#sort", "title")
    page.click("form.sort button")
    page.wait_for_url(re.compile(r"sort=title"))
    titles = [t.strip() for t in page.locator("ol.results > li h3 a").all_text_contents()]
    assert titles == sorted(titles, key=str.casefold)
    page.close()
