"""Sensors: start eBPF ingestion when new raw event files land, each file exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

# The files the eBPF source reads, relative to the eBPF data folder: its external_location in
# models/staging/ebpf/_ebpf__sources.yml reads `ebpf/events/*/*.jsonl` (a test keeps the two equal).
EBPF_EVENT_FILES = "events/*/*.jsonl"


def new_raw_files(folder: Path, seen: set[str]) -> list[Path]:
    """Files the eBPF source reads under folder and not yet seen, oldest name first (deterministic order)."""
    if not folder.is_dir():
        return []
    return sorted(
        (
            path
            for path in folder.glob(EBPF_EVENT_FILES)
            if path.is_file() and _relative(path, folder) not in seen
        ),
        key=str,
    )


def unread_files(folder: Path) -> list[Path]:
    """Files under folder/events that the eBPF source does not read (another suffix, or not one level deep):
    a run started for one would load nothing of it, so the sensor reports them instead."""
    events = folder / "events"
    if not events.is_dir():
        return []
    readable = set(folder.glob(EBPF_EVENT_FILES))
    return sorted((path for path in events.rglob("*") if path.is_file() and path not in readable), key=str)


def _relative(path: Path, folder: Path) -> str:
    return str(path.relative_to(folder))


def _read_cursor(cursor: str | None) -> tuple[set[str], set[str]]:
    """(files run, files reported as unread); a cursor from before the second list is a plain list."""
    if not cursor:
        return set(), set()
    state = json.loads(cursor)
    if isinstance(state, list):
        return set(state), set()
    return set(state["seen"]), set(state["ignored"])


def build_ebpf_file_sensor(job: dg.UnresolvedAssetJobDefinition, raw_folder: Path) -> dg.SensorDefinition:
    @dg.sensor(
        name="ebpf_new_raw_files",
        job=job,
        minimum_interval_seconds=30,
        description=(
            f"One run per new eBPF raw file under {raw_folder / EBPF_EVENT_FILES}; the cursor remembers every file "
            "seen. Files the eBPF source does not read are reported once, not run."
        ),
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def ebpf_new_raw_files(context: dg.SensorEvaluationContext) -> Iterator[dg.RunRequest | dg.SkipReason]:
        seen, ignored = _read_cursor(context.cursor)
        files = new_raw_files(raw_folder, seen)
        newly_ignored = [p for p in unread_files(raw_folder) if _relative(p, raw_folder) not in ignored]
        if newly_ignored:
            names = ", ".join(_relative(p, raw_folder) for p in newly_ignored)
            context.log.warning(
                f"not ingested: {names} — the eBPF source reads {EBPF_EVENT_FILES} under {raw_folder} only"
            )
            ignored.update(_relative(p, raw_folder) for p in newly_ignored)
        for path in files:
            relative = _relative(path, raw_folder)
            seen.add(relative)
            # run_key makes the request idempotent even if the cursor were lost.
            yield dg.RunRequest(run_key=f"ebpf:{relative}", tags={"overclock/ebpf_file": relative})
        if not files:
            skipped = f"; not ingested (not {EBPF_EVENT_FILES}): {len(ignored)} file(s)" if ignored else ""
            yield dg.SkipReason(f"no new files under {raw_folder / 'events'}{skipped}")
        context.update_cursor(json.dumps({"seen": sorted(seen), "ignored": sorted(ignored)}))

    return ebpf_new_raw_files
