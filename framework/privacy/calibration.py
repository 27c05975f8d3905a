"""σ of the analytic Gaussian mechanism (Balle & Wang, ICML 2018) for L2 sensitivity 1.

The Gaussian mechanism with noise N(0, σ²) on a query of L2 sensitivity 1 is (ε, δ)-DP exactly when

    δ(ε, σ) = Φ(1/(2σ) − εσ) − e^ε · Φ(−1/(2σ) − εσ)

is at most δ. It is also (1/σ)-Gaussian DP (Dong, Roth & Su 2022), which is how rounds compose.
Every value returned here is rounded *up*: more noise than the exact answer, never less.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import log_ndtr, ndtr

# σ is reported with this many decimals, rounded up; the bisection runs far below that resolution.
SIGMA_DECIMALS = 9


def round_up(value: float, decimals: int) -> float:
    """The smallest float on the 10^-decimals grid that is >= value (never rounds down)."""
    scale = 10.0**decimals
    rounded = math.ceil(value * scale) / scale
    while rounded < value:  # the division can land one ulp low
        rounded = math.nextafter(rounded, math.inf)
    return rounded


def gaussian_delta(epsilon: float, sigma: float) -> float:
    """δ at which N(0, σ²) noise on a sensitivity-1 query is ε-DP (exact, Balle & Wang Theorem 8)."""
    if sigma <= 0:
        return 1.0
    a = 1.0 / (2.0 * sigma)
    b = epsilon * sigma
    # e^ε·Φ(−a−b) in log space: e^ε overflows long before the product does.
    second = math.exp(epsilon + float(log_ndtr(-a - b)))
    return max(0.0, float(ndtr(a - b)) - second)


def gaussian_sigma(epsilon: float, delta: float) -> float:
    """The smallest σ (rounded up) with gaussian_delta(ε, σ) <= δ, for L2 sensitivity 1."""
    if not epsilon > 0 or not 0 < delta < 1:
        raise ValueError(f"need ε > 0 and 0 < δ < 1, got ε={epsilon}, δ={delta}")
    low, high = 1e-3, 1.0
    while gaussian_delta(epsilon, high) > delta:
        low, high = high, high * 2.0
    while gaussian_delta(epsilon, low) <= delta and low > 1e-12:
        low /= 2.0
    # δ(ε, σ) decreases in σ: keep `high` feasible and shrink the bracket until it is below the grid.
    while high - low > 1e-13 * high:
        middle = 0.5 * (low + high)
        if gaussian_delta(epsilon, middle) <= delta:
            high = middle
        else:
            low = middle
    sigma = round_up(high, SIGMA_DECIMALS)
    if gaussian_delta(epsilon, sigma) > delta:  # cannot happen: `high` was feasible and σ >= high
        raise ArithmeticError(f"σ calibration failed for ε={epsilon}, δ={delta}")
    return sigma


def gaussian_dp_mu(*sigmas: float) -> float:
    """μ of the adaptive composition of Gaussian mechanisms with these σ (each sensitivity 1): √Σ 1/σ²."""
    return float(np.sqrt(np.sum(1.0 / np.square(np.asarray(sigmas, dtype=np.float64)))))
