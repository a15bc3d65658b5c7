"""Web nodes: a node pulls published generations from the writer's shared data directory, or from an S3-compatible
bucket the writer pushes them to, into its own data directory.

A node's data directory is laid out like the writer's (:mod:`dfl_graph.generations`) but holds only what readers
open: each generation's manifest and indexes, and, on the embedded store, its checkpoint (on a remote store the
graphs are in the store, so the checkpoint stays with the writer). :func:`pull` copies the newest published
generation into a staging directory, renames it into place, and only then swaps the node's ``CURRENT``: the node's
web processes see the previous generation or the next, as on the writer's machine, and ``/healthz`` says which.
A generation is immutable once published, so copying it while the writer publishes the next is safe; one the
writer has already dropped (it keeps the last few) fails this pull, and the next pull takes the newer one.

In a bucket (:func:`push`), ``{prefix}/generations/{n}/`` holds a generation's files and ``files.json`` (their
list), and ``{prefix}/CURRENT`` names the newest generation; ``CURRENT`` is written last, so a node never sees a
generation whose files are still being uploaded. The bucket keeps the last few generations, as the writer does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Protocol

from dfl_graph.generations import FORMAT_FILE, CatalogueReader, Manifest, StoreError, check_format, generation_dir
from dfl_graph.index_files import is_spare
from dfl_graph.object_store import Bucket, is_bucket_url
from dfl_graph.publish import KEEP_GENERATIONS, SECONDS_FILE, collect_garbage, swap_current

MANIFEST = "manifest.json"
INVENTORY = "files.json"  # in a bucket: the files of a generation, written after them


def generation_files(directory: Path, embedded: bool) -> list[str]:
    """What a node needs of one published generation, as paths relative to its directory."""
    files = [MANIFEST, SECONDS_FILE]
    for tree in ("indexes", "store") if embedded else ("indexes",):
        found = (p for p in (directory / tree).rglob("*") if p.is_file() and not is_spare(p))
        files += sorted(str(p.relative_to(directory)) for p in found)
    return files


class GenerationSource(Protocol):
    """Where a node pulls from."""

    def published(self) -> int | None: ...

    def files(self, generation: int, manifest: Manifest) -> list[str]: ...

    def fetch(self, generation: int, name: str, destination: Path) -> None:
        """Copy one file of the generation; FileNotFoundError when the generation has gone."""

    def fetch_format(self, destination: Path) -> None: ...


class DirectorySource:
    """The writer's data directory, shared with the node (NFS, or the same machine)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def published(self) -> int | None:
        return CatalogueReader(self.directory).current_generation()

    def files(self, generation: int, manifest: Manifest) -> list[str]:
        return generation_files(generation_dir(self.directory, generation), manifest.backend == "embedded")

    def fetch(self, generation: int, name: str, destination: Path) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(generation_dir(self.directory, generation) / name, destination)

    def fetch_format(self, destination: Path) -> None:
        if (self.directory / FORMAT_FILE).exists():
            shutil.copy2(self.directory / FORMAT_FILE, destination)


class BucketSource:
    """A bucket the writer pushes its generations to (:func:`push`)."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket

    def published(self) -> int | None:
        text = self.bucket.read_text("CURRENT")
        return int(text) if text and text.strip().isdigit() else None

    def files(self, generation: int, manifest: Manifest) -> list[str]:
        text = self.bucket.read_text(f"{_key(generation)}{INVENTORY}")
        if text is None:
            raise FileNotFoundError(INVENTORY)
        return json.loads(text)

    def fetch(self, generation: int, name: str, destination: Path) -> None:
        if name == MANIFEST and self.bucket.read_text(f"{_key(generation)}{INVENTORY}") is None:
            raise FileNotFoundError(name)  # pushed only in part (a push that died), or forgotten
        self.bucket.download(f"{_key(generation)}{name}", destination)

    def fetch_format(self, destination: Path) -> None:
        text = self.bucket.read_text(FORMAT_FILE)
        if text is not None:
            destination.write_text(text)


def source_for(location: str) -> GenerationSource:
    """A writer's data directory, or ``s3://bucket/prefix``."""
    if is_bucket_url(location):
        return BucketSource(Bucket(location))
    directory = Path(location)
    if not directory.is_dir():
        raise StoreError(f"{location} is neither a directory nor an s3:// URL")
    return DirectorySource(directory)


def _key(generation: int) -> str:
    return f"generations/{generation:08d}/"


def pull(location: str | Path, target: Path) -> tuple[int, bool]:
    """Make ``target`` serve the generation ``location`` has published: (that generation, whether it was copied
    now)."""
    source = source_for(str(location))
    published = source.published()
    if published is None:
        raise StoreError(f"{location} has no published generation to pull (run `dfl load` there first)")
    target.mkdir(parents=True, exist_ok=True)
    check_format(target)
    if CatalogueReader(target).current_generation() == published:
        return published, False
    staging = target / "generations" / f".pull-{published:08d}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        source.fetch(published, MANIFEST, staging / MANIFEST)
        manifest = Manifest.from_file(staging / MANIFEST)
        for name in source.files(published, manifest):
            if name != MANIFEST:
                source.fetch(published, name, staging / name)
    except FileNotFoundError:
        shutil.rmtree(staging, ignore_errors=True)
        raise StoreError(f"generation {published} left {location} while it was being pulled; pull again") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    source.fetch_format(target / FORMAT_FILE)
    final = generation_dir(target, published)
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    swap_current(target, published)
    collect_garbage(target, published)
    return published, True


def push(data_dir: Path, location: str) -> tuple[int, bool]:
    """Upload the generation ``data_dir`` has published to the bucket ``location``, then name it in the bucket's
    ``CURRENT``: (that generation, whether it was uploaded now)."""
    bucket = Bucket(location)
    published = CatalogueReader(data_dir).current_generation()
    if published is None:
        raise StoreError(f"{data_dir} has no published generation to push (run `dfl load` first)")
    if BucketSource(bucket).published() == published:
        return published, False
    origin = generation_dir(data_dir, published)
    try:
        manifest = Manifest.from_file(origin / MANIFEST)
        files = generation_files(origin, manifest.backend == "embedded")
        for name in files:
            bucket.upload(origin / name, f"{_key(published)}{name}")
    except FileNotFoundError:
        raise StoreError(f"generation {published} left {data_dir} while it was being pushed; push again") from None
    bucket.write_text(f"{_key(published)}{INVENTORY}", json.dumps(files))
    if (data_dir / FORMAT_FILE).exists():
        bucket.write_text(FORMAT_FILE, (data_dir / FORMAT_FILE).read_text())
    bucket.write_text("CURRENT", f"{published}\n")
    _forget_old(bucket, published)
    return published, True


def _forget_old(bucket: Bucket, current: int) -> None:
    """Keep the bucket's last few generations (nodes may be pulling them), and nothing older."""
    old = []
    for key in bucket.keys("generations/"):
        number = key.split("/", 2)[1]
        if number.isdigit() and int(number) <= current - KEEP_GENERATIONS:
            old.append(key)
    bucket.delete(old)


__all__ = ["BucketSource", "DirectorySource", "GenerationSource", "generation_files", "pull", "push", "source_for"]
