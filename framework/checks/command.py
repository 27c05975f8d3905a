"""`overclock check` as a function: gather the inputs, run the rules, write the report, return the exit code."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from framework.checks.compiled import CompileFailed, SelectionError
from framework.checks.config import CheckConfigError
from framework.checks.manifest import ManifestError
from framework.checks.registry import RuleRegistryError
from framework.config import Settings
from framework.plugins import PluginError

# Errors the user fixes (a path, a config, a plugin, a project that does not compile): one line, exit 2
# (or dbt's own exit code when compilation failed).
USAGE_ERRORS = (
    ManifestError,
    CheckConfigError,
    PluginError,
    RuleRegistryError,
    CompileFailed,
    SelectionError,
)


def run_check_command(
    settings: Settings,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    baseline: str | None = None,
    manifest_path: str | None = None,
    output_format: str = "text",
    output: str | None = None,
    summary: str | None = None,
) -> int:
    from framework.checks.compiled import compile_for_check, load_for_check, select_models
    from framework.checks.config import load_check_config
    from framework.checks.manifest import load_manifest
    from framework.checks.reporters import render
    from framework.checks.runner import run_checks

    config = load_check_config(settings.project.project_dir)
    baseline_manifest = load_manifest(baseline, role="baseline manifest") if baseline else None
    if manifest_path:
        project = load_for_check(manifest_path)
    else:
        # Compilation's progress goes to stderr: stdout carries only the report (json, junit, github).
        with contextlib.redirect_stdout(sys.stderr):
            project = compile_for_check(settings, select)
    if project.note:
        print(f"note: the project did not compile, checking its parsed DAG ({project.note})", file=sys.stderr)
    elif not project.compiled:
        print(
            "note: the manifest holds no compiled SQL (dbt parse?): sql_validity has nothing to check",
            file=sys.stderr,
        )
    selected = select_models(project.manifest, select, exclude) if select or exclude else None
    report = run_checks(
        project.manifest,
        config=config,
        baseline=baseline_manifest,
        project_dir=settings.project.project_dir,
        selected=selected,
        cache_dir=settings.project.home / "checks",
    )
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(render(report, output_format))
        print(render(report, "text"), end="")
        print(f"wrote the {output_format} report to {output}")
    elif output_format == "text":
        from framework.checks.reporters.text import render_text

        print(render_text(report, color=sys.stdout.isatty()), end="")
    else:
        print(render(report, output_format), end="")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(render(report, "markdown"))
    return report.exit_code
