"""The London Datastore's 2010 "Datasets A-Z" listing: the embedded default catalogue.

The listing gives slug, title, month ("FEBRUARY 2010"), category and a one-line description. It
names no publisher, licence or file, so those stay absent: the catalogue shows what 2010 said.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from dfl_graph.records import DatasetRecord, When
from loaders.base import Loader, LoadError

DATASTORE_2010 = "http://data.london.gov.uk"
COLUMNS = ("node_id", "path", "title", "date", "categories", "description")


class Lds2010Loader(Loader):
    name: ClassVar[str] = "lds2010"
    description: ClassVar[str] = (
        "London Datastore A-Z listing of 2010 (CSV: node_id,path,title,date,categories,description)"
    )
    mapped_fields: ClassVar[frozenset[str] | None] = frozenset(COLUMNS)  # any other column is reported

    def items(self, path: Path) -> Iterator[Any]:
        """The listing's rows (a dict per row); a row with the wrong number of fields refuses the file."""
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise LoadError(path, f"not UTF-8 ({error.reason} at byte {error.start})") from None
        reader = csv.DictReader(io.StringIO(text, newline=""))
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise LoadError(
                path, f"wrong shape: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}", "1"
            )
        for line, row in enumerate(reader, start=2):
            if None in row or any(v is None for v in row.values()):
                raise LoadError(path, "wrong number of fields", str(line))
            yield row

    def item_name(self, item: Any) -> str | None:
        return _row_id(item) or None

    def _map(self, row: dict[str, str], label: str) -> DatasetRecord:
        record_id = _row_id(row)
        record = DatasetRecord(
            id=record_id,
            slug=record_id,
            title=row["title"].strip(),
            description=row["description"].strip() or None,
            landing_page=DATASTORE_2010 + row["path"].strip() if row["path"].strip() else None,
            assumed=["dct:accessRights"],  # the listing was public; it states no access rights
        )
        record.source_url = record.landing_page
        for category in filter(None, (c.strip() for c in row["categories"].split("|"))):
            theme = self.vocabularies.theme_by_label.get(category.lower())
            if theme:
                record.themes.append(theme)
            else:
                self.problem(record_id, "categories", f"unknown category {category!r}")
        if row["date"].strip():
            try:
                month = datetime.strptime(row["date"].strip().title(), "%B %Y")
                record.issued = When(month.strftime("%Y-%m"), "gYearMonth")
            except ValueError:
                self.problem(record_id, "date", f"not a month and year: {row['date']!r}")
        return record


def _row_id(row: dict[str, str]) -> str:
    """The row's dataset id: the last segment of its path, else its Drupal node id."""
    return row["path"].rstrip("/").rsplit("/", 1)[-1].strip() or row["node_id"].strip()
