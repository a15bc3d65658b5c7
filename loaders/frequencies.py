"""Update frequencies ("Monthly", "Ad hoc", EU / Dublin Core / SDMX IRIs) -> EU frequency codes."""

from __future__ import annotations

from functools import lru_cache

from loaders.text import match_key

EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"

EU_FREQUENCIES = frozenset(
    [
        "10MIN",
        "12HRS",
        "15MIN",
        "1MIN",
        "30MIN",
        "5MIN",
        "ANNUAL",
        "ANNUAL_2",
        "ANNUAL_3",
        "AS_NEEDED",
        "BIDECENNIAL",
        "BIENNIAL",
        "BIHOURLY",
        "BIMONTHLY",
        "BIWEEKLY",
        "CONT",
        "DAILY",
        "DAILY_2",
        "DECENNIAL",
        "HOURLY",
        "IRREG",
        "MONTHLY",
        "MONTHLY_2",
        "MONTHLY_3",
        "NEVER",
        "NOT_PLANNED",
        "OTHER",
        "QUADRENNIAL",
        "QUARTERLY",
        "QUINQUENNIAL",
        "TRIDECENNIAL",
        "TRIENNIAL",
        "TRIHOURLY",
        "UNKNOWN",
        "UPDATE_CONT",
        "WEEKLY",
        "WEEKLY_2",
        "WEEKLY_3",
    ]
)

_FREQUENCY_WORDS: dict[str, str] = {}


def _add_frequencies(code: str, *labels: str) -> None:
    for label in labels:
        _FREQUENCY_WORDS[label] = code


_add_frequencies("DAILY", "daily", "every day", "day", "each day")
_add_frequencies("DAILY_2", "twice a day", "twice daily")
_add_frequencies("WEEKLY", "weekly", "every week", "week", "each week")
_add_frequencies("WEEKLY_2", "semiweekly", "semi weekly", "twice a week", "twice weekly")
_add_frequencies("WEEKLY_3", "three times a week", "threetimesaweek")
_add_frequencies("BIWEEKLY", "biweekly", "bi weekly", "fortnightly", "every two weeks", "every 2 weeks")
_add_frequencies("MONTHLY", "monthly", "every month", "month", "each month")
_add_frequencies("MONTHLY_2", "semimonthly", "semi monthly", "twice a month", "twice monthly")
_add_frequencies("MONTHLY_3", "three times a month", "threetimesamonth")
_add_frequencies("BIMONTHLY", "bimonthly", "bi monthly", "every two months", "every 2 months")
_add_frequencies("QUARTERLY", "quarterly", "every quarter", "every three months", "every 3 months", "quarter")
_add_frequencies(
    "ANNUAL_2",
    "semiannual",
    "semi annual",
    "semiannually",
    "semi annually",
    "biannual",
    "biannually",
    "bi annually",
    "half yearly",
    "six monthly",
    "6 monthly",
    "twice a year",
    "every six months",
    "every 6 months",
)
_add_frequencies("ANNUAL_3", "three times a year", "threetimesayear")
_add_frequencies("ANNUAL", "annual", "annually", "yearly", "every year", "year", "each year", "once a year")
_add_frequencies("BIENNIAL", "biennial", "biennially", "every two years", "every 2 years")
_add_frequencies("TRIENNIAL", "triennial", "every three years", "every 3 years")
_add_frequencies("QUADRENNIAL", "quadrennial", "every four years", "every 4 years")
_add_frequencies("QUINQUENNIAL", "quinquennial", "every five years", "every 5 years")
_add_frequencies("DECENNIAL", "decennial", "every ten years", "every 10 years")
_add_frequencies("HOURLY", "hourly", "every hour")
_add_frequencies("CONT", "continuous", "continual", "continuously")
_add_frequencies("UPDATE_CONT", "real time", "realtime", "live", "continuously updated", "updated continuously")
_add_frequencies("IRREG", "irregular", "irregularly", "ad hoc", "adhoc", "as required", "when required", "occasional")
_add_frequencies("AS_NEEDED", "as needed")
_add_frequencies("NEVER", "never", "one off", "once", "no updates", "not updated", "no longer updated", "static")
_add_frequencies("NOT_PLANNED", "not planned", "no planned updates")
_add_frequencies("UNKNOWN", "unknown")
_add_frequencies("OTHER", "other")

_CLD_FREQ = "http://purl.org/cld/freq/"  # Dublin Core Collection Description frequencies (DCAT 2 examples)
_SDMX_FREQ = "http://purl.org/linked-data/sdmx/2009/code#freq-"  # SDMX code list (W3C DCAT examples)
_SDMX_CODES = {"A": "ANNUAL", "S": "ANNUAL_2", "Q": "QUARTERLY", "M": "MONTHLY", "W": "WEEKLY", "D": "DAILY"}


@lru_cache(maxsize=1024)
def frequency_code(value: str | None) -> str | None:
    """A frequency label or IRI -> EU frequency code ("Monthly" -> "MONTHLY"); None if unknown."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.startswith(EU_FREQUENCY):
        code = text[len(EU_FREQUENCY) :].strip("/")
        return code if code in EU_FREQUENCIES else None
    if text.startswith(_SDMX_FREQ):
        return _SDMX_CODES.get(text[len(_SDMX_FREQ) :])
    if text.startswith(_CLD_FREQ):
        text = text[len(_CLD_FREQ) :].lower()
    if text in EU_FREQUENCIES:
        return text
    return _FREQUENCY_WORDS.get(match_key(text))
