"""The remote backend: the catalogue's graphs in a SPARQL 1.1 store reached over HTTP (Query, Update and Graph
Store protocols), e.g. Virtuoso, Apache Jena Fuseki, GraphDB, Amazon Neptune or QLever.

Configured by one URL, ``DFL_STORE``::

    sparql+http://USER:PASSWORD@HOST:PORT/QUERY-PATH?update=UPDATE-PATH&gsp=GSP-PATH&auth=digest|basic&timeout=S

(``sparql+https`` for TLS; ``update`` and ``gsp`` are paths on the same host or whole URLs; the password may
instead come from ``DFL_STORE_PASSWORD``, and it never appears in logs or pages: :meth:`Endpoints.redacted`).
For Virtuoso: ``/sparql?update=/sparql-auth&gsp=/sparql-graph-crud-auth&auth=digest``; for Fuseki:
``/ds/query?update=/ds/update&gsp=/ds/data&auth=basic``.

**Atomic replacement.** A write stores each changed graph under a new name,
``{logical}#dfl-stored-{generation}-{attempt}`` (announced first in the registry graph,
``{base}/graph/registry``, so that a write that dies leaves nothing the garbage collector cannot find), then
one SPARQL ``DELETE/INSERT`` switches the registry's current generation to the new map. Readers use the map of
the generation they opened (its manifest), so they only ever query complete graphs; the stored names of a
generation are dropped once no kept generation names them.

**Reading.** :class:`RemoteGraphStore` is a :class:`~dfl_graph.backends.GraphStore`: logical graph names in
datasets and patterns are turned into stored names on the way out, and stored names back into logical ones in
every answer (they differ only by the ``#dfl-stored-…`` suffix, which is removed from the answer's text), so
nothing that reads a generation, and no user of the public endpoint, ever sees a stored name.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import requests
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    RdfFormat,
    Store,
    Variable,
    parse,
    parse_query_results,
    serialize,
)

from dfl_graph.generations import StoreError
from dfl_graph.sparql.inspection import inspect, tokens

if TYPE_CHECKING:
    from dfl_graph.generations import Manifest

STORED_MARK = "#dfl-stored-"
_STORED_SUFFIX = re.compile(rb"#dfl-stored-[0-9]+-[0-9a-f]+")
EMPTY_GRAPH = "urn:x-empty-graph:data-for-london"  # a graph name nothing is stored under: an empty dataset, explicitly
UPLOAD_BATCH = 50_000  # triples per Graph Store Protocol request
JSON_RESULTS = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
READ_TIMEOUT = 600.0  # seconds for the writer's and index builders' reads
PAST_THE_LIMIT = 1.0  # seconds a query's answer may take past its limit (the store's own stop is soft) before we cut it
DFL = "https://dataforlondon.uk/def/store#"  # the registry's own terms (not the catalogue's vocabulary)


class RemoteStoreError(StoreError):
    """The remote store refused or failed a request; says which, without credentials. ``status`` is what the public
    endpoint answers: 400 when the store refused the query itself, 503 when the store failed or is unreachable."""

    status = 503

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class RemoteTimeout(RemoteStoreError):
    """The remote store stopped a query at its time limit (or ours)."""

    status = 504


@dataclass(frozen=True)
class Endpoints:
    """Where the remote store's three protocols are, and how to sign in to write."""

    query: str
    update: str
    gsp: str
    user: str = ""
    password: str = ""
    auth: str = "digest"
    timeout: float = READ_TIMEOUT

    @classmethod
    def from_url(cls, url: str) -> Endpoints:
        parts = urlsplit(url)
        if parts.scheme not in ("sparql+http", "sparql+https") or not parts.hostname:
            raise StoreError(
                f"DFL_STORE must look like sparql+http://user:password@host:port/sparql?update=...&gsp=..., got "
                f"{parts.scheme or 'no scheme'}://{parts.hostname or '(no host)'}"
            )
        scheme = parts.scheme.removeprefix("sparql+")
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        query = f"{scheme}://{host}{parts.path or '/sparql'}"
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        auth = options.get("auth", "digest")
        if auth not in ("digest", "basic"):
            raise StoreError(f"DFL_STORE: auth must be digest or basic, got {auth!r}")
        try:
            timeout = float(options.get("timeout", READ_TIMEOUT))
        except ValueError:
            raise StoreError(f"DFL_STORE: timeout must be a number of seconds, got {options['timeout']!r}") from None
        return cls(
            query=query,
            update=urljoin(query, options.get("update", parts.path or "/sparql")),
            gsp=urljoin(query, options.get("gsp", "/sparql-graph-crud")),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or "") or os.environ.get("DFL_STORE_PASSWORD", ""),
            auth=auth,
            timeout=timeout,
        )

    def redacted(self) -> str:
        """The store's address for messages: no credentials."""
        return self.query


class Client:
    """HTTP to the remote store: one session (kept-alive connections), errors turned into :class:`RemoteStoreError`."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "dfl-graph"
        if endpoints.user:
            auth_class = requests.auth.HTTPDigestAuth if endpoints.auth == "digest" else requests.auth.HTTPBasicAuth
            self.writer_auth = auth_class(endpoints.user, endpoints.password)
        else:
            self.writer_auth = None

    def _send(self, method: str, url: str, what: str, timeout: float | None = None, **kwargs) -> requests.Response:
        """``timeout``: the query's own limit. The store was told it too, but Virtuoso's stop is soft (it checks its
        "anytime" limit between steps), so we cut the request ourselves shortly after: the endpoint's limit holds."""
        wait = timeout + PAST_THE_LIMIT if timeout is not None else self.endpoints.timeout
        try:
            response = self.session.request(method, url, timeout=(10, wait), **kwargs)
        except requests.Timeout:
            raise RemoteTimeout(
                f"the SPARQL store at {self.endpoints.redacted()} did not answer {what} in time"
            ) from None
        except requests.RequestException as error:
            raise RemoteStoreError(
                f"the SPARQL store at {self.endpoints.redacted()} could not be reached for {what}: "
                f"{type(error).__name__}"
            ) from None
        if response.headers.get("X-SQL-State") == "S1TAT" or (
            timeout is not None and response.status_code == 500 and "SR177" in response.text[:200]
        ):  # Virtuoso: an "anytime" answer cut at its time limit, or (sorting, say) stopped there with SR177
            raise RemoteTimeout(f"the SPARQL store at {self.endpoints.redacted()} stopped {what} at its time limit")
        if response.status_code >= 400:
            raise RemoteStoreError(
                f"the SPARQL store at {self.endpoints.redacted()} refused {what} ({response.status_code}): "
                f"{response.text[:500].strip()}",
                400 if response.status_code < 500 else 503,
            )
        return response

    def query(
        self, text: str, accept: str, default: Sequence[str], named: Sequence[str], timeout: float | None = None
    ) -> requests.Response:
        """POST a query with its dataset (the protocol's parameters override the query's own FROM clauses)."""
        data = [("query", text)]
        data += [("default-graph-uri", g) for g in default or (EMPTY_GRAPH,)]
        data += [("named-graph-uri", g) for g in named or (EMPTY_GRAPH,)]
        if timeout is not None:
            data.append(("timeout", str(int(timeout * 1000))))  # Virtuoso's own limit, in milliseconds
        return self._send(
            "POST",
            self.endpoints.query,
            "a query",
            timeout=timeout,
            data=data,
            headers={"Accept": accept},
        )

    def update(self, text: str) -> None:
        self._send("POST", self.endpoints.update, "an update", data={"update": text}, auth=self.writer_auth)

    def append_triples(self, graph: str, ntriples: bytes) -> None:
        """Graph Store Protocol POST: add N-Triples to a graph (creating it)."""
        self._send(
            "POST",
            self.endpoints.gsp,
            f"a write to graph {graph}",
            params={"graph": graph},
            data=ntriples,
            headers={"Content-Type": N_TRIPLES},
            auth=self.writer_auth,
        )


def logical_name(stored: str) -> str:
    return stored.split(STORED_MARK, 1)[0]


# Virtuoso 7 parses a geo:wktLiteral into its own geometry type and answers it typed virtrdf:Geometry (in its own
# spacing: no space after a comma, as the catalogue writes WKT): read back as the OGC datatype it was written with.
_VIRTUOSO_GEOMETRY = re.compile(rb'(\^\^<|"datatype"\s*:\s*")http://www\.openlinksw\.com/schemas/virtrdf#Geometry')
_WKT_LITERAL = rb"\1http://www.opengis.net/ont/geosparql#wktLiteral"


def _unstored(body: bytes) -> bytes:
    """An answer's text as the catalogue wrote it: every stored graph name turned back into its logical name, and
    WKT literals typed geo:wktLiteral again."""
    return _VIRTUOSO_GEOMETRY.sub(_WKT_LITERAL, _STORED_SUFFIX.sub(b"", body))


def _sparql_term(term: NamedNode | BlankNode | Literal) -> str:
    if isinstance(term, BlankNode):
        raise RemoteStoreError("a blank node cannot be named in a query to a remote store")
    return str(term)  # N-Triples syntax, which SPARQL reads


def with_bindings(query: str, substitutions: dict[Variable, NamedNode | BlankNode | Literal]) -> str:
    """``query`` with variables bound as pyoxigraph's ``substitutions`` bind them: each occurrence of a bound
    variable is replaced by its term, and a bound variable a SELECT projects is projected as ``(term AS ?var)``.

    (A ``VALUES`` block joined to the WHERE clause would be shorter, but Virtuoso evaluates a ``path?`` pattern
    before that join, and then answers as if the variable were unbound.)
    """
    if not substitutions:
        return query
    terms = {v.value: _sparql_term(t) for v, t in substitutions.items()}
    pieces, position, depth, braces, zone = [], 0, 0, 0, ""
    for token in tokens(query):
        word = token.text.upper() if token.kind == "word" else ""
        if word == "SELECT":
            zone = "projection"
        elif word == "WHERE" or token.text == "{":
            zone = ""
        elif word in ("GROUP", "ORDER", "HAVING") and braces == 0:
            zone = "modifiers"  # a constant there must be bracketed: GROUP BY (<iri>)
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        braces += {"{": 1, "}": -1}.get(token.text, 0)
        if token.kind != "var" or token.text[1:] not in terms:
            continue
        term = terms[token.text[1:]]
        pieces.append(query[position : token.offset])
        if zone == "projection" and depth == 0:
            pieces.append(f"({term} AS {token.text})")
        elif zone == "modifiers":
            pieces.append(f"({term})")
        else:
            pieces.append(term)
        position = token.offset + len(token.text)
    pieces.append(query[position:])
    return "".join(pieces)


def with_base(query: str, base_iri: str) -> str:
    """``query`` with relative IRIs resolving against ``base_iri``: a ``BASE`` before it, or, since Virtuoso takes
    one ``BASE`` only, the query's own ``BASE`` resolved against it."""
    toks = tokens(query)
    for token, following in itertools.pairwise(toks):
        if token.kind == "word" and token.text.upper() == "BASE" and following.kind == "iri":
            end = following.offset + len(following.text)
            return f"{query[: following.offset]}<{urljoin(base_iri, following.text[1:-1])}>{query[end:]}"
    return f"BASE <{base_iri}>\n{query}"


def _graph_constants(query: str, stored: dict[str, str]) -> str:
    """``GRAPH <logical>`` in a query's text -> ``GRAPH <stored>`` for the graphs of the query's dataset (other IRIs
    are data and stay). Virtuoso does not confine ``GRAPH <iri>`` to the protocol's named graphs: a graph left
    under its logical name is simply not there."""
    pieces, position, after_graph = [], 0, False
    for token in tokens(query):
        if after_graph and token.kind == "iri" and token.text[1:-1] in stored:
            pieces.append(query[position : token.offset])
            pieces.append(f"<{stored[token.text[1:-1]]}>")
            position = token.offset + len(token.text)
        after_graph = token.kind == "word" and token.text.upper() == "GRAPH"
    pieces.append(query[position:])
    return "".join(pieces)


class Solutions:
    """A SELECT answer read from the remote store: pyoxigraph's solutions, and whether the store cut it short."""

    def __init__(self, parsed, truncated_at: int | None) -> None:
        self._parsed = parsed
        self.variables = parsed.variables
        self.truncated_at = truncated_at

    def __iter__(self):
        return iter(self._parsed)


class Triples(list):
    """A CONSTRUCT/DESCRIBE answer read from the remote store, and whether the store cut it short."""

    truncated_at: int | None = None


class RemoteGraphStore:
    """One generation's graphs on the remote store (see the module docstring)."""

    def __init__(self, client: Client, stored: dict[str, str], timeout: float | None = None) -> None:
        self.client = client
        self.stored = stored
        self.timeout = timeout

    def with_timeout(self, seconds: float) -> RemoteGraphStore:
        """The same graphs, with every query limited to ``seconds`` (on the store and here)."""
        return RemoteGraphStore(self.client, self.stored, seconds)

    def _names(self, graphs: Iterable[NamedNode | DefaultGraph] | None, all_when_none: bool) -> list[str]:
        if graphs is None:
            return list(self.stored.values()) if all_when_none else []
        return [self.stored[g.value] for g in graphs if isinstance(g, NamedNode) and g.value in self.stored]

    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        default_graph: Sequence[NamedNode | DefaultGraph] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        substitutions: dict | None = None,
    ) -> Solutions | QueryBoolean | bool | Triples:
        form = inspect(query, base_iri).form
        named = self._names(named_graphs, True)
        allowed = {logical_name(name): name for name in named}  # GRAPH <iri> outside the dataset stays unknown
        text = _graph_constants(with_bindings(query, substitutions or {}), allowed)
        if base_iri:
            text = with_base(text, base_iri)
        graph_form = form in ("CONSTRUCT", "DESCRIBE")
        response = self.client.query(
            text,
            N_TRIPLES if graph_form else JSON_RESULTS,
            self._names(default_graph, False),
            named,
            self.timeout,
        )
        body = _unstored(response.content)
        cap = response.headers.get("X-SPARQL-MaxRows")
        truncated_at = int(cap) if cap and cap.isdigit() else None
        try:
            if graph_form:
                triples = Triples(parse(body, RdfFormat.N_TRIPLES))
                triples.truncated_at = truncated_at
                return triples
            parsed = parse_query_results(body, QueryResultsFormat.JSON)
        except SyntaxError as error:
            raise RemoteStoreError(
                f"the SPARQL store at {self.client.endpoints.redacted()} sent an unreadable answer: {error}"
            ) from None
        if isinstance(parsed, QueryBoolean):
            return parsed
        if form == "ASK":  # Virtuoso answers an ASK with a dataset as one solution binding __ASK_RETVAL to 1 or 0
            return any(row[0] is not None and row[0].value not in ("0", "false") for row in parsed)
        return Solutions(parsed, truncated_at)

    def quads_for_pattern(
        self,
        subject: NamedNode | BlankNode | Literal | None,
        predicate: NamedNode | None,
        object: NamedNode | BlankNode | Literal | None,
        graph_name: NamedNode | DefaultGraph | None = None,
    ) -> Iterator[Quad]:
        if isinstance(graph_name, DefaultGraph):
            return iter(())  # nothing is stored in a remote default graph
        graphs = self._names(None if graph_name is None else [graph_name], True)
        if not graphs:
            return iter(())
        terms = [
            _sparql_term(t) if t is not None else f"?{name}"
            for t, name in ((subject, "s"), (predicate, "p"), (object, "o"))
        ]
        rows = self.client.query(
            f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ {' '.join(terms)} }} }}", JSON_RESULTS, [], graphs, self.timeout
        )
        cap = rows.headers.get("X-SPARQL-MaxRows")
        if cap:
            raise RemoteStoreError(
                f"the SPARQL store at {self.client.endpoints.redacted()} cut a pattern's answer at {cap} rows: raise "
                "its result limit (Virtuoso: ResultSetMaxRows) above the largest graph's size"
            )
        fixed = {"s": subject, "p": predicate, "o": object}
        return (
            Quad(fixed["s"] or row["s"], fixed["p"] or row["p"], fixed["o"] or row["o"], NamedNode(row["g"].value))
            for row in parse_query_results(_unstored(rows.content), QueryResultsFormat.JSON)
        )

    def dump(self, output: BinaryIO, format: RdfFormat, *, from_graph: NamedNode | None = None) -> None:
        quads = self.quads_for_pattern(None, None, None, from_graph)
        if format in (RdfFormat.N_TRIPLES, RdfFormat.TURTLE):
            serialize((q.triple for q in quads), output, format)
        else:
            serialize(quads, output, format)


class SparqlBackend:
    """The publisher's and the readers' side of a remote SPARQL store (see the module docstring)."""

    name = "sparql"

    def __init__(self, endpoints: Endpoints, registry: str) -> None:
        self.endpoints = endpoints
        self.client = Client(endpoints)
        self.registry = registry

    @classmethod
    def from_url(cls, url: str, base: str) -> SparqlBackend:
        return cls(Endpoints.from_url(url), f"{base}/graph/registry")

    # -- readers ---------------------------------------------------------------------------------------
    def open_generation(self, directory: Path, manifest: Manifest) -> RemoteGraphStore:
        if not manifest.stored:
            raise StoreError(
                f"generation {manifest.generation} in {directory} was published to the embedded store, not to "
                f"{self.endpoints.redacted()} (DFL_STORE): load the catalogue again with DFL_STORE set"
            )
        return RemoteGraphStore(self.client, dict(manifest.stored))

    # -- the publisher ----------------------------------------------------------------------------------
    def store_graphs(
        self, checkpoint: Store, generation: int, graphs: Sequence[str], previous: dict[str, str]
    ) -> dict[str, str]:
        """Write ``graphs`` under this generation's names; the others keep the names ``previous`` gives them."""
        stored = dict(previous)
        attempt = secrets.token_hex(3)  # a publish of the same generation after a failed one uses new names
        for graph in graphs:
            name = f"{graph}{STORED_MARK}{generation}-{attempt}"
            # announced before it is written, so that a write that dies leaves a graph the collector knows of
            self.client.update(
                f"DROP SILENT GRAPH <{name}> ;\n"
                f"INSERT DATA {{ GRAPH <{self.registry}> {{ <{name}> a <{DFL}StoredGraph> ; "
                f"<{DFL}storedFor> <{graph}> }} }}"
            )
            self._upload(checkpoint, graph, name)
            stored[graph] = name
        return stored

    def _upload(self, checkpoint: Store, graph: str, name: str) -> None:
        """The graph's triples in batches; in one request if it has blank nodes (their labels are per request)."""
        node = NamedNode(graph)
        quads = checkpoint.quads_for_pattern(None, None, None, node)
        blank = any(
            isinstance(q.subject, BlankNode) or isinstance(q.object, BlankNode)
            for q in checkpoint.quads_for_pattern(None, None, None, node)
        )
        batches = [list(quads)] if blank else _batches((q.triple for q in quads), UPLOAD_BATCH)
        for batch in batches:
            triples = [q.triple if isinstance(q, Quad) else q for q in batch]
            if triples:
                self.client.append_triples(name, serialize(triples, format=RdfFormat.N_TRIPLES))

    def switch(self, generation: int, stored: dict[str, str]) -> None:
        """One update request, run by the store as one transaction: the registry's current generation and its
        graph map change together. (A single ``DELETE/INSERT ... WHERE { OPTIONAL {...} }`` would say the same in
        one operation, but Virtuoso silently does nothing with it when there is no current generation yet.)"""
        node = f"{self.registry}#generation-{generation}"
        facts = " ".join(
            f"<{node}> <{DFL}graph> <{name}> . <{name}> <{DFL}storedFor> <{graph}> ." for graph, name in stored.items()
        )
        self.client.update(
            f"DELETE WHERE {{ GRAPH <{self.registry}> {{ <{self.registry}> <{DFL}currentGeneration> ?old }} }} ;\n"
            f"INSERT DATA {{ GRAPH <{self.registry}> {{ <{self.registry}> <{DFL}currentGeneration> <{node}> . "
            f"<{node}> <{DFL}number> {generation} . {facts} }} }}"
        )

    def current(self) -> tuple[int, dict[str, str]] | None:
        """The registry's current generation and its map (logical -> stored), as another reader would see it."""
        rows = self.client.query(
            f"SELECT ?n ?stored WHERE {{ GRAPH <{self.registry}> {{ <{self.registry}> <{DFL}currentGeneration> ?gen ."
            f" ?gen <{DFL}number> ?n ; <{DFL}graph> ?stored }} }}",
            JSON_RESULTS,
            [],
            [self.registry],
        )
        found = list(parse_query_results(rows.content, QueryResultsFormat.JSON))
        if not found:
            return None
        return int(found[0]["n"].value), {logical_name(r["stored"].value): r["stored"].value for r in found}

    def collect_garbage(self, kept: Sequence[dict[str, str]]) -> None:
        keep = {name for stored in kept for name in stored.values()}
        rows = self.client.query(
            f"SELECT ?stored WHERE {{ GRAPH <{self.registry}> {{ ?stored a <{DFL}StoredGraph> }} }}",
            JSON_RESULTS,
            [],
            [self.registry],
        )
        known = {r["stored"].value for r in parse_query_results(rows.content, QueryResultsFormat.JSON)}
        for name in sorted(known - keep):
            self.client.update(
                f"DROP SILENT GRAPH <{name}> ;\n"
                f"DELETE WHERE {{ GRAPH <{self.registry}> {{ <{name}> ?p ?o }} }} ;\n"
                f"DELETE WHERE {{ GRAPH <{self.registry}> {{ ?generation <{DFL}graph> <{name}> }} }}"
            )
        with contextlib.suppress(RemoteStoreError):  # generations that name no graph any more
            self.client.update(
                f"DELETE {{ GRAPH <{self.registry}> {{ ?generation <{DFL}number> ?n }} }} WHERE {{ GRAPH "
                f"<{self.registry}> {{ ?generation <{DFL}number> ?n FILTER NOT EXISTS {{ ?generation <{DFL}graph> ?g }}"
                f" FILTER NOT EXISTS {{ <{self.registry}> <{DFL}currentGeneration> ?generation }} }} }}"
            )


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


__all__ = [
    "STORED_MARK",
    "Client",
    "Endpoints",
    "RemoteGraphStore",
    "RemoteStoreError",
    "RemoteTimeout",
    "SparqlBackend",
    "logical_name",
    "with_bindings",
]
