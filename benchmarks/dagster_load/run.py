"""Benchmark: loading the Dagster code location over a 2,500-model project.

Side by side in one run, each in fresh Python processes (interpreter start and imports included, as a code
location load pays them): dagster-dbt's own default path (`@dbt_assets(manifest=...)` with the default
translator, then the repository resolved) against `dagster_defs` (manifest from the compile cache, fast
name selection, our translator). Target: ours under 5 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.common import WORK_DIR, BenchmarkResult
from benchmarks.synthetic_project import generate_project

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

DEFAULT_LOAD = """
import sys
import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

@dbt_assets(manifest=sys.argv[1])
def assets(context, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()

defs = dg.Definitions(assets=[assets], resources={"dbt": DbtCliResource(project_dir=sys.argv[2])})
print(len(defs.get_repository_def().asset_graph.get_all_asset_keys()))
"""

OVERCLOCK_LOAD = """
import dagster_defs
print(len(dagster_defs.defs.get_repository_def().asset_graph.get_all_asset_keys()))
"""


def timed_process(code: str, args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, robust on a loaded machine) and the last line printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([PYTHON, "-c", code, *args], env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, result.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=2500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="300 models, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.models, args.repeats = 300, 1

    work = WORK_DIR / f"dagster_load_{args.models}"
    project = generate_project(work / "project", args.models)
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "OVERCLOCK_PROJECT_DIR": str(project.path),
        "OVERCLOCK_HOME": str(work / "home"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "PATH": f"{Path(PYTHON).parent}:{os.environ.get('PATH', '')}",
    }
    # Warm the compile cache (and produce the manifest both paths read).
    compiled = subprocess.run(
        [str(Path(PYTHON).with_name("overclock")), "compile", "--prod"],
        env=env,
        capture_output=True,
        text=True,
    )
    if compiled.returncode != 0:
        raise RuntimeError(compiled.stdout[-2000:] + compiled.stderr[-2000:])
    manifest = work / "target" / "manifest.json"

    default_times, ours_times, default_cpu, ours_cpu = [], [], [], []
    for _ in range(args.repeats):
        seconds, cpu, default_count = timed_process(DEFAULT_LOAD, [str(manifest), str(project.path)], env)
        default_times.append(seconds)
        default_cpu.append(cpu)
        seconds, cpu, ours_count = timed_process(OVERCLOCK_LOAD, [], {**env, "PYTHONPATH": str(REPO)})
        ours_times.append(seconds)
        ours_cpu.append(cpu)

    default_s, ours_s = statistics.median(default_times), statistics.median(ours_times)
    result = BenchmarkResult(
        "dagster_load",
        params={"models": args.models, "repeats": args.repeats, "quick": args.quick},
        metrics={
            "dagster_dbt_default_load_s": round(default_s, 3),
            "overclock_load_s": round(ours_s, 3),
            "speedup_vs_default": round(default_s / ours_s, 3),
            "dagster_dbt_default_cpu_s": round(statistics.median(default_cpu), 3),
            "overclock_cpu_s": round(statistics.median(ours_cpu), 3),
            "assets_default": int(default_count),
            "assets_overclock": int(ours_count),
        },
    )
    result.at_most("overclock code-location load (s)", ours_s, 5.0, " s")
    result.at_least("speedup vs dagster-dbt default", default_s / ours_s, 1.0, "x")
    result.finish()


if __name__ == "__main__":
    main()
