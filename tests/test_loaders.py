"""The source loaders on real files (tests/data, copied from ../shared with their SOURCE.txt) and on
malformed input: every file maps to records the DCAT-AP writer accepts, every bad file is refused with
its name (and position), every bad record is reported as a problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, RdfFormat, Store, parse

from dfl_graph.dcat import DcatApWriter
from dfl_graph.namespaces import DCAT, DCT, RDF
from dfl_graph.records import AccessLevel, Checksum, Contact, DatasetRecord, Rejection, Status, When
from dfl_graph.uris import Uris
from dfl_graph.validation import validate_store
from dfl_graph.vocabularies import Vocabularies
from loaders import LoadError, loader_class
from loaders.ckan import CkanLoader
from loaders.datajson import DataJsonLoader
from loaders.datapress import DataPressLoader
from loaders.dcat_rdf import FORMATS, P_LABEL_PROPS, DcatRdfLoader
from loaders.file_formats import file_format
from loaders.frequencies import frequency_code
from loaders.lds2010 import Lds2010Loader
from loaders.licences import licence_iri
from loaders.rdf_reading import _json_ld_fallback
from loaders.text import _TextExtractor, _tidy, html_to_text

DATA = Path(__file__).resolve().parent / "data"
DATAPRESS_EXPORT = DATA / "datapress-export-shape" / "api" / "v3" / "datasets" / "export.json"
DATAPRESS_DATASET = DATA / "datapress-export-shape" / "api" / "dataset" / "test-dataset.json"
BIRMINGHAM = DATA / "ckan-birmingham" / "package_search.json"
LDS2010 = DATA.parent.parent / "data" / "london-datastore-2010" / "london-datastore-2010-datasets.csv"
ARM_DATAJSON = DATA / "us-arm-datajson" / "arm.data.json"
APUR_DATAJSON = DATA / "arcgis-datajson-apur" / "esri.jsonld"
GEO = "http://www.opengis.net/ont/geosparql#"
GSS = DATA / "uk-gss-catalogue" / "fixture-data.ttl"
DCAT_RANDOM = DATA / "dcat-ap-random" / "dcat-random.ttl"
W3C = DATA / "w3c-dcat3-examples" / "examples"
W3C_FILES = sorted(p for p in W3C.rglob("*") if p.suffix in FORMATS)
EU_LICENCE = "http://publications.europa.eu/resource/authority/licence/"


@pytest.fixture(scope="module")
def vocabularies() -> Vocabularies:
    return Vocabularies(Uris())


PROFILE_FIELDS = {"theme", "description", "distribution"}  # reported by Loader.fit_to_profile, tested below


def load(loader_type, vocabularies, path):
    """Records and the loader's own mapping problems (profile fitting is tested on its own)."""
    loader = loader_type(vocabularies)
    records = loader.read_all(Path(path))
    return records, [p for p in loader.problems if p.field not in PROFILE_FIELDS]


def write_quads(vocabularies, records: list[DatasetRecord]) -> list:
    writer = DcatApWriter(vocabularies.uris, vocabularies)
    graph = NamedNode(vocabularies.uris.source_graph("test"))
    quads = [q for record in records for q in writer.quads(record, graph)]
    kinds = (DCAT.Dataset, DCAT.DataService)
    datasets = {q.subject for q in quads if q.predicate == RDF.type and q.object in kinds}
    assert len(datasets) == len(records), "every record becomes one dcat:Dataset (or dcat:DataService) with its IRI"
    return quads


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def fields(problems) -> list[str]:
    return [p.field for p in problems]


def unmapped(loader) -> set[tuple[str, str | None]]:
    """The fields a run reported as not mapped, with the value shown."""
    return {(p.field, p.value) for p in loader.problems if p.what.startswith("not mapped")}


# -- registry ---------------------------------------------------------------------------------------


def test_loader_registry_names_the_three_loaders():
    assert loader_class("datapress") is DataPressLoader
    assert loader_class("ckan") is CkanLoader
    assert loader_class("dcat") is DcatRdfLoader
    for cls in (DataPressLoader, CkanLoader, DcatRdfLoader):
        assert cls.name and cls.description


# -- DataPress ----------------------------------------------------------------------------------------


def test_datapress_v3_export_shape(vocabularies):
    records, problems = load(DataPressLoader, vocabularies, DATAPRESS_EXPORT)
    assert problems == []
    [record] = records
    assert record.id == "2xxx0"
    assert record.slug == "ldndatar2-test-fetch-all-api-metadata-2xxx0"
    assert record.title == "Mocking API call"
    assert record.description == "Mocking API call"  # "<p> Mocking API call</p>"
    assert record.access is AccessLevel.PUBLIC
    assert record.publisher == "gla" and record.publisher_name is None  # masthead id
    assert record.themes == ["transport"]
    assert record.keywords == ["visualisation-data"]
    assert record.licence is None and record.contact is None  # null in the source: nothing invented
    assert record.issued == When("2001-01-01T00:00:00.000Z", "dateTime")
    assert record.landing_page == "https://data.london.gov.uk/dataset/ldndatar2-test-fetch-all-api-metadata-2xxx0"
    [dist] = record.distributions
    assert dist.id == "b71acf1c-1fc4-4aea-9e6b-22b8996741ee"
    assert dist.byte_size == 2000
    assert dist.checksum == Checksum("md5", "2398a191402fb1adaf4816b735e55fd6")
    assert (dist.media_type, dist.file_type) == ("application/json", "JSON")  # from the filename
    assert (
        dist.download_url
        == dist.access_url
        == "https://data.london.gov.uk/download/ldndatar2-test-fetch-all-api-metadata-2xxx0"
    )
    assert dist.modified == When("2019-07-19T16:00:56", "dateTime")
    assert record.temporal_start is None and record.temporal_end is None
    assert write_quads(vocabularies, records)


def test_datapress_per_dataset_shape_with_resources_keyed_by_id(vocabularies):
    records, problems = load(DataPressLoader, vocabularies, DATAPRESS_DATASET)
    # the portal's link check of each resource has no DCAT-AP home: reported, once, with a count
    assert [(p.record, p.field, p.value) for p in problems] == [
        ("(2 distributions)", "resources[].check_http_status", "200")
    ]
    [record] = records
    assert (record.id, record.slug, record.title) == ("test-dataset", "test-dataset", "Mock Test Dataset")
    assert record.themes == ["transport"]  # topics as plain ids
    assert record.keywords == ["transport", "buses"]
    assert record.modified == When("2020-06-15T12:30:00.000Z", "dateTime")
    assert [(d.id, d.byte_size, d.file_type, d.media_type) for d in record.distributions] == [
        ("res-abc-1", 12345, "CSV", "text/csv"),
        ("res-abc-2", 23456, "CSV", "text/csv"),
    ]
    assert write_quads(vocabularies, records)


def datapress_dataset(**overrides) -> dict:
    """One dataset in the v3 export shape, as the synthetic generator writes it."""
    dataset = {
        "webpage": "https://data.london.gov.uk/dataset/bus-stops-abc12",
        "id": "abc12",
        "description": "<p>Bus stops &amp; shelters.</p><p>Second <b>paragraph</b>.</p><script>x()</script>",
        "title": "Bus stops",
        "createdAt": "2016-03-04T10:21:07.412Z",
        "updatedAt": "2020-01-01T00:00:00.000Z",
        "nextReviewDate": None,
        "sharing": "public",
        "masthead": {"id": "tfl", "title": "Transport for London"},
        "team": {"id": "x1y2z", "title": "TfL Open Data"},
        "topics": [{"id": "transport", "title": "Transport"}, {"id": "zz", "title": "Housing"}],
        "tags": ["buses", "stops", "buses"],
        "licence": {"id": "OGLv3", "title": "UK Open Government Licence (OGL v3)"},
        "contact": {"name": "Open Data Team", "email": "opendata@tfl.gov.uk"},
        "resources": [
            {
                "id": "r1",
                "title": "2019",
                "url": "https://data.london.gov.uk/download/bus-stops-abc12/r1/stops-2019.xlsx",
                "description": "",
                "timeframeFrom": "2019-04-01",
                "timeframeTo": "2020-03-31",
                "size": 10,
                "hash": "A" * 40,
                "timestamp": "2019-07-19T16:00:56",
                "filename": "stops-2019.xlsx",
            },
            {
                "id": "r2",
                "title": "2015",
                "url": "https://data.london.gov.uk/download/bus-stops-abc12/r2/stops-2015",
                "timeframeFrom": "2015-04-01",
                "timeframeTo": "2016-03-31",
                "size": None,
                "hash": None,
            },
        ],
        "links": [],
        "custom": {"update_frequency": "Monthly", "borough": "Camden"},
    }
    dataset.update(overrides)
    return dataset


def test_datapress_maps_every_field_of_the_generated_shape(vocabularies, tmp_path):
    path = write(tmp_path, "export.json", json.dumps([datapress_dataset()]))
    records, problems = load(DataPressLoader, vocabularies, path)
    [record] = records
    assert record.slug == "bus-stops-abc12"
    assert record.description == "Bus stops & shelters.\n\nSecond paragraph."
    assert record.publisher == "tfl"
    assert record.themes == ["transport", "housing"]  # by id, else by title
    assert record.keywords == ["buses", "stops"]
    assert record.licence == EU_LICENCE + "OGL_3_0"
    assert record.contact == Contact(name="Open Data Team", email="opendata@tfl.gov.uk")
    assert record.frequency == "MONTHLY"
    assert record.boroughs == ["E09000007"]
    assert record.temporal_start == When("2015-04-01", "date")
    assert record.temporal_end == When("2020-03-31", "date")
    first, second = record.distributions
    assert first.checksum == Checksum("sha1", "a" * 40)
    assert first.file_type == "XLSX"
    assert second.byte_size is None and second.checksum is None and second.file_type is None
    assert problems == []
    quads = write_quads(vocabularies, records)
    assert any(q.predicate.value.endswith("accrualPeriodicity") for q in quads)


def test_datapress_resource_and_custom_fields_are_read_or_reported(vocabularies):
    loader = DataPressLoader(vocabularies)
    loader.read_all(DATAPRESS_EXPORT)  # the real export shape: every resource field read (or a link to its dataset)
    assert unmapped(loader) == set()
    resource = {**datapress_dataset()["resources"][0], "cache_url": "https://cache.example/x", "check_http_status": 404}
    item = datapress_dataset(resources=[resource], custom={"update_frequency": "Monthly", "colour": "blue"})
    loader = DataPressLoader(vocabularies)
    [record] = loader.records_from([item])
    assert record.frequency == "MONTHLY"
    assert unmapped(loader) == {
        ("resources[].cache_url", '"https://cache.example/x"'),
        ("resources[].check_http_status", "404"),
        ("custom.colour", '"blue"'),
    }


@pytest.mark.parametrize(
    ("sharing", "level", "reported"),
    [
        ("public", AccessLevel.PUBLIC, False),
        ("restricted", AccessLevel.RESTRICTED, False),
        ("private", AccessLevel.NON_PUBLIC, False),
        ("non-public", AccessLevel.NON_PUBLIC, False),
        ("secret-ish", AccessLevel.NON_PUBLIC, True),  # unknown: fail closed, and say so
        (None, AccessLevel.NON_PUBLIC, True),
    ],
)
def test_datapress_sharing_fails_closed(vocabularies, tmp_path, sharing, level, reported):
    path = write(tmp_path, "export.json", json.dumps([datapress_dataset(sharing=sharing)]))
    [record], problems = load(DataPressLoader, vocabularies, path)
    assert record.access is level
    assert ("sharing" in fields(problems)) is reported


def test_datapress_publisher_falls_back_to_team_then_to_a_minted_id(vocabularies, tmp_path):
    datasets = [
        datapress_dataset(id="a", masthead=None, team={"id": "q9", "title": "Greater London Authority"}),
        datapress_dataset(id="b", masthead={"id": "m1", "title": "Imaginary Data Trust (London)"}, team=None),
        datapress_dataset(id="c", masthead=None, team=None),
    ]
    path = write(tmp_path, "export.json", json.dumps(datasets))
    records, _ = load(DataPressLoader, vocabularies, path)
    assert [(r.publisher, r.publisher_name) for r in records] == [
        ("gla", None),
        ("imaginary-data-trust-london", "Imaginary Data Trust (London)"),
        (None, None),
    ]


def test_datapress_custom_fields(vocabularies, tmp_path):
    custom = {
        "Update Frequency": "Annually",
        "Boroughs": "Hackney; Islington",
        "Personal data": "yes",
        "archived": True,
    }
    path = write(tmp_path, "export.json", json.dumps([datapress_dataset(custom=custom)]))
    [record], problems = load(DataPressLoader, vocabularies, path)
    assert (record.frequency, record.boroughs) == ("ANNUAL", ["E09000012", "E09000019"])
    assert record.personal_data is True and record.status is Status.ARCHIVED
    assert problems == []


def test_datapress_record_problems_do_not_stop_the_load(vocabularies, tmp_path):
    bad = datapress_dataset(
        id="bad",
        webpage="https://data.london.gov.uk/dataset/bad",
        title="Bad",
        createdAt="last Tuesday",
        licence="Some Licence",
        topics=[{"id": "nope", "title": "Not A Theme"}],
        custom={"update_frequency": "whenever", "borough": "Atlantis"},
        resources=[{"id": "r", "url": "not a url", "size": -5, "hash": "xyz"}],
    )
    untitled = datapress_dataset(id="untitled", webpage="https://data.london.gov.uk/dataset/untitled", title="")
    path = write(tmp_path, "export.json", json.dumps([bad, datapress_dataset(), "not an object", untitled]))
    loader = DataPressLoader(vocabularies)
    records = loader.read_all(path)
    problems = [p for p in loader.problems if p.field not in PROFILE_FIELDS and not p.record.startswith("(")]
    assert [r.id for r in records] == ["bad", "abc12"]  # the untitled one is rejected, not published with ""
    assert records[0].issued is None and records[0].licence is None
    assert records[0].distributions[0].byte_size is None
    assert (loader.counts["items"], loader.counts["records"], loader.counts["rejected"]) == (4, 2, 2)
    assert set(fields(problems)) >= {
        "title",
        "createdAt",
        "licence",
        "topics",
        "custom.update_frequency",
        "custom.borough",
        "resources[r].url",
        "resources[r].size",
        "resources[r].hash",
        "dataset",
    }
    assert all(p.record in ("bad", "#2", "untitled") for p in problems)
    assert write_quads(vocabularies, records)


def test_datapress_generated_export_maps_without_problems(vocabularies, tmp_path):
    generate = pytest.importorskip("dfl_graph.generate")
    path = tmp_path / "export.json"
    generate.generate_export(300, path, seed=7)
    records, problems = load(DataPressLoader, vocabularies, path)
    assert len(records) == 300
    # the one field of the export the catalogue has no home for is reported once, with a count and an example
    [unmapped] = problems
    assert unmapped.field == "nextReviewDate" and unmapped.record.endswith(" datasets)") and unmapped.value
    assert {r.access for r in records} <= set(AccessLevel)
    assert any(r.frequency for r in records) and any(r.boroughs for r in records)
    assert all(r.publisher for r in records) and any(r.licence for r in records)
    assert len({r.slug for r in records}) == 300
    assert write_quads(vocabularies, records)


def test_bulk_loaders_restore_the_garbage_collector(vocabularies, tmp_path):
    import gc

    assert gc.isenabled()
    load(DataPressLoader, vocabularies, DATAPRESS_EXPORT)
    assert gc.isenabled()
    with pytest.raises(LoadError):
        DataPressLoader(vocabularies).read_all(write(tmp_path, "bad.json", "[{"))
    assert gc.isenabled()
    load(CkanLoader, vocabularies, BIRMINGHAM)
    assert gc.isenabled()


# -- CKAN ---------------------------------------------------------------------------------------------


def test_ckan_birmingham_package_search(vocabularies):
    records, problems = load(CkanLoader, vocabularies, BIRMINGHAM)
    # SOURCE.txt says 55 resources; the file holds 54 (45 + 9 x 1, matching each num_resources).
    assert len(records) == 10
    assert sum(len(r.distributions) for r in records) == 54
    main = records[0]
    assert (main.id, main.slug, main.title) == (
        "purchase-card-transactions",
        "purchase-card-transactions",
        "Purchase Card Transactions",
    )
    assert main.description.startswith("Under the Code of Recommended Practice")
    assert "\n\nWe already publish" in main.description  # paragraphs kept, \r\n normalised
    assert main.publisher == "birmingham-city-council" and main.publisher_name == "Birmingham City Council"
    assert main.licence == EU_LICENCE + "OGL_3_0"
    assert main.contact == Contact(name="Ian Martin", email="ian.martin@birmingham.gov.uk")  # trailing space gone
    assert main.keywords == ["payments", "purchase card"]
    assert main.issued == When("2014-12-01T10:29:19.414595", "dateTime")
    assert main.access is AccessLevel.PUBLIC and main.landing_page is None  # url is ""
    april = next(d for d in main.distributions if d.id == "b4a15ade-11b1-4c98-88a0-8cd8408212ac")
    assert april.title == "Purchase Card transactions - April 2014"
    assert (april.file_type, april.media_type) == ("XLS", "application/vnd.ms-excel")
    assert april.checksum == Checksum("md5", "43f32bff94876bd377627bf8af89a692")
    assert april.issued == When("2014-12-01T14:33:45.359209", "dateTime")
    november = next(d for d in main.distributions if d.id == "d1e4ec86-3ce3-4769-851d-63eda74253bf")
    assert november.file_type == "XLS"  # format "" in the source: from the URL's extension
    assert all(d.file_type == "XLS" for r in records for d in r.distributions)
    # the real file's own problems: "Council Business" is no London theme; url holds names, not URLs; and
    # two resource fields with no DCAT-AP home (CKAN's DataStore flag, how the file got there), each reported once
    assert sorted(set(fields(problems))) == ["groups", "resources[].datastore_active", "resources[].url_type", "url"]
    assert len(problems) == 12
    assert write_quads(vocabularies, records)


def ckan_package(**overrides) -> dict:
    package = json.loads(BIRMINGHAM.read_text())["result"]["results"][1]
    package.update(overrides)
    return package


def test_ckan_package_show_and_bare_list(vocabularies, tmp_path):
    show = write(tmp_path, "show.json", json.dumps({"success": True, "result": ckan_package()}))
    [record], _ = load(CkanLoader, vocabularies, show)
    assert record.id == "february-2018-purchase-card-transactions"
    bare = write(tmp_path, "list.json", json.dumps([ckan_package(), ckan_package(name="other")]))
    records, _ = load(CkanLoader, vocabularies, bare)
    assert [r.id for r in records] == ["february-2018-purchase-card-transactions", "other"]


def test_ckan_mapping_of_groups_extras_private_and_deleted(vocabularies, tmp_path):
    packages = [
        ckan_package(
            name="one",
            private=True,
            url="https://example.org/one",
            groups=[{"name": "transport", "title": "Transport"}],
            tags=[{"display_name": "Housing", "name": "housing"}],
            extras=[
                {"key": "frequency", "value": "Quarterly"},
                {"key": "borough", "value": "Camden, Westminster"},
                {"key": "spatial", "value": '{"type": "Point", "coordinates": [0, 51]}'},
            ],
            license_id="cc-by",
            license_url="",
            license_title="Creative Commons Attribution",
        ),
        ckan_package(name="gone", state="deleted"),
    ]
    path = write(tmp_path, "search.json", json.dumps({"success": True, "result": {"count": 2, "results": packages}}))
    [record], problems = load(CkanLoader, vocabularies, path)
    assert record.access is AccessLevel.NON_PUBLIC
    assert record.landing_page == "https://example.org/one"
    assert record.themes == ["transport", "housing"]  # group, and a tag equal to a theme label
    assert record.frequency == "QUARTERLY"
    assert record.boroughs == ["E09000007", "E09000033"]
    assert record.licence == EU_LICENCE + "CC_BY_4_0"
    assert [(p.record, p.field) for p in problems if not p.field.startswith("resources[].")] == [("gone", "state")]
    quads = write_quads(vocabularies, [record])
    # ckanext-spatial's GeoJSON geometry: kept on a dct:Location of the dataset, as given
    geojson = [q.object.value for q in quads if q.predicate.value == "http://www.opengis.net/ont/geosparql#asGeoJSON"]
    assert geojson == ['{"type": "Point", "coordinates": [0, 51]}']


def test_ckan_extras_give_access_reasons_personal_data_categories_and_legal_basis(vocabularies, tmp_path):
    extras = [
        {"key": "access_reason", "value": "third-party-licence; CommercialInterests, whim"},
        {"key": "access_reason_note", "value": " Licensed from a supplier. "},
        {"key": "personal_data", "value": "yes"},
        {"key": "personal_data_categories", "value": ["pd:Age", "https://w3id.org/dpv/pd#Location", "shoe size"]},
        {"key": "legal_basis", "value": "LegalObligation"},
    ]
    path = write(tmp_path, "one.json", json.dumps(ckan_package(name="one", private=True, extras=extras)))
    [record], problems = load(CkanLoader, vocabularies, path)
    assert record.access_reasons == ["ThirdPartyLicence", "CommercialInterests"]
    assert record.access_reason_note == "Licensed from a supplier."
    assert record.personal_data_categories == ["https://w3id.org/dpv/pd#Age", "https://w3id.org/dpv/pd#Location"]
    assert record.legal_basis == ["https://w3id.org/dpv#LegalObligation"]
    assert [(p.field, p.what.split(": ")[-1]) for p in problems if p.field.startswith("extras")] == [
        ("extras.access_reason", "'whim'"),
        ("extras.personal_data_categories", "'shoe size'"),
    ]
    quads = write_quads(vocabularies, [record])
    objects = {q.object.value for q in quads}
    assert "https://w3id.org/dpv#PersonalData" not in objects and "https://w3id.org/dpv#LegalObligation" in objects
    assert vocabularies.uris.vocab.ThirdPartyLicence.value in objects


def test_ckan_resource_problems(vocabularies, tmp_path):
    resource = {"id": "r1", "name": "x", "url": "https://e.org/x.csv", "format": "CSV", "size": -1, "hash": "nothex"}
    twin = {**resource, "size": 3, "hash": "", "url": "https://e.org/y.csv"}  # DataSud reuses resource ids
    packages = [ckan_package(resources=[resource, twin]), ckan_package(name="untitled", title=None)]
    path = write(tmp_path, "list.json", json.dumps(packages))
    [record], problems = load(CkanLoader, vocabularies, path)
    first, second = record.distributions
    assert first.byte_size is None and first.file_type == "CSV"
    assert (first.id, second.id, second.byte_size) == ("r1", "r1-2", 3)  # kept under a distinct id, reported
    assert {"title", "resources[r1].size", "resources[r1].hash", "resources[r1]"} <= set(fields(problems))


def test_every_field_of_the_real_birmingham_response_is_mapped_or_reported(vocabularies):
    """Every non-empty field of every package and resource is read, CKAN bookkeeping, or reported by its name; and
    what is reported is exactly what no mapper reads."""
    loader = CkanLoader(vocabularies)
    loader.read_all(BIRMINGHAM)
    packages = json.loads(BIRMINGHAM.read_text())["result"]["results"]
    empty = (None, "", [], {})
    given = {k for p in packages for k, v in p.items() if v not in empty}
    given |= {f"resources[].{k}" for p in packages for r in p["resources"] for k, v in r.items() if v not in empty}
    reported = {field for field, _ in unmapped(loader)}
    # CKAN's DataStore flag and how the file got onto the portal: about the portal, no DCAT-AP home
    assert unmapped(loader) == {("resources[].datastore_active", "false"), ("resources[].url_type", '"upload"')}
    read = {"name", "id", "title", "notes", "private", "state", "type", "metadata_created", "metadata_modified", "url"}
    read |= {"organization", "groups", "tags", "license_url", "license_id", "license_title", "maintainer", "author"}
    read |= {"maintainer_email", "author_email", "version", "resources"}
    read |= {f"resources[].{k}" for k in ("id", "name", "description", "url", "format", "hash", "created", "state")}
    bookkeeping = {"num_tags", "num_resources", "owner_org", "creator_user_id", "revision_id", "isopen"}
    bookkeeping |= {"resources[].package_id", "resources[].revision_id", "resources[].position"}
    assert given == read | bookkeeping | reported and not reported & (read | bookkeeping)


def test_ckan_reports_deleted_resources_unknown_fields_and_keeps_geometries(vocabularies):
    live = {"id": "r1", "url": "https://e.org/x.zip", "resource_type": "file.upload", "mimetype_inner": "text/csv"}
    live["cache_url"] = "https://cache.e.org/x.zip"
    gone = {"id": "r2", "url": "https://e.org/y.csv", "state": "deleted"}
    extras = [
        {"key": "spatial", "value": '{"type": "Polygon", "coordinates": [[[0, 51], [1, 51], [1, 52], [0, 51]]]}'},
        {"key": "theme-primary", "value": "Health"},
        {"key": "archived", "value": "no"},  # read: not archived, so nothing to report
    ]
    broken = ckan_package(name="broken", resources=[], extras=[{"key": "spatial", "value": "{not json"}])
    loader = CkanLoader(vocabularies)
    record, other = loader.records_from([ckan_package(resources=[live, gone, "junk"], extras=extras), broken])
    assert [d.id for d in record.distributions] == ["r1"]
    assert (loader.counts["distributions_read"], loader.counts["distributions_kept"]) == (3, 1)
    said = {(p.record, p.field, p.what, p.value) for p in loader.problems}
    name = record.id
    assert (name, "resources[r2].state", "skipped: the resource is deleted", None) in said
    assert (name, "resources", "skipped: resource 3 is not an object", "junk") in said
    assert ("broken", "extras.spatial", "not a GeoJSON geometry: not kept", "{not json") in said
    assert unmapped(loader) == {
        ("resources[].resource_type", '"file.upload"'),
        ("resources[].mimetype_inner", '"text/csv"'),
        ("resources[].cache_url", '"https://cache.e.org/x.zip"'),
        ("extras.theme-primary", '"Health"'),
    }
    quads = write_quads(vocabularies, [record, other])
    dataset = NamedNode(vocabularies.uris.dataset(record.slug))
    [location] = [q.object for q in quads if q.subject == dataset and q.predicate == DCT.spatial]
    assert (location, RDF.type, DCT.Location) in {(q.subject, q.predicate, q.object) for q in quads}
    assert [q.object.value for q in quads if q.predicate.value == GEO + "asGeoJSON"] == [extras[0]["value"]]
    assert not any(q.predicate == DCT.spatial for q in quads if q.subject.value.endswith("/broken"))


# -- data.json ----------------------------------------------------------------------------------------


def test_datajson_real_bounding_boxes_are_kept_as_dcat_bbox(vocabularies):
    loader = DataJsonLoader(vocabularies)
    records = loader.read_all(APUR_DATAJSON)
    assert [p for p in loader.problems if p.field == "spatial"] == []
    quads = write_quads(vocabularies, records)
    triples = {(q.subject, q.predicate, q.object) for q in quads}
    boxes = {q.subject: q.object for q in quads if q.predicate == DCAT.bbox}
    items = json.loads(APUR_DATAJSON.read_text())["dataset"]
    assert len(boxes) == len(records) == len(items) == 71
    for record, item in zip(records, items, strict=True):
        dataset = NamedNode(vocabularies.uris.dataset(record.slug))
        [location] = [o for s, p, o in triples if s == dataset and p == DCT.spatial]
        assert (location, RDF.type, DCT.Location) in triples
        west, south, east, north = item["spatial"].split(",")
        wkt = f"POLYGON(({west} {south},{east} {south},{east} {north},{west} {north},{west} {south}))"
        assert (boxes[location].value, boxes[location].datatype.value) == (wkt, GEO + "wktLiteral")
    first = NamedNode(vocabularies.uris.dataset(records[0].slug))
    [location] = [o for s, p, o in triples if s == first and p == DCT.spatial]
    assert boxes[location].value == (
        "POLYGON((1.9515 48.6827,2.598 48.6827,2.598 49.0496,1.9515 49.0496,1.9515 48.6827))"
    ), items[0]["spatial"]


def test_datajson_spatial_is_a_borough_a_location_or_reported(vocabularies):
    places = {
        "camden": "Camden",
        "world": "-180,-90,180,90",
        "point": {"type": "Point", "coordinates": [-0.1, 51.5]},
        "paris": "Paris",
        "off-the-globe": "0,91,1,92",
        "not-geojson": '{"kind": "blob"}',
    }
    items = [{"identifier": key, "title": key, "spatial": value} for key, value in places.items()]
    loader = DataJsonLoader(vocabularies)
    records = {r.id: r for r in loader.records_from(items)}
    assert records["camden"].boroughs == ["E09000007"]
    reported = {(p.record, p.what, p.value) for p in loader.problems if p.field == "spatial"}
    assert reported == {
        ("paris", "not a London borough: not kept", "Paris"),
        ("off-the-globe", "not a bounding box west,south,east,north in degrees: not kept", "0,91,1,92"),
        ("not-geojson", "not a GeoJSON geometry: not kept", '{"kind": "blob"}'),
    }
    quads = write_quads(vocabularies, list(records.values()))
    literals = {(q.predicate.value, q.object.value) for q in quads if isinstance(q.object, Literal)}
    assert (DCAT.bbox.value, "POLYGON((-180 -90,180 -90,180 90,-180 90,-180 -90))") in literals
    assert (GEO + "asGeoJSON", '{"type": "Point", "coordinates": [-0.1, 51.5]}') in literals
    assert not any(q.predicate == DCT.spatial for q in quads if q.subject.value.endswith(("/paris", "/off-the-globe")))
    kept = write_quads(vocabularies, [records["world"], records["point"]])  # the locations, beside no borough
    store = Store()
    store.extend(kept)
    report = validate_store(store, [kept[0].graph_name], "dcat-ap", vocabularies.uris.base)
    ours = ("#location", "#geometry", DCT.spatial.value)
    spatial = [
        f for f in report.findings if f.severity == "Violation" and any(o in f"{f.focus} {f.path}" for o in ours)
    ]
    assert spatial == []  # locations and geometries as DCAT-AP 3.0.1 wants them (the Warning on every place remains)


def test_datajson_fields_of_the_real_files_and_their_distributions_are_mapped_or_reported(vocabularies):
    for path, expected in ((ARM_DATAJSON, {"bureauCode", "programCode"}), (APUR_DATAJSON, {"webService"})):
        loader = DataJsonLoader(vocabularies)
        loader.read_all(path)
        assert {field for field, _ in unmapped(loader)} == expected, path.name  # every distribution field read
    download = {"@type": "dcat:Distribution", "downloadURL": "https://x.example/a.csv", "format": "CSV"}
    download |= {"conformsTo": "https://x.example/schema", "describedBy": "https://x.example/dictionary.json"}
    loader = DataJsonLoader(vocabularies)
    list(loader.records_from([{"identifier": "d1", "title": "T", "distribution": [download]}]))
    assert unmapped(loader) == {
        ("distribution[].conformsTo", '"https://x.example/schema"'),
        ("distribution[].describedBy", '"https://x.example/dictionary.json"'),
    }


def test_datajson_temporal_is_an_interval_or_reported(vocabularies):
    given = {"years": "2010-01-01/2012-12-31", "repeating": "R/P1Y", "one-date": "2010", "open": "2015-01-01/P1Y"}
    loader = DataJsonLoader(vocabularies)
    records = {
        r.id: r for r in loader.records_from([{"identifier": k, "title": k, "temporal": v} for k, v in given.items()])
    }
    assert (records["years"].temporal_start, records["years"].temporal_end) == (
        When("2010-01-01", "date"),
        When("2012-12-31", "date"),
    )
    reported = {(p.record, p.value) for p in loader.problems if p.field == "temporal"}
    assert reported == {("repeating", "R/P1Y"), ("one-date", "2010"), ("open", "2015-01-01/P1Y")}


# -- the 2010 listing ------------------------------------------------------------------------------------


def test_lds2010_reads_every_column_and_reports_any_other(vocabularies, tmp_path):
    loader = Lds2010Loader(vocabularies)
    assert len(loader.read_all(LDS2010)) == 249 and unmapped(loader) == set()  # the real listing: every column read
    row = "node_id,path,title,date,categories,description,publisher\n1,/datastore/package/buses,Buses,MAY 2010,,x,GLA\n"
    loader = Lds2010Loader(vocabularies)
    [record] = loader.read_all(write(tmp_path, "listing.csv", row))
    assert (record.id, record.issued) == ("buses", When("2010-05", "gYearMonth"))
    assert unmapped(loader) == {("publisher", '"GLA"')}


# -- DCAT RDF -----------------------------------------------------------------------------------------


def test_dcat_uk_gss_catalogue(vocabularies):
    records, problems = load(DcatRdfLoader, vocabularies, GSS)
    assert len(records) == 600  # 500 dcat:Dataset, and 100 typed only pmdcat:Dataset (a dcat:Dataset subclass)
    assert len({r.slug for r in records}) == 600 and len({r.id for r in records}) == 600
    topics = next(
        r for r in records if r.original_iri == "http://gss-data.org.uk/def/concept-scheme/ons-topics/dataset"
    )
    assert topics.slug == "ons-topics"  # last meaningful segment: "/dataset" skipped
    assert topics.title == "ONS Topics"
    assert topics.publisher == "ons"  # gov.uk organisation IRI -> "office-for-national-statistics" -> ONS
    assert topics.licence == EU_LICENCE + "OGL_3_0"  # nationalarchives OGL v3 URL
    assert topics.landing_page == "https://www.ons.gov.uk/timeseriestool"
    assert topics.issued == When("2021-03-15T13:55:54.371435", "dateTime")
    assert topics.access is AccessLevel.PUBLIC  # no dct:accessRights
    assert sum(r.licence is not None for r in records) > 50
    assert problems  # unnamed publishers, ONS themes, shared identifiers: reported, not fatal
    fields_reported = {p.field.split("[")[0] for p in problems}
    assert fields_reported <= {
        "dct:identifier",
        "dct:creator",
        "dct:publisher",
        "dcat:theme",
        "dct:description",
        "rdf:type",
        "distribution",
    }
    # catalogue records, the catalogue and its modules describe no dataset: not kept, reported by type
    undescribed = {p.what.split(" are ")[0] for p in problems if p.field == "rdf:type"}
    assert "76 resources typed http://www.w3.org/ns/dcat#CatalogRecord" in undescribed
    assert write_quads(vocabularies, records)


def test_dcat_random_catalogue(vocabularies):
    # the generated data has no titles: no dataset is published with an empty title, each is rejected saying so
    assert_refused(DcatRdfLoader, vocabularies, DCAT_RANDOM, "none of the 107 datasets", "no title")
    loader = DcatRdfLoader(vocabularies)
    results = list(loader.records_from(loader.items(DCAT_RANDOM)))
    assert len(results) == 107 and all(isinstance(r, Rejection) for r in results)
    assert {r.problems[0].field for r in results} == {"dct:title"}
    links = [t for t in parse(path=str(DCAT_RANDOM), format=RdfFormat.TURTLE) if t.predicate == DCAT.distribution]
    assert loader.counts["distributions_read"] == len(links) == 906
    assert loader.counts == {**loader.counts, "items": 107, "records": 0, "rejected": 107, "distributions_kept": 0}


def w3c_datasets(path: Path) -> tuple[int, int]:
    """(records, titled records) of a W3C example, read directly from its triples: datasets and data services."""
    triples = list(parse(path=str(path), format=FORMATS[path.suffix]))
    dataset_types = {DCAT.Dataset, DCAT.DatasetSeries, DCAT.DataService}
    datasets = {t.subject for t in triples if t.predicate == RDF.type and t.object in dataset_types}
    title_props = {DCT.title.value, *P_LABEL_PROPS}
    titled = {t.subject for t in triples if t.subject in datasets and t.predicate.value in title_props}
    return len(datasets), len(titled)


@pytest.mark.parametrize("path", W3C_FILES, ids=lambda p: str(p.relative_to(W3C)))
def test_dcat_w3c_examples(vocabularies, path):
    loader = DcatRdfLoader(vocabularies)
    datasets, titled = w3c_datasets(path)
    if titled:
        records = loader.read_all(path)
        assert len(records) == titled and loader.counts["rejected"] == datasets - titled
        assert len({r.slug for r in records}) == len(records)
        assert write_quads(vocabularies, records)
    else:
        with pytest.raises(LoadError, match="none of the" if datasets else "no datasets found"):
            loader.read_all(path)


def test_dcat_w3c_example_fields(vocabularies):
    [record], _ = load(DcatRdfLoader, vocabularies, W3C / "vocab-dcat-3" / "basic-example.ttl")
    assert record.id == "https://dcat.example.org/dataset-001" == record.original_iri
    assert (record.slug, record.title) == ("dataset-001", "Imaginary dataset")
    assert record.keywords == ["accountability", "payments", "transparency"]
    assert record.issued == When("2011-12-05", "date")
    assert (record.temporal_start, record.temporal_end) == (When("2011-07-01", "date"), When("2011-09-30", "date"))
    assert record.frequency == "WEEKLY"  # http://purl.org/cld/freq/weekly
    [dist] = record.distributions
    assert (dist.id, dist.media_type, dist.file_type, dist.byte_size) == ("dataset-001-csv", "text/csv", "CSV", 5120)
    assert dist.download_url == "http://dcat.example.org/files/001.csv"


def test_dcat_same_example_in_every_syntax_gives_the_same_records(vocabularies):
    def summary(path):
        records = DcatRdfLoader(vocabularies).read_all(path)
        return sorted(
            (r.slug, r.id, r.title, r.licence, r.access, r.temporal_start, tuple(d.id for d in r.distributions))
            for r in records
        )

    folder = W3C / "vocab-dcat-3"
    for stem in ("basic-example", "csiro-stratchart", "threddsABC", "series-versions"):
        ttl = summary(folder / f"{stem}.ttl")
        assert ttl == summary(folder / f"{stem}.jsonld") == summary(folder / f"{stem}.rdf"), stem


def test_dcat_blank_node_datasets_get_stable_distinct_slugs(vocabularies):
    path = W3C / "csiro-dap-examples.ttl"
    first = [(r.id, r.slug, [d.id for d in r.distributions]) for r in DcatRdfLoader(vocabularies).read_all(path)]
    again = [(r.id, r.slug, [d.id for d in r.distributions]) for r in DcatRdfLoader(vocabularies).read_all(path)]
    assert first == again
    assert len({slug for _, slug, _ in first}) == len(first) == w3c_datasets(path)[1] == 6  # 3 have no title


DCAT_TTL = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix spdx: <http://spdx.org/rdf/terms#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://data.example.org/> .

ex:bus-stops a dcat:Dataset ;
  dct:identifier "BUS-1" ;
  dct:title "Bus stops"@en, "Arrêts de bus"@fr ;
  dct:description "<p>All bus stops.</p>" ;
  dcat:theme <http://publications.europa.eu/resource/authority/data-theme/TRAN> ;
  dcat:theme [ a skos:Concept ; skos:prefLabel "Housing"@en ] ;
  dct:publisher [ foaf:name "Transport for London" ] ;
  dct:accessRights <http://publications.europa.eu/resource/authority/access-right/RESTRICTED> ;
  dct:issued "2020-01-02"^^xsd:date ;
  dct:modified "yesterday" ;
  dct:spatial <http://statistics.data.gov.uk/id/statistical-geography/E09000007>, [ skos:prefLabel "Hackney" ] ;
  dct:temporal [ dcat:startDate "2019-01-01"^^xsd:date ; dcat:endDate "2019-12-31"^^xsd:date ] ;
  dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/MONTHLY> ;
  dcat:contactPoint [ vcard:fn "Open data" ; vcard:hasEmail <mailto:open@tfl.gov.uk> ] ;
  dcat:landingPage <https://tfl.gov.uk/stops> ;
  dcat:distribution ex:bus-stops-csv .

ex:bus-stops-csv a dcat:Distribution ;
  dcat:downloadURL <https://data.example.org/files/stops.csv> ;
  dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ;
  dcat:byteSize "2048"^^xsd:nonNegativeInteger ;
  dct:license <https://creativecommons.org/licenses/by/4.0/> ;
  spdx:checksum [
    spdx:algorithm spdx:checksumAlgorithm_sha1 ;
    spdx:checksumValue "0123456789abcdef0123456789abcdef01234567"^^xsd:hexBinary
  ] .

[] a dcat:Dataset ; dct:title "Anonymous" ; dct:accessRights [ dct:title "nobody knows" ] .
"""


def test_dcat_field_mapping(vocabularies, tmp_path):
    path = write(tmp_path, "catalog.ttl", DCAT_TTL)
    records, problems = load(DcatRdfLoader, vocabularies, path)
    bus, anonymous = records
    assert (bus.id, bus.slug, bus.original_iri) == ("BUS-1", "bus-stops", "https://data.example.org/bus-stops")
    assert bus.title == "Bus stops" and bus.description == "All bus stops."
    assert bus.eu_themes == ["TRAN"] and bus.themes == ["housing"]
    assert bus.publisher == "tfl"
    assert bus.access is AccessLevel.RESTRICTED
    assert bus.issued == When("2020-01-02", "date") and bus.modified is None
    assert bus.boroughs == ["E09000007", "E09000012"]
    assert (bus.temporal_start, bus.temporal_end) == (When("2019-01-01", "date"), When("2019-12-31", "date"))
    assert bus.frequency == "MONTHLY"
    assert bus.contact == Contact(name="Open data", email="open@tfl.gov.uk")
    assert bus.landing_page == "https://tfl.gov.uk/stops"
    assert bus.licence == EU_LICENCE + "CC_BY_4_0"  # the one licence all its distributions carry
    [dist] = bus.distributions
    assert (dist.id, dist.file_type, dist.media_type, dist.byte_size) == ("bus-stops-csv", "CSV", "text/csv", 2048)
    assert dist.checksum == Checksum("sha1", "0123456789abcdef0123456789abcdef01234567")
    assert anonymous.slug.startswith("dataset-") and anonymous.original_iri is None
    assert anonymous.access is AccessLevel.NON_PUBLIC  # an access right we cannot read: fail closed
    assert {(p.record, p.field) for p in problems} == {
        ("https://data.example.org/bus-stops", "dct:modified"),
        (anonymous.id, "dct:accessRights"),
    }
    assert write_quads(vocabularies, records)


def test_dcat_our_own_iris_keep_their_slug(vocabularies, tmp_path):
    base = vocabularies.uris.base
    ttl = f"""<{base}/dataset/bus-stops> a <http://www.w3.org/ns/dcat#Dataset> ;
      <http://purl.org/dc/terms/title> "Bus stops" ;
      <http://purl.org/dc/terms/publisher> <{base}/publisher/tfl> ;
      <http://www.w3.org/ns/dcat#theme> <{base}/theme/transport> ;
      <http://purl.org/dc/terms/spatial> <{base}/borough/E09000001> ."""
    [record], problems = load(DcatRdfLoader, vocabularies, write(tmp_path, "own.ttl", ttl))
    assert (record.slug, record.original_iri, record.publisher) == ("bus-stops", None, "tfl")
    assert (record.themes, record.boroughs) == (["transport"], ["E09000001"])
    assert problems == []


def test_dcat_slug_clashes_get_a_hash_of_the_iri(vocabularies, tmp_path):
    ttl = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
    @prefix dct: <http://purl.org/dc/terms/> .
    <http://a.example/x/data> a dcat:Dataset ; dct:title "A" .
    <http://b.example/x/data> a dcat:Dataset ; dct:title "B" .
    <http://c.example/y> a dcat:Dataset ; dct:title "C" ."""
    records, _ = load(DcatRdfLoader, vocabularies, write(tmp_path, "clash.ttl", ttl))
    slugs = [r.slug for r in records]
    assert slugs[0].startswith("x-") and slugs[1].startswith("x-") and slugs[0] != slugs[1]
    assert slugs[2] == "y"


# -- malformed input: each refused with the file's name (and position), or reported ----------------


def assert_refused(loader_type, vocabularies, path, *needles):
    with pytest.raises(LoadError) as caught:
        loader_type(vocabularies).read_all(path)
    message = str(caught.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message, message
    return caught.value


@pytest.mark.parametrize("loader_type", [DataPressLoader, CkanLoader, DcatRdfLoader])
def test_empty_file(vocabularies, tmp_path, loader_type):
    suffix = ".ttl" if loader_type is DcatRdfLoader else ".json"
    assert_refused(loader_type, vocabularies, write(tmp_path, "empty" + suffix, b""), "empty")


def test_bad_json_names_line_and_column(vocabularies, tmp_path):
    path = write(tmp_path, "export.json", '[\n  {"id": "a",\n   "title": }\n]')
    error = assert_refused(DataPressLoader, vocabularies, path, "malformed JSON")
    assert error.position == "3:13"
    assert f"{path}:3:13" in str(error)


def test_truncated_json(vocabularies, tmp_path):
    text = BIRMINGHAM.read_text()
    path = write(tmp_path, "package_search.json", text[: len(text) // 2])
    error = assert_refused(CkanLoader, vocabularies, path, "malformed JSON")
    assert error.position and ":" in error.position


def test_not_utf8(vocabularies, tmp_path):
    path = write(tmp_path, "export.json", '[{"id": "a", "title": "Café"}]'.encode("latin-1"))
    assert_refused(DataPressLoader, vocabularies, path, "not UTF-8")
    ttl = write(tmp_path, "x.ttl", '<http://a> <http://b> "Café" .'.encode("latin-1"))
    assert_refused(DcatRdfLoader, vocabularies, ttl, "not UTF-8")


@pytest.mark.parametrize(
    ("loader_type", "content", "needle"),
    [
        (DataPressLoader, '{"datasets": 3}', "wrong shape"),
        (DataPressLoader, '"a string"', "wrong shape"),
        (DataPressLoader, "[]", "no datasets found"),
        (CkanLoader, '{"help": "x", "success": true, "result": ["a", "b"]}', "package_list"),
        (CkanLoader, '{"something": "else"}', "wrong shape"),
        (CkanLoader, "42", "wrong shape"),
    ],
)
def test_json_of_the_wrong_shape(vocabularies, tmp_path, loader_type, content, needle):
    assert_refused(loader_type, vocabularies, write(tmp_path, "data.json", content), needle)


def test_ckan_success_false(vocabularies, tmp_path):
    body = {"help": "...", "success": False, "error": {"__type": "Not Found Error", "message": "Not found"}}
    path = write(tmp_path, "package_show.json", json.dumps(body))
    assert_refused(CkanLoader, vocabularies, path, "success: false", "Not found")


def test_bad_turtle_names_line_and_column(vocabularies, tmp_path):
    ttl = '@prefix dct: <http://purl.org/dc/terms/> .\n<http://a> dct:title "ok" .\n<http://b> dct:title "open .\n'
    error = assert_refused(DcatRdfLoader, vocabularies, write(tmp_path, "bad.ttl", ttl), "malformed Turtle")
    assert error.position == "3:22"


def test_bad_rdf_xml_and_json_ld(vocabularies, tmp_path):
    assert_refused(DcatRdfLoader, vocabularies, write(tmp_path, "bad.rdf", "<rdf:RDF><x></rdf:RDF>"), "RDF/XML")
    error = assert_refused(DcatRdfLoader, vocabularies, write(tmp_path, "bad.jsonld", '{"@id": "http://a", '), "JSON")
    assert error.position == "1:21"
    remote = write(tmp_path, "remote.jsonld", '{"@context": "https://www.w3.org/ns/dcat.jsonld", "@id": "http://a"}')
    assert_refused(DcatRdfLoader, vocabularies, remote, "remote @context")


def test_rdf_xml_errors_name_line_and_column(vocabularies, tmp_path):
    rdf = (
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns:ex="http://ex.org/">\n  <rdf:Description rdf:about="http://x">\n    <ex:p rdf:resource="http://y">text<ex:q/></ex:p>\n'
        "  </rdf:Description>\n</rdf:RDF>\n"
    )
    error = assert_refused(DcatRdfLoader, vocabularies, write(tmp_path, "bad.rdf", rdf), "malformed RDF/XML")
    assert error.position is not None and error.position.startswith("4:")
    unclosed = write(tmp_path, "unclosed.rdf", rdf.replace("</ex:p>", ""))
    assert assert_refused(DcatRdfLoader, vocabularies, unclosed, "RDF/XML").position.startswith("4:")


def test_json_ld_fallback_to_rdflib(tmp_path):
    """JSON-LD pyoxigraph refuses for a reason other than bad JSON or a remote context is retried with rdflib."""
    doc = {
        "@context": {"dct": "http://purl.org/dc/terms/", "dcat": "http://www.w3.org/ns/dcat#"},
        "@id": "http://example.org/ds",
        "@type": "dcat:Dataset",
        "dct:title": {"@value": "Fallback", "@language": "en"},
    }
    triples = _json_ld_fallback(json.dumps(doc).encode(), tmp_path.as_uri(), "some parser limitation")
    assert {(t[1].value, t[2].value) for t in triples} == {
        (RDF.type.value, DCAT.Dataset.value),
        ("http://purl.org/dc/terms/title", "Fallback"),
    }


def test_dcat_unknown_extension(vocabularies, tmp_path):
    assert_refused(DcatRdfLoader, vocabularies, write(tmp_path, "catalog.txt", "<a> <b> <c> ."), "extension", ".txt")


def test_dcat_file_without_datasets(vocabularies, tmp_path):
    path = write(tmp_path, "other.nt", "<http://a.example/s> <http://a.example/p> <http://a.example/o> .\n")
    assert_refused(DcatRdfLoader, vocabularies, path, "no datasets found")


def test_missing_file(vocabularies, tmp_path):
    assert_refused(DataPressLoader, vocabularies, tmp_path / "absent.json", "no such file")


# -- formats.py ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("csv", ("text/csv", "CSV")),
        ("XLS", ("application/vnd.ms-excel", "XLS")),
        ("xlsx", ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX")),
        ("GeoJSON", ("application/geo+json", "GEOJSON")),
        ("text/csv; charset=utf-8", ("text/csv", "CSV")),
        ("http://publications.europa.eu/resource/authority/file-type/ZIP", ("application/zip", "ZIP")),
        ("https://www.iana.org/assignments/media-types/application/pdf", ("application/pdf", "PDF")),
        ("Esri Shapefile", ("application/vnd.shp", "SHP")),
        ("Spreadsheet (csv)", ("text/csv", "CSV")),
        ("no such format", (None, None)),
    ],
)
def test_file_format_names(value, expected):
    assert file_format(value) == expected


def test_file_format_from_filename_and_url():
    assert file_format(None, paths=("report.PDF",)) == ("application/pdf", "PDF")
    assert file_format("", paths=(None, "https://x.org/a/b.tar.gz?download=1")) == ("application/gzip", "TAR_GZ")
    assert file_format("", paths=("https://x.org/download/abc",)) == (None, None)
    assert file_format("ODS", paths=("x.csv",)) == ("application/vnd.oasis.opendocument.spreadsheet", "ODS")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("uk-ogl", "OGL_3_0"),
        ("OGLv3", "OGL_3_0"),
        ("UK Open Government Licence (OGL v2)", "OGL_2_0"),
        ("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/", "OGL_3_0"),
        ("http://reference.data.gov.uk/id/open-government-licence", "OGL_3_0"),
        ("CC-BY-4.0", "CC_BY_4_0"),
        ("https://creativecommons.org/licenses/by-sa/4.0/legalcode", "CC_BYSA_4_0"),
        ("cc-zero", "CC0"),
        ("ODbL-1.0", "ODC_BL"),
        ("odc-odbl", "ODC_BL"),
        ("NCGL", "OGL_NC"),
    ],
)
def test_licence_iri(value, code):
    assert licence_iri(value) == EU_LICENCE + code


def test_licence_iri_keeps_other_urls_and_refuses_unknown_names():
    assert (
        licence_iri("https://data.gov.cz/podmínky-užití/volný-přístup/")
        == "https://data.gov.cz/podmínky-užití/volný-přístup/"
    )
    assert licence_iri("Other (Open)") is None and licence_iri("Some Licence") is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Daily", "DAILY"),
        ("weekly", "WEEKLY"),
        ("Monthly", "MONTHLY"),
        ("Quarterly", "QUARTERLY"),
        ("Annually", "ANNUAL"),
        ("Annual", "ANNUAL"),
        ("Ad hoc", "IRREG"),
        ("Irregular", "IRREG"),
        ("Never", "NEVER"),
        ("http://purl.org/cld/freq/semiannual", "ANNUAL_2"),
        ("http://publications.europa.eu/resource/authority/frequency/BIENNIAL", "BIENNIAL"),
        ("sometimes", None),
    ],
)
def test_frequency_code(value, code):
    assert frequency_code(value) == code


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p> Mocking API call</p>", "Mocking API call"),
        ("<h1>A &amp; B</h1><p>One<br>two</p><ul><li>x</li><li>y</li></ul>", "A & B\n\nOne\ntwo\n\n- x\n- y"),
        ("<p>a<script>alert(1)</script><style>p{}</style>b</p>", "ab"),
        ('<p>See <a href="https://x.org/?a=1&amp;b=2" title="a>b">site</a>.</p>', "See site."),
        ("<!-- note --><p>kept</p>", "kept"),
        ("plain   text\r\n\r\n\r\nnext", "plain text\n\nnext"),
        ("a < b &eacute;", "a < b é"),
        ("   ", None),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


def test_html_fast_path_matches_the_parser():
    samples = [
        "<p>One</p><p>Two <b>bold</b> &amp; <i>it</i></p>",
        "<div><table><tr><td>1</td><td>2</td></tr></table></div>",
        '<p>x<br/>y<br />z</p><a href="u">link</a>',
        "<P CLASS='a'>Upper &lt;tag&gt;</P>",
        "<pre>x</pre><b>y</b><header>h</header><TD>1</TD><th>2</th>",
        '<section data-x="1 > 0"><p>kept</p></section>',
        "<p>unclosed <p",
        "<p>x</p><script type='t'>drop()</script><p>y</p>",
    ]
    for sample in samples:
        parser = _TextExtractor()
        parser.feed(sample)
        parser.close()
        assert html_to_text(sample) == (_tidy("".join(parser.parts)) or None), sample


def test_markdown_notes():
    assert html_to_text("# Title\r\n\r\nSee [the site](https://x.org) **now**", markdown=True) == (
        "Title\n\nSee the site (https://x.org) now"
    )


# -- fitting every source to the profile -------------------------------------------------------------


def test_fit_to_profile_says_what_it_did_and_invents_no_subject(vocabularies, tmp_path):
    ttl = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://data.example.org/a> a dcat:Dataset ; dct:title "Bus stops"@en ;
  dcat:theme <http://publications.europa.eu/resource/authority/data-theme/TRAN> ;
  dcat:distribution <https://data.example.org/a/nowhere> .
<https://data.example.org/a/nowhere> a dcat:Distribution ; dct:title "No URL at all"@en .
<https://data.example.org/b> a dcat:Dataset ; dct:title "Mystery"@en ; dct:description "Something."@en ."""
    loader = DcatRdfLoader(vocabularies)
    records = {r.title: r for r in loader.read_all(write(tmp_path, "fit.ttl", ttl))}
    bus, mystery = records["Bus stops"], records["Mystery"]
    assert bus.themes == ["transport"]  # the London theme that is an exact match of EU TRAN
    assert mystery.themes == ["unclassified"]  # no subject given: not guessed
    assert bus.description == "The source of this dataset gives no description."
    assert (bus.assumed, mystery.assumed) == (
        ["dct:accessRights", "dct:description"],
        ["dct:accessRights", "dcat:theme"],
    )
    assert mystery.description == "Something."
    [nowhere] = bus.distributions  # kept: its title is the source's; the dataset's page stands in, marked
    assert (nowhere.title, nowhere.access_url, nowhere.assumed) == ("No URL at all", None, ["dcat:accessURL"])
    reported = {(p.record.rsplit("/", 1)[-1], p.field) for p in loader.problems}
    assert {("a", "description"), ("a", "distribution[nowhere]"), ("b", "theme")} <= reported
    assert ("a", "theme") not in reported
    quads = write_quads(vocabularies, [bus, mystery])
    dist = next(q.object for q in quads if q.predicate == DCAT.distribution)
    assert [q.object for q in quads if q.subject == dist and q.predicate == DCAT.accessURL] == [
        NamedNode(vocabularies.uris.dataset(bus.slug))
    ]
    assumed = {(q.subject, q.object) for q in quads if q.predicate.value.endswith("#assumed")}
    assert assumed == {
        (NamedNode(vocabularies.uris.dataset(bus.slug)), DCT.accessRights),
        (NamedNode(vocabularies.uris.dataset(bus.slug)), DCT.description),
        (dist, DCAT.accessURL),
        (NamedNode(vocabularies.uris.dataset(mystery.slug)), DCT.accessRights),
        (NamedNode(vocabularies.uris.dataset(mystery.slug)), DCAT.theme),  # Unclassified: ours, and said so
    }


# -- the item-level API ---------------------------------------------------------------------------------


def test_records_from_gives_one_result_per_item_in_order_with_reasons(vocabularies):
    loader = CkanLoader(vocabularies)
    items = [
        {"name": "a", "title": "A", "notes": "first"},
        "not a package",
        {"name": "gone", "title": "Gone", "state": "deleted"},
        {"name": "a", "title": "A again"},
        {"name": "b", "title": "B", "resources": [{"id": "r", "url": "https://example.org/b.csv"}]},
    ]
    results = list(loader.records_from(items))
    assert [type(r).__name__ for r in results] == [
        "DatasetRecord",
        "Rejection",
        "Rejection",
        "Rejection",
        "DatasetRecord",
    ]
    assert [r.record for r in results if isinstance(r, Rejection)] == ["#1", "gone", "a"]
    assert [p.field for r in results if isinstance(r, Rejection) for p in r.problems] == ["package", "state", "name"]
    assert all(p in loader.problems for r in results if isinstance(r, Rejection) for p in r.problems)
    assert loader.counts == {"items": 5, "records": 2, "rejected": 3, "distributions_read": 1, "distributions_kept": 1}


def test_map_maps_one_item_and_never_raises_for_bad_content(vocabularies):
    loader = DataPressLoader(vocabularies)
    record = loader.map(datapress_dataset())
    assert isinstance(record, DatasetRecord) and record.id == "abc12"
    rejection = loader.map({"title": "no id", "webpage": 42})
    assert isinstance(rejection, Rejection) and rejection.problems
    assert isinstance(loader.map(["a", "list"]), Rejection)


def test_dcat_items_are_the_datasets_of_the_parsed_graph(vocabularies):
    loader = DcatRdfLoader(vocabularies)
    items = list(loader.items(GSS))
    results = list(loader.records_from(items))
    assert len(results) == len(items) == loader.counts["items"]
    assert all(isinstance(r, DatasetRecord) for r in results)
    assert [r.original_iri for r in results] == [item.node.value for item in items]


def test_a_known_licence_given_as_html_is_mapped(vocabularies):
    assert licence_iri("<p>Open Government Licence v3</p>") == EU_LICENCE + "OGL_3_0"
    cc = '<a href="https://example.org/terms">Creative Commons Attribution 4.0</a>'
    assert licence_iri(cc) == EU_LICENCE + "CC_BY_4_0"  # the text, not the link's target
    loader = CkanLoader(vocabularies)
    html = {"license_url": "", "license_id": "", "license_title": "<p>Open Government Licence v3</p>"}
    assert loader.map(ckan_package(**html)).licence == EU_LICENCE + "OGL_3_0"
    assert loader.map(ckan_package(license_id="<p>Not specified</p>", license_title="", license_url="")).licence is None
    assert [p for p in loader.problems if p.field == "license_id"] == []  # none given: nothing to say
    assert DataPressLoader(vocabularies).map(datapress_dataset(licence="<p><b>OGL</b></p>")).licence == (
        EU_LICENCE + "OGL_3_0"
    )


def test_a_licence_given_as_html_is_reported_by_its_text(vocabularies):
    loader = DataPressLoader(vocabularies)
    html = '<p>See <a href="https://example.org/terms">Our Own Terms of Use</a></p>'
    record = loader.map(datapress_dataset(licence={"title": html}))
    assert isinstance(record, DatasetRecord) and record.licence is None
    [problem] = [p for p in loader.problems if p.field == "licence"]
    assert (problem.what, problem.value) == ("unknown licence", "See Our Own Terms of Use")


def test_every_loader_says_where_each_record_came_from(vocabularies, tmp_path):
    """source_url: the URL of the source's own metadata record (the write pipeline's catalogue record)."""
    [birmingham, *_] = CkanLoader(vocabularies).read_all(BIRMINGHAM)
    assert birmingham.source_url == (
        f"https://data.birmingham.gov.uk/api/3/action/package_show?id={birmingham.id}"  # from its uploads' site
    )
    [datapress] = DataPressLoader(vocabularies).read_all(DATAPRESS_EXPORT)
    assert datapress.source_url == "https://data.london.gov.uk/api/dataset/2xxx0"
    [given] = DataPressLoader(vocabularies, origin="https://datastore.example/").read_all(DATAPRESS_EXPORT)
    assert given.source_url == "https://datastore.example/api/dataset/2xxx0"
    gss = DcatRdfLoader(vocabularies).read_all(GSS)
    assert all(r.source_url == r.original_iri for r in gss if r.original_iri)
    datajson = write(
        tmp_path, "data.json", json.dumps({"dataset": [{"identifier": "https://x.example/d/1", "title": "T"}]})
    )
    [record] = loader_class("datajson")(vocabularies).read_all(datajson)
    assert record.source_url == "https://x.example/d/1"
