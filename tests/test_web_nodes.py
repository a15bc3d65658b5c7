"""Several web nodes: each pulls the writer's published generation into its own data directory (`dfl pull`),
switches to it atomically, and says in /healthz which generation it serves; a node that has not pulled yet keeps
serving its generation whole. On both backends: with a remote store a node pulls the indexes only, and keeps
reading its generation's stored graphs in the store while the writer publishes newer ones.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import LiveServer, dfl, free_port, live_server, load_default

pytestmark = pytest.mark.both_backends


def generation_of(node: LiveServer) -> int:
    return node.get("/healthz").json()["generation"]


def wait_for_generation(node: LiveServer, generation: int) -> None:
    deadline = time.monotonic() + 30
    while generation_of(node) != generation and time.monotonic() < deadline:
        time.sleep(0.2)
    assert generation_of(node) == generation


def test_two_nodes_serve_the_published_generation_and_one_may_lag(backend: str, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}"  # the load balancer's address, which every node serves under
    writer = tmp_path / "writer"
    load_default(writer, base)
    nodes = [tmp_path / "node-a", tmp_path / "node-b"]
    for node in nodes:
        assert "serving generation" in dfl("pull", str(writer), "--store", str(node)).stderr
    first = int((writer / "CURRENT").read_text())
    # a node holds what its readers open: on a remote store the graphs stay in the store
    pulled = nodes[0] / "generations" / f"{first:08d}"
    assert (pulled / "indexes").is_dir() and (pulled / "store").is_dir() == (backend == "embedded")
    with live_server(nodes[0], base=base) as a, live_server(nodes[1], base=base) as b:
        assert generation_of(a) == generation_of(b) == first
        before = a.get("/catalog.nt").text
        assert before == b.get("/catalog.nt").text and before
        export = tmp_path / "more.json"
        dfl("generate", "30", str(export))
        dfl("--base", base, "load", "datapress", str(export), "--source", "generated", "--store", str(writer))
        dfl("pull", str(writer), "--store", str(nodes[0]))
        wait_for_generation(a, first + 1)
        # node b lags a generation, and serves it whole
        assert generation_of(b) == first
        assert b.get("/catalog.nt").text == before
        assert len(a.get("/catalog.nt").text) > len(before)
        dfl("pull", str(writer), "--store", str(nodes[1]))
        wait_for_generation(b, first + 1)
        assert b.get("/catalog.nt").text == a.get("/catalog.nt").text


def test_pulling_from_a_directory_with_nothing_published_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "writer").mkdir()
    result = dfl("pull", str(tmp_path / "writer"), "--store", str(tmp_path / "node"), check=False)
    assert result.returncode == 1 and "no published generation" in result.stderr
