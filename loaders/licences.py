"""Licences as portals spell them (ids, titles, URLs) -> licence IRIs (the EU licence authority list where it has them).

An unversioned name means the version current when DCAT-AP 3 was published (OGL v3, CC 4.0, ODC 1.0);
any other http(s) URL is kept as the licence IRI as given. See docs/loaders.md ("Licences").
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from loaders.iris import clean_iri
from loaders.text import html_to_text, match_key

EU_LICENCE = "http://publications.europa.eu/resource/authority/licence/"


# Normalised licence names/ids (see _licence_key) -> EU licence code. An unversioned name means the
# version current when DCAT-AP 3 was published (OGL v3, CC 4.0, ODC 1.0): documented in docs/loaders.md.
_LICENCE_KEYS: dict[str, str] = {}


def _add_licences(code: str, *keys: str) -> None:
    for key in keys:
        _LICENCE_KEYS[key] = code


_add_licences(
    "OGL_3_0",
    "ogl",
    "uk ogl",
    "ogl uk",
    "ogl v3",
    "ogl v3 0",
    "ogl 3",
    "ogl 3 0",
    "ogl uk 3 0",
    "ogl3",
    "uk ogl v3",
    "open government licence",
    "open government license",
    "open government licence v3",
    "open government licence v3 0",
    "open government licence version 3",
    "open government licence version 3 0",
    "open government licence 3 0",
    "uk open government licence",
    "uk open government licence ogl",
    "uk open government licence ogl v3",
    "ogl uk 3",
    "oglv3",
    "ogl v 3",
)
_add_licences(
    "OGL_2_0",
    "oglv2",
    "uk open government licence ogl v2",
    "ogl v2",
    "ogl 2",
    "ogl 2 0",
    "ogl uk 2 0",
    "open government licence v2",
    "open government licence v2 0",
)
_add_licences(
    "OGL_1_0",
    "oglv1",
    "uk open government licence ogl v1",
    "ogl v1",
    "ogl 1",
    "ogl 1 0",
    "ogl uk 1 0",
    "open government licence v1",
    "open government licence v1 0",
)
_add_licences("OGL_NC", "ogl nc", "ncgl", "non commercial government licence")
_add_licences(
    "CC_BY_4_0",
    "cc by",
    "cc by 4 0",
    "cc by 4",
    "cc by v4",
    "ccby",
    "creative commons attribution",
    "creative commons attribution 4 0",
    "creative commons attribution 4 0 international",
    "creative commons attribution cc by",
    "cc attribution",
)
_add_licences("CC_BY_3_0", "cc by 3 0", "cc by 3", "creative commons attribution 3 0")
_add_licences("CC_BY_2_5", "cc by 2 5")
_add_licences("CC_BY_2_0", "cc by 2 0")
_add_licences(
    "CC_BYSA_4_0",
    "cc by sa",
    "cc by sa 4 0",
    "creative commons attribution share alike",
    "creative commons attribution sharealike",
    "creative commons attribution sharealike 4 0",
    "creative commons attribution share alike 4 0",
)
_add_licences("CC_BYSA_3_0", "cc by sa 3 0")
_add_licences("CC_BYNC_4_0", "cc by nc", "cc by nc 4 0", "cc nc", "creative commons non commercial")
_add_licences("CC_BYND_4_0", "cc by nd", "cc by nd 4 0")
_add_licences("CC_BYNCSA_4_0", "cc by nc sa", "cc by nc sa 4 0")
_add_licences("CC_BYNCND_4_0", "cc by nc nd", "cc by nc nd 4 0")
_add_licences(
    "CC0",
    "cc0",
    "cc0 1 0",
    "cc zero",
    "cc 0",
    "creative commons cc0",
    "creative commons cc zero",
    "creative commons cczero",
    "cc0 1 0 universal",
    "creative commons cc0 1 0 universal",
    "public domain dedication",
)
_add_licences("CC_PDM_1_0", "public domain mark", "cc pdm", "pdm")
_add_licences(
    "ODC_BL",
    "odbl",
    "odbl 1 0",
    "odc odbl",
    "odc odbl 1 0",
    "open database license",
    "open data commons open database license",
    "open data commons open database license odbl",
    "open data commons open database license v1 0",
)
_add_licences("ODC_BY", "odc by", "odc by 1 0", "open data commons attribution license")
_add_licences("ODC_PDDL", "odc pddl", "pddl", "open data commons public domain dedication and license")
_add_licences("MIT", "mit", "mit license")
_add_licences("APACHE_2_0", "apache 2 0", "apache license 2 0")

# Canonical licence URLs (host+path, lower-case, no trailing slash / "legalcode" / "deed.*") -> EU code.
_LICENCE_URLS: dict[str, str] = {
    "www.nationalarchives.gov.uk/doc/open-government-licence/version/3": "OGL_3_0",
    "www.nationalarchives.gov.uk/doc/open-government-licence/version/2": "OGL_2_0",
    "www.nationalarchives.gov.uk/doc/open-government-licence/version/1": "OGL_1_0",
    "www.nationalarchives.gov.uk/doc/open-government-licence": "OGL_3_0",
    "www.nationalarchives.gov.uk/doc/open-government-licence/open-government-licence.htm": "OGL_3_0",
    "www.nationalarchives.gov.uk/doc/non-commercial-government-licence": "OGL_NC",
    "reference.data.gov.uk/id/open-government-licence": "OGL_3_0",
    "creativecommons.org/licenses/by/4.0": "CC_BY_4_0",
    "creativecommons.org/licenses/by/3.0": "CC_BY_3_0",
    "creativecommons.org/licenses/by/2.5": "CC_BY_2_5",
    "creativecommons.org/licenses/by/2.0": "CC_BY_2_0",
    "creativecommons.org/licenses/by-sa/4.0": "CC_BYSA_4_0",
    "creativecommons.org/licenses/by-sa/3.0": "CC_BYSA_3_0",
    "creativecommons.org/licenses/by-nc/4.0": "CC_BYNC_4_0",
    "creativecommons.org/licenses/by-nd/4.0": "CC_BYND_4_0",
    "creativecommons.org/licenses/by-nc-sa/4.0": "CC_BYNCSA_4_0",
    "creativecommons.org/licenses/by-nc-nd/4.0": "CC_BYNCND_4_0",
    "creativecommons.org/publicdomain/zero/1.0": "CC0",
    "creativecommons.org/publicdomain/mark/1.0": "CC_PDM_1_0",
    "opendatacommons.org/licenses/odbl": "ODC_BL",
    "opendatacommons.org/licenses/odbl/1.0": "ODC_BL",
    "opendatacommons.org/licenses/by": "ODC_BY",
    "opendatacommons.org/licenses/by/1.0": "ODC_BY",
    "opendatacommons.org/licenses/pddl": "ODC_PDDL",
    "opendatacommons.org/licenses/pddl/1.0": "ODC_PDDL",
    "www.opendefinition.org/licenses/cc-by": "CC_BY_4_0",
    "www.opendefinition.org/licenses/cc-by-sa": "CC_BYSA_4_0",
    "www.opendefinition.org/licenses/cc-zero": "CC0",
    "www.opendefinition.org/licenses/odc-odbl": "ODC_BL",
    "www.opendefinition.org/licenses/odc-by": "ODC_BY",
    "www.opendefinition.org/licenses/odc-pddl": "ODC_PDDL",
    "opendefinition.org/licenses/cc-by": "CC_BY_4_0",
    "opendefinition.org/licenses/cc-zero": "CC0",
    "opendefinition.org/licenses/odc-odbl": "ODC_BL",
}

#: Every EU licence-authority code :func:`licence_iri` can map a name, id or URL to (an EU licence IRI
#: given as such is passed through unchanged). ``ontology/tools/build_vocabularies.py`` describes each
#: of these in ``eu-vocabularies.ttl``, so every licence IRI the loaders mint has a label there.
LICENCE_CODES: frozenset[str] = frozenset(_LICENCE_KEYS.values()) | frozenset(_LICENCE_URLS.values())

# Licence ids that name no specific licence: "not specified", and CKAN's generic "other-*" ids
# ("Other (Open)", "Other (Attribution)" ...), which no licence IRI can stand for.
_NO_LICENCE = frozenset(
    {
        "notspecified",
        "not specified",
        "none",
        "null",
        "unknown",
        "n a",
        "na",
        "",
        "other",
        "other open",
        "other pd",
        "other public domain",
        "other at",
        "other attribution",
        "other nc",
        "other non commercial",
        "other closed",
        "other not open",
    }
)


def _licence_key(text: str) -> str:
    return match_key(text.lower().replace("licensed", "licence"))


def _licence_url_key(url: str) -> str:
    parts = urlsplit(url.strip())
    host = parts.netloc.lower()
    if host in ("nationalarchives.gov.uk", "creativecommons.org", "opendatacommons.org"):
        host = {"nationalarchives.gov.uk": "www.nationalarchives.gov.uk"}.get(host, host)
    if host == "www.creativecommons.org":
        host = "creativecommons.org"
    path = parts.path.rstrip("/")
    for suffix in ("/legalcode", "/deed.en", "/deed.en_gb", "/summary"):
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
    # creative commons jurisdiction ports: /licenses/by/2.5/dk/ stays specific (kept verbatim)
    return f"{host}{path.rstrip('/')}".lower()


@lru_cache(maxsize=4096)
def licence_iri(value: str | None) -> str | None:
    """A licence id, title or URL -> licence IRI; None if the value names no licence we can identify.

    Known licences map to the EU licence authority list (``.../licence/OGL_3_0``); any other http(s)
    URL is kept as the licence IRI (when it is a valid IRI). Unknown names give None: the caller reports. A licence
    given as HTML (``<p>Open Government Licence v3</p>``) is matched by its text, as its publisher reads it.
    """
    if value is None:
        return None
    text = _as_text(value)
    if not text:
        return None
    if text.startswith(EU_LICENCE):
        return text
    if text.startswith(("http://", "https://")):
        code = _LICENCE_URLS.get(_licence_url_key(text))
        if code:
            return EU_LICENCE + code
        return clean_iri(text)
    key = _licence_key(text)
    if key in _LICENCE_KEYS:
        return EU_LICENCE + _LICENCE_KEYS[key]
    if key.replace(" ", "_").upper() in LICENCE_CODES:
        return EU_LICENCE + key.replace(" ", "_").upper()
    return None


def is_no_licence(value: str | None) -> bool:
    """True for ids such as CKAN's "notspecified" that say the source names no licence."""
    return value is None or _licence_key(_as_text(value)) in _NO_LICENCE


def _as_text(value: str) -> str:
    """A licence as its publisher reads it: HTML markup reduced to its text."""
    return (html_to_text(value) or "") if "<" in value else value.strip()
