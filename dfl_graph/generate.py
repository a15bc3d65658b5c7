"""Deterministic synthetic DataPress v3 exports, for scale tests and benchmarks.

:func:`generate_export` writes what ``https://data.london.gov.uk/api/v3/datasets/export.json`` serves: one
JSON array of dataset objects with exactly the keys (and key order) of the GLA's own fixture
(``ldndatar2`` ``tests/testthat/data.london.gov.uk/api/v3/datasets/export.json``)::

    webpage, id, description, title, createdAt, updatedAt, nextReviewDate, sharing,
    masthead{id,title}, team{id,title}, topics[{id,title}], tags[], licence, contact,
    resources[{dataset,webpage,id,title,url,description,timeframeFrom,timeframeTo,size,hash,timestamp,filename}],
    links[], custom{}

The output is streamed (one dataset serialised and written at a time), so memory stays flat whatever ``n`` is,
and the same ``(n, seed)`` always gives byte-identical output (one seeded :class:`random.Random`, no hashing of
sets, no clock). :func:`iter_datasets` yields the same dataset dicts for benchmarks that skip the file.

Content is built from London data vocabulary: subjects from the London Datastore's range, the 33 London local
authorities (names and GSS codes embedded below; nothing is read at run time), and real publishers (GLA, TfL,
the Met, LFB, ONS, the councils, ...). Values are synthetic: no record describes a real dataset.

What the fixture does not pin down (it has ``null``/``{}``/``[]`` there) is **assumed** here:

* ``licence``: ``null`` (~8%) or ``{"id": "OGLv3", "title": "UK Open Government Licence (OGL v3)"}`` (most), or the
  same ``{"id", "title"}`` shape for OGL v2, CC BY 4.0, CC BY-SA 4.0, ODbL, the Non-Commercial Government Licence,
  "Other (Open)" and "Not specified" (see :data:`LICENCES`).
* ``contact``: ``null`` (~35%) or ``{"name": "<team name>", "email": "<address at the publisher's domain>"}``.
* ``custom``: ``{}``, ``{"update_frequency": "Monthly"}`` (one of :data:`UPDATE_FREQUENCIES`),
  ``{"borough": "<place name>"}`` (a council's datasets: their borough, as in :data:`BOROUGHS`), or both keys.
* ``nextReviewDate``: ``null`` (~85%) or an ISO instant ``YYYY-MM-DDT00:00:00.000Z`` a year after ``updatedAt``.
* ``sharing``: ``"public"`` (~96%), ``"restricted"`` (~3%) or ``"private"`` (~1%, DataPress's non-public value).
* ``links`` is always ``[]`` (its item shape is unknown).
* ``createdAt``/``updatedAt`` are ISO instants with milliseconds (``2016-03-04T10:21:07.412Z``),
  ``createdAt <= updatedAt``; a resource ``timestamp`` lies between them, without zone (``2019-07-19T16:00:56``),
  as in the fixture; ``timeframeFrom``/``timeframeTo`` are ``null`` or ISO dates (``2015-04-01``).

Dataset ids are 5 lower-case base-36 characters like DataPress's (``"2xxx0"``), unique by construction (a seeded
affine permutation of ``0 .. 36**5 - 1``), so ``n`` is at most 60,466,176. The webpage slug is
``slugify(title) + "-" + id``, hence unique too.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dfl_graph.uris import slugify

__all__ = [
    "BOROUGHS",
    "LICENCES",
    "PUBLISHERS",
    "SUBJECTS",
    "TOPICS",
    "UPDATE_FREQUENCIES",
    "generate_export",
    "iter_datasets",
]

SITE = "https://data.london.gov.uk"

# (GSS code, place name, council name, council website domain): the 33 London local authorities.
BOROUGHS: tuple[tuple[str, str, str, str], ...] = (
    ("E09000001", "City of London", "City of London Corporation", "cityoflondon.gov.uk"),
    ("E09000002", "Barking and Dagenham", "London Borough of Barking and Dagenham", "lbbd.gov.uk"),
    ("E09000003", "Barnet", "London Borough of Barnet", "barnet.gov.uk"),
    ("E09000004", "Bexley", "London Borough of Bexley", "bexley.gov.uk"),
    ("E09000005", "Brent", "London Borough of Brent", "brent.gov.uk"),
    ("E09000006", "Bromley", "London Borough of Bromley", "bromley.gov.uk"),
    ("E09000007", "Camden", "London Borough of Camden", "camden.gov.uk"),
    ("E09000008", "Croydon", "London Borough of Croydon", "croydon.gov.uk"),
    ("E09000009", "Ealing", "London Borough of Ealing", "ealing.gov.uk"),
    ("E09000010", "Enfield", "London Borough of Enfield", "enfield.gov.uk"),
    ("E09000011", "Greenwich", "Royal Borough of Greenwich", "royalgreenwich.gov.uk"),
    ("E09000012", "Hackney", "London Borough of Hackney", "hackney.gov.uk"),
    ("E09000013", "Hammersmith and Fulham", "London Borough of Hammersmith & Fulham", "lbhf.gov.uk"),
    ("E09000014", "Haringey", "London Borough of Haringey", "haringey.gov.uk"),
    ("E09000015", "Harrow", "London Borough of Harrow", "harrow.gov.uk"),
    ("E09000016", "Havering", "London Borough of Havering", "havering.gov.uk"),
    ("E09000017", "Hillingdon", "London Borough of Hillingdon", "hillingdon.gov.uk"),
    ("E09000018", "Hounslow", "London Borough of Hounslow", "hounslow.gov.uk"),
    ("E09000019", "Islington", "London Borough of Islington", "islington.gov.uk"),
    ("E09000020", "Kensington and Chelsea", "Royal Borough of Kensington and Chelsea", "rbkc.gov.uk"),
    ("E09000021", "Kingston upon Thames", "Royal Borough of Kingston upon Thames", "kingston.gov.uk"),
    ("E09000022", "Lambeth", "London Borough of Lambeth", "lambeth.gov.uk"),
    ("E09000023", "Lewisham", "London Borough of Lewisham", "lewisham.gov.uk"),
    ("E09000024", "Merton", "London Borough of Merton", "merton.gov.uk"),
    ("E09000025", "Newham", "London Borough of Newham", "newham.gov.uk"),
    ("E09000026", "Redbridge", "London Borough of Redbridge", "redbridge.gov.uk"),
    ("E09000027", "Richmond upon Thames", "London Borough of Richmond upon Thames", "richmond.gov.uk"),
    ("E09000028", "Southwark", "London Borough of Southwark", "southwark.gov.uk"),
    ("E09000029", "Sutton", "London Borough of Sutton", "sutton.gov.uk"),
    ("E09000030", "Tower Hamlets", "London Borough of Tower Hamlets", "towerhamlets.gov.uk"),
    ("E09000031", "Waltham Forest", "London Borough of Waltham Forest", "walthamforest.gov.uk"),
    ("E09000032", "Wandsworth", "London Borough of Wandsworth", "wandsworth.gov.uk"),
    ("E09000033", "Westminster", "City of Westminster", "westminster.gov.uk"),
)

TOPICS: dict[str, str] = {
    "transport": "Transport",
    "crime-and-community-safety": "Crime and Community Safety",
    "housing": "Housing",
    "demographics": "Demographics",
    "environment": "Environment",
    "health": "Health",
    "employment-and-skills": "Employment and Skills",
    "business-and-economy": "Business and Economy",
    "planning": "Planning",
    "art-and-culture": "Art and Culture",
    "sport": "Sport",
    "transparency": "Transparency",
    "education": "Education",
}

# Non-council publishers: masthead id -> (title, email domain, team titles; the first is the masthead's own).
PUBLISHERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "gla": (
        "Greater London Authority",
        "london.gov.uk",
        (
            "Greater London Authority",
            "GLA City Intelligence",
            "GLA Housing and Land",
            "GLA Environment",
            "GLA Economics",
            "GLA Culture and Creative Industries",
        ),
    ),
    "tfl": ("Transport for London", "tfl.gov.uk", ("Transport for London", "TfL Open Data")),
    "met-police": ("Metropolitan Police Service", "met.police.uk", ("Metropolitan Police Service",)),
    "lfb": ("London Fire Brigade", "london-fire.gov.uk", ("London Fire Brigade",)),
    "ons": ("Office for National Statistics", "ons.gov.uk", ("Office for National Statistics",)),
    "mopac": (
        "Mayor's Office for Policing and Crime",
        "mopac.london.gov.uk",
        ("Mayor's Office for Policing and Crime",),
    ),
    "london-councils": ("London Councils", "londoncouncils.gov.uk", ("London Councils",)),
    "lldc": ("London Legacy Development Corporation", "londonlegacy.co.uk", ("London Legacy Development Corporation",)),
    "dwp": ("Department for Work and Pensions", "dwp.gov.uk", ("Department for Work and Pensions",)),
    "dfe": ("Department for Education", "education.gov.uk", ("Department for Education",)),
    "ohid": (
        "Office for Health Improvement and Disparities",
        "dhsc.gov.uk",
        ("Office for Health Improvement and Disparities",),
    ),
    "environment-agency": ("Environment Agency", "environment-agency.gov.uk", ("Environment Agency",)),
}

# "council" in a subject's publisher list means: one of the 33 local authorities (the dataset is then that borough's).
COUNCIL = "council"

# (subject, topic ids, tags, publishers, subject-specific qualifiers)
SUBJECTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    # crime and community safety
    (
        "Recorded crime",
        ("crime-and-community-safety",),
        ("crime", "police"),
        ("met-police", "mopac"),
        ("by offence category", "by major and minor category"),
    ),
    (
        "Knife crime offences",
        ("crime-and-community-safety",),
        ("crime", "knife-crime", "violence"),
        ("met-police", "mopac"),
        ("with injury",),
    ),
    (
        "Anti-social behaviour incidents",
        ("crime-and-community-safety",),
        ("anti-social-behaviour", "asb", "police"),
        ("met-police", COUNCIL),
        (),
    ),
    (
        "Stop and search",
        ("crime-and-community-safety",),
        ("stop-and-search", "police"),
        ("met-police", "mopac"),
        ("by ethnicity", "by outcome"),
    ),
    ("Hate crime offences", ("crime-and-community-safety",), ("hate-crime", "crime"), ("met-police", "mopac"), ()),
    (
        "Domestic abuse incidents",
        ("crime-and-community-safety",),
        ("domestic-abuse", "crime"),
        ("met-police", "mopac"),
        (),
    ),
    (
        "Fire incidents",
        ("crime-and-community-safety",),
        ("fire", "incidents", "lfb"),
        ("lfb",),
        ("by incident type", "by property type"),
    ),
    (
        "Fire brigade response times",
        ("crime-and-community-safety",),
        ("fire", "response-times", "lfb"),
        ("lfb",),
        ("first and second appliance",),
    ),
    (
        "Public perception of policing",
        ("crime-and-community-safety",),
        ("confidence", "survey", "police"),
        ("mopac",),
        (),
    ),
    (
        "Volunteering rates",
        ("crime-and-community-safety", "demographics"),
        ("volunteering", "community", "survey"),
        ("gla",),
        (),
    ),
    # demographics
    (
        "Population projections",
        ("demographics",),
        ("population", "projections"),
        ("gla", "ons"),
        ("by single year of age", "housing-led", "trend-based"),
    ),
    (
        "Mid-year population estimates",
        ("demographics",),
        ("population", "estimates"),
        ("ons", "gla"),
        ("by age and sex",),
    ),
    (
        "Household projections",
        ("demographics", "housing"),
        ("households", "projections"),
        ("gla",),
        ("by household type",),
    ),
    (
        "Births and fertility rates",
        ("demographics", "health"),
        ("births", "fertility"),
        ("ons",),
        ("by mother's country of birth",),
    ),
    (
        "Deaths and mortality rates",
        ("demographics", "health"),
        ("deaths", "mortality"),
        ("ons", "ohid"),
        ("by cause of death",),
    ),
    (
        "Ethnic group population",
        ("demographics",),
        ("ethnicity", "census", "population"),
        ("ons", "gla"),
        ("by ethnic group",),
    ),
    ("Country of birth", ("demographics",), ("country-of-birth", "migration", "census"), ("ons", "gla"), ()),
    (
        "International migration flows",
        ("demographics",),
        ("migration", "international-migration"),
        ("ons", "gla"),
        ("inflows and outflows",),
    ),
    ("Main language spoken", ("demographics", "education"), ("language", "census"), ("ons", "gla"), ()),
    ("Electoral register entries", ("demographics",), ("elections", "electoral-register"), (COUNCIL, "gla"), ()),
    (
        "London election results",
        ("demographics", "transparency"),
        ("elections", "mayoral", "london-assembly"),
        ("gla",),
        ("by constituency",),
    ),
    ("Indices of deprivation", ("demographics", "housing"), ("deprivation", "imd"), ("gla", COUNCIL), ("by domain",)),
    # environment
    (
        "Air quality monitoring",
        ("environment",),
        ("air-quality", "pollution", "no2", "pm10"),
        ("gla", COUNCIL),
        ("by monitoring site", "hourly"),
    ),
    (
        "NO2 concentrations",
        ("environment", "health"),
        ("air-quality", "no2", "pollution"),
        ("gla",),
        ("modelled annual mean",),
    ),
    (
        "PM2.5 concentrations",
        ("environment", "health"),
        ("air-quality", "pm2.5", "pollution"),
        ("gla",),
        ("modelled annual mean",),
    ),
    ("Carbon dioxide emissions", ("environment",), ("co2", "emissions", "climate-change"), ("gla",), ("by sector",)),
    (
        "Energy consumption",
        ("environment",),
        ("energy", "gas", "electricity"),
        ("gla",),
        ("domestic and non-domestic",),
    ),
    (
        "Fuel poverty",
        ("environment", "housing"),
        ("fuel-poverty", "energy"),
        ("gla",),
        ("low income low energy efficiency",),
    ),
    (
        "Household waste recycling rates",
        ("environment",),
        ("waste", "recycling"),
        ("gla", COUNCIL, "london-councils"),
        ("by waste stream",),
    ),
    ("Fly-tipping incidents", ("environment",), ("fly-tipping", "waste", "enforcement"), (COUNCIL,), ()),
    (
        "Green space",
        ("environment", "planning"),
        ("green-space", "parks", "open-space"),
        ("gla", COUNCIL),
        ("access to public open space",),
    ),
    ("Tree canopy cover", ("environment",), ("trees", "urban-forest", "canopy"), ("gla",), ()),
    (
        "Flood risk zones",
        ("environment", "planning"),
        ("flooding", "flood-risk"),
        ("environment-agency", "gla"),
        ("surface water",),
    ),
    ("Noise complaints", ("environment",), ("noise", "complaints"), (COUNCIL,), ()),
    ("Solar panel installations", ("environment",), ("solar", "renewable-energy"), ("gla",), ()),
    # housing
    (
        "Affordable housing completions",
        ("housing",),
        ("affordable-housing", "completions"),
        ("gla", COUNCIL),
        ("by tenure",),
    ),
    ("Median house prices", ("housing",), ("house-prices", "land-registry"), ("gla", "ons"), ("by property type",)),
    ("Private rents", ("housing",), ("rents", "private-rented-sector"), ("gla", "ons"), ("by number of bedrooms",)),
    ("Housing starts and completions", ("housing", "planning"), ("housebuilding", "completions"), ("gla",), ()),
    (
        "Homelessness acceptances",
        ("housing",),
        ("homelessness", "temporary-accommodation"),
        (COUNCIL, "london-councils"),
        ("by reason for loss of home",),
    ),
    ("Rough sleeping counts (CHAIN)", ("housing",), ("rough-sleeping", "chain", "homelessness"), ("gla",), ()),
    ("Social housing waiting list", ("housing",), ("social-housing", "housing-register"), (COUNCIL,), ()),
    ("Empty homes", ("housing",), ("empty-homes", "vacant-dwellings"), ("gla", COUNCIL), ()),
    ("Dwelling stock by tenure", ("housing",), ("dwellings", "tenure", "census"), ("gla", "ons"), ()),
    ("Council tax bands", ("housing", "business-and-economy"), ("council-tax",), (COUNCIL,), ("by band",)),
    ("Energy performance certificates", ("housing", "environment"), ("epc", "energy-efficiency"), ("gla",), ()),
    # employment, business and economy
    (
        "Claimant count unemployment",
        ("employment-and-skills",),
        ("unemployment", "claimant-count", "benefits"),
        ("ons", "dwp", "gla"),
        ("by age",),
    ),
    (
        "Employment rate",
        ("employment-and-skills",),
        ("employment", "labour-market", "aps"),
        ("ons", "gla"),
        ("by ethnic group", "by disability"),
    ),
    (
        "London Living Wage employers",
        ("employment-and-skills", "business-and-economy"),
        ("living-wage", "pay"),
        ("gla",),
        (),
    ),
    (
        "Apprenticeship starts",
        ("employment-and-skills", "education"),
        ("apprenticeships", "skills"),
        ("dfe", "gla"),
        ("by sector subject area",),
    ),
    (
        "Qualifications of working-age residents",
        ("employment-and-skills", "education"),
        ("qualifications", "skills"),
        ("ons", "gla"),
        ("NVQ level",),
    ),
    ("Business births and deaths", ("business-and-economy",), ("business", "enterprise"), ("ons", "gla"), ()),
    (
        "Gross value added",
        ("business-and-economy",),
        ("gva", "economy", "productivity"),
        ("ons", "gla"),
        ("by industry",),
    ),
    (
        "Workplace jobs by industry",
        ("business-and-economy", "employment-and-skills"),
        ("jobs", "industry"),
        ("ons", "gla"),
        ("SIC 2007 section",),
    ),
    ("Median household income (£)", ("business-and-economy",), ("income", "earnings"), ("ons", "gla"), ()),
    (
        "Annual survey of hours and earnings",
        ("employment-and-skills", "business-and-economy"),
        ("earnings", "ashe"),
        ("ons",),
        ("by workplace", "by residence"),
    ),
    (
        "Visitor numbers to attractions",
        ("art-and-culture", "business-and-economy"),
        ("tourism", "visitors"),
        ("gla",),
        (),
    ),
    (
        "High street vacancy rates",
        ("business-and-economy", "planning"),
        ("high-streets", "retail"),
        ("gla", COUNCIL),
        (),
    ),
    # transport
    (
        "Underground station entries and exits",
        ("transport",),
        ("tube", "underground", "stations", "ridership"),
        ("tfl",),
        ("by station", "by time of day"),
    ),
    ("Bus route ridership", ("transport",), ("buses", "ridership"), ("tfl",), ("by route",)),
    (
        "Cycle hire usage",
        ("transport",),
        ("cycling", "santander-cycles", "cycle-hire"),
        ("tfl",),
        ("by docking station", "daily hires"),
    ),
    (
        "Road traffic collisions",
        ("transport", "crime-and-community-safety"),
        ("road-safety", "collisions", "casualties"),
        ("tfl",),
        ("by severity",),
    ),
    ("Traffic flows", ("transport",), ("traffic", "vehicle-kilometres"), ("tfl",), ("by road type",)),
    ("Car ownership", ("transport",), ("cars", "car-ownership", "census"), ("ons", "gla"), ()),
    (
        "Public transport accessibility levels (PTAL)",
        ("transport", "planning"),
        ("ptal", "accessibility"),
        ("tfl",),
        ("100m grid",),
    ),
    ("Journeys by mode", ("transport",), ("travel", "mode-share"), ("tfl",), ()),
    ("Cycle parking", ("transport",), ("cycling", "cycle-parking"), ("tfl", COUNCIL), ()),
    ("Electric vehicle charge points", ("transport", "environment"), ("ev", "charge-points"), ("tfl", COUNCIL), ()),
    (
        "Ultra Low Emission Zone compliance",
        ("transport", "environment"),
        ("ulez", "emissions", "vehicles"),
        ("tfl",),
        (),
    ),
    # education
    ("School places", ("education",), ("schools", "pupil-places"), ("gla", COUNCIL), ("primary and secondary",)),
    ("GCSE attainment", ("education",), ("gcse", "attainment", "key-stage-4"), ("dfe", "gla"), ("by gender",)),
    (
        "Pupils eligible for free school meals",
        ("education",),
        ("free-school-meals", "fsm", "pupils"),
        ("dfe", "gla"),
        (),
    ),
    (
        "School pupils by ethnicity",
        ("education", "demographics"),
        ("pupils", "ethnicity", "school-census"),
        ("dfe", "gla"),
        (),
    ),
    ("Early years childcare places", ("education",), ("childcare", "early-years"), ("gla", COUNCIL), ()),
    # health
    ("Childhood obesity", ("health",), ("obesity", "ncmp", "children"), ("ohid", "gla"), ("Reception and Year 6",)),
    ("Life expectancy at birth", ("health",), ("life-expectancy",), ("ons", "ohid"), ("by sex",)),
    ("GP registered patients", ("health",), ("gp", "nhs", "patients"), ("ohid", "gla"), ("by practice",)),
    ("Mental health service use", ("health",), ("mental-health", "nhs"), ("ohid",), ()),
    ("Smoking prevalence", ("health",), ("smoking", "tobacco"), ("ohid",), ()),
    ("Teenage conceptions", ("health",), ("conceptions", "under-18"), ("ons", "ohid"), ()),
    ("Excess winter deaths", ("health", "environment"), ("winter-deaths", "mortality"), ("ons",), ()),
    # planning
    (
        "Planning applications",
        ("planning",),
        ("planning-applications", "development"),
        (COUNCIL, "gla"),
        ("by decision",),
    ),
    ("London Development Database permissions", ("planning", "housing"), ("ldd", "planning-permissions"), ("gla",), ()),
    ("Land use", ("planning",), ("land-use",), ("gla", "ons"), ()),
    ("Listed buildings", ("planning", "art-and-culture"), ("heritage", "listed-buildings"), ("gla", COUNCIL), ()),
    ("Conservation areas", ("planning",), ("conservation-areas", "heritage"), (COUNCIL,), ()),
    ("Opportunity areas", ("planning",), ("opportunity-areas", "london-plan"), ("gla", "lldc"), ()),
    # art, culture and sport
    (
        "Cultural infrastructure",
        ("art-and-culture",),
        ("culture", "venues", "cultural-infrastructure"),
        ("gla",),
        ("by venue type",),
    ),
    ("Public libraries", ("art-and-culture", "education"), ("libraries", "visits"), (COUNCIL,), ()),
    ("Museum and gallery visits", ("art-and-culture",), ("museums", "galleries", "visits"), ("gla",), ()),
    ("Grassroots music venues", ("art-and-culture",), ("music", "venues", "night-time-economy"), ("gla",), ()),
    ("Sports participation", ("sport", "health"), ("sport", "physical-activity", "active-lives"), ("gla",), ()),
    ("Sports facilities", ("sport",), ("sport", "leisure-centres"), ("gla", COUNCIL, "lldc"), ()),
    (
        "Queen Elizabeth Olympic Park visitors",
        ("sport", "art-and-culture"),
        ("olympic-park", "visitors"),
        ("lldc",),
        (),
    ),
    # transparency
    (
        "Expenditure over £250",
        ("transparency",),
        ("spending", "expenditure", "payments"),
        ("gla", "tfl", "lfb", COUNCIL),
        (),
    ),
    ("Councillors' allowances", ("transparency",), ("allowances", "councillors"), (COUNCIL,), ()),
    (
        "Freedom of information requests",
        ("transparency",),
        ("foi", "freedom-of-information"),
        ("gla", "tfl", COUNCIL),
        (),
    ),
    ("Contracts register", ("transparency",), ("contracts", "procurement"), ("gla", "tfl", COUNCIL), ()),
    ("Senior staff salaries", ("transparency",), ("salaries", "pay", "senior-staff"), ("gla", "tfl", "lfb"), ()),
    ("Mayoral decisions", ("transparency",), ("mayoral-decisions", "governance"), ("gla",), ()),
)

UPDATE_FREQUENCIES: tuple[str, ...] = ("Monthly", "Annually", "Quarterly", "Weekly", "Daily", "Ad hoc")

# (licence, weight); None is "no licence given".
LICENCES: tuple[tuple[dict[str, str] | None, int], ...] = (
    ({"id": "OGLv3", "title": "UK Open Government Licence (OGL v3)"}, 700),
    ({"id": "OGLv2", "title": "UK Open Government Licence (OGL v2)"}, 80),
    ({"id": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0 International"}, 40),
    ({"id": "CC-BY-SA-4.0", "title": "Creative Commons Attribution Share-Alike 4.0"}, 20),
    ({"id": "ODbL-1.0", "title": "Open Data Commons Open Database License (ODbL)"}, 20),
    ({"id": "NCGL", "title": "Non-Commercial Government Licence"}, 15),
    ({"id": "other-open", "title": "Other (Open)"}, 15),
    ({"id": "not-specified", "title": "Not specified"}, 30),
    (None, 80),
)

_AREAS = ("by borough", "by ward", "by LSOA", "by MSOA", "by output area", "London-wide")
_COUNCIL_AREAS = ("by ward", "by LSOA", "by output area", "by polling district", "")
_PERIODS = ("annual", "monthly", "quarterly", "weekly", "time series")
_PERIOD_FREQUENCY = {"annual": "Annually", "monthly": "Monthly", "quarterly": "Quarterly", "weekly": "Weekly"}
_CENSUS_TOPICS = frozenset({"demographics", "housing", "health", "employment-and-skills", "education"})
_CENSUS = ("2011 Census-based", "2021 Census-based", "2001 Census-based")
_FIRST_YEAR, _LAST_YEAR = 2001, 2026
_EXTENSIONS = (("csv", 40), ("xlsx", 22), ("xls", 8), ("json", 7), ("geojson", 5), ("zip", 6), ("pdf", 6),
               ("shp.zip", 4), ("kml", 2))  # fmt: skip
_EXT_NAMES, _EXT_WEIGHTS = zip(*((e, w) for e, w in _EXTENSIONS), strict=True)
_CONTACT_NAMES = ("Open Data Team", "Information Governance", "Performance and Insight", "Research and Intelligence",
                  "Data Services", "Statistics Team")  # fmt: skip
_NOTES = (
    "Figures are rounded to the nearest 10 to protect confidentiality.",
    "Counts below 5 are suppressed and shown as a dash.",
    "Rates are per 1,000 resident population.",
    "Boundaries are those in force at the end of the reference period.",
    "Earlier years have been revised following the 2021 Census.",
    "The City of London is combined with Westminster where counts are small.",
    "Data for the latest period are provisional and may be revised.",
    "Financial years run from 1 April to 31 March.",
    "See the accompanying methodology note for definitions and caveats.",
    "Values marked with an asterisk are estimates.",
    "Percentages may not sum to 100 due to rounding.",
    "Inner and Outer London totals follow the ONS statistical definition.",
)
_NOTES_CALENDAR = tuple(note for note in _NOTES if "Financial" not in note)
_START = 1262304000  # 2010-01-01T00:00:00Z: the London Datastore's launch month
_END = 1774915200  # 2026-03-31T00:00:00Z
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_ID_SPACE = 36**5
_SHARING = (("public", 96), ("restricted", 3), ("private", 1))


def _base36(value: int, width: int = 5) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 36)
        chars.append(_ID_ALPHABET[digit])
    return "".join(reversed(chars))


def _team_id(name: str) -> str:
    return _base36(zlib.crc32(name.encode("utf-8")) % _ID_SPACE)


def _cumulative(weights: tuple[int, ...]) -> tuple[list[int], int]:
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out, total


class _Publisher:
    __slots__ = ("borough", "domain", "id", "teams", "title")

    def __init__(self, pid: str, title: str, domain: str, teams: tuple[str, ...], borough: str | None) -> None:
        self.id = pid
        self.title = title
        self.domain = domain
        self.borough = borough
        self.teams = tuple({"id": _team_id(f"{pid}/{t}"), "title": t} for t in teams)


_PUBLISHERS = {pid: _Publisher(pid, title, domain, teams, None) for pid, (title, domain, teams) in PUBLISHERS.items()}
_COUNCILS = tuple(_Publisher(slugify(place), name, domain, (name,), place) for _, place, name, domain in BOROUGHS)


class _Subject:
    __slots__ = ("census", "publishers", "qualifiers", "slug", "tags", "title", "topics")

    def __init__(self, title: str, topics: tuple[str, ...], tags: tuple[str, ...], publishers: tuple[str, ...],
                 qualifiers: tuple[str, ...]) -> None:  # fmt: skip
        self.title = title
        self.census = bool(set(topics) & _CENSUS_TOPICS)  # may carry a "2011 Census-based" qualifier
        self.slug = slugify(title, max_length=40)
        self.topics = tuple({"id": t, "title": TOPICS[t]} for t in topics)
        self.tags = tags
        self.publishers = publishers
        self.qualifiers = qualifiers


_SUBJECTS = tuple(_Subject(*row) for row in SUBJECTS)
_LICENCE_VALUES = tuple(lic for lic, _ in LICENCES)
_LICENCE_CUM, _LICENCE_TOTAL = _cumulative(tuple(w for _, w in LICENCES))
_EXT_CUM, _EXT_TOTAL = _cumulative(_EXT_WEIGHTS)
_TOPIC_IDS = tuple(TOPICS)
_SHARING_CUM, _SHARING_TOTAL = _cumulative(tuple(w for _, w in _SHARING))
_SHARING_VALUES = tuple(s for s, _ in _SHARING)
_LOG_MIN_SIZE, _LOG_MAX_SIZE = math.log(1_000), math.log(500_000_000)


def _pick(rng: random.Random, values: tuple[Any, ...], cum: list[int], total: int) -> Any:
    """A weighted choice (cumulative weights, integer draw: fast and exactly reproducible)."""
    r = rng.randrange(total)
    for value, c in zip(values, cum, strict=True):
        if r < c:
            return value
    raise AssertionError("unreachable")


def _instant(seconds: int, millis: int) -> str:
    t = time.gmtime(seconds)
    return (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
            f".{millis:03d}Z")  # fmt: skip


def _local_timestamp(seconds: int) -> str:
    t = time.gmtime(seconds)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def _id_permutation(rng: random.Random) -> tuple[int, int]:
    """Coefficients (a, b) of the bijection i -> (a*i + b) mod 36**5 (a coprime to 36**5)."""
    a = rng.randrange(_ID_SPACE) | 1
    while a % 3 == 0:
        a += 2
    return a % _ID_SPACE, rng.randrange(_ID_SPACE)


def iter_datasets(n: int, seed: int = 2010) -> Iterator[dict[str, Any]]:
    """Yield ``n`` synthetic DataPress v3 dataset dicts, deterministically for ``(n, seed)``."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if n > _ID_SPACE:
        raise ValueError(f"n must be at most {_ID_SPACE} (5-character base-36 ids)")
    rng = random.Random(seed)
    a, b = _id_permutation(rng)
    for i in range(n):
        yield _dataset(rng, _base36((a * i + b) % _ID_SPACE))


def _dataset(rng: random.Random, dataset_id: str) -> dict[str, Any]:
    rnd = rng.random
    choice = rng.choice
    randint = rng.randint
    subject = choice(_SUBJECTS)
    pkey = choice(subject.publishers)
    publisher = choice(_COUNCILS) if pkey == COUNCIL else _PUBLISHERS[pkey]
    place = publisher.borough

    # -- dates ---------------------------------------------------------------------------------------------------
    created = randint(_START, _END)
    updated = created if rnd() < 0.12 else created + int((_END - created) * rnd() ** 2)
    created_ms, updated_ms = randint(0, 999), randint(0, 999)
    if updated == created:
        updated_ms = created_ms
    next_review = _instant(updated - updated % 86400 + 365 * 86400, 0) if rnd() < 0.15 else None

    # -- title ---------------------------------------------------------------------------------------------------
    # The period covered ends no later than the last update (recent periods likelier), within 2001-2026.
    last = min(_LAST_YEAR, time.gmtime(updated).tm_year)
    y2 = last - int(rnd() ** 2 * (last - _FIRST_YEAR))
    y1 = y2 if rnd() < 0.35 else randint(max(_FIRST_YEAR, y2 - 15), y2)
    period = choice(_PERIODS) if rnd() < 0.45 else ""
    area = choice(_COUNCIL_AREAS if place else _AREAS)
    parts = [subject.title]
    if area:
        parts.append(" " + area)
    r = rnd()
    if r < 0.25 and subject.qualifiers:
        parts.append(", " + choice(subject.qualifiers))
    elif r < 0.40 and subject.census:
        parts.append(f" ({choice(_CENSUS)})")
    financial = rnd() < 0.2
    if financial:
        period_text = (
            f"{y1}/{(y1 + 1) % 100:02d}" if y1 == y2 else f"{y1}/{(y1 + 1) % 100:02d} to {y2}/{(y2 + 1) % 100:02d}"
        )
    else:
        period_text = str(y1) if y1 == y2 else f"{y1}-{y2}"
    if period:
        parts.append(f", {period} {period_text}")
    else:
        parts.append(f", {period_text}")
    title = "".join(parts)
    if place:
        title = f"{place}: {title}" if rnd() < 0.5 else f"{title} - {place}"

    slug = f"{slugify(title, max_length=100)}-{dataset_id}"
    webpage = f"{SITE}/dataset/{slug}"

    # -- description (HTML) --------------------------------------------------------------------------------------
    where = place or "London"
    coverage = "the financial years" if financial else "the period"
    desc = [
        f"<p>{subject.title}{' ' + area if area else ''} for {where}, covering {coverage} {period_text}.",
        f" Published by {publisher.title}.</p>",
    ]
    if rnd() < 0.7:
        notes = _NOTES if financial else _NOTES_CALENDAR
        desc.append(f"<p>{choice(notes)} {choice(notes)}</p>")
    if rnd() < 0.25:
        desc.append(f'<p>See also the <a href="https://{publisher.domain}/">{publisher.title} website</a>.</p>')
    if rnd() < 0.15:
        tags_li = "".join(f"<li>{t}</li>" for t in subject.tags)
        desc.append(f"<ul>{tags_li}</ul>")
    description = "".join(desc)

    # -- classification ------------------------------------------------------------------------------------------
    topics = list(subject.topics)
    if rnd() < 0.1:
        extra = {"id": (t := choice(_TOPIC_IDS)), "title": TOPICS[t]}
        if extra not in topics:
            topics.append(extra)
    tags = list(subject.tags)
    if area and area != "London-wide" and rnd() < 0.5:
        tags.append(area.removeprefix("by ").lower().replace(" ", "-"))
    if place and rnd() < 0.6:
        tags.append(publisher.id)
    if "Census" in title:
        tags.append("census")
    if rnd() < 0.05:
        tags.append("visualisation-data")
    tags = list(dict.fromkeys(tags))

    licence = _pick(rng, _LICENCE_VALUES, _LICENCE_CUM, _LICENCE_TOTAL)
    team = choice(publisher.teams)
    contact = None
    if rnd() >= 0.35:
        name = team["title"] if rnd() < 0.5 else choice(_CONTACT_NAMES)
        mailbox = choice(("opendata", "data", "datastore", "statistics", "foi", "intelligence"))
        contact = {"name": name, "email": f"{mailbox}@{publisher.domain}"}
    custom: dict[str, str] = {}
    if rnd() < 0.55:
        custom["update_frequency"] = _PERIOD_FREQUENCY.get(period) or choice(UPDATE_FREQUENCIES)
    if place and rnd() < 0.85:
        custom["borough"] = place

    # -- resources -----------------------------------------------------------------------------------------------
    n_res = 1 + min(3, int(rnd() * rnd() * 5.5))  # mostly 1-2, some 3-4
    resources = []
    base = subject.slug if not place else f"{publisher.id}-{subject.slug}"
    for k in range(n_res):
        ext = _pick(rng, _EXT_NAMES, _EXT_CUM, _EXT_TOTAL)
        year = max(y1, y2 - k)
        filename = f"{base}-{year}.{ext}" if rnd() < 0.8 else f"{base}.{ext}"
        rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        res_title = filename if rnd() < 0.5 else f"{subject.title} {year}"
        if rnd() < 0.5:
            tf_from, tf_to = (f"{year}-04-01", f"{year + 1}-03-31") if financial else (f"{year}-01-01", f"{year}-12-31")
        else:
            tf_from = tf_to = None
        resources.append(
            {
                "dataset": dataset_id,
                "webpage": webpage,
                "id": rid,
                "title": res_title,
                "url": f"{SITE}/download/{slug}/{rid}/{filename}",
                "description": ""
                if rnd() < 0.6
                else f"{subject.title}{' ' + area if area else ''} for {where}, {year}.",
                "timeframeFrom": tf_from,
                "timeframeTo": tf_to,
                "size": int(math.exp(_LOG_MIN_SIZE + (_LOG_MAX_SIZE - _LOG_MIN_SIZE) * rnd())),
                "hash": f"{rng.getrandbits(128):032x}",
                "timestamp": _local_timestamp(created + int((updated - created) * rnd())),
                "filename": filename,
            }
        )

    return {
        "webpage": webpage,
        "id": dataset_id,
        "description": description,
        "title": title,
        "createdAt": _instant(created, created_ms),
        "updatedAt": _instant(updated, updated_ms),
        "nextReviewDate": next_review,
        "sharing": _pick(rng, _SHARING_VALUES, _SHARING_CUM, _SHARING_TOTAL),
        "masthead": {"id": publisher.id, "title": publisher.title},
        "team": team,
        "topics": topics,
        "tags": tags,
        "licence": licence,
        "contact": contact,
        "resources": resources,
        "links": [],
        "custom": custom,
    }


def generate_export(n: int, out: Path, seed: int = 2010) -> int:
    """Write ``n`` synthetic datasets to ``out`` as a DataPress v3 export JSON array; return ``n``.

    The array is written one dataset per line (``[`` newline, items joined by ``,`` newline, ``]``), UTF-8,
    streamed through a buffered file, and moved into place atomically (a ``.tmp`` sibling, then rename).
    """
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    count = 0
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as fh:
            write = fh.write
            write("[")
            for dataset in iter_datasets(n, seed):
                write(",\n" if count else "\n")
                write(encode(dataset))
                count += 1
            write("\n]\n" if count else "]\n")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count
