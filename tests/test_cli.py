"""The `dfl` command line, run as a user runs it, on a real on-disk store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import DEFAULT_CSV, dfl
from pyoxigraph import Literal, NamedNode

from dfl_graph.namespaces import DCAT, DCT, FOAF, PROV, RDF, XSD
from dfl_graph.records import Problem
from dfl_graph.store import CatalogueReader
from dfl_graph.uris import Uris

SOURCE = "london-datastore-2010"
DATA = Path(__file__).resolve().parent / "data"
URIS = Uris("http://localhost:8000")  # the CLI's default base


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli") / "catalogue"
    dfl("load", "lds2010", str(DEFAULT_CSV), "--source", SOURCE, "--store", str(data_dir))
    return data_dir


def stats(data_dir: Path) -> dict:
    return json.loads(dfl("stats", "--json", "--store", str(data_dir)).stdout)


def test_load_reports_and_stats_count_the_real_listing(catalogue: Path) -> None:
    result = stats(catalogue)
    assert result["datasets"] == 249  # rows of the 2010 A-Z listing
    assert result["public_datasets"] == 249
    assert result["generation"] >= 1
    graphs = result["graphs"]
    assert graphs["http://localhost:8000/graph/london-datastore-2010"]["public"] is True
    assert graphs["http://localhost:8000/graph/london-datastore-2010/restricted"]["public"] is False
    assert all(info["public"] for g, info in graphs.items() if "/graph/vocab/" in g)


def test_default_catalogue_conforms_to_official_dcat_ap_and_our_profile(catalogue: Path) -> None:
    official = dfl("validate", "--shapes", "dcat-ap", "--json", "--store", str(catalogue), check=False)
    assert official.returncode == 0, official.stdout[-2000:]
    assert json.loads(official.stdout)["violations"] == 0
    ours = dfl("validate", "--json", "--store", str(catalogue), check=False)
    report = json.loads(ours.stdout)
    assert report["violations"] == 0, [f for f in report["findings"] if f["severity"] == "Violation"]
    # the 2010 listing names no publisher, licence or file: warnings, as the profile says
    assert report["warnings"] >= 249


def test_dump_restore_round_trip_through_the_cli(catalogue: Path, tmp_path: Path) -> None:
    dump = tmp_path / "all.nq"
    dfl("dump", str(dump), "--store", str(catalogue))
    copy = tmp_path / "copy"
    dfl("restore", str(dump), "--store", str(copy))
    again = tmp_path / "again.nq"
    dfl("dump", str(again), "--store", str(copy))
    generation = "/def/dfl#generation>"
    lines = {line for line in dump.read_text().splitlines() if generation not in line}
    assert lines == {line for line in again.read_text().splitlines() if generation not in line}
    assert stats(copy)["datasets"] == 249


MALFORMED = {
    "empty.csv": (b"", "lds2010", "empty"),
    "wrong-columns.csv": (b"a,b,c\n1,2,3\n", "lds2010", "missing column"),
    "latin1.csv": (
        "node_id,path,title,date,categories,description\n1,/x,Caf\xe9,,,\n".encode("latin-1"),
        "lds2010",
        "not UTF-8",
    ),
    "ragged.csv": (
        b"node_id,path,title,date,categories,description\n1,/x,T,,Housing,d,extra\n",
        "lds2010",
        "wrong number of fields",
    ),
    "bad.json": (b'[{"id": "a", "title": }]', "datapress", "malformed JSON"),
    "truncated.json": (b'[{"id": "a", "title": "x"', "datapress", "malformed JSON"),
    "object.json": (b'{"datasets": 3}', "datapress", ""),
    "empty.json": (b"[]", "datapress", "no datasets"),
    "bad.ttl": (
        b'<http://ex/a> a <http://www.w3.org/ns/dcat#Dataset> ;\n  <http://ex/p> "unterminated .\n',
        "dcat",
        "",
    ),
    "ckan-failure.json": (b'{"success": false, "error": {"message": "Not found"}}', "ckan", ""),
    "missing.csv": (None, "lds2010", "no such file"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_input_is_refused_clearly_and_changes_nothing(catalogue: Path, tmp_path: Path, name: str) -> None:
    content, format_name, expected = MALFORMED[name]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    before = stats(catalogue)
    result = dfl("load", format_name, str(path), "--source", SOURCE, "--store", str(catalogue), check=False)
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert name in message, message  # the error names the file
    assert expected in message, message
    assert "unchanged" in message
    after = stats(catalogue)
    assert after["generation"] == before["generation"]
    assert after["datasets"] == 249


def test_loading_the_same_file_again_writes_nothing(catalogue: Path) -> None:
    """A load is planned against the store: the same file again is 249 unchanged records, and no generation."""
    before = stats(catalogue)
    result = dfl("load", "lds2010", str(DEFAULT_CSV), "--source", SOURCE, "--store", str(catalogue))
    message = " ".join(result.stderr.split())
    assert "0 new, 0 updated, 249 unchanged, 0 withdrawn" in message and "nothing to write" in message, message
    assert stats(catalogue)["generation"] == before["generation"]


def test_bad_source_name_and_unknown_format_are_refused(catalogue: Path) -> None:
    result = dfl("load", "lds2010", str(DEFAULT_CSV), "--source", "Bad Name!", "--store", str(catalogue), check=False)
    assert result.returncode == 1 and "source name" in result.stderr
    result = dfl("load", "xml", str(DEFAULT_CSV), "--source", SOURCE, "--store", str(catalogue), check=False)
    assert result.returncode == 2 and "xml" in result.stderr


def test_validate_reports_violations_with_exit_code(tmp_path: Path) -> None:
    # loaders fit every record to the profile, so a non-conforming dataset can only come in raw: restore it
    broken = tmp_path / "broken.nq"
    broken.write_text(
        "<http://example.org/ds/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<http://www.w3.org/ns/dcat#Dataset> <http://example.org/graph> .\n"
        '<http://example.org/ds/1> <http://purl.org/dc/terms/title> "No description, no theme"@en '
        "<http://example.org/graph> .\n"
    )
    data_dir = tmp_path / "store"
    dfl("restore", str(broken), "--public", "--store", str(data_dir))
    result = dfl("validate", "--shapes", "dcat-ap", "--json", "--store", str(data_dir), check=False)
    assert result.returncode == 1
    findings = json.loads(result.stdout)["findings"]
    assert any(f["path"] == "http://purl.org/dc/terms/description" and f["severity"] == "Violation" for f in findings)


def test_load_writes_every_problem_as_json_lines_and_reports_counts(tmp_path: Path) -> None:
    birmingham = Path(__file__).resolve().parent / "data" / "ckan-birmingham" / "package_search.json"
    problems_file = tmp_path / "problems.jsonl"
    store = str(tmp_path / "store")
    result = dfl("load", "ckan", str(birmingham), "--source", "bh", "--problems", str(problems_file), "--store", store)
    lines = [json.loads(line) for line in problems_file.read_text(encoding="utf-8").splitlines()]
    assert lines and all(set(line) == {"record", "field", "what", "value"} for line in lines)
    assert {"url", "groups"} <= {line["field"] for line in lines}  # team names in `url`, a non-London group
    assert f"{len(lines)} problems" in result.stderr
    assert "read 10 items: 10 records, 0 rejected; 54 distributions read, 54 kept" in result.stderr
    report = json.loads(dfl("load", "ckan", str(birmingham), "--source", "bh", "--json", "--store", store).stdout)
    assert report["counts"] == {
        "items": 10,
        "records": 10,
        "rejected": 0,
        "distributions_read": 54,
        "distributions_kept": 54,
    }
    assert report["problems"] == len(lines) and report["first_problems"] == lines[:50]


def test_the_terminal_shows_the_first_50_problems_and_says_where_all_of_them_are(tmp_path: Path) -> None:
    """A publisher fixes what the report names: the terminal shows the first 50 problems word for word (a field
    such as ``resources[id]`` too) and says how many more there are and in which file; the file holds them all."""
    birmingham = json.loads((DATA / "ckan-birmingham" / "package_search.json").read_text(encoding="utf-8"))
    packages = []
    for copy in range(4):  # the portal's 10 packages four times over, under other names: 4 x 19 problems and more
        for package in birmingham["result"]["results"]:
            package = json.loads(json.dumps(package))
            package["name"] = f"{package['name']}-{copy}"
            package["id"] = f"{package['id']}-{copy}"
            packages.append(package)
    resources = packages[0]["resources"]
    resources[1]["id"] = resources[0]["id"]  # a resource id used twice (DataSud's portal does): `resources[id]`
    source = tmp_path / "package_search.json"
    source.write_text(json.dumps({"success": True, "result": {"count": len(packages), "results": packages}}))
    problems_file = tmp_path / "problems.jsonl"
    result = dfl(
        "load",
        "ckan",
        str(source),
        "--source",
        "bh",
        "--problems",
        str(problems_file),
        "--store",
        str(tmp_path / "store"),
    )
    lines = [json.loads(line) for line in problems_file.read_text(encoding="utf-8").splitlines()]
    assert len(lines) > 76 and all(set(line) == {"record", "field", "what", "value"} for line in lines)
    assert f"resources[{resources[0]['id']}]" in {line["field"] for line in lines[:50]}
    shown = [line.removeprefix("problem ") for line in result.stderr.splitlines() if line.startswith("problem ")]
    assert shown == [str(Problem(**line)) for line in lines[:50]]
    rest = f"... and {len(lines) - 50} more problems (all {len(lines)} are in {problems_file})"
    assert rest in result.stderr.splitlines(), result.stderr[-3000:]
    assert f"; {len(lines)} problems" in result.stderr


def provenance(data_dir: Path, source: str) -> dict[str, dict]:
    """Each dataset of ``source`` (public or not) by its ``dct:identifier``: what its catalogue record says, by
    property, as ingest writes it (``#record``: type, primary topic, issued/modified, source, generation,
    ``prov:wasDerivedFrom``)."""
    snapshot = CatalogueReader(data_dir).snapshot()
    graphs = [NamedNode(g) for g in snapshot.manifest.graphs if URIS.record_graph_access(source, g) is not None]
    found: dict[str, dict] = {}
    for graph in graphs:
        for typed in snapshot.store.quads_for_pattern(None, RDF.type, DCAT.Dataset, graph):
            dataset = typed.subject
            identifier = next(snapshot.store.quads_for_pattern(dataset, DCT.identifier, None, graph)).object.value
            record: dict = {}
            for quad in snapshot.store.quads_for_pattern(NamedNode(dataset.value + "#record"), None, None, graph):
                record.setdefault(quad.predicate, set()).add(quad.object)
            assert identifier not in found
            found[identifier] = {"dataset": dataset, "record": record}
    return found


def load_with_provenance(tmp_path: Path, format_name: str, path: Path, *extra: str) -> tuple[dict[str, set[str]], int]:
    """Load ``path`` with `dfl load`; check every dataset's catalogue record names its source, the load time, the
    generation and the dataset; return each dataset's id -> the IRIs its record is derived from, and the count."""
    data_dir = tmp_path / "store"
    started = datetime.now(UTC).replace(microsecond=0)
    dfl("load", format_name, str(path), "--source", "src", "--store", str(data_dir), *extra)
    finished = datetime.now(UTC)
    generation = stats(data_dir)["generation"]
    found = provenance(data_dir, "src")
    for identifier, entry in found.items():
        record = entry["record"]
        assert record[RDF.type] == {DCAT.CatalogRecord}, identifier
        assert record[FOAF.primaryTopic] == {entry["dataset"]}
        assert record[URIS.vocab.recordSource] == {Literal("src")}
        assert record[URIS.vocab.recordGeneration] == {Literal(str(generation), datatype=XSD.integer)}
        for when in (DCT.issued, DCT.modified):  # the load time
            (stamp,) = record[when]
            assert stamp.datatype == XSD.dateTime
            assert started <= datetime.fromisoformat(stamp.value) <= finished, (identifier, stamp)
    derived = {i: {o.value for o in e["record"].get(PROV.wasDerivedFrom, ())} for i, e in found.items()}
    return derived, len(found)


def test_every_ckan_record_says_where_it_came_from_its_package_show_url(tmp_path: Path) -> None:
    derived, count = load_with_provenance(tmp_path, "ckan", DATA / "ckan-birmingham" / "package_search.json")
    names = [
        p["name"]
        for p in json.loads((DATA / "ckan-birmingham" / "package_search.json").read_text())["result"]["results"]
    ]
    assert count == len(names) == 10
    api = "https://data.birmingham.gov.uk/api/3/action/package_show?id="
    assert derived == {name: {api + name} for name in names}


def test_a_ckan_package_without_uploads_gets_its_package_show_url_from_origin(tmp_path: Path) -> None:
    """Nothing in a package without uploaded resources names its portal: `--origin` does (the harvester knows it)."""
    search = json.loads((DATA / "ckan-birmingham" / "package_search.json").read_text(encoding="utf-8"))
    for package in search["result"]["results"]:
        package["resources"] = []
    path = tmp_path / "package_search.json"
    path.write_text(json.dumps(search))
    names = [p["name"] for p in search["result"]["results"]]
    problems = tmp_path / "problems.jsonl"
    derived, _ = load_with_provenance(tmp_path / "without", "ckan", path, "--problems", str(problems))
    assert derived == {name: set() for name in names}
    lines = [json.loads(line) for line in problems.read_text().splitlines()]
    unknown = {p["record"] for p in lines if "no package_show URL" in p["what"]}
    assert unknown == set(names)  # said for each record, never silently
    derived, _ = load_with_provenance(tmp_path / "with", "ckan", path, "--origin", "https://data.birmingham.gov.uk/")
    api = "https://data.birmingham.gov.uk/api/3/action/package_show?id="
    assert derived == {name: {api + name} for name in names}
    result = dfl(
        "load", "ckan", str(path), "--source", "src", "--store", str(tmp_path / "x"), "--origin", "ftp://a", check=False
    )
    assert result.returncode == 2 and "not an http(s) URL" in result.stderr


def test_every_datapress_record_says_where_it_came_from_its_dataset_api_url(tmp_path: Path) -> None:
    export = DATA / "datapress-export-shape" / "api" / "v3" / "datasets" / "export.json"
    derived, count = load_with_provenance(tmp_path, "datapress", export)
    ids = [item["id"] for item in json.loads(export.read_text())]
    assert count == len(ids) and derived == {i: {f"https://data.london.gov.uk/api/dataset/{i}"} for i in ids}


def test_every_data_json_record_keeps_its_identifier_and_an_identifier_url_as_its_origin(tmp_path: Path) -> None:
    """A data.json identifier is the record's ``dct:identifier``; one that is a URL is also where it came from."""
    catalogue = json.loads((DATA / "us-arm-datajson" / "arm.data.json").read_text(encoding="utf-8"))
    for item in catalogue["dataset"][:3]:  # identifiers as Socrata and DOI-minting portals write them
        item["identifier"] = "https://doi.org/" + item["identifier"].strip()
    path = tmp_path / "arm.data.json"
    path.write_text(json.dumps(catalogue))
    derived, count = load_with_provenance(tmp_path, "datajson", path)
    identifiers = [item["identifier"].strip() for item in catalogue["dataset"]]
    assert count == len(set(identifiers)) > 900
    assert derived == {i: {i} if i.startswith("https://") else set() for i in identifiers}
