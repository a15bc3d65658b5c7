"""The embedded backend: a generation's graphs are its RocksDB checkpoint (``store/``), opened read-only.

Publishing needs nothing of it beyond the checkpoint the writer already made, and ``CURRENT`` (swapped by the
publisher) is its registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import Store

if TYPE_CHECKING:
    from dfl_graph.generations import Manifest


class EmbeddedBackend:
    name = "embedded"

    def open_generation(self, directory: Path, manifest: Manifest) -> Store:
        return Store.read_only(str(directory / "store"))

    def store_graphs(
        self, checkpoint: Store, generation: int, graphs: Sequence[str], previous: dict[str, str]
    ) -> dict[str, str]:
        return {}  # the checkpoint is the store readers open

    def switch(self, generation: int, stored: dict[str, str]) -> None:
        """Nothing to do: ``CURRENT`` names the generation."""

    def collect_garbage(self, kept: Sequence[dict[str, str]]) -> None:
        """Nothing to do: old checkpoints go with their generation directories."""
