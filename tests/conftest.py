"""Shared fixtures: a real on-disk catalogue loaded through the real CLI, and a real HTTP server
(gunicorn, as `dfl serve` runs it) on a free loopback port.

**Two store backends.** A module marked ``pytestmark = pytest.mark.both_backends`` runs every test that uses the
``backend`` fixture (``default_server`` does) twice: on the embedded store, and on a real Virtuoso 7 (Debian's
``virtuoso-opensource``, started once per test session on free loopback ports with its own database directory:
``dfl_graph/backends/local_virtuoso.py``). While a module runs on Virtuoso, :func:`dfl` and :func:`live_server`
pass ``DFL_STORE`` to every command and server they start, so a module's own catalogues (loaded in its module
fixtures, which take ``backend``) go to that store too: one catalogue per backend per module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from dfl_graph.backends.local_virtuoso import LocalVirtuoso
from dfl_graph.backends.local_virtuoso import running as running_virtuoso

ROOT = Path(__file__).resolve().parent.parent
DFL = [sys.executable, "-m", "dfl_graph"]
DEFAULT_CSV = ROOT / "data" / "london-datastore-2010" / "london-datastore-2010-datasets.csv"
ARTIFACTS = ROOT / "tests" / "artifacts"
BACKENDS = ("embedded", "virtuoso")
STORE_ENV: dict[str, str] = {}  # DFL_STORE of the backend the running module uses (empty: embedded)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="module")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_state(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of a process from /proc, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def children_of(pids: set[int]) -> list[int]:
    """The processes whose parent is one of ``pids``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := process_state(int(entry))) is not None and stat[1] in pids:
            found.append(int(entry))
    return found


def dfl(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run the real `dfl` command line."""
    env = {**os.environ, **STORE_ENV, **kwargs.pop("env", {})}
    result = subprocess.run([*DFL, *args], capture_output=True, text=True, cwd=ROOT, env=env, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"dfl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    process: subprocess.Popen

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)


@contextlib.contextmanager
def live_server(
    data_dir: Path,
    port: int | None = None,
    workers: int = 2,
    env: dict[str, str] | None = None,
    base: str | None = None,
) -> Iterator[LiveServer]:
    """`dfl serve` (gunicorn) on a loopback port, with the base set to that port's URL so every IRI
    the catalogue mints dereferences on it (load the data for that same base), or to ``base`` (a web node
    behind a proxy)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data_dir.parent / f"server-{port}.log").open("w")
    process = subprocess.Popen(
        [
            *DFL,
            "--base",
            base or url,
            "serve",
            "--store",
            str(data_dir),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-default",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **STORE_ENV, **(env or {})},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {(data_dir.parent / f'server-{port}.log').read_text()}")
            time.sleep(0.1)
        yield LiveServer(url, data_dir, process)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def load_default(data_dir: Path, base: str) -> None:
    dfl(
        "--base",
        base,
        "load",
        "lds2010",
        str(DEFAULT_CSV),
        "--source",
        "london-datastore-2010",
        "--store",
        str(data_dir),
    )


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalVirtuoso]:
    """One Virtuoso for the test session (each catalogue in it has its own base, so its own graphs)."""
    with running_virtuoso(tmp_path_factory.mktemp("virtuoso"), free_port(), free_port(), buffers=20_000) as instance:
        yield instance


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The store backend the module's catalogues use: "embedded", or "virtuoso" in a ``both_backends`` module."""
    name = getattr(request, "param", "embedded")
    if name == "virtuoso":
        STORE_ENV["DFL_STORE"] = request.getfixturevalue("virtuoso").store_url
    try:
        yield name
    finally:
        STORE_ENV.clear()


@pytest.fixture(autouse=True)
def _store_env_only_for_backend_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that does not take ``backend`` runs on the embedded store, even in a module whose ``backend`` is
    Virtuoso at that moment (pytest keeps a module's fixtures while its other tests run)."""
    if "backend" in request.fixturenames:
        yield
        return
    saved = dict(STORE_ENV)
    STORE_ENV.clear()
    try:
        yield
    finally:
        STORE_ENV.update(saved)


@pytest.fixture(scope="session")
def _default_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], LiveServer]]:
    """The default catalogue's server per backend, started the first time a module asks (kept for the session)."""
    servers: dict[str, LiveServer] = {}
    with contextlib.ExitStack() as stack:

        def server_for(backend: str) -> LiveServer:
            if backend not in servers:
                data_dir = tmp_path_factory.mktemp(f"default-{backend}") / "catalogue"
                port = free_port()
                load_default(data_dir, f"http://127.0.0.1:{port}")
                servers[backend] = stack.enter_context(live_server(data_dir, port))
            return servers[backend]

        yield server_for


@pytest.fixture(scope="module")
def default_server(backend: str, _default_servers: Callable[[str], LiveServer]) -> LiveServer:
    """The embedded default catalogue (the 2010 London Datastore listing) served over HTTP, on the module's
    backend.

    The base must equal the server's URL, so the port is chosen first and the data loaded for it.
    """
    return _default_servers(backend)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
