"""Verification of the fast renderer against dbt, node by node, on every cold compile.

dbt's output is the reference: a node whose SQL the renderer does not reproduce byte for byte, or whose parse
(refs, sources, `config()` calls) it does not reproduce, is recorded as dbt's to compile. Only nodes that pass
get a trace, and only traced nodes are ever compiled by the renderer later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from framework.compile.context import RenderFailure, Unsupported
from framework.compile.renderer import ProjectModel, compile_node, generate_names, parse_node

PARSED_TYPES = frozenset({"model", "analysis"})


@dataclass
class CompileVerdict:
    trace: dict[str, Any] | None  # None: dbt compiles this node
    reason: str = ""
    volatile: bool = False


@dataclass
class Verdicts:
    compile: dict[str, CompileVerdict] = field(default_factory=dict)
    parse: dict[str, dict[str, Any]] = field(default_factory=dict)
    names_macros: set[str] = field(default_factory=set)


def compile_verdict(project: ProjectModel, node: Mapping[str, Any], expected: str) -> CompileVerdict:
    try:
        code, trace = compile_node(project, node)
    except Unsupported as exc:
        return CompileVerdict(None, str(exc), exc.volatile)
    except RenderFailure as exc:
        return CompileVerdict(None, str(exc))
    if code != expected:
        return CompileVerdict(None, "the fast renderer's SQL differs from dbt's")
    return CompileVerdict(trace.as_dict())


def parse_verdict(project: ProjectModel, node: Mapping[str, Any]) -> dict[str, Any] | None:
    """Does the renderer's parse of this node agree with dbt's? Returns what later edits are compared with."""
    from framework.compile.compiler import SIMPLE_CONFIG_KEYS, merge_config_calls

    if node["resource_type"] not in PARSED_TYPES or node.get("language", "sql") != "sql":
        return None
    try:
        record, trace = parse_node(project, node)
        calls = merge_config_calls(record.config_calls)
    except (Unsupported, RenderFailure):
        return {"ok": False}
    config = node["config"]
    agrees = (
        record.refs == node["refs"]
        and record.sources == node["sources"]
        and all(config.get(k) == v for k, v in calls.items() if k in SIMPLE_CONFIG_KEYS)
        and all(tag in config.get("tags", []) for tag in _as_list(calls.get("tags")))
        and not config.get("pre-hook")
        and not config.get("post-hook")
    )
    if agrees:
        resolved = set()
        for ref in record.refs:
            resolved.add(project.resolve_ref(ref["name"], ref["package"], node["package_name"]))
        for source_name, table_name in record.sources:
            resolved.add(project.resolve_source(source_name, table_name, node["package_name"]))
        agrees = resolved == set(node["depends_on"]["nodes"])
    macros_agree = list(dict.fromkeys(trace.top_level_macros)) == node["depends_on"]["macros"]
    return {"ok": agrees, "calls": calls, "trace": trace.as_dict(), "macros_agree": macros_agree}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def naming_macros(project: ProjectModel) -> set[str]:
    """Macros that decide relation names: a change to any of them is left to dbt's parse."""
    found = {
        uid
        for uid, macro in project.macros.items()
        if "generate_" in macro["name"] and macro["name"].endswith("_name")
    }
    sample: dict[tuple[str, Any, Any, Any], Any] = {}
    for node in project.nodes.values():
        config = node["config"]
        key = (node["resource_type"], config.get("schema"), config.get("alias"), config.get("database"))
        sample.setdefault(key, node)
    for node in sample.values():
        try:
            _, trace = generate_names(project, node)
        except (Unsupported, RenderFailure):
            continue
        found |= trace.macros
    return found


_SHARED: dict[str, Any] = {}  # what forked verification workers inherit


def _verify_slice(unique_ids: list[str]) -> tuple[dict[str, CompileVerdict], dict[str, dict[str, Any]]]:
    project: ProjectModel = _SHARED["project"]
    codes: Mapping[str, str] = _SHARED["codes"]
    compiled: dict[str, CompileVerdict] = {}
    parsed: dict[str, dict[str, Any]] = {}
    for uid in unique_ids:
        node = project.nodes[uid]
        compiled[uid] = compile_verdict(project, node, codes[uid])
        verdict = parse_verdict(project, node)
        if verdict is not None:
            parsed[uid] = verdict
    return compiled, parsed


def verify_all(project: ProjectModel, codes: Mapping[str, str], workers: int | None = None) -> Verdicts:
    """Render every node dbt compiled and compare; on several cores, in forked worker processes."""
    import multiprocessing
    import os

    verdicts = Verdicts()
    unique_ids = sorted(codes)
    workers = workers or min(os.cpu_count() or 1, 4)
    _SHARED.update(project=project, codes=codes)
    try:
        if workers > 1 and len(unique_ids) >= 200 and "fork" in multiprocessing.get_all_start_methods():
            from concurrent.futures import ProcessPoolExecutor

            slices = [unique_ids[i::workers] for i in range(workers)]
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                results = list(pool.map(_verify_slice, slices))
        else:
            results = [_verify_slice(unique_ids)]
    finally:
        _SHARED.clear()
    for compiled, parsed in results:
        verdicts.compile.update(compiled)
        verdicts.parse.update(parsed)
    verdicts.names_macros = naming_macros(project)
    return verdicts
