"""Breaking changes against a baseline manifest (usually production's), found from the compiled SQL.

Breaking, when something downstream reads it:
- a model removed or renamed while a node still depends on it, an exposure read it, or it is `access: public`;
- a column removed, renamed, or whose type changed, while a downstream model (through column-level lineage:
  its projection, joins, filters, grouping) or an exposure uses it — the finding names every downstream
  column that breaks, transitively;
- a changed unique key or grain (`unique_key`, `meta.grain`, or dbt's inferred primary key).
On a contract-enforced model, any column change (and dropping the contract) is breaking, used or not.

Not breaking: added columns, and edits that leave every output column, its type and its lineage as they were
(formatting, comments, renamed CTEs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from framework.checks.config import RuleSettings
from framework.checks.lineage import ANY_COLUMN, Analysis, ColumnRef, OutputColumn, Shape, ShapeResolver
from framework.checks.manifest import Manifest, contract_enforced
from framework.checks.rule import CheckContext, Rule, line_of
from framework.checks.violations import Finding


@dataclass(frozen=True)
class DownstreamUse:
    """One place downstream that breaks: a column of a model, a clause of a model, or an exposure."""

    node_id: str
    name: str
    column: str | None = None  # the downstream output column built from the changed column
    clause: str | None = None  # or the clause that reads it (join, where, group, ...), or "exposure"
    depth: int = 1  # 1: reads the changed model directly; 2+: through other models

    def describe(self) -> str:
        if self.clause == "exposure":
            return f"exposure {self.name}"
        if self.column is not None:
            return f"{self.name}.{self.column}"
        return f"{self.name} ({self.clause})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "name": self.name,
            "column": self.column,
            "clause": self.clause,
            "depth": self.depth,
        }


@dataclass(frozen=True)
class ColumnChange:
    kind: str  # removed | renamed | type_changed
    column: str
    new_column: str | None = None
    old_type: str | None = None
    new_type: str | None = None

    def describe(self) -> str:
        if self.kind == "renamed":
            return f"column {self.column} renamed to {self.new_column}"
        if self.kind == "type_changed":
            return f"column {self.column} changed type {self.old_type} → {self.new_type}"
        return f"column {self.column} removed"


def grain_of(node: Mapping[str, Any]) -> tuple[str, ...]:
    """The model's declared grain: `unique_key`, else `meta.grain`, else dbt's inferred primary key."""
    config = node.get("config") or {}
    meta = {**(node.get("meta") or {}), **(config.get("meta") or {})}
    for value in (config.get("unique_key"), meta.get("grain"), node.get("primary_key")):
        if isinstance(value, str) and value.strip():
            return tuple(part.strip().lower() for part in value.split(","))
        if isinstance(value, list | tuple) and value:
            return tuple(sorted(str(part).strip().lower() for part in value))
    return ()


def canonical_code(node: Mapping[str, Any], manifest: Manifest) -> str | None:
    """Compiled SQL with its relation names replaced by unique ids: namespaces and targets compare equal."""
    code = node.get("compiled_code")
    if code is None:
        return None
    for parent_id in (node.get("depends_on") or {}).get("nodes") or ():
        relation = (manifest.get(parent_id) or {}).get("relation_name")
        if relation:
            code = code.replace(relation, f"<{parent_id}>")
    return str(code)


def _fingerprint(node: Mapping[str, Any], manifest: Manifest) -> tuple[Any, ...]:
    config = node.get("config") or {}
    columns = {name: column.get("data_type") for name, column in (node.get("columns") or {}).items()}
    code = canonical_code(node, manifest)
    return (
        code if code is not None else (node.get("checksum") or {}).get("checksum"),
        sorted(columns.items()),
        grain_of(node),
        contract_enforced(node),
        config.get("materialized"),
    )


def column_type(column: OutputColumn, other: OutputColumn) -> tuple[str | None, str | None]:
    """The two types to compare: declared on both sides if both declare, else inferred on both sides."""
    if column.declared_type and other.declared_type:
        return column.declared_type, other.declared_type
    return column.inferred_type, other.inferred_type


def diff_columns(old: Mapping[str, OutputColumn], new: Mapping[str, OutputColumn]) -> list[ColumnChange]:
    removed = [name for name in old if name not in new]
    added = [name for name in new if name not in old]
    changes: list[ColumnChange] = []
    for name in removed:
        # A rename keeps what the column is built from (and its expression); it only changes the name.
        same = [
            candidate
            for candidate in added
            if (old[name].sources and new[candidate].sources == old[name].sources)
            or (old[name].expression and new[candidate].expression == old[name].expression)
        ]
        if len(same) == 1:
            changes.append(ColumnChange("renamed", name, new_column=same[0]))
            added.remove(same[0])
        else:
            changes.append(ColumnChange("removed", name))
    for name, column in old.items():
        if name not in new:
            continue
        old_type, new_type = column_type(column, new[name])
        if old_type and new_type and old_type != new_type:
            changes.append(ColumnChange("type_changed", name, old_type=old_type, new_type=new_type))
    return changes


class BreakingChanges(Rule):
    name = "breaking_changes"
    description = "no removed, renamed or retyped model, column or grain that something downstream reads"
    needs_baseline = True

    def check(self, context: CheckContext, settings: RuleSettings) -> Iterator[Finding]:
        assert context.baseline is not None
        yield from _Comparison(context).findings()


class _Comparison:
    """Baseline against current for one run; lineage and analyses are computed once and shared."""

    def __init__(self, context: CheckContext) -> None:
        assert context.baseline is not None
        self.context = context
        self.current = context.manifest
        self.baseline: Manifest = context.baseline
        self.current_shapes = ShapeResolver(
            self.current, context.dialect, lambda node: context.parsed_or_none(node, self.current)
        )
        self.baseline_shapes = ShapeResolver(
            self.baseline,
            context.dialect_of(self.baseline),
            lambda node: context.parsed_or_none(node, self.baseline),
        )
        self._consumer_analyses: dict[str, Analysis | None] = {}
        self.unresolved: list[str] = []  # changed models whose columns could not be resolved

    def findings(self) -> Iterator[Finding]:
        yield from self.removed_models()
        for unique_id, node in self.context.models():
            old = self.baseline.models.get(unique_id)
            if old is None or _fingerprint(old, self.baseline) == _fingerprint(node, self.current):
                continue
            yield from self.column_findings(unique_id, old, node)
            yield from self.grain_findings(unique_id, old, node)
        if self.unresolved:
            # Silence would read as "no breaking change": say which changed models were not compared.
            names = ", ".join(sorted(self.unresolved)[:5]) + (" ..." if len(self.unresolved) > 5 else "")
            self.context.notes.append(
                f"breaking_changes could not resolve the columns of {len(self.unresolved)} changed model(s) "
                f"({names}), so their column changes were not compared: declare the columns of the sources "
                "they read (or enforce a contract)"
            )

    # --- models ----------------------------------------------------------------------------------------------

    def removed_models(self) -> Iterator[Finding]:
        current_checksums = {
            (node.get("checksum") or {}).get("checksum"): unique_id
            for unique_id, node in self.current.models.items()
            if unique_id not in self.baseline.models
        }
        for unique_id, old in sorted(self.baseline.models.items()):
            if unique_id in self.current.models:
                continue
            dangling = (
                list(self.current.graph.successors(unique_id)) if unique_id in self.current.graph else []
            )
            exposures = [
                child
                for child in self.baseline.consumers(unique_id)
                if (self.baseline.get(child) or {}).get("resource_type") == "exposure"
            ]
            readers = [self._reader(child, self.current) for child in dangling]
            readers += [self._reader(child, self.baseline) for child in exposures]
            if old.get("access") == "public":
                readers.append("other projects (access: public)")
            if not readers:
                continue
            renamed_to = current_checksums.get((old.get("checksum") or {}).get("checksum"))
            if renamed_to:
                new = self.current.models[renamed_to]
                what = f"model {old['name']} was renamed to {new['name']}"
                path, line = self.context.node_path(new), 1
                node_id = renamed_to
            else:
                what = f"model {old['name']} was removed"
                path, line = self.context.display_path(old.get("original_file_path")), None
                node_id = unique_id
            yield Finding(
                node_id,
                f"{what} while read by {', '.join(readers)}",
                path=path,
                line=line,
                details={"change": "model_renamed" if renamed_to else "model_removed", "readers": readers},
            )

    # --- columns ---------------------------------------------------------------------------------------------

    def column_findings(
        self, unique_id: str, old: Mapping[str, Any], node: Mapping[str, Any]
    ) -> Iterator[Finding]:
        contracted = contract_enforced(old)
        if contracted and not contract_enforced(node):
            yield Finding(
                unique_id,
                "contract is no longer enforced on this model: its consumers lose the guarantee of its columns",
                line=line_of(node.get("raw_code") or "", r"contract") or None,
                details={"change": "contract_dropped"},
            )
        old_shape: Shape = self.baseline_shapes.shape(unique_id)
        new_shape: Shape = self.current_shapes.shape(unique_id)
        if old_shape.columns is None or new_shape.columns is None:
            self.unresolved.append(str(node.get("name", unique_id)))
            return
        for change in diff_columns(old_shape.columns, new_shape.columns):
            uses = self.downstream_uses(unique_id, change.column)
            if not uses and not contracted:
                continue
            if uses:
                consequence = "breaks " + ", ".join(use.describe() for use in uses)
            else:
                consequence = "the model's contract is enforced"
            yield Finding(
                unique_id,
                f"{change.describe()}: {consequence}",
                line=self._column_line(node, change.new_column or change.column),
                details={
                    "change": change.kind,
                    "column": change.column,
                    "new_column": change.new_column,
                    "old_type": change.old_type,
                    "new_type": change.new_type,
                    "contract": contracted,
                    "downstream": [use.to_dict() for use in uses],
                },
            )

    def grain_findings(
        self, unique_id: str, old: Mapping[str, Any], node: Mapping[str, Any]
    ) -> Iterator[Finding]:
        old_grain, new_grain = grain_of(old), grain_of(node)
        if not old_grain or old_grain == new_grain:
            return
        readers = [self._reader(child, self.current) for child in self.current.consumers(unique_id)]
        if not readers and not contract_enforced(old):
            return
        new = f"({', '.join(new_grain)})" if new_grain else "nothing"
        yield Finding(
            unique_id,
            f"grain (unique key) changed from ({', '.join(old_grain)}) to {new} while read by "
            f"{', '.join(readers) or 'contract consumers'}: rows per key change for every reader",
            line=line_of(node.get("raw_code") or "", r"unique_key") or None,
            details={
                "change": "grain_changed",
                "old": list(old_grain),
                "new": list(new_grain),
                "readers": readers,
            },
        )

    def downstream_uses(self, unique_id: str, column: str) -> list[DownstreamUse]:
        """Every downstream column and clause built on `unique_id.column`, following lineage transitively."""
        uses: list[DownstreamUse] = []
        seen: set[tuple[str, str | None, str | None]] = set()
        frontier: list[tuple[str, set[str], int]] = [(unique_id, {column}, 1)]
        while frontier:
            parent_id, broken, depth = frontier.pop(0)
            for child_id in self.current.consumers(parent_id):
                child = self.current.get(child_id) or {}
                name = str(child.get("name", child_id))
                if child.get("resource_type") == "exposure":
                    candidates = [DownstreamUse(child_id, name, clause="exposure", depth=depth)]
                    frontier_columns: set[str] = set()
                else:
                    candidates, frontier_columns = self._child_uses(child_id, name, parent_id, broken, depth)
                for use in candidates:
                    key = (use.node_id, use.column, use.clause)
                    if key not in seen:
                        seen.add(key)
                        uses.append(use)
                if frontier_columns:
                    frontier.append((child_id, frontier_columns, depth + 1))
        return uses

    def _child_uses(
        self, child_id: str, name: str, parent_id: str, broken: set[str], depth: int
    ) -> tuple[list[DownstreamUse], set[str]]:
        analysis = self._consumer_analysis(child_id)
        if analysis is None:
            return [DownstreamUse(child_id, name, clause="lineage not traceable", depth=depth)], set()

        def hits(refs: frozenset[ColumnRef] | set[ColumnRef]) -> bool:
            return any(ref[0] == parent_id and (ref[1] in broken or ref[1] == ANY_COLUMN) for ref in refs)

        uses: list[DownstreamUse] = []
        broken_outputs = {output for output, refs in analysis.outputs.items() if hits(refs)}
        uses += [
            DownstreamUse(child_id, name, column=output, depth=depth) for output in sorted(broken_outputs)
        ]
        clauses = sorted(
            {clause for ref, found in analysis.clause_uses.items() if hits({ref}) for clause in found}
        )
        uses += [DownstreamUse(child_id, name, clause=clause, depth=depth) for clause in clauses]
        return uses, broken_outputs

    def _consumer_analysis(self, child_id: str) -> Analysis | None:
        """The consumer's current SQL read against its parents as they were: what it expects to find."""
        if child_id not in self._consumer_analyses:
            child = self.current.get(child_id) or {}

            def parent_shape(parent_id: str) -> Shape:
                if self.baseline.get(parent_id) is not None:
                    return self.baseline_shapes.shape(parent_id)
                return self.current_shapes.shape(parent_id)

            self._consumer_analyses[child_id] = self.current_shapes.analyse(child, parent_shape)
        return self._consumer_analyses[child_id]

    # --- helpers ---------------------------------------------------------------------------------------------

    @staticmethod
    def _reader(unique_id: str, manifest: Manifest) -> str:
        node = manifest.get(unique_id) or {}
        name = str(node.get("name", unique_id))
        kind = node.get("resource_type")
        return name if kind in ("model", None) else f"{kind} {name}"

    @staticmethod
    def _column_line(node: Mapping[str, Any], column: str) -> int | None:
        raw = node.get("raw_code") or ""
        return line_of(raw, rf"\bas\s+[\"`]?{re.escape(column)}[\"`]?\b") or line_of(
            raw, rf"\b{re.escape(column)}\b"
        )
