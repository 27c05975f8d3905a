"""What a release asks for — (ε, δ), Δ0, the algorithm — validated before any data is read.

Values may come from dbt vars (strings, ints, floats); `SelectionParameters.from_config` parses them and
every error names the var and says what to set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from framework.privacy.bounding import DEFAULT_BOUNDING_SEED

Algorithm = Literal["basic", "laplace", "two_round"]
Composition = Literal["gaussian", "basic"]
ALGORITHMS: tuple[Algorithm, ...] = ("basic", "laplace", "two_round")
COMPOSITIONS: tuple[Composition, ...] = ("gaussian", "basic")

# Δ0 sizes an array in the threshold computation; beyond this the threshold barely moves and memory would.
MAX_ITEMS_PER_USER_LIMIT = 10_000_000
# Round 1's share of the two-round budget; the benchmark in benchmarks/dp_selection chose it.
DEFAULT_ROUND1_SHARE = 0.1


class PrivacyParameterError(ValueError):
    """A privacy parameter is missing or invalid; the message names it and says what to set."""


@dataclass(frozen=True)
class SelectionParameters:
    epsilon: float
    delta: float
    max_items_per_user: int
    algorithm: Algorithm = "basic"
    # Two-round only: round 1's share of the budget, and how the two rounds compose.
    round1_share: float = DEFAULT_ROUND1_SHARE
    composition: Composition = "gaussian"
    bounding_seed: str = DEFAULT_BOUNDING_SEED

    def __post_init__(self) -> None:
        if not (isinstance(self.epsilon, (int, float)) and math.isfinite(self.epsilon) and self.epsilon > 0):
            raise PrivacyParameterError(f"epsilon must be a finite number > 0, got {self.epsilon!r}")
        if not (isinstance(self.delta, (int, float)) and 0 < self.delta < 1):
            raise PrivacyParameterError(f"delta must be a number in (0, 1), got {self.delta!r}")
        if (
            isinstance(self.max_items_per_user, bool)
            or not isinstance(self.max_items_per_user, int)
            or not 1 <= self.max_items_per_user <= MAX_ITEMS_PER_USER_LIMIT
        ):
            raise PrivacyParameterError(
                f"max_items_per_user must be an integer in [1, {MAX_ITEMS_PER_USER_LIMIT:,}], "
                f"got {self.max_items_per_user!r}"
            )
        if self.algorithm not in ALGORITHMS:
            raise PrivacyParameterError(
                f"algorithm must be one of {', '.join(ALGORITHMS)}, got {self.algorithm!r}"
            )
        if not (isinstance(self.round1_share, (int, float)) and 0 < self.round1_share < 1):
            raise PrivacyParameterError(f"round1_share must be a number in (0, 1), got {self.round1_share!r}")
        if self.composition not in COMPOSITIONS:
            raise PrivacyParameterError(
                f"composition must be one of {', '.join(COMPOSITIONS)}, got {self.composition!r}"
            )
        if not isinstance(self.bounding_seed, str):
            raise PrivacyParameterError(f"bounding_seed must be a string, got {self.bounding_seed!r}")

    @classmethod
    def from_config(cls, values: Mapping[str, object]) -> SelectionParameters:
        """Parse dbt vars or config values (which may arrive as strings). Missing optional keys keep defaults."""
        for required in ("epsilon", "delta", "max_items_per_user"):
            if values.get(required) in (None, ""):
                raise PrivacyParameterError(
                    f"{required} is required: set it with --vars '{{{required}: ...}}'"
                )
        options: dict[str, object] = {
            "epsilon": _number("epsilon", values["epsilon"]),
            "delta": _number("delta", values["delta"]),
            "max_items_per_user": _integer("max_items_per_user", values["max_items_per_user"]),
        }
        if values.get("algorithm") not in (None, ""):
            options["algorithm"] = str(values["algorithm"]).strip().lower()
        if values.get("round1_share") not in (None, ""):
            options["round1_share"] = _number("round1_share", values["round1_share"])
        if values.get("composition") not in (None, ""):
            options["composition"] = str(values["composition"]).strip().lower()
        if values.get("bounding_seed") not in (None, ""):
            options["bounding_seed"] = str(values["bounding_seed"])
        return cls(**options)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, object]:
        return {
            "epsilon": self.epsilon,
            "delta": self.delta,
            "max_items_per_user": self.max_items_per_user,
            "algorithm": self.algorithm,
            "round1_share": self.round1_share if self.algorithm == "two_round" else None,
            "composition": self.composition if self.algorithm == "two_round" else None,
            "bounding_seed": self.bounding_seed,
        }


def _number(name: str, value: object) -> float:
    if isinstance(value, bool):
        raise PrivacyParameterError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PrivacyParameterError(f"{name} must be a number, got {value!r}") from None


def _integer(name: str, value: object) -> int:
    number = _number(name, value)
    if not math.isfinite(number) or number != int(number):
        raise PrivacyParameterError(f"{name} must be a whole number, got {value!r}")
    return int(number)
