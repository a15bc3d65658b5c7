"""The remote store backend on a real Virtuoso 7: what a write does to the store's graphs and registry.

The suites marked ``both_backends`` check that every interface answers the same on both stores; this module checks
the remote backend's own guarantees (docs/architecture.md, "Store backends"): a source is replaced by writing new
stored graphs and then switching the registry in one update, so a reader of a generation keeps seeing complete
graphs while newer ones are written; old stored graphs go only when no kept generation names them, a write that
dies leaves nothing the next write does not collect, and the store's credentials never appear in a message.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from conftest import DEFAULT_CSV, dfl, free_port
from pyoxigraph import NamedNode

from dfl_graph.backends import backend_for
from dfl_graph.backends.local_virtuoso import LocalVirtuoso
from dfl_graph.backends.sparql_http import STORED_MARK, Endpoints
from dfl_graph.generations import CatalogueReader, Manifest
from dfl_graph.publish import KEEP_GENERATIONS
from dfl_graph.statistics import catalogue_statistics

SOURCE = "london-datastore-2010"


def load(env: dict[str, str], base: str, data_dir: Path, *args: str, check: bool = True):
    return dfl("--base", base, "load", *args, "--store", str(data_dir), env=env, check=check)


def load_generated(env: dict[str, str], base: str, data_dir: Path, tmp_path: Path, n: int, seed: int) -> None:
    export = tmp_path / f"generated-{n}-{seed}.json"
    dfl("generate", str(n), str(export), "--seed", str(seed))
    load(env, base, data_dir, "datapress", str(export), "--source", "generated")


def graph_exists(virtuoso: LocalVirtuoso, graph: str) -> bool:
    response = requests.post(
        virtuoso.url + "/sparql",
        data={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"]) > 0


@pytest.fixture
def remote(virtuoso: LocalVirtuoso, tmp_path: Path):
    """A new catalogue (its own base, so its own graphs and registry) on the session's Virtuoso."""
    base = f"http://127.0.0.1:{free_port()}"
    return {"DFL_STORE": virtuoso.store_url}, base, tmp_path / "catalogue"


def test_readers_of_a_generation_keep_complete_graphs_while_newer_ones_are_written(
    remote, virtuoso: LocalVirtuoso, tmp_path: Path
) -> None:
    env, base, data_dir = remote
    load(env, base, data_dir, "lds2010", str(DEFAULT_CSV), "--source", SOURCE)
    backend = backend_for(env["DFL_STORE"], base)
    reader = CatalogueReader(data_dir, backend)
    before = reader.snapshot()
    counted = catalogue_statistics(before)["public_datasets"]
    assert counted > 200  # the remote store answers for the generation

    load_generated(env, base, data_dir, tmp_path, 40, 1)
    after = CatalogueReader(data_dir, backend).snapshot()
    assert after.generation > before.generation
    assert catalogue_statistics(after)["public_datasets"] > counted
    # the old generation still reads its own, complete graphs
    assert catalogue_statistics(before)["public_datasets"] == counted
    # the registry in the store names the newest generation, with the graphs its manifest names
    assert backend.current() == (after.generation, after.manifest.stored)
    # unchanged graphs keep their stored names; the source written gets new ones
    source_graph = f"{base}/graph/{SOURCE}"
    generated_graph = f"{base}/graph/generated"
    assert after.manifest.stored[source_graph] == before.manifest.stored[source_graph]
    assert generated_graph in after.manifest.stored and generated_graph not in before.manifest.stored
    # readers only ever see logical graph names
    rows = after.store.query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", default_graph=[], named_graphs=after.public_graphs
    )
    names = {row["g"].value for row in rows}
    assert names == {g for g in after.manifest.public_graphs if after.manifest.graphs[g]["quads"]}
    quads = list(after.store.quads_for_pattern(None, None, None, NamedNode(generated_graph)))
    assert quads and all(q.graph_name.value == generated_graph for q in quads)


def test_old_stored_graphs_go_once_no_kept_generation_names_them(
    remote, virtuoso: LocalVirtuoso, tmp_path: Path
) -> None:
    env, base, data_dir = remote
    load_generated(env, base, data_dir, tmp_path, 20, 1)
    backend = backend_for(env["DFL_STORE"], base)
    first = CatalogueReader(data_dir, backend).snapshot().manifest.stored[f"{base}/graph/generated"]
    assert graph_exists(virtuoso, first)
    for seed in range(2, KEEP_GENERATIONS + 2):
        load_generated(env, base, data_dir, tmp_path, 20, seed)
        kept = {
            name
            for path in (data_dir / "generations").glob("*/manifest.json")
            for graph, name in Manifest.from_file(path).stored.items()
            if graph.endswith("/graph/generated")
        }
        assert len(kept) > 1 and all(graph_exists(virtuoso, name) for name in kept)
    assert not graph_exists(virtuoso, first)


def test_a_write_that_dies_after_storing_graphs_changes_nothing_and_is_collected(
    remote, virtuoso: LocalVirtuoso, tmp_path: Path
) -> None:
    env, base, data_dir = remote
    load_generated(env, base, data_dir, tmp_path, 20, 1)
    backend = backend_for(env["DFL_STORE"], base)
    published = CatalogueReader(data_dir, backend).snapshot()
    export = tmp_path / "more.json"
    dfl("generate", "30", str(export), "--seed", "9")
    crash = {**env, "DFL_CRASH_AT": "indexes-built"}
    died = load(crash, base, data_dir, "datapress", str(export), "--source", "more", check=False)
    assert died.returncode != 0
    # the dead write's graph was stored, but no reader and no registry names it
    assert backend.current() == (published.generation, published.manifest.stored)
    assert CatalogueReader(data_dir, backend).snapshot().generation == published.generation
    orphans = stored_graphs(backend) - set(published.manifest.stored.values())
    assert any(name.startswith(f"{base}/graph/more{STORED_MARK}") for name in orphans)
    # the next write collects it
    load(env, base, data_dir, "datapress", str(export), "--source", "more")
    now = CatalogueReader(data_dir, backend).snapshot()
    assert f"{base}/graph/more" in now.manifest.stored
    assert not any(graph_exists(virtuoso, name) for name in orphans if "/graph/more" in name)


def stored_graphs(backend) -> set[str]:
    rows = backend.client.query(
        f"SELECT ?g WHERE {{ GRAPH <{backend.registry}> {{ ?g a ?type }} }}", "text/csv", [], [backend.registry]
    )
    return {line.strip('"') for line in rows.text.splitlines()[1:]}


def test_a_wrong_password_is_a_clear_error_that_does_not_show_it(remote, virtuoso: LocalVirtuoso) -> None:
    env, base, data_dir = remote
    wrong = env["DFL_STORE"].replace(f":{virtuoso.password}@", ":not-the-password@")
    result = load({"DFL_STORE": wrong}, base, data_dir, "lds2010", str(DEFAULT_CSV), "--source", SOURCE, check=False)
    assert result.returncode == 1
    assert "error:" in result.stderr and "refused" in result.stderr and "401" in result.stderr
    assert "not-the-password" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_store_that_does_not_answer_is_a_clear_error(remote) -> None:
    _, base, data_dir = remote
    dead = f"sparql+http://dfl:secret-word@127.0.0.1:{free_port()}/sparql?update=/sparql-auth"
    result = load({"DFL_STORE": dead}, base, data_dir, "lds2010", str(DEFAULT_CSV), "--source", SOURCE, check=False)
    assert result.returncode == 1
    assert "could not be reached" in result.stderr and "secret-word" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("mysql://db/catalogue", "DFL_STORE must look like sparql+http://"),
        ("sparql+http://h:1/sparql?auth=kerberos", "auth must be digest or basic"),
        ("sparql+http://h:1/sparql?timeout=soon", "timeout must be a number"),
    ],
)
def test_a_malformed_store_url_is_refused_with_what_is_wrong(url: str, complaint: str, tmp_path: Path) -> None:
    result = dfl("stats", "--store", str(tmp_path), env={"DFL_STORE": url}, check=False)
    assert result.returncode == 1 and complaint in result.stderr


def test_the_endpoints_are_read_from_one_url() -> None:
    endpoints = Endpoints.from_url(
        "sparql+https://writer:p%40ss@store.example:8890/ds/query?update=/ds/update&gsp=/ds/data&auth=basic&timeout=30"
    )
    assert endpoints.query == "https://store.example:8890/ds/query"
    assert endpoints.update == "https://store.example:8890/ds/update"
    assert endpoints.gsp == "https://store.example:8890/ds/data"
    assert (endpoints.user, endpoints.password, endpoints.auth, endpoints.timeout) == ("writer", "p@ss", "basic", 30)
    assert "p@ss" not in endpoints.redacted() and "writer" not in endpoints.redacted()
