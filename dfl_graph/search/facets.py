"""The facets of the Library's search: which values a dataset has for each, their keys and labels.

A facet value has a short *key* used in URLs (``theme=transport``, ``publisher=tfl``,
``borough=E09000001``, ``format=CSV``, ``licence=OGL_3_0``, ``frequency=ANNUAL``, ``quality=good``,
``year=2016``, ``reason=PersonalInformation``, ``personal=yes``) and the IRI it stands for. Formats are
normalised to EU file-type codes (:mod:`dfl_graph.format_kinds`) and grouped into *kinds*. Every facet has
a :data:`NOT_STATED` value for the datasets that say nothing about it, so a facet's counts always account
for every dataset.
"""

from __future__ import annotations

from dataclasses import dataclass

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
EU_DATA_THEME = EU_AUTHORITY + "data-theme/"
NOT_STATED = "not-stated"  # the key of the value of datasets that state nothing for a facet
NOT_STATED_LABEL = "Not stated"


@dataclass(frozen=True)
class Facet:
    name: str  # URL parameter and API key
    label: str  # heading on the page
    plural: str
    # a facet that only governance records state (why access is restricted, whether personal data is held):
    # its panel is left out of a page where no result states it, rather than showing a lone "Not stated"
    shown_unstated: bool = True


FACETS: tuple[Facet, ...] = (
    Facet("theme", "Theme", "themes"),
    Facet("publisher", "Publisher", "publishers"),
    Facet("borough", "Borough", "boroughs"),
    Facet("kind", "Kind of data", "kinds"),
    Facet("format", "Format", "formats"),
    Facet("licence", "Licence", "licences"),
    Facet("access", "Access", "access levels"),
    Facet("reason", "Access reason", "access reasons", shown_unstated=False),
    Facet("personal", "Personal data", "personal-data statements", shown_unstated=False),
    Facet("frequency", "Update frequency", "update frequencies"),
    Facet("status", "Status", "statuses"),
    Facet("quality", "Metadata quality", "quality ratings"),
    Facet("year", "Last updated", "years"),
)
FACET_NAMES = tuple(f.name for f in FACETS)
PERSONAL_DATA_LABELS = {"yes": "Holds personal data", "no": "Holds no personal data"}
BY_NAME = {f.name: f for f in FACETS}


def dataset_themes(record: dict) -> list[str]:
    """The themes a dataset is faceted and shown by: its own (London) themes, the EU data themes they
    map to being implied; EU data themes only for a dataset that has nothing else."""
    themes = record.get("themes") or []
    own = [t for t in themes if not t.startswith(EU_DATA_THEME)]
    return own or themes


def value_key(facet: str, iri: str, base: str) -> str:
    """The short key of a facet value's IRI (its id under our base, a term of our vocabulary by its local name,
    or an EU authority code)."""
    for kind in ("theme", "publisher", "borough"):
        prefix = f"{base}/{kind}/"
        if facet == kind and iri.startswith(prefix):
            return iri[len(prefix) :]
    if iri.startswith(f"{base}/def/dfl#"):
        return iri.rsplit("#", 1)[-1]
    if iri.startswith(EU_AUTHORITY):
        return iri.rstrip("/").rsplit("/", 1)[-1]
    return iri


__all__ = [
    "BY_NAME",
    "EU_DATA_THEME",
    "FACETS",
    "FACET_NAMES",
    "NOT_STATED",
    "NOT_STATED_LABEL",
    "PERSONAL_DATA_LABELS",
    "Facet",
    "dataset_themes",
    "value_key",
]
