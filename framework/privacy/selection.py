"""Partition selection: per round, weigh the items (SQL), add noise, keep those at or above the threshold.

The engine that computes weights is behind `Weigh`: given the round's norm and the items released so far,
it returns every item still held by some user with its weight. `framework.privacy.duckdb_weighting` runs the
generated SQL on DuckDB; tests also plug in the reference loop. Noise and thresholds run here in numpy, on
the aggregated weights only (one value per item, never per pair).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from framework.privacy.noise import draw_noise, noise_generator
from framework.privacy.plan import RoundPlan, SelectionPlan
from framework.privacy.weighting import Norm

# (norm, items released in earlier rounds or None) -> (items, weights) for every item still held by a user.
Weigh = Callable[[Norm, pa.Array | None], tuple[pa.Array, np.ndarray]]


def release_mask(weights: np.ndarray, noise: np.ndarray, threshold: float) -> np.ndarray:
    """True where weight + noise >= threshold. `noise` may carry leading trial axes (Monte Carlo tests)."""
    return weights + noise >= threshold


@dataclass(frozen=True)
class RoundOutcome:
    plan: RoundPlan
    items: pa.Array  # released in this round


@dataclass(frozen=True)
class Release:
    plan: SelectionPlan
    rounds: tuple[RoundOutcome, ...]
    seeded: bool  # True when the noise came from a fixed seed (tests, benchmarks): not a private release

    @property
    def items(self) -> pa.Array:
        return pa.concat_arrays([outcome.items for outcome in self.rounds])

    def items_table(self) -> pa.Table:
        """One row per released item: (item, released_in_round)."""
        rounds = [np.full(len(outcome.items), outcome.plan.round, dtype=np.int32) for outcome in self.rounds]
        return pa.table({"item": self.items, "released_in_round": np.concatenate(rounds)})


def select_partitions(weigh: Weigh, plan: SelectionPlan, seed: int | None = None) -> Release:
    """Run the plan's rounds. `seed` only in tests and benchmarks; production draws fresh secure entropy."""
    generator = noise_generator(seed)
    released: pa.Array | None = None
    outcomes = []
    for round_plan in plan.rounds:
        items, weights = weigh(round_plan.norm, released)
        # Engines return items in any order; sorting makes a seeded release a function of the data alone.
        order = pc.sort_indices(items).to_numpy()
        items, weights = items.take(order), weights[order]
        noise = draw_noise(generator, round_plan.noise, round_plan.scale, len(weights))
        chosen = items.filter(pa.array(release_mask(weights, noise, round_plan.threshold)))
        outcomes.append(RoundOutcome(round_plan, chosen))
        released = chosen if released is None else pa.concat_arrays([released, chosen])
    return Release(plan, tuple(outcomes), seeded=seed is not None)
