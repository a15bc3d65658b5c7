"""The `dfl` command line, run as a user runs it, on a real on-disk store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEFAULT_CSV, dfl

from dfl_graph.records import Problem

SOURCE = "london-datastore-2010"
DATA = Path(__file__).resolve().parent / "data"


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
