"""One mapper per source format, each turning its source into :class:`dfl_graph.records.DatasetRecord`.

Add a format by writing a :class:`loaders.base.Loader` subclass in its own module and naming it here.
"""

from __future__ import annotations

from importlib import import_module

from loaders.base import Loader, LoadError

# The value normalisers every mapper shares, one module per kind of value (loaders/<name>.py).
VALUE_MODULES = (
    "access_rights",
    "dates",
    "file_formats",
    "frequencies",
    "iris",
    "licences",
    "places",
    "source_fields",
    "text",
)

# format name -> "module:Class"; imported on use so one broken mapper never breaks the others.
LOADERS: dict[str, str] = {
    "lds2010": "loaders.lds2010:Lds2010Loader",
    "datapress": "loaders.datapress:DataPressLoader",
    "ckan": "loaders.ckan:CkanLoader",
    "dcat": "loaders.dcat_rdf:DcatRdfLoader",
    "datajson": "loaders.datajson:DataJsonLoader",
}


def loader_class(name: str) -> type[Loader]:
    """The loader class for a format name; KeyError names the formats there are."""
    try:
        module, cls = LOADERS[name].split(":")
    except KeyError:
        raise KeyError(f"unknown format {name!r}; known formats: {', '.join(sorted(LOADERS))}") from None
    return getattr(import_module(module), cls)


__all__ = ["LOADERS", "VALUE_MODULES", "LoadError", "Loader", "loader_class"]
