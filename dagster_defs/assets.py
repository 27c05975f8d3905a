"""dbt models as Dagster assets: unpartitioned models through dagster-dbt's `dbt build`, daily-partitioned
models through Overclock's backfill engine (planner, state, resume), so the CLI and Dagster share the record
of what is done.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` annotation at definition time.
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_defs.project import OverclockProject
from dagster_defs.selection import fast_name_selection
from dagster_defs.translator import OverclockTranslator

DEFAULT_PARTITIONS_START = "2025-01-01"


@dataclass
class OverclockAssets:
    project: "OverclockProject"
    unpartitioned: dg.AssetsDefinition | None
    partitioned: dg.AssetsDefinition | None
    partitions_def: dg.DailyPartitionsDefinition | None
    groups: set[str] = field(default_factory=set)

    def definitions(self) -> list[dg.AssetsDefinition]:
        return [a for a in (self.unpartitioned, self.partitioned) if a is not None]

    def partitioned_selection(self) -> dg.AssetSelection | None:
        if self.partitioned is None:
            return None
        return dg.AssetSelection.assets(*self.partitioned.keys)


def build_dbt_assets(project: OverclockProject) -> OverclockAssets:
    translator = OverclockTranslator()
    manifest = project.manifest
    unpartitioned_names = project.model_names(partitioned=False)
    partitioned_names = project.model_names(partitioned=True)

    unpartitioned = partitioned = partitions_def = None
    with fast_name_selection():
        if unpartitioned_names:

            @dbt_assets(
                manifest=manifest,
                select=" ".join(unpartitioned_names),
                dagster_dbt_translator=translator,
                name="overclock_models",
            )
            def overclock_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
                yield from dbt.cli(["build"], context=context).stream()

            unpartitioned = overclock_models

        if partitioned_names:
            partitions_def = dg.DailyPartitionsDefinition(
                start_date=os.environ.get("OVERCLOCK_PARTITIONS_START", DEFAULT_PARTITIONS_START)
            )

            @dbt_assets(
                manifest=manifest,
                select=" ".join(partitioned_names),
                dagster_dbt_translator=translator,
                partitions_def=partitions_def,
                backfill_policy=dg.BackfillPolicy.single_run(),
                name="overclock_partitioned_models",
            )
            def overclock_partitioned_models(context: dg.AssetExecutionContext) -> Iterator[Any]:
                yield from run_partitions_through_backfill(context, project)

            partitioned = overclock_partitioned_models

    groups = {
        group
        for assets_def in (unpartitioned, partitioned)
        if assets_def is not None
        for group in assets_def.group_names_by_key.values()
        if group
    }
    return OverclockAssets(project, unpartitioned, partitioned, partitions_def, groups)


def run_partitions_through_backfill(
    context: dg.AssetExecutionContext, project: OverclockProject
) -> Iterator[Any]:
    """One Dagster run over a partition range = one Overclock backfill over the same days."""
    raise NotImplementedError("wired to framework.backfill once its API lands")
