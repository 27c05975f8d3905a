"""Namespaces on each engine (DuckDB, PostgreSQL, the BigQuery emulator), with the fixture dbt project.

One module-scoped scenario per engine, built through the `overclock` CLI in process:
  prod     `build --prod`
  dev_ana  `build --store-failures --vars {max_amount: 50}` (one warn test with two failing rows)
  then customer_totals is edited (amounts doubled), and
  dev_bob  `build --defer`                       -> only customer_totals, parents from production
  dev_cy   `run --defer -s customer_totals+`     -> customer_totals and its child summary
Every model has a `built_in` column holding the schema it was built in, so rows tell who wrote them and
which namespace a parent was read from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from framework.config import Settings, resolve_settings
from framework.namespaces.gc import (
    ProductionProtectedError,
    UnknownNamespaceError,
    collect_garbage,
    drop_namespace,
    plan_garbage_collection,
    resolve_drop_target,
)
from framework.namespaces.listing import take_inventory
from framework.namespaces.registry import BuiltRelation, record_build
from framework.providers import provider_for
from tests.namespace_fixture import (
    PRODUCTION_TOTALS,
    copy_fixture_project,
    edit_model,
    expected_relations,
    namespace_relations,
    overclock,
    relations_in,
)

ENGINES = [
    pytest.param("duckdb", marks=pytest.mark.xdist_group("namespaces_duckdb")),
    pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.xdist_group("namespaces_postgres")]),
    pytest.param("bigquery", marks=[pytest.mark.bigquery, pytest.mark.xdist_group("namespaces_bigquery")]),
]
TARGETS = {"duckdb": "local", "postgres": "postgres", "bigquery": "bigquery"}
OWNER = "ns_tester"


@dataclass(frozen=True)
class Scenario:
    engine: str
    project: Path

    def settings(self, namespace: str | None = None) -> Settings:
        return resolve_settings(
            project_dir=self.project,
            target=TARGETS[self.engine],
            namespace=namespace,
            production=namespace is None,
        )

    def provider(self) -> Any:
        return provider_for(self.settings())

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.provider() as provider:
            return sorted(provider.query(sql))

    def build(self, *args: str) -> None:
        common = ["--project-dir", str(self.project), "-t", TARGETS[self.engine]]
        exit_code = overclock(*args[:1], *common, *args[1:], "--", "--quiet")
        assert exit_code == 0, f"overclock {' '.join(args)} exited {exit_code}"


@pytest.fixture(scope="module", params=ENGINES)
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    engine = request.param
    root = tmp_path_factory.mktemp(f"namespaces-{engine}")
    with pytest.MonkeyPatch.context() as env:
        if engine != "duckdb":
            server = request.getfixturevalue(engine)
            for key, value in server.env().items():
                env.setenv(key, value)
        # A database (BigQuery project) of its own: other suites build `prod` on the same servers.
        if engine == "postgres":
            server.create_database("namespaces_engines")
            env.setenv("OVERCLOCK_PG_DATABASE", "namespaces_engines")
        if engine == "bigquery":
            env.setenv("OVERCLOCK_BQ_PROJECT", "namespaces-engines")
        env.setenv("OVERCLOCK_HOME", str(root / "home"))
        env.setenv("DBT_TARGET_PATH", str(root / "home" / "target"))
        env.setenv("DBT_LOG_PATH", str(root / "home" / "logs"))
        env.setenv("USER", OWNER)
        env.setenv("LOGNAME", OWNER)
        for variable in ("OVERCLOCK_NAMESPACE", "OVERCLOCK_DUCKDB_PATH", "GITHUB_ACTOR", "GITLAB_USER_LOGIN"):
            env.delenv(variable, raising=False)
        scenario = Scenario(engine, copy_fixture_project(root / "project"))
        scenario.build("build", "--prod")
        scenario.build("build", "--namespace", "dev_ana", "--store-failures", "--vars", "{max_amount: 50}")
        edit_model(scenario.project)
        scenario.build("build", "--namespace", "dev_bob", "--defer")
        scenario.build("run", "--namespace", "dev_cy", "--defer", "-s", "customer_totals+")
        yield scenario


def test_production_keeps_clean_names(scenario: Scenario) -> None:
    with scenario.provider() as provider:
        production = relations_in(provider, ["prod", "raw", "staging", "marts", "snapshots", "audit"])
    assert production == expected_relations("prod", production=True)


def test_a_namespace_holds_every_relation_under_its_own_name(scenario: Scenario) -> None:
    with scenario.provider() as provider:
        assert namespace_relations(provider, "dev_ana") == expected_relations("dev_ana", with_audit=True)


def test_every_row_was_written_by_its_own_namespace(scenario: Scenario) -> None:
    for schema, model in (("dev_ana__staging", "stg_orders"), ("staging", "stg_orders"), ("prod", "summary")):
        assert scenario.rows(f"select distinct built_in from {schema}.{model}") == [(schema,)]
    assert scenario.rows(
        "select distinct orders_read_from, built_in from dev_ana__marts.customer_totals"
    ) == [("dev_ana__staging", "dev_ana__marts")]
    assert scenario.rows("select customer_id, total_amount from marts.customer_totals") == sorted(
        PRODUCTION_TOTALS.items()
    )


def test_stored_failures_land_in_the_namespace_audit_schema(scenario: Scenario) -> None:
    assert scenario.rows("select order_id, amount from dev_ana__audit.assert_orders_below_limit") == [
        (5, 100),
        (6, 60),
    ]
    with scenario.provider() as provider:
        assert [info.name for info in provider.list_schemas("audit")] == []


def test_deferred_build_creates_only_the_modified_model_from_production_parents(scenario: Scenario) -> None:
    with scenario.provider() as provider:
        assert namespace_relations(provider, "dev_bob") == {"dev_bob__marts.customer_totals"}
    rows = scenario.rows(
        "select customer_id, total_amount, orders_read_from from dev_bob__marts.customer_totals"
    )
    assert rows == [(customer, 2 * total, "staging") for customer, total in sorted(PRODUCTION_TOTALS.items())]


def test_deferred_run_builds_selected_children_from_the_modified_model(scenario: Scenario) -> None:
    with scenario.provider() as provider:
        assert namespace_relations(provider, "dev_cy") == {"dev_cy__marts.customer_totals", "dev_cy.summary"}
    assert scenario.rows("select total_amount, totals_read_from from dev_cy.summary") == [
        (2 * sum(PRODUCTION_TOTALS.values()), "dev_cy__marts")
    ]
    # Production itself is as it was.
    assert scenario.rows("select total_amount, totals_read_from from prod.summary") == [
        (sum(PRODUCTION_TOTALS.values()), "marts")
    ]


def test_the_registry_knows_who_built_what_and_when(scenario: Scenario) -> None:
    with scenario.provider() as provider:
        inventory = take_inventory(provider)
    by_name = {summary.name: summary for summary in inventory.namespaces}
    assert {"prod", "dev_ana", "dev_bob", "dev_cy"} <= set(by_name)
    assert by_name["prod"].is_production and not by_name["dev_ana"].is_production
    assert inventory.namespaces[0].name == "prod", "production is listed first"
    assert by_name["dev_ana"].relations == len(expected_relations("dev_ana", with_audit=True))
    assert by_name["dev_bob"].relations == 1 and by_name["dev_cy"].relations == 2
    assert by_name["prod"].relations == len(expected_relations("prod", production=True))
    assert set(by_name["prod"].schemas) == {"prod", "raw", "staging", "marts", "snapshots"}
    for summary in by_name.values():
        if summary.registered:
            assert summary.owner == OWNER
            assert summary.last_build_at and datetime.now(UTC) - summary.last_build_at < timedelta(hours=1)
    if scenario.engine == "postgres":  # the engine that reports sizes per relation
        assert by_name["dev_ana"].size_bytes and by_name["dev_ana"].size_bytes > 0


def _fake_namespace(provider: Any, name: str, built_at: datetime, custom: str = "marts") -> None:
    """A namespace with one table in its target schema and one in a custom schema, recorded at built_at."""
    for schema in (name, f"{name}__{custom}"):
        provider.execute(f"create schema if not exists {schema}")
        provider.execute(f"create table {schema}.t as select 1 as one")
    relations = [BuiltRelation(name, "t", "model"), BuiltRelation(f"{name}__{custom}", "t", "model")]
    record_build(provider, name, False, OWNER, "build", relations, now=built_at)


def test_drop_removes_exactly_one_namespace_and_never_production(scenario: Scenario) -> None:
    with scenario.provider() as provider:
        _fake_namespace(provider, "dev_bob_two", datetime.now(UTC))
        inventory = take_inventory(provider)
        for production in ("prod", "PROD", "staging", "marts"):
            with pytest.raises(ProductionProtectedError):
                resolve_drop_target(inventory, production, provider.engine)
        with pytest.raises(UnknownNamespaceError):
            resolve_drop_target(inventory, "dev_nobody", provider.engine)
        drop_namespace(provider, resolve_drop_target(inventory, "dev_bob", provider.engine))
        assert namespace_relations(provider, "dev_bob") == set()
        assert namespace_relations(provider, "dev_bob_two") == {"dev_bob_two.t", "dev_bob_two__marts.t"}
        assert take_inventory(provider).get("dev_bob") is None
        assert namespace_relations(provider, "dev_ana") == expected_relations("dev_ana", with_audit=True)
    test_production_keeps_clean_names(scenario)


def test_gc_drops_only_namespaces_older_than_the_bound_and_never_production(scenario: Scenario) -> None:
    now = datetime.now(UTC)
    with scenario.provider() as provider:
        _fake_namespace(provider, "ci_old", now - timedelta(days=9))
        _fake_namespace(provider, "ci_recent", now - timedelta(days=2))
        # Production, however old its last build, is never garbage.
        record_build(
            provider,
            "prod",
            True,
            OWNER,
            "build",
            [BuiltRelation("prod", "summary", "model")],
            now - timedelta(days=30),
        )
        plan = plan_garbage_collection(provider, timedelta(days=7))
        assert [summary.name for summary in plan.expired] == ["ci_old"]
        assert namespace_relations(provider, "ci_old"), "planning drops nothing"
        assert collect_garbage(provider, plan) == ["ci_old"]
        assert namespace_relations(provider, "ci_old") == set()
        assert namespace_relations(provider, "ci_recent") == {"ci_recent.t", "ci_recent__marts.t"}
        assert namespace_relations(provider, "dev_ana") == expected_relations("dev_ana", with_audit=True)
        assert plan_garbage_collection(provider, timedelta(days=1), now=now + timedelta(days=365)).expired
        assert all(
            not s.is_production for s in plan_garbage_collection(provider, timedelta(seconds=1)).expired
        )
    test_production_keeps_clean_names(scenario)
