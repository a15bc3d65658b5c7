"""Regenerate the derived vocabulary files in ``ontology/`` from the reference data they come from.

Writes ``boroughs.ttl``, ``publishers.ttl`` and ``eu-vocabularies.ttl``. The inputs are the
read-only reference copies under ``shared/data`` (the London borough registers of digital-land and
the EU Publications Office authority lists); the catalogue itself never reads them at run time.
Our own resources are written as relative IRIs (``<borough/E09000007>``), resolved against the
catalogue base when the files are loaded.

    python ontology/tools/build_vocabularies.py [--shared ../shared] [--out ontology]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from borough_geometry import Geometry, london_geometries
from pyoxigraph import NamedNode, RdfFormat, Store

from loaders.licences import LICENCE_CODES

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent
DEFAULT_SHARED = HERE.parent.parent.parent / "shared"

EU = "http://publications.europa.eu/resource/authority/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DC11 = "http://purl.org/dc/elements/1.1/"
EUVOC = "http://publications.europa.eu/ontology/euvoc#"
OGL3 = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
ONS = "http://statistics.data.gov.uk/id/statistical-geography/"
WIKIDATA = "http://www.wikidata.org/entity/"

PREFIXES = """\
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# File types: the whole EU file-type list (loaders accept any of its codes). English labels come from the
# NAL copies shipped in shared/; codes without one there get the label given here, or their
# code.
FILE_TYPE_FALLBACK_LABELS = {
    "GPKG": "GeoPackage",
    "GTFS": "GTFS",
    "GEOTIFF": "GeoTIFF",
    "WMS_SRVC": "WMS service",
    "WFS_SRVC": "WFS service",
    "WCS_SRVC": "WCS service",
    "N3": "Notation3",
    "XLSM": "Excel XLSM",
    "XLSB": "Excel XLSB",
    "ODP": "ODP",
    "ICS": "iCalendar",
    "JS": "JavaScript",
    "RDF_THRIFT": "RDF Thrift",
    "RDF_TRIX": "RDF TriX",
    "MIF_MID": "MapInfo MIF/MID",
    "ARCINFO_COV": "ArcInfo coverage",
}

# IANA media types (registered ones only) for dcat:mediaType. The application/* ones are checked against
# the IANA registry extract in shared/ (which lacks a few, listed in NOT_IN_EXTRACT); text/* and image/*
# are long-standing registrations.
MEDIA_TYPES = words(
    "text/csv text/tab-separated-values text/html text/plain text/turtle text/n3 text/xml text/rtf "
    "application/json application/geo+json application/xml application/xhtml+xml application/pdf "
    "application/rtf application/zip application/gzip application/octet-stream application/vnd.ms-excel "
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet "
    "application/vnd.oasis.opendocument.spreadsheet application/vnd.oasis.opendocument.text "
    "application/msword application/vnd.openxmlformats-officedocument.wordprocessingml.document "
    "application/vnd.ms-powerpoint "
    "application/vnd.openxmlformats-officedocument.presentationml.presentation "
    "application/vnd.google-earth.kml+xml application/vnd.google-earth.kmz application/gml+xml "
    "application/geopackage+sqlite3 application/rdf+xml application/ld+json application/n-triples "
    "application/n-quads application/trig application/sparql-query application/sparql-results+json "
    "application/sparql-results+xml application/atom+xml image/png image/jpeg image/gif image/svg+xml "
    "image/tiff image/bmp application/vnd.ms-excel.sheet.macroEnabled.12 "
    "application/vnd.ms-excel.sheet.binary.macroEnabled.12 application/vnd.oasis.opendocument.presentation "
    "application/vnd.rar application/vnd.shp application/vnd.dbf application/sql application/yaml "
    "application/epub+zip text/calendar text/javascript text/css audio/mpeg video/mp4"
)

# Registered, but newer than (or missing from) the extract: SPARQL 1.1 JSON results (W3C), YAML (RFC 9512).
NOT_IN_EXTRACT = {"application/sparql-results+json", "application/yaml"}

ACCESS_RIGHTS = ("PUBLIC", "RESTRICTED", "NON_PUBLIC")
# Licences: every code the loaders can map a licence to (loaders.licences.LICENCE_CODES), so no licence IRI
# they mint is left without a label.
LICENCES = tuple(sorted(LICENCE_CODES))
CHECKSUM_ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
THEMES = words("AGRI ECON EDUC ENER ENVI GOVE HEAL INTR JUST REGI SOCI TECH TRAN")

# Organisations beyond the 33 councils: id, name, alternative names, ADMS publisher type, homepage,
# spatial coverage, identity links. Where shared/ has the organisation (digital-land organisation.csv),
# its homepage and Wikidata id are taken from there; the others are written from the bodies' own sites.
ORGANISATIONS = (
    {
        "id": "gla",
        "name": "Greater London Authority",
        "alt": (
            "GLA",
            "Mayor of London",
            "The Greater London Authority",
            "Mayor of London and London Assembly",
            "City Hall",
        ),
        "type": "RegionalAuthority",
        "register": "local-authority-eng:GLA",
        "spatial": ONS + "E12000007",
        "description": "The strategic regional authority for Greater London: the Mayor of London and the London "
        "Assembly. Runs the London Datastore.",
    },
    {
        "id": "tfl",
        "name": "Transport for London",
        "alt": ("TfL",),
        "type": "RegionalAuthority",
        "register": "transport-authority:Q682520",
        "spatial": ONS + "E12000007",
        "description": "The integrated transport authority for London, a functional body of the GLA.",
    },
    {
        "id": "met-police",
        "name": "Metropolitan Police Service",
        "alt": ("Metropolitan Police", "Met Police", "MPS", "The Met"),
        "type": "RegionalAuthority",
        "homepage": "https://www.met.police.uk/",
        "spatial": ONS + "E12000007",
        "description": "The police force for Greater London outside the City of London.",
    },
    {
        "id": "lfb",
        "name": "London Fire Brigade",
        "alt": (
            "LFB",
            "London Fire Commissioner",
            "London Fire and Emergency Planning Authority",
            "LFEPA",
            "London Fire",
        ),
        "type": "RegionalAuthority",
        "homepage": "https://www.london-fire.gov.uk/",
        "spatial": ONS + "E12000007",
        "description": "The fire and rescue service for Greater London (London Fire Commissioner; before 2018 "
        "the London Fire and Emergency Planning Authority).",
    },
    {
        "id": "london-councils",
        "name": "London Councils",
        "alt": (),
        "type": "LocalAuthority",
        "homepage": "https://www.londoncouncils.gov.uk/",
        "spatial": ONS + "E12000007",
        "description": "The cross-party organisation that represents London's 32 borough councils and the "
        "City of London.",
    },
    {
        "id": "nhs-london",
        "name": "NHS London",
        "alt": ("NHS England London", "NHS England (London region)", "NHS England - London"),
        "type": "RegionalAuthority",
        "homepage": "https://www.england.nhs.uk/london/",
        "spatial": ONS + "E12000007",
        "description": "The NHS in London: the London strategic health authority until 2013, since then the "
        "London region of NHS England.",
    },
    {
        "id": "opdc",
        "name": "Old Oak and Park Royal Development Corporation",
        "alt": ("OPDC",),
        "type": "RegionalAuthority",
        "register": "development-corporation:Q20648596",
        "description": "The Mayoral development corporation for the Old Oak and Park Royal regeneration area.",
    },
    {
        "id": "mopac",
        "name": "Mayor's Office for Policing and Crime",
        "alt": ("MOPAC",),
        "type": "RegionalAuthority",
        "spatial": ONS + "E12000007",
        "description": "The GLA body through which the Mayor of London oversees policing in London.",
    },
    {
        "id": "lldc",
        "name": "London Legacy Development Corporation",
        "alt": ("LLDC", "London Legacy"),
        "type": "RegionalAuthority",
        "register": "development-corporation:Q6670544",
        "homepage": "https://www.queenelizabetholympicpark.co.uk/",
        "description": "The Mayoral development corporation for the Queen Elizabeth Olympic Park and its "
        "surroundings, the legacy of the London 2012 Games.",
    },
    {
        "id": "ons",
        "name": "Office for National Statistics",
        "alt": ("ONS",),
        "type": "NationalAuthority",
        "register": "government-organisation:D303",
        "description": "The UK's national statistical institute.",
    },
    {
        "id": "dwp",
        "name": "Department for Work and Pensions",
        "alt": ("DWP",),
        "type": "NationalAuthority",
        "homepage": "https://www.gov.uk/government/organisations/department-for-work-pensions",
        "description": "The UK government department for welfare, pensions and child maintenance.",
    },
    {
        "id": "dfe",
        "name": "Department for Education",
        "alt": ("DfE",),
        "type": "NationalAuthority",
        "homepage": "https://www.gov.uk/government/organisations/department-for-education",
        "description": "The UK government department for children's services and education in England.",
    },
    {
        "id": "ohid",
        "name": "Office for Health Improvement and Disparities",
        "alt": ("OHID",),
        "type": "NationalAuthority",
        "homepage": "https://www.gov.uk/government/organisations/office-for-health-improvement-and-disparities",
        "description": "The part of the Department of Health and Social Care that publishes public health "
        "data for England (formerly Public Health England).",
    },
    {
        "id": "environment-agency",
        "name": "Environment Agency",
        "alt": ("EA",),
        "type": "NationalAuthority",
        "register": "government-organisation:EA199",
        "description": "The public body for the environment in England: flooding, water, pollution and waste.",
    },
)

# Short place names in everyday use, as extra labels.
SHORT_PLACE_NAMES = {"E09000021": ("Kingston",), "E09000027": ("Richmond",)}
# The acronyms and other names councils go by (on their own sites and in their data), as extra labels of the
# council: searches for "RBKC" or "H&F" find its datasets. Only names that are no other council's.
COUNCIL_NAMES = {
    "E09000001": ("The City", "Square Mile"),
    "E09000002": ("LBBD",),
    "E09000011": ("Royal Greenwich", "RBG"),
    "E09000013": ("LBHF", "H&F"),
    "E09000020": ("RBKC",),
    "E09000021": ("RBK",),
    "E09000027": ("LBRuT",),
    "E09000030": ("LBTH",),
    "E09000031": ("LBWF",),
    "E09000033": ("WCC",),
}


def typed(value: str, datatype: str) -> str:
    """A Turtle literal with a datatype."""
    return lit(value, None) + f"^^{iri(datatype)}"


def lit(value: str, lang: str | None = "en") -> str:
    """A Turtle string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"' + (f"@{lang}" if lang else "")


def iri(value: str) -> str:
    if re.search(r'[\s<>"{}|^`\\]', value):
        raise ValueError(f"not an IRI: {value!r}")
    return f"<{value}>"


def block(subject: str, props: Iterable[tuple[str, Iterable[str]]]) -> str:
    """One Turtle subject block; properties with no values are left out."""
    lines = []
    for predicate, values in props:
        values = list(values)
        if values:
            lines.append(f"    {predicate} {', '.join(values)}")
    return f"{subject}\n" + " ;\n".join(lines) + " .\n"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# -- London: boroughs and publishers -------------------------------------------------------------------


def read_boroughs(shared: Path) -> list[dict[str, str]]:
    path = shared / "data/london-boroughs/london-boroughs-33.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if [r["gss_code"] for r in rows] != [f"E09{n:06d}" for n in range(1, 34)]:
        raise SystemExit(f"{path}: expected the 33 rows E09000001..E09000033 in order")
    for row in rows:
        # "Barking and Dagenham E09000002" -> "Barking and Dagenham"
        place = row["ons_admingeo_name"].removesuffix(row["gss_code"]).strip()
        if not place:
            raise SystemExit(f"{path}: no place name for {row['gss_code']}")
        row["place"] = place
        row["publisher_id"] = slugify(place)
    places = read_place_items()
    for row in rows:
        row["place_wikidata"] = places[row["gss_code"]]
    return rows


def read_place_items() -> dict[str, str]:
    """GSS code -> the Wikidata item of the borough area (not its council's: see sources/SOURCE.md)."""
    path = HERE / "sources/borough-wikidata.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        items = {row["gss_code"]: row["wikidata"] for row in csv.DictReader(handle)}
    if sorted(items) != [f"E09{n:06d}" for n in range(1, 34)] or not all(
        re.fullmatch(r"Q\d+", q) for q in items.values()
    ):
        raise SystemExit(f"{path}: expected one Wikidata item (Q...) for each of E09000001..E09000033")
    return items


def read_organisations(shared: Path) -> dict[str, dict[str, str]]:
    path = shared / "data/london-boroughs/upstream/collection/organisation.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["organisation"]: row for row in csv.DictReader(handle)}


def place_variants(place: str) -> list[str]:
    """ "Hammersmith and Fulham" also as "Hammersmith & Fulham"."""
    variants = [place]
    if " and " in place:
        variants.append(place.replace(" and ", " & "))
    return variants


def council_labels(row: dict[str, str]) -> list[str]:
    place, name = row["place"], row["name"]
    labels = [*place_variants(place), *SHORT_PLACE_NAMES.get(row["gss_code"], ())]
    if "&" in name:
        labels.append(name.replace("&", "and"))
    if row["gss_code"] == "E09000001":
        labels += ["Corporation of London", "City of London Council"]
    elif row["gss_code"] == "E09000033":
        labels += ["Westminster City Council"]
    else:
        labels += [f"{v} Council" for v in place_variants(place)]
        if name.startswith("Royal Borough of"):
            labels.append(f"RB {place}")
        else:
            labels.append(f"LB {place}")
    labels += COUNCIL_NAMES.get(row["gss_code"], ())
    seen = {name.lower()}
    unique = []
    for label in labels:
        if label.lower() not in seen:
            seen.add(label.lower())
            unique.append(label)
    return unique


GEO_PREFIXES = """\
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
@prefix locn: <http://www.w3.org/ns/locn#> .
"""


def wkt(value: str) -> str:
    return f'"{value}"^^geo:wktLiteral'


def geometry_props(shape_iri: str, geometry: Geometry) -> list[tuple[str, list[str]]]:
    """A place's bounding box and centroid (DCAT 3), and its shape as a ``locn:Geometry`` node (DCAT-AP's range of
    ``locn:geometry``) that is also a GeoSPARQL geometry (``geo:hasGeometry`` / ``geo:asWKT``)."""
    shape = [shape_iri] if geometry.shape else []
    return [
        ("dcat:bbox", [wkt(geometry.bbox)]),
        ("dcat:centroid", [wkt(geometry.centroid)]),
        ("locn:geometry", shape),
        ("geo:hasGeometry", shape),
    ]


def shape_block(shape_iri: str, geometry: Geometry) -> str:
    return block(shape_iri, [("a", ["locn:Geometry", "geo:Geometry"]), ("geo:asWKT", [wkt(geometry.shape or "")])])


def boroughs_ttl(rows: list[dict[str, str]]) -> str:
    geometries, london = london_geometries({r["gss_code"]: r["place"] for r in rows})
    london_iri = iri(ONS + "E12000007")
    out = [
        "# London's 33 local authority areas (32 boroughs and the City of London), identified by GSS code.\n"
        "# GENERATED by ontology/tools/build_vocabularies.py from shared/data/london-boroughs/london-boroughs-33.csv\n"
        "# (digital-land/organisation-dataset @ 0e22143, (c) Crown copyright, Open Government Licence v3.0),\n"
        "# the areas' Wikidata items from tools/sources/borough-wikidata.csv (Wikidata, CC0 1.0),\n"
        "# geometries by ontology/tools/borough_geometry.py from tools/sources/londonBoroughs.json (ONS / OS\n"
        "# boundaries via the London Datastore, Open Government Licence v3.0). WKT in CRS84 (longitude latitude),\n"
        "# GeoSPARQL's default CRS, written without a CRS IRI. Do not edit by hand. Relative IRIs resolve against\n"
        "# the catalogue base.\n",
        PREFIXES + GEO_PREFIXES,
        block(
            "<boroughs>",
            [
                ("a", ["skos:ConceptScheme"]),
                ("dct:title", [lit("London boroughs")]),
                ("skos:prefLabel", [lit("London boroughs")]),
                (
                    "dct:description",
                    [
                        lit(
                            "The 32 London boroughs and the City of London: the local authority areas of Greater "
                            "London, identified by their ONS GSS codes E09000001 to E09000033."
                        )
                    ],
                ),
                ("dct:source", [iri("https://github.com/digital-land/organisation-dataset")]),
                ("dct:license", [iri(OGL3)]),
                ("dct:spatial", [iri(ONS + "E12000007")]),
                ("skos:hasTopConcept", [f"<borough/{r['gss_code']}>" for r in rows]),
            ],
        ),
    ]
    for row in rows:
        gss = row["gss_code"]
        out.append(
            block(
                f"<borough/{gss}>",
                [
                    ("a", ["skos:Concept", "dct:Location"]),
                    ("skos:prefLabel", [lit(row["place"])]),
                    (
                        "skos:altLabel",
                        [lit(v) for v in [*place_variants(row["place"])[1:], *SHORT_PLACE_NAMES.get(gss, ())]]
                        + [lit(row["name"])],
                    ),
                    ("skos:notation", [lit(gss, None)]),
                    ("skos:inScheme", ["<boroughs>"]),
                    ("skos:topConceptOf", ["<boroughs>"]),
                    (
                        "owl:sameAs",
                        [iri(ONS + gss), iri(row["opendatacommunities_area"]), iri(WIKIDATA + row["place_wikidata"])],
                    ),
                    ("rdfs:seeAlso", [iri(row["website"])]),
                    *geometry_props(f"<borough/{gss}#geometry>", geometries[gss]),
                ],
            )
        )
        out.append(shape_block(f"<borough/{gss}#geometry>", geometries[gss]))
    out.append("# London (the region described in catalog.ttl): its extent, from the 33 boroughs.\n")
    out.append(block(london_iri, geometry_props("<boroughs#london-geometry>", london)))
    out.append(shape_block("<boroughs#london-geometry>", london))
    return "\n".join(out)


def publishers_ttl(rows: list[dict[str, str]], organisations: dict[str, dict[str, str]]) -> str:
    out = [
        "# Organisations that publish London data: the GLA group, London-wide bodies and the 33 councils.\n"
        "# GENERATED by ontology/tools/build_vocabularies.py. Council names, websites, Wikidata ids and\n"
        "# opendatacommunities URIs come from digital-land/organisation-dataset @ 0e22143 ((c) Crown copyright,\n"
        "# Open Government Licence v3.0); the London-wide bodies are listed in the script. Do not edit by hand.\n",
        PREFIXES,
        block(
            "<publishers>",
            [
                ("a", ["skos:ConceptScheme"]),
                ("dct:title", [lit("Publishers of London data")]),
                ("skos:prefLabel", [lit("Publishers of London data")]),
                (
                    "dct:description",
                    [
                        lit(
                            "The organisations whose datasets the catalogue lists: the Greater London Authority "
                            "and its functional bodies, London-wide public services, national bodies that publish "
                            "London data, and the 33 London local authorities."
                        )
                    ],
                ),
            ],
        ),
    ]
    for org in ORGANISATIONS:
        registered = organisations.get(org.get("register", ""), {})
        if org.get("register") and not registered:
            raise SystemExit(f"organisation {org['register']} not in organisation.csv")
        homepage = org.get("homepage") or registered.get("website")
        same_as = [iri(WIKIDATA + registered["wikidata"])] if registered.get("wikidata") else []
        if registered.get("opendatacommunities"):
            same_as.append(iri(registered["opendatacommunities"]))
        out.append(
            block(
                f"<publisher/{org['id']}>",
                [
                    ("a", ["foaf:Organization", "foaf:Agent"]),
                    ("foaf:name", [lit(org["name"])]),
                    ("skos:altLabel", [lit(a) for a in org["alt"]]),
                    ("dct:description", [lit(org["description"])]),
                    ("skos:inScheme", ["<publishers>"]),
                    ("skos:notation", [lit(org["id"], None)]),
                    ("dct:type", [iri("http://purl.org/adms/publishertype/" + org["type"])]),
                    ("foaf:homepage", [iri(homepage)] if homepage else []),
                    ("dct:spatial", [iri(org["spatial"])] if org.get("spatial") else []),
                    ("owl:sameAs", same_as),
                ],
            )
        )
    for row in rows:
        out.append(
            block(
                f"<publisher/{row['publisher_id']}>",
                [
                    ("a", ["foaf:Organization", "foaf:Agent"]),
                    ("foaf:name", [lit(row["name"])]),
                    ("skos:altLabel", [lit(a) for a in council_labels(row)]),
                    ("skos:inScheme", ["<publishers>"]),
                    ("skos:notation", [lit(row["publisher_id"], None)]),
                    ("dct:type", [iri("http://purl.org/adms/publishertype/LocalAuthority")]),
                    ("foaf:homepage", [iri(row["website"])]),
                    ("dct:spatial", [f"<borough/{row['gss_code']}>"]),
                    ("owl:sameAs", [iri(WIKIDATA + row["wikidata"]), iri(row["opendatacommunities"])]),
                    ("rdfs:seeAlso", [iri(row["wikipedia"])] if row.get("wikipedia") else []),
                ],
            )
        )
    # Homepages are typed as DCAT-AP's range for foaf:homepage requires.
    homepages = sorted(
        {o.get("homepage") or organisations.get(o.get("register", ""), {}).get("website") for o in ORGANISATIONS}
        - {None, ""}
        | {r["website"] for r in rows}
    )
    out.append("# foaf:homepage values are foaf:Document (DCAT-AP 3 range).\n")
    out.extend(f"{iri(h)} a foaf:Document .\n" for h in homepages)
    return "\n".join(out)


# -- EU authority lists ---------------------------------------------------------------------------------


def load(store: Store, path: Path, graph: str) -> None:
    fmt = RdfFormat.RDF_XML if path.suffix == ".rdf" else RdfFormat.TURTLE
    store.load(path=str(path), format=fmt, to_graph=NamedNode("urn:src:" + graph))


def english_labels(store: Store, concept: str) -> list[str]:
    rows = store.query(
        f"SELECT DISTINCT ?l WHERE {{ GRAPH ?g {{ <{concept}> <{SKOS}prefLabel> ?l "
        "FILTER(langMatches(lang(?l), 'en')) } }"
    )
    return sorted({row["l"].value for row in rows})


def one_label(store: Store, concept: str, fallback: str | None = None) -> str:
    labels = english_labels(store, concept)
    if labels:
        return labels[0]
    if fallback is None:
        raise SystemExit(f"no English label for {concept}")
    return fallback


def iso_639_1_languages() -> list[dict[str, str]]:
    """The ISO 639-2 languages that have an ISO 639-1 code (Debian iso-codes' iso_639-2.json, shipped in sources/)."""
    entries = json.loads((HERE / "sources" / "iso_639-2.json").read_text(encoding="utf-8"))["639-2"]
    return sorted((e for e in entries if "alpha_2" in e), key=lambda e: e["alpha_3"])


def exists(store: Store, concept: str) -> bool:
    return bool(store.query(f"ASK {{ GRAPH ?g {{ <{concept}> ?p ?o }} }}"))


def eu_vocabularies_ttl(shared: Path) -> str:
    root = shared / "data/eu-vocabularies"
    head = root / "fdk-reference-data/head"
    store = Store()
    load(store, head / "data-theme-sparql-result.ttl", "data-theme")
    load(store, head / "access-right-sparql-result.ttl", "access-right")
    load(store, head / "frequencies-sparql-result.ttl", "frequency")
    load(store, head / "filetypes-sparql-result.ttl", "file-type-head")
    load(store, root / "berlinonline-mdr-nal/reference/mdr-nal/filetypes-skos-ap-act.ttl", "file-type-2017")
    load(store, root / "semiceu-dcat-ap_shacl-resources/resources/filetypes-skos-ap-act.rdf", "file-type-semic")
    load(store, root / "fdk-reference-data/history/filetypes-skos-ap-act.rdf", "file-type-2022")
    load(store, head / "language-sparql-result.ttl", "language")
    load(store, head / "licences-sparql-result.ttl", "licence")
    load(store, root / "semiceu-dcat-ap_shacl-resources/resources/ADMS_SKOS_v1.00.rdf", "adms")
    iana = (head / "media-types.ttl").read_text(encoding="utf-8")

    out = [
        "# The EU Publications Office authority-list concepts (and IANA media types) the catalogue uses,\n"
        "# typed with the classes DCAT-AP 3.0.1 expects as ranges.\n"
        "# GENERATED by ontology/tools/build_vocabularies.py from shared/data/eu-vocabularies (see its SOURCE.txt):\n"
        "#   data themes, access rights, frequencies, languages, licences: EU vocabularies SPARQL extracts\n"
        "#     (Informasjonsforvaltning/fdk-reference-data @ 55830c3; NAL versions access-right 20220316-0,\n"
        "#     frequency 20220615-0, licence 20241211-0, language 20160921-0)\n"
        "#   file types: all codes of NAL file-type 20220928-0 (fdk-reference-data); English labels from the NAL\n"
        "#     copies (SEMICeu/dcat-ap_shacl, berlinonline/ckanext-dcatde_berlin, fdk-reference-data history);\n"
        "#     codes without an English label there get ours, marked 'label: ours'\n"
        "#   publisher types: ADMS controlled vocabulary v1.00 (SEMICeu/dcat-ap_shacl resources)\n"
        "#   dataset status: EU 'Dataset status' NAL (not in shared/; concept written from the published list)\n"
        "#   checksum algorithms: SPDX 2.3 RDF vocabulary individuals (http://spdx.org/rdf/terms#)\n"
        "# Content (c) European Union, reused under the Commission's reuse policy (CC BY 4.0). Do not edit by hand.\n",
        PREFIXES,
    ]

    def scheme(name: str, title: str, version: str | None = None) -> str:
        return block(
            iri(EU + name),
            [
                ("a", ["skos:ConceptScheme"]),
                ("dct:title", [lit(title)]),
                ("skos:prefLabel", [lit(title)]),
                ("owl:versionInfo", [lit(version, None)] if version else []),
            ],
        )

    # Data themes
    out.append("# ---- Data themes (dcat:theme) ----\n")
    out.append(scheme("data-theme", "Data theme"))
    for code in THEMES:
        concept = f"{EU}data-theme/{code}"
        if not exists(store, concept):
            raise SystemExit(f"data theme {code} not in the shipped NAL")
        out.append(
            block(
                iri(concept),
                [
                    ("a", ["skos:Concept"]),
                    ("skos:prefLabel", [lit(one_label(store, concept))]),
                    ("skos:notation", [lit(code, None)]),
                    ("skos:inScheme", [iri(EU + "data-theme")]),
                    ("skos:topConceptOf", [iri(EU + "data-theme")]),
                ],
            )
        )

    # Access rights
    out.append("# ---- Access rights (dct:accessRights) ----\n")
    out.append(scheme("access-right", "Access right", "20220316-0"))
    for code in ACCESS_RIGHTS:
        concept = f"{EU}access-right/{code}"
        out.append(
            block(
                iri(concept),
                [
                    ("a", ["skos:Concept", "dct:RightsStatement"]),
                    ("skos:prefLabel", [lit(one_label(store, concept))]),
                    ("skos:notation", [lit(code, None)]),
                    ("skos:inScheme", [iri(EU + "access-right")]),
                ],
            )
        )

    # Frequencies: all of the list
    out.append("# ---- Frequencies (dct:accrualPeriodicity) ----\n")
    out.append(scheme("frequency", "Frequency", "20220615-0"))
    frequencies = sorted(
        row["c"].value
        for row in store.query(
            f"SELECT DISTINCT ?c WHERE {{ GRAPH <urn:src:frequency> {{ ?c <{SKOS}inScheme> <{EU}frequency> }} }}"
        )
    )
    for concept in frequencies:
        code = concept.rsplit("/", 1)[1]
        out.append(
            block(
                iri(concept),
                [
                    ("a", ["skos:Concept", "dct:Frequency"]),
                    ("skos:prefLabel", [lit(one_label(store, concept))]),
                    ("skos:notation", [lit(code, None)]),
                    ("skos:inScheme", [iri(EU + "frequency")]),
                ],
            )
        )

    # File types
    out.append("# ---- File types (dct:format) ----\n")
    out.append(scheme("file-type", "File type", "20220928-0"))
    file_types = sorted(
        row["c"].value
        for row in store.query(
            f"SELECT DISTINCT ?c WHERE {{ GRAPH <urn:src:file-type-head> {{ ?c <{DC11}identifier> ?code }} }}"
        )
    )
    for concept in file_types:
        code = concept.rsplit("/", 1)[1]
        labels = english_labels(store, concept)
        label = labels[0] if labels else FILE_TYPE_FALLBACK_LABELS.get(code, code.replace("_", " "))
        if not labels:
            out.append(f"# label: ours ({code} has no English label in the shipped NAL copies)\n")
        out.append(
            block(
                iri(concept),
                [
                    ("a", ["skos:Concept", "dct:MediaTypeOrExtent"]),
                    ("skos:prefLabel", [lit(label)]),
                    ("skos:notation", [lit(code, None)]),
                    ("skos:inScheme", [iri(EU + "file-type")]),
                ],
            )
        )

    # IANA media types
    out.append("# ---- IANA media types (dcat:mediaType) ----\n")
    for media_type in MEDIA_TYPES:
        if media_type.startswith("application/") and media_type not in NOT_IN_EXTRACT and f"/{media_type}>" not in iana:
            raise SystemExit(f"{media_type} is not in the IANA registry extract")
        out.append(
            block(
                iri("http://www.iana.org/assignments/media-types/" + media_type),
                [
                    ("a", ["dct:MediaType"]),
                    ("rdfs:label", [lit(media_type, None)]),
                    ("dct:title", [lit(media_type, None)]),
                ],
            )
        )

    # Language
    out.append(
        "# ---- Language (dct:language) ----\n"
        '# Every language with an ISO 639-1 code, so loaders can write a source\'s "en", "fre" or "fra" as the EU\n'
        "# concept: the NAL's authority code of these is the ISO 639-2/T code in upper case (ENG, FRA, NLD). English\n"
        "# labels from the NAL copy where it has one, else from ISO 639-2 (Debian iso-codes, tools/sources/), marked\n"
        "# 'label: iso-codes'. The ISO codes are notations typed as the NAL types them (euvoc:ISO_639_1 ...).\n"
    )
    out.append(scheme("language", "Language", "20160921-0"))
    for language in iso_639_1_languages():
        code = language["alpha_3"].upper()
        concept = f"{EU}language/{code}"
        name = language["name"].split(";")[0].strip()
        in_nal_copy = exists(store, concept)
        label = one_label(store, concept, fallback=name) if in_nal_copy else name
        notations = [lit(code, None), typed(language["alpha_2"], EUVOC + "ISO_639_1")]
        notations.append(typed(language.get("bibliographic", language["alpha_3"]), EUVOC + "ISO_639_2B"))
        notations.append(typed(language["alpha_3"], EUVOC + "ISO_639_2T"))
        if not in_nal_copy:
            out.append(f"# {code}: label: iso-codes\n")
        out.append(
            block(
                iri(concept),
                [
                    ("a", ["skos:Concept", "dct:LinguisticSystem"]),
                    ("skos:prefLabel", [lit(label)]),
                    ("skos:notation", notations),
                    ("skos:inScheme", [iri(EU + "language")]),
                ],
            )
        )

    # Licences
    out.append("# ---- Licences (dct:license) ----\n")
    out.append(scheme("licence", "Licence", "20241211-0"))
    for code in LICENCES:
        concept = f"{EU}licence/{code}"
        if not exists(store, concept):
            raise SystemExit(f"licence {code} (loaders.formats) is not in the shipped NAL")
        label = one_label(store, concept)
        out.append(
            block(
                iri(concept),
                [
                    ("a", ["skos:Concept", "dct:LicenseDocument"]),
                    ("skos:prefLabel", [lit(label)]),
                    ("dct:title", [lit(label)]),
                    ("skos:notation", [lit(code, None)]),
                    ("skos:inScheme", [iri(EU + "licence")]),
                ],
            )
        )
    out.append("# The Open Government Licence v3.0 at its canonical (National Archives) URI.\n")
    out.append(
        block(
            iri(OGL3),
            [
                ("a", ["dct:LicenseDocument"]),
                ("dct:title", [lit("Open Government Licence v3.0")]),
                ("skos:prefLabel", [lit("Open Government Licence v3.0")]),
                ("skos:exactMatch", [iri(EU + "licence/OGL_3_0")]),
            ],
        )
    )

    # Dataset status
    out.append("# ---- Dataset status (adms:status) ----\n")
    out.append(scheme("dataset-status", "Dataset status"))
    out.append(
        block(
            iri(EU + "dataset-status/DEPRECATED"),
            [
                ("a", ["skos:Concept"]),
                ("skos:prefLabel", [lit("deprecated")]),
                ("skos:notation", [lit("DEPRECATED", None)]),
                ("skos:inScheme", [iri(EU + "dataset-status")]),
            ],
        )
    )

    # ADMS publisher types
    out.append("# ---- Publisher types (dct:type of a publisher) ----\n")
    adms_scheme = "http://purl.org/adms/publishertype/1.0"
    out.append(
        block(
            iri(adms_scheme),
            [
                ("a", ["skos:ConceptScheme"]),
                ("dct:title", [lit("Publisher type")]),
                ("skos:prefLabel", [lit("Publisher type")]),
            ],
        )
    )
    publisher_types = sorted(
        row["c"].value
        for row in store.query(
            f"SELECT DISTINCT ?c WHERE {{ GRAPH <urn:src:adms> {{ ?c <{SKOS}inScheme> <{adms_scheme}> }} }}"
        )
    )
    for concept in publisher_types:
        code = concept.rsplit("/", 1)[1]
        if not re.fullmatch(r"[A-Za-z-]+", code):
            continue  # "PrivateIndividual(s)": not needed, and its IRI has parentheses
        out.append(
            block(
                iri(concept),
                [
                    ("a", ["skos:Concept"]),
                    ("skos:prefLabel", [lit(one_label(store, concept))]),
                    ("skos:notation", [lit(code, None)]),
                    ("skos:inScheme", [iri(adms_scheme)]),
                ],
            )
        )
    # SPDX checksum algorithms: DCAT-AP 3.0.1 ranges want spdx:algorithm values typed spdx:ChecksumAlgorithm.
    out.append("# ---- SPDX checksum algorithms (spdx:algorithm; SPDX 2.3 individuals) ----\n")
    for algorithm in CHECKSUM_ALGORITHMS:
        out.append(
            block(
                iri(f"http://spdx.org/rdf/terms#checksumAlgorithm_{algorithm}"),
                [
                    ("a", ["<http://spdx.org/rdf/terms#ChecksumAlgorithm>"]),
                    ("rdfs:label", [lit(algorithm.upper(), None)]),
                ],
            )
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared reference data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the .ttl files")
    args = parser.parse_args(argv)
    boroughs = read_boroughs(args.shared)
    organisations = read_organisations(args.shared)
    files = {
        "boroughs.ttl": boroughs_ttl(boroughs),
        "publishers.ttl": publishers_ttl(boroughs, organisations),
        "eu-vocabularies.ttl": eu_vocabularies_ttl(args.shared),
    }
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
