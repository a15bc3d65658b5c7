"""Killable query worker processes, with admission lanes and a time limit that really stops work.

Each web process owns a small pool of workers (:mod:`dfl_graph.sparql.worker`), forked by a
``multiprocessing`` fork server (so nothing of the threaded web process is inherited, and a replacement
costs a fork, not an interpreter start). A query:

1. takes a slot in the *fresh* lane (``max_concurrent`` across the server), or is answered 503 with
   ``Retry-After``;
2. runs on an idle worker (one is kept started, with the store of the latest query already open: opening
   a store takes tens of milliseconds, and a small query should not wait for that);
3. if it is still running after ``slow_after`` seconds it moves to the *long* lane and its worker to the
   lowest CPU priority (SCHED_IDLE); if the long lane is full, it is stopped with 503. Past
   ``turns_after`` seconds, only the ``long_running`` youngest such queries run (runaways are the
   oldest); the others wait stopped (SIGSTOP). While requests keep coming in
   (:mod:`dfl_graph.sparql.activity`), the running one runs only ``BUSY_SHARE`` of each ``TURN``.
   Even at SCHED_IDLE, five runaways running at once doubled the tail latency of cached answers on a
   2-core server (they fill the caches and the memory bandwidth the web processes need); stopped, they
   cost nothing but memory;
4. if it is still running at ``timeout`` its worker is killed (SIGKILL: pyoxigraph cannot be interrupted)
   and it is answered 504; a fresh worker replaces it in the background.

Workers that were demoted or failed are never reused. Every worker is killed when the web process exits
(and by the kernel if the web process dies without cleaning up: see ``sandbox.die_with_parent``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import multiprocessing
import multiprocessing.context
import os
import signal
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dfl_graph.sparql import frames, sandbox
from dfl_graph.sparql.activity import Activity
from dfl_graph.sparql.lanes import Lane, Seniority, Slot, runtime_dir
from dfl_graph.sparql.limits import Limits

log = logging.getLogger(__name__)
START_TIMEOUT = 30.0
DEMOTED_NICENESS = 19
WORKER_NICENESS = 10  # well below the web processes (1/10 of their CPU weight): cached answers stay quick
TURN = 0.1  # seconds a running long query runs before it looks again whether it should
TURN_POLL = 0.01  # how often a waiting long query looks whether it may run
BUSY_SHARE = 0.2  # of a turn that a long query runs while requests keep coming in
QUIET = 0.02  # seconds without a new request after which the server counts as quiet


class QueryFailure(Exception):
    """A query could not be answered; carries the HTTP status and a message for the client."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def time_limit_message(limits: Limits) -> str:
    return f"the query was stopped after {limits.timeout:g} seconds, the endpoint's time limit"


_context_lock = threading.Lock()
_context: multiprocessing.context.ForkServerContext | None = None


def fork_context() -> multiprocessing.context.ForkServerContext:
    """The fork server of this web process: a clean process (started by exec, so nothing of the threaded
    web process is inherited) with the worker module imported; each worker is a fork of it."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["dfl_graph.sparql.worker"])
            _context = context
        return _context


class WorkerProcess:
    def __init__(self, limits: Limits, spool_dir: Path) -> None:
        from dfl_graph.sparql import worker as worker_module

        context = fork_context()
        ours, theirs = context.Pipe(duplex=True)
        self.process = context.Process(
            target=worker_module.serve,
            args=(theirs, limits.worker_memory_mb, (limits.max_bytes >> 20) + 16, str(spool_dir)),
            name="dfl-sparql-worker",
            daemon=True,
        )
        self.process.start()
        theirs.close()
        self.conn = ours
        self.pid = self.process.pid
        self.reader = frames.FrameReader(ours)
        self.usable = True
        self.paused = False
        self.exitcode: int | None = None
        kind, payload = self.reader.read(time.monotonic() + START_TIMEOUT)
        if kind != frames.READY:
            raise frames.WorkerGone
        self.facts = json.loads(payload)
        sandbox.lower_priority(self.pid, WORKER_NICENESS)

    def open_store(self, directory: str) -> None:
        """Have the worker open a store before its first query (opening one takes tens of milliseconds, which a
        small query should not wait for)."""
        try:
            frames.write_frame(self.conn, frames.OPEN, directory.encode())
        except OSError:
            raise frames.WorkerGone from None
        kind, _ = self.reader.read(time.monotonic() + START_TIMEOUT)
        if kind != frames.END:
            raise frames.WorkerGone

    def send(self, job: dict) -> None:
        try:
            frames.write_json(self.conn, frames.JOB, job)
        except OSError:
            raise frames.WorkerGone from None

    def pause(self, paused: bool) -> None:
        """Stop or continue the worker (a stopped worker can still be killed)."""
        if paused != self.paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGSTOP if paused else signal.SIGCONT)
            self.paused = paused

    def kill(self) -> None:
        self.usable = False
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.join(timeout=5)
            self.exitcode = self.process.exitcode
        with contextlib.suppress(Exception):
            self.conn.close()
        with contextlib.suppress(Exception):
            self.process.close()


@dataclass
class Started:
    """A query that has answered: its header, and the body still to read from the worker."""

    header: dict
    body: Body


class QueryPool:
    """The query workers of one web process."""

    def __init__(self, limits: Limits, data_dir: Path) -> None:
        self.limits = limits
        directory = runtime_dir(data_dir)
        self.spool_dir = directory
        self.fresh = Lane(directory, "fresh", limits.max_concurrent)
        self.long = Lane(directory, "long", limits.max_long)
        self.seniority = Seniority(self.long)
        self.activity = Activity(directory)
        self._idle: list[WorkerProcess] = []
        self._all: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._closed = False
        self.network_denied: bool | None = None
        self._store: str | None = None  # the store the latest query ran on: spares open it before they are used
        self._owner = os.getpid()
        _POOLS.add(self)
        threading.Thread(target=self._keep_spares, name="dfl-sparql-spares", daemon=True).start()
        self._wanted.set()

    # -- workers --------------------------------------------------------------------------------------
    def _start(self) -> WorkerProcess:
        worker = WorkerProcess(self.limits, self.spool_dir)
        self.network_denied = worker.facts.get("network_denied")
        if not self.network_denied:
            log.warning("SPARQL workers run without the network filter (seccomp unavailable on this system)")
        with self._lock:
            if self._closed:
                worker.kill()
                raise QueryFailure(503, "the endpoint is shutting down")
            self._all.add(worker)
        return worker

    def _keep_spares(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            while not self._closed:
                with self._lock:
                    if len(self._idle) >= self.limits.spare_workers:
                        break
                try:
                    worker = self._start()
                except Exception as error:  # keep the server up; the next query starts one itself
                    log.error("could not start a SPARQL worker: %s", error)
                    time.sleep(1)
                    break
                if self._store is not None:
                    try:
                        worker.open_store(self._store)
                    except (frames.WorkerGone, frames.Timeout):
                        self._discard(worker)
                        time.sleep(1)
                        break
                with self._lock:
                    self._idle.append(worker)
            if self._closed:
                return

    def _take(self) -> WorkerProcess:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        self._wanted.set()
        if worker is None:
            try:
                worker = self._start()
            except (frames.WorkerGone, frames.Timeout, OSError) as error:
                raise QueryFailure(503, f"no query worker could be started: {error}") from None
        return worker

    def _give_back(self, worker: WorkerProcess) -> None:
        with self._lock:
            keep = worker.usable and not self._closed and len(self._idle) < self.limits.max_idle_workers
            if keep:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
        if not keep:
            worker.kill()

    def _discard(self, worker: WorkerProcess) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
        self._wanted.set()

    def close(self) -> None:
        """Kill every worker (at exit of the web process)."""
        if os.getpid() != self._owner:
            return
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
        self._wanted.set()
        for worker in workers:
            worker.kill()

    # -- running --------------------------------------------------------------------------------------
    def busy(self, message: str) -> QueryFailure:
        return QueryFailure(503, message, retry_after=self.limits.retry_after)

    def run(self, job: dict) -> Started:
        """Run a job; returns once the worker has its answer ready (or raises QueryFailure)."""
        slot: Slot | None = self.fresh.try_acquire()
        if slot is None:
            raise self.busy(
                f"the endpoint is answering as many queries as it allows ({self.limits.max_concurrent}); "
                "try again shortly"
            )
        worker: WorkerProcess | None = None
        self._store = job["store"]
        started = time.monotonic()  # the limits count from admission, waiting for a worker included
        deadline = started + self.limits.timeout
        demote_at = started + self.limits.slow_after
        try:
            worker = self._take()
            worker.send(job)
            while True:
                try:
                    if slot.lane == "long":
                        kind, payload = self._read_long(worker, slot, started, deadline)
                    else:
                        kind, payload = worker.reader.read(min(deadline, demote_at))
                except frames.Timeout:
                    if time.monotonic() >= deadline:
                        raise QueryFailure(504, time_limit_message(self.limits)) from None
                    long_slot = self.long.try_acquire()
                    if long_slot is None:
                        raise self.busy(
                            f"the query ran longer than {self.limits.slow_after:g} s while the endpoint was "
                            f"already running {self.limits.max_long} long queries; try again later"
                        ) from None
                    self.seniority.record(long_slot, 0)  # an entry left by a process that died holding it
                    slot.release()
                    slot = long_slot
                    worker.usable = False  # reniced for good: retire it after this query
                    sandbox.lower_priority(worker.pid, DEMOTED_NICENESS, idle=True)
                    continue
                if kind == frames.HEADER:
                    break
            header = json.loads(payload)
        except frames.WorkerGone:
            if worker is not None:
                self._discard(worker)
            slot.release()
            raise _worker_died(worker, self.limits) from None
        except BaseException:
            if worker is not None:
                self._discard(worker)
            slot.release()
            raise
        slot.release()
        body = Body(self, worker)
        if header.get("status") != 200:
            body.read_all()  # only the end mark follows an error header
        return Started(header, body)

    def _read_long(self, worker: WorkerProcess, slot: Slot, started: float, deadline: float) -> tuple[int, bytes]:
        """The next frame of a long query's worker. For ``turns_after`` seconds it just runs (at SCHED_IDLE);
        then it runs only while it is among the ``long_running`` youngest such queries, and otherwise
        waits stopped. Raises frames.Timeout at the deadline."""
        turns_at = started + self.limits.turns_after
        if time.monotonic() < turns_at and (frame := _read_before(worker, turns_at, deadline)) is not None:
            return frame
        started_ns = int(started * 1e9)
        self.seniority.record(slot, started_ns)
        try:
            while True:
                if self.seniority.younger(slot, started_ns) >= self.limits.long_running:
                    worker.pause(True)  # younger queries run first: runaways are the oldest
                    if time.monotonic() >= deadline:
                        raise frames.Timeout
                    time.sleep(TURN_POLL)
                    continue
                busy = self.activity.quiet_for() < QUIET
                begun = time.monotonic()
                runs_until = begun + TURN * (BUSY_SHARE if busy else 1.0)
                worker.pause(False)
                if (frame := _read_before(worker, runs_until, deadline)) is not None:
                    return frame
                if busy:  # leave the rest of the turn to the requests
                    worker.pause(True)
                    time.sleep(max(0.0, min(begun + TURN, deadline) - time.monotonic()))
        finally:
            self.seniority.record(slot, 0)

    def _finished(self, worker: WorkerProcess, complete: bool) -> None:
        if complete:
            self._give_back(worker)
        else:
            self._discard(worker)


def _worker_died(worker: WorkerProcess | None, limits: Limits) -> QueryFailure:
    """What to answer when a worker died before answering: a crash (SIGSEGV: the parser's stack overflowed,
    which a query nested deeper than the lexer could see does) is the query's fault; anything else is most
    likely the memory cap."""
    if worker is not None and worker.exitcode == -signal.SIGSEGV:
        return QueryFailure(
            400,
            "the query could not be parsed: it is nested too deeply for this endpoint's SPARQL parser (the worker "
            "parsing it ran out of stack); write it with fewer nested brackets or operators",
        )
    return QueryFailure(
        503,
        "the query worker stopped before answering (most likely the query needed more than the "
        f"{limits.worker_memory_mb} MB of memory a query may use)",
    )


def _read_before(worker: WorkerProcess, until: float, deadline: float) -> tuple[int, bytes] | None:
    """The worker's next frame if it comes before ``until``, else None; frames.Timeout at the deadline."""
    try:
        return worker.reader.read(min(until, deadline))
    except frames.Timeout:
        if time.monotonic() >= deadline:
            raise
        return None


class Body:
    """The chunks of an answer as the worker sends them. The worker is reused only if the whole answer
    was read; closing early (the client went away) kills it, since its pipe is then out of step."""

    def __init__(self, pool: QueryPool, worker: WorkerProcess) -> None:
        self.pool = pool
        self.worker: WorkerProcess | None = worker

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        worker = self.worker
        if worker is None:
            raise StopIteration
        try:
            kind, payload = worker.reader.read(time.monotonic() + max(60.0, self.pool.limits.timeout * 6))
        except (frames.WorkerGone, frames.Timeout):
            self._end(complete=False)
            raise StopIteration from None
        if kind == frames.END:
            self._end(complete=True)
            raise StopIteration
        return payload

    def _end(self, complete: bool) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            self.pool._finished(worker, complete)

    def close(self) -> None:
        self._end(complete=False)

    def read_all(self) -> bytes:
        return b"".join(self)


_POOLS: weakref.WeakSet[QueryPool] = weakref.WeakSet()


@atexit.register
def _close_pools() -> None:
    for pool in list(_POOLS):
        pool.close()
