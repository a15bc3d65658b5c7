"""``harvest.toml``: the portals a harvest reads, one ``[[source]]`` table each.

::

    [http]                      # optional: limits for every request (see HttpPolicy)
    connect_timeout = 10
    read_timeout = 60
    retries = 3

    [[source]]
    name = "london-datastore"   # the source name: its records live in the graphs {base}/graph/{name}
    type = "datapress"          # datapress | ckan | datajson | dcat
    url = "https://data.london.gov.uk/api/v3/datasets/export.json"
    title = "London Datastore"  # optional, shown on /harvest
    [source.options]            # optional, per type (see SOURCE_OPTIONS); `http` overrides [http]
    rows = 1000

Mistakes are refused with the file, the source and the key named, before anything is fetched.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dfl_graph.harvest.http import HttpPolicy
from dfl_graph.plan import check_source_name

SOURCE_TYPES = ("datapress", "ckan", "datajson", "dcat")
# options every source accepts, and those of each type, with their defaults
COMMON_OPTIONS: dict[str, object] = {
    "enabled": True,
    "max_withdrawn_fraction": 0.5,  # refuse a run that would withdraw more than this share of the source
    "http": {},
}
SOURCE_OPTIONS: dict[str, dict[str, object]] = {
    "datapress": {},
    "ckan": {"rows": 1000, "q": "", "fq": "", "max_pages": 1000},
    "datajson": {},
    "dcat": {"max_pages": 1000, "accept": ""},
}


class ConfigError(ValueError):
    """harvest.toml cannot be used: says where and why."""


@dataclass(frozen=True)
class SourceConfig:
    name: str
    type: str
    url: str
    title: str
    options: dict = field(default_factory=dict)
    http: HttpPolicy = field(default_factory=HttpPolicy)

    def option(self, key: str):
        return self.options[key]

    @property
    def enabled(self) -> bool:
        return bool(self.options.get("enabled", True))


@dataclass(frozen=True)
class HarvestConfig:
    path: Path
    sources: tuple[SourceConfig, ...]
    http: HttpPolicy

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"{self.path}: no source named {name!r} (sources: {known})")


def read_config(path: Path | str) -> HarvestConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return parse_config(data, path)


def parse_config(data: dict, path: Path) -> HarvestConfig:
    unknown = sorted(set(data) - {"http", "source"})
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {', '.join(unknown)} (expected [http] and [[source]])")
    try:
        http = HttpPolicy.from_options(_table(data.get("http", {}), path, "[http]"))
    except ValueError as error:
        raise ConfigError(f"{path}: [http]: {error}") from None
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(f"{path}: `source` must be an array of tables ([[source]])")
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_sources, start=1):
        where = f"{path}: [[source]] #{number}"
        raw = _table(raw, path, where)
        source = _source(raw, where, http)
        if source.name in seen:
            raise ConfigError(f"{where}: a second source named {source.name!r}")
        seen.add(source.name)
        sources.append(source)
    return HarvestConfig(path, tuple(sources), http)


def _table(value: object, path: Path, where: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    return value


def _source(raw: dict, where: str, http: HttpPolicy) -> SourceConfig:
    unknown = sorted(set(raw) - {"name", "type", "url", "title", "options"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (expected name, type, url, title, options)")
    for key in ("name", "type", "url"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(f"{where}: `{key}` is required (a non-empty string)")
    name = raw["name"].strip()
    where = f"{where} ({name})"
    try:
        check_source_name(name)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
    kind = raw["type"].strip().lower()
    if kind not in SOURCE_TYPES:
        raise ConfigError(f"{where}: unknown type {raw['type']!r}; known types: {', '.join(SOURCE_TYPES)}")
    url = raw["url"].strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: url must be an absolute http(s) URL, got {url!r}")
    title = raw.get("title", name)
    if not isinstance(title, str):
        raise ConfigError(f"{where}: `title` must be a string")
    given = raw.get("options", {})
    if not isinstance(given, dict):
        raise ConfigError(f"{where}: `options` must be a table")
    defaults = {**COMMON_OPTIONS, **SOURCE_OPTIONS[kind]}
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ConfigError(
            f"{where}: unknown option(s) {', '.join(unknown)} for a {kind} source; known: {', '.join(sorted(defaults))}"
        )
    options = {**defaults, **given}
    for key, default in defaults.items():
        value = options[key]
        if key == "http":
            continue
        if isinstance(default, bool):
            wanted, ok = "boolean", isinstance(value, bool)
        elif isinstance(default, int):
            wanted, ok = "whole number", isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            wanted, ok = "number", isinstance(value, int | float) and not isinstance(value, bool)
        else:
            wanted, ok = "string", isinstance(value, str)
        if not ok:
            raise ConfigError(f"{where}: option {key} must be a {wanted}, got {value!r}")
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"{where}: option {key} must be >= 0, got {value!r}")
    if kind == "ckan" and not 1 <= options["rows"] <= 1000:
        raise ConfigError(f"{where}: option rows must be between 1 and 1000 (CKAN's limit), got {options['rows']}")
    if "max_pages" in options and options["max_pages"] < 1:
        raise ConfigError(f"{where}: option max_pages must be at least 1")
    if not 0 <= options["max_withdrawn_fraction"] <= 1:
        raise ConfigError(f"{where}: option max_withdrawn_fraction must be between 0 and 1")
    try:
        policy = HttpPolicy.from_options(_table(options["http"], Path(""), "options.http"), http)
    except (ValueError, ConfigError) as error:
        raise ConfigError(f"{where}: options.http: {error}") from None
    return SourceConfig(name, kind, url, title.strip() or name, options, policy)


__all__ = ["SOURCE_TYPES", "ConfigError", "HarvestConfig", "SourceConfig", "parse_config", "read_config"]
