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


def is_generated(out_dir: Path) -> bool:
    return (out_dir / MARKER).is_file()


def generate_all(out_dir: Path, scale: int = 1, seed: int = 42) -> dict[str, dict[str, int]]:
    if scale < 1:
        raise ValueError("scale must be at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, dict[str, int]] = {}
    for domain in DOMAINS:
        module = importlib.import_module(f"framework.demo_data.{domain}")
        domain_dir = out_dir / domain
        domain_dir.mkdir(parents=True, exist_ok=True)
        summary[domain] = module.generate(domain_dir, scale=scale, seed=domain_seed(seed, domain))
    (out_dir / MARKER).write_text(f"scale={scale}\nseed={seed}\n")
    return summary
