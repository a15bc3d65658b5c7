"""A private Virtuoso 7 instance on loopback ports with its own database directory: what the tests and the
benchmarks run the remote backend against, and what ``docs/deployment.md`` starts for a one-machine trial.

Debian's ``virtuoso-opensource`` provides the binaries (``scripts/install-system-deps`` installs it; the
package's own service is never started). The instance listens on 127.0.0.1 only; its ``dba`` password is
changed at first start to the one given, and a ``dfl`` user with the ``SPARQL_UPDATE`` role is made for the
catalogue's writer (Virtuoso's ``/sparql-auth`` and ``/sparql-graph-crud-auth`` take it with HTTP digest).
The anonymous ``/sparql`` endpoint stays read-only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

CONFIG = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
MaxCheckpointRemap = 200000

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DirsAllowed = ., {dir}, /usr/share/virtuoso-opensource-7/vad
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty_buffers}
ThreadsPerQuery = 2
MaxQueryMem = 1G
VADInstallDir = /usr/share/virtuoso-opensource-7/vad

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 8
MaxKeepAlives = 16
KeepAliveTimeout = 10
MaxClientConnections = 8

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = {max_seconds}
MaxQueryCostEstimationTime = 0
DefaultQuery = SELECT * WHERE {{ ?s ?p ?o }} LIMIT 1
"""

WRITER = "dfl"


class VirtuosoMissing(RuntimeError):
    """Virtuoso's binaries are not installed (``scripts/install-system-deps`` installs them)."""


def binaries() -> tuple[str, str]:
    """(virtuoso-t, isql) from Debian's ``virtuoso-opensource``."""
    server = shutil.which("virtuoso-t")
    client = shutil.which("isql-vt") or shutil.which("isql-v")
    if not server or not client:
        raise VirtuosoMissing("Virtuoso is not installed: run scripts/install-system-deps (Debian virtuoso-opensource)")
    return server, client


@dataclass(frozen=True)
class LocalVirtuoso:
    """A running instance: its SPARQL endpoints and the writer's credentials."""

    directory: Path
    http_port: int
    sql_port: int
    password: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def store_url(self) -> str:
        """The ``DFL_STORE`` value that points the catalogue at this instance (credentials included)."""
        return (
            f"sparql+http://{WRITER}:{self.password}@127.0.0.1:{self.http_port}/sparql"
            "?update=/sparql-auth&gsp=/sparql-graph-crud-auth&auth=digest"
        )

    def isql(self, statement: str, timeout: float = 600) -> str:
        """Run SQL as ``dba`` (loading files, checkpoints, grants)."""
        _, client = binaries()
        result = subprocess.run(
            [client, f"127.0.0.1:{self.sql_port}", "dba", self.password, f"exec={statement}"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0 or "*** Error" in result.stdout + result.stderr:
            raise RuntimeError(f"isql {statement[:80]!r} failed: {result.stdout[-500:]}\n{result.stderr[-500:]}")
        return result.stdout


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Virtuoso exited ({proc.returncode}): {log.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=5).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"Virtuoso did not answer at {url} within {seconds:.0f} s: {log.read_text()[-2000:]}")


def _first_start(instance: LocalVirtuoso) -> None:
    """Set the ``dba`` password and make the writer's account (on a fresh database, whose dba password is dba)."""
    _, client = binaries()
    subprocess.run(
        [
            client,
            f"127.0.0.1:{instance.sql_port}",
            "dba",
            "dba",
            f"exec=USER_SET_PASSWORD('dba', '{instance.password}');",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    instance.isql(f"DB.DBA.USER_CREATE('{WRITER}', '{instance.password}');")
    instance.isql(f'GRANT SPARQL_UPDATE TO "{WRITER}";')
    # Graph-level security: everyone may read every graph through /sparql; only the writer may write.
    instance.isql("DB.DBA.RDF_DEFAULT_USER_PERMS_SET('nobody', 1);")
    instance.isql(f"DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{WRITER}', 3);")


@contextlib.contextmanager
def running(
    directory: Path,
    http_port: int,
    sql_port: int,
    password: str = "dfl-test",
    buffers: int = 170_000,
    max_rows: int = 1_000_000,
    max_seconds: int = 60,
    start_seconds: float = 300,
) -> Iterator[LocalVirtuoso]:
    """Start Virtuoso on 127.0.0.1 with its database in ``directory`` (kept, so a second start is quick), and
    stop it on exit. ``buffers`` are 8 KB pages of cache (170,000: about 1.3 GB, the benchmarks' setting)."""
    server, _ = binaries()
    directory.mkdir(parents=True, exist_ok=True)
    fresh = not (directory / "virtuoso.db").exists()
    ini = directory / "virtuoso.ini"
    ini.write_text(
        CONFIG.format(
            dir=directory,
            sql_port=sql_port,
            http_port=http_port,
            buffers=buffers,
            dirty_buffers=buffers * 3 // 4,
            max_rows=max_rows,
            max_seconds=max_seconds,
        )
    )
    log = directory / "server.out"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [server, "+configfile", str(ini), "+foreground"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
            start_new_session=True,
        )
    instance = LocalVirtuoso(directory, http_port, sql_port, password)
    try:
        _wait_until_up(instance.url, proc, log, start_seconds)
        if fresh:
            _first_start(instance)
        yield instance
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
