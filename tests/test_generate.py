"""The synthetic DataPress v3 export generator: shape, determinism, uniqueness, distributions."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from dfl_graph.generate import BOROUGHS, SUBJECTS, TOPICS, generate_export, iter_datasets

# The GLA's own fixture (ldndatar2 tests/testthat/data.london.gov.uk/api/v3/datasets/export.json), key order included.
DATASET_KEYS = [
    "webpage", "id", "description", "title", "createdAt", "updatedAt", "nextReviewDate", "sharing", "masthead",
    "team", "topics", "tags", "licence", "contact", "resources", "links", "custom",
]  # fmt: skip
RESOURCE_KEYS = [
    "dataset", "webpage", "id", "title", "url", "description", "timeframeFrom", "timeframeTo", "size", "hash",
    "timestamp", "filename",
]  # fmt: skip
SHAPE_FILE = Path("/work/shared/data/datapress-export-shape/api/v3/datasets/export.json")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
EXTENSIONS = {"csv", "xlsx", "xls", "json", "geojson", "zip", "pdf", "shp.zip", "kml"}


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    return list(iter_datasets(2000, seed=2010))


def test_keys_match_the_shape_file_when_present() -> None:
    if not SHAPE_FILE.exists():
        pytest.skip("shape fixture not available")
    fixture = json.loads(SHAPE_FILE.read_text(encoding="utf-8"))[0]
    assert list(fixture) == DATASET_KEYS
    assert list(fixture["resources"][0]) == RESOURCE_KEYS


def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    assert generate_export(300, a) == 300
    assert generate_export(300, b) == 300
    assert generate_export(300, c, seed=7) == 300
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert not list(tmp_path.glob("*.tmp"))


def test_written_file_is_a_json_array_of_n_items(tmp_path: Path) -> None:
    out = tmp_path / "export.json"
    assert generate_export(50, out, seed=1) == 50
    items = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(items, list)
    assert len(items) == 50
    assert items == list(iter_datasets(50, seed=1))


def test_zero_datasets_is_an_empty_array(tmp_path: Path) -> None:
    out = tmp_path / "empty.json"
    assert generate_export(0, out) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == []


def test_negative_n_is_refused() -> None:
    with pytest.raises(ValueError):
        list(iter_datasets(-1))


def test_every_item_has_exactly_the_shape_keys(sample: list[dict]) -> None:
    for d in sample:
        assert list(d) == DATASET_KEYS
        assert set(d["masthead"]) == {"id", "title"}
        assert set(d["team"]) == {"id", "title"}
        assert all(set(t) == {"id", "title"} for t in d["topics"])
        assert d["links"] == []
        for r in d["resources"]:
            assert list(r) == RESOURCE_KEYS


def test_ids_and_slugs_are_unique(sample: list[dict]) -> None:
    ids = [d["id"] for d in sample]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-z]{5}", i) for i in ids)
    slugs = [d["webpage"].removeprefix("https://data.london.gov.uk/dataset/") for d in sample]
    assert len(set(slugs)) == len(slugs)
    assert all(s.endswith("-" + d["id"]) and re.fullmatch(r"[a-z0-9-]+", s) for s, d in zip(slugs, sample, strict=True))
    resource_ids = [r["id"] for d in sample for r in d["resources"]]
    assert len(set(resource_ids)) == len(resource_ids)


def test_sharing_distribution(sample: list[dict]) -> None:
    counts = Counter(d["sharing"] for d in sample)
    assert set(counts) <= {"public", "restricted", "private"}
    assert 0.93 <= counts["public"] / len(sample) <= 0.99
    assert 0.015 <= counts["restricted"] / len(sample) <= 0.05
    assert 0.002 <= counts["private"] / len(sample) <= 0.025


def test_resources(sample: list[dict]) -> None:
    counts = Counter(len(d["resources"]) for d in sample)
    assert set(counts) == {1, 2, 3, 4}
    for d in sample:
        for r in d["resources"]:
            assert r["dataset"] == d["id"]
            assert r["webpage"] == d["webpage"]
            assert r["url"].endswith("/" + r["filename"])
            assert r["filename"].split(".", 1)[1] in EXTENSIONS
            assert 1_000 <= r["size"] <= 500_000_000
            assert re.fullmatch(r"[0-9a-f]{32}", r["hash"])
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", r["timestamp"])
            assert (r["timeframeFrom"] is None) == (r["timeframeTo"] is None)
            if r["timeframeFrom"]:
                assert r["timeframeFrom"] <= r["timeframeTo"]


def test_values_are_plausible(sample: list[dict]) -> None:
    places = {place for _, place, _, _ in BOROUGHS}
    councils = {name for _, _, name, _ in BOROUGHS}
    subjects = tuple(row[0] for row in SUBJECTS)
    assert len(subjects) >= 60
    for d in sample:
        assert INSTANT.match(d["createdAt"]) and INSTANT.match(d["updatedAt"])
        assert d["createdAt"] <= d["updatedAt"]
        assert d["nextReviewDate"] is None or INSTANT.match(d["nextReviewDate"])
        assert d["description"].startswith("<p>")
        assert any(s in d["title"] for s in subjects)
        assert all(TOPICS[t["id"]] == t["title"] for t in d["topics"])
        assert d["tags"] and all(t == t.lower() for t in d["tags"])
        assert d["licence"] is None or set(d["licence"]) == {"id", "title"}
        assert d["contact"] is None or (set(d["contact"]) == {"name", "email"} and "@" in d["contact"]["email"])
        assert set(d["custom"]) <= {"update_frequency", "borough"}
        if "borough" in d["custom"]:
            assert d["custom"]["borough"] in places
            assert d["masthead"]["title"] in councils
    mastheads = {d["masthead"]["id"] for d in sample}
    assert {"gla", "tfl", "met-police", "lfb", "ons"} <= mastheads
    assert mastheads & {"camden", "westminster", "city-of-london", "hackney", "croydon"}
    assert any(d["licence"] is None for d in sample) and any(d["contact"] is None for d in sample)
