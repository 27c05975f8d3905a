"""Deferral: in a namespace, build only what changed against production and read everything else from it.

Every `--prod` build, run or compile keeps its manifest as the production state of its target, in
`<OVERCLOCK_HOME>/state/prod/<target>/manifest.json`. `overclock build --defer` then runs dbt with
`--select state:modified [the user's selection] --defer --favor-state --state <that folder>`:
`state:modified` compares the project with production's manifest (dbt compares unrendered schema configs,
so the namespace itself never counts as a change), and `--favor-state` makes every ref to a node that is not
built read production's relation, even if an older copy sits in the namespace.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from framework.namespaces.naming import NamespaceError

if TYPE_CHECKING:
    from framework.config import Settings

MODIFIED = "state:modified"


def production_state_dir(settings: Settings) -> Path:
    return settings.project.home / "state" / "prod" / settings.target.name


def save_production_state(settings: Settings, manifest: Path | None = None) -> Path | None:
    """After a production invocation: keep its manifest as the state `--defer` compares against.

    `manifest` when the command has just written one (`overclock compile`); otherwise the compile cache's
    `ensure_compiled_manifest`, whose manifest carries every node's compiled SQL. Returns the saved path, or
    None outside production.
    """
    if not settings.namespace.is_production:
        return None
    if manifest is None:
        from framework.compile import ensure_compiled_manifest

        manifest = ensure_compiled_manifest(settings)
    if not manifest.is_file():
        return None
    state_dir = production_state_dir(settings)
    state_dir.mkdir(parents=True, exist_ok=True)
    # Atomic: a `--defer` build reading the state meanwhile sees the old manifest or the new, never half.
    handle, temporary = tempfile.mkstemp(dir=state_dir, prefix=".manifest-", suffix=".json")
    os.close(handle)
    shutil.copyfile(manifest, temporary)
    os.replace(temporary, state_dir / "manifest.json")
    return state_dir / "manifest.json"


@dataclass(frozen=True)
class DeferralPlan:
    """The dbt arguments of a deferred build, or why there are none (`state_dir` is then None)."""

    select: tuple[str, ...]
    dbt_args: tuple[str, ...]
    state_dir: Path | None
    note: str | None = None


def plan_deferral(
    settings: Settings, select: Sequence[str] = (), state_dir: str | Path | None = None
) -> DeferralPlan:
    """Selection and dbt flags for `--defer`: modified models plus the user's selection, parents from
    production. Without production state, the user's selection (by default everything) and a note."""
    if settings.namespace.is_production:
        raise NamespaceError("--defer reads production from a namespace; it has no meaning with --prod")
    directory = Path(state_dir).resolve() if state_dir else production_state_dir(settings)
    if state_dir and not (directory / "manifest.json").is_file():
        # Named explicitly, a state without a manifest is a mistake (a wrong folder, a missing artifact
        # download in CI), not "nothing built yet": building everything would hide it.
        raise NamespaceError(
            f"--state {directory} holds no manifest.json: pass the folder that holds production's"
        )
    if not (directory / "manifest.json").is_file():
        hint = f": run `overclock build --prod -t {settings.target.name}` first"
        return DeferralPlan(
            tuple(select),
            (),
            None,
            f"no production state in {directory}{hint}; building everything selected in {settings.namespace}",
        )
    wanted = (MODIFIED, *(spec for spec in select if spec != MODIFIED))
    # dbt resolves --state against the working directory: pass it absolute.
    return DeferralPlan(wanted, ("--defer", "--favor-state", "--state", str(directory)), directory)
