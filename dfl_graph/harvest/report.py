"""The report of a harvest run, kept as RDF in the source's graphs and read back for ``/harvest``.

One run of one source is a ``prov:Activity`` (and ``dfl:HarvestRun``) ``{base}/harvest/{source}/{stamp}``::

    <run> a prov:Activity, dfl:HarvestRun ;
        rdfs:label "Harvest of London Datastore" ;
        dfl:harvestSource "london-datastore" ; dfl:portalType "datapress" ;
        prov:used <https://data.london.gov.uk/api/v3/datasets/export.json> ;
        prov:startedAtTime ..., prov:endedAtTime ... ;
        dfl:recordsFetched 1203 ; dfl:recordsNew 2 ; dfl:recordsUpdated 5 ; dfl:recordsUnchanged 1190 ;
        dfl:recordsWithdrawn 1 ; dfl:recordsRejected 5 ; dfl:mappingProblems 12 ;
        dfl:rejection <run#rejection-1> .
    <run#rejection-1> dct:identifier "abc12" ; rdfs:comment "id: skipped: the dataset has no id" .

A run that failed (the portal did not answer, a page was malformed, ...) wrote no record, but is kept too, with
``dfl:failure`` saying why, so ``/harvest`` shows failed runs as well as successful ones. It lives in the
source's public graph and counts public records only (plus the rejected ones, which the
portal itself shows); the counts of the source's restricted records go to ``<run#restricted>`` in the
source's restricted graph, so nothing public reveals them. Each written record's ``dcat:CatalogRecord``
points at the run that wrote it (``prov:wasGeneratedBy``). The last :data:`KEEP_RUNS` runs are kept.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from pyoxigraph import Literal, NamedNode, Quad, Store

from dfl_graph.namespaces import DCT, PROV, RDF, RDFS, XSD
from dfl_graph.uris import Uris

KEEP_RUNS = 20
MAX_REJECTIONS = 200  # kept in RDF per run; the CLI shows them all
COUNTS = ("fetched", "new", "updated", "unchanged", "withdrawn", "rejected")


def now() -> str:
    """The current time to the microsecond, written as the store writes an xsd:dateTime back (no trailing zeros
    in the fraction), so a report's time and the stored run's time compare equal."""
    stamp = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    return stamp.rstrip("0").rstrip(".") + "Z"


def run_iri(uris: Uris, source: str, started: str) -> str:
    stamp = started.replace("-", "").replace(":", "").replace(".", "")
    return f"{uris.base}/harvest/{source}/{stamp}"


@dataclass
class Counts:
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0


@dataclass
class SourceReport:
    """What one source's run did (the CLI prints it; the public part is kept as RDF)."""

    source: str
    type: str
    url: str
    title: str
    started: str
    ended: str = ""
    status: str = "ok"  # ok | failed
    error: str | None = None
    run: str = ""
    public: Counts = field(default_factory=Counts)
    restricted: Counts = field(default_factory=Counts)
    rejections: list[tuple[str, str]] = field(default_factory=list)  # (record label, reason)
    warnings: int = 0  # problems of records that were published anyway
    problems: int = 0  # every problem the mapping reported (docs/loaders.md), rejected records' included
    pages: int = 0
    requests: int = 0
    retries: int = 0
    bytes: int = 0
    links: int = 0  # records linked to the same dataset in another source
    generation: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def total(self, name: str) -> int:
        if name == "rejected":
            return self.public.rejected
        return getattr(self.public, name) + getattr(self.restricted, name)

    def to_json(self) -> dict:
        data = asdict(self)
        data["totals"] = {name: self.total(name) for name in COUNTS}
        data["rejections"] = [{"record": r, "reason": why} for r, why in self.rejections]
        return data


def _integer(value: int) -> Literal:
    return Literal(str(value), datatype=XSD.integer)


def _time(value: str) -> Literal:
    return Literal(value, datatype=XSD.dateTime)


def run_quads(uris: Uris, report: SourceReport, public_graph: NamedNode, restricted_graph: NamedNode) -> list[Quad]:
    """The run's report as RDF (see the module docstring)."""
    dfl = uris.vocab
    run = NamedNode(report.run)
    g = public_graph
    quads = [
        Quad(run, RDF.type, PROV.Activity, g),
        Quad(run, RDF.type, dfl.HarvestRun, g),
        Quad(run, RDFS.label, Literal(f"Harvest of {report.title}", language="en"), g),
        Quad(run, dfl.harvestSource, Literal(report.source), g),
        Quad(run, dfl.portalType, Literal(report.type), g),
        Quad(run, PROV.used, NamedNode(report.url), g),
        Quad(run, PROV.startedAtTime, _time(report.started), g),
        Quad(run, PROV.endedAtTime, _time(report.ended), g),
    ]
    if report.status != "ok":
        quads.append(Quad(run, dfl.failure, Literal(report.error or "failed"), g))
        return quads
    for name in COUNTS:
        quads.append(Quad(run, dfl["records" + name.capitalize()], _integer(getattr(report.public, name)), g))
    quads.append(Quad(run, dfl.mappingProblems, _integer(report.problems), g))
    for number, (label, reason) in enumerate(report.rejections[:MAX_REJECTIONS], start=1):
        node = NamedNode(f"{report.run}#rejection-{number}")
        quads += [
            Quad(run, dfl.rejection, node, g),
            Quad(node, DCT.identifier, Literal(label), g),
            Quad(node, RDFS.comment, Literal(reason), g),
        ]
    hidden = report.restricted
    if any(getattr(hidden, name) for name in COUNTS):
        node = NamedNode(report.run + "#restricted")
        quads += [Quad(node, RDF.type, PROV.Activity, restricted_graph)]
        quads += [Quad(node, DCT.isPartOf, run, restricted_graph)]
        for name in COUNTS:
            quads.append(
                Quad(node, dfl["records" + name.capitalize()], _integer(getattr(hidden, name)), restricted_graph)
            )
    return quads


def stale_run_quads(
    store: Store, uris: Uris, public_graph: NamedNode, restricted_graph: NamedNode, keep: int | None = None
) -> list[Quad]:
    """The quads of all but the newest ``keep`` runs of a source (to remove when a new run is written;
    by default all but the newest KEEP_RUNS - 1, so that with the new one KEEP_RUNS remain)."""
    keep = KEEP_RUNS - 1 if keep is None else keep
    runs = sorted(
        {q.subject.value for q in store.quads_for_pattern(None, RDF.type, uris.vocab.HarvestRun, public_graph)}
    )
    stale = runs[: max(0, len(runs) - keep)]
    quads: list[Quad] = []
    for run in stale:
        quads.extend(store.quads_for_pattern(NamedNode(run), None, None, public_graph))
        for link in store.quads_for_pattern(NamedNode(run), uris.vocab.rejection, None, public_graph):
            quads.extend(store.quads_for_pattern(link.object, None, None, public_graph))
        quads.extend(store.quads_for_pattern(NamedNode(run + "#restricted"), None, None, restricted_graph))
    return quads


def read_runs(store: Store, uris: Uris, graphs: list[NamedNode], source: str | None = None) -> list[dict]:
    """Runs recorded in the given (public) graphs, newest first, as plain dicts for pages and JSON."""
    dfl = uris.vocab
    names = {
        dfl.harvestSource.value: "source",
        dfl.portalType.value: "type",
        PROV.used.value: "url",
        PROV.startedAtTime.value: "started",
        PROV.endedAtTime.value: "ended",
        RDFS.label.value: "label",
    }
    counts = {dfl["records" + name.capitalize()].value: name for name in COUNTS}
    runs: list[dict] = []
    for graph in graphs:
        for typed in store.quads_for_pattern(None, RDF.type, dfl.HarvestRun, graph):
            run = {
                "iri": typed.subject.value,
                "status": "ok",
                "error": None,
                "problems": 0,
                "counts": {},
                "rejections": [],
            }
            for quad in store.quads_for_pattern(typed.subject, None, None, graph):
                key = quad.predicate.value
                if key in names:
                    run[names[key]] = quad.object.value
                elif key in counts:
                    run["counts"][counts[key]] = int(quad.object.value)
                elif key == dfl.mappingProblems.value:
                    run["problems"] = int(quad.object.value)
                elif key == dfl.failure.value:
                    run["status"], run["error"] = "failed", quad.object.value
                elif key == dfl.rejection.value:
                    node = quad.object
                    ident = next(store.quads_for_pattern(node, DCT.identifier, None, graph), None)
                    why = next(store.quads_for_pattern(node, RDFS.comment, None, graph), None)
                    run["rejections"].append(
                        {
                            "n": int(node.value.rsplit("-", 1)[-1]) if node.value[-1:].isdigit() else 0,
                            "record": ident.object.value if ident else None,
                            "reason": why.object.value if why else None,
                        }
                    )
            if source is not None and run.get("source") != source:
                continue
            run["rejections"].sort(key=lambda r: r["n"])
            for item in run["rejections"]:
                item.pop("n")
            runs.append(run)
    runs.sort(key=lambda r: r.get("started", ""), reverse=True)
    return runs


__all__ = ["COUNTS", "KEEP_RUNS", "Counts", "SourceReport", "read_runs", "run_iri", "run_quads", "stale_run_quads"]
