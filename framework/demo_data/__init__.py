"""Deterministic generators for the raw sources of the four demo domains.

Each domain module exposes `generate(out_dir, scale, seed) -> {relative file: rows}` and writes its files
under `out_dir/<domain>/`. The same (scale, seed) gives byte-identical files: every generator draws from
its own `numpy.random.Generator` seeded from (seed, domain), and writers are configured for stable output.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

# Domain name -> module under framework.demo_data. Order matters only for the printed summary.
DOMAINS = ("search", "live_events", "ebpf")
MARKER = ".overclock-demo-data"


# Fixed row groups and no writer-specific metadata: the same table always gives the same bytes.
PARQUET_ROW_GROUP_SIZE = 65_536


def write_parquet(table: Any, path: Path) -> int:
    """Write an Arrow table as a deterministic zstd Parquet file; return its row count."""
    import pyarrow.parquet as pq

    pq.write_table(
        table,
        path,
        compression="zstd",
        row_group_size=PARQUET_ROW_GROUP_SIZE,
        use_dictionary=True,
        write_statistics=True,
        store_schema=True,
    )
    return int(table.num_rows)


def domain_seed(seed: int, domain: str) -> int:
    """A per-domain seed, so that adding a domain never changes another domain's data."""
    import hashlib

    return int.from_bytes(hashlib.sha256(f"{seed}:{domain}".encode()).digest()[:8], "little")


def _recorded_files(out_dir: Path) -> list[str] | None:
    """The files the last generation wrote (relative to `out_dir`), from its marker; None if unknown."""
    import json

    try:
        recorded = json.loads((out_dir / MARKER).read_text())
        return [str(name) for name in recorded["files"]]
    except (OSError, ValueError, KeyError, TypeError):  # no marker, or one from before files were listed
        return None


def is_generated(out_dir: Path) -> bool:
    """Demo data is there: a marker, and every file it lists (a deleted file or folder means regenerate)."""
    if not (out_dir / MARKER).is_file():
        return False
    files = _recorded_files(out_dir)
    return files is None or all((out_dir / name).is_file() for name in files)


def generate_all(out_dir: Path, scale: int = 1, seed: int = 42) -> dict[str, dict[str, int]]:
    if scale < 1:
        raise ValueError("scale must be at least 1")
    import json

    out_dir.mkdir(parents=True, exist_ok=True)
    previous = _recorded_files(out_dir) or []
    summary: dict[str, dict[str, int]] = {}
    for domain in DOMAINS:
        module = importlib.import_module(f"framework.demo_data.{domain}")
        domain_dir = out_dir / domain
        domain_dir.mkdir(parents=True, exist_ok=True)
        summary[domain] = module.generate(domain_dir, scale=scale, seed=domain_seed(seed, domain))
    files = sorted(f"{domain}/{name}" for domain, written in summary.items() for name in written)
    # Files of an earlier generation (another seed or scale) that this one did not write would be read by
    # the sources' globs as if they were this generation's: remove them (only files a generation wrote).
    for name in sorted(set(previous) - set(files)):
        (out_dir / name).unlink(missing_ok=True)
    (out_dir / MARKER).write_text(json.dumps({"scale": scale, "seed": seed, "files": files}, indent=1) + "\n")
    return summary
