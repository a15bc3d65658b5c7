"""The DCAT-AP 2.1.1 view of a DCAT-AP 3 document: what a harvester that still speaks DCAT-AP 2 accepts.

The catalogue publishes DCAT-AP 3. A client asks for this view with ``?profile=dcat-ap-2`` or, per W3C's
content negotiation by profile, ``Accept-Profile: <http://data.europa.eu/r5r/2.1.1>``; the answer says
``Content-Profile``. The view changes only what DCAT-AP 2.1.1 reads differently:

* dates: DCAT-AP 2.1.1 types ``dct:issued`` / ``dct:modified`` (and a period's start and end) as
  ``xsd:date`` or ``xsd:dateTime``; a month (``xsd:gYearMonth``) or a year (``xsd:gYear``) becomes the date
  of its first day, ``"2010-02"`` -> ``"2010-02-01"^^xsd:date`` (an end date: its last day);
* ``dcat:byteSize`` is an ``xsd:decimal`` (DCAT-AP 3: ``xsd:nonNegativeInteger``);
* ``spdx:checksum``: DCAT-AP 2.1.1 allows SHA-1 only; other checksums (and their nodes) are left out;
* ``dcat:version`` (DCAT 3) is ``owl:versionInfo``.

Everything else is the same statements. The official 2.1.1 shapes ship in ``ontology/shapes/dcat-ap-2.1.1``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator

from pyoxigraph import Literal, Triple

from dfl_graph.namespaces import DCAT, DCT, OWL, SPDX, XSD

PROFILE = "http://data.europa.eu/r5r/2.1.1"  # DCAT-AP 2.1.1, as Accept-Profile and Content-Profile name it
PROFILE_TOKEN = "dcat-ap-2"  # ?profile=dcat-ap-2
DCAT_AP_3 = "http://data.europa.eu/r5r/3.0.1"

_ENDS = frozenset({DCAT.endDate})
_DATES = frozenset({DCT.issued, DCT.modified, DCAT.startDate, DCAT.endDate})
_SHA1 = SPDX.checksumAlgorithm_sha1


def _as_date(literal: Literal, end: bool) -> Literal:
    """A year or month as the date of its first day (or, for an end, its last day)."""
    value = literal.value
    if literal.datatype == XSD.gYear:
        return Literal(f"{value}-12-31" if end else f"{value}-01-01", datatype=XSD.date)
    year, month = (int(part) for part in value.split("-")[:2])
    day = calendar.monthrange(year, month)[1] if end else 1
    return Literal(f"{year:04d}-{month:02d}-{day:02d}", datatype=XSD.date)


def to_dcat_ap_2(triples: Iterable[Triple]) -> Iterator[Triple]:
    """The DCAT-AP 2.1.1 view of a document's triples."""
    triples = list(triples)
    other_checksums = {
        t.subject for t in triples if t.predicate == SPDX.algorithm and t.object != _SHA1
    }  # checksum nodes DCAT-AP 2.1.1 cannot express
    for t in triples:
        s, p, o = t.subject, t.predicate, t.object
        if s in other_checksums or (p == SPDX.checksum and o in other_checksums):
            continue
        if p in _DATES and isinstance(o, Literal) and o.datatype in (XSD.gYear, XSD.gYearMonth):
            yield Triple(s, p, _as_date(o, p in _ENDS))
        elif p == DCAT.byteSize and isinstance(o, Literal) and o.datatype != XSD.decimal:
            yield Triple(s, p, Literal(o.value, datatype=XSD.decimal))
        elif p == DCAT.version:
            yield Triple(s, OWL.versionInfo, o)
        else:
            yield t


def wants_dcat_ap_2(profile_parameter: str | None, accept_profile: str | None) -> bool:
    """Whether a request asks for the DCAT-AP 2.1.1 view (``?profile=`` token or IRI, or ``Accept-Profile``)."""
    if profile_parameter is not None:
        return profile_parameter.strip().strip("<>") in (PROFILE_TOKEN, PROFILE)
    qualities: dict[str, float] = {}
    for part in (accept_profile or "").split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[name.strip().strip("<>")] = quality
    wanted = qualities.get(PROFILE, 0.0)
    return wanted > 0 and wanted >= qualities.get(DCAT_AP_3, 0.0)


__all__ = ["DCAT_AP_3", "PROFILE", "PROFILE_TOKEN", "to_dcat_ap_2", "wants_dcat_ap_2"]
