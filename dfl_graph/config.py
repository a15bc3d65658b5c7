"""Settings, from defaults < environment (``DFL_*``) < command-line options."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from dfl_graph.uris import DEFAULT_BASE, Uris

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_DIR / "var" / "catalogue"
DEFAULT_CATALOGUE = PROJECT_DIR / "data" / "london-datastore-2010" / "london-datastore-2010-datasets.csv"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    base: str = DEFAULT_BASE
    # where the graphs are stored: "" for the embedded Oxigraph store, or a remote SPARQL store
    # (sparql+http://user:password@host:port/sparql?update=...&gsp=...: docs/deployment.md)
    store: str = field(default="", repr=False)
    # public SPARQL endpoint limits
    query_timeout: float = 10.0
    max_query_length: int = 20_000
    max_result_rows: int = 100_000
    max_result_bytes: int = 50_000_000
    max_concurrent_queries: int = 4
    # catalogue feed and crawler support
    max_per_page: int = 500
    sitemap_max_urls: int = 50_000  # per sitemap file (the sitemaps.org limit); past it, a sitemap index
    document_cache_bytes: int = 64_000_000  # finished documents cached per web worker
    # accounts and sign-in (docs/access.md): mail by SMTP when smtp_host is set, else into mail_outbox (a folder)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    mail_from: str = "Data for London <no-reply@localhost>"
    mail_outbox: str = ""
    oidc_issuer: str = ""  # an OpenID Connect provider's issuer URL; empty: sign-in by e-mail link only
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_label: str = "your organisation's account"
    login_attempts_per_client: int = 20  # sign-in requests per client address per 15 minutes, across workers
    # previews of distributions' first rows (dfl_graph/web/preview.py): the largest file fetched (0: none),
    # and whether hosts on loopback or private networks may be fetched (1: yes; tests, intranets)
    preview_max_bytes: int = 1_000_000
    preview_local_hosts: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def uris(self) -> Uris:
        return Uris(self.base)

    def backend(self):
        """The store backend ``store`` names (:func:`dfl_graph.backends.backend_for`)."""
        from dfl_graph.backends import backend_for

        return backend_for(self.store, self.base)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then ``DFL_<FIELD>`` environment variables (``DFL_DATA_DIR``, ``DFL_BASE``,
        ``DFL_QUERY_TIMEOUT``, ...), then the non-None ``overrides`` (command-line options)."""
        values: dict[str, object] = {}
        for item in fields(cls):
            raw = os.environ.get("DFL_" + item.name.upper())
            if raw is not None and item.name != "extra":
                default = getattr(cls, item.name)
                values[item.name] = Path(raw) if isinstance(default, Path) else type(default)(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
