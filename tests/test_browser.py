"""The Library in a real browser: Debian's headless Chromium driven by Playwright (never `playwright
install`). Search from the home page, narrow by a facet, open a dataset, follow its Turtle link.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LiveServer
from pyoxigraph import RdfFormat, parse

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
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


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (Debian packages chromium, chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def test_search_facet_dataset_and_turtle(browser, default_server: LiveServer, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
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
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(default_server.url + "/search?q=population")
    # no horizontal scrolling on a narrow screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / "library-search-phone.png"), full_page=True)
    # the sort control submits without JavaScript
    page.select_option("#sort", "title")
    page.click("form.sort button")
    page.wait_for_url(re.compile(r"sort=title"))
    titles = [t.strip() for t in page.locator("ol.results > li h3 a").all_text_contents()]
    assert titles == sorted(titles, key=str.casefold)
    page.close()
