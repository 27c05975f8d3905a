"""Per-developer namespaces: naming, deferral to production, the registry, listing and garbage collection.

`naming` turns flags, environment, CI and user into a safe identifier (config.py resolves it once);
`registry` records who built what and when; `listing` joins that with the warehouse; `gc` drops by name or
age, never production; `deferral` builds only what changed and reads the rest from production.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from framework.config import Settings

# Commands whose relations the registry records, and those whose production manifest becomes the state
# that `--defer` compares against.
RECORDED_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot"})
PRODUCTION_STATE_COMMANDS = frozenset({"build", "run", "compile"})


def after_dbt_command(
    settings: Settings,
    command: str,
    results: Iterable[Mapping[str, Any]],
    manifest: Path | None = None,
) -> list[str]:
    """What Overclock keeps after a dbt command: registry rows, and production's manifest (`manifest` when
    the command wrote one itself).

    Neither may turn a finished build into a failure, so problems come back as warnings for the user.
    """
    from framework.config import resolve_owner
    from framework.namespaces.deferral import save_production_state
    from framework.namespaces.registry import record_invocation

    warnings = []
    if command in RECORDED_COMMANDS:
        try:
            record_invocation(settings, command, results, resolve_owner())
        except Exception as exc:
            warnings.append(f"namespace registry not updated: {type(exc).__name__}: {exc}")
    if settings.namespace.is_production and command in PRODUCTION_STATE_COMMANDS:
        try:
            save_production_state(settings, manifest)
        except Exception as exc:
            warnings.append(f"production state for --defer not saved: {type(exc).__name__}: {exc}")
    return warnings
