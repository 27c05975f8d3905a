"""What a rule is, and the context every rule reads: the manifest, its DAG, the config, parsed SQL, locations.

A rule — built in or from a plugin — is a subclass of `Rule` with a `name`, a one-line `description`, a
`default_severity`, and a `check(context, settings)` that yields `Finding`s. The runner applies severity and
exceptions, so a rule only says what is wrong and where.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from framework.checks.config import CheckConfig, RuleSettings
from framework.checks.manifest import Manifest
from framework.checks.sql import SqlError, SqlSyntaxError, VerdictCache, dialect_for, parse_statement
from framework.checks.violations import Finding, Severity

if TYPE_CHECKING:
    from sqlglot import exp


class Rule:
    """Subclass, set the class attributes, implement `check`. Register in `RULES` or as an entry point."""

    name: ClassVar[str]
    description: ClassVar[str]
    default_severity: ClassVar[Severity] = "error"
    needs_baseline: ClassVar[bool] = False  # skipped (not failed) when no baseline manifest is given

    def check(self, context: CheckContext, settings: RuleSettings) -> Iterable[Finding]:
        raise NotImplementedError


class CheckContext:
    """The inputs of one check run, with the lookups and caches the rules share."""

    def __init__(
        self,
        manifest: Manifest,
        config: CheckConfig | None = None,
        dialect: str = "",
        project_dir: Path | None = None,
        baseline: Manifest | None = None,
        selected: frozenset[str] | None = None,
        display_root: Path | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.manifest = manifest
        self.config = config or CheckConfig()
        self.dialect = dialect
        self.project_dir = project_dir
        self.baseline = baseline
        self.selected = selected
        self.display_root = display_root or Path.cwd()
        self.cache_dir = cache_dir  # where parse verdicts persist between runs (None: not at all)
        self._parsed: dict[tuple[int, str], exp.Expr | SqlError] = {}
        self.notes: list[str] = []  # what a rule could not look at, for the user (not a violation)

    # --- the models a run looks at ---------------------------------------------------------------------------

    def models(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """The root project's models that are selected, sorted by unique id."""
        return self.manifest.iter_models(self.selected)

    def layer_of(self, node: Mapping[str, Any]) -> str | None:
        """The first folder of the node's path that is a configured layer (staging, intermediate, marts)."""
        folders = (node.get("fqn") or [])[1:-1]
        for folder in folders:
            if folder in self.config.layers:
                return str(folder)
        return None

    def layer_rank(self, layer: str | None) -> int | None:
        return self.config.layers.index(layer) if layer in self.config.layers else None

    # --- locations -------------------------------------------------------------------------------------------

    def display_path(self, project_relative: str | None) -> str | None:
        """A project-relative path as the user sees it: relative to the working directory when inside it."""
        if not project_relative:
            return None
        if self.project_dir is None:
            return project_relative
        absolute = Path(os.path.normpath(self.project_dir / project_relative))
        try:
            return str(absolute.relative_to(self.display_root))
        except ValueError:
            return str(absolute)

    def node_path(self, node: Mapping[str, Any]) -> str | None:
        return self.display_path(node.get("original_file_path"))

    def yml_location(self, node: Mapping[str, Any]) -> tuple[str | None, int | None]:
        """Where the node is documented (its `- name:` line in a schema .yml), else its own file."""
        patch_path = node.get("patch_path")
        if patch_path and self.project_dir is not None:
            relative = patch_path.split("://", 1)[-1]
            line = line_of(
                self._read(relative), rf"^\s*-?\s*name:\s*['\"]?{re.escape(node['name'])}['\"]?\s*$"
            )
            return self.display_path(relative), line
        return self.node_path(node), 1

    def call_line(self, node: Mapping[str, Any], target: Mapping[str, Any]) -> int | None:
        """The line of the `ref(...)` or `source(...)` call in the node's raw code that reads `target`."""
        raw = node.get("raw_code") or ""
        name = re.escape(str(target.get("name")))
        if target.get("resource_type") == "source":
            pattern = (
                rf"source\s*\(\s*['\"]{re.escape(str(target.get('source_name')))}['\"]\s*,\s*['\"]{name}['\"]"
            )
        else:
            pattern = rf"ref\s*\((?:\s*['\"][^'\"]+['\"]\s*,)?\s*['\"]{name}['\"]"
        return line_of(raw, pattern)

    def _read(self, project_relative: str) -> str:
        if self.project_dir is None:
            return ""
        try:
            return (self.project_dir / project_relative).read_text()
        except OSError:
            return ""

    # --- parsed SQL ------------------------------------------------------------------------------------------

    def parse(self, node: Mapping[str, Any], manifest: Manifest | None = None) -> exp.Expr | SqlError:
        """The node's compiled SQL as a sqlglot tree, or why it does not parse. Cached per manifest."""
        manifest = manifest or self.manifest
        key = (id(manifest), str(node.get("unique_id")))
        cached = self._parsed.get(key)
        if cached is None:
            try:
                cached = parse_statement(node.get("compiled_code") or "", self.dialect_of(manifest))
            except SqlSyntaxError as exc:
                cached = exc.error
            self._parsed[key] = cached
        return cached

    def dialect_of(self, manifest: Manifest) -> str:
        """The run's dialect for its manifest; a baseline from another engine is read in its own."""
        if manifest is self.manifest or manifest.adapter_type == self.manifest.adapter_type:
            return self.dialect
        return dialect_for(manifest.adapter_type)

    def sql_errors(self, nodes: list[Mapping[str, Any]]) -> list[SqlError | None]:
        """Why each node's compiled SQL does not parse (None where it does), through the verdict cache."""
        cache = VerdictCache(self.cache_dir, self.dialect)
        return cache.verdicts([str(node.get("compiled_code") or "") for node in nodes])

    def parsed_or_none(self, node: Mapping[str, Any], manifest: Manifest | None = None) -> exp.Expr | None:
        if not node.get("compiled_code"):
            return None
        tree = self.parse(node, manifest)
        return None if isinstance(tree, SqlError) else tree


def line_of(text: str, pattern: str) -> int | None:
    """1-based line of the first match of `pattern` (multiline) in `text`, or None."""
    match = re.search(pattern, text, flags=re.MULTILINE | re.IGNORECASE)
    return text.count("\n", 0, match.start()) + 1 if match else None
