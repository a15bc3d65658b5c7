"""Several web nodes: each pulls the writer's published generation into its own data directory (`dfl pull`),
from the writer's directory or from an S3-compatible bucket the writer pushes to (`dfl push`; a real S3 HTTP
server, moto's, in the tests), switches to it atomically, and says in /healthz which generation it serves; a node
that has not pulled yet keeps serving its generation whole. On both backends: with a remote store a node pulls the
indexes only, and keeps reading its generation's stored graphs in the store while the writer publishes newer ones.
Two nodes behind nginx (deploy/nginx.conf, as docs/deployment.md starts it): one lagging, one stopped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import string
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
from conftest import ROOT, LiveServer, dfl, free_port, live_server, load_default
from moto.server import ThreadedMotoServer

from dfl_graph.publish import KEEP_GENERATIONS

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


SECRET = "s3-secret-that-never-appears-in-output"


@contextlib.contextmanager
def s3_server() -> Iterator[dict[str, str]]:
    """A real S3-compatible HTTP server on loopback (moto's), and the environment that points boto3 at it."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "dfl-test",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "eu-west-2",
    }
    try:
        yield env
    finally:
        server.stop()


def bucket_client(env: dict[str, str]):
    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )


def more_data(tmp_path: Path, base: str, writer: Path, n: int = 30) -> None:
    export = tmp_path / f"more-{n}.json"
    dfl("generate", str(n), str(export))
    dfl("--base", base, "load", "datapress", str(export), "--source", f"generated-{n}", "--store", str(writer))


def test_nodes_pull_what_the_writer_pushes_to_a_bucket(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    writer, node, twin = tmp_path / "writer", tmp_path / "node", tmp_path / "twin"
    load_default(writer, base)
    first = int((writer / "CURRENT").read_text())
    with s3_server() as env:
        client = bucket_client(env)
        client.create_bucket(Bucket="dfl", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        url = "s3://dfl/london/catalogue"
        pushed = dfl("push", url, "--store", str(writer), env=env)
        assert f"generation {first} is the newest in {url}" in pushed.stderr
        keys = {o["Key"] for o in client.list_objects_v2(Bucket="dfl", Prefix="london/")["Contents"]}
        assert "london/catalogue/CURRENT" in keys and f"london/catalogue/generations/{first:08d}/files.json" in keys
        assert "generation" in dfl("push", url, "--store", str(writer), env=env).stderr  # nothing new: no upload
        assert "serving generation" in dfl("pull", url, "--store", str(node), env=env).stderr
        dfl("pull", str(writer), "--store", str(twin))  # the same generation, from the shared directory
        pulled = node / "generations" / f"{first:08d}"
        assert (pulled / "store").is_dir() and (pulled / "indexes").is_dir()
        with live_server(node, base=base) as a, live_server(twin, base=base) as b:
            assert a.get("/healthz").json()["generation"] == first
            assert a.get("/catalog.nt").text == b.get("/catalog.nt").text != ""
            for n in range(KEEP_GENERATIONS + 1):  # more generations than the bucket keeps
                more_data(tmp_path, base, writer, 10 + n)
                dfl("push", url, "--store", str(writer), env=env)
            newest = int((writer / "CURRENT").read_text())
            dfl("pull", url, "--store", str(node), env=env)
            wait_for_generation(a, newest)
            assert a.get("/catalog.nt").text.count("\n") > b.get("/catalog.nt").text.count("\n")
        kept = {
            o["Key"].split("/")[3]
            for o in client.list_objects_v2(Bucket="dfl", Prefix="london/catalogue/generations/")["Contents"]
        }
        assert kept == {f"{g:08d}" for g in range(newest - KEEP_GENERATIONS + 1, newest + 1)}
        # a bucket that does not exist: a clear error, no traceback, no secret; the node keeps its generation
        missing = dfl("push", "s3://no-such-bucket/x", "--store", str(writer), env=env, check=False)
        assert (
            missing.returncode == 1 and "NoSuchBucket" in missing.stderr and "s3://no-such-bucket/x" in missing.stderr
        )
        assert "Traceback" not in missing.stderr and SECRET not in missing.stderr + missing.stdout
    dead = {**env, "AWS_MAX_ATTEMPTS": "1"}  # the S3 server has stopped
    failed = dfl("pull", url, "--store", str(node), env=dead, check=False)
    assert failed.returncode == 1 and f"could not read {url}/CURRENT" in failed.stderr
    assert "Traceback" not in failed.stderr and SECRET not in failed.stderr
    assert int((node / "CURRENT").read_text()) == newest


@contextlib.contextmanager
def nginx(prefix: Path, nodes: list[LiveServer], port: int) -> Iterator[str]:
    """nginx in front of the nodes, configured by deploy/nginx.conf exactly as docs/deployment.md says."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix.mkdir()
    fields = {"PREFIX": str(prefix), "LISTEN": f"127.0.0.1:{port}"}
    fields |= {"NODE_A": nodes[0].url.split("//")[1], "NODE_B": nodes[1].url.split("//")[1]}
    config = string.Template((ROOT / "deploy" / "nginx.conf").read_text()).safe_substitute(fields)
    (prefix / "nginx.conf").write_text(config)
    log = (prefix / "nginx.log").open("w")
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            assert process.poll() is None and time.monotonic() < deadline, (prefix / "nginx.log").read_text()
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def generations_behind(proxy: str, requests_made: int = 16) -> set[int]:
    """The generations the proxy's answers came from (new connections: nginx spreads them over the nodes)."""
    return {requests.get(proxy + "/healthz", timeout=30).json()["generation"] for _ in range(requests_made)}


def test_two_nodes_behind_nginx_one_lagging_then_one_stopped(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"  # the proxy's address: every IRI dereferences through it
    writer, nodes = tmp_path / "writer", [tmp_path / "node-a", tmp_path / "node-b"]
    load_default(writer, base)
    first = int((writer / "CURRENT").read_text())
    for node in nodes:
        dfl("pull", str(writer), "--store", str(node))
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(live_server(nodes[0], base=base))
        b = stack.enter_context(live_server(nodes[1], base=base))
        proxy = stack.enter_context(nginx(tmp_path / "nginx", [a, b], port))
        assert generations_behind(proxy) == {first}
        page = requests.get(proxy + "/catalog.nt", timeout=30)
        assert page.status_code == 200 and f"<{base}/dataset/" in page.text
        more_data(tmp_path, base, writer)
        dfl("pull", str(writer), "--store", str(nodes[0]))
        wait_for_generation(a, first + 1)
        assert generations_behind(proxy) == {first, first + 1}  # b lags, and serves its generation whole
        dfl("pull", str(writer), "--store", str(nodes[1]))
        wait_for_generation(b, first + 1)
        assert generations_behind(proxy) == {first + 1}
        os.killpg(a.process.pid, signal.SIGTERM)  # a node stops: the proxy sends everything to the other
        a.process.wait(timeout=15)
        answers = [requests.get(proxy + "/catalog.nt", timeout=30) for _ in range(6)]
        assert {r.status_code for r in answers} == {200} and len({r.text for r in answers}) == 1


def test_a_node_pulls_a_generation_without_its_spare_copies(tmp_path: Path) -> None:
    """Spare copies (and copies being written) sit beside a generation's index files for the writer's next
    update: they are not part of the generation, and a node does not pull them."""
    from dfl_graph.index_files import make_spares
    from dfl_graph.replication import generation_files

    generation = tmp_path / "00000007"
    (generation / "indexes").mkdir(parents=True)
    (generation / "indexes" / "catalogue.sqlite").write_bytes(b"index")
    (generation / "indexes" / ".catalogue.sqlite1234.part").write_bytes(b"ind")
    assert make_spares(generation / "indexes") == 1
    assert (generation / "indexes" / "catalogue.sqlite.spare").read_bytes() == b"index"
    assert generation_files(generation, embedded=False) == [
        "manifest.json",
        "build-seconds.json",
        "indexes/catalogue.sqlite",
    ]
