"""The code location's view of the Overclock project: settings, the compiled manifest, partitioned models.

Runs write to the namespace Dagster is configured with: `OVERCLOCK_DAGSTER_NAMESPACE` if set, else
production. Resolution goes through `framework.config` exactly as for the CLI, and the manifest comes from
the compile cache (`ensure_compiled_manifest`), so loading the code location never runs a dbt parse when
nothing changed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from framework.config import Settings, resolve_settings


def dagster_settings(env: Mapping[str, str] | None = None) -> Settings:
    from framework.namespaces.naming import NamespaceError

    env = os.environ if env is None else env
    namespace = env.get("OVERCLOCK_DAGSTER_NAMESPACE") or None  # set but empty: unset, as for the CLI
    try:
        return resolve_settings(namespace=namespace, production=namespace is None, env=env)
    except NamespaceError as exc:  # name the variable, not the CLI flag it stands in for
        raise NamespaceError(f"OVERCLOCK_DAGSTER_NAMESPACE={namespace!r}: {exc}") from None


def is_partitioned(node: Mapping[str, Any]) -> bool:
    """A daily-partitioned model: incremental with a day-grained `partition_by` (the backfill engine's contract)."""
    config = node.get("config") or {}
    partition_by = config.get("partition_by")
    return (
        node.get("resource_type") == "model"
        and config.get("materialized") == "incremental"
        and isinstance(partition_by, Mapping)
        and str(partition_by.get("granularity", "day")).lower() == "day"
    )


@dataclass
class OverclockProject:
    settings: Settings
    manifest_path: Path

    @classmethod
    def load(cls, settings: Settings | None = None) -> OverclockProject:
        from framework.compile import ensure_compiled_manifest

        settings = settings or dagster_settings()
        return cls(settings, ensure_compiled_manifest(settings))

    def dbt_environment(self) -> contextlib.AbstractContextManager[None]:
        """This project's target, namespace and paths in `os.environ` for the duration of a dbt invocation.

        dagster-dbt starts dbt with a copy of `os.environ`; setting the variables only around that call (and
        restoring them) keeps a loaded code location from redirecting later resolutions in the same process,
        such as another project's settings in a test or a notebook.
        """
        from framework.dbt import dbt_environment

        return dbt_environment(self.settings)

    @cached_property
    def manifest(self) -> dict[str, Any]:
        return dict(json.loads(self.manifest_path.read_bytes()))

    def model_names(self, partitioned: bool) -> list[str]:
        return sorted(
            node["name"]
            for node in self.manifest["nodes"].values()
            if node.get("resource_type") in ("model", "seed", "snapshot")
            and node.get("config", {}).get("materialized") != "ephemeral"
            and is_partitioned(node) == partitioned
        )
