"""Differential correctness of the compile cache: after every kind of edit, every node's compiled SQL from
`overclock compile` is byte-identical to a clean `dbt compile` (fresh target folder, no partial parsing).

The synthetic project has 60 models (OVERCLOCK_DIFF_MODELS overrides it): every dbt compile costs ~8 s of
start-up and parsing whatever the size, so more models add time, not kinds of edit; the compile_cache benchmark
checks byte-identity at 2,500 models. The repository's own project is checked as it stands, on a copy, so
nobody's work tree is touched.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.synthetic_project import (
    SyntheticProject,
    edit_macro,
    edit_model_body,
    generate_project,
    model_name,
    pick_model_with_children,
    set_model_alias,
    set_model_schema,
)
from framework.compile import compile_project
from framework.compile.fallback import run as run_dbt_into
from framework.config import Settings, resolve_settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("compile_differential")]

REPO_ROOT = Path(__file__).resolve().parents[2]


def compiled_codes(manifest: dict) -> dict[str, str]:
    return {
        uid: node["compiled_code"]
        for uid, node in manifest["nodes"].items()
        if node.get("compiled_code") is not None
    }


def reference_codes(settings: Settings, scratch: Path, vars_text: str | None = None) -> dict[str, str]:
    """What plain dbt compiles, from a fresh target folder (a full parse, no state of ours)."""
    target = scratch / "reference-target"
    shutil.rmtree(target, ignore_errors=True)
    return compiled_codes(run_dbt_into(settings, target, "compile", vars_text=vars_text))


def overclock_codes(settings: Settings, vars_text: str | None = None) -> tuple[dict[str, str], str]:
    summary = compile_project(settings, vars_text=vars_text)
    manifest = json.loads(summary.manifest_path.read_text())
    codes = compiled_codes(manifest)
    for uid, code in codes.items():  # target/compiled/** carries the same bytes
        assert Path(manifest["nodes"][uid]["compiled_path"]).read_text() == code
    return codes, summary.mode


def assert_identical(ours: dict[str, str], reference: dict[str, str]) -> None:
    assert sorted(ours) == sorted(reference), "different sets of compiled nodes"
    different = [uid for uid in reference if ours[uid] != reference[uid]]
    assert not different, f"{len(different)} node(s) differ from dbt, e.g. {different[:3]}"


@pytest.fixture
def synthetic(tmp_path: Path, overclock_home: Path) -> Iterator[tuple[SyntheticProject, Settings]]:
    import os

    n_models = int(os.environ.get("OVERCLOCK_DIFF_MODELS", "60"))
    project = generate_project(tmp_path / "synthetic", n_models)
    settings = resolve_settings(project_dir=project.path, namespace="dev_differential")
    yield project, settings


def test_every_kind_of_edit_compiles_like_dbt(
    synthetic: tuple[SyntheticProject, Settings], tmp_path: Path
) -> None:
    project, settings = synthetic
    scratch = tmp_path / "scratch"

    def check(
        expected_mode: str | None = None,
        vars_text: str | None = None,
        reference: dict[str, str] | None = None,
    ) -> dict[str, str]:
        """Compile with overclock and compare with dbt; `reference` is dbt's output for these very files and
        vars when an earlier check already compiled them (dbt's compile is a function of them)."""
        ours, mode = overclock_codes(settings, vars_text)
        if expected_mode is not None:
            assert mode == expected_mode
        reference = reference or reference_codes(settings, scratch, vars_text)
        assert_identical(ours, reference)
        return reference

    cold = check("cold")
    # (a) nothing changed
    check("unchanged", reference=cold)
    # (b) one model body edited
    parent = pick_model_with_children(project, min_children=2)
    edit_model_body(project, parent)
    check("incremental")
    # (c) a macro used by 1/10 of the models edited
    edit_macro(project, 3)
    check("incremental")
    # (d) config changes that move relations: an alias and a custom schema, seen by children and tests
    set_model_alias(project, parent, f"{parent}_renamed")
    set_model_schema(project, model_name(project.n_models // 10 + 1), "special")
    moved = check("incremental")
    # (e) a var changed
    check(vars_text="{filter_deleted: true}")
    check(reference=moved)  # and back: the files and vars of (d) again
    # a model added (refs an existing model; with a test in a new .yml)
    new_model = project.path / "models" / "marts" / "model_new.sql"
    new_model.write_text(f"select id, amount from {{{{ ref('{parent}') }}}} where amount > 0\n")
    (project.path / "models" / "marts" / "_new.yml").write_text(
        "version: 2\nmodels:\n  - name: model_new\n    columns:\n      - name: id\n        data_tests: [not_null]\n"
    )
    check()
    # a model deleted (a leaf: nothing refs it)
    leaf = model_name(project.n_models - 1)
    (project.path / "models" / "marts" / f"{leaf}.sql").unlink()
    check()
    # a model renamed (its yml entry follows; nothing refs the new leaf)
    (project.path / "models" / "marts" / "_new.yml").unlink()
    new_model.rename(project.path / "models" / "marts" / "model_newer.sql")
    check()


def test_repository_models_compile_like_dbt(tmp_path: Path, overclock_home: Path) -> None:
    """The repository's own project (whatever models/ holds today), compiled on a copy."""
    copy = tmp_path / "repo"
    for folder in ("project", "models", "macros"):
        shutil.copytree(
            REPO_ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
        )
    settings = resolve_settings(project_dir=copy / "project", namespace="dev_differential")
    scratch = tmp_path / "scratch"
    ours, mode = overclock_codes(settings)
    assert mode == "cold"
    reference = reference_codes(settings, scratch)
    assert_identical(ours, reference)
    ours, mode = overclock_codes(settings)
    # nodes whose SQL depends on the warehouse (is_incremental()) are recompiled by dbt on every compile
    assert mode in ("unchanged", "incremental")
    assert_identical(ours, reference)
    # edit a few model bodies (a trailing comment) and compile again
    for path in sorted((copy / "models").rglob("*.sql"))[:5]:
        path.write_text(path.read_text().rstrip("\n") + "\n-- edited\n")
    ours, _ = overclock_codes(settings)
    assert_identical(ours, reference_codes(settings, scratch))
