"""Harvesting one source: fetch everything, compare hashes, map what changed, write the difference.

The order matters for "a failed or partial harvest changes nothing": the whole source is fetched and mapped
before the store is touched, and the write is one published step (:meth:`CatalogueStore.update_source`),
so an error anywhere -- network, a malformed page, a page loop, the store -- leaves that source as it was.
Only a complete fetch can withdraw records; and a run that would withdraw more than
``max_withdrawn_fraction`` of a source's records is refused as suspicious (a portal answering with a
half-empty export should not empty the catalogue).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable

from pyoxigraph import NamedNode

from dfl_graph.crash_points import crash_point
from dfl_graph.harvest.config import HarvestConfig, SourceConfig
from dfl_graph.harvest.fetchers import fetch
from dfl_graph.harvest.http import FetchError, HttpClient
from dfl_graph.harvest.mapping import Mapped, item_hash, map_items, map_rdf, record_hash, source_salt
from dfl_graph.harvest.report import SourceReport, now, run_iri, run_quads, stale_run_quads
from dfl_graph.ingest import hold_back_unapproved, write_plan
from dfl_graph.plan import IncomingRecord, check_source_name, plan_write, stored_records
from dfl_graph.publish import SECONDS_FILE
from dfl_graph.store import CatalogueStore, StoreError, generation_dir
from dfl_graph.vocabularies import Vocabularies
from loaders import LoadError

Progress = Callable[[str, str], None]  # (source name, message)
MAP_BATCH = 20_000  # items mapped per loader run


class HarvestError(Exception):
    """A source could not be harvested; the catalogue is unchanged for it."""


def harvest_source(
    store: CatalogueStore, vocabularies: Vocabularies, source: SourceConfig, progress: Progress | None = None
) -> SourceReport:
    """Harvest one source; the report says ``failed`` (with why) if nothing was written."""
    check_source_name(source.name)
    say = (lambda message: progress(source.name, message)) if progress else (lambda _message: None)
    report = SourceReport(source.name, source.type, source.url, source.title, started=now())
    report.run = run_iri(store.uris, source.name, report.started)
    clock = time.perf_counter()
    try:
        with HttpClient(source.http) as client:
            try:
                fetched = fetch(source, client, say)
            finally:
                report.requests, report.retries, report.bytes = client.requests, client.retried, client.bytes
            report.pages = fetched.pages
            report.timings["fetch"] = round(time.perf_counter() - clock, 3)
            _write(store, vocabularies, source, fetched, client, report, say)
    except (FetchError, HarvestError, LoadError, StoreError, OSError) as error:
        _failed(store, report, str(error), say)
    except RecursionError:
        _failed(store, report, "a response nested too deeply to read (~1,000 levels of arrays or objects)", say)
    except Exception as error:  # a bug or a source nobody foresaw: this source fails, the others still run
        _failed(store, report, f"unexpected {type(error).__name__}: {error}", say)
    report.timings["total"] = round(time.perf_counter() - clock, 3)
    return report


def _failed(store: CatalogueStore, report: SourceReport, message: str, say) -> None:
    """Report the failure, and keep it in the catalogue (``/harvest`` lists failed runs too): a write of the run's
    report alone, with nothing else of the source touched. If even that cannot be written (the store is the
    problem), the run is only reported."""
    report.status, report.error, report.ended = "failed", message, now()
    say(f"failed: {message}")
    public = NamedNode(store.uris.source_graph(report.source))
    restricted = NamedNode(store.uris.source_graph(report.source, "restricted"))
    with contextlib.suppress(StoreError, OSError, sqlite3.Error):
        store.update_source(
            report.source,
            {public.value: True},
            stale_run_quads(store.store, store.uris, public, restricted),
            run_quads(store.uris, report, public, restricted),
            notes={"harvest": {"source": report.source, "run": report.run, "failed": True}},
        )
        report.generation = store.generation


def _write(store, vocabularies, source, fetched, client, report: SourceReport, say) -> None:
    clock = time.perf_counter()
    salt = source_salt(source)
    stored = stored_records(store, source.name)
    report.timings["state"] = round(time.perf_counter() - clock, 3)
    clock = time.perf_counter()
    by_hash = {record.content_hash: record for record in stored.values() if record.content_hash}
    incoming: list[IncomingRecord] = []
    unchanged: list[str] = []
    if fetched.rdf is not None:
        say(f"mapping {fetched.rdf_triples:,} triples from {fetched.pages} page(s)")
        mapped = map_rdf(vocabularies, fetched.rdf)
        for _position, record in mapped.records:
            incoming.append(IncomingRecord(record, record_hash(salt, record), record.original_iri))
        report.public.fetched = len(mapped.records)
    else:
        say(f"comparing {len(fetched.items):,} records with the catalogue")
        hashes = [item_hash(salt, item) for item in fetched.items]
        todo: list[int] = []
        claimed: set[str] = set()
        for position, digest in enumerate(hashes):
            known = by_hash.get(digest)
            if known is not None and known.id not in claimed:
                claimed.add(known.id)
                unchanged.append(known.id)
            elif known is None:
                todo.append(position)
            # else: a second identical item: nothing more to write
        report.timings["hash"] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()
        mapped = Mapped()
        for first in range(0, len(todo), MAP_BATCH):  # in batches: memory stays bounded on a first harvest
            say(f"mapping {len(todo):,} new or changed records" + (f" ({first:,} done)" if first else ""))
            batch = todo[first : first + MAP_BATCH]
            part = map_items(source.type, vocabularies, [fetched.items[p] for p in batch])
            for position, record in part.records:
                original = batch[position]
                incoming.append(IncomingRecord(record, hashes[original], fetched.origins[original]))
            for _position, label, reasons in part.rejected:
                report.rejections.append((label, "; ".join(reasons)))
            mapped.problems += part.problems
        fetched.items.clear()
    rejected = {label for label, _why in report.rejections}
    report.problems = len(mapped.problems)
    report.warnings = sum(1 for problem in mapped.problems if problem.record not in rejected)
    report.timings["map"] = round(time.perf_counter() - clock, 3)

    plan = plan_write(stored, incoming, unchanged, complete=True)
    for item in plan.duplicates:
        report.rejections.append((item.record.id, "a second record with this identifier in the source: skipped"))
    for problem in hold_back_unapproved(store, vocabularies, source.name, plan):
        report.rejections.append((problem.record, problem.what))
    if stored and plan.withdrawn:
        share = len(plan.withdrawn) / len(stored)
        limit = float(source.option("max_withdrawn_fraction"))
        if share > limit and len(stored) >= 10:
            raise HarvestError(
                f"this run would withdraw {len(plan.withdrawn):,} of the source's {len(stored):,} records"
                f" ({share:.0%}, more than max_withdrawn_fraction = {limit:g}): refused; nothing was changed"
            )
    counts = {True: report.public, False: report.restricted}
    for item in plan.new:
        counts[item.record.is_public].new += 1
    for item, _old in plan.updated:
        counts[item.record.is_public].updated += 1
    for old in plan.unchanged:
        counts[old.public].unchanged += 1
    for old in plan.withdrawn:
        counts[old.public].withdrawn += 1
    report.public.rejected = len(report.rejections)
    for side in (report.public, report.restricted):
        side.fetched = side.new + side.updated + side.unchanged
    report.public.fetched += report.public.rejected

    say(
        f"writing {len(plan.new):,} new, {len(plan.updated):,} updated, {len(plan.withdrawn):,} withdrawn"
        f" ({len(plan.unchanged):,} unchanged)"
    )
    clock = time.perf_counter()
    report.ended = now()
    public_graph = NamedNode(store.uris.source_graph(source.name))
    restricted_graph = NamedNode(store.uris.source_graph(source.name, "restricted"))
    crash_point("harvest-fetched")
    result = write_plan(
        store,
        vocabularies,
        source.name,
        plan,
        when=report.ended,
        run=report.run,
        extra_additions=run_quads(store.uris, report, public_graph, restricted_graph),
        extra_removals=stale_run_quads(store.store, store.uris, public_graph, restricted_graph),
        notes={"harvest": {"source": source.name, "run": report.run}},
    )
    report.timings["write"] = round(time.perf_counter() - clock, 3)
    report.links = len(result.links)
    report.generation = result.generation
    with contextlib.suppress(OSError, ValueError):
        built = json.loads((generation_dir(store.data_dir, result.generation) / SECONDS_FILE).read_text())
        report.timings.update({f"index:{name}": value for name, value in built.items()})


def harvest(
    store: CatalogueStore,
    vocabularies: Vocabularies,
    config: HarvestConfig,
    names: list[str] | None = None,
    progress: Progress | None = None,
) -> list[SourceReport]:
    """Harvest the named sources (default: every enabled one), one after the other, each on its own."""
    sources = [config.source(n) for n in names] if names else [s for s in config.sources if s.enabled]
    return [harvest_source(store, vocabularies, source, progress) for source in sources]


__all__ = ["HarvestError", "harvest", "harvest_source"]
