"""Federation, inbound: harvesting London's portals into the catalogue, incrementally.

``harvest.toml`` (:mod:`.config`) lists the sources; :mod:`.http` fetches from the real web within limits;
:mod:`.fetchers` reads a whole source (DataPress export, CKAN ``package_search``, DCAT-US ``data.json``,
DCAT RDF with Hydra paging); :mod:`.mapping` maps what changed through the existing loaders and hashes it;
:mod:`dfl_graph.ingest` writes the difference in one published step; :mod:`.report` keeps each run's report
as RDF. :func:`.run.harvest` ties them together (``dfl harvest``). See docs/federation.md.
"""

from dfl_graph.harvest.config import ConfigError, HarvestConfig, SourceConfig, read_config
from dfl_graph.harvest.http import FetchError, HttpClient, HttpPolicy
from dfl_graph.harvest.report import SourceReport
from dfl_graph.harvest.run import HarvestError, harvest, harvest_source

__all__ = [
    "ConfigError",
    "FetchError",
    "HarvestConfig",
    "HarvestError",
    "HttpClient",
    "HttpPolicy",
    "SourceConfig",
    "SourceReport",
    "harvest",
    "harvest_source",
    "read_config",
]
