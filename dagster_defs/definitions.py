"""The Dagster code location: `dagster dev -m dagster_defs`.

dbt models are assets (dbt tests are asset checks), grouped per domain with owners from `meta.owner`;
daily-partitioned models run through Overclock's backfill engine so that Dagster and the CLI share one
record of what is done. Schedules per domain and a sensor for new eBPF raw files.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_defs.assets import build_dbt_assets
from dagster_defs.project import OverclockProject
from dagster_defs.schedules import build_domain_schedules
from dagster_defs.sensors import build_ebpf_file_sensor


def build_definitions(project: OverclockProject | None = None) -> dg.Definitions:
    from framework.dbt import dbt_executable

    project = project or OverclockProject.load()
    assets = build_dbt_assets(project)
    partitioned = assets.partitioned_selection()
    jobs, schedules = build_domain_schedules(assets.groups, partitioned)
    sensors = []
    if "ebpf" in assets.groups:
        ebpf_job = dg.define_asset_job(
            "ebpf_ingest_job",
            selection=dg.AssetSelection.groups("ebpf") - partitioned
            if partitioned
            else dg.AssetSelection.groups("ebpf"),
            description="Ingest eBPF raw files: parse, quarantine, filter, statistics, audit marts.",
        )
        jobs.append(ebpf_job)
        sensors.append(build_ebpf_file_sensor(ebpf_job, Path(project.settings.project.data_dir) / "ebpf"))
    if assets.partitioned is not None:
        partitioned_job = dg.define_asset_job(
            "partitioned_models_job", selection=partitioned, partitions_def=assets.partitions_def
        )
        jobs.append(partitioned_job)
        schedules.append(
            dg.build_schedule_from_partitioned_job(
                partitioned_job,
                name="partitioned_models_daily",
                default_status=dg.DefaultScheduleStatus.STOPPED,
            )
        )
    settings = project.settings
    return dg.Definitions(
        assets=assets.definitions(),
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        resources={
            "dbt": DbtCliResource(
                project_dir=str(settings.project.project_dir),
                profiles_dir=str(settings.project.profiles_dir),
                target=settings.target.name,
                dbt_executable=dbt_executable(),
            )
        },
    )
