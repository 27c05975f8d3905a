"""Schedules: search feeds hourly, live-event tables every 5 minutes, the private vocabulary daily."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg


@dataclass(frozen=True)
class DomainSchedule:
    group: str
    cron: str
    description: str


DOMAIN_SCHEDULES = (
    DomainSchedule("search", "0 * * * *", "Search-indexing feeds, hourly."),
    DomainSchedule("live_events", "*/5 * * * *", "Live-event recommendation tables, every 5 minutes."),
    DomainSchedule("privacy", "0 3 * * *", "The differentially private vocabulary, daily at 03:00."),
)


def domain_job(group: str, partitioned_keys: dg.AssetSelection | None) -> dg.UnresolvedAssetJobDefinition:
    """A job over the group's unpartitioned assets (partitioned ones run through their own partitioned job)."""
    selection: dg.AssetSelection = dg.AssetSelection.groups(group)
    if partitioned_keys is not None:
        selection = selection - partitioned_keys
    return dg.define_asset_job(f"{group}_job", selection=selection, description=f"Build the {group} models.")


def build_domain_schedules(
    groups: set[str], partitioned_keys: dg.AssetSelection | None
) -> tuple[list[dg.UnresolvedAssetJobDefinition], list[Any]]:
    """Jobs and schedules per domain (the list also takes the partitioned job's unresolved schedule)."""
    jobs: list[dg.UnresolvedAssetJobDefinition] = []
    schedules: list[Any] = []
    for spec in DOMAIN_SCHEDULES:
        if spec.group not in groups:
            continue
        job = domain_job(spec.group, partitioned_keys)
        jobs.append(job)
        schedules.append(
            dg.ScheduleDefinition(
                name=f"{spec.group}_schedule",
                job=job,
                cron_schedule=spec.cron,
                description=spec.description,
                default_status=dg.DefaultScheduleStatus.STOPPED,
            )
        )
    return jobs, schedules
