"""Sensors: start eBPF ingestion when new raw event files land, each file exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

# The files the eBPF source reads, relative to the eBPF data folder: its external_location in
# models/staging/ebpf/_ebpf__sources.yml reads `ebpf/events/*/*.jsonl` (a test keeps the two equal).
EBPF_EVENT_FILES = "events/*/*.jsonl"


def raw_files(folder: Path) -> tuple[list[str], list[str]]:
    """(files the eBPF source reads, every other file under folder/events), relative to folder, sorted.

    A run started for one of the others (compressed, nested deeper, beside the host folders) would load nothing
    of it, so the sensor reports those instead.
    """
    events = folder / "events"
    if not events.is_dir():
        return [], []
    readable = {str(path.relative_to(folder)) for path in folder.glob(EBPF_EVENT_FILES) if path.is_file()}
    present = {str(path.relative_to(folder)) for path in events.rglob("*") if path.is_file()}
    return sorted(readable), sorted(present - readable)


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
        readable, unread = raw_files(raw_folder)
        files = [name for name in readable if name not in seen]
        newly_ignored = [name for name in unread if name not in ignored]
        if newly_ignored:
            context.log.warning(
                f"not ingested: {', '.join(newly_ignored)} — the eBPF source reads {EBPF_EVENT_FILES} under "
                f"{raw_folder} only"
            )
            ignored.update(newly_ignored)
        for name in files:
            seen.add(name)
            # run_key makes the request idempotent even if the cursor were lost.
            yield dg.RunRequest(run_key=f"ebpf:{name}", tags={"overclock/ebpf_file": name})
        if not files:
            skipped = f"; not ingested (not {EBPF_EVENT_FILES}): {len(ignored)} file(s)" if ignored else ""
            yield dg.SkipReason(f"no new files under {raw_folder / 'events'}{skipped}")
        context.update_cursor(json.dumps({"seen": sorted(seen), "ignored": sorted(ignored)}))

    return ebpf_new_raw_files
