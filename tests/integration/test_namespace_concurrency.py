"""Isolation under concurrency, on PostgreSQL: production and three namespaces build the same project at the
same time, each in its own `overclock` process, and nobody writes into anybody else's relations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from framework.config import resolve_settings
from framework.namespaces.naming import schema_belongs_to
from framework.namespaces.registry import read_registry
from framework.providers import provider_for
from tests.namespace_fixture import (
    RELATIONS,
    copy_fixture_project,
    expected_relations,
    namespace_relations,
    relations_in,
    schema_name,
)

OVERCLOCK = str(Path(sys.executable).with_name("overclock"))
NAMESPACES = ("ns_a", "ns_b", "ns_c")
MODELS = {"stg_orders": "staging", "stg_customers": "staging", "customer_totals": "marts", "summary": ""}
PRODUCTION_SCHEMAS = ("prod", *(custom for custom in RELATIONS if custom))

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("namespaces_postgres")]


def _checksums(provider, relations: set[str]) -> dict[str, str]:
    return {
        relation: provider.query(
            f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {relation} t"
        )[0][0]
        for relation in sorted(relations)
    }


def _written_relations(target_path: Path) -> set[tuple[str, str]]:
    """(schema, relation) of every node a process's dbt run says it wrote."""
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    written = set()
    for result in results:
        if result.get("relation_name"):
            _, schema, name = (part.strip('"') for part in result["relation_name"].split("."))
            written.add((schema, name))
    return written


def test_production_and_three_namespaces_build_at_once_without_touching_each_other(
    postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres.create_database("namespaces_concurrency")
    project = copy_fixture_project(tmp_path / "project")
    for key, value in postgres.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("OVERCLOCK_PG_DATABASE", "namespaces_concurrency")
    monkeypatch.setenv("OVERCLOCK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USER", "ns_tester")
    monkeypatch.delenv("OVERCLOCK_NAMESPACE", raising=False)
    environment = dict(os.environ)

    def start(label: str, *flags: str) -> subprocess.Popen[str]:
        target = tmp_path / label
        target.mkdir()
        return subprocess.Popen(
            [OVERCLOCK, "build", "--project-dir", str(project), "-t", "postgres", *flags],
            env={
                **environment,
                "DBT_TARGET_PATH": str(target / "target"),
                "DBT_LOG_PATH": str(target / "logs"),
            },
            stdout=(target / "out.log").open("w"),
            stderr=subprocess.STDOUT,
            text=True,
        )

    def finish(label: str, process: subprocess.Popen[str]) -> None:
        assert process.wait(timeout=600) == 0, (tmp_path / label / "out.log").read_text()[-3000:]

    finish("prod-before", start("prod-before", "--prod"))
    with provider_for(resolve_settings(project_dir=project, target="postgres", production=True)) as provider:
        production = expected_relations("prod", production=True)
        assert relations_in(provider, PRODUCTION_SCHEMAS) == production
        before = _checksums(provider, production)

    processes = {"prod": start("prod", "--prod")}
    processes |= {namespace: start(namespace, "--namespace", namespace) for namespace in NAMESPACES}
    for label, process in processes.items():
        finish(label, process)

    settings = resolve_settings(project_dir=project, target="postgres", production=True)
    with provider_for(settings) as provider:
        assert relations_in(provider, PRODUCTION_SCHEMAS) == production
        assert _checksums(provider, production) == before, "production's rows changed"
        for namespace in NAMESPACES:
            assert namespace_relations(provider, namespace) == expected_relations(namespace)
            for model, custom in MODELS.items():
                schema = schema_name(namespace, custom)
                built_in = provider.query(f"select distinct built_in from {schema}.{model}")
                assert built_in == [(schema,)], f"{schema}.{model} holds rows written by {built_in}"
        _, recorded = read_registry(provider)

    # Every process wrote only inside its own namespace (dbt's own record, and the registry's).
    for label in processes:
        written = _written_relations(tmp_path / label / "target")
        assert written, label
        for schema, name in written:
            if label == "prod":
                assert schema in PRODUCTION_SCHEMAS, f"production wrote {schema}.{name}"
            else:
                assert schema_belongs_to(schema, label), f"{label} wrote {schema}.{name}"
    for record in recorded:
        if record.namespace != "prod":
            assert schema_belongs_to(record.schema, record.namespace), record
    assert {record.namespace for record in recorded} == {"prod", *NAMESPACES}
