"""dbt models as Dagster assets: unpartitioned models through dagster-dbt's `dbt build`, daily-partitioned
models through Overclock's backfill engine (planner, state, resume), so the CLI and Dagster share the record
of what is done.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` annotation at definition time.
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_defs.project import OverclockProject
from dagster_defs.selection import fast_name_selection
from dagster_defs.translator import OverclockTranslator

DEFAULT_PARTITIONS_START = "2025-01-01"


def partitions_start() -> str:
    """The first daily partition: `OVERCLOCK_PARTITIONS_START` (YYYY-MM-DD), else 2025-01-01."""
    text = os.environ.get("OVERCLOCK_PARTITIONS_START") or DEFAULT_PARTITIONS_START
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"OVERCLOCK_PARTITIONS_START={text!r} is not a date: write YYYY-MM-DD") from None
    return text


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
                with project.dbt_environment():
                    invocation = dbt.cli(["build"], context=context)  # starts dbt with the environment
                yield from invocation.stream()

            unpartitioned = overclock_models

        if partitioned_names:
            partitions_def = dg.DailyPartitionsDefinition(start_date=partitions_start())

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
    context: dg.AssetExecutionContext, project: "OverclockProject"
) -> Iterator[Any]:
    """One Dagster run over a partition range = one Overclock backfill over the same days.

    The backfill engine plans, skips what its state already records as done (whoever did it: the CLI or an
    earlier Dagster run), runs the rest in batches, and records each interval once its batch and tests pass.
    """
    from framework.backfill import BackfillRequest, run_backfill

    window = context.partition_time_window
    first_day = window.start.date()
    last_day = (window.end - timedelta(days=1)).date()  # Dagster's window end is exclusive, ours inclusive
    names_by_key = partitioned_names_by_key(project)
    selected = sorted(names_by_key[key] for key in context.selected_asset_keys if key in names_by_key)
    request = BackfillRequest(select=tuple(selected), start=first_day.isoformat(), end=last_day.isoformat())
    context.log.info(f"Overclock backfill of {', '.join(selected)} from {first_day} to {last_day}")
    result = run_backfill(project.settings, request)
    if not result.succeeded:
        failures = "; ".join(
            f"{model} {interval}: {message}" for model, interval, message in result.failures[:5]
        )
        raise dg.Failure(
            description=f"backfill run {result.run_id} did not complete: {failures or 'cancelled'}",
            metadata={"overclock_run_id": result.run_id},
        )
    for key in sorted(context.selected_asset_keys, key=str):
        name = names_by_key.get(key)
        if name is None:
            continue
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "overclock_run_id": result.run_id,
                "intervals_run": result.count("done", _unique_id(project, name)),
                "first_day": first_day.isoformat(),
                "last_day": last_day.isoformat(),
            },
        )


def _unique_id(project: "OverclockProject", name: str) -> str:
    return next(
        uid
        for uid, node in project.manifest["nodes"].items()
        if node.get("name") == name and uid.startswith("model.")
    )


def partitioned_names_by_key(project: "OverclockProject") -> dict[dg.AssetKey, str]:
    translator = OverclockTranslator()
    names = set(project.model_names(partitioned=True))
    return {
        translator.get_asset_key(node): node["name"]
        for node in project.manifest["nodes"].values()
        if node.get("resource_type") == "model" and node["name"] in names
    }
