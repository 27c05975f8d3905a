"""Reporters of `overclock check`: JUnit validates and counts, JSON round-trips, GitHub annotations, Markdown."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

from framework.checks.reporters import FORMATS, render
from framework.checks.reporters.github import annotation
from framework.checks.reporters.json import parse_json
from framework.checks.violations import CheckReport, RuleRun, Violation


@pytest.fixture
def report() -> CheckReport:
    return CheckReport(
        violations=(
            Violation(
                "sql_validity",
                "error",
                "model.p.int_bad",
                "int_bad",
                "compiled SQL does not parse as duckdb: Invalid expression near 'c'",
                path="models/intermediate/int_bad.sql",
                line=11,
                details={"compiled_line": 6, "compiled_column": 4},
            ),
            Violation(
                "documentation",
                "warning",
                "model.p.dim_a",
                "dim_a",
                "model has no description: add it, 100% (of them), a,b: c",
                path="models/marts/_marts.yml",
                line=3,
            ),
            Violation(
                "breaking_changes",
                "error",
                "model.p.stg_a",
                "stg_a",
                "column amount removed: breaks fct_b.total\nand more",
                path="models/staging/stg_a.sql",
                details={"downstream": [{"node_id": "model.p.fct_b", "column": "total", "depth": 1}]},
            ),
        ),
        rules=(
            RuleRun("sql_validity", "every compiled model parses", "error", 4),
            RuleRun("dag_acyclic", "no cycles", "error", 4),
            RuleRun("documentation", "descriptions and owners", "warning", 4),
            RuleRun("breaking_changes", "no breaking changes", "error", 4),
        ),
        models_checked=4,
        dialect="duckdb",
        baseline="prod/manifest.json",
        duration_seconds=0.25,
    )


def test_json_round_trips(report: CheckReport) -> None:
    text = render(report, "json")
    assert parse_json(text) == report
    assert parse_json(render(parse_json(text), "json")) == report


def test_junit_is_xml_and_counts_failures(report: CheckReport) -> None:
    root = ElementTree.fromstring(render(report, "junit"))
    assert root.tag == "testsuites"
    assert (root.get("failures"), root.get("tests")) == ("2", "4")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["sql_validity", "dag_acyclic", "documentation", "breaking_changes"]
    assert suites["sql_validity"].get("failures") == "1"
    assert suites["dag_acyclic"].get("failures") == "0"
    assert suites["dag_acyclic"].find("testcase/failure") is None  # a passing rule is a passing case
    assert suites["documentation"].find("testcase/skipped") is not None  # warnings never fail
    failure = suites["sql_validity"].find("testcase/failure")
    assert failure is not None and failure.text is not None
    assert failure.text.startswith("models/intermediate/int_bad.sql:11: ")
    assert sum(int(suite.get("failures") or 0) for suite in suites.values()) == len(report.errors)


def test_github_annotations_point_at_file_and_line(report: CheckReport) -> None:
    lines = render(report, "github").splitlines()
    assert lines[0] == (
        "::error file=models/intermediate/int_bad.sql,line=11,title=sql_validity%3A int_bad::"
        "compiled SQL does not parse as duckdb: Invalid expression near 'c'"
    )
    assert re.fullmatch(r"::warning file=models/marts/_marts\.yml,line=3,title=[^:]+::.*100%25.*", lines[1])
    assert lines[2].startswith("::error file=models/staging/stg_a.sql,title=")  # no line: a file annotation
    assert "%0Aand more" in lines[2]  # one annotation per line, newlines escaped
    assert lines[-1].startswith("overclock check: 2 errors, 1 warning")


def test_github_annotation_without_a_file() -> None:
    violation = Violation("dag_acyclic", "error", "model.p.a", "a", "cycle")
    assert annotation(violation) == "::error title=dag_acyclic%3A a::cycle"


def test_markdown_summary_has_a_table_per_rule_and_violation(report: CheckReport) -> None:
    text = render(report, "markdown")
    assert text.startswith("## overclock check: ❌ failed")
    assert "| sql_validity | error | 1 |" in text
    assert "| ❌ | sql_validity | `int_bad` | `models/intermediate/int_bad.sql:11` |" in text
    assert "breaks fct_b.total and more" in text  # newlines never break a table row


def test_text_groups_by_file_and_ends_with_the_summary(report: CheckReport) -> None:
    text = render(report, "text")
    assert "models/intermediate/int_bad.sql\n" in text
    assert re.search(r"11\s+error\s+sql_validity\s+int_bad: compiled SQL", text)
    assert text.rstrip().endswith("failed: 2 errors, 1 warning in 4 models (4 rules, 0.25 s)")
    assert "\x1b[" not in text  # no colour codes unless asked


def test_every_format_renders_a_clean_report() -> None:
    clean = CheckReport(
        violations=(),
        rules=(RuleRun("sql_validity", "parses", "error", 0),),
        models_checked=0,
        dialect="duckdb",
    )
    for fmt in FORMATS:
        assert render(clean, fmt)
    assert ElementTree.fromstring(render(clean, "junit")).get("failures") == "0"
    assert clean.exit_code == 0
