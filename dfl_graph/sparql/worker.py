"""A query worker process: ``python -m dfl_graph.sparql.worker``, started and killed by the web process.

pyoxigraph has no timeout or cancellation, so untrusted queries run here, in a process the web process
can kill (its own process group) when the time limit passes. The worker opens a published generation's
store read-only (a frozen snapshot) and reopens when a job names a newer one. It cannot open network
sockets (:mod:`dfl_graph.sparql.sandbox`), its memory is capped, and it exits when its parent dies.

Each job's result is written, within the row and byte caps, to a spool (memory, then a temporary file)
and then streamed to the web process in chunks: the header can then say exactly whether a cap cut the
result short and how long it is, and the time limit covers all the work before the first byte.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
import threading
import time

from dfl_graph.sparql import frames, sandbox

SPOOL_IN_MEMORY = 4 << 20


def _readable_syntax_error(message: str, query: str) -> str:
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
    def __init__(self, requests: int, replies: int, spool_dir: str | None) -> None:
        from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Store, Variable

        self.Store, self.NamedNode, self.Literal, self.BlankNode, self.Variable = (
            Store,
            NamedNode,
            Literal,
            BlankNode,
            Variable,
        )
        self.DefaultGraph = DefaultGraph
        self.reader = frames.FrameReader(requests)
        self.replies = replies
        self.spool_dir = spool_dir
        self.store_dir: str | None = None
        self.store = None

    def open_store(self, directory: str):
        if directory != self.store_dir:
            self.store = None  # close the previous generation before opening the next
            self.store = self.Store.read_only(directory)
            self.store_dir = directory
        return self.store

    def term(self, spec: list):
        kind = spec[0]
        if kind == "iri":
            return self.NamedNode(spec[1])
        if kind == "bnode":
            return self.BlankNode(spec[1])
        value, datatype, language = spec[1], spec[2], spec[3]
        if language:
            return self.Literal(value, language=language)
        return self.Literal(value, datatype=self.NamedNode(datatype) if datatype else None)

    def serve(self) -> None:
        while True:
            try:
                kind, payload = self.reader.read()
            except frames.WorkerGone:
                return
            if kind == frames.JOB:
                self.run(json.loads(payload))

    def fail(self, status: int, message: str) -> None:
        frames.write_json(self.replies, frames.HEADER, {"status": status, "error": message})
        frames.write_frame(self.replies, frames.END)

    def run(self, job: dict) -> None:
        from pyoxigraph import QueryBoolean, QuerySolutions

        from dfl_graph.sparql import serializers
        from dfl_graph.sparql.formats import BY_NAME, RESULT_FORMATS

        started = time.monotonic()
        try:
            store = self.open_store(job["store"])
        except OSError as error:
            self.fail(503, f"the catalogue store could not be opened: {error}")
            return
        try:
            result = store.query(
                job["query"],
                base_iri=job.get("base_iri"),
                default_graph=(
                    [self.DefaultGraph()]
                    if job.get("store_default_graph")
                    else [self.NamedNode(g) for g in job["default_graphs"]]
                ),
                named_graphs=[self.NamedNode(g) for g in job["named_graphs"]],
                substitutions={self.Variable(k): self.term(v) for k, v in job.get("substitutions", {}).items()},
            )
        except SyntaxError as error:
            self.fail(400, _readable_syntax_error(str(error), job["query"]))
            return
        except OSError as error:
            self.fail(400 if "HTTP" in str(error) or "SERVICE" in str(error).upper() else 503, str(error))
            return
        except Exception as error:  # evaluation errors of the query itself
            self.fail(400, f"the query could not be evaluated: {error}")
            return
        if isinstance(result, QueryBoolean):
            kind = "boolean"
        elif isinstance(result, QuerySolutions):
            kind = "solutions"
        else:
            kind = "graph"
        fmt = BY_NAME[job["formats"][kind]] if kind in job["formats"] else None
        if fmt is None:
            available = ", ".join(f.media_type for f in RESULT_FORMATS[kind])
            self.fail(406, f"none of the requested formats can hold {kind} results; they come as {available}")
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, dir=self.spool_dir) as spool:
            try:
                if kind == "boolean":
                    written = serializers.write_boolean(bool(result), fmt, spool)
                elif kind == "solutions":
                    variables = [v.value for v in result.variables]
                    written = serializers.write_solutions(
                        variables, result, fmt, spool, job["max_rows"], job["max_bytes"]
                    )
                else:
                    written = serializers.write_graph(
                        result, fmt, spool, job["max_rows"], job["max_bytes"], job.get("prefixes") or {}
                    )
            except OSError as error:
                self.fail(503, f"the query could not be completed: {error}")
                return
            except Exception as error:
                self.fail(400, f"the query could not be evaluated: {error}")
                return
            length = spool.tell()
            frames.write_json(
                self.replies,
                frames.HEADER,
                {
                    "status": 200,
                    "kind": kind,
                    "format": fmt.name,
                    "length": length,
                    "rows": written.rows,
                    "truncated": written.truncated,
                    "seconds": round(time.monotonic() - started, 4),
                },
            )
            spool.seek(0)
            while chunk := spool.read(frames.CHUNK):
                frames.write_frame(self.replies, frames.DATA, chunk)
            frames.write_frame(self.replies, frames.END)


def _watch_parent(parent: int) -> None:
    """Exit when the web process that started this worker is gone (even mid-query: the GIL is released)."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--max-file-mb", type=int, default=0)
    parser.add_argument("--spool-dir", default=None)
    args = parser.parse_args()
    # Frames go over the original stdin/stdout; anything else printed goes to stderr (the server log).
    requests, replies = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sandbox.limit_resources(args.memory_mb << 20, args.max_file_mb << 20)
    sandboxed = sandbox.deny_network()
    threading.Thread(target=_watch_parent, args=(args.parent,), daemon=True).start()
    worker = Worker(requests, replies, args.spool_dir)
    frames.write_json(replies, frames.READY, {"pid": os.getpid(), "network_denied": sandboxed})
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        worker.serve()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
