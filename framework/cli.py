"""The `overclock` command: parse flags, call into `framework`, render. No logic lives here.

Imports of anything heavy (dbt, duckdb, numpy, rich) happen inside the commands, so that `overclock --help`
and the compile cache's fast path start in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

from framework.config import ConfigError, Settings, parse_vars

if TYPE_CHECKING:
    from framework.dbt import DbtInvocation
    from framework.providers.base import Provider

EXIT_USAGE = 2


class UserError(click.ClickException):
    """An error the user can act on: printed as one line; exit code 2 unless a node failed (1)."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def fail(message: str, exit_code: int = EXIT_USAGE) -> NoReturn:
    raise UserError(message, exit_code)


# --- options shared by every command that talks to a project -----------------------------------------------


def warehouse_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The project and target: enough for commands about a warehouse as a whole (`ns`)."""
    options = [
        click.option(
            "--project-dir",
            type=click.Path(file_okay=False),
            help="dbt project folder (default: ./project of this repository).",
        ),
        click.option(
            "--profiles-dir",
            type=click.Path(file_okay=False),
            help="folder holding profiles.yml (default: the project's, else ~/.dbt).",
        ),
        click.option("-t", "--target", help="profile target: local (DuckDB, default), postgres, bigquery."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def project_options(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--namespace",
            help="write into this namespace (default: $OVERCLOCK_NAMESPACE, ci_<run>, dev_<user>).",
        ),
        click.option("--prod", "production", is_flag=True, help="write into production (explicit, guarded)."),
    ]
    for option in reversed(options):
        function = option(function)
    return warehouse_options(function)


def _checked_vars(_context: click.Context, _parameter: click.Parameter, text: str | None) -> str | None:
    """Refuse malformed --vars in one line before dbt starts (dbt's own message is a parser dump)."""
    try:
        parse_vars(text)
    except ConfigError as exc:
        fail(str(exc))
    return text


def selection_options(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("-s", "--select", "select", multiple=True, help="dbt selection (repeatable)."),
        click.option("--exclude", multiple=True, help="dbt exclusion (repeatable)."),
        click.option("--selector", help="a named selector from selectors.yml."),
        click.option("--vars", callback=_checked_vars, help="YAML dict of project vars, as in dbt."),
        click.option("--threads", type=click.IntRange(min=1), help="dbt threads."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def settings_from(options: dict[str, Any]) -> Settings:
    from framework.config import resolve_settings
    from framework.namespaces.naming import NamespaceError

    try:
        return resolve_settings(
            project_dir=options.get("project_dir"),
            profiles_dir=options.get("profiles_dir"),
            target=options.get("target"),
            namespace=options.get("namespace"),
            production=bool(options.get("production")),
        )
    except (ConfigError, NamespaceError) as exc:
        fail(str(exc))


def selection_args(options: dict[str, Any]) -> list[str]:
    args: list[str] = []
    if options.get("select"):
        args += ["--select", *options["select"]]
    if options.get("exclude"):
        args += ["--exclude", *options["exclude"]]
    if options.get("selector"):
        args += ["--selector", options["selector"]]
    if options.get("vars"):
        args += ["--vars", options["vars"]]
    if options.get("threads"):
        args += ["--threads", str(options["threads"])]
    if options.get("full_refresh"):
        args += ["--full-refresh"]
    return args


def run_and_report(
    settings: Settings, command: Sequence[str], extra: Sequence[str], may_match_nothing: Sequence[str] = ()
) -> DbtInvocation:
    from framework.dbt import run_dbt
    from framework.namespaces import after_dbt_command
    from framework.reporting import render_node_results

    invocation = run_dbt(settings, command, extra, may_match_nothing=may_match_nothing)
    render_node_results(
        invocation.results, title=f"overclock {command[0]} · {settings.target.name} · {settings.namespace}"
    )
    for warning in after_dbt_command(settings, command[0], invocation.results):
        click.echo(f"warning: {warning}", err=True)
    if not invocation.success:
        fail(invocation.error or "dbt failed", invocation.exit_code)
    return invocation


def deferral_args(settings: Settings, options: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`--defer`: the selection (modified models plus the user's) and dbt's flags to read the rest from
    production. Without production state, a note and the user's selection unchanged."""
    from framework.namespaces.deferral import plan_deferral
    from framework.namespaces.naming import NamespaceError

    if not options.get("defer"):
        if options.get("state"):
            fail("--state names the production state for --defer: pass --defer too")
        return options, []
    try:
        plan = plan_deferral(settings, options.get("select") or (), options.get("state"))
    except NamespaceError as exc:
        fail(str(exc))
    if plan.note:
        click.echo(f"note: {plan.note}", err=True)
    return {**options, "select": plan.select}, list(plan.dbt_args)


# --- the commands ------------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="overclock")
def cli() -> None:
    """Overclock: dbt for large teams — compile cache, namespaces, backfills and CI checks."""


def _dbt_command(name: str, help_text: str, full_refresh: bool, deferrable: bool = False) -> None:
    @project_options
    @selection_options
    @click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
    def command(dbt_args: tuple[str, ...], **options: Any) -> None:
        from framework.namespaces.deferral import MODIFIED

        settings = settings_from(options)
        if name != "test" and (refusal := settings.namespace_refusal()):
            fail(refusal)
        options, defer_args = deferral_args(settings, options)
        # An exclusion that matches nothing excludes nothing (`--exclude tag:legacy` once nothing is legacy).
        exclusions = [token for text in options.get("exclude") or () for token in text.split()]
        invocation = run_and_report(
            settings,
            [name],
            [*selection_args(options), *defer_args, *dbt_args],
            may_match_nothing=[MODIFIED, *exclusions],
        )
        if defer_args and not invocation.results:
            click.echo(f"nothing differs from production: {settings.namespace} is up to date")

    if full_refresh:
        command = click.option(
            "--full-refresh", is_flag=True, help="rebuild incremental models from scratch."
        )(command)
    if deferrable:
        command = click.option(
            "--state",
            type=click.Path(file_okay=False, exists=True),
            help="production state (a folder with manifest.json) for --defer; default: the last --prod build's.",
        )(command)
        command = click.option(
            "--defer",
            is_flag=True,
            help="build only models modified against production (plus -s selections), reading the rest from production.",
        )(command)
    cli.command(
        name,
        help=help_text + " Extra dbt flags may follow `--`.",
        context_settings={"ignore_unknown_options": True},
    )(command)


_dbt_command(
    "build", "Build models, seeds, snapshots and run tests, in DAG order.", full_refresh=True, deferrable=True
)
_dbt_command("run", "Build models.", full_refresh=True, deferrable=True)
_dbt_command("test", "Run data tests and unit tests.", full_refresh=False)


@cli.command("compile")
@project_options
@selection_options
def compile_command(**options: Any) -> None:
    """Compile models to SQL (target/compiled, target/manifest.json) through the compile cache."""
    from framework.compile import CompileError, compile_project
    from framework.namespaces import after_dbt_command
    from framework.reporting import render_compile_summary

    settings = settings_from(options)
    try:
        summary = compile_project(settings, select=options.get("select"), vars_text=options.get("vars"))
    except CompileError as exc:
        fail(str(exc), exc.exit_code)
    render_compile_summary(summary)
    for warning in after_dbt_command(settings, "compile", (), summary.manifest_path):
        click.echo(f"warning: {warning}", err=True)


@cli.group("cache")
def cache_group() -> None:
    """Inspect or clear the compile cache."""


@cache_group.command("stats")
@project_options
def cache_stats_command(**options: Any) -> None:
    """Hits, misses, fallbacks to dbt and size of the compile cache."""
    from framework.compile import cache_stats
    from framework.reporting import render_cache_stats

    render_cache_stats(cache_stats(settings_from(options)))


@cache_group.command("clear")
@project_options
def cache_clear_command(**options: Any) -> None:
    """Delete the compile cache (the next compile is a cold one)."""
    from framework.compile import clear_cache

    removed = clear_cache(settings_from(options))
    click.echo(f"removed {removed} cache file(s)")


@cli.command("ls")
@project_options
@selection_options
@click.option("--resource-type", multiple=True, help="model, test, seed, source, ...")
def ls_command(resource_type: tuple[str, ...], **options: Any) -> None:
    """List the project's nodes (dbt ls)."""
    from framework.dbt import run_dbt

    settings = settings_from(options)
    extra = selection_args(options)
    for kind in resource_type:
        extra += ["--resource-type", kind]
    invocation = run_dbt(settings, ["ls"], extra)
    if not invocation.success:
        fail(invocation.error or "dbt ls failed", invocation.exit_code)


@cli.command("demo-data")
@click.option("--scale", type=click.IntRange(min=1), default=1, show_default=True, help="size multiplier.")
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="random seed: the same seed gives identical files.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="output folder (default: the project's data folder).",
)
@click.option("--if-missing", is_flag=True, help="do nothing if the data is already there.")
@click.option("--project-dir", type=click.Path(file_okay=False), help="dbt project folder.")
def demo_data_command(
    scale: int, seed: int, out_dir: str | None, if_missing: bool, project_dir: str | None
) -> None:
    """Generate deterministic raw data for the four demo domains."""
    from pathlib import Path

    from framework.config import resolve_project
    from framework.demo_data import generate_all, is_generated
    from framework.reporting import render_demo_data

    try:
        target_dir = Path(out_dir) if out_dir else resolve_project(project_dir).data_dir
    except ConfigError as exc:
        fail(str(exc))
    if if_missing and is_generated(target_dir):
        click.echo(f"demo data already in {target_dir}; leaving it")
        return
    summary = generate_all(target_dir, scale=scale, seed=seed)
    render_demo_data(summary, target_dir)


@cli.command("check")
@project_options
@click.option("-s", "--select", "select", multiple=True, help="check only these models (dbt selection).")
@click.option("--exclude", multiple=True, help="leave these models out (dbt selection).")
@click.option(
    "--baseline",
    type=click.Path(dir_okay=True),
    help="manifest.json (or its target folder) to compare against for breaking changes, e.g. production's.",
)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=True),
    help="check this compiled manifest instead of compiling the project.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "junit", "github", "markdown"]),
    default="text",
    show_default=True,
    help="report format.",
)
@click.option("--output", type=click.Path(dir_okay=False), help="write the report to this file.")
@click.option(
    "--summary",
    type=click.Path(dir_okay=False),
    envvar="GITHUB_STEP_SUMMARY",
    help="append a Markdown summary to this file (default: $GITHUB_STEP_SUMMARY, a GitHub job's page).",
)
def check_command(
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    baseline: str | None,
    manifest_path: str | None,
    output_format: str,
    output: str | None,
    summary: str | None,
    **options: Any,
) -> None:
    """Check the compiled DAG: SQL validity, DAG rules, breaking changes. Exit 0 clean, 1 violations."""
    from framework.checks.command import USAGE_ERRORS, run_check_command

    settings = settings_from(options)
    try:
        exit_code = run_check_command(
            settings,
            select=select,
            exclude=exclude,
            baseline=baseline,
            manifest_path=manifest_path,
            output_format=output_format,
            output=output,
            summary=summary,
        )
    except USAGE_ERRORS as exc:
        fail(str(exc), getattr(exc, "exit_code", EXIT_USAGE))
    sys.exit(exit_code)


# --- namespaces ----------------------------------------------------------------------------------------------


@cli.group("ns")
def ns_group() -> None:
    """List, drop and garbage-collect namespaces (where each developer and CI run writes)."""


@contextlib.contextmanager
def warehouse(options: dict[str, Any]) -> Iterator[Provider]:
    """A connection to the target's warehouse; a failure to connect is a one-line error."""
    from framework.providers import provider_for
    from framework.providers.base import ProviderConnectionError

    # These commands are about the warehouse as a whole: whatever namespace the environment names (even an
    # invalid one) does not matter, so it is not resolved.
    settings = settings_from({**options, "namespace": None, "production": True})
    try:
        provider = provider_for(settings)
    except ModuleNotFoundError as exc:
        extra = {"psycopg2": "postgres", "google": "bigquery"}.get((exc.name or "").split(".")[0])
        hint = f": install it with pip install 'overclock[{extra}]'" if extra else ""
        fail(f"target '{settings.target.name}' needs the Python package {exc.name}{hint}")
    except ProviderConnectionError as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"cannot connect to target '{settings.target.name}': {type(exc).__name__}: {exc}")
    with provider:
        yield provider


@ns_group.command("list")
@warehouse_options
def ns_list_command(**options: Any) -> None:
    """Namespaces in the warehouse: owner, schemas, relations, size (where the engine reports it), last build."""
    from framework.namespaces.listing import take_inventory
    from framework.reporting import render_namespaces

    with warehouse(options) as provider:
        inventory = take_inventory(provider)
    render_namespaces(inventory.namespaces)


@ns_group.command("drop")
@warehouse_options
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="drop without asking.")
def ns_drop_command(name: str, yes: bool, **options: Any) -> None:
    """Drop namespace NAME: every schema (dataset) it has and its registry rows. Never production."""
    from framework.namespaces.gc import drop_namespace, resolve_drop_target
    from framework.namespaces.listing import take_inventory
    from framework.namespaces.naming import NamespaceError

    with warehouse(options) as provider:
        try:
            summary = resolve_drop_target(take_inventory(provider), name, provider.engine)
        except NamespaceError as exc:
            fail(str(exc))
        what = f"namespace {summary.name}: {summary.relations} relation(s) in {', '.join(summary.schemas) or 'no schema'}"
        if not yes:
            try:
                confirmed = click.confirm(f"drop {what}?", default=False)
            except click.Abort:
                fail("not dropped: confirm interactively, or pass --yes")
            if not confirmed:
                click.echo("nothing dropped")
                return
        drop_namespace(provider, summary)
    click.echo(f"dropped {what}")


@ns_group.command("gc")
@warehouse_options
@click.option("--older-than", default="7d", show_default=True, help="age of the last build: 12h, 7d, 2w ...")
@click.option("--yes", "-y", is_flag=True, help="drop them; without it, only list what would be dropped.")
def ns_gc_command(older_than: str, yes: bool, **options: Any) -> None:
    """Drop namespaces whose last build is older than the bound (dry run unless --yes). Never production."""
    from framework.namespaces.gc import collect_garbage, parse_age, plan_garbage_collection
    from framework.namespaces.naming import NamespaceError
    from framework.reporting import render_garbage_plan

    try:
        age = parse_age(older_than)
    except NamespaceError as exc:
        fail(str(exc))
    with warehouse(options) as provider:
        plan = plan_garbage_collection(provider, age)
        render_garbage_plan(plan, dry_run=not yes)
        if yes:
            dropped = collect_garbage(provider, plan)
            click.echo(f"dropped {len(dropped)} namespace(s)")
        elif plan.expired:
            click.echo(f"dry run: {len(plan.expired)} namespace(s) would be dropped; pass --yes to drop them")


@cli.group("export")
def export_group() -> None:
    """Export built marts to the systems that consume them."""


@export_group.command("search-feed")
@project_options
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="folder for the NDJSON files (<cluster>/<index>/<batch_id>.ndjson) and manifest.json.",
)
def export_search_feed_command(out_dir: str, **options: Any) -> None:
    """Write the search feed's bulk batches as Elasticsearch _bulk NDJSON, one file set per destination."""
    from framework.search_feed import SearchFeedError, export_search_feed
    from framework.search_feed.report import render_export

    try:
        export = export_search_feed(settings_from(options), out_dir)
    except SearchFeedError as exc:
        fail(str(exc))
    render_export(export)


# --- backfills ---------------------------------------------------------------------------------------------


@cli.group("backfill", invoke_without_command=True)
@project_options
@click.option(
    "-s", "--select", "select", multiple=True, help="models to backfill (dbt selection, repeatable)."
)
@click.option("--exclude", multiple=True, help="models to leave out (dbt selection, repeatable).")
@click.option("--start", help="first partition: YYYY-MM-DD (or YYYY-MM, YYYY-MM-DDTHH).")
@click.option("--end", help="last partition, inclusive: --end 2025-12-31 is that whole day.")
@click.option(
    "--grain", type=click.Choice(["hour", "day", "month"]), help="interval size (default: the model's)."
)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="batches at once.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), help="partitions per dbt invocation (default by grain)."
)
@click.option("--vars", help="YAML dict of project vars passed to every batch.")
@click.option("--dry-run", is_flag=True, help="print the plan; run nothing, write nothing.")
@click.pass_context
def backfill_group(ctx: click.Context, **options: Any) -> None:
    """Backfill partitioned models over a range: plan, run batches in dependency order, record what is done.

    \b
    overclock backfill -s fct_live_event_broadcast_acks --start 2025-01-01 --end 2025-12-31 [--dry-run]
    overclock backfill status [RUN_ID] | resume RUN_ID | cancel RUN_ID
    """
    if ctx.invoked_subcommand is not None:
        return
    from framework.backfill import BackfillError, BackfillRequest, plan_backfill_run, run_backfill
    from framework.backfill.progress import RichProgress, render_plan

    if not (options["select"] and options["start"] and options["end"]):
        fail("backfill needs -s/--select, --start and --end (or a subcommand: status, resume, cancel)")
    try:
        user_vars = parse_vars(options["vars"])
    except ConfigError as exc:
        fail(str(exc))
    request = BackfillRequest(
        select=tuple(options["select"]),
        exclude=tuple(options["exclude"]),
        start=options["start"],
        end=options["end"],
        grain=options["grain"],
        batch_size=options["batch_size"],
        workers=options["workers"],
        vars=user_vars,
    )
    settings = settings_from(options)
    try:
        if options["dry_run"]:
            render_plan(plan_backfill_run(settings, request))
            return
        result = run_backfill(settings, request, RichProgress())
    except BackfillError as exc:
        fail(str(exc))
    ctx.exit(result.exit_code)


@backfill_group.command("status")
@project_options
@click.argument("run_id", required=False)
def backfill_status_command(run_id: str | None, **options: Any) -> None:
    """A run's state and progress; without RUN_ID, the recent runs."""
    from framework.backfill import BackfillError, backfill_status, list_runs
    from framework.backfill.progress import render_runs, render_status

    settings = settings_from(options)
    try:
        if run_id:
            render_status(backfill_status(settings, run_id))
        else:
            render_runs(list_runs(settings))
    except BackfillError as exc:
        fail(str(exc))


@backfill_group.command("resume")
@project_options
@click.argument("run_id")
@click.option(
    "--workers", type=click.IntRange(min=1), help="batches at once (default: as the run was started)."
)
@click.pass_context
def backfill_resume_command(ctx: click.Context, run_id: str, workers: int | None, **options: Any) -> None:
    """Continue a run after a crash, a failure or a cancel: recorded intervals are skipped."""
    from framework.backfill import BackfillError, resume_backfill
    from framework.backfill.progress import RichProgress

    try:
        result = resume_backfill(settings_from(options), run_id, RichProgress(), workers=workers)
    except BackfillError as exc:
        fail(str(exc))
    ctx.exit(result.exit_code)


@backfill_group.command("cancel")
@project_options
@click.argument("run_id")
def backfill_cancel_command(run_id: str, **options: Any) -> None:
    """Stop a run: batches already running finish and are recorded, nothing more starts."""
    from framework.backfill import BackfillError, cancel_backfill

    try:
        status = cancel_backfill(settings_from(options), run_id)
    except BackfillError as exc:
        fail(str(exc))
    click.echo(
        f"cancel requested for {status.run_id} ({status.state}); resume it later with `overclock backfill resume {run_id}`"
    )


# dbt takes several values after one selection flag (`-s a b+`); click takes one per flag. Repeat the flag.
MULTI_VALUE_FLAGS = frozenset({"-s", "--select", "--exclude", "-m", "--models"})


def expand_multi_value_flags(argv: Sequence[str]) -> list[str]:
    """`-s a b --full-refresh` → `-s a -s b --full-refresh`; everything after `--` is left alone."""
    expanded: list[str] = []
    flag: str | None = None
    for index, token in enumerate(argv):
        if token == "--":
            return [*expanded, *argv[index:]]
        if token.startswith("-"):
            flag = token if token in MULTI_VALUE_FLAGS else None
            expanded.append(token)
        elif flag is not None and expanded[-1] != flag:
            expanded += [flag, token]
        else:
            expanded.append(token)
    return expanded


def main(argv: Sequence[str] | None = None) -> None:
    args = expand_multi_value_flags(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args=args, prog_name="overclock", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence: one readable line, never a bare traceback
        from framework.providers.base import ProviderConnectionError

        if isinstance(exc, ProviderConnectionError):  # any command that reaches the warehouse itself
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        if os.environ.get("OVERCLOCK_DEBUG"):
            raise
        click.echo(
            f"error: internal error: {type(exc).__name__}: {exc} (set OVERCLOCK_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
