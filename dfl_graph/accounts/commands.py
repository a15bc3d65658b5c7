"""``dfl accounts``, ``dfl grants``, ``dfl tokens``, ``dfl audit``: managing access from the server's shell.

The shell is where the first administrator comes from (``dfl grants add administrator --account ...``),
and where an operator acts when the web is not an option. Changes are audited like the web's, with the
actor ``cli:<user>``, and then published into the catalogue's system graph when the catalogue exists and
no other writer is busy (else ``dfl audit publish`` does it later, and so does every write in phase 2).
A token's secret is printed once, on standard output only, for a script to capture.
"""

from __future__ import annotations

import contextlib
import getpass
import json
from collections.abc import Iterator
from pathlib import Path

import click

from dfl_graph.accounts import AccessError, Directory, open_directory
from dfl_graph.accounts.model import Account, Role, Scope
from dfl_graph.accounts.provenance import audit_nquads, publish_audit
from dfl_graph.cli import Context, console, fail, pass_context, store_option
from dfl_graph.store import CatalogueReader, StoreError


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _directory(ctx: Context) -> Directory:
    return open_directory(ctx.settings)


def _publish(ctx: Context, directory: Directory) -> None:
    """Put the audit events not yet in the system graph there, if a catalogue exists and nobody is writing."""
    if CatalogueReader(ctx.settings.data_dir).current_generation() is None:
        return
    try:
        with ctx.writer() as store:
            count, generation = publish_audit(directory.database, store)
    except StoreError as error:
        console.print(f"[yellow]audit not yet in the system graph[/] ({error}); `dfl audit publish` will put it there")
        return
    if count:
        console.print(f"audit: {count} event(s) published in the system graph, generation {generation}")


@contextlib.contextmanager
def _changing(ctx: Context, directory: Directory) -> Iterator[None]:
    """A change: its AccessError is the command's error message; once done, its audit is published."""
    try:
        yield
    except AccessError as error:
        fail(str(error))
    _publish(ctx, directory)


def _find(directory: Directory, key: str) -> Account:
    try:
        return directory.find_account(key)
    except AccessError as error:
        fail(str(error))
        raise


def _echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=1, ensure_ascii=False))


# -- accounts -------------------------------------------------------------------------------------------
@click.group("accounts")
def accounts_group() -> None:
    """Accounts (people, named by their verified e-mail address)."""


@accounts_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@store_option
@pass_context
def accounts_list(ctx: Context, as_json: bool) -> None:
    """Every account, with what it may see and write."""
    directory = _directory(ctx)
    rows = [
        {**account.__dict__, "visibility": directory.visibility_of(account).describe()}
        for account in directory.accounts()
    ]
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        state = f"disabled {row['disabled_at']}" if row["disabled_at"] else "active"
        click.echo(f"{row['id']}  {row['email']}  {state}  sees: {'; '.join(row['visibility'])}")


@accounts_group.command("create")
@click.argument("email")
@click.option("--name", help="The person's name, as shown to administrators.")
@store_option
@pass_context
def accounts_create(ctx: Context, email: str, name: str | None) -> None:
    """Create the account of an e-mail address (it signs in by link or OpenID Connect; it has no password)."""
    directory = _directory(ctx)
    with _changing(ctx, directory):
        account = directory.ensure_account(email, _actor(), name)
    click.echo(account.id)


@accounts_group.command("disable")
@click.argument("account")
@store_option
@pass_context
def accounts_disable(ctx: Context, account: str) -> None:
    """Disable an account (by e-mail or id): its sessions and tokens stop working at once."""
    directory = _directory(ctx)
    found = _find(directory, account)
    with _changing(ctx, directory):
        directory.set_disabled(found.id, True, _actor())
    console.print(f"disabled {found.email}")


@accounts_group.command("enable")
@click.argument("account")
@store_option
@pass_context
def accounts_enable(ctx: Context, account: str) -> None:
    """Enable a disabled account again."""
    directory = _directory(ctx)
    found = _find(directory, account)
    with _changing(ctx, directory):
        directory.set_disabled(found.id, False, _actor())
    console.print(f"enabled {found.email}")


# -- grants ---------------------------------------------------------------------------------------------
@click.group("grants")
def grants_group() -> None:
    """Access grants: reader, member or publisher of an organisation, administrator."""


@grants_group.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Revoked grants too.")
@click.option("--json", "as_json", is_flag=True)
@store_option
@pass_context
def grants_list(ctx: Context, include_revoked: bool, as_json: bool) -> None:
    grants = _directory(ctx).grants(include_revoked)
    if as_json:
        _echo_json([{**g.__dict__, "role": g.role.value} for g in grants])
        return
    for g in grants:
        where = f" of {g.organisation}" if g.organisation else ""
        revoked = f"  revoked {g.revoked_at}" if g.revoked_at else ""
        click.echo(f"{g.id}  {g.subject_kind} {g.subject}  {g.role}{where}{revoked}")


@grants_group.command("add")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--account", help="The account (e-mail or id) to grant the role to.")
@click.option("--domain", help="Or every verified address of this e-mail domain (reader and member only).")
@click.option("--organisation", help="For member and publisher: a publisher id (e.g. tfl) or IRI.")
@click.option("--reason", help="Why: kept in the grant and its audit record.")
@store_option
@pass_context
def grants_add(
    ctx: Context, role: str, account: str | None, domain: str | None, organisation: str | None, reason: str | None
) -> None:
    """Grant a role; prints the grant's id."""
    directory = _directory(ctx)
    with _changing(ctx, directory):
        grant = directory.add_grant(_actor(), role, account, domain, organisation, reason)
    click.echo(grant.id)


@grants_group.command("revoke")
@click.argument("grant_id")
@store_option
@pass_context
def grants_revoke(ctx: Context, grant_id: str) -> None:
    directory = _directory(ctx)
    with _changing(ctx, directory):
        directory.revoke_grant(grant_id, _actor())
    console.print(f"revoked grant {grant_id}")


# -- tokens ---------------------------------------------------------------------------------------------
@click.group("tokens")
def tokens_group() -> None:
    """API tokens: random, shown once, stored hashed, scoped (read or write), expiring, revocable."""


@tokens_group.command("list")
@click.option("--account", help="Only this account's tokens (e-mail or id).")
@click.option("--json", "as_json", is_flag=True)
@store_option
@pass_context
def tokens_list(ctx: Context, account: str | None, as_json: bool) -> None:
    directory = _directory(ctx)
    owner = _find(directory, account) if account else None
    tokens = directory.tokens(owner)
    if as_json:
        _echo_json([{**t.__dict__, "scope": t.scope.value} for t in tokens])
        return
    for t in tokens:
        state = f"revoked {t.revoked_at}" if t.revoked_at else f"expires {t.expires_at}"
        click.echo(f"{t.id}  {t.account}  {t.scope}  {state}  {t.label}")


@tokens_group.command("create")
@click.argument("account")
@click.option("--label", required=True, help="What the token is for.")
@click.option("--scope", type=click.Choice([s.value for s in Scope]), default="read", show_default=True)
@click.option("--days", type=int, default=90, show_default=True, help="Days until it expires (at most 366).")
@store_option
@pass_context
def tokens_create(ctx: Context, account: str, label: str, scope: str, days: int) -> None:
    """Create a token for an account; its secret text is printed on stdout, this once."""
    directory = _directory(ctx)
    owner = _find(directory, account)
    with _changing(ctx, directory):
        issued = directory.issue_token(owner, label, scope, days, _actor())
    console.print(f"token {issued.token.id} ({scope}) for {owner.email}, expires {issued.token.expires_at}")
    click.echo(issued.text)


@tokens_group.command("revoke")
@click.argument("token_id")
@store_option
@pass_context
def tokens_revoke(ctx: Context, token_id: str) -> None:
    directory = _directory(ctx)
    with _changing(ctx, directory):
        directory.revoke_token(token_id, _actor())
    console.print(f"revoked token {token_id}")


# -- audit ----------------------------------------------------------------------------------------------
@click.group("audit")
def audit_group() -> None:
    """The audit journal of access changes (and, from phase 2, of dataset writes)."""


@audit_group.command("list")
@click.option("--actor", help="Only this actor's events (an account id, or cli:<user>).")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@store_option
@pass_context
def audit_list(ctx: Context, actor: str | None, limit: int, as_json: bool) -> None:
    events = _directory(ctx).audit_events(actor, limit)
    if as_json:
        _echo_json([e.to_json() for e in events])
        return
    for e in events:
        click.echo(f"{e.at}  {e.actor}  {e.action}  {e.target}  {e.before_digest or '-'} -> {e.after_digest or '-'}")


@audit_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--actor", help="Only this actor's events.")
@store_option
@pass_context
def audit_export(ctx: Context, path: Path, actor: str | None) -> None:
    """Write the journal as PROV N-Quads (PATH ending .nq) or JSON (.json)."""
    if path.suffix not in (".nq", ".json"):
        fail(f"{path}: give a file name ending .nq (PROV N-Quads) or .json")
    events = _directory(ctx).audit_events(actor)
    if path.suffix == ".json":
        path.write_text(json.dumps({"events": [e.to_json() for e in events]}, indent=1, ensure_ascii=False))
    else:
        path.write_bytes(audit_nquads(ctx.settings.uris, events))
    console.print(f"wrote {len(events)} events to {path}")


@audit_group.command("publish")
@store_option
@pass_context
def audit_publish(ctx: Context) -> None:
    """Put the events not yet in the catalogue's system graph there (one published generation)."""
    if CatalogueReader(ctx.settings.data_dir).current_generation() is None:
        fail(f"no catalogue has been published in {ctx.settings.data_dir} yet (run `dfl load`)")
    try:
        with ctx.writer() as store:
            count, generation = publish_audit(_directory(ctx).database, store)
    except StoreError as error:
        fail(str(error))
    console.print(f"published {count} event(s)" + (f" in generation {generation}" if generation else ""))


ACCESS_COMMANDS = (accounts_group, grants_group, tokens_group, audit_group)
