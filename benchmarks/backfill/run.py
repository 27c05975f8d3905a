"""Backfill benchmark: `overclock backfill` against dbt microbatch (`dbt run --event-time-start/--event-time-end`)
over the same range, the same data and the same SQL, side by side, in one run, on DuckDB.

The data: 365 daily partitions of events, about 10.5 M rows (`--quick`: 30 days, about 0.6 M), in a Parquet
file. Two models select the same columns from it: `events_microbatch` (dbt's microbatch strategy, one batch
per day) and `events_partitioned` (Overclock's partition_replace, filtered by `partition_window`). Both tools
start warm, as a user's would: dbt with its partial-parse state, Overclock with its parsed manifest. Timed:
  full   — the whole range into an empty table;
  re-run — the same range again, once it is complete.
Afterwards both tables must hold the same rows. Targets: full ≥ 2× faster, re-run ≥ 20× faster.
Writes benchmarks/results/backfill.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.common import WORK_DIR, BenchmarkResult

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START = date(2025, 1, 1)
SELECTED_COLUMNS = """
    event_id,
    user_id,
    event_at,
    cast(event_at as date) as event_date,
    category,
    amount"""


def write_project(work: Path, days: int, rows_per_day: int) -> Path:
    project = work / "project"
    (project / "models").mkdir(parents=True)
    data = work / "events.parquet"
    (project / "dbt_project.yml").write_text(
        f"""name: bench_backfill
version: "1.0.0"
config-version: 2
profile: bench_backfill
model-paths: ["models"]
macro-paths: ["{REPO_ROOT / "macros"}"]
flags:
  send_anonymous_usage_stats: false
"""
    )
    (project / "profiles.yml").write_text(
        f"""bench_backfill:
  target: local
  outputs:
    local:
      type: duckdb
      path: "{work / "warehouse.duckdb"}"
      schema: main
      threads: 1
"""
    )
    (project / "models" / "sources.yml").write_text(
        f"""version: 2
sources:
  - name: raw
    schema: main
    tables:
      - name: events
        config:
          external_location: "read_parquet('{data}')"
          event_time: event_at
"""
    )
    (project / "models" / "events_microbatch.sql").write_text(
        f"""{{{{ config(
    materialized='incremental',
    incremental_strategy='microbatch',
    event_time='event_at',
    batch_size='day',
    begin='{START.isoformat()}',
    lookback=0,
) }}}}

select{SELECTED_COLUMNS}
from {{{{ source('raw', 'events') }}}}
"""
    )
    (project / "models" / "events_partitioned.sql").write_text(
        f"""{{{{ config(
    materialized='incremental',
    incremental_strategy='partition_replace',
    partition_by={{'field': 'event_date', 'data_type': 'date', 'granularity': 'day'}},
    lookback=0,
) }}}}

select{SELECTED_COLUMNS}
from {{{{ source('raw', 'events') }}}}
where {{{{ partition_window('event_at', 'timestamp') }}}}
"""
    )
    import duckdb

    total = days * rows_per_day
    with duckdb.connect() as connection:
        connection.execute(
            f"""
            copy (
                select
                    i as event_id,
                    cast(hash(i, 'user') % 50000 as bigint) as user_id,
                    timestamp '{START.isoformat()}' + to_seconds(cast(i * 86400.0 / {rows_per_day} as bigint))
                        as event_at,
                    ['view', 'click', 'share', 'buy'][1 + cast(hash(i, 'category') % 4 as bigint)] as category,
                    cast(hash(i, 'amount') % 10000 as bigint) / 100.0 as amount
                from range({total}) t(i)
            ) to '{data}' (format parquet, compression zstd, row_group_size 122880)
            """
        )
    return project


def timed(command: list[str], env: dict[str, str], what: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"{what} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    print(f"  {what}: {seconds:.2f} s", flush=True)
    return seconds


def same_rows(warehouse: Path) -> tuple[int, bool]:
    import duckdb

    columns = "event_id, user_id, event_at, event_date, category, amount"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (rows,) = connection.execute("select count(*) from main.events_partitioned").fetchone() or (0,)
        (differ,) = connection.execute(
            f"""select count(*) from (
                (select {columns} from main.events_partitioned except all select {columns} from main.events_microbatch)
                union all
                (select {columns} from main.events_microbatch except all select {columns} from main.events_partitioned)
            )"""
        ).fetchone() or (1,)
    return int(rows), differ == 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="30 days, about 0.6 M rows.")
    parser.add_argument("--days", type=int, help="partitions (default 365; --quick 30).")
    parser.add_argument("--rows-per-day", type=int, default=28_800, help="rows per day (default 28,800).")
    args = parser.parse_args()
    days = args.days or (30 if args.quick else 365)
    rows_per_day = 20_000 if args.quick and args.rows_per_day == 28_800 else args.rows_per_day
    end = START + timedelta(days=days - 1)

    work = WORK_DIR / "backfill"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"backfill benchmark: {days} daily partitions, {days * rows_per_day:,} rows, in {work}", flush=True)
    project = write_project(work, days, rows_per_day)

    env = {
        **os.environ,
        "OVERCLOCK_HOME": str(work / "overclock-home"),
        "DBT_TARGET_PATH": str(work / "overclock-target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    env.pop("OVERCLOCK_DUCKDB_PATH", None)
    dbt_env = {**env, "DBT_TARGET_PATH": str(work / "dbt-target")}
    place = ["--project-dir", str(project), "--profiles-dir", str(project)]
    microbatch = [
        str(BIN / "dbt"), "run", *place, "-s", "events_microbatch",
        "--event-time-start", START.isoformat(), "--event-time-end", (end + timedelta(days=1)).isoformat(),
    ]  # fmt: skip
    overclock = [
        str(BIN / "overclock"), "backfill", *place, "--prod", "-s", "events_partitioned",
        "--start", START.isoformat(), "--end", end.isoformat(),
    ]  # fmt: skip

    # Both start warm, as a user's tools would: dbt with its partial-parse state, Overclock with its parsed
    # manifest kept (a dry run parses and plans, and runs nothing).
    print("warming up (untimed): dbt parse, overclock backfill --dry-run", flush=True)
    timed([str(BIN / "dbt"), "parse", *place], dbt_env, "dbt parse")
    timed([*overclock, "--dry-run"], env, "overclock backfill --dry-run")

    print("timing", flush=True)
    microbatch_full = timed(microbatch, dbt_env, "dbt microbatch, full range")
    microbatch_rerun = timed(microbatch, dbt_env, "dbt microbatch, same range again")
    overclock_full = timed(overclock, env, "overclock backfill, full range")
    overclock_rerun = timed(overclock, env, "overclock backfill, same range again")
    rows, identical = same_rows(work / "warehouse.duckdb")
    if not identical:
        raise SystemExit("the two tables differ: the benchmark compares nothing")

    result = BenchmarkResult(
        "backfill",
        params={"days": days, "rows": days * rows_per_day, "engine": "duckdb", "quick": args.quick},
        metrics={
            "rows in each table": rows,
            "microbatch full (s)": round(microbatch_full, 3),
            "microbatch re-run (s)": round(microbatch_rerun, 3),
            "overclock full (s)": round(overclock_full, 3),
            "overclock re-run (s)": round(overclock_rerun, 3),
            "tables identical": identical,
        },
    )
    result.at_least("full backfill speed-up vs microbatch", microbatch_full / overclock_full, 2, "x")
    result.at_least("re-run speed-up vs microbatch", microbatch_rerun / overclock_rerun, 20, "x")
    result.finish()
    if not all(target.met for target in result.targets):
        sys.exit(1)


if __name__ == "__main__":
    main()
