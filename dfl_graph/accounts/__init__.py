"""Accounts, roles, API tokens, sign-in and the audit journal: who may read and write what (docs/access.md).

* :mod:`~dfl_graph.accounts.database`: the SQLite file ``{data_dir}/accounts.sqlite`` and its migrations;
* :mod:`~dfl_graph.accounts.model`: accounts, roles, grants, tokens as values;
* :mod:`~dfl_graph.accounts.directory`: every change and every authentication (one audited transaction each);
* :mod:`~dfl_graph.accounts.visibility`: the per-request :class:`Visibility` every interface applies;
* :mod:`~dfl_graph.accounts.audit` and :mod:`~dfl_graph.accounts.provenance`: the journal, and its PROV
  rendering in the system graph;
* :mod:`~dfl_graph.accounts.credentials`, :mod:`~dfl_graph.accounts.rate_limit`,
  :mod:`~dfl_graph.accounts.mail`: secrets, sign-in limits, sign-in mail.

The web side is :mod:`dfl_graph.web.accounts` (pages, sign-in, the caller of each request); the command
line is :mod:`dfl_graph.accounts.commands` (``dfl accounts|grants|tokens|audit``).
"""

from __future__ import annotations

from dfl_graph.accounts.database import AccountsDatabase
from dfl_graph.accounts.directory import AccessError, Directory, InvalidCredentials
from dfl_graph.accounts.visibility import ANONYMOUS, Caller, Visibility
from dfl_graph.config import Settings


def organisations(settings: Settings) -> dict[str, str]:
    """Publisher IRI -> name, from the shipped ``ontology/publishers.ttl``: what grants may name."""
    from dfl_graph.vocabularies import Vocabularies

    vocabularies = Vocabularies(settings.uris)
    labels = vocabularies.labels
    return {iri.value: labels.get(iri.value, pub_id) for pub_id, iri in sorted(vocabularies.publishers.items())}


def open_directory(settings: Settings) -> Directory:
    return Directory(AccountsDatabase(settings.data_dir), organisations(settings))


__all__ = [
    "ANONYMOUS",
    "AccessError",
    "AccountsDatabase",
    "Caller",
    "Directory",
    "InvalidCredentials",
    "Visibility",
    "open_directory",
    "organisations",
]
