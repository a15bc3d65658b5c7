"""Free-form fields of JSON portals (DataPress ``custom``, CKAN ``extras``): key matching and yes/no flags.

Keys are matched after :func:`field_key` (lower-case, punctuation as ``_``), so "Update frequency",
``update_frequency`` and ``Update-Frequency`` are one key.
"""

from __future__ import annotations

from loaders.text import match_key

# custom-field / extras keys, normalised by field_key(): lower-case, runs of non-alphanumerics as "_"
FREQUENCY_KEYS = frozenset(
    {
        "update_frequency",
        "frequency",
        "update_freq",
        "accrual_periodicity",
        "accrualperiodicity",
        "refresh_frequency",
        "update_cycle",
        "frequency_of_update",
    }
)
BOROUGH_KEYS = frozenset({"borough", "boroughs", "london_borough", "london_boroughs", "local_authority", "spatial"})
PERSONAL_KEYS = frozenset({"personal_data", "contains_personal_data", "has_personal_data", "personal"})
ACCESS_REASON_KEYS = frozenset({"access_reason", "access_reasons"})
ACCESS_NOTE_KEYS = frozenset({"access_reason_note"})
CATEGORY_KEYS = frozenset({"personal_data_categories", "personal_data_category"})
LEGAL_BASIS_KEYS = frozenset({"legal_basis", "legal_bases"})
ARCHIVED_KEYS = frozenset({"archived", "is_archived"})
STATUS_KEYS = frozenset({"status", "dataset_status", "lifecycle"})

_FIELD_KEYS: dict[str, str] = {}


def field_key(name: str) -> str:
    """A custom field's name normalised for matching: "Update frequency" -> "update_frequency"."""
    key = _FIELD_KEYS.get(name)
    if key is None:
        key = _FIELD_KEYS[name] = "_".join(match_key(name).split())
    return key


def parse_flag(value: object) -> bool | None:
    """A yes/no flag as sources spell it (True, "yes", "Y", "true", "1", "no" ...); None if neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("yes", "y", "true", "t", "1"):
            return True
        if word in ("no", "n", "false", "f", "0"):
            return False
    return None
