"""The query service of one web process: inspection, dataset, cache, worker pool, in one call.

Both the ``/sparql`` endpoint and the named-query API answer through :meth:`QueryService.answer`, so
both get the same safety (SERVICE refused, public graphs only, time limit, caps) and the same cache.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode, Store

from dfl_graph.config import Settings
from dfl_graph.memory_cache import MemoryCache
from dfl_graph.sparql.accelerated import answer_from_index, answer_lookup, slow_query_advice
from dfl_graph.sparql.cache import CachedAnswer, cache_key, result_cache
from dfl_graph.sparql.dataset import Dataset
from dfl_graph.sparql.formats import BY_NAME, ResultFormat
from dfl_graph.sparql.inspection import MAX_NESTING, QueryShape, unescape
from dfl_graph.sparql.limits import Limits
from dfl_graph.sparql.pool import Body, QueryFailure, QueryPool, time_limit_message
from dfl_graph.sparql.public_store import public_store_dir
from dfl_graph.sparql.worker import SPOOL_IN_MEMORY, JobFailed, readable_syntax_error, run_job
from dfl_graph.store import Snapshot
from dfl_graph.uris import Uris

REMOTE_NOT_INDEXED = "the catalogue is on a remote SPARQL store, which answers every query itself"
TIMEOUT_MEMORY = 60.0  # seconds a query that ran out of time is answered 504 without running again
SERVICE_REFUSED = (
    "SERVICE (federated query) is not allowed on this endpoint: it would make the server call other hosts. "
    "Run the federated part against the other endpoint yourself"
)


@dataclass
class Answer:
    """A query's answer, ready to send: metadata, and the body as bytes (cached) or chunks (streamed)."""

    header: dict
    body: bytes | Iterator[bytes]
    etag: str
    cached: bool
    generation: int
    fmt: ResultFormat = field(init=False)

    def __post_init__(self) -> None:
        self.fmt = BY_NAME[self.header["format"]]

    @property
    def length(self) -> int:
        return int(self.header["length"])

    @property
    def truncated(self) -> str | None:
        return self.header.get("truncated")


class _Collecting:
    """Passes chunks through while keeping a copy, cached once the whole answer has gone by."""

    def __init__(self, body: Body, cache: MemoryCache[CachedAnswer], key: str, header: dict) -> None:
        self.body, self.cache, self.key, self.header = body, cache, key, header
        self.parts: list[bytes] = []

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.parts.append(chunk)
            yield chunk
        data = b"".join(self.parts)
        if len(data) == self.header["length"]:
            self.cache.put(self.key, CachedAnswer(self.header, data))

    def close(self) -> None:
        self.body.close()


def term_spec(term: NamedNode | Literal | BlankNode) -> list:
    """An RDF term as the worker's job expects it."""
    if isinstance(term, NamedNode):
        return ["iri", term.value]
    if isinstance(term, BlankNode):
        return ["bnode", term.value]
    return ["literal", term.value, term.datatype.value if not term.language else None, term.language]


class QueryService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.uris = Uris(settings.base)
        self.limits = Limits.from_settings(settings)
        self.cache = result_cache(self.limits.cache_bytes)
        self.pool = QueryPool(self.limits, settings.data_dir)
        self.endpoint = f"{self.uris.base}/sparql"
        self.prefixes = self.uris.prefixes()
        self._timeouts: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def refusal(self, shape: QueryShape) -> QueryFailure | None:
        """Why a query is refused before it runs, if it is."""
        if shape.form == "UPDATE":
            from dfl_graph.sparql.protocol import READ_ONLY

            return QueryFailure(400, READ_ONLY)
        if shape.uses_service:
            return QueryFailure(400, SERVICE_REFUSED)
        if shape.nesting > MAX_NESTING:
            return QueryFailure(
                400,
                f"the query is nested {shape.nesting} levels deep (brackets, or prefix operators in a row); this "
                f"endpoint's SPARQL parser accepts at most {MAX_NESTING}",
            )
        return None

    def prepare(
        self,
        snapshot: Snapshot,
        query: str,
        dataset: Dataset,
        formats: dict[str, ResultFormat],
        substitutions: dict | None = None,
        base_iri: str | None = None,
        caps: tuple[int, int] | None = None,
        audience: str = "public",
    ) -> tuple[str, dict]:
        """The cache key (also the ETag) and the worker job of a query; ``caps`` (rows, bytes) may only
        lower the endpoint's caps (the editor page shows a first part). ``audience`` is the caller's
        ``Visibility.cache_key``: answers are never shared across it, and only ``public`` callers' queries run
        on the merged public store (and its shape index), which holds nothing else."""
        max_rows = min(caps[0], self.limits.max_rows) if caps else self.limits.max_rows
        max_bytes = min(caps[1], self.limits.max_bytes) if caps else self.limits.max_bytes
        subs = {v.value: term_spec(t) for v, t in (substitutions or {}).items()}
        base_iri = base_iri or self.endpoint
        names = {kind: fmt.name for kind, fmt in formats.items()}
        key = cache_key(
            snapshot.generation,
            audience,
            query,
            dataset,
            sorted(subs.items()),
            sorted(names.items()),
            base_iri,
            max_rows,
            max_bytes,
        )
        public_store = public_store_dir(snapshot.directory)
        merged = (
            dataset.whole and audience == "public" and public_store.exists()
        )  # else the main store, with graph lists
        job = {
            "store": str(public_store if merged else snapshot.directory / "store"),
            "store_default_graph": merged,
            "query": query,
            "default_graphs": list(dataset.default_graphs),
            "named_graphs": list(dataset.named_graphs),
            "substitutions": subs,
            "formats": names,
            "base_iri": base_iri,
            "max_rows": max_rows,
            "max_bytes": max_bytes,
            "prefixes": self.prefixes,
        }
        return key, job

    def run(self, snapshot: Snapshot, key: str, job: dict) -> Answer:
        """Recall the answer from the cache or run the job; raises QueryFailure with the status to answer."""
        cached = self.cache.get(key)
        if cached is not None:
            return Answer(cached.header, cached.body, key, True, snapshot.generation)
        indexed = answer_lookup(snapshot, job) or answer_from_index(snapshot.directory, job)
        if not isinstance(indexed, str):
            header, data = indexed
            if self.cache.fits(len(data)):
                self.cache.put(key, CachedAnswer(header, data))
            return Answer(header, data, key, False, snapshot.generation)
        if snapshot.remote:
            return self._run_remote(snapshot, key, job, REMOTE_NOT_INDEXED)
        try:
            self._refuse_recent_timeout(key)
            started = self.pool.run(job)
        except QueryFailure as failure:
            if failure.status == 504:
                self._timed_out(key)
                failure.message += "\n\n" + slow_query_advice(job["query"], indexed, self.uris.base)
            raise
        header = started.header
        if header.get("status") != 200:
            raise QueryFailure(int(header.get("status", 503)), header.get("error", "the query failed"))
        body: Iterator[bytes] = started.body
        if self.cache.fits(int(header["length"])):
            body = _Collecting(started.body, self.cache, key, header)
        return Answer(header, body, key, False, snapshot.generation)

    def _run_remote(self, snapshot: Snapshot, key: str, job: dict, why_not_indexed: str) -> Answer:
        """Run a job on the remote store from this process: the store does the work, so no worker is needed (and
        the workers may not open sockets). The same protections apply: the text was checked (SERVICE, updates)
        before, the dataset is the public graphs' stored names, the store's own time limit is set to ours and the
        request is cut at ours too, and the same caps and serializers write the answer. The query is parsed here
        first, so a syntax error reads as on the embedded store."""
        from dfl_graph.backends.sparql_http import STORED_MARK

        if STORED_MARK in unescape(job["query"]):
            raise QueryFailure(400, f"IRIs containing {STORED_MARK!r} are reserved for the catalogue's stored graphs")
        try:
            Store().query(job["query"], base_iri=job.get("base_iri"))  # parses (on an empty store: nothing runs)
        except SyntaxError as error:
            raise QueryFailure(400, readable_syntax_error(str(error), job["query"])) from None
        except Exception:  # the query is valid; evaluating it over nothing failed, which the store will tell
            pass
        slot = self.pool.fresh.try_acquire()  # the same admission as the workers': across the server's processes
        if slot is None:
            raise self.pool.busy(
                f"the endpoint is answering as many queries as it allows ({self.limits.max_concurrent}); "
                "try again shortly"
            )
        try:
            self._refuse_recent_timeout(key)
            store = snapshot.store.with_timeout(self.limits.timeout)  # type: ignore[attr-defined]
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
                header = run_job(store, job, spool)
                spool.seek(0)
                data = spool.read()
        except JobFailed as failure:
            if failure.status != 504:
                raise QueryFailure(failure.status, failure.message) from None
            self._timed_out(key)
            advice = slow_query_advice(job["query"], why_not_indexed, self.uris.base)
            raise QueryFailure(504, f"{time_limit_message(self.limits)}\n\n{advice}") from None
        finally:
            slot.release()
        header["answered_by"] = "engine"
        if self.cache.fits(len(data)):
            self.cache.put(key, CachedAnswer(header, data))
        return Answer(header, data, key, False, snapshot.generation)

    def _timed_out(self, key: str) -> None:
        with self._lock:
            self._timeouts[key] = time.monotonic() + TIMEOUT_MEMORY
            self._timeouts.move_to_end(key)
            while len(self._timeouts) > 1000:
                self._timeouts.popitem(last=False)

    def _refuse_recent_timeout(self, key: str) -> None:
        """The same query on the same generation ran out of time a moment ago: it would again, so it is
        answered 504 at once instead of taking a worker for the whole time limit."""
        with self._lock:
            until = self._timeouts.get(key)
            if until is not None and until < time.monotonic():
                del self._timeouts[key]
                until = None
        if until is not None:
            raise QueryFailure(
                504,
                f"this query ran past the endpoint's {self.limits.timeout:g} second limit less than "
                f"{TIMEOUT_MEMORY:g} seconds ago on the same catalogue, so it was not run again",
            )

    def answer(
        self, snapshot: Snapshot, query: str, dataset: Dataset, formats: dict[str, ResultFormat], **kw
    ) -> Answer:
        key, job = self.prepare(snapshot, query, dataset, formats, **kw)
        return self.run(snapshot, key, job)


_lock = threading.Lock()


def service_for(app) -> QueryService:
    """The query service of a Flask app (started on first use, in the process that serves)."""
    found = app.extensions.get("dfl.sparql")
    if found is None:
        with _lock:
            found = app.extensions.get("dfl.sparql")
            if found is None:
                found = QueryService(app.extensions["dfl.settings"])
                app.extensions["dfl.sparql"] = found
    return found
