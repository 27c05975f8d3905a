"""The fast renderer, fingerprints and cache store, without dbt: table-driven over a hand-made manifest.

(Byte identity with dbt itself is proven by tests/integration/test_compile_differential.py.)
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from framework.compile import store
from framework.compile.compiler import _has_cycle, merge_config_calls
from framework.compile.context import RenderFailure, Unsupported
from framework.compile.fingerprints import Fingerprinter
from framework.compile.renderer import ProjectModel, compile_node, generate_names, parse_node
from framework.compile.state import LazyNodes, pack, unpack


def macro(package: str, name: str, sql: str) -> dict[str, Any]:
    return {
        "unique_id": f"macro.{package}.{name}",
        "name": name,
        "package_name": package,
        "macro_sql": sql,
        "original_file_path": f"macros/{name}.sql",
    }


def node(name: str, raw_code: str, refs: tuple[str, ...] = (), **config: Any) -> dict[str, Any]:
    return {
        "unique_id": f"model.demo.{name}",
        "name": name,
        "resource_type": "model",
        "package_name": "demo",
        "path": f"{name}.sql",
        "original_file_path": f"models/{name}.sql",
        "raw_code": raw_code,
        "language": "sql",
        "database": "db",
        "schema": "main",
        "alias": name,
        "relation_name": f'"db"."main"."{name}"',
        "config": {
            "enabled": True,
            "materialized": "table",
            "alias": None,
            "schema": None,
            "database": None,
            **config,
        },
        "refs": [{"name": r, "package": None, "version": None} for r in refs],
        "sources": [],
        "depends_on": {"macros": [], "nodes": [f"model.demo.{r}" for r in refs]},
    }


MACROS = [
    macro(
        "dbt",
        "generate_schema_name",
        "{% macro generate_schema_name(custom, node) -%}{{ target.schema if custom is none else custom }}{%- endmacro %}",
    ),
    macro(
        "dbt",
        "generate_alias_name",
        "{% macro generate_alias_name(custom, node) -%}{{ node.name if custom is none else custom }}{%- endmacro %}",
    ),
    macro(
        "dbt",
        "generate_database_name",
        "{% macro generate_database_name(custom, node) -%}{{ target.database }}{%- endmacro %}",
    ),
    macro("dbt", "is_incremental", "{% macro is_incremental() %}{{ return(false) }}{% endmacro %}"),
    macro("dbt", "default__cast", "{% macro default__cast(x) %}cast({{ x }} as text){% endmacro %}"),
    macro("dbt_duckdb", "duckdb__cast", "{% macro duckdb__cast(x) %}{{ x }}::varchar{% endmacro %}"),
    macro("demo", "cast", "{% macro cast(x) %}{{ return(adapter.dispatch('cast')(x)) }}{% endmacro %}"),
    macro("demo", "double", "{% macro double(x) -%} {{ x }} * 2 {%- endmacro %}"),
    macro("demo", "unused", "{% macro unused() %}nothing{% endmacro %}"),
]


def project(
    nodes: list[dict[str, Any]], cli_vars: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> ProjectModel:
    manifest = {
        "metadata": {
            "project_name": "demo",
            "adapter_type": "duckdb",
            "dbt_version": "1.11.0",
            "quoting": {},
        },
        "macros": {m["unique_id"]: m for m in copy.deepcopy(MACROS)},
        "nodes": {n["unique_id"]: n for n in nodes},
        "sources": {},
    }
    return ProjectModel(
        manifest,
        target={"type": "duckdb", "name": "dev", "schema": "main", "database": "db"},
        cli_vars=cli_vars or {},
        project_vars={"flag": False},
        environment=env or {"HOME_TOWN": "paris"},
    )


BASE = node("base", "select 1 as x")


@pytest.mark.parametrize(
    ("raw_code", "expected"),
    [
        ("select 1\n", "select 1\n"),  # no Jinja: returned as is, trailing newline included (dbt's shortcut)
        ("select * from {{ ref('base') }}\n", 'select * from "db"."main"."base"'),  # Jinja drops one newline
        ("{{ double('x') }}", "x * 2"),
        ("{{ cast('x') }}", "x::varchar"),  # dispatched to the adapter's implementation
        ("{{ var('flag') }} {{ var('missing', 3) }}", "False 3"),
        ("{{ env_var('HOME_TOWN') }} {{ env_var('NOPE', 'd') }}", "paris d"),
        ("{{ this }} {{ this.identifier }} {{ target.name }}", '"db"."main"."m" m dev'),
        ("{% if is_incremental() %}inc{% else %}full{% endif %}", "full"),
        ("{{ config(materialized='view') }}{{ config.get('materialized') }}", "table"),
        ("{% set xs = [1, 2] %}{% for x in xs %}{{ x }}{% endfor %}", "12"),
        (
            "{% for x in [1] %}{% set n = namespace(v=x) %}{{ n.v }}{% endfor %}{{ range(2) | list }}",
            "1[0, 1]",
        ),
        ("{{ not_defined_anywhere }}|{{ not_defined_anywhere is defined }}", "|False"),
    ],
)
def test_compiles_like_dbt(raw_code: str, expected: str) -> None:
    model = node("m", raw_code, refs=("base",))
    code, _ = compile_node(project([BASE, model]), model)
    assert code == expected


@pytest.mark.parametrize(
    ("raw_code", "volatile"),
    [
        ("{{ graph.nodes }}", False),
        ("{{ run_started_at }}", True),
        ("{{ adapter.get_relation('a', 'b', 'c') }}", True),
        ("{{ api.Column }}", False),
        ("{{ ref('base', v=2) }}", False),
    ],
)
def test_what_it_cannot_reproduce_is_left_to_dbt(raw_code: str, volatile: bool) -> None:
    model = node("m", raw_code, refs=("base",))
    with pytest.raises(Unsupported) as raised:
        compile_node(project([BASE, model]), model)
    assert raised.value.volatile is volatile


def test_incremental_model_asks_the_warehouse() -> None:
    model = node("m", "{% if is_incremental() %}x{% endif %}", materialized="incremental")
    with pytest.raises(Unsupported) as raised:
        compile_node(project([model]), model)
    assert raised.value.volatile


@pytest.mark.parametrize(
    "raw_code",
    [
        "{{ ref('nowhere') }}",
        "{{ var('required') }}",
        "{{ env_var('NOT_SET') }}",
        "{{ oops( }}",
        "{{ target.name() }}",
    ],
)
def test_template_errors_are_left_to_dbt_to_report(raw_code: str) -> None:
    model = node("m", raw_code)
    with pytest.raises(RenderFailure):
        compile_node(project([model]), model)


def test_parse_records_refs_sources_and_config_calls() -> None:
    model = node(
        "m",
        "{{ config(alias='renamed', tags=['a']) }}{% if var('flag') %}{{ ref('x') }}{% endif %}{{ ref('base') }}{{ source('raw', 't') }}",
    )
    record, trace = parse_node(project([BASE, model]), model)
    assert [r["name"] for r in record.refs] == ["base"]  # the branch is not taken at parse time either
    assert record.sources == [["raw", "t"]]
    assert merge_config_calls(record.config_calls) == {"alias": "renamed", "tags": ["a"]}
    assert "flag" in trace.vars


def test_relation_names_come_from_the_naming_macros() -> None:
    model = node("m", "select 1", schema="custom", alias="other")
    names, trace = generate_names(project([model]), model)
    assert names == {"database": "db", "schema": "custom", "alias": "other"}
    assert "macro.dbt.generate_schema_name" in trace.macros


def test_fingerprint_moves_only_with_what_the_render_read() -> None:
    model = node("m", "{{ double(ref('base')) }} {{ var('flag') }}", refs=("base",))
    first = project([BASE, model])
    _, trace = compile_node(first, model)
    reference = Fingerprinter(first, {}, "g").traced(model["unique_id"], trace.as_dict())

    def fingerprint_after(change: Any) -> str:
        changed = project([copy.deepcopy(BASE), copy.deepcopy(model)])
        change(changed)
        changed.reindex_macros()
        return Fingerprinter(changed, {}, "g").traced(model["unique_id"], trace.as_dict())

    assert fingerprint_after(lambda p: None) == reference
    assert fingerprint_after(lambda p: p.macros["macro.demo.unused"].update(macro_sql="x")) == reference
    assert fingerprint_after(lambda p: p.macros["macro.demo.double"].update(macro_sql="y")) != reference
    assert (
        fingerprint_after(lambda p: p.nodes["model.demo.base"].update(relation_name='"db"."x"."base"'))
        != reference
    )
    assert fingerprint_after(lambda p: p.cli_vars.update(flag=True) or p._vars_cache.clear()) != reference


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda data: data[: len(data) - 5], "truncated"),
        (lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]), "checksum mismatch"),
        (lambda data: data.replace(b" %d " % store.FORMAT_VERSION, b" 999 ", 1), "format version 999"),
        (lambda data: b"garbage", "no header"),
    ],
)
def test_store_detects_corruption(tmp_path: Any, mangle: Any, reason: str) -> None:
    cache = store.CacheStore(tmp_path)
    cache.write_json("states/x.json", {"a": 1})
    path = tmp_path / "states" / "x.json"
    path.write_bytes(mangle(path.read_bytes()))
    assert cache.read_json("states/x.json") is None
    assert reason in cache.warnings[0]
    assert not path.exists()


def test_state_round_trip_parses_nodes_lazily() -> None:
    nodes = {n["unique_id"]: n for n in (BASE, node("m", "select 2"))}
    state = {"manifest": {"metadata": {}, "nodes": nodes}, "format": 2}
    stored = pack(state)
    loaded = unpack(stored)
    lazy = loaded["manifest"]["nodes"]
    assert isinstance(lazy, LazyNodes) and len(lazy) == 2 and not lazy._parsed
    assert lazy["model.demo.m"] == nodes["model.demo.m"]
    assert list(lazy._parsed) == ["model.demo.m"]


def test_cycles() -> None:
    assert not _has_cycle({"a": ["source.s"], "b": ["a"], "c": ["a", "b"]})
    assert _has_cycle({"a": ["c"], "b": ["a"], "c": ["b"]})


def test_is_incremental_asks_a_duckdb_warehouse(tmp_path: Any) -> None:
    import duckdb

    warehouse = tmp_path / "db.duckdb"
    model = node(
        "m", "{% if is_incremental() %}new rows{% else %}all rows{% endif %}", materialized="incremental"
    )
    should_full_refresh = macro(
        "dbt", "should_full_refresh", "{% macro should_full_refresh() %}{{ return(false) }}{% endmacro %}"
    )

    def render() -> tuple[str, dict[str, Any]]:
        built = project([model])
        built.macros[should_full_refresh["unique_id"]] = should_full_refresh
        built.reindex_macros()
        built.target.update(path=str(warehouse))
        from framework.compile.warehouse import WarehouseProbe

        built.warehouse = WarehouseProbe(built.target)
        try:
            code, trace = compile_node(built, model)
        finally:
            built.warehouse.close()
        return code, trace.as_dict()

    assert render() == (
        "all rows",
        {"macros": ["macro.dbt.is_incremental"], "vars": {}, "env": {}, "warehouse": {"db\0main\0m": None}},
    )
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create view main.m as select 1 as x")
    assert render()[0] == "all rows"  # a view is not incremental
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("drop view main.m")
        connection.execute("create table main.m as select 1 as x")
    code, trace = render()
    assert code == "new rows" and trace["warehouse"] == {"db\0main\0m": "table"}
