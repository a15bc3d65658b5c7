"""Fetched items -> records, through the existing loaders, and the content hashes that make harvests incremental.

The loaders read files, so items to map are written to one temporary file in the shape the loader reads
(a JSON array, or a data.json catalogue) and the loader runs over it unchanged. To know which item each
record came from, each item carries its position in a key no loader reads, and a thin subclass of the
loader notes the position when the loader's per-item method (``_record``) is called: so the loader keeps
its own rules (skipped states, duplicate names) and problems, and the harvest still knows which items were
rejected.

Content hashes: a JSON item's hash covers its canonical JSON (sorted keys) and a *mapping salt* -- the code
and vocabularies that turn it into triples, and the source's URL -- so unchanged items are recognised
before they are mapped at all, and a change of mapping code rewrites everything once. RDF sources are
hashed after mapping (a dataset's triples are not separable before), over the record itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from dfl_graph.harvest.config import SourceConfig
from dfl_graph.ingest import vocabulary_digest
from dfl_graph.records import DatasetRecord, Problem
from dfl_graph.vocabularies import Vocabularies
from loaders import loader_class

POSITION_KEY = "__dfl_harvest_position__"
MAPPING_VERSION = "1"  # bump when the harvest's own mapping (catalogue records, origins) changes
LOADER_OF_TYPE = {"datapress": "datapress", "ckan": "ckan", "datajson": "datajson", "dcat": "dcat"}
ROOT = Path(__file__).resolve().parent.parent.parent
SALTED_FILES = ("dfl_graph/dcat.py", "dfl_graph/records.py", "loaders/base.py", "loaders/formats.py")

_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode


@cache
def _file_digest(path: str) -> str:
    return hashlib.sha256((ROOT / path).read_bytes()).hexdigest()


def mapping_salt(source: SourceConfig) -> str:
    """What, besides the item itself, decides the triples an item becomes."""
    loader = loader_class(LOADER_OF_TYPE[source.type])
    module = loader.__module__.replace(".", "/") + ".py"
    parts = [MAPPING_VERSION, source.type, source.url, vocabulary_digest(), _file_digest(module)]
    parts += [_file_digest(p) for p in SALTED_FILES]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def item_hash(salt: str, item: Any) -> str:
    return hashlib.sha256(salt.encode() + _canonical(item).encode()).hexdigest()


def record_hash(salt: str, record: DatasetRecord) -> str:
    return hashlib.sha256(salt.encode() + _canonical(dataclasses.asdict(record)).encode()).hexdigest()


@dataclass
class Mapped:
    """The outcome of mapping a batch: records by item position, rejected positions with reasons."""

    records: list[tuple[int, DatasetRecord]] = field(default_factory=list)
    rejected: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (position, label, reasons)
    problems: list[Problem] = field(default_factory=list)  # every problem the loader reported


def _tracking(cls: type) -> type:
    if not callable(getattr(cls, "_record", None)):
        raise RuntimeError(f"{cls.__name__} has no per-item _record method: the harvest cannot map it item by item")

    class Tracking(cls):  # type: ignore[misc, valid-type]
        position: int | None = None

        def _record(self, item, *args, **kwargs):
            self.position = item.get(POSITION_KEY) if isinstance(item, dict) else None
            return super()._record(item, *args, **kwargs)

    Tracking.__name__ = f"Tracking{cls.__name__}"
    return Tracking


def _label(item: Any, position: int) -> str:
    if isinstance(item, dict):
        for key in ("name", "id", "identifier"):
            value = item.get(key)
            if isinstance(value, str | int) and str(value).strip():
                return str(value).strip()
    return f"#{position}"


def map_items(source_type: str, vocabularies: Vocabularies, items: list[Any], workdir: Path) -> Mapped:
    """Map JSON items with the source type's loader; positions are indexes into ``items``."""
    mapped = Mapped()
    if not items:
        return mapped
    loader = _tracking(loader_class(LOADER_OF_TYPE[source_type]))(vocabularies)
    marked = [{**item, POSITION_KEY: n} if isinstance(item, dict) else item for n, item in enumerate(items)]
    document: Any = {"dataset": marked} if source_type == "datajson" else marked
    path = workdir / f"batch-{source_type}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, default=str), encoding="utf-8")
    produced: set[int] = set()
    for record in loader.records(path):
        position = loader.position
        record = loader.fit_to_profile(record)
        if position is None or position in produced:
            continue
        produced.add(position)
        mapped.records.append((position, record))
    path.unlink(missing_ok=True)
    mapped.problems = list(loader.problems)
    by_label: dict[str, list[str]] = {}
    for problem in loader.problems:
        by_label.setdefault(problem.record, []).append(f"{problem.field}: {problem.message}")
    for position, item in enumerate(items):
        if position not in produced:
            label = _label(item, position)
            reasons = by_label.get(label) or by_label.get(f"#{position}") or ["the loader skipped it"]
            mapped.rejected.append((position, label, reasons))
    return mapped


def map_rdf(vocabularies: Vocabularies, path: Path) -> Mapped:
    """Map a merged N-Triples file of a DCAT source with the DCAT loader (positions: record order)."""
    loader = loader_class("dcat")(vocabularies)
    mapped = Mapped()
    for position, record in enumerate(loader.records(path)):
        mapped.records.append((position, loader.fit_to_profile(record)))
    mapped.problems = list(loader.problems)
    return mapped


__all__ = ["Mapped", "item_hash", "map_items", "map_rdf", "mapping_salt", "record_hash"]
