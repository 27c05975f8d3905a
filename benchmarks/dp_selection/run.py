"""DP partition selection at 10 million (user, item) pairs: speed, memory and utility.

    python benchmarks/dp_selection/run.py [--pairs 10000000] [--seeds 5] [--max-items 100] [--quick]

`--quick` (1 M pairs, one seed) is for development; its results go to dp_selection.quick.json.

1. Speed and memory: each algorithm (basic, laplace, two_round) in a fresh process over the same Zipf data,
   side by side with the naive baseline of DESIGN.md §10 (DuckDB SQL: distinct, a window ranking by random(),
   a window count, group by; then numpy noise). Wall time of the whole selection and the process's peak RSS.
2. Utility: items released and covered mass (the share of distinct (user, item) pairs whose item is
   released), Basic vs two-round at several budget splits, averaged over `--seeds` data-and-noise seeds.

Data: users and items drawn from bounded Zipf laws (users: 1 M ranks, exponent 0.9 — a few very active users;
items: 10 M ranks, exponent 1.1 — a vocabulary-like long tail).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.common import WORK_DIR, BenchmarkResult
from framework.privacy.parameters import DEFAULT_ROUND1_SHARE

EPSILON, DELTA = 1.0, 1e-5
USERS, USER_EXPONENT = 1_000_000, 0.9
ITEMS, ITEM_EXPONENT = 10_000_000, 1.1
TWO_ROUND_SHARES = (0.05, 0.1, 0.25, 0.5)


def bounded_zipf(rng: np.random.Generator, ranks: int, exponent: float, size: int) -> np.ndarray:
    """Ranks 1..`ranks` with P(r) ∝ r^-exponent (continuous inverse CDF, floored): vectorised, O(size)."""
    top = float(ranks + 1) ** (1.0 - exponent) - 1.0
    values = (1.0 + rng.random(size) * top) ** (1.0 / (1.0 - exponent))
    return np.minimum(values.astype(np.int64), ranks)


def zipf_pairs(pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return bounded_zipf(rng, USERS, USER_EXPONENT, pairs), bounded_zipf(rng, ITEMS, ITEM_EXPONENT, pairs)


def connect_with(users: np.ndarray, items: np.ndarray) -> Any:
    import duckdb
    import pyarrow as pa

    connection = duckdb.connect()
    connection.register("contributions", pa.table({"user_id": users, "item": items}))
    return connection


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_seconds() -> float:
    """User + system time of this process, all threads: steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the contenders -------------------------------------------------------------------------------------


def run_ours(
    connection: Any,
    algorithm: str,
    max_items: int,
    seed: int,
    share: float = 0.1,
    composition: str = "gaussian",
) -> Any:
    from framework.privacy.parameters import SelectionParameters
    from framework.privacy.release import release_vocabulary

    parameters = SelectionParameters(
        EPSILON,
        DELTA,
        max_items,
        algorithm,
        round1_share=share,
        composition=composition,  # type: ignore[arg-type]
    )
    return release_vocabulary(
        connection, "contributions", parameters, user_column="user_id", item_column="item", noise_seed=seed
    )


NAIVE_SQL = """
with pairs as (
    select user_id, item, random() as draw from (select distinct user_id, item from contributions)
),
ranked as (
    select user_id, item, row_number() over (partition by user_id order by draw) as item_rank from pairs
),
bounded as (
    select user_id, item, count(*) over (partition by user_id) as kept_items
    from ranked where item_rank <= {max_items}
)
select item, sum(1.0 / sqrt(kept_items)) as weight from bounded group by item
"""


def run_naive(connection: Any, max_items: int, seed: int) -> int:
    from framework.privacy.parameters import SelectionParameters
    from framework.privacy.plan import plan_selection

    (round_plan,) = plan_selection(SelectionParameters(EPSILON, DELTA, max_items, "basic")).rounds
    connection.execute(f"select setseed({(seed % 1000) / 1000})")
    weights = connection.execute(NAIVE_SQL.format(max_items=max_items)).fetchnumpy()
    noisy = weights["weight"] + np.random.default_rng(seed).normal(
        0, round_plan.scale, len(weights["weight"])
    )
    return int(np.count_nonzero(noisy >= round_plan.threshold))


def _timed_worker(contender: str, pairs: int, max_items: int, queue: Any) -> None:
    users, items = zipf_pairs(pairs, seed=0)
    connection = connect_with(users, items)
    baseline_mb = peak_rss_mb()
    start, start_cpu = time.perf_counter(), cpu_seconds()
    if contender == "naive":
        released = run_naive(connection, max_items, seed=0)
    else:
        released = len(run_ours(connection, contender, max_items, seed=0).items)
    queue.put(
        {
            "seconds": time.perf_counter() - start,
            "cpu_seconds": cpu_seconds() - start_cpu,
            "peak_mb": peak_rss_mb(),
            "data_mb": baseline_mb,
            "released": released,
        }
    )


def timed(contender: str, pairs: int, max_items: int) -> dict[str, float]:
    """Run one contender in a fresh process, so that peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_timed_worker, args=(contender, pairs, max_items, queue))
    process.start()
    result = queue.get()
    process.join()
    return result  # type: ignore[no-any-return]


def covered_mass(connection: Any, released: Any) -> float:
    """Share of the distinct (user, item) pairs whose item was released."""
    import pyarrow as pa

    connection.register("released_items", pa.table({"item": released}))
    covered, total = connection.execute(
        "select count(r.item), count(*) from (select distinct user_id, item from contributions) p "
        "left join released_items r on p.item = r.item"
    ).fetchall()[0]
    connection.unregister("released_items")
    return float(covered) / float(total)


def utility(pairs: int, max_items: int, seeds: int) -> dict[str, dict[str, float]]:
    contenders = [("basic", "basic", 0.1, "gaussian")]
    contenders += [(f"two_round s={s}", "two_round", s, "gaussian") for s in TWO_ROUND_SHARES]
    contenders += [("two_round s=0.1, basic composition", "two_round", 0.1, "basic")]
    totals: dict[str, dict[str, float]] = {name: {"items": 0.0, "mass": 0.0} for name, *_ in contenders}
    for seed in range(seeds):
        connection = connect_with(*zipf_pairs(pairs, seed=1000 + seed))
        for name, algorithm, share, composition in contenders:
            release = run_ours(
                connection, algorithm, max_items, seed=seed, share=share, composition=composition
            )
            totals[name]["items"] += len(release.items) / seeds
            totals[name]["mass"] += covered_mass(connection, release.items) / seeds
        connection.close()
        print(f"utility: seed {seed + 1}/{seeds} done", flush=True)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-items", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="1 M pairs, one seed: for development")
    args = parser.parse_args()
    if args.quick:
        args.pairs, args.seeds = 1_000_000, 1
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    load_at_start = os.getloadavg()[0]  # other work on these 2 cores slows wall time, not CPU time

    result = BenchmarkResult(
        "dp_selection",
        params={
            "pairs": args.pairs,
            "quick": args.quick,
            "seeds": args.seeds,
            "max_items_per_user": args.max_items,
            "epsilon": EPSILON,
            "delta": DELTA,
            "users": f"bounded Zipf, {USERS:,} ranks, exponent {USER_EXPONENT}",
            "items": f"bounded Zipf, {ITEMS:,} ranks, exponent {ITEM_EXPONENT}",
        },
    )
    timings = {
        name: timed(name, args.pairs, args.max_items) for name in ("naive", "basic", "laplace", "two_round")
    }
    for name, timing in timings.items():
        result.metrics[f"{name}: seconds"] = round(timing["seconds"], 3)
        result.metrics[f"{name}: CPU seconds"] = round(timing["cpu_seconds"], 3)
        result.metrics[f"{name}: peak RSS MB"] = round(timing["peak_mb"], 1)
        result.metrics[f"{name}: RSS MB before (data)"] = round(timing["data_mb"], 1)
    ratio = timings["naive"]["seconds"] / timings["basic"]["seconds"]
    result.metrics["naive / basic (speed-up)"] = round(ratio, 2)
    result.metrics["naive / basic (CPU)"] = round(
        timings["naive"]["cpu_seconds"] / timings["basic"]["cpu_seconds"], 2
    )
    result.metrics["load average at start"] = round(load_at_start, 1)

    totals = utility(args.pairs, args.max_items, args.seeds)
    for name, values in totals.items():
        result.metrics[f"{name}: items released"] = round(values["items"], 1)
        result.metrics[f"{name}: covered mass"] = round(values["mass"], 5)
    best = max((name for name in totals if name.startswith("two_round s=")), key=lambda n: totals[n]["items"])
    gain = totals[best]["items"] / totals["basic"]["items"] - 1.0
    result.metrics["best two-round split"] = best
    result.metrics["two-round (best split) vs basic: extra items"] = f"{gain:+.1%}"
    default = totals[f"two_round s={DEFAULT_ROUND1_SHARE}"]
    result.metrics["two-round (default split) vs basic: extra items"] = (
        f"{default['items'] / totals['basic']['items'] - 1.0:+.1%}"
    )
    result.metrics["two-round (default split) vs basic: covered mass"] = (
        f"{default['mass'] - totals['basic']['mass']:+.4f}"
    )

    for name in ("basic", "laplace", "two_round"):
        result.at_most(f"{name}: {args.pairs / 1e6:g} M pairs", timings[name]["seconds"], 10.0, " s")
    result.at_least("speed-up over the naive baseline (basic)", ratio, 1.0, "x")
    result.finish()


if __name__ == "__main__":
    main()
