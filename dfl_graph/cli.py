"""The ``dfl`` command: load, harvest, validate, stats, dump, restore, generate, pull, push, serve."""

from __future__ import annotations

import errno
import json
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dfl_graph.config import DEFAULT_CATALOGUE, PROJECT_DIR, Settings
from dfl_graph.store import CatalogueReader, CatalogueStore, StoreError
from loaders import LOADERS, LoadError

console = Console(stderr=True, soft_wrap=True)  # messages name long paths: never hard-wrap them
# Text from sources, files and errors goes through rich.markup.escape: `resources[id]` is a field, not a style.


class Context:
    def __init__(self, data_dir: Path | None, base: str | None) -> None:
        self.settings = Settings.from_env(data_dir=data_dir, base=base)

    def writer(self) -> CatalogueStore:
        from dfl_graph.indexes.registry import open_writer

        return open_writer(self.settings.data_dir, self.settings.uris, self.settings.backend())

    def reader(self) -> CatalogueReader:
        return CatalogueReader(self.settings.data_dir, self.settings.backend())


pass_context = click.make_pass_decorator(Context)


def fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.exit(1)


def environment_problem(error: OSError | sqlite3.Error) -> str:
    """What an operating-system or disk problem means, in one sentence (never a traceback)."""
    if isinstance(error, sqlite3.Error):
        text = str(error)
        if "full" in text:
            return f"no space left on the device holding the store ({text})"
        return f"an index file could not be written ({text})"
    where = error.filename or ""
    code = error.errno
    text = str(error)
    if code == errno.ENOSPC or "No space left" in text:
        return f"no space left on the device{f' holding {where}' if where else ''}"
    if code == errno.EROFS or "Read-only file system" in text:
        return f"{where or 'the store'} is on a read-only file system"
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return f"permission denied: {where or text}"
    return f"{error.strerror or text}{f': {where}' if where else ''}"


class Cli(click.Group):
    """The ``dfl`` group: an environment problem (permissions, a full or read-only disk) in any command is one
    clear error line, never a traceback; a write that met it published nothing."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (OSError, sqlite3.Error) as error:
            fail(f"{environment_problem(error)}\nnothing was published: the catalogue is as it was")
        except StoreError as error:
            fail(str(error))


@click.group(cls=Cli)
@click.option("--store", "data_dir", type=click.Path(file_okay=False, path_type=Path), help="Data directory.")
@click.option("--base", help="Base URL every IRI is minted under (default http://localhost:8000).")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, base: str | None) -> None:
    """Data for London: the London data catalogue as DCAT-AP 3 linked data."""
    ctx.obj = Context(data_dir, base)


def store_option(fn):
    """``--store`` and ``--base`` accepted after the verb too (``dfl load ... --store DIR``)."""

    def set_store(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
        if value is not None:
            settings = ctx.ensure_object(Context).settings
            ctx.obj.settings = replace(settings, data_dir=value)

    def set_base(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None:
            settings = ctx.ensure_object(Context).settings
            ctx.obj.settings = replace(settings, base=value)

    fn = click.option(
        "--store",
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        callback=set_store,
        help="Data directory (the on-disk store and its published generations).",
    )(fn)
    return click.option("--base", expose_value=False, callback=set_base, help="Base URL every IRI is minted under.")(fn)


SHOWN_PROBLEMS = 50  # the terminal shows this many; --problems FILE has them all


def load_into(
    ctx: Context,
    format_name: str,
    path: Path,
    source: str,
    problems_file: Path | None,
    as_json: bool,
    origin: str | None = None,
) -> None:
    from dfl_graph.ingest import ensure_vocabularies, load_file
    from dfl_graph.problem_lines import problem_object, write_problem_lines
    from dfl_graph.vocabularies import Vocabularies

    with ctx.writer() as store, console.status(f"loading {path} as {format_name} into source {source!r}"):
        if ensure_vocabularies(store) and not as_json:
            console.print("loaded the shipped vocabularies")
        report = load_file(store, Vocabularies(store.uris), format_name, path, source, origin)
    if problems_file is not None:
        write_problem_lines(report.problems, problems_file)
    if as_json:
        summary = {k: v for k, v in asdict(report).items() if k != "problems"}
        summary["problems"] = len(report.problems)
        summary["problems_file"] = str(problems_file) if problems_file else None
        summary["first_problems"] = [problem_object(p) for p in report.problems[:SHOWN_PROBLEMS]]
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    for problem in report.problems[:SHOWN_PROBLEMS]:
        console.print(f"[yellow]problem[/] {escape(str(problem))}", highlight=False)
    if len(report.problems) > SHOWN_PROBLEMS:
        rest = len(report.problems) - SHOWN_PROBLEMS
        where = f"all {len(report.problems)} are in {problems_file}" if problems_file else "--problems FILE lists all"
        console.print(f"... and {rest} more problems ({escape(where)})", highlight=False)
    console.print(
        f"[green]loaded[/] {report.datasets} datasets and {report.services} data services"
        f" ({report.public} public, {report.restricted} not public), "
        f"{report.distributions} distributions into source {source!r}: {report.new} new, {report.updated} updated,"
        f" {report.unchanged} unchanged, {report.withdrawn} withdrawn, {report.rejected} rejected"
        f" ({report.mode}, +{report.quads_added}/-{report.quads_removed} quads); generation {report.generation};"
        f" {len(report.problems)} problems",
        highlight=False,
    )
    counts = report.counts  # the loader's counters (docs/loaders.md): what went in and what came out
    console.print(
        f"read {counts.get('items', 0)} items: {counts.get('records', 0)} records,"
        f" {counts.get('rejected', 0)} rejected; {counts.get('distributions_read', 0)} distributions read,"
        f" {counts.get('distributions_kept', 0)} kept; {counts.get('services_read', 0)} data services read,"
        f" {counts.get('services_kept', 0)} kept",
        highlight=False,
    )


def _portal_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """An --origin must be an http(s) URL: a record's provenance is never a guess."""
    from loaders.iris import clean_iri

    if value is not None and clean_iri(value) is None:
        raise click.BadParameter(f"not an http(s) URL: {value!r}")
    return value


@main.command()
@click.argument("format_name", metavar="FORMAT", type=click.Choice(sorted(LOADERS)))
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--source", required=True, help="Source name: its records replace that source's graphs.")
@click.option(
    "--problems",
    "problems_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every problem to FILE as JSON lines (record, field, what, value).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the load report as JSON.")
@click.option(
    "--origin",
    metavar="URL",
    callback=_portal_url,
    help="The portal the file came from (https://data.birmingham.gov.uk): each CKAN record's package_show URL"
    " and each DataPress record's dataset API URL are on it, when the file does not show them.",
)
@store_option
@pass_context
def load(
    ctx: Context,
    format_name: str,
    path: Path,
    source: str,
    problems_file: Path | None,
    as_json: bool,
    origin: str | None,
) -> None:
    """Load a source file (replacing that source, atomically)."""
    try:
        load_into(ctx, format_name, path, source, problems_file, as_json, origin)
    except (LoadError, StoreError, ValueError) as error:
        fail(f"{error}\nthe catalogue is unchanged")


@main.command()
@click.option("--shapes", default="dfl", show_default=True, help='"dfl", "dcat-ap" (official 3.0.1) or a path.')
@click.option("--all-graphs", is_flag=True, help="Validate restricted records too (default: public graphs).")
@click.option("--json", "as_json", is_flag=True)
@store_option
@pass_context
def validate(ctx: Context, shapes: str, all_graphs: bool, as_json: bool) -> None:
    """Validate the published catalogue with SHACL; exit 1 on violations."""
    from pyoxigraph import NamedNode

    from dfl_graph.validation import validate_store

    snapshot = _snapshot(ctx)
    graphs = [NamedNode(g) for g in snapshot.manifest.graphs] if all_graphs else snapshot.public_graphs
    try:
        report = validate_store(snapshot.store, graphs, shapes, ctx.settings.base)
    except FileNotFoundError as error:
        fail(str(error))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "shapes": shapes,
                    "violations": report.violations,
                    "warnings": report.warnings,
                    "findings": [f.__dict__ for f in report.findings],
                },
                indent=1,
            )
        )
    else:
        for finding in report.findings[:100]:
            click.echo(str(finding))
        click.echo(f"{report.violations} violations, {report.warnings} warnings ({shapes})")
    sys.exit(0 if report.conforms else 1)


def _readers(info: dict) -> str:
    """Who may query a graph, from its registry entry (docs/access.md)."""
    if info.get("public"):
        return "everyone"
    if info.get("access") == "restricted":
        return "trusted readers"
    if info.get("access") == "non-public" and info.get("organisation"):
        return f"members of {info['organisation'].rstrip('/').rsplit('/', 1)[-1]}"
    return "administrators"


def _snapshot(ctx: Context):
    try:
        return ctx.reader().snapshot()
    except StoreError as error:
        fail(str(error))


@main.command()
@click.option("--json", "as_json", is_flag=True)
@store_option
@pass_context
def stats(ctx: Context, as_json: bool) -> None:
    """Datasets, distributions, publishers, triples per graph, store generation."""
    from dfl_graph.statistics import catalogue_statistics

    result = catalogue_statistics(_snapshot(ctx))
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    table = Table(title=f"generation {result['generation']} (published {result['published_at']})")
    for column in ("graph", "public", "read by", "quads"):
        table.add_column(column)
    for graph, info in result["graphs"].items():
        table.add_row(graph, "yes" if info["public"] else "no", _readers(info), str(info["quads"]))
    Console().print(table)
    click.echo(
        f"{result['datasets']} datasets ({result['public_datasets']} public), {result['distributions']} distributions, "
        f"{result['publishers']} publishers, {result['quads']} quads"
    )


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@store_option
@pass_context
def dump(ctx: Context, path: Path) -> None:
    """Write the whole store (every graph) as N-Quads."""
    with ctx.writer() as store:
        count = store.dump(path)
    console.print(f"wrote {count} quads to {path}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public", is_flag=True, help="Mark the restored graphs public (e.g. a test suite's graphs).")
@store_option
@pass_context
def restore(ctx: Context, path: Path, public: bool) -> None:
    """Load an N-Quads file keeping its graph names (replacing those graphs)."""
    try:
        with ctx.writer() as store:
            count = store.restore(path, public=public)
            console.print(f"restored {count} quads; generation {store.generation}")
    except StoreError as error:
        fail(f"{error}\nthe catalogue is unchanged")


@main.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sources to harvest (default: ./harvest.toml if there is one, else the project's harvest.toml).",
)
@click.option("--source", "names", multiple=True, help="Harvest only this source (repeatable; default: all enabled).")
@click.option("--json", "as_json", is_flag=True, help="Print the run reports as JSON on stdout.")
@store_option
@pass_context
def harvest(ctx: Context, config_path: Path | None, names: tuple[str, ...], as_json: bool) -> None:
    """Harvest the portals of harvest.toml into the catalogue, incrementally; exit 1 if any source failed."""
    from dfl_graph.harvest import ConfigError, harvest_source, read_config
    from dfl_graph.ingest import ensure_vocabularies
    from dfl_graph.vocabularies import Vocabularies

    if config_path is None:
        here = Path.cwd() / "harvest.toml"
        config_path = here if here.is_file() else PROJECT_DIR / "harvest.toml"
        console.print(f"reading the sources to harvest from {config_path}", highlight=False)

    try:
        config = read_config(config_path)
        sources = [config.source(n) for n in names] if names else [s for s in config.sources if s.enabled]
    except ConfigError as error:
        fail(str(error))
    if not sources:
        fail(f"{config_path}: no enabled sources to harvest")
    reports = []
    try:
        with ctx.writer() as store, console.status("harvesting") as status:
            if ensure_vocabularies(store):
                console.print("loaded the shipped vocabularies")
            vocabularies = Vocabularies(store.uris)
            for number, source in enumerate(sources, start=1):

                def progress(name: str, message: str, number: int = number) -> None:
                    status.update(f"[{number}/{len(sources)}] {name}: {message}")

                report = harvest_source(store, vocabularies, source, progress)
                reports.append(report)
                _print_harvest(report)
    except StoreError as error:
        fail(str(error))
    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], indent=1, ensure_ascii=False))
    if any(r.status != "ok" for r in reports):
        sys.exit(1)


def _print_harvest(report) -> None:
    if report.status != "ok":
        console.print(
            f"[bold red]failed[/] {report.source}: {escape(str(report.error))}\nthe source is unchanged",
            highlight=False,
        )
        return
    totals = {name: report.total(name) for name in ("fetched", "new", "updated", "unchanged", "withdrawn", "rejected")}
    console.print(
        f"[green]harvested[/] {report.source} ({report.type}, {report.pages} page(s), {report.bytes:,} bytes): "
        + ", ".join(f"{value:,} {name}" for name, value in totals.items())
        + f"; {report.links} linked to other sources; generation {report.generation};"
        f" {report.timings.get('total', 0):.1f} s",
        highlight=False,
    )
    for label, reason in report.rejections[:20]:
        console.print(f"  [yellow]rejected[/] {escape(f'{label}: {reason}')}", highlight=False)
    if len(report.rejections) > 20:
        console.print(f"  ... and {len(report.rejections) - 20} more rejected")


@main.command()
@click.argument("n", type=click.IntRange(min=1))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", default=2010, show_default=True)
def generate(n: int, out: Path, seed: int) -> None:
    """Write a deterministic synthetic DataPress export of N London datasets."""
    from dfl_graph.generate import generate_export

    with console.status(f"generating {n} datasets"):
        count = generate_export(n, out, seed=seed)
    console.print(f"wrote {count} datasets to {out}")


def _repeat(every: float | None, attempt: Callable[[], None], failed: str) -> None:
    """Run ``attempt`` once, or every ``every`` seconds for ever (a failure is printed, and the next try made)."""
    import time

    while True:
        try:
            attempt()
        except StoreError as error:
            if every is None:
                raise
            console.print(f"[yellow]{failed}:[/] {escape(str(error))}", highlight=False)
        if every is None:
            return
        time.sleep(every)


@main.command()
@click.argument("source")
@click.option("--every", type=click.FloatRange(min=0.5), help="Keep pulling, every this many seconds.")
@store_option
@pass_context
def pull(ctx: Context, source: str, every: float | None) -> None:
    """Pull the generation SOURCE has published into this web node's --store. SOURCE is the writer's data
    directory, or the s3://bucket/prefix it pushes to (`dfl push`)."""
    from dfl_graph.replication import pull as pull_generation

    def attempt() -> None:
        generation, copied = pull_generation(source, ctx.settings.data_dir)
        if copied or every is None:
            console.print(f"serving generation {generation} in {ctx.settings.data_dir}", highlight=False)

    _repeat(every, attempt, "not pulled")


@main.command()
@click.argument("bucket")
@click.option("--every", type=click.FloatRange(min=0.5), help="Keep pushing each new generation, checking this often.")
@store_option
@pass_context
def push(ctx: Context, bucket: str, every: float | None) -> None:
    """Upload the generation this --store has published to BUCKET (s3://bucket/prefix), for web nodes to pull.
    The connection is boto3's: AWS_* credentials, and AWS_ENDPOINT_URL for MinIO and other S3-compatible stores."""
    from dfl_graph.replication import push as push_generation

    def attempt() -> None:
        generation, uploaded = push_generation(ctx.settings.data_dir, bucket)
        if uploaded or every is None:
            console.print(f"generation {generation} is the newest in {bucket}", highlight=False)

    _repeat(every, attempt, "not pushed")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=4, show_default=True, help="gunicorn worker processes.")
@click.option("--no-default", is_flag=True, help="Do not load the embedded default catalogue on first run.")
@click.option("--dev", is_flag=True, help="Flask's single-process development server instead of gunicorn.")
@store_option
@pass_context
def serve(ctx: Context, host: str, port: int, workers: int, no_default: bool, dev: bool) -> None:
    """Serve the catalogue (loading the embedded default London data on first run)."""
    if CatalogueReader(ctx.settings.data_dir).current_generation() is None and not no_default:
        console.print(f"first run: loading the embedded default catalogue into {ctx.settings.data_dir}")
        load_into(ctx, "lds2010", DEFAULT_CATALOGUE, "london-datastore-2010", None, False)
    published_base = ctx.reader().snapshot().manifest.base
    if published_base != ctx.settings.uris.base:
        fail(
            f"the catalogue in {ctx.settings.data_dir} was minted for base {published_base}, not "
            f"{ctx.settings.uris.base}: its IRIs would not dereference. Serve it with --base {published_base}, "
            "or load it again with the new base into another --store."
        )
    from dfl_graph.serving import run

    run(ctx.settings, host=host, port=port, workers=workers, dev=dev)


from dfl_graph.accounts.commands import ACCESS_COMMANDS  # noqa: E402  (they use this module's helpers)

for _command in ACCESS_COMMANDS:
    main.add_command(_command)
