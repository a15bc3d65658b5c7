"""A query worker process: forked by the web process's ``multiprocessing`` fork server, killed by the web
process when a query runs past its time limit.

pyoxigraph has no timeout or cancellation, so untrusted queries run here, in a process the web process
can kill. The fork server has this module (and pyoxigraph) imported already, so a new worker costs a fork,
not an interpreter start: a killed worker is replaced in milliseconds, even when runaway queries keep
coming. The worker opens a published generation's store read-only (a frozen snapshot) and reopens when a
job names a newer one. It cannot open network sockets (:mod:`dfl_graph.sparql.sandbox`), its memory is
capped, and it exits when the fork server (which exits with the web process) is gone.

Each job's result is written, within the row and byte caps, to a spool (memory, then a temporary file)
and then streamed to the web process in chunks: the header can then say exactly whether a cap cut the
result short and how long it is, and the time limit covers all the work before the first byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import tempfile
import time
from multiprocessing.connection import Connection

# Imported by the fork server, so that a worker starts without importing anything.
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, QueryBoolean, QuerySolutions, Store, Variable

from dfl_graph.sparql import frames, sandbox, serializers
from dfl_graph.sparql.formats import BY_NAME, RESULT_FORMATS

SPOOL_IN_MEMORY = 4 << 20


def readable_syntax_error(message: str, query: str) -> str:
    """'error at 3:8: expected one of A, B, ...' -> a short message with the line and a caret."""
    match = re.match(r"error at (\d+):(\d+): (.*)", message, re.DOTALL)
    if not match:
        return f"SPARQL syntax error: {message[:500]}"
    line, column, what = int(match.group(1)), int(match.group(2)), match.group(3).strip()
    expected = re.match(r"expected one of (.*)", what, re.DOTALL)
    if expected:
        options = [o.strip() for o in expected.group(1).split(", ")]
        if len(options) > 12:
            options = [*options[:12], f"... ({len(options) - 12} more)"]
        what = "expected one of " + ", ".join(options)
    lines = query.splitlines() or [""]
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    start = max(0, column - 60)
    excerpt = text[start : start + 120]
    caret = " " * (column - 1 - start) + "^"
    return f"SPARQL syntax error at line {line}, column {column}: {what}\n  {excerpt}\n  {caret}"


class Worker:
    def __init__(self, conn: Connection, spool_dir: str | None) -> None:
        self.reader = frames.FrameReader(conn)
        self.replies = conn
        self.spool_dir = spool_dir
        self.store_dir: str | None = None
        self.store = None

    def open_store(self, directory: str):
        if directory != self.store_dir:
            self.store = None  # close the previous generation before opening the next
            self.store = Store.read_only(directory)
            self.store_dir = directory
        return self.store

    def serve(self) -> None:
        while True:
            try:
                kind, payload = self.reader.read()
            except frames.WorkerGone:
                return
            if kind == frames.JOB:
                self.run(json.loads(payload))
            elif kind == frames.OPEN:
                with contextlib.suppress(OSError):  # the next job reports it, if it still fails then
                    self.open_store(payload.decode())
                frames.write_frame(self.replies, frames.END)

    def fail(self, status: int, message: str) -> None:
        frames.write_json(self.replies, frames.HEADER, {"status": status, "error": message})
        frames.write_frame(self.replies, frames.END)

    def run(self, job: dict) -> None:
        try:
            store = self.open_store(job["store"])
        except OSError as error:
            self.fail(503, f"the catalogue store could not be opened: {error}")
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, dir=self.spool_dir) as spool:
            try:
                header = run_job(store, job, spool)
            except JobFailed as failure:
                self.fail(failure.status, failure.message)
                return
            frames.write_json(self.replies, frames.HEADER, header)
            spool.seek(0)
            while chunk := spool.read(frames.CHUNK):
                frames.write_frame(self.replies, frames.DATA, chunk)
            frames.write_frame(self.replies, frames.END)


class JobFailed(Exception):
    """A job's query could not be answered: the HTTP status and the message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _term(spec: list):
    kind = spec[0]
    if kind == "iri":
        return NamedNode(spec[1])
    if kind == "bnode":
        return BlankNode(spec[1])
    value, datatype, language = spec[1], spec[2], spec[3]
    if language:
        return Literal(value, language=language)
    return Literal(value, datatype=NamedNode(datatype) if datatype else None)


def _kind(result) -> str:
    if isinstance(result, QueryBoolean | bool):
        return "boolean"
    if isinstance(result, QuerySolutions) or hasattr(result, "variables"):
        return "solutions"
    return "graph"


def run_job(store, job: dict, spool) -> dict:
    """Run a query job on a store (a :class:`dfl_graph.backends.GraphStore`) and write its answer to ``spool``
    within the job's caps; returns the answer's header. Raises :class:`JobFailed` with the status to answer.

    A worker runs it on the generation's embedded store; the web process runs it on a remote store, where the
    store itself does the work (see :meth:`dfl_graph.sparql.service.QueryService.run`). A remote store may cut a
    result at its own row limit (``truncated_at``): that is flagged as a row cap too.
    """
    started = time.monotonic()
    try:
        result = store.query(
            job["query"],
            base_iri=job.get("base_iri"),
            default_graph=(
                [DefaultGraph()] if job.get("store_default_graph") else [NamedNode(g) for g in job["default_graphs"]]
            ),
            named_graphs=[NamedNode(g) for g in job["named_graphs"]],
            substitutions={Variable(k): _term(v) for k, v in job.get("substitutions", {}).items()},
        )
    except SyntaxError as error:
        raise JobFailed(400, readable_syntax_error(str(error), job["query"])) from None
    except OSError as error:
        raise JobFailed(400 if "HTTP" in str(error) or "SERVICE" in str(error).upper() else 503, str(error)) from None
    except Exception as error:  # evaluation errors of the query itself (a remote store's carry their status)
        status = getattr(error, "status", 400)
        raise JobFailed(status, f"the query could not be evaluated: {error}" if status == 400 else str(error)) from None
    kind = _kind(result)
    fmt = BY_NAME[job["formats"][kind]] if kind in job["formats"] else None
    if fmt is None:
        available = ", ".join(f.media_type for f in RESULT_FORMATS[kind])
        raise JobFailed(406, f"none of the requested formats can hold {kind} results; they come as {available}")
    cut_by_store = getattr(result, "truncated_at", None)
    max_rows = min(job["max_rows"], cut_by_store) if cut_by_store else job["max_rows"]
    try:
        if kind == "boolean":
            written = serializers.write_boolean(bool(result), fmt, spool)
        elif kind == "solutions":
            variables = [v.value for v in result.variables]
            written = serializers.write_solutions(variables, result, fmt, spool, max_rows, job["max_bytes"])
        else:
            written = serializers.write_graph(result, fmt, spool, max_rows, job["max_bytes"], job.get("prefixes") or {})
    except OSError as error:
        raise JobFailed(503, f"the query could not be completed: {error}") from None
    except Exception as error:
        raise JobFailed(400, f"the query could not be evaluated: {error}") from None
    truncated = written.truncated
    if cut_by_store and not truncated and written.rows >= cut_by_store:
        truncated = "rows"
    return {
        "status": 200,
        "kind": kind,
        "format": fmt.name,
        "length": spool.tell(),
        "rows": written.rows,
        "truncated": truncated,
        "seconds": round(time.monotonic() - started, 4),
    }


def _let_the_fork_server_go() -> None:
    """Close this worker's copy of the fork server's "alive" pipe. The fork server exits when every
    writer of that pipe is gone; a forked child inherits one, so without this the fork server (and with
    it every worker, see :func:`sandbox.die_with_parent`) outlived a web process that was killed."""
    from multiprocessing import forkserver

    fd = getattr(forkserver._forkserver, "_forkserver_alive_fd", None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        forkserver._forkserver._forkserver_alive_fd = None


def serve(conn: Connection, memory_mb: int, max_file_mb: int, spool_dir: str | None) -> None:
    """The worker's life: confine itself, say it is ready, run jobs until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(AttributeError, ValueError):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full spool is an error (EFBIG), not a kill
    sandbox.limit_resources(memory_mb << 20, max_file_mb << 20)
    sandboxed = sandbox.deny_network()
    _let_the_fork_server_go()
    sandbox.die_with_parent()
    worker = Worker(conn, spool_dir)
    frames.write_json(conn, frames.READY, {"pid": os.getpid(), "network_denied": sandboxed})
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        worker.serve()
    os._exit(0)
