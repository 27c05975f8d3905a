"""Sensors: start eBPF ingestion when new raw event files land, each file exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

EBPF_FILE_PATTERNS = ("*.jsonl", "*.jsonl.gz", "*.json")


def new_raw_files(folder: Path, seen: set[str]) -> list[Path]:
    """Files under folder not yet seen, oldest name first (deterministic order)."""
    if not folder.is_dir():
        return []
    found = {path for pattern in EBPF_FILE_PATTERNS for path in folder.rglob(pattern) if path.is_file()}
    return sorted((path for path in found if str(path.relative_to(folder)) not in seen), key=str)


def build_ebpf_file_sensor(job: dg.UnresolvedAssetJobDefinition, raw_folder: Path) -> dg.SensorDefinition:
    @dg.sensor(
        name="ebpf_new_raw_files",
        job=job,
        minimum_interval_seconds=30,
        description=f"One run per new eBPF raw file under {raw_folder}; the cursor remembers every file seen.",
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def ebpf_new_raw_files(context: dg.SensorEvaluationContext) -> Iterator[dg.RunRequest | dg.SkipReason]:
        seen: set[str] = set(json.loads(context.cursor)) if context.cursor else set()
        files = new_raw_files(raw_folder, seen)
        if not files:
            yield dg.SkipReason(f"no new files under {raw_folder}")
            return
        for path in files:
            relative = str(path.relative_to(raw_folder))
            seen.add(relative)
            # run_key makes the request idempotent even if the cursor were lost.
            yield dg.RunRequest(run_key=f"ebpf:{relative}", tags={"overclock/ebpf_file": relative})
        context.update_cursor(json.dumps(sorted(seen)))

    return ebpf_new_raw_files
