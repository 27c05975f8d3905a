"""Compile cache benchmark: plain `dbt compile` against `overclock compile`, side by side, in one run.

On a synthetic project (default 2,500 models; `--quick` 400) it times both tools on:
  (f) cold — dbt with no saved state, overclock with an empty cache (this also seeds both);
  (a) nothing changed;
  (b) one model body edited;
  (c) one macro edited that 10% of the models call;
  (d) one model's alias changed (its children's SQL changes);
  (e) a var changed (`--vars`).
dbt keeps its partial-parsing state between runs, as a user's dbt does. After every step the compiled SQL of
every node from both tools is compared byte for byte. `--large N` also times (a) and (b) at N models
(overclock only unless `--large-dbt`). Writes benchmarks/results/compile_cache.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.common import WORK_DIR, BenchmarkResult
from benchmarks.synthetic_project import (
    edit_macro,
    edit_model_body,
    generate_project,
    pick_model_with_children,
    plan_project,
    set_model_alias,
)

BIN = Path(sys.executable).parent
NAMESPACE = "bench"


def codes(manifest_path: Path) -> dict[str, str]:
    manifest = json.loads(manifest_path.read_text())
    return {u: n["compiled_code"] for u, n in manifest["nodes"].items() if n.get("compiled_code") is not None}


class Bench:
    def __init__(self, project_dir: Path, work: Path) -> None:
        self.project_dir = project_dir
        self.work = work
        self.dbt_target = work / "dbt-target"
        self.home = work / "overclock-home"
        self.env = {
            **os.environ,
            "OVERCLOCK_NAMESPACE": NAMESPACE,
            "OVERCLOCK_IS_PRODUCTION": "false",
            "OVERCLOCK_TARGET": "local",
            "OVERCLOCK_DUCKDB_PATH": str(work / "warehouse.duckdb"),
            "OVERCLOCK_HOME": str(self.home),
            "DBT_TARGET_PATH": str(work / "overclock-target"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
        self.env.pop("OVERCLOCK_DEBUG", None)

    def dbt(self, vars_text: str | None = None) -> float:
        command = [
            str(BIN / "dbt"),
            "compile",
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            "--target-path",
            str(self.dbt_target),
            "--quiet",
        ]
        if vars_text:
            command += ["--vars", vars_text]
        started = time.perf_counter()
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"dbt compile failed:\n{done.stdout}\n{done.stderr}")
        return elapsed

    def overclock(self, vars_text: str | None = None) -> tuple[float, str]:
        command = [str(BIN / "overclock"), "compile", "--project-dir", str(self.project_dir)]
        if vars_text:
            command += ["--vars", vars_text]
        started = time.perf_counter()
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"overclock compile failed:\n{done.stdout}\n{done.stderr}")
        return elapsed, done.stdout.strip()

    def identical(self) -> bool:
        ours = codes(Path(self.env["DBT_TARGET_PATH"]) / "manifest.json")
        theirs = codes(self.dbt_target / "manifest.json")
        return ours == theirs


def run_steps(
    n_models: int, result: BenchmarkResult, with_dbt: bool = True, only: str = "fabcde", reuse: bool = False
) -> None:
    """Run the steps named by their letters in `only`; `reuse` goes on from an earlier run's project and
    caches (no regeneration, no cold step) — e.g. to measure a step again on a quieter machine."""
    work = WORK_DIR / "compile_cache" / str(n_models)
    if reuse:
        project = plan_project(work / "project", n_models)
    else:
        shutil.rmtree(work, ignore_errors=True)
        project = generate_project(work / "project", n_models)
    bench = Bench(project.path, work)
    parent = pick_model_with_children(project, min_children=3)
    steps = {
        "f_cold": lambda: None,
        "a_unchanged": lambda: None,
        "b_model_body": lambda: edit_model_body(project, parent, marker=f"edited {time.time()}"),
        "c_macro": lambda: edit_macro(project, 0),
        "d_alias": lambda: set_model_alias(project, parent, f"{parent}_v{int(time.time())}"),
        "e_var": lambda: None,
    }
    prefix = f"{n_models}_"
    for name, edit in steps.items():
        if name[0] not in only:
            continue
        edit()
        vars_text = "{filter_deleted: true}" if name == "e_var" else None
        if name == "f_cold":  # nothing saved by either tool
            shutil.rmtree(bench.dbt_target, ignore_errors=True)
            shutil.rmtree(bench.home, ignore_errors=True)
        dbt_seconds = bench.dbt(vars_text) if with_dbt else None
        ours, output = bench.overclock(vars_text)
        line = output.splitlines()[0] if output else ""
        phases = next((x.strip() for x in output.splitlines() if x.strip().startswith("phases:")), "")
        if phases:
            result.metrics[f"{prefix}{name}_overclock_phases"] = phases.removeprefix("phases: ")
        print(
            f"[{n_models}] {name}: dbt {dbt_seconds or float('nan'):.2f} s, overclock {ours:.3f} s — {line}",
            flush=True,
        )
        result.metrics[f"{prefix}{name}_overclock_s"] = round(ours, 3)
        if dbt_seconds is not None:
            result.metrics[f"{prefix}{name}_dbt_s"] = round(dbt_seconds, 3)
            result.metrics[f"{prefix}{name}_speedup_x"] = round(dbt_seconds / ours, 2)
            same = bench.identical()
            result.metrics[f"{prefix}{name}_byte_identical"] = same
            if not same:
                print(f"  !! compiled SQL differs from dbt's after {name}", flush=True)
    if with_dbt and n_models == result.params["models"]:
        add_targets(result, n_models)


def add_targets(result: BenchmarkResult, n_models: int) -> None:
    """The issue's acceptance bounds, for the steps that were measured."""
    m, prefix = result.metrics, f"{n_models}_"

    def metric(name: str) -> float | None:
        value = m.get(f"{prefix}{name}")
        return None if value is None else float(value)

    bounds = [
        ("at_most", f"(a) nothing changed, {n_models} models", metric("a_unchanged_overclock_s"), 0.5, " s"),
        (
            "at_most",
            f"(b) one model edited, {n_models} models",
            metric("b_model_body_overclock_s"),
            1.0,
            " s",
        ),
        ("at_least", "(b) speedup vs dbt", metric("b_model_body_speedup_x"), 25, "x"),
        ("at_least", "(c) macro edit speedup vs dbt", metric("c_macro_speedup_x"), 5, "x"),
        ("at_least", "(d) alias change speedup vs dbt", metric("d_alias_speedup_x"), 5, "x"),
    ]
    cold, cold_dbt = metric("f_cold_overclock_s"), metric("f_cold_dbt_s")
    if cold is not None and cold_dbt:
        bounds.append(("at_most", "(f) cold, overclock / dbt", cold / cold_dbt, 1.2, "x"))
    for kind, name, value, bound, unit in bounds:
        if value is not None:
            getattr(result, kind)(name, value, bound, unit)
    identical = [v for k, v in m.items() if k.startswith(prefix) and k.endswith("byte_identical")]
    if identical:
        result.at_least("byte-identical to dbt after every step (1 = yes)", float(all(identical)), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=2500)
    parser.add_argument("--quick", action="store_true", help="400 models: for development")
    parser.add_argument("--large", type=int, default=0, help="also time (a) and (b) at this many models")
    parser.add_argument("--large-dbt", action="store_true", help="time dbt at the large size too")
    parser.add_argument("--large-only", action="store_true", help="only the --large run (own result file)")
    parser.add_argument(
        "--reuse", metavar="STEPS", help="measure these steps again (e.g. 'ab') on the last run's project"
    )
    arguments = parser.parse_args()
    n_models = 400 if arguments.quick else arguments.models
    if arguments.large_only:
        result = BenchmarkResult(
            "compile_cache_large", params={"models": arguments.large, "cpus": os.cpu_count()}
        )
        run_steps(arguments.large, result, with_dbt=arguments.large_dbt, only="fab")
        result.finish()
        return
    result = BenchmarkResult(
        "compile_cache",
        params={
            "models": n_models,
            "large": arguments.large,
            "cpus": os.cpu_count(),
            "quick": arguments.quick,
        },
    )
    if arguments.reuse:
        result.benchmark = "compile_cache_rerun"
        run_steps(n_models, result, only=arguments.reuse, reuse=True)
        result.finish()
        return
    run_steps(n_models, result)
    if arguments.large:
        run_steps(arguments.large, result, with_dbt=arguments.large_dbt, only="fab")
    result.finish()


if __name__ == "__main__":
    main()
