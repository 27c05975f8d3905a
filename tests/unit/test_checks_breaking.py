"""Breaking changes on pairs of real dbt manifests (tests/fixtures/checks/breaking, see build_manifests.py).

The baseline is compiled into namespace `main`, every variant into `ci_1`: relation names differ throughout,
as between production and a CI run, and must not count as a change.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from framework.checks import Manifest, load_manifest, run_checks
from framework.checks.breaking_changes import BreakingChanges, diff_columns
from framework.checks.lineage import OutputColumn
from framework.checks.violations import CheckReport, Violation

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "checks" / "breaking"
MANIFESTS = FIXTURES / "manifests"


@pytest.fixture(scope="module")
def baseline() -> Manifest:
    return load_manifest(MANIFESTS / "baseline.json", role="baseline manifest")


def compare(baseline: Manifest, case: str | Manifest) -> CheckReport:
    current = case if isinstance(case, Manifest) else load_manifest(MANIFESTS / f"{case}.json")
    return run_checks(
        current,
        baseline=baseline,
        rules=[BreakingChanges()],
        project_dir=FIXTURES / "project",
        display_root=FIXTURES / "project",
    )


def only(report: CheckReport) -> Violation:
    assert len(report.violations) == 1, [v.message for v in report.violations]
    return report.violations[0]


def downstream(violation: Violation) -> set[str]:
    uses = violation.details["downstream"]
    return {
        f"{use['name']}.{use['column']}" if use["column"] else f"{use['name']} ({use['clause']})"
        for use in uses
    }


@pytest.mark.parametrize(
    "case", ["namespace_only", "added_column", "formatting_only", "cte_rename", "unused_column_removed"]
)
def test_changes_that_break_nothing_are_not_reported(baseline: Manifest, case: str) -> None:
    assert compare(baseline, case).violations == ()


def test_removed_column_names_every_downstream_column(baseline: Manifest) -> None:
    violation = only(compare(baseline, "removed_column"))
    assert (violation.rule, violation.model) == ("breaking_changes", "stg_shop__orders")
    assert violation.path == "models/staging/stg_shop__orders.sql"
    assert violation.details["change"] == "removed" and violation.details["column"] == "amount"
    # int_orders_enriched reads it by name; fct_orders gets it through `select *` and derives a column from it.
    assert downstream(violation) == {
        "int_orders_enriched.order_amount",
        "fct_orders.order_amount",
        "fct_orders.amount_with_tax",
        "weekly_revenue (exposure)",
    }
    assert violation.message.startswith("column amount removed: breaks int_orders_enriched.order_amount")
    depth = {use["name"]: use["depth"] for use in violation.details["downstream"]}
    assert depth == {"int_orders_enriched": 1, "fct_orders": 2, "weekly_revenue": 3}


def test_type_change_is_reported_with_both_types(baseline: Manifest) -> None:
    violation = only(compare(baseline, "type_change"))
    assert violation.details["change"] == "type_changed"
    assert (violation.details["old_type"], violation.details["new_type"]) == ("DECIMAL(12, 2)", "TEXT")
    assert "int_orders_enriched.order_amount" in downstream(violation)
    assert violation.line == 9  # the line that casts it


def test_renamed_column_used_in_a_filter(baseline: Manifest) -> None:
    violation = only(compare(baseline, "renamed_column"))
    assert violation.details["change"] == "renamed"
    assert (violation.details["column"], violation.details["new_column"]) == ("status", "order_status")
    assert downstream(violation) == {"int_orders_enriched (where)"}


def test_grain_change_of_a_model_with_readers(baseline: Manifest) -> None:
    violation = only(compare(baseline, "grain_change"))
    assert violation.model == "fct_orders"
    assert violation.details["old"] == ["order_id"] and violation.details["new"] == [
        "customer_id",
        "order_id",
    ]
    assert violation.details["readers"] == ["exposure weekly_revenue"]
    assert violation.line == 1


def test_contract_enforced_model_breaks_on_any_column_change(baseline: Manifest) -> None:
    violation = only(compare(baseline, "contract_change"))
    assert (violation.model, violation.details["column"], violation.details["contract"]) == (
        "dim_customers",
        "customer_name",
        True,
    )
    assert (
        violation.details["downstream"] == []
    )  # nothing reads it in the project: the contract is the reason


def test_removed_model_with_an_exposure(baseline: Manifest) -> None:
    violation = only(compare(baseline, "removed_model"))
    assert (violation.model, violation.node_id) == ("fct_orders", "model.shop.fct_orders")
    assert violation.details["readers"] == ["exposure weekly_revenue"]
    assert violation.path == "models/marts/fct_orders.sql"


def test_renamed_model_still_depended_on(baseline: Manifest) -> None:
    data = copy.deepcopy(dict(load_manifest(MANIFESTS / "namespace_only.json").data))
    node = data["nodes"].pop("model.shop.int_orders_enriched")
    node.update(unique_id="model.shop.int_orders_joined", name="int_orders_joined")
    data["nodes"]["model.shop.int_orders_joined"] = node
    # a manifest written without re-resolving refs (e.g. by a tool) can still point at the old node
    violation = only(compare(baseline, Manifest.from_data(data)))
    assert violation.message.startswith("model int_orders_enriched was renamed to int_orders_joined")
    assert violation.details["readers"] == ["fct_orders"]


def test_dropping_a_contract_is_breaking(baseline: Manifest) -> None:
    data = json.loads(json.dumps(load_manifest(MANIFESTS / "namespace_only.json").data))
    data["nodes"]["model.shop.dim_customers"]["config"]["contract"]["enforced"] = False
    data["nodes"]["model.shop.dim_customers"]["contract"]["enforced"] = False
    violation = only(compare(baseline, Manifest.from_data(data)))
    assert violation.details["change"] == "contract_dropped"


def test_breaking_changes_need_a_baseline() -> None:
    report = run_checks(load_manifest(MANIFESTS / "removed_column.json"), rules=[BreakingChanges()])
    assert report.rules == () and report.violations == ()


def test_rename_is_told_apart_from_removal_by_lineage() -> None:
    old = {
        "a": OutputColumn("a", sources=frozenset({("m", "x")})),
        "b": OutputColumn("b", sources=frozenset({("m", "y")})),
    }
    new = {"a2": OutputColumn("a2", sources=frozenset({("m", "x")})), "c": OutputColumn("c", expression="1")}
    changes = diff_columns(old, new)
    assert [(c.kind, c.column, c.new_column) for c in changes] == [
        ("renamed", "a", "a2"),
        ("removed", "b", None),
    ]


def test_types_compare_declared_with_declared_and_inferred_with_inferred() -> None:
    old = {"a": OutputColumn("a", declared_type="INT", inferred_type="INT")}
    assert diff_columns(old, {"a": OutputColumn("a", declared_type="INT", inferred_type="BIGINT")}) == []
    assert diff_columns(old, {"a": OutputColumn("a")}) == []  # unknown type: nothing to compare
    [change] = diff_columns(old, {"a": OutputColumn("a", inferred_type="TEXT")})
    assert (change.old_type, change.new_type) == ("INT", "TEXT")


def test_yml_columns_count_only_when_a_contract_enforces_them() -> None:
    from tests.unit.test_checks_rules import manifest, model

    def project(columns: list[str], enforced: bool) -> Manifest:
        raw = model("stg_events", sql="select * from read_parquet('events.parquet')")
        raw["columns"] = {name: {"name": name, "data_type": "integer"} for name in columns}
        raw["config"]["contract"] = {"enforced": enforced}
        reader = model(
            "fct_events", "marts", sql='select b from "db"."main"."stg_events"', refs=["stg_events"]
        )
        return manifest(raw, reader)

    # Documentation that stops listing a column is not a schema change: the SQL (a star) says nothing.
    assert (
        run_checks(
            project(["a"], False), baseline=project(["a", "b"], False), rules=[BreakingChanges()]
        ).violations
        == ()
    )
    report = run_checks(project(["a"], True), baseline=project(["a", "b"], True), rules=[BreakingChanges()])
    violation = only(report)
    assert (violation.details["column"], downstream(violation)) == ("b", {"fct_events.b"})


def test_a_column_only_passed_through_a_cte_star_is_not_used() -> None:
    from tests.unit.test_checks_rules import manifest, model

    def project(staging_sql: str) -> Manifest:
        staging = model("stg_orders", sql=staging_sql)
        reader = model(
            "fct_orders",
            "marts",
            sql='with orders as (select * from "db"."main"."stg_orders") select id, amount from orders',
            refs=["stg_orders"],
        )
        return manifest(staging, reader)

    before = project("select 1 as id, 2.5 as amount, 'x' as note")
    # `note` flows into the CTE's star but nothing selects it: dropping it breaks nothing.
    assert (
        run_checks(
            project("select 1 as id, 2.5 as amount"), baseline=before, rules=[BreakingChanges()]
        ).violations
        == ()
    )
    violation = only(
        run_checks(project("select 1 as id, 'x' as note"), baseline=before, rules=[BreakingChanges()])
    )
    assert downstream(violation) == {"fct_orders.amount"}


def external_source_project(staging_select: str, declared: bool = True) -> Manifest:
    """A staging model over a dbt-duckdb external source (rendered as `read_parquet('...')`) and a mart."""
    from tests.unit.test_checks_rules import manifest, model, source

    guilds = source("search", "guilds")
    guilds["relation_name"] = "read_parquet('/data/search/guilds.parquet')"
    if declared:
        guilds["columns"] = {
            "guild_id": {"name": "guild_id", "data_type": "bigint"},
            "guild_name": {"name": "guild_name", "data_type": "varchar"},
        }
    staging = model(
        "stg_guilds",
        sql="with source as (select * from read_parquet('/data/search/guilds.parquet')), "
        f"renamed as (select {staging_select} from source) select * from renamed",
        sources=["search.guilds"],
    )
    mart = model(
        "fct_guilds",
        "marts",
        sql='select guild_id, guild_name from "db"."main"."stg_guilds"',
        refs=["stg_guilds"],
    )
    return manifest(staging, mart, sources=[guilds])


BEFORE_RENAME = "cast(guild_id as bigint) as guild_id, guild_name, guild_id >> 22 as shard"
AFTER_RENAME = "cast(guild_id as bigint) as gid, guild_name, guild_id >> 22 as shard"


def test_an_external_source_carries_its_declared_columns_into_the_staging_model() -> None:
    """The staging model gets the external source's declared columns, so renaming a staging column that a
    mart reads is reported."""
    report = run_checks(
        external_source_project(AFTER_RENAME),
        baseline=external_source_project(BEFORE_RENAME),
        rules=[BreakingChanges()],
    )
    violation = only(report)
    assert (violation.model, violation.details["change"], violation.details["column"]) == (
        "stg_guilds",
        "renamed",
        "guild_id",
    )
    assert downstream(violation) == {"fct_guilds.guild_id"}
    assert report.notes == ()


def test_a_changed_model_whose_columns_cannot_be_resolved_is_named_in_a_note() -> None:
    """Without the source's declared columns the staging model's columns are unknown: the rename cannot be
    compared, and the report says so instead of passing in silence."""
    report = run_checks(
        external_source_project(AFTER_RENAME, declared=False),
        baseline=external_source_project(BEFORE_RENAME, declared=False),
        rules=[BreakingChanges()],
    )
    assert report.violations == ()
    (note,) = report.notes
    assert "could not resolve the columns of 1 changed model(s) (stg_guilds)" in note
    assert CheckReport.from_dict(report.to_dict()).notes == report.notes
