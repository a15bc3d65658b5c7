"""What the write APIs share (the CKAN action API's writes, the Graph Store Protocol): who may call them, and
running a write (:mod:`dfl_graph.publishing`).

Write APIs take an API token with write scope (``Authorization: Bearer dfl_...``), never the session cookie:
a cookie rides along on cross-site requests, so accepting one would need CSRF tokens that API clients do not
have (docs/access.md). A malformed, unknown, expired or revoked token never gets here:
:func:`dfl_graph.web.accounts.identify_caller` answers it 401 first.
"""

from __future__ import annotations

from dataclasses import replace

from dfl_graph.accounts.model import Scope
from dfl_graph.accounts.visibility import Caller
from dfl_graph.publishing import WriteOutcome, WriteRequest, write
from dfl_graph.web.access import settings
from dfl_graph.web.accounts import caller, directory


class WriteDenied(Exception):
    """A caller that may not use a write API at all: ``status`` 401 (no token) or 403 (a read-only token)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def write_caller() -> Caller:
    """The caller of a write API: one with an API token of write scope."""
    current = caller()
    if current.via != "token" or current.token is None:
        raise WriteDenied(401, "a write needs an API token with write scope: Authorization: Bearer <token>")
    token = directory().token(current.token)
    if token is None or token.scope != Scope.WRITE:
        raise WriteDenied(403, "this API token is read-only (scope read): writes need a token with write scope")
    return current


def run(request: WriteRequest) -> WriteOutcome:
    """Run a write for the write API's caller (see :func:`dfl_graph.publishing.write`)."""
    current = write_caller()
    return write(settings(), replace(request, actor=current.agent, visibility=current.visibility))


__all__ = ["WriteDenied", "run", "write_caller"]
