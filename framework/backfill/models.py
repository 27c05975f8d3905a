"""Partitioned models as the backfill engine sees them, read from a dbt manifest (the JSON artifact).

A model takes part in backfills when it is incremental with a strategy that can re-run a window (one of
Overclock's, or an assembly of their macros; not a plain append) and declares its partitions the BigQuery
way: `partition_by={'field': ..., 'data_type': ..., 'granularity': ...}`. It filters its inputs with the
`partition_window` macro, which the engine cannot check. Its fingerprint hashes what decides its rows: its
raw SQL, its config, the macros it calls and, recursively, the fingerprints of the models and seeds it
reads. A new fingerprint makes its recorded intervals stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from framework.backfill.intervals import Grain

STRATEGIES = ("partition_replace", "merge_dedupe", "append_lookback")
# Strategies a window cannot be re-run with: a plain append doubles rows, microbatch windows itself.
NOT_BACKFILLABLE = frozenset({"append", "default", "microbatch"})

# Config that describes a model but cannot change its rows: editing it must not force a re-backfill.
DESCRIPTIVE_CONFIG = frozenset({"tags", "docs", "persist_docs", "grants", "group", "access", "contract"})

# Resource types whose relations hold data; views and ephemerals are always current, so no backfill.
ALWAYS_CURRENT = frozenset({"view", "ephemeral"})


class BackfillError(Exception):
    """The request cannot be planned: the message says what is wrong and what to do. Nothing has run."""


@dataclass(frozen=True)
class PartitionedModel:
    unique_id: str
    name: str
    fqn: tuple[str, ...]
    database: str | None
    schema: str
    alias: str
    strategy: str
    field: str
    data_type: str
    grain: Grain
    parents: tuple[str, ...]  # every model or seed it refs, partitioned or not
    fingerprint: str

    @property
    def selector(self) -> str:
        """A dbt selection matching exactly this model."""
        return "fqn:" + ".".join(self.fqn)


def partitioned_model(manifest: Mapping[str, Any], unique_id: str, fingerprint: str) -> PartitionedModel:
    """The model's partitioning, or a BackfillError saying why it cannot be backfilled."""
    node = manifest["nodes"][unique_id]
    config = node.get("config") or {}
    name = node["name"]
    path = node.get("original_file_path", "")
    partition_by = config.get("partition_by")
    strategy = config.get("incremental_strategy")
    if config.get("materialized") != "incremental" or not strategy or strategy in NOT_BACKFILLABLE:
        raise BackfillError(
            f"model '{name}' ({path}) is not partitioned for backfills: give it materialized='incremental', "
            f"incremental_strategy= one of {', '.join(STRATEGIES)} (or your own assembly of their macros) "
            "and partition_by={'field': ..., 'granularity': 'day'}, or leave it out of the selection"
        )
    if not isinstance(partition_by, Mapping) or not partition_by.get("field"):
        raise BackfillError(
            f"model '{name}' ({path}) uses {strategy} but has no partition_by: add "
            "partition_by={'field': 'event_date', 'data_type': 'date', 'granularity': 'day'}"
        )
    granularity = str(partition_by.get("granularity") or "day").lower()
    data_type = str(partition_by.get("data_type") or "date").lower()
    try:
        grain = Grain(granularity)
    except ValueError:
        raise BackfillError(
            f"model '{name}' ({path}) is partitioned by '{granularity}': supported grains are "
            "hour, day, month and year"
        ) from None
    if data_type == "date" and grain is Grain.HOUR:
        raise BackfillError(f"model '{name}' ({path}): a date partition cannot have hour granularity")
    return PartitionedModel(
        unique_id=unique_id,
        name=name,
        fqn=tuple(node.get("fqn") or (name,)),
        database=node.get("database"),
        schema=node["schema"],
        alias=node.get("alias") or name,
        strategy=str(strategy),
        field=str(partition_by["field"]),
        data_type=data_type,
        grain=grain,
        parents=tuple(data_parents(manifest, unique_id)),
        fingerprint=fingerprint,
    )


def is_always_current(manifest: Mapping[str, Any], unique_id: str) -> bool:
    config = manifest["nodes"][unique_id].get("config") or {}
    return config.get("materialized") in ALWAYS_CURRENT


def data_parents(manifest: Mapping[str, Any], unique_id: str) -> list[str]:
    """The models, seeds and snapshots the node depends on directly (not sources, macros or tests)."""
    nodes = manifest["nodes"]
    depends = (nodes[unique_id].get("depends_on") or {}).get("nodes") or []
    return sorted(
        parent
        for parent in depends
        if parent in nodes and nodes[parent]["resource_type"] in ("model", "seed", "snapshot")
    )


def fingerprints(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> dict[str, str]:
    """Fingerprints of the given nodes (and, on the way, of everything upstream of them)."""
    nodes = manifest["nodes"]
    macros = manifest.get("macros") or {}
    memo: dict[str, str] = {}

    def macro_sources(node: Mapping[str, Any]) -> dict[str, str]:
        seen: dict[str, str] = {}
        stack = list((node.get("depends_on") or {}).get("macros") or [])
        while stack:
            macro_id = stack.pop()
            macro = macros.get(macro_id)
            if macro_id in seen or macro is None:
                continue
            seen[macro_id] = macro.get("macro_sql", "")
            stack.extend((macro.get("depends_on") or {}).get("macros") or [])
        return seen

    def visit(unique_id: str) -> str:
        if unique_id in memo:
            return memo[unique_id]
        # Iterative depth-first over parents, so that long chains do not hit the recursion limit.
        stack = [unique_id]
        while stack:
            current = stack[-1]
            pending = [p for p in data_parents(manifest, current) if p not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if current in memo:
                continue
            node = nodes[current]
            config = {k: v for k, v in (node.get("config") or {}).items() if k not in DESCRIPTIVE_CONFIG}
            payload = {
                "raw_code": node.get("raw_code"),
                "checksum": (node.get("checksum") or {}).get("checksum")
                if node["resource_type"] == "seed"
                else None,
                "config": config,
                "macros": macro_sources(node),
                "parents": [memo[p] for p in data_parents(manifest, current)],
            }
            encoded = json.dumps(payload, sort_keys=True, default=str).encode()
            memo[current] = hashlib.sha256(encoded).hexdigest()[:16]
        return memo[unique_id]

    return {unique_id: visit(unique_id) for unique_id in unique_ids}
