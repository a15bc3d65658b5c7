"""Fetched items -> records, through the existing loaders, and the content hashes that make harvests incremental.

Items are mapped with the loader's item-level API (``Loader.records_from``): one result per item, a record
or a rejection with its reasons, so the loader keeps its own rules (skipped states, duplicate names) and
problems, and the harvest knows which items were rejected.

Content hashes: a JSON item's hash covers its canonical JSON (sorted keys) and a *mapping salt* -- the code
and vocabularies that turn it into triples, and the source's URL -- so unchanged items are recognised
before they are mapped at all, and a change of mapping code rewrites everything once. RDF sources are
hashed after mapping (a dataset's triples are not separable before), over the record itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dfl_graph.content_hash import item_hash, mapping_salt, record_hash
from dfl_graph.harvest.config import SourceConfig
from dfl_graph.records import DatasetRecord, Problem, Rejection
from dfl_graph.vocabularies import Vocabularies
from loaders import loader_class

LOADER_OF_TYPE = {"datapress": "datapress", "ckan": "ckan", "datajson": "datajson", "dcat": "dcat"}


def source_salt(source: SourceConfig) -> str:
    """The mapping salt of a harvested source: its loader's, and the source's type and URL."""
    return mapping_salt(LOADER_OF_TYPE[source.type], "harvest", source.type, source.url)


@dataclass
class Mapped:
    """The outcome of mapping a batch: records by item position, rejected positions with reasons."""

    records: list[tuple[int, DatasetRecord]] = field(default_factory=list)
    rejected: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (position, label, reasons)
    problems: list[Problem] = field(default_factory=list)  # every problem the loader reported


def map_items(source_type: str, vocabularies: Vocabularies, items: list[Any]) -> Mapped:
    """Map JSON items with the source type's loader; positions are indexes into ``items``."""
    mapped = Mapped()
    loader = loader_class(LOADER_OF_TYPE[source_type])(vocabularies)
    for position, result in enumerate(loader.records_from(items)):
        if isinstance(result, Rejection):
            mapped.rejected.append((position, result.record, [f"{p.field}: {p.what}" for p in result.problems]))
        else:
            mapped.records.append((position, result))
    mapped.problems = list(loader.problems)
    return mapped


def map_rdf(vocabularies: Vocabularies, path: Path) -> Mapped:
    """Map a merged N-Triples file of a DCAT source with the DCAT loader (positions: record order)."""
    loader = loader_class("dcat")(vocabularies)
    mapped = Mapped()
    for position, result in enumerate(loader.records_from(loader.items(path))):
        if isinstance(result, Rejection):
            mapped.rejected.append((position, result.record, [f"{p.field}: {p.what}" for p in result.problems]))
        else:
            mapped.records.append((position, result))
    mapped.problems = list(loader.problems)
    return mapped


__all__ = ["Mapped", "item_hash", "map_items", "map_rdf", "record_hash", "source_salt"]
