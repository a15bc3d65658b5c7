"""Loading a source file into the catalogue: read, mint IRIs, write one source atomically."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from dfl_graph.dcat import DcatApWriter
from dfl_graph.namespaces import DCAT, DCT, PROV, RDF, XSD
from dfl_graph.records import DatasetRecord, Problem
from dfl_graph.store import CatalogueStore
from dfl_graph.uris import slugify
from dfl_graph.vocabularies import VOCABULARY_FILES, Vocabularies, read_vocabulary
from loaders import loader_class

SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RESERVED_SOURCES = {"vocab", "system", "restore", "tombstones"}


@dataclass
class LoadReport:
    source: str
    path: str
    datasets: int = 0
    public: int = 0
    restricted: int = 0
    distributions: int = 0
    quads: int = 0
    generation: int = 0
    withdrawn: int = 0
    problems: list[Problem] = field(default_factory=list)


def check_source_name(source: str) -> str:
    if not SOURCE_NAME.match(source) or source in RESERVED_SOURCES:
        raise ValueError(
            f"source name {source!r} must be lower-case letters, digits and hyphens"
            f" (and not one of {', '.join(sorted(RESERVED_SOURCES))})"
        )
    return source


def assign_slugs(records: list[DatasetRecord], taken_elsewhere: set[str], source: str) -> None:
    """Give every record a unique slug, deterministically (same input, same slugs).

    A slug another source already uses gets the source name appended; a clash within the source
    gets a short hash of the record id, so neither depends on the order of the file.
    """
    seen: dict[str, int] = {}
    for record in records:
        slug = slugify(record.slug or record.id)
        if slug in taken_elsewhere:
            slug = f"{slug}-{source}"
        seen[slug] = seen.get(slug, 0) + 1
        record.slug = slug
    for record in records:
        if seen[record.slug] > 1:
            record.slug = f"{record.slug}-{hashlib.sha1(record.id.encode()).hexdigest()[:8]}"


def dataset_slugs_outside(store: CatalogueStore, source: str) -> set[str]:
    """Slugs of datasets held by other sources' graphs."""
    own = {store.uris.source_graph(source, True), store.uris.source_graph(source, False)}
    prefix = store.uris.dataset("")
    slugs: set[str] = set()
    for quad in store.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, None):
        graph = quad.graph_name
        if isinstance(graph, NamedNode) and graph.value not in own and quad.subject.value.startswith(prefix):
            slugs.add(quad.subject.value[len(prefix) :])
    return slugs


def withdrawn_datasets(store: CatalogueStore, source: str, minted: set[str]) -> list[Quad]:
    """The source's tombstone graph after this load: earlier tombstones of datasets still gone, plus
    a tombstone for each public dataset the source no longer has. Restricted datasets get none:
    a 410 would tell the public that they existed."""
    graph = NamedNode(store.uris.tombstone_graph(source))
    kept = [q for q in store.store.quads_for_pattern(None, None, None, graph) if q.subject.value not in minted]
    gone_at = Literal(
        datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime
    )
    public = NamedNode(store.uris.source_graph(source, public=True))
    already = {q.subject.value for q in kept}
    for quad in store.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, public):
        dataset = quad.subject
        if dataset.value in minted or dataset.value in already:
            continue
        title = next(store.store.quads_for_pattern(dataset, DCT.title, None, public), None)
        kept.append(Quad(dataset, RDF.type, store.uris.vocab.WithdrawnDataset, graph))
        kept.append(Quad(dataset, PROV.invalidatedAtTime, gone_at, graph))
        if title is not None:
            kept.append(Quad(dataset, DCT.title, title.object, graph))
    return kept


def previous_tombstones(store: CatalogueStore, source: str) -> int:
    graph = NamedNode(store.uris.tombstone_graph(source))
    return sum(1 for _ in store.store.quads_for_pattern(None, RDF.type, None, graph))


def load_file(
    store: CatalogueStore, vocabularies: Vocabularies, format_name: str, path: Path, source: str
) -> LoadReport:
    """Replace ``source`` with the records of ``path``; on any error the catalogue is unchanged."""
    check_source_name(source)
    loader = loader_class(format_name)(vocabularies)
    records = loader.read_all(Path(path))
    assign_slugs(records, dataset_slugs_outside(store, source), source)
    writer = DcatApWriter(store.uris, vocabularies)
    public_graph = NamedNode(store.uris.source_graph(source, public=True))
    restricted_graph = NamedNode(store.uris.source_graph(source, public=False))

    def quads(public: bool) -> Iterator[Quad]:
        graph = public_graph if public else restricted_graph
        for record in records:
            if record.is_public == public:
                yield from writer.quads(record, graph)

    report = LoadReport(source, str(path), problems=loader.problems)
    minted = {writer.dataset_iri(r).value for r in records}
    tombstones = withdrawn_datasets(store, source, minted)
    report.withdrawn = sum(1 for q in tombstones if q.predicate == RDF.type) - previous_tombstones(store, source)
    report.quads = store.replace_graphs(
        source,
        {
            public_graph.value: (True, quads(True)),
            restricted_graph.value: (False, quads(False)),
            store.uris.tombstone_graph(source): (True, tombstones),
        },
    )
    report.generation = store.generation
    report.datasets = len(records)
    report.public = sum(r.is_public for r in records)
    report.restricted = report.datasets - report.public
    report.distributions = sum(len(r.distributions) for r in records)
    return report


def vocabulary_digest() -> str:
    """A digest of the shipped ontology files: vocabularies are reloaded when it changes."""
    digest = hashlib.sha256()
    for stem in VOCABULARY_FILES:
        digest.update((Vocabularies.__module__ + stem).encode())
        digest.update((Path(__file__).resolve().parent.parent / "ontology" / f"{stem}.ttl").read_bytes())
    return digest.hexdigest()


def ensure_vocabularies(store: CatalogueStore) -> bool:
    """Load the shipped vocabularies if the store lacks them or they changed; True if it loaded."""
    digest = vocabulary_digest()
    if store.vocabulary_digest() == digest:
        return False
    graphs = {store.uris.vocab_graph(stem): read_vocabulary(store.uris, stem) for stem in VOCABULARY_FILES}
    store.load_vocabularies(graphs, digest)
    return True
