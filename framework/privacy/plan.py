"""What each round gets — noise, its scale, the threshold — computed from the parameters alone, no data.

Basic (weighted Gaussian, Gopi et al. 2020): σ calibrated for (ε, δ/2), T for δ/2.
Laplace: weights 1/d, Laplace(1/ε) noise (pure ε on shared items), T for the whole δ.
Two-round (adaptive, after DP-SIPS / MAD2R; not MAD): round 1 is Basic; round 2 drops the items round 1
released, re-spreads each user's unit weight over what is left, and runs Basic again. Round 2 depends on the
data only through round 1's DP output, so the rounds compose:

- `basic` composition: round r runs Basic at (s_r·ε, s_r·δ), shares s_1 + s_2 = 1; total (ε, δ).
- `gaussian` composition (default, tighter): the noisy weights of both rounds are an adaptive composition
  of two Gaussian mechanisms with L2 sensitivity <= 1, which is μ-GDP with μ² = 1/σ₁² + 1/σ₂² (Dong, Roth &
  Su 2022, Thm 3.2). With σ the Basic σ for (ε, δ/2), σ_r = σ/√s_r gives μ = 1/σ, hence (ε, δ/2) for the
  noisy weights of shared items. Each round's threshold takes s_r·δ/2 for a new user's unique items (a union
  bound). Total (ε, δ/2 + δ/2). The README's privacy section gives the argument in full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from framework.privacy.calibration import gaussian_delta, gaussian_dp_mu, gaussian_sigma, round_up
from framework.privacy.parameters import SelectionParameters
from framework.privacy.thresholds import THRESHOLD_DECIMALS, gaussian_threshold, laplace_threshold
from framework.privacy.weighting import Norm

Noise = Literal["gaussian", "laplace"]


@dataclass(frozen=True)
class RoundPlan:
    round: int
    noise: Noise
    scale: float  # σ of the Gaussian noise, or b of the Laplace noise
    threshold: float  # release an item iff weight + noise >= threshold
    delta_threshold: float  # bound on P(a new user's unique items are released in this round)

    @property
    def norm(self) -> Norm:
        return "l2" if self.noise == "gaussian" else "l1"


@dataclass(frozen=True)
class SelectionPlan:
    parameters: SelectionParameters
    rounds: tuple[RoundPlan, ...]
    epsilon: float  # the guarantee of the whole release, (ε, δ)-DP for adding or removing one user
    delta: float

    @property
    def max_items_per_user(self) -> int:
        return self.parameters.max_items_per_user


def plan_selection(parameters: SelectionParameters) -> SelectionPlan:
    epsilon, delta, max_items = parameters.epsilon, parameters.delta, parameters.max_items_per_user
    rounds: tuple[RoundPlan, ...]
    if parameters.algorithm == "basic":
        sigma = gaussian_sigma(epsilon, delta / 2)
        rounds = (
            RoundPlan(1, "gaussian", sigma, gaussian_threshold(sigma, delta / 2, max_items), delta / 2),
        )
    elif parameters.algorithm == "laplace":
        scale = round_up(1.0 / epsilon, THRESHOLD_DECIMALS)
        rounds = (RoundPlan(1, "laplace", scale, laplace_threshold(scale, delta, max_items), delta),)
    else:
        rounds = _two_rounds(parameters)
    return SelectionPlan(parameters, rounds, epsilon, delta)


def _two_rounds(parameters: SelectionParameters) -> tuple[RoundPlan, ...]:
    epsilon, delta, max_items = parameters.epsilon, parameters.delta, parameters.max_items_per_user
    shares = (parameters.round1_share, 1.0 - parameters.round1_share)
    rounds = []
    if parameters.composition == "basic":
        for number, share in enumerate(shares, start=1):
            sigma = gaussian_sigma(share * epsilon, share * delta / 2)
            threshold = gaussian_threshold(sigma, share * delta / 2, max_items)
            rounds.append(RoundPlan(number, "gaussian", sigma, threshold, share * delta / 2))
        return tuple(rounds)
    combined_sigma = gaussian_sigma(epsilon, delta / 2)
    for number, share in enumerate(shares, start=1):
        sigma = round_up(combined_sigma / math.sqrt(share), 9)
        threshold = gaussian_threshold(sigma, share * delta / 2, max_items)
        rounds.append(RoundPlan(number, "gaussian", sigma, threshold, share * delta / 2))
    # σ_r were rounded up, so the composition can only be tighter than (ε, δ/2); check it all the same.
    if gaussian_delta(epsilon, 1.0 / gaussian_dp_mu(*(r.scale for r in rounds))) > delta / 2:
        raise ArithmeticError("two-round calibration exceeded its budget")  # cannot happen
    return tuple(rounds)
