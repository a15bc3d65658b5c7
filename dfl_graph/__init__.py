"""Data for London: the London data catalogue as DCAT-AP 3 linked data on an embedded Oxigraph store."""

__version__ = "0.1.0"
