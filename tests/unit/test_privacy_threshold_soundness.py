"""Monte Carlo: at δ = 0.2, where frequencies are measurable, a lone user's unique items are released with
probability at most the threshold's δ share (δ/2 for Basic; each round's share for two-round), within a 99%
confidence interval.

The weights come from the production SQL (DuckDB) for a dataset in which one user holds items nobody else
holds; the noise and threshold are the production `release_mask` and plan, with the trials vectorised along a
leading axis. Each check also shows the threshold is not wildly conservative: at the worst t the release
probability is close to its bound (the test could catch a threshold that is too low).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import beta

from framework.privacy.noise import draw_noise, noise_generator
from framework.privacy.parameters import SelectionParameters
from framework.privacy.plan import RoundPlan, plan_selection
from framework.privacy.selection import release_mask
from framework.privacy.sql import item_weights_sql

DELTA = 0.2
TRIALS = 200_000
CONFIDENCE = 0.99


def clopper_pearson(successes: int, trials: int) -> tuple[float, float]:
    alpha = 1 - CONFIDENCE
    low = beta.ppf(alpha / 2, successes, trials - successes + 1) if successes else 0.0
    high = beta.ppf(1 - alpha / 2, successes + 1, trials - successes) if successes < trials else 1.0
    return float(low), float(high)


def lone_user_weights(
    unique_items: int, max_items: int, norm: str, common_items: int = 0, released: list[str] | None = None
) -> dict[str, float]:
    """SQL weights of the lone user's unique items; a crowd of others shares a few common items."""
    users = [f"crowd{u}" for u in range(30) for _ in range(3)]
    items = [f"common{n}" for _ in range(30) for n in range(3)]
    lone_items = [f"secret{n}" for n in range(unique_items)]
    users += ["lone"] * (unique_items + common_items)
    items += [*lone_items, *(f"common{n}" for n in range(common_items))]
    connection = duckdb.connect()
    connection.register("contributions", pa.table({"user_id": users, "item": items}))
    connection.register("released_items", pa.table({"item": pa.array(released or [], pa.string())}))
    sql = item_weights_sql(
        "contributions", max_items=max_items, norm=norm, released="released_items" if released else None
    )
    return {item: weight for item, weight in connection.sql(sql).fetchall() if item.startswith("secret")}


def release_probability(weights: np.ndarray, round_plan: RoundPlan, seed: int) -> tuple[float, float, float]:
    """(estimate, CI low, CI high) of P(at least one of these items is released) over TRIALS draws."""
    noise = draw_noise(noise_generator(seed), round_plan.noise, round_plan.scale, (TRIALS, len(weights)))
    released_any = release_mask(weights, noise, round_plan.threshold).any(axis=1)
    successes = int(released_any.sum())
    return successes / TRIALS, *clopper_pearson(successes, TRIALS)


def exact_probability(weights: np.ndarray, round_plan: RoundPlan) -> float:
    from scipy.stats import laplace, norm

    law = norm(scale=round_plan.scale) if round_plan.noise == "gaussian" else laplace(scale=round_plan.scale)
    return float(1 - np.prod(law.cdf(round_plan.threshold - weights)))


@pytest.mark.parametrize("algorithm", ["basic", "laplace"])
@pytest.mark.parametrize("max_items", [1, 4, 10])
def test_lone_user_is_released_at_most_delta_share(algorithm: str, max_items: int) -> None:
    (round_plan,) = plan_selection(SelectionParameters(1.0, DELTA, max_items, algorithm)).rounds  # type: ignore[arg-type]
    bound = round_plan.delta_threshold
    worst = 0.0
    for unique_items in sorted({1, 2, (max_items + 1) // 2, max_items, max_items + 3}):
        weights = np.array(list(lone_user_weights(unique_items, max_items, round_plan.norm).values()))
        assert len(weights) == min(unique_items, max_items)
        estimate, low, _ = release_probability(weights, round_plan, seed=unique_items)
        assert low <= bound, (unique_items, estimate, bound)
        worst = max(worst, exact_probability(weights, round_plan))
    # The worst case sits at the bound (the threshold is tight), so the check above has power.
    assert worst <= bound + 1e-12
    assert worst == pytest.approx(bound, rel=0.02)


@pytest.mark.parametrize("composition", ["gaussian", "basic"])
@pytest.mark.parametrize("share", [0.1, 0.5])
def test_two_round_each_round_and_both_stay_within_their_shares(composition: str, share: float) -> None:
    max_items = 6
    plan = plan_selection(
        SelectionParameters(1.0, DELTA, max_items, "two_round", round1_share=share, composition=composition)  # type: ignore[arg-type]
    )
    first, second = plan.rounds
    worst = {1: 0.0, 2: 0.0}
    for unique_items in (1, 3, max_items, max_items + 2):
        # Round 1 at its worst: the lone user holds unique items only.
        alone = np.array(list(lone_user_weights(unique_items, max_items, "l2").values()))
        _, low, _ = release_probability(alone, first, seed=unique_items)
        assert low <= first.delta_threshold
        worst[1] = max(worst[1], exact_probability(alone, first))
        # Round 1 where it also holds two common items, round 2 once those were released: its unit weight
        # moves onto the unique items, which round 2's threshold must still hold back.
        mixed = lone_user_weights(unique_items, max_items, "l2", common_items=2)
        respread = lone_user_weights(
            unique_items, max_items, "l2", common_items=2, released=["common0", "common1", "common2"]
        )
        assert all(respread[item] >= weight for item, weight in mixed.items())
        round1, round2 = np.array(list(mixed.values())), np.array(list(respread.values()))
        _, low, _ = release_probability(round2, second, seed=100 + unique_items)
        assert low <= second.delta_threshold
        worst[2] = max(worst[2], exact_probability(round2, second))
        # Both rounds: released in round 1, or else in round 2 (independent noise): at most δ/2 together.
        noise1 = draw_noise(noise_generator(unique_items), "gaussian", first.scale, (TRIALS, len(round1)))
        noise2 = draw_noise(
            noise_generator(unique_items + 50), "gaussian", second.scale, (TRIALS, len(round2))
        )
        either = release_mask(round1, noise1, first.threshold).any(axis=1)
        either |= release_mask(round2, noise2, second.threshold).any(axis=1)
        low, _ = clopper_pearson(int(either.sum()), TRIALS)
        assert low <= DELTA / 2
    for round_plan in plan.rounds:
        assert worst[round_plan.round] <= round_plan.delta_threshold + 1e-12
        assert worst[round_plan.round] == pytest.approx(round_plan.delta_threshold, rel=0.02)
