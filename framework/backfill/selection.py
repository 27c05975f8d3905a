"""dbt node selection over a manifest, without starting dbt: the subset of the grammar backfills need.

Understood exactly as dbt does: model names and fqn paths (with `*`), `fqn:`, `tag:`, graph operators
(`+model`, `model+`, `2+model+1`, `@model`), intersections (`a,b`) and unions (several values). Anything else
(`path:`, `state:`, `config.`, ...) returns None, and the caller asks dbt itself (`dbt ls`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_SPEC = re.compile(r"^(?P<at>@)?(?:(?P<up>\d*)\+)?(?P<value>[^+]+?)(?:\+(?P<down>\d*))?$")
_METHODS = ("fqn", "tag")


class _Unsupported(Exception):
    pass


def select_models(
    manifest: Mapping[str, Any], select: Sequence[str], exclude: Sequence[str] = ()
) -> set[str] | None:
    """unique_ids of the enabled models selected, or None where this resolver is not exact."""
    try:
        graph = _Graph(manifest)
        chosen = set().union(*(graph.union(value) for value in select)) if select else set(graph.models)
        if exclude:
            chosen -= set().union(*(graph.union(value) for value in exclude))
    except _Unsupported:
        return None
    return {unique_id for unique_id in chosen if unique_id in graph.models}


class _Graph:
    def __init__(self, manifest: Mapping[str, Any]) -> None:
        self.nodes: Mapping[str, Any] = manifest["nodes"]
        self.models = {uid for uid, node in self.nodes.items() if node["resource_type"] == "model"}
        self.parents: dict[str, list[str]] = {
            uid: list((node.get("depends_on") or {}).get("nodes") or []) for uid, node in self.nodes.items()
        }
        self.children: dict[str, list[str]] = {uid: [] for uid in self.nodes}
        for uid, parents in self.parents.items():
            for parent in parents:
                self.children.setdefault(parent, []).append(uid)

    def union(self, value: str) -> set[str]:
        result: set[str] = set()
        for token in value.split():
            parts = [self.spec(part) for part in token.split(",")]
            result |= set.intersection(*parts)
        return result

    def spec(self, text: str) -> set[str]:
        match = _SPEC.match(text)
        if not match:
            raise _Unsupported(text)
        base = self.method(match["value"])
        selected = set(base)
        if match["up"] is not None:
            selected |= self.walk(base, self.parents, int(match["up"]) if match["up"] else None)
        if match["down"] is not None:
            selected |= self.walk(base, self.children, int(match["down"]) if match["down"] else None)
        if match["at"]:
            if match["up"] is not None or match["down"] is not None:
                raise _Unsupported(text)
            descendants = self.walk(base, self.children, None)
            selected |= descendants | self.walk(descendants | base, self.parents, None)
        return selected

    def method(self, value: str) -> set[str]:
        method, _, argument = value.rpartition(":")
        if method and method not in _METHODS:
            raise _Unsupported(value)
        if "/" in value or "\\" in value or value.lower().endswith((".sql", ".py", ".csv")):
            raise _Unsupported(value)  # a path: dbt resolves those against the project root
        if method == "tag":
            return {
                uid
                for uid, node in self.nodes.items()
                if any(fnmatch.fnmatch(tag, argument) for tag in node.get("tags") or [])
            }
        return {uid for uid, node in self.nodes.items() if _fqn_matches(node, argument)}

    @staticmethod
    def walk(start: Iterable[str], edges: Mapping[str, list[str]], depth: int | None) -> set[str]:
        seen: set[str] = set()
        frontier = set(start)
        level = 0
        while frontier and (depth is None or level < depth):
            frontier = {n for node in frontier for n in edges.get(node, []) if n not in seen}
            seen |= frontier
            level += 1
        return seen


def _fqn_matches(node: Mapping[str, Any], selector: str) -> bool:
    """dbt's fqn method (dbt.graph.selector_methods.is_selected_node), with or without the package."""
    if node.get("version") is not None:
        raise _Unsupported(selector)  # versioned models have extra matching rules: let dbt decide
    fqn = list(node.get("fqn") or [node["name"]])
    return _is_selected(fqn, selector) or _is_selected(fqn[1:], selector)


def _is_selected(fqn: list[str], selector: str) -> bool:
    if not fqn:
        return False
    if fqn[-1] == selector:
        return True
    flat_fqn = [part for segment in fqn for part in segment.split(".")]
    wanted = selector.split(".")
    if len(flat_fqn) < len(wanted):
        return False
    for index, part in enumerate(wanted):
        if any(wildcard in part for wildcard in "*?[]"):
            if fnmatch.fnmatch(".".join(flat_fqn[index:]), ".".join(wanted[index:])):
                return True
            return "." not in selector and fnmatch.fnmatch(fqn[-1], selector)
        if flat_fqn[index] != part:
            return False
    return True
