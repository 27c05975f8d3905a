"""Get the compiled manifest to check: through the compile cache, or from a manifest file the user names.

A cycle is the one project error dbt reports instead of compiling; it is also what a DAG rule exists to
catch. So when compilation stops on a cycle, the check goes on over the parsed manifest (no compiled SQL):
the cycle is reported as a `dag_acyclic` violation with its models and files, not as a crash.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from framework.checks.manifest import Manifest, ManifestError, load_manifest

if TYPE_CHECKING:
    from framework.config import Settings

_CYCLE = re.compile(r"found a cycle", re.IGNORECASE)


class SelectionError(Exception):
    """`--select`/`--exclude` cannot be evaluated or selects nothing; exit code 2."""


class CompileFailed(Exception):
    """The project did not compile for a reason other than a cycle: nothing could be checked (exit 2)."""


@dataclass(frozen=True)
class CompiledProject:
    manifest: Manifest
    compiled: bool  # False: only parsed (compilation stopped on a cycle)
    note: str | None = None


def compile_for_check(settings: Settings, select: Sequence[str] = ()) -> CompiledProject:
    """The project's manifest with compiled SQL, through the compile cache (`ensure_compiled_manifest`)."""
    from framework.compile import CompileError, ensure_compiled_manifest

    try:
        path = ensure_compiled_manifest(settings, select=list(select) or None)
    except CompileError as exc:
        if not _CYCLE.search(str(exc)):
            raise CompileFailed(f"the project does not compile, so nothing was checked: {exc}") from exc
        return CompiledProject(_parsed_manifest(settings), compiled=False, note=f"dbt: {exc}")
    return CompiledProject(load_manifest(path), compiled=True)


def _parsed_manifest(settings: Settings) -> Manifest:
    """The manifest of `dbt parse`, which accepts a cyclic DAG (only compiling refuses it)."""
    from framework.dbt import run_dbt

    invocation = run_dbt(settings, ["parse"])
    if not invocation.success:
        raise CompileFailed(f"the project does not parse, so nothing was checked: {invocation.error}")
    return load_manifest(settings.project.manifest_path)


def select_models(manifest: Manifest, select: Sequence[str], exclude: Sequence[str] = ()) -> frozenset[str]:
    """The unique ids dbt's own selector picks for `--select`/`--exclude`, evaluated on this manifest."""
    import networkx as nx
    from dbt.contracts.graph.manifest import Manifest as DbtManifest
    from dbt.contracts.graph.manifest import WritableManifest
    from dbt.graph import Graph, NodeSelector
    from dbt.graph.cli import parse_difference
    from dbt_common.exceptions import DbtBaseException

    _ensure_dbt_flags()
    if manifest.path is None:
        raise ManifestError("selection needs a manifest read from a file")
    writable = WritableManifest.read_and_check_versions(str(manifest.path))
    dbt_manifest = DbtManifest.from_writable_manifest(writable)
    graph = nx.DiGraph()
    graph.add_nodes_from(manifest.graph.nodes)
    graph.add_edges_from(manifest.graph.edges)
    selector = NodeSelector(Graph(graph), dbt_manifest)
    try:
        # A selection that matches nothing is a typo, as in `overclock build`: a gate that checks no model
        # must not pass. Exclusions may match nothing (`--exclude tag:legacy` once nothing is legacy).
        unmatched = [
            token
            for text in select
            for token in text.split()
            if not token.startswith("state:")
            and not selector.get_selected(parse_difference([token], None), warn_on_no_nodes=False)
        ]
        spec = parse_difference(list(select) or None, list(exclude) or None)
        selected = frozenset(selector.get_selected(spec, warn_on_no_nodes=False))
    except DbtBaseException as exc:  # a malformed spec, e.g. an unknown method
        reason = str(getattr(exc, "msg", exc)).strip()
        raise SelectionError(f"selection {' '.join([*select, *exclude])!r}: {reason}") from exc
    if unmatched:
        raise SelectionError(
            f"selection '{', '.join(unmatched)}' matches no model: check the name with `overclock ls`"
        )
    return selected


def _ensure_dbt_flags() -> None:
    """dbt's selector reads global flags that only its CLI sets; give it the defaults it expects."""
    from argparse import Namespace

    from dbt.flags import get_flags, set_flags

    if getattr(get_flags(), "INDIRECT_SELECTION", None) is None:
        set_flags(Namespace(INDIRECT_SELECTION="eager", WARN_ERROR=None, WARN_ERROR_OPTIONS=None))


def load_for_check(path: str | Path) -> CompiledProject:
    manifest = load_manifest(path)
    compiled = any(node.get("compiled_code") is not None for node in manifest.models.values())
    return CompiledProject(manifest, compiled=compiled)
