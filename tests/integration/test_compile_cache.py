"""The compile cache's robustness: corruption is detected and repaired, concurrent processes agree, and
project errors are reported as dbt reports them (file and line, exit code 1), never answered from the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.synthetic_project import edit_model_body, generate_project, model_name
from framework.compile import compile_project
from framework.compile.compiler import cache_root, setup_key
from framework.compile.store import FORMAT_VERSION, MAGIC
from framework.config import Settings, resolve_settings
from tests.isolation import use_home

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("compile_cache")]

OVERCLOCK = str(Path(sys.executable).with_name("overclock"))


def codes_of(manifest_path: Path) -> dict[str, str]:
    manifest = json.loads(manifest_path.read_text())
    return {
        uid: n["compiled_code"] for uid, n in manifest["nodes"].items() if n.get("compiled_code") is not None
    }


@pytest.fixture(scope="module")
def compiled_small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings, dict[str, str]]:
    """A 30-model project and its Overclock home after one cold compile (dbt's output is the reference), kept
    untouched in `pristine/`; the tests work in `work/`, restored from it before each one."""
    root = tmp_path_factory.mktemp("compile-cache-small")
    work = root / "work"
    with pytest.MonkeyPatch.context() as patch:
        use_home(patch, work / "home")
        project = generate_project(work / "project", 30)
        settings = resolve_settings(project_dir=project.path, namespace="dev_cache")
        summary = compile_project(settings)
    assert summary.mode == "cold"
    reference = codes_of(summary.manifest_path)
    shutil.copytree(work, root / "pristine", symlinks=True)
    return work, settings, reference


@pytest.fixture
def small(
    compiled_small: tuple[Path, Settings, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Settings, dict[str, str]]:
    """The compiled 30-model project, as the cold compile left it: restored to the same absolute paths (the
    cache is keyed by the project's path), so each test starts from a warm cache without a compile of its own."""
    work, settings, reference = compiled_small
    shutil.rmtree(work)
    shutil.copytree(work.parent / "pristine", work, symlinks=True)
    use_home(monkeypatch, work / "home")
    return work / "project", settings, dict(reference)


def cache_file(settings: Settings, kind: str) -> Path:
    return cache_root(settings) / kind / f"{setup_key(settings)}.json"


def any_object(settings: Settings) -> Path:
    return next(p for p in (cache_root(settings) / "objects").rglob("*") if p.is_file())


def test_truncated_state_is_discarded_and_rebuilt(small: tuple[Path, Settings, dict[str, str]]) -> None:
    path, settings, reference = small
    state = cache_file(settings, "states")
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    (path / "models" / "marts" / f"{model_name(29)}.sql").write_text("select 1 as id\n")
    summary = compile_project(settings)
    assert any("corrupted (truncated)" in w for w in summary.warnings)
    assert summary.mode == "cold"
    reference[f"model.synthetic.{model_name(29)}"] = "select 1 as id"
    assert codes_of(summary.manifest_path) == reference
    assert compile_project(settings).mode == "unchanged"


def test_flipped_bytes_in_an_object_are_detected(small: tuple[Path, Settings, dict[str, str]]) -> None:
    path, settings, reference = small
    model = path / "models" / "intermediate" / f"{model_name(5)}.sql"
    original = model.read_text()
    model.write_text(original.replace("select * from final", "select * from final -- edited", 1))
    assert compile_project(settings).mode == "incremental"
    for target in (p for p in (cache_root(settings) / "objects").rglob("*") if p.is_file()):
        data = bytearray(target.read_bytes())
        data[-1] ^= 0xFF
        target.write_bytes(bytes(data))
    # reverting the edit brings back a fingerprint whose SQL is only in the (now corrupted) object store
    model.write_text(original)
    summary = compile_project(settings)
    assert any("corrupted (checksum mismatch)" in w for w in summary.warnings)
    assert summary.rendered >= 1
    assert codes_of(summary.manifest_path) == reference


def test_a_cache_of_another_version_is_discarded(small: tuple[Path, Settings, dict[str, str]]) -> None:
    _, settings, reference = small
    for kind in ("heads", "states"):
        target = cache_file(settings, kind)
        data = target.read_bytes()
        target.write_bytes(data.replace(b"%s %d " % (MAGIC, FORMAT_VERSION), b"%s 999 " % MAGIC, 1))
    summary = compile_project(settings)
    assert any("format version 999" in w for w in summary.warnings)
    assert summary.mode == "cold"
    assert codes_of(summary.manifest_path) == reference


def test_two_processes_at_once_both_succeed(tmp_path: Path, overclock_home: Path) -> None:
    project = generate_project(tmp_path / "concurrent", 30)
    env = {**os.environ, "OVERCLOCK_NAMESPACE": "dev_concurrent"}
    command = [OVERCLOCK, "compile", "--project-dir", str(project.path)]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outputs = [first.communicate(timeout=600)[0], second.communicate(timeout=600)[0]]
    assert first.returncode == 0 and second.returncode == 0, outputs
    modes = sorted(
        "cold" if "(cold)" in out else "unchanged" if "up to date" in out else out for out in outputs
    )
    assert modes == ["cold", "unchanged"], outputs  # the lock serialises them; the second finds it done
    settings = resolve_settings(project_dir=project.path, namespace="dev_concurrent")
    summary = compile_project(settings)
    assert summary.mode == "unchanged"
    assert len(codes_of(summary.manifest_path)) == summary.nodes


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OVERCLOCK, *args], capture_output=True, text=True, timeout=600, check=False)


def test_jinja_error_reports_file_and_line(small: tuple[Path, Settings, dict[str, str]]) -> None:
    path, _, _ = small
    model = path / "models" / "intermediate" / f"{model_name(7)}.sql"
    good = model.read_text()
    model.write_text(good.replace("select * from final", "select * from final {{ oops(", 1))
    result = run_cli("compile", "--project-dir", str(path), "--namespace", "dev_cache")
    assert result.returncode == 1, result.stdout + result.stderr
    message = result.stderr
    assert f"{model_name(7)}.sql" in message and "line" in message
    # never a stale answer from the cache: still failing on a second run
    assert run_cli("compile", "--project-dir", str(path), "--namespace", "dev_cache").returncode == 1
    model.write_text(good)
    result = run_cli("compile", "--project-dir", str(path), "--namespace", "dev_cache")
    assert result.returncode == 0, result.stderr


def test_yaml_error_reports_file_and_line(small: tuple[Path, Settings, dict[str, str]]) -> None:
    path, _, _ = small
    schema = path / "models" / "marts" / "_marts__models.yml"
    good = schema.read_text()
    schema.write_text(good.replace("    description: Synthetic", "   description: [Synthetic", 1))
    result = run_cli("compile", "--project-dir", str(path), "--namespace", "dev_cache")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "_marts__models.yml" in result.stderr and "line" in result.stderr
    schema.write_text(good)
    assert run_cli("compile", "--project-dir", str(path), "--namespace", "dev_cache").returncode == 0


def test_cache_stats_and_clear(small: tuple[Path, Settings, dict[str, str]]) -> None:
    path, settings, _ = small
    edit_model_body(generate_project(path, 30), model_name(12))
    compile_project(settings)
    stats = run_cli("cache", "stats", "--project-dir", str(path), "--namespace", "dev_cache")
    assert stats.returncode == 0 and "hits" in stats.stdout and "fallbacks" in stats.stdout
    cleared = run_cli("cache", "clear", "--project-dir", str(path), "--namespace", "dev_cache")
    assert cleared.returncode == 0 and "removed" in cleared.stdout
    assert compile_project(settings).mode == "cold"


def test_dbt_reads_the_manifest_for_state_selection(
    small: tuple[Path, Settings, dict[str, str]], tmp_path: Path
) -> None:
    """dbt itself accepts the written manifest as `--state`: `state:modified` finds exactly the edited model."""
    from framework.dbt import run_dbt_subprocess

    path, settings, _ = small
    project = generate_project(path, 30)
    edit_model_body(project, model_name(12))
    summary = compile_project(settings)
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    shutil.copy(summary.manifest_path, state_dir / "manifest.json")
    edit_model_body(project, model_name(14))
    listed = run_dbt_subprocess(
        settings,
        ["ls"],
        ["--select", "state:modified", "--state", str(state_dir), "--output", "name", "--quiet"],
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert listed.stdout.split() == [model_name(14)]
