"""What every page of the site shares: template filters for the layout in ``templates/base.html``."""

from __future__ import annotations

from flask import Blueprint

from dfl_graph.web.views.paths import local

blueprint = Blueprint("site", __name__)


@blueprint.app_template_filter("local")
def local_filter(iri: str | None) -> str | None:
    """``{{ iri | local }}``: an IRI under the base as a path on this server, others unchanged."""
    return local(iri)


@blueprint.app_template_filter("when")
def when_filter(value: str | None) -> str:
    """``{{ "2011-03-16T06:44:30Z" | when }}`` -> "2011-03-16"; years and months stay as the source gives them."""
    if not value:
        return ""
    return value.split("T", 1)[0]


@blueprint.app_template_filter("bytes")
def bytes_filter(size: int | None) -> str:
    """``{{ 1234567 | bytes }}`` -> "1.2 MB"."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"


__all__ = ["blueprint"]
