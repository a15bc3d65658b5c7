"""Crashes cost nothing: a write killed (SIGKILL) at any moment leaves the published catalogue as it was, and the
next write succeeds.

Each case kills a real ``dfl`` process at a named point (:mod:`dfl_graph.crash_points`: the process SIGKILLs
itself when it reaches the point named in ``DFL_CRASH_AT``, so the moment is exact whatever the machine's load),
then checks that readers still see a whole published generation, and that the next ``dfl load`` succeeds and
publishes what it should.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from conftest import dfl
from portal_server import PortalServer, Reply

from dfl_graph.crash_points import POINTS
from dfl_graph.generate import generate_export
from dfl_graph.store import CatalogueReader

pytestmark = pytest.mark.xdist_group("crashes")

V1 = 24  # datasets in the first export
DROPPED = 3  # the second export withdraws this many and changes two


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exports")
    first = root / "v1.json"
    generate_export(V1, first, seed=5)
    items = json.loads(first.read_text())
    changed = items[DROPPED:]
    for item in changed[:2]:
        item["title"] = item["title"] + " (revised)"
    second = root / "v2.json"
    second.write_text(json.dumps(changed))
    return {"v1": first, "v2": second}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, exports: dict[str, Path]) -> Path:
    """A store holding the first export (copied for each case that needs one)."""
    store = tmp_path_factory.mktemp("loaded") / "store"
    dfl("load", "datapress", str(exports["v1"]), "--source", "crash", "--store", str(store))
    return store


def crashing(point: str, *args: str) -> None:
    """Run ``dfl *args`` armed to die at ``point``; it must die there (not finish, not fail)."""
    assert point.partition(":")[0] in POINTS
    result = dfl(*args, check=False, env={**os.environ, "DFL_CRASH_AT": point})
    assert result.returncode == -signal.SIGKILL, f"did not die at {point}:\n{result.stdout}\n{result.stderr}"


def published_datasets(store: Path) -> int | None:
    """Public datasets of the published generation (None if none is published); it must open whole."""
    if CatalogueReader(store).current_generation() is None:
        return None
    return json.loads(dfl("stats", "--json", "--store", str(store)).stdout)["public_datasets"]


def load_succeeds(store: Path, export: Path, expected: int) -> None:
    dfl("load", "datapress", str(export), "--source", "crash", "--store", str(store))
    assert published_datasets(store) == expected
    assert not (store / "DIRTY").exists()
    current = CatalogueReader(store).current_generation()
    assert current is not None
    assert all(int(g.name) <= current for g in (store / "generations").iterdir())
    assert not list(store.glob(".CURRENT*"))


# the first write of an empty store: the vocabularies are bulk-loaded, then the first export
FIRST_WRITE = [
    "write-started",
    "bulk-batch",
    "bulk-loaded",
    "compacted",
    "registered",
    "checkpoint-started",
    "checkpointed",
    "manifest-written",
    "builder-started",
    "builder-started:3",
    "builder-finished:2",
    "indexes-built",
    "current-staged",
    "current-swapped",
]


@pytest.mark.parametrize("point", FIRST_WRITE)
def test_a_first_load_killed_at_any_point(tmp_path: Path, exports: dict[str, Path], point: str) -> None:
    store = tmp_path / "store"
    crashing(point, "load", "datapress", str(exports["v1"]), "--source", "crash", "--store", str(store))
    # the vocabularies are the first generation: killed after its CURRENT swap, it is published
    assert published_datasets(store) in (None, 0)
    load_succeeds(store, exports["v1"], V1)


# a load that changes a loaded source in place (updates, withdrawals, tombstones)
IN_PLACE = [
    "load-mapped",
    "removed",
    "added",
    "registered",
    "checkpointed",
    "builder-started:2",
    "builder-finished:4",
    "current-staged",
    "current-swapped",
    "garbage-collected",
]


@pytest.mark.parametrize("point", IN_PLACE)
def test_a_load_in_place_killed_at_any_point(
    tmp_path: Path, loaded: Path, exports: dict[str, Path], point: str
) -> None:
    store = tmp_path / "store"
    shutil.copytree(loaded, store)
    crashing(point, "load", "datapress", str(exports["v2"]), "--source", "crash", "--store", str(store))
    published = published_datasets(store)
    assert published == (V1 - DROPPED if point in ("current-swapped", "garbage-collected") else V1)
    load_succeeds(store, exports["v2"], V1 - DROPPED)
    load_succeeds(store, exports["v1"], V1)  # and back: the withdrawn records return


def test_a_recovery_killed_is_redone(tmp_path: Path, loaded: Path, exports: dict[str, Path]) -> None:
    store = tmp_path / "store"
    shutil.copytree(loaded, store)
    crashing("added", "load", "datapress", str(exports["v2"]), "--source", "crash", "--store", str(store))
    crashing("recovery-started", "load", "datapress", str(exports["v2"]), "--source", "crash", "--store", str(store))
    assert published_datasets(store) == V1
    load_succeeds(store, exports["v2"], V1 - DROPPED)


@pytest.mark.parametrize("point", ["restore-parsed", "bulk-batch", "checkpointed", "builder-started:2"])
def test_a_restore_killed_at_any_point(tmp_path: Path, loaded: Path, exports: dict[str, Path], point: str) -> None:
    store = tmp_path / "store"
    shutil.copytree(loaded, store)
    dump = tmp_path / "dump.nq"
    dfl("dump", str(dump), "--store", str(store))
    crashing(point, "restore", str(dump), "--store", str(store))
    assert published_datasets(store) == V1
    dfl("restore", str(dump), "--store", str(store))
    load_succeeds(store, exports["v2"], V1 - DROPPED)


@pytest.mark.parametrize("point", ["harvest-fetched", "added", "builder-finished", "current-staged"])
def test_a_harvest_killed_at_any_point(tmp_path: Path, loaded: Path, exports: dict[str, Path], point: str) -> None:
    store = tmp_path / "store"
    shutil.copytree(loaded, store)
    with PortalServer() as portal:
        url = portal.route("/export.json", Reply.json(json.loads(exports["v2"].read_text())))
        config = tmp_path / "harvest.toml"
        config.write_text(f'[[source]]\nname = "portal"\ntype = "datapress"\nurl = "{url}"\n')
        crashing(point, "harvest", "--config", str(config), "--store", str(store))
        assert published_datasets(store) == V1
        dfl("harvest", "--config", str(config), "--store", str(store))
    # the harvested copies are the same datasets (same landing pages): linked, both published
    assert published_datasets(store) == V1 + V1 - DROPPED
    load_succeeds(store, exports["v2"], 2 * (V1 - DROPPED))
