"""Support for the namespace tests: the fixture dbt project, its expected relations, engine access.

The project in tests/fixtures/namespaces is copied per test module together with the repository's
schema-naming macros, so the tests exercise exactly the macros that `project/` uses.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from framework import cli

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "namespaces"
NAMING_MACROS = ("generate_schema_name.sql", "generate_database_name.sql")
TESTS = (
    "assert_orders_below_limit",
    "not_null_customer_totals_customer_id",
    "not_null_stg_customers_customer_id",
    "not_null_stg_orders_order_id",
    "unique_customer_totals_customer_id",
    "unique_stg_customers_customer_id",
    "unique_stg_orders_order_id",
)
# Every relation the fixture project builds, by custom schema ("" = the target schema).
RELATIONS = {
    "": ("summary",),
    "raw": ("raw_customers", "raw_orders"),
    "staging": ("stg_customers", "stg_orders"),
    "marts": ("customer_totals",),
    "snapshots": ("orders_snapshot",),
}
# Production rows of the fixture's marts, before any edit.
PRODUCTION_TOTALS = {1: 35, 2: 45, 3: 160}


def copy_fixture_project(destination: Path) -> Path:
    shutil.copytree(FIXTURE, destination)
    for macro in NAMING_MACROS:
        shutil.copy(REPO_ROOT / "macros" / macro, destination / "macros" / macro)
    return destination


def schema_name(namespace: str, custom: str, production: bool = False) -> str:
    if not custom:
        return namespace
    return custom if production else f"{namespace}__{custom}"


def expected_relations(namespace: str, production: bool = False, with_audit: bool = False) -> set[str]:
    relations = {
        f"{schema_name(namespace, custom, production)}.{name}"
        for custom, names in RELATIONS.items()
        for name in names
    }
    if with_audit:
        relations |= {f"{schema_name(namespace, 'audit', production)}.{test}" for test in TESTS}
    return relations


def edit_model(project: Path) -> None:
    """The edit the deferral tests make: customer_totals doubles every amount."""
    path = project / "models" / "marts" / "customer_totals.sql"
    path.write_text(path.read_text().replace("sum(orders.amount)", "sum(orders.amount) * 2"))


def overclock(*args: str) -> int:
    """Run the `overclock` CLI in this process, as `overclock ARGS` would; returns its exit code."""
    try:
        cli.main(list(args))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def relations_in(provider: Any, schemas: Iterable[str]) -> set[str]:
    """`schema.name` of every table and view in the given schemas (datasets), read from the engine."""
    found: set[str] = set()
    existing = {info.name for info in provider.list_schemas()}
    for schema in set(schemas) & existing:
        if provider.engine == "bigquery":
            found |= {
                f"{schema}.{table.table_id}"
                for table in provider.client.list_tables(f"{provider.project}.{schema}")
            }
        else:
            rows = provider.query(
                "select table_name from information_schema.tables where table_schema = "
                + provider.render(_string(schema))
            )
            found |= {f"{schema}.{name}" for (name,) in rows}
    return found


def _string(value: str) -> Any:
    from sqlglot import exp

    return exp.Literal.string(value)


def namespace_relations(provider: Any, namespace: str) -> set[str]:
    """Every relation in the namespace's schemas (its target schema and `<namespace>__*`)."""
    from framework.namespaces.naming import schema_belongs_to

    schemas = [
        info.name for info in provider.list_schemas(namespace) if schema_belongs_to(info.name, namespace)
    ]
    return relations_in(provider, schemas)
