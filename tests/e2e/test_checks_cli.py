"""`overclock check` as CI runs it: a subprocess over real fixture projects, compiled through dbt.

tests/fixtures/checks/violations has exactly one violation per rule, each on its own model; clean has none;
cycle has two models that read each other (dbt will not compile it, the check reports it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "checks"
OVERCLOCK = str(Path(sys.executable).with_name("overclock"))

pytestmark = pytest.mark.slow
# The tests over the `violations` fixture run on one worker, so that its project is checked once.
on_violations = pytest.mark.xdist_group("checks_violations")


@dataclass
class Project:
    path: Path
    env: dict[str, str]
    target: Path

    def check(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [OVERCLOCK, "check", "--project-dir", str(self.path), *args],
            env={**self.env, **(env or {})},
            cwd=self.path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


def _project(name: str, tmp: Path) -> Project:
    path = tmp / name
    shutil.copytree(FIXTURES / name, path)
    home = tmp / f"{name}-home"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OVERCLOCK_", "DBT_", "GITHUB_"))
    }
    env.update(
        OVERCLOCK_HOME=str(home),
        DBT_TARGET_PATH=str(home / "target"),
        DBT_LOG_PATH=str(home / "logs"),
        OVERCLOCK_NAMESPACE="ci_checks",
        DO_NOT_TRACK="1",
    )
    return Project(path, env, home / "target")


@pytest.fixture(scope="module")
def violations(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Project, subprocess.CompletedProcess[str]]]:
    project = _project("violations", tmp_path_factory.mktemp("checks"))
    result = project.check("--format", "json", "--output", "report.json")
    yield project, result


@on_violations
def test_each_rule_reports_its_violation_once_at_the_right_place(
    violations: tuple[Project, subprocess.CompletedProcess[str]],
) -> None:
    project, result = violations
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads((project.path / "report.json").read_text())
    found = sorted((v["rule"], v["model"], v["path"], v["line"]) for v in report["violations"])
    assert found == sorted(
        [
            ("sql_validity", "int_orders_broken", "models/intermediate/int_orders_broken.sql", 11),
            ("layer_order", "int_orders_ranked", "models/intermediate/int_orders_ranked.sql", 2),
            ("mart_reads_source", "fct_payments", "models/marts/fct_payments.sql", 6),
            ("documentation", "dim_customers", "models/marts/_shop__marts.yml", 19),
            ("naming_conventions", "customer_orders", "models/marts/customer_orders.sql", 1),
        ]
    )
    assert report["summary"]["models_checked"] == 8
    # With --output, stdout still tells a person what happened.
    assert "failed: 5 errors, 0 warnings in 8 models" in result.stdout
    assert "wrote the json report to report.json" in result.stdout


@on_violations
def test_github_format_prints_annotations(
    violations: tuple[Project, subprocess.CompletedProcess[str]],
) -> None:
    project, _ = violations
    summary = project.path / "summary.md"
    result = project.check(
        "--manifest", str(project.target), "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert result.returncode == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 5
    assert (
        "::error file=models/intermediate/int_orders_broken.sql,line=11,title=sql_validity%3A int_orders_broken::"
        in (result.stdout)
    )
    assert all(re.match(r"::error file=models/[^,]+,line=\d+,title=", line) for line in annotations)
    assert "## overclock check: ❌ failed" in summary.read_text()


@on_violations
def test_junit_report_counts_the_failures(
    violations: tuple[Project, subprocess.CompletedProcess[str]],
) -> None:
    project, _ = violations
    result = project.check("--manifest", str(project.target), "--format", "junit", "--output", "junit.xml")
    assert result.returncode == 1
    root = ElementTree.parse(project.path / "junit.xml").getroot()
    assert root.get("failures") == "5"
    failing = {suite.get("name") for suite in root.iter("testsuite") if suite.get("failures") != "0"}
    assert failing == {
        "sql_validity",
        "layer_order",
        "mart_reads_source",
        "documentation",
        "naming_conventions",
    }


@on_violations
def test_select_limits_the_models_checked(
    violations: tuple[Project, subprocess.CompletedProcess[str]],
) -> None:
    project, _ = violations
    result = project.check("--manifest", str(project.target), "-s", "marts", "--format", "json")
    report = json.loads(result.stdout)
    assert (
        report["summary"]["models_checked"] == 4
    )  # fct_orders, fct_payments, customer_orders, dim_customers
    assert {v["model"] for v in report["violations"]} == {"fct_payments", "dim_customers", "customer_orders"}
    # An exclusion that matches nothing excludes nothing.
    excluded = project.check("--manifest", str(project.target), "-s", "marts", "--exclude", "tag:legacy")
    assert "in 4 models" in excluded.stdout, excluded.stdout + excluded.stderr
    # A selection that matches nothing is a typo: a gate that checked nothing must not pass.
    for spec, error in (
        ("fct_orderz", "error: selection 'fct_orderz' matches no model"),
        (
            "nosuchmethod:x",
            "error: selection 'marts nosuchmethod:x': 'nosuchmethod' is not a valid method name",
        ),
    ):
        typo = project.check("--manifest", str(project.target), "-s", "marts", "-s", spec)
        assert typo.returncode == 2 and typo.stderr.startswith(error), typo.stderr
        assert "Traceback" not in typo.stderr


def test_a_clean_project_reports_nothing(tmp_path: Path) -> None:
    result = _project("clean", tmp_path).check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed: 0 errors, 0 warnings in 4 models" in result.stdout


def test_a_cycle_is_reported_once(tmp_path: Path) -> None:
    result = _project("cycle", tmp_path).check("--format", "json")
    assert result.returncode == 1, result.stderr
    [violation] = json.loads(result.stdout)["violations"]
    assert (violation["rule"], violation["model"], violation["path"], violation["line"]) == (
        "dag_acyclic",
        "int_first",
        "models/intermediate/int_first.sql",
        2,
    )
    assert "Found a cycle" in result.stderr  # why the SQL itself was not checked
    assert "Traceback" not in result.stderr  # dbt's stack trace is not the user's business


def test_breaking_changes_against_a_baseline(tmp_path: Path) -> None:
    breaking = FIXTURES / "breaking"
    project = _project("clean", tmp_path)
    project.path = breaking / "project"  # read only: --manifest means nothing is compiled
    result = project.check(
        "--manifest",
        str(breaking / "manifests" / "removed_column.json"),
        "--baseline",
        str(breaking / "manifests" / "baseline.json"),
        "--format",
        "github",
    )
    assert result.returncode == 1, result.stderr
    assert "column amount removed: breaks int_orders_enriched.order_amount" in result.stdout


def test_a_bad_baseline_is_a_usage_error(tmp_path: Path) -> None:
    project = _project("clean", tmp_path)
    missing = project.check("--baseline", str(tmp_path / "prod" / "manifest.json"))
    assert missing.returncode == 2
    assert re.search(r"error: baseline manifest .*prod/manifest.json does not exist", missing.stderr)
    data = json.loads((FIXTURES / "breaking" / "manifests" / "baseline.json").read_text())
    data["metadata"].update(
        dbt_schema_version="https://schemas.getdbt.com/dbt/manifest/v10.json", dbt_version="1.6.3"
    )
    old = tmp_path / "old-manifest.json"
    old.write_text(json.dumps(data))
    other_version = project.check("--baseline", str(old))
    assert other_version.returncode == 2
    assert "written by dbt 1.6.3 (manifest schema v10)" in other_version.stderr
    assert other_version.stdout == ""  # refused before compiling anything


def test_a_project_that_does_not_compile_is_a_usage_error(tmp_path: Path) -> None:
    project = _project("clean", tmp_path)
    (project.path / "models" / "marts" / "fct_broken.sql").write_text(
        "select * from {{ ref('no_such_model') }}\n"
    )
    result = project.check()
    assert result.returncode == 2, result.stdout + result.stderr
    assert "error: the project does not compile, so nothing was checked" in result.stderr
    assert "no_such_model" in result.stderr
