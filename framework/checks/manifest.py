"""Read a dbt `manifest.json` for checking: validate its schema version, index its nodes, build its DAG.

Only manifests of the schema this dbt line writes are accepted; anything else (another dbt version, a broken
path, not a manifest at all) is a `ManifestError` whose message says what to do. The CLI turns it into exit 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

# manifest schema version -> the dbt versions that write it. dbt-core 1.8 through 1.11 write v12.
SUPPORTED_SCHEMA_VERSIONS: Mapping[int, str] = {12: "dbt 1.8 – 1.11"}
_SCHEMA_VERSION = re.compile(r"/manifest/v(\d+)\.json$")

# Resource types that consume a model's relation (tests check it; they do not build on it).
CONSUMER_TYPES = frozenset({"model", "snapshot", "exposure", "semantic_model", "saved_query", "metric"})


class ManifestError(Exception):
    """The manifest cannot be checked: missing, unreadable, or from an unsupported dbt version."""


def contract_enforced(node: Mapping[str, Any]) -> bool:
    """True when dbt enforces the node's declared columns and types (`contract: {enforced: true}`)."""
    contract = (node.get("config") or {}).get("contract") or node.get("contract") or {}
    return bool(contract.get("enforced"))


def _read_json(path: Path) -> Any:
    import orjson

    return orjson.loads(path.read_bytes())


def load_manifest(path: str | Path, role: str = "manifest") -> Manifest:
    """Load and validate `path` (a manifest.json, or a dbt target folder holding one)."""
    manifest_path = Path(path)
    if manifest_path.is_dir():
        manifest_path = manifest_path / "manifest.json"
    if not manifest_path.is_file():
        raise ManifestError(
            f"{role} {manifest_path} does not exist: pass the manifest.json written by "
            "`overclock compile` (or `dbt compile`), or the target folder that holds it"
        )
    try:
        data = _read_json(manifest_path)
    except (ValueError, OSError) as exc:
        raise ManifestError(f"{role} {manifest_path} is not readable JSON: {exc}") from exc
    return Manifest.from_data(data, manifest_path, role)


def schema_version_of(data: Any) -> int | None:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    url = metadata.get("dbt_schema_version") if isinstance(metadata, dict) else None
    match = _SCHEMA_VERSION.search(url) if isinstance(url, str) else None
    return int(match.group(1)) if match else None


class Manifest:
    """A validated manifest with the indexes every rule needs. Nodes stay dbt's plain dicts."""

    def __init__(self, data: Mapping[str, Any], path: Path | None = None) -> None:
        self.data = data
        self.path = path
        metadata = data.get("metadata") or {}
        self.project_name: str = str(metadata.get("project_name") or "")
        self.adapter_type: str = str(metadata.get("adapter_type") or "")
        self.dbt_version: str = str(metadata.get("dbt_version") or "")
        self.nodes: Mapping[str, Any] = data.get("nodes") or {}
        self.sources: Mapping[str, Any] = data.get("sources") or {}
        self.exposures: Mapping[str, Any] = data.get("exposures") or {}

    @classmethod
    def from_data(cls, data: Any, path: Path | None = None, role: str = "manifest") -> Manifest:
        where = f"{role} {path}" if path else role
        version = schema_version_of(data)
        if version is None:
            raise ManifestError(f"{where} is not a dbt manifest (no metadata.dbt_schema_version)")
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            written_by = data["metadata"].get("dbt_version") or "an unknown dbt version"
            supported = ", ".join(
                f"v{number} ({versions})" for number, versions in SUPPORTED_SCHEMA_VERSIONS.items()
            )
            raise ManifestError(
                f"{where} was written by dbt {written_by} (manifest schema v{version}); overclock check "
                f"reads manifest schema {supported}. Regenerate it with this project's dbt "
                "(`overclock compile` on the baseline commit)"
            )
        return cls(data, path)

    # --- lookups ---------------------------------------------------------------------------------------------

    def get(self, unique_id: str) -> Mapping[str, Any] | None:
        return self.nodes.get(unique_id) or self.sources.get(unique_id) or self.exposures.get(unique_id)

    @cached_property
    def models(self) -> Mapping[str, Mapping[str, Any]]:
        """Every model of the root project (installed packages' models are theirs to check)."""
        return {
            unique_id: node
            for unique_id, node in self.nodes.items()
            if node.get("resource_type") == "model"
            and (not self.project_name or node.get("package_name") == self.project_name)
        }

    # --- the DAG ---------------------------------------------------------------------------------------------

    @cached_property
    def graph(self) -> nx.DiGraph:
        """Edges point from a parent to what builds on it: models, sources, seeds, snapshots, exposures."""
        import networkx as nx

        graph = nx.DiGraph()
        for collection in (self.nodes, self.sources, self.exposures):
            for unique_id, node in collection.items():
                resource_type = node.get("resource_type")
                if resource_type in ("test", "unit_test", "analysis", "operation", "sql_operation"):
                    continue
                graph.add_node(unique_id)
                for parent in (node.get("depends_on") or {}).get("nodes") or ():
                    graph.add_edge(parent, unique_id)
        return graph

    def parents(self, unique_id: str) -> list[str]:
        graph = self.graph
        return list(graph.predecessors(unique_id)) if unique_id in graph else []

    def consumers(self, unique_id: str) -> list[str]:
        """Nodes that read this node's relation (models, snapshots, exposures, semantic models)."""
        graph = self.graph
        if unique_id not in graph:
            return []
        return sorted(
            child
            for child in graph.successors(unique_id)
            if (self.get(child) or {}).get("resource_type") in CONSUMER_TYPES
        )

    def iter_models(self, selected: frozenset[str] | None = None) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for unique_id in sorted(self.models):
            if selected is None or unique_id in selected:
                yield unique_id, self.models[unique_id]
