"""Environment problems get one clear error line from every ``dfl`` command, never a traceback, and never cost
the published catalogue anything: a read-only store, missing permissions, a full disk, a store written by a
newer version, and input nested too deep to read.

The full and read-only disks are real filesystems the test mounts (tmpfs); the tests run as root, so
"missing permissions" runs ``dfl`` without the capabilities that let root ignore file modes (``setpriv``).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DFL, ROOT, dfl
from portal_server import PortalServer, Reply

from dfl_graph.generate import generate_export

pytestmark = pytest.mark.xdist_group("environment")


def refused(result: subprocess.CompletedProcess, *words: str) -> None:
    """The command failed with an ``error:`` line naming the problem, and no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    assert "error:" in output, output
    for word in words:
        assert word in output, output


def public_datasets(store: Path) -> int:
    return json.loads(dfl("stats", "--json", "--store", str(store)).stdout)["public_datasets"]


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` for the length of the block."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"this environment cannot mount a filesystem (mount: {mounted.stderr.decode().strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture(scope="module")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "small.json"
    generate_export(20, path, seed=3)
    return path


def test_a_read_only_store(tmp_path: Path, small_export: Path) -> None:
    with tmpfs(tmp_path / "mnt", "200m") as mount:
        store = mount / "store"
        dfl("load", "datapress", str(small_export), "--source", "one", "--store", str(store))
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        refused(
            dfl("load", "datapress", str(small_export), "--source", "two", "--store", str(store), check=False),
            "read-only",
        )
        refused(dfl("restore", str(small_export), "--store", str(store), check=False), "read-only")
        assert public_datasets(store) == 20  # readers still read it


def test_missing_permissions(tmp_path: Path, small_export: Path) -> None:
    store = tmp_path / "store"
    dfl("load", "datapress", str(small_export), "--source", "one", "--store", str(store))
    if shutil.which("setpriv") is None:
        pytest.skip("this environment has no setpriv to drop root's permission override")
    without_override = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    dump = tmp_path / "dump.nq"
    dfl("dump", str(dump), "--store", str(store))
    store.chmod(0o500)
    try:
        with PortalServer() as portal:
            url = portal.route("/export.json", Reply.json(json.loads(small_export.read_text())))
            config = tmp_path / "harvest.toml"
            config.write_text(f'[[source]]\nname = "portal"\ntype = "datapress"\nurl = "{url}"\n')
            for args in (
                ("load", "datapress", str(small_export), "--source", "two", "--store", str(store)),
                ("restore", str(dump), "--store", str(store)),
                ("harvest", "--config", str(config), "--store", str(store)),
            ):
                result = subprocess.run([*without_override, *DFL, *args], capture_output=True, text=True, cwd=ROOT)
                output = result.stdout + result.stderr
                assert result.returncode == 1 and "Traceback" not in output, output
                assert "permission denied" in output.lower(), output
    finally:
        store.chmod(0o755)
    assert public_datasets(store) == 20


def test_a_full_disk(tmp_path: Path, small_export: Path) -> None:
    big = tmp_path / "big.json"
    generate_export(1500, big, seed=4)  # ~150 MB of store and indexes: more than the 60 MB filesystem
    with tmpfs(tmp_path / "mnt", "60m") as mount:
        store = mount / "store"
        dfl("load", "datapress", str(small_export), "--source", "one", "--store", str(store))
        result = dfl("load", "datapress", str(big), "--source", "big", "--store", str(store), check=False)
        refused(result, "no space left")
        assert "nothing was published" in result.stderr
        assert public_datasets(store) == 20
        subprocess.run(["mount", "-o", "remount,size=800m", str(mount)], check=True)
        dfl("load", "datapress", str(big), "--source", "big", "--store", str(store))
        assert public_datasets(store) > 20 + 1000  # most of the 1,500 are public


def test_a_store_from_a_newer_version(tmp_path: Path, small_export: Path) -> None:
    store = tmp_path / "store"
    dfl("load", "datapress", str(small_export), "--source", "one", "--store", str(store))
    (store / "FORMAT").write_text("dfl store format 99\n")
    refused(
        dfl("load", "datapress", str(small_export), "--source", "two", "--store", str(store), check=False),
        "newer version",
    )
    current = int((store / "CURRENT").read_text())
    manifest = store / "generations" / f"{current:08d}" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "format": 99}))
    refused(dfl("stats", "--store", str(store), check=False), "newer version")


def test_json_nested_too_deep(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    result = dfl("load", "datapress", str(deep), "--source", "deep", "--store", str(tmp_path / "store"), check=False)
    refused(result, "nested too deeply", str(deep))
    with PortalServer() as portal:
        url = portal.route("/export.json", Reply(deep.read_bytes(), 200, "application/json"))
        config = tmp_path / "harvest.toml"
        config.write_text(f'[[source]]\nname = "deep"\ntype = "datapress"\nurl = "{url}"\n')
        harvested = dfl("harvest", "--config", str(config), "--store", str(tmp_path / "store"), check=False)
    output = harvested.stdout + harvested.stderr
    assert harvested.returncode == 1 and "Traceback" not in output, output
    assert "nested too deeply" in " ".join(output.split()), output
