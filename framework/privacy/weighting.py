"""Contribution weights: each user spreads a unit of weight over the items it kept.

- `l2` (Gaussian selection): 1/√d_u on each of its d_u items, so ‖w_u‖₂ = 1.
- `l1` (Laplace selection): 1/d_u on each, so ‖w_u‖₁ = 1.

An item's weight H(i) is the sum over the users holding it. Adding or removing one user changes H by that
user's vector alone (other users' weights depend only on their own items), so the L2 (or L1) sensitivity
is 1 — the fact every noise calibration here rests on.

`reference_*` are plain loops: the specification that the SQL in `framework.privacy.sql` must reproduce.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Literal

from framework.privacy.bounding import DEFAULT_BOUNDING_SEED, bound_contributions, user_item_sets

Norm = Literal["l2", "l1"]
NORMS: tuple[Norm, ...] = ("l2", "l1")


def item_weight(kept_items: int, norm: Norm) -> float:
    """The weight a user with `kept_items` items puts on each of them."""
    if norm == "l2":
        return 1.0 / math.sqrt(float(kept_items))
    if norm == "l1":
        return 1.0 / float(kept_items)
    raise ValueError(f"unknown norm {norm!r}: expected one of {', '.join(NORMS)}")


def reference_contribution_weights(
    pairs: Iterable[tuple[Hashable, Hashable]],
    max_items: int,
    norm: Norm = "l2",
    seed: str = DEFAULT_BOUNDING_SEED,
    exclude: Iterable[Hashable] = (),
) -> dict[Hashable, dict[Hashable, float]]:
    """Per user, the weight on each kept item: distinct, minus excluded items, bounded to Δ0, weighted."""
    bounded = bound_contributions(user_item_sets(pairs, exclude), max_items, seed)
    return {user: {item: item_weight(len(items), norm) for item in items} for user, items in bounded.items()}


def reference_item_weights(
    pairs: Iterable[tuple[Hashable, Hashable]],
    max_items: int,
    norm: Norm = "l2",
    seed: str = DEFAULT_BOUNDING_SEED,
    exclude: Iterable[Hashable] = (),
) -> dict[Hashable, float]:
    """H(i) = Σ over users holding i of that user's weight, summed in a plain loop."""
    totals: dict[Hashable, float] = defaultdict(float)
    for weights in reference_contribution_weights(pairs, max_items, norm, seed, exclude).values():
        for item, weight in weights.items():
            totals[item] += weight
    return dict(totals)
