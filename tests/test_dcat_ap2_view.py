"""The DCAT-AP 2.1.1 view: harvesters that still speak DCAT-AP 2 ask for it by profile and accept every record.

A real server over the default London catalogue (whose issue dates are months, xsd:gYearMonth) and a
generated DataPress export (checksums, byte sizes); the view of every dataset document and of the /catalog
feed validates against the official DCAT-AP 2.1.1 shapes shipped in ontology/shapes/dcat-ap-2.1.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
import requests
from conftest import dfl, free_port, live_server, load_default
from pyoxigraph import Literal, NamedNode, Triple

from dfl_graph.dcat_ap2 import PROFILE, to_dcat_ap_2, wants_dcat_ap_2
from dfl_graph.namespaces import DCAT, DCT, SPDX, XSD
from dfl_graph.validation import validate_graph

SHAPES = Path(__file__).resolve().parent.parent / "ontology" / "shapes" / "dcat-ap-2.1.1"
D = NamedNode("http://x.test/d")


def test_the_view_changes_only_what_dcat_ap_2_reads_differently() -> None:
    checksum, other = NamedNode("http://x.test/d#c1"), NamedNode("http://x.test/d#c2")
    triples = [
        Triple(D, DCT.issued, Literal("2010-02", datatype=XSD.gYearMonth)),
        Triple(D, DCAT.endDate, Literal("2012-02", datatype=XSD.gYearMonth)),
        Triple(D, DCAT.startDate, Literal("2011", datatype=XSD.gYear)),
        Triple(D, DCAT.byteSize, Literal("12", datatype=XSD.nonNegativeInteger)),
        Triple(D, SPDX.checksum, checksum),
        Triple(checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha1),
        Triple(D, SPDX.checksum, other),
        Triple(other, SPDX.algorithm, SPDX.checksumAlgorithm_md5),
        Triple(D, DCT.title, Literal("kept", language="en")),
    ]
    view = set(to_dcat_ap_2(triples))
    assert Triple(D, DCT.issued, Literal("2010-02-01", datatype=XSD.date)) in view
    assert Triple(D, DCAT.endDate, Literal("2012-02-29", datatype=XSD.date)) in view  # a leap year's last day
    assert Triple(D, DCAT.startDate, Literal("2011-01-01", datatype=XSD.date)) in view
    assert Triple(D, DCAT.byteSize, Literal("12", datatype=XSD.decimal)) in view
    assert Triple(D, SPDX.checksum, checksum) in view and not any(other in (t.subject, t.object) for t in view)
    assert Triple(D, DCT.title, Literal("kept", language="en")) in view


def test_the_profile_is_asked_by_token_iri_or_accept_profile() -> None:
    assert wants_dcat_ap_2("dcat-ap-2", None) and wants_dcat_ap_2(f"<{PROFILE}>", None)
    assert wants_dcat_ap_2(None, f"<{PROFILE}>")
    assert wants_dcat_ap_2(None, f"<http://data.europa.eu/r5r/3.0.1>;q=0.5, <{PROFILE}>;q=0.9")
    assert not wants_dcat_ap_2(None, f"<http://data.europa.eu/r5r/3.0.1>, <{PROFILE}>;q=0.5")
    assert not wants_dcat_ap_2(None, None) and not wants_dcat_ap_2("dcat-ap-3", f"<{PROFILE}>")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ap2")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = root / "catalogue"
    load_default(data_dir, base)
    export = root / "generated.json"
    dfl("generate", "40", str(export), "--seed", "3")
    dfl("--base", base, "load", "datapress", str(export), "--source", "generated", "--store", str(data_dir))
    with live_server(data_dir, port) as live:
        yield live


def fetch(url: str, **headers) -> tuple[rdflib.Graph, requests.Response]:
    response = requests.get(url, headers={"Accept": "text/turtle", **headers}, timeout=60)
    assert response.status_code == 200, (url, response.status_code)
    return rdflib.Graph().parse(data=response.text, format="turtle"), response


def test_every_record_in_the_dcat_ap_2_view_validates(server) -> None:
    feed, response = fetch(f"{server.url}/catalog?profile=dcat-ap-2")
    assert response.headers["Content-Profile"] == f"<{PROFILE}>"
    datasets = sorted({str(o) for o in feed.objects(None, rdflib.URIRef(DCAT.dataset.value))})[:60]
    assert len(datasets) >= 40
    graph = rdflib.Graph()
    graph += feed
    for iri in datasets:
        document, response = fetch(iri, **{"Accept-Profile": f"<{PROFILE}>"})
        assert "Accept-Profile" in response.headers["Vary"]
        graph += document
    months = [o for o in graph.objects(None, rdflib.URIRef(DCT.issued.value)) if o.datatype == rdflib.XSD.gYearMonth]
    assert months == []
    report = validate_graph(graph, SHAPES, server.url)
    assert [str(f) for f in report.findings if f.severity == "Violation"] == []
    # the same feed without the profile is DCAT-AP 3: the 2010 listing's months stay months
    plain, response = fetch(f"{server.url}/catalog")
    assert response.headers["Content-Profile"] == "<http://data.europa.eu/r5r/3.0.1>"
    issued = list(plain.objects(None, rdflib.URIRef(DCT.issued.value)))
    assert any(o.datatype == rdflib.XSD.gYearMonth for o in issued)
