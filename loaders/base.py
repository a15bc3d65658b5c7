"""What every loader is: a mapper from one source format to catalogue records."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from dfl_graph.records import DatasetRecord, Problem
from dfl_graph.vocabularies import Vocabularies

UNCLASSIFIED = "unclassified"  # ontology/themes.ttl: for records whose source gives no topic
NO_DESCRIPTION = "The source of this dataset gives no description."


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

    def _bind_vocabularies(self) -> None:
        """Short names for the vocabulary lookups the mappers use on every record."""
        vocab = self.vocabularies
        self._publishers = vocab.publishers
        self._publisher_by_name = vocab.publisher_by_name
        self._themes = vocab.themes
        self._theme_by_label = vocab.theme_by_label
        self._boroughs = vocab.boroughs
        self._borough_by_name = vocab.borough_by_name

    def _each_record(
        self,
        items: Iterable[Any],
        kind: str,
        identify: Callable[[dict], str | None],
        read: Callable[[dict, str], DatasetRecord | None],
        unique_by: str | None = None,
    ) -> Iterator[DatasetRecord]:
        """The records of a JSON source's items (``kind``: what the source calls one), as JSON loaders read them.

        An item that is not an object, or that ``read`` cannot map (it raises), is reported and skipped; so,
        with ``unique_by`` (the field that names a record), is a second record with an id already read.
        ``identify`` gives the item's name for problems (``#index`` when it has none).
        """
        seen: set[str] = set()
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                self.problem(f"#{index}", kind, f"item {index} is a {type(item).__name__}, not a {kind} object")
                continue
            label = identify(item) or f"#{index}"
            try:
                record = read(item, label)
            except (TypeError, AttributeError, ValueError) as error:
                self.problem(label, kind, f"skipped: unreadable {kind} ({error})")
                continue
            if record is None:
                continue
            if unique_by is not None:
                if record.id in seen:
                    self.problem(record.id, unique_by, f"skipped: a second {kind} with this {unique_by}")
                    continue
                seen.add(record.id)
            yield record

    def read_all(self, path: Path) -> list[DatasetRecord]:
        """All records, or LoadError: nothing is written before the whole file has been read."""
        path = Path(path)
        if not path.is_file():
            raise LoadError(path, "no such file")
        if path.stat().st_size == 0:
            raise LoadError(path, "the file is empty")
        records = [self.fit_to_profile(record) for record in self.records(path)]
        if not records:
            raise LoadError(path, f"no datasets found: is this a {self.name} file?")
        return records

    def fit_to_profile(self, record: DatasetRecord) -> DatasetRecord:
        """What every source's record needs before it can be published under the DfL profile of
        DCAT-AP 3, each change reported as a problem so nothing is silently made up:

        - a theme: London themes that are an exact match of the record's EU themes, else
          "Unclassified" (never a guessed subject);
        - a description (DCAT-AP mandatory): a sentence saying the source gave none;
        - distributions need an access URL (DCAT-AP mandatory): one with no URL at all, and no
          landing page to fall back on, gives no access to anything and is left out.
        """
        if not record.themes:
            exact = self.vocabularies.themes_by_eu_exact_match
            record.themes = list(dict.fromkeys(t for code in record.eu_themes for t in exact.get(code, ())))
            if not record.themes:
                record.themes = [UNCLASSIFIED]
                self.problem(record.id, "theme", "no London theme: filed under 'Unclassified'")
        if not record.description:
            record.description = NO_DESCRIPTION
            self.problem(record.id, "description", "no description: published with a note saying so")
        if not record.landing_page:
            kept = [d for d in record.distributions if d.access_url or d.download_url]
            for dropped in record.distributions:
                if dropped not in kept:
                    self.problem(record.id, "distribution", f"{dropped.id}: no access or download URL: left out")
            record.distributions = kept
        return record


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
