"""Content hashes: how a write tells, without comparing triples, which of a source's records changed.

Every written record's catalogue record holds ``dfl:contentHash``: a hash of what the source said about it,
*salted* with everything else that decides its triples -- the mapping code (every module of ``loaders/``, the
record model, the DCAT-AP writer), the shipped vocabularies, and what the caller adds (a
harvest its source's type and URL). Same item and same salt, same triples: the record is left alone. A
change of mapping code changes the salt, so everything is rewritten once.

A JSON item can be hashed before it is mapped (:func:`item_hash`: a harvest skips mapping what did not
change); an RDF dataset only after (:func:`record_hash`: its triples are not separable before).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from dfl_graph.records import DatasetRecord
from dfl_graph.vocabularies import VOCABULARY_FILES, Vocabularies
from loaders import loader_class

MAPPING_VERSION = "2"  # bump when the pipeline's own mapping (catalogue records, origins) changes
ROOT = Path(__file__).resolve().parent.parent
SALTED_FILES = ("dfl_graph/dcat.py", "dfl_graph/records.py", "dfl_graph/content_hash.py")

_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode


@cache
def _file_digest(path: str) -> str:
    return hashlib.sha256((ROOT / path).read_bytes()).hexdigest()


@cache
def vocabulary_digest() -> str:
    """A digest of the shipped ontology files: vocabularies are reloaded (and salts change) when it changes."""
    digest = hashlib.sha256()
    for stem in VOCABULARY_FILES:
        digest.update((Vocabularies.__module__ + stem).encode())
        digest.update((ROOT / "ontology" / f"{stem}.ttl").read_bytes())
    return digest.hexdigest()


@cache
def _code_digest() -> str:
    files = [*SALTED_FILES, *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "loaders").glob("*.py"))]
    return hashlib.sha256("".join(_file_digest(f) for f in files).encode()).hexdigest()


def mapping_salt(format_name: str, *context: str) -> str:
    """What, besides an item itself, decides the triples the ``format_name`` loader makes of it."""
    loader_class(format_name)  # a KeyError naming the known formats for an unknown one
    parts = [MAPPING_VERSION, format_name, *context, vocabulary_digest(), _code_digest()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def item_hash(salt: str, item: Any) -> str:
    return hashlib.sha256(salt.encode() + _canonical(item).encode()).hexdigest()


def record_hash(salt: str, record: DatasetRecord) -> str:
    """A mapped record's hash, over its ``repr``: a dataclass's repr lists every field in order, recursively, and
    records hold only strings, numbers, enums, lists and dataclasses (no sets, whose order varies by process).
    Four times faster than hashing ``dataclasses.asdict`` as JSON: it is paid for every record of a load."""
    return hashlib.sha256(salt.encode() + repr(record).encode()).hexdigest()


__all__ = ["item_hash", "mapping_salt", "record_hash", "vocabulary_digest"]
