"""Release thresholds: a user who arrives with t items nobody else holds gets any of them released with
probability at most δ_T, whatever t <= Δ0.

A new user's t unique items each carry weight at most 1/√t (Gaussian weighting) or 1/t (Laplace weighting),
and none of them is released unless its noisy weight reaches T. With independent noise per item,

    P(some unique item released) <= 1 − P(noise < T − w)^t,

so T is the largest, over t = 1..Δ0, of the value that makes this δ_T. Both are rounded up.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from framework.privacy.calibration import round_up

THRESHOLD_DECIMALS = 9


def _per_item_miss_probability(delta_threshold: float, max_items: int) -> np.ndarray:
    """q_t = 1 − (1 − δ_T)^{1/t} for t = 1..Δ0: each of t items may pass with at most this probability."""
    t = np.arange(1, max_items + 1, dtype=np.float64)
    return -np.expm1(np.log1p(-delta_threshold) / t)


def _check(delta_threshold: float, max_items: int) -> None:
    if not 0 < delta_threshold < 1:
        raise ValueError(f"the threshold's δ share must be in (0, 1), got {delta_threshold}")
    if max_items < 1:
        raise ValueError(f"max items per user must be >= 1, got {max_items}")


def gaussian_threshold(sigma: float, delta_threshold: float, max_items: int) -> float:
    """T = max_t [1/√t + σ·Φ⁻¹((1 − δ_T)^{1/t})], for weights 1/√t and N(0, σ²) noise."""
    _check(delta_threshold, max_items)
    t = np.arange(1, max_items + 1, dtype=np.float64)
    # Φ⁻¹(1 − q) = −Φ⁻¹(q): computed from the small q keeps full precision far in the tail.
    candidates = 1.0 / np.sqrt(t) - sigma * ndtri(_per_item_miss_probability(delta_threshold, max_items))
    return round_up(float(candidates.max()), THRESHOLD_DECIMALS)


def laplace_threshold(scale: float, delta_threshold: float, max_items: int) -> float:
    """T = max_t [1/t + b·ln(1/(2(1 − (1 − δ_T)^{1/t})))], for weights 1/t and Laplace(b) noise.

    That is the Laplace tail P(w + L >= T) = ½·e^{−(T−w)/b} solved for q_t; when q_t > ½ the threshold sits
    below the weight and the other branch of the tail, 1 − ½·e^{−(w−T)/b}, applies.
    """
    _check(delta_threshold, max_items)
    t = np.arange(1, max_items + 1, dtype=np.float64)
    q = _per_item_miss_probability(delta_threshold, max_items)
    gap = np.where(q <= 0.5, -np.log(2.0 * q), np.log(2.0 * (1.0 - q)))
    candidates = 1.0 / t + scale * gap
    return round_up(float(candidates.max()), THRESHOLD_DECIMALS)
