"""What every loader is: a mapper from one source format to catalogue records."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from dfl_graph.records import DatasetRecord, Problem
from dfl_graph.vocabularies import Vocabularies


class LoadError(Exception):
    """A source that cannot be read at all: names the file and, where known, the position."""

    def __init__(self, path: Path | str, message: str, position: str | None = None) -> None:
        self.path = str(path)
        self.position = position
        where = f"{self.path}:{position}" if position else self.path
        super().__init__(f"{where}: {message}")


class Loader(ABC):
    """Reads one source file into records; per-record problems are collected, not raised.

    Subclasses set ``name`` and implement :meth:`records`. A loader is created per load, so
    ``problems`` belongs to one file.
    """

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, vocabularies: Vocabularies) -> None:
        self.vocabularies = vocabularies
        self.problems: list[Problem] = []

    @abstractmethod
    def records(self, path: Path) -> Iterator[DatasetRecord]:
        """Yield the records of the file; raise :class:`LoadError` if the file is unreadable as a whole."""

    def problem(self, record: str, field: str, message: str) -> None:
        self.problems.append(Problem(record, field, message))

    def read_all(self, path: Path) -> list[DatasetRecord]:
        """All records, or LoadError: nothing is written before the whole file has been read."""
        path = Path(path)
        if not path.is_file():
            raise LoadError(path, "no such file")
        if path.stat().st_size == 0:
            raise LoadError(path, "the file is empty")
        records = list(self.records(path))
        if not records:
            raise LoadError(path, f"no datasets found: is this a {self.name} file?")
        return records


def read_json(path: Path) -> Any:
    """Parse a JSON file, turning encoding and syntax errors into a LoadError with line and column."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LoadError(path, f"not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise LoadError(path, f"malformed JSON: {error.msg}", f"{error.lineno}:{error.colno}") from None
