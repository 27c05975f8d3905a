"""Each rule of `overclock check` on small hand-built manifests: what it reports, where, and what it lets pass."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from framework.checks import (
    CheckConfig,
    CheckConfigError,
    Manifest,
    RuleSettings,
    load_check_config,
    run_checks,
)
from framework.checks.config import parse_check_config
from framework.checks.dag_acyclic import DagAcyclic
from framework.checks.documentation import Documentation
from framework.checks.layer_order import LayerOrder
from framework.checks.mart_reads_source import MartReadsSource
from framework.checks.registry import all_rules
from framework.checks.sql import source_line
from framework.checks.sql_validity import SqlValidity
from framework.checks.violations import CheckReport

SCHEMA_V12 = "https://schemas.getdbt.com/dbt/manifest/v12.json"


def model(
    name: str,
    layer: str = "staging",
    sql: str | None = None,
    refs: Iterable[str] = (),
    sources: Iterable[str] = (),
    description: str = "A model.",
    owner: str | None = "data-team",
    raw: str | None = None,
) -> dict[str, Any]:
    refs, sources = list(refs), list(sources)
    if sql is None:
        reads = [f'"db"."main"."{ref}"' for ref in refs] or ['"db"."raw"."t"']
        sql = "select 1 as id from " + ", ".join(reads)
    if raw is None:
        reads = [f"{{{{ ref('{ref}') }}}}" for ref in refs]
        reads += [f"{{{{ source('{s.split('.')[0]}', '{s.split('.')[1]}') }}}}" for s in sources]
        raw = "select 1 as id\nfrom " + ",\n    ".join(reads or ['"db"."raw"."t"'])
    return {
        "unique_id": f"model.p.{name}",
        "resource_type": "model",
        "name": name,
        "package_name": "p",
        "fqn": ["p", layer, name],
        "original_file_path": f"models/{layer}/{name}.sql",
        "patch_path": None,
        "language": "sql",
        "raw_code": raw,
        "compiled_code": sql,
        "description": description,
        "meta": {},
        "config": {"meta": {"owner": owner} if owner else {}},
        "columns": {},
        "checksum": {"name": "sha256", "checksum": name},
        "relation_name": f'"db"."main"."{name}"',
        "depends_on": {"nodes": [f"model.p.{ref}" for ref in refs] + [f"source.p.{s}" for s in sources]},
    }


def source(source_name: str, name: str) -> dict[str, Any]:
    return {
        "unique_id": f"source.p.{source_name}.{name}",
        "resource_type": "source",
        "name": name,
        "source_name": source_name,
        "package_name": "p",
        "relation_name": f'"db"."{source_name}"."{name}"',
        "columns": {},
    }


def manifest(
    *nodes: dict[str, Any], sources: Iterable[dict[str, Any]] = (), adapter: str = "duckdb"
) -> Manifest:
    return Manifest.from_data(
        {
            "metadata": {"dbt_schema_version": SCHEMA_V12, "project_name": "p", "adapter_type": adapter},
            "nodes": {node["unique_id"]: node for node in nodes},
            "sources": {node["unique_id"]: node for node in sources},
            "exposures": {},
        }
    )


def check(m: Manifest, *rules: Any, config: CheckConfig | None = None) -> CheckReport:
    return run_checks(m, config=config, rules=list(rules) or None, project_dir=None)


# --- sql_validity ------------------------------------------------------------------------------------------


def test_sql_validity_reports_unparseable_sql_at_its_source_line() -> None:
    raw = "{{ config(materialized='table') }}\n{# gone when rendered #}\nselect\n    a as b c\nfrom t\n"
    compiled = "\n\nselect\n    a as b c\nfrom t\n"
    report = check(manifest(model("stg_bad", sql=compiled, raw=raw), model("stg_good")), SqlValidity())
    [violation] = report.violations
    assert (violation.rule, violation.model, violation.line) == ("sql_validity", "stg_bad", 4)
    assert violation.path == "models/staging/stg_bad.sql"
    assert "does not parse as duckdb" in violation.message


def test_sql_validity_uses_the_target_dialect() -> None:
    backticks = "select `order id` from t"
    assert check(manifest(model("stg_a", sql=backticks), adapter="bigquery"), SqlValidity()).violations == ()
    assert (
        len(check(manifest(model("stg_a", sql=backticks), adapter="postgres"), SqlValidity()).violations) == 1
    )


def test_sql_validity_reports_empty_and_multi_statement_sql() -> None:
    report = check(manifest(model("stg_empty", sql="-- nothing"), model("stg_two", sql="select 1; select 2")))
    messages = {v.model: v.message for v in report.for_rule("sql_validity")}
    assert "empty" in messages["stg_empty"] and "2 statements" in messages["stg_two"]


def test_sql_validity_skips_nodes_without_compiled_sql() -> None:
    node = model("stg_a")
    node["compiled_code"] = None
    assert check(manifest(node), SqlValidity()).violations == ()


@pytest.mark.parametrize(
    ("raw", "compiled", "compiled_line", "expected"),
    [
        ("select 1\nfrom t", "select 1\nfrom t", 2, 2),
        ("{% set x = 1 %}\n\nselect {{ x }}\nfrom t\nwhere", "\n\nselect 1\nfrom t\nwhere", 5, 5),
        ("{{ cols() }}\nfrom t", "a,\nb,\nc\nfrom t", 2, 1),  # inside a macro's expansion: the call's line
    ],
)
def test_source_line_maps_compiled_lines_back(
    raw: str, compiled: str, compiled_line: int, expected: int
) -> None:
    assert source_line(raw, compiled, compiled_line) == expected


# --- dag_acyclic -------------------------------------------------------------------------------------------


def test_dag_acyclic_reports_each_cycle_once_at_a_ref_line() -> None:
    m = manifest(
        model("int_a", "intermediate", refs=["int_c"]),
        model("int_b", "intermediate", refs=["int_a"]),
        model("int_c", "intermediate", refs=["int_b"]),
        model("int_d", "intermediate", refs=["int_a"]),
    )
    [violation] = check(m, DagAcyclic()).violations
    assert violation.model == "int_a"
    assert violation.message.startswith("cycle in the DAG: int_a -> int_b -> int_c -> int_a")
    assert violation.line == 2  # the line of ref('int_c') in int_a


def test_dag_acyclic_passes_a_dag_and_catches_a_self_reference() -> None:
    assert (
        check(
            manifest(model("stg_a"), model("int_b", "intermediate", refs=["stg_a"])), DagAcyclic()
        ).violations
        == ()
    )
    [violation] = check(
        manifest(model("int_self", "intermediate", refs=["int_self"])), DagAcyclic()
    ).violations
    assert violation.model == "int_self"


# --- layer_order and mart_reads_source ---------------------------------------------------------------------


def test_layer_order_flags_reading_a_later_layer_only() -> None:
    m = manifest(
        model("stg_a"),
        model("int_b", "intermediate", refs=["stg_a"]),
        model("fct_c", "marts", refs=["int_b"]),
        model("dim_d", "marts", refs=["fct_c"]),  # marts reading marts is fine
        model("int_e", "intermediate", refs=["stg_a", "dim_d"]),  # intermediate reading a mart is not
    )
    [violation] = check(m, LayerOrder()).violations
    assert (violation.model, violation.line) == ("int_e", 3)
    assert "reads marts model dim_d" in violation.message


def test_layer_order_follows_the_configured_layers() -> None:
    m = manifest(model("base_a", "base"), model("stg_b", "staging", refs=["base_a"]))
    config = parse_check_config({"layers": ["staging", "base"]}, "test")
    [violation] = check(m, LayerOrder(), config=config).violations
    assert violation.model == "stg_b"
    assert check(m, LayerOrder()).violations == ()  # `base` is not a layer by default


def test_mart_reads_source_points_at_the_source_call() -> None:
    m = manifest(
        model("stg_orders", sources=["shop.orders"]),
        model("fct_orders", "marts", refs=["stg_orders"], sources=["shop.orders"]),
        sources=[source("shop", "orders")],
    )
    [violation] = check(m, MartReadsSource()).violations
    assert (violation.model, violation.line) == ("fct_orders", 3)
    assert "raw source shop.orders" in violation.message


def test_mart_reads_source_layers_are_an_option() -> None:
    m = manifest(
        model("int_orders", "intermediate", sources=["shop.orders"]), sources=[source("shop", "orders")]
    )
    assert check(m, MartReadsSource()).violations == ()
    config = parse_check_config({"rules": {"mart_reads_source": {"layers": ["intermediate", "marts"]}}}, "t")
    assert len(check(m, MartReadsSource(), config=config).violations) == 1


# --- documentation -----------------------------------------------------------------------------------------


def test_documentation_requires_description_and_owner() -> None:
    in_node_meta = model("stg_d", owner=None)
    in_node_meta["meta"] = {"owner": "team-d"}
    m = manifest(
        model("stg_a"),
        model("stg_b", description=""),
        model("stg_c", owner=None),
        model("stg_e", description=" ", owner=None),
        in_node_meta,
    )
    found = {v.model: v.details["missing"] for v in check(m, Documentation()).violations}
    assert found == {"stg_b": ["description"], "stg_c": ["owner"], "stg_e": ["description", "owner"]}


def test_documentation_points_at_the_yml_entry(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "_models.yml").write_text(
        "version: 2\nmodels:\n  - name: other\n  - name: stg_a\n"
    )
    node = model("stg_a", description="")
    node["patch_path"] = "p://models/_models.yml"
    report = run_checks(manifest(node), rules=[Documentation()], project_dir=tmp_path, display_root=tmp_path)
    [violation] = report.violations
    assert (violation.path, violation.line) == ("models/_models.yml", 4)


# --- configuration: severity, exceptions, opting out --------------------------------------------------------


def _undocumented() -> Manifest:
    return manifest(model("stg_a", description=""), model("stg_legacy_b", description=""))


def test_severity_warning_reports_without_failing() -> None:
    config = parse_check_config({"rules": {"documentation": "warning"}}, "t")
    report = check(_undocumented(), Documentation(), config=config)
    assert [v.severity for v in report.violations] == ["warning", "warning"]
    assert report.exit_code == 0


def test_severity_off_skips_the_rule() -> None:
    config = parse_check_config({"rules": {"documentation": {"severity": "off"}}}, "t")
    report = check(_undocumented(), Documentation(), config=config)
    assert report.violations == () and report.rules == ()


def test_exceptions_match_names_ids_and_paths() -> None:
    for pattern in ("stg_legacy_*", "model.p.stg_legacy_b", "models/staging/stg_legacy_*.sql"):
        config = CheckConfig(rules={"documentation": RuleSettings(exceptions=(pattern,))})
        assert [v.model for v in check(_undocumented(), Documentation(), config=config).violations] == [
            "stg_a"
        ]


def test_a_model_can_opt_out_in_its_meta() -> None:
    m = _undocumented()
    m.nodes["model.p.stg_a"]["config"]["meta"]["overclock_checks"] = {"skip": ["documentation"]}
    assert [v.model for v in check(m, Documentation()).violations] == ["stg_legacy_b"]


def test_config_errors_name_the_problem() -> None:
    with pytest.raises(CheckConfigError, match="severity is 'fatal'"):
        parse_check_config({"rules": {"documentation": {"severity": "fatal"}}}, "checks.yml")
    with pytest.raises(CheckConfigError, match="unknown rule"):
        check(_undocumented(), Documentation(), config=parse_check_config({"rules": {"nope": "off"}}, "t"))
    with pytest.raises(CheckConfigError, match="unknown key"):
        parse_check_config({"rulez": {}}, "t")


def test_config_is_read_from_project_vars_and_checks_yml(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text(
        "name: p\nvars:\n  overclock_checks:\n    layers: [staging, marts]\n    rules:\n"
        "      documentation: warning\n      layer_order: {exceptions: [int_*]}\n"
    )
    config = load_check_config(tmp_path)
    assert config.layers == ("staging", "marts")
    assert config.for_rule("documentation").severity == "warning"
    (tmp_path / "checks.yml").write_text("rules:\n  documentation: {severity: 'off'}\n")
    config = load_check_config(tmp_path)
    assert config.for_rule("documentation").severity == "off"  # checks.yml wins rule by rule
    assert config.for_rule("layer_order").exceptions == ("int_*",)
    assert config.layers == ("staging", "marts")


# --- the registry -------------------------------------------------------------------------------------------


def test_rules_run_in_registry_order_and_sort_by_location() -> None:
    names = [rule.name for rule in all_rules()]
    assert names[:6] == [
        "sql_validity",
        "dag_acyclic",
        "layer_order",
        "mart_reads_source",
        "documentation",
        "breaking_changes",
    ]
    report = check(manifest(model("stg_b", description=""), model("stg_a", sql="select (")))
    assert [v.rule for v in report.violations] == ["sql_validity", "documentation"]


def test_a_clean_manifest_reports_nothing() -> None:
    m = manifest(
        model("stg_orders", sources=["shop.orders"]),
        model("int_orders", "intermediate", refs=["stg_orders"]),
        model("fct_orders", "marts", refs=["int_orders"]),
        sources=[source("shop", "orders")],
    )
    report = check(m)
    assert report.violations == () and report.exit_code == 0
    assert [run.name for run in report.rules] == [
        rule.name for rule in all_rules() if not rule.needs_baseline
    ]


def test_parse_verdicts_are_cached_between_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from framework.checks import sql

    parsed: list[int] = []
    original = sql.validate_sql
    monkeypatch.setattr(
        sql, "validate_sql", lambda codes, dialect: parsed.append(len(codes)) or original(codes, dialect)
    )
    m = manifest(model("stg_a"), model("stg_b", sql="select (", raw="select ("))

    def run() -> CheckReport:
        return run_checks(m, rules=[SqlValidity()], cache_dir=tmp_path)

    first, second = run(), run()
    assert parsed == [2]  # the second run parsed nothing
    assert first.violations == second.violations and len(first.violations) == 1
    [cache_file] = tmp_path.glob("sql-verdicts-duckdb-*.json")
    cache_file.write_text("{damaged")
    assert run().violations == first.violations  # a damaged cache is only a slower run
