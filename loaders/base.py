"""What every loader is: a mapper from one source format to catalogue records."""

from __future__ import annotations

import gc
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from dfl_graph.records import DatasetRecord, Problem, Rejection
from dfl_graph.vocabularies import Vocabularies

UNCLASSIFIED = "unclassified"  # ontology/themes.ttl: for records whose source gives no topic
NO_DESCRIPTION = "The source of this dataset gives no description."


# The counters every loader keeps (docs/loaders.md "The loader API"); a loader may add its own.
COUNTS = ("items", "records", "rejected", "distributions_read", "distributions_kept")


class LoadError(Exception):
    """A source that cannot be read at all: names the file and, where known, the position."""

    def __init__(self, path: Path | str, message: str, position: str | None = None) -> None:
        self.path = str(path)
        self.position = position
        where = f"{self.path}:{position}" if position else self.path
        super().__init__(f"{where}: {message}")


class Loader(ABC):
    """Maps one source format to records, item by item; per-item problems are collected, not raised.

    The API every caller uses (``dfl load`` through :meth:`read_all`, the harvester through
    :meth:`records_from`):

    * :meth:`items` -- the source file's items (for JSON sources one JSON object each; see each loader);
    * :meth:`map` -- one item to a :class:`DatasetRecord` fitted to the profile, or a :class:`Rejection`
      saying why it cannot be published; it never raises for bad item content;
    * :meth:`records_from` -- every item mapped, with the rules that span items (a second item with an id
      already read is rejected), one result per item in item order;
    * ``problems`` -- every problem of the run, in order; ``counts`` -- named counters of what went in and
      came out (docs/loaders.md lists them).

    Subclasses set ``name`` and ``description`` and implement :meth:`items` and :meth:`_map`. A loader is
    created per run, so ``problems`` and ``counts`` belong to one run.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    kind: ClassVar[str] = "dataset"  # what the source calls one item, for problems
    unique_by: ClassVar[str | None] = None  # the source field that names a record, if it must be unique
    # JSON sources: the item fields the mapper reads; any other field is reported (once per run, with a count)
    mapped_fields: ClassVar[frozenset[str] | None] = None
    title_field: ClassVar[str] = "title"  # the source's name for a dataset's title, for problems

    def __init__(self, vocabularies: Vocabularies, origin: str | None = None) -> None:
        """``origin``: the site the items were read from (``https://data.london.gov.uk``), when the caller
        knows it; loaders use it for the URL of each dataset's own metadata record (``source_url``)."""
        self.vocabularies = vocabularies
        self.origin = origin.rstrip("/") if origin else None
        self.problems: list[Problem] = []
        self.counts: dict[str, int] = dict.fromkeys(COUNTS, 0)
        self._unmapped: dict[str, tuple[int, object]] = {}  # field -> (items holding it, first value)
        self._bind_vocabularies()

    @abstractmethod
    def items(self, path: Path) -> Iterator[Any]:
        """The items of the file; raise :class:`LoadError` if the file is unreadable as a whole."""

    @abstractmethod
    def _map(self, item: Any, label: str) -> DatasetRecord | None:
        """One item as a record (before profile fitting); None when it cannot be one, with problems saying why."""

    def item_name(self, item: Any) -> str | None:
        """The item's name in the source (its id), for problems; None if it has none."""
        if isinstance(item, dict):
            value = item.get("id")
            return str(value) if value not in (None, "") else None
        return None

    def problem(self, record: str, field: str, what: str, value: object = None) -> None:
        self.problems.append(Problem(record, field, what, None if value is None else str(value)))

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def _bind_vocabularies(self) -> None:
        """Short names for the vocabulary lookups the mappers use on every record."""
        vocab = self.vocabularies
        self._publishers = vocab.publishers
        self._publisher_by_name = vocab.publisher_by_name
        self._themes = vocab.themes
        self._theme_by_label = vocab.theme_by_label
        self._boroughs = vocab.boroughs
        self._borough_by_name = vocab.borough_by_name

    def map(self, item: Any) -> DatasetRecord | Rejection:
        """One item, fitted to the profile, or the reasons it cannot be published."""
        return self._counted(self._map_at(item, None))

    def records_from(self, items: Iterable[Any]) -> Iterator[DatasetRecord | Rejection]:
        """Every item mapped, in order, with the rules that span items (ids unique by ``unique_by``)."""
        seen: set[str] = set()
        for position, item in enumerate(items):
            result = self._map_at(item, position)
            if isinstance(result, DatasetRecord) and self.unique_by is not None:
                if result.id in seen:
                    what = f"skipped: a second {self.kind} with this {self.unique_by}"
                    result = self._reject(result.id, len(self.problems), self.unique_by, what)
                seen.add(result.record if isinstance(result, Rejection) else result.id)
            yield self._counted(result)
        self._report_unmapped_fields()

    def _report_unmapped_fields(self) -> None:
        """One problem per source field no mapper reads, naming it, how many items (or, for a resource's field such
        as ``resources[].cache_url``, distributions) hold it and a value."""
        for name, (items, example) in sorted(self._unmapped.items()):
            holders = f"{items} distributions" if "[]." in name else f"{items} {self.kind}s"
            what = f"not mapped: no DCAT-AP home in the catalogue ({holders} hold it)"
            self.problem(f"({holders})", name, what, json.dumps(example, default=str)[:200])
        self._unmapped.clear()

    def _counted(self, result: DatasetRecord | Rejection) -> DatasetRecord | Rejection:
        self.count("items")
        if isinstance(result, Rejection):
            self.count("rejected")
        else:
            self.count("records")
            self.count("distributions_kept", len(result.distributions))
        return result

    def _map_at(self, item: Any, position: int | None) -> DatasetRecord | Rejection:
        first_problem = len(self.problems)
        where = f"#{position}" if position is not None else "#?"
        if not self.is_item(item):
            self.problem(where, self.kind, f"not a {self.kind} object", type(item).__name__)
            return self._reject(where, first_problem)
        label = self.item_name(item) or where
        if self.mapped_fields is not None:
            self.note_unmapped(item, self.mapped_fields)
        try:
            record = self._map(item, label)
        except (TypeError, AttributeError, ValueError) as error:
            self.problem(label, self.kind, f"skipped: unreadable {self.kind} ({error})")
            record = None
        if record is not None and not record.title.strip():
            self.problem(label, self.title_field, "no title: not published (a dataset needs a title)")
            return self._reject(label, first_problem, cause=self.problems[-1])
        if record is None:
            return self._reject(label, first_problem)
        return self.fit_to_profile(record)

    def note_unmapped(self, part: dict, mapped: frozenset[str], prefix: str = "") -> None:
        """Count the fields of ``part`` (an item, or one of its resources with ``prefix`` "resources[].") that no
        mapper reads, so :meth:`_report_unmapped_fields` names them (``resources[].cache_url``) at the run's end."""
        for name in part.keys() - mapped:  # a set difference: most parts have no unmapped field
            self.note_unmapped_value(prefix + str(name), part[name])

    def note_unmapped_value(self, field: str, value: object) -> None:
        """Count one source field no mapper reads (a CKAN extra, a DataPress custom field); empty ones say nothing."""
        if value not in (None, "", [], {}):
            items, example = self._unmapped.get(field, (0, value))
            self._unmapped[field] = (items + 1, example)

    def is_item(self, item: Any) -> bool:
        """True if the item has the shape this loader maps (JSON loaders: an object)."""
        return isinstance(item, dict)

    def _reject(
        self,
        label: str,
        first_problem: int,
        field: str | None = None,
        what: str | None = None,
        cause: Problem | None = None,
    ) -> Rejection:
        """The item's problems since ``first_problem``, the one that rejects it first."""
        if what is not None:
            self.problem(label, field or self.kind, what)
            cause = self.problems[-1]
        reasons = self.problems[first_problem:]
        if cause is not None:
            reasons = [cause] + [p for p in reasons if p is not cause]
        return Rejection(label, tuple(reasons) or (Problem(label, self.kind, f"skipped: not a {self.kind}"),))

    def read_all(self, path: Path) -> list[DatasetRecord]:
        """All records, or LoadError: nothing is written before the whole file has been read."""
        path = Path(path)
        if not path.is_file():
            raise LoadError(path, "no such file")
        if path.stat().st_size == 0:
            raise LoadError(path, "the file is empty")
        with no_cyclic_gc():
            results = list(self.records_from(self.items(path)))
        records = [r for r in results if isinstance(r, DatasetRecord)]
        if not results:
            raise LoadError(path, f"no datasets found: is this a {self.name} file?")
        if not records:
            first = next(r for r in results if isinstance(r, Rejection)).problems[0]
            raise LoadError(path, f"none of the {len(results)} datasets can be published (the first: {first})")
        return records

    def fit_to_profile(self, record: DatasetRecord) -> DatasetRecord:
        """What every source's record needs before it can be published under the DfL profile of
        DCAT-AP 3, each change reported as a problem so nothing is silently made up:

        - a theme: London themes that are an exact match of the record's EU themes, else
          "Unclassified" (never a guessed subject), marked ``dfl:assumed dcat:theme``;
        - a description (DCAT-AP mandatory): a sentence saying the source gave none, marked
          ``dfl:assumed dct:description``;
        - distributions need an access URL (DCAT-AP mandatory): one with none gets the dataset's landing
          page, else the dataset's own page, marked ``dfl:assumed dcat:accessURL`` (the distribution is
          kept: its other statements are the source's).

        A record without a title never gets here: it is rejected (:meth:`_map_at`).
        """
        if not record.themes:
            exact = self.vocabularies.themes_by_eu_exact_match
            record.themes = list(dict.fromkeys(t for code in record.eu_themes for t in exact.get(code, ())))
            if not record.themes:
                record.themes = [UNCLASSIFIED]
                record.assumed.append("dcat:theme")
                self.problem(record.id, "theme", "no London theme: filed under 'Unclassified' (dfl:assumed)")
        if not record.description:
            record.description = NO_DESCRIPTION
            record.assumed.append("dct:description")
            self.problem(record.id, "description", "no description: published with a note saying so (dfl:assumed)")
        for dist in record.distributions:
            if not (dist.access_url or dist.download_url):
                dist.assumed.append("dcat:accessURL")
                stand_in = "the dataset's landing page" if record.landing_page else "the dataset's own page"
                what = f"no access or download URL: {stand_in} stands in (dfl:assumed)"
                self.problem(record.id, f"distribution[{dist.id}]", what)
        return record


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large export is parsed and mapped.

    JSON documents and records are acyclic (reference counting frees them), but creating millions of
    container objects triggers full collections that re-scan everything already built: on a 100k-dataset
    DataPress export that roughly doubles the loading time. The collector's previous state is restored
    on exit (for a generator: when it is exhausted or closed).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
