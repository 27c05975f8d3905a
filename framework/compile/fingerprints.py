"""Fingerprints: a node's compiled SQL is a pure function of what these hash.

- the node itself (raw code, config, everything dbt's parse put in it), minus fields that say when or where;
- the relation names of what it refs and sources (which depend on *their* configs and the namespace);
- the source of every macro its last render called (adapter macros included), vars and environment variables
  that render read, and the set of macro names (a new macro may shadow another);
- the target (adapter type, database, schema, ...), dbt-core's and the adapter's versions and this renderer's.

A node compiled by dbt (one the fast renderer does not reproduce) has no trace of what it read, so its
fingerprint takes every macro, every var and every watched environment variable instead.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

# Bump when the renderer's output or the fingerprint's definition changes: every fingerprint changes with it.
RENDERER_VERSION = "1"

VOLATILE_NODE_FIELDS = frozenset(
    {
        "created_at",
        "compiled_code",
        "compiled",
        "compiled_path",
        "extra_ctes_injected",
        "extra_ctes",
        "build_path",
    }
)


def digest(value: Any) -> str:
    import orjson

    options = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    return hashlib.sha256(orjson.dumps(value, option=options, default=str)).hexdigest()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def node_digest(node: Mapping[str, Any]) -> str:
    return digest({k: v for k, v in node.items() if k not in VOLATILE_NODE_FIELDS})


def relation_facts(entry: Mapping[str, Any]) -> list[Any]:
    """What a dependent's compiled SQL can see of a node or source it refs."""
    config = entry.get("config") or {}
    return [
        entry.get("relation_name"),
        entry.get("database"),
        entry.get("schema"),
        entry.get("alias") or entry.get("identifier"),
        config.get("materialized"),
        config.get("event_time"),
        entry.get("resource_type"),
    ]


class Fingerprinter:
    """Computes node fingerprints against one project state, memoising the per-entity digests."""

    def __init__(
        self,
        project: Any,
        environment_watch: Mapping[str, str | None],
        global_inputs: Any,
        node_digests: dict[str, str] | None = None,
    ) -> None:
        self.project = project
        self.environment_watch = environment_watch
        self._global = digest(global_inputs)
        # Digests of nodes known unchanged since they were computed (the caller forgets the ones it edits).
        self._node_digests: dict[str, str] = node_digests if node_digests is not None else {}
        self._macro_digests: dict[str, str] = {}
        self._vars: dict[tuple[str, str], str] = {}
        self._everything: str | None = None

    def node(self, unique_id: str) -> str:
        found = self._node_digests.get(unique_id)
        if found is None:
            found = self._node_digests[unique_id] = node_digest(self.project.nodes[unique_id])
        return found

    def _macro(self, unique_id: str) -> str:
        found = self._macro_digests.get(unique_id)
        if found is None:
            macro = self.project.macros.get(unique_id)
            found = text_digest(macro["macro_sql"]) if macro else "<absent>"
            self._macro_digests[unique_id] = found
        return found

    def _dependencies(self, node: Mapping[str, Any]) -> list[Any]:
        facts = []
        for unique_id in node.get("depends_on", {}).get("nodes", []):
            entry = self.project.nodes.get(unique_id) or self.project.sources.get(unique_id)
            facts.append([unique_id, relation_facts(entry) if entry else None])
        return facts

    def _current_var(self, name: str, package: str) -> str:
        key = (package, name)
        found = self._vars.get(key)
        if found is None:
            merged = self.project.vars_for(package)
            found = json.dumps(merged[name], sort_keys=True, default=str) if name in merged else "<missing>"
            self._vars[key] = found
        return found

    def traced(self, unique_id: str, trace: Mapping[str, Any]) -> str:
        """The fingerprint of a node the fast renderer compiled, given the trace of that render."""
        node = self.project.nodes[unique_id]
        package = node["package_name"]
        return digest(
            [
                RENDERER_VERSION,
                self._global,
                self.node(unique_id),
                self._dependencies(node),
                [[m, self._macro(m)] for m in trace.get("macros", [])],
                [[v, self._current_var(v, package)] for v in sorted(trace.get("vars", {}))],
                [[e, self.project.environment.get(e)] for e in sorted(trace.get("env", {}))],
                [
                    [w, self.project.warehouse.relation_type(*w.split("\0"))]
                    for w in sorted(trace.get("warehouse", {}))
                ],
            ]
        )

    def everything(self, unique_id: str) -> str:
        """The fingerprint of a node dbt compiled: every input it could possibly have read."""
        if self._everything is None:
            self._everything = digest(
                [
                    sorted((m, self._macro(m)) for m in self.project.macros),
                    self.project.vars_for(self.project.root_name),
                    sorted(self.environment_watch.items()),
                ]
            )
        node = self.project.nodes[unique_id]
        return digest(
            [
                RENDERER_VERSION,
                self._global,
                self.node(unique_id),
                self._dependencies(node),
                self._everything,
            ]
        )


def macro_names_digest(macros: Mapping[str, Any]) -> str:
    return digest(sorted(macros))


def installed_versions(adapter_type: str | None) -> dict[str, str]:
    """Versions of what decides compiled SQL, read from the installed distributions' folder names.

    (`importlib.metadata` costs a tenth of a second here; listing site-packages costs a millisecond.)
    """
    import sys

    wanted = {"dbt_core", "dbt_adapters", "jinja2", f"dbt_{adapter_type}"}
    versions: dict[str, str] = {}
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        for name in os.listdir(entry):
            if not name.endswith(".dist-info"):
                continue
            distribution, _, version = name[: -len(".dist-info")].partition("-")
            if distribution.lower() in wanted:
                versions.setdefault(distribution.lower(), version)
    return versions
