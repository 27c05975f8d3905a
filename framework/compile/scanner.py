"""The project scanner: which files make up a dbt project, their stats and hashes, and what they declare.

Paths are relative to the project folder, written as dbt writes `original_file_path` (a project whose
`model-paths` is `../models` has files like `../models/staging/x.sql`).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Files at the project root that shape the whole parse.
PROJECT_FILES = ("dbt_project.yml", "packages.yml", "dependencies.yml", "package-lock.yml")
SCANNED_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".md", ".py", ".jinja", ".sqlx")
PATH_KEYS = {
    "model-paths": ["models"],
    "macro-paths": ["macros"],
    "test-paths": ["tests"],
    "analysis-paths": ["analyses"],
    "snapshot-paths": ["snapshots"],
    "seed-paths": ["seeds"],
    "docs-paths": [],
}
_ENV_VAR_LITERAL = re.compile(r"""env_var\(\s*['"]([^'"]+)['"]""")
_ENV_VAR_ANY = re.compile(r"env_var\(")
_VAR_CALL = re.compile(r"(?<![\w.])var\(")


@dataclass
class ProjectLayout:
    """What dbt_project.yml says about where things are and the vars it defines."""

    project_dir: Path
    profiles_file: Path
    paths: dict[str, list[str]]
    project_vars: dict[str, Any]
    dispatch: dict[str, list[str]]
    name: str

    @classmethod
    def read(cls, project_dir: Path, profiles_dir: Path) -> ProjectLayout:
        import yaml

        text = (project_dir / "dbt_project.yml").read_text()
        data = yaml.safe_load(text) or {}
        paths = {key: list(data.get(key) or default) for key, default in PATH_KEYS.items()}
        if not paths["docs-paths"]:
            paths["docs-paths"] = sorted(
                {
                    p
                    for key in (
                        "model-paths",
                        "seed-paths",
                        "test-paths",
                        "analysis-paths",
                        "macro-paths",
                        "snapshot-paths",
                    )
                    for p in paths[key]
                }
            )
        dispatch = {
            str(entry["macro_namespace"]): list(entry.get("search_order") or [])
            for entry in data.get("dispatch") or []
            if isinstance(entry, dict) and "macro_namespace" in entry
        }
        return cls(
            project_dir=project_dir,
            profiles_file=profiles_dir / "profiles.yml",
            paths=paths,
            project_vars=dict(data.get("vars") or {}),
            dispatch=dispatch,
            name=str(data.get("name")),
        )

    def kind_of(self, relative: str) -> str:
        """model | macro | yml | project | other: what a change to this file can affect."""
        if relative in PROJECT_FILES or relative == "profiles.yml":
            return "project"
        if relative.endswith((".yml", ".yaml")):
            return "yml"
        for key, kind in (("macro-paths", "macro"), ("model-paths", "model")):
            for root in self.paths[key]:
                if relative.startswith(os.path.normpath(root) + os.sep) and relative.endswith(".sql"):
                    return kind
        return "other"


def scan_stats(layout: ProjectLayout) -> dict[str, list[int]]:
    """relative path -> [mtime_ns, size] of every file dbt would read."""
    stats: dict[str, list[int]] = {}
    project_dir = layout.project_dir
    for name in PROJECT_FILES:
        path = project_dir / name
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        stats[name] = [info.st_mtime_ns, info.st_size]
    try:
        info = layout.profiles_file.stat()
        stats["profiles.yml"] = [info.st_mtime_ns, info.st_size]
    except FileNotFoundError:
        pass
    roots = sorted({os.path.normpath(p) for paths in layout.paths.values() for p in paths})
    for root in roots:
        _walk(project_dir, root, stats)
    return stats


def _walk(project_dir: Path, relative_root: str, stats: dict[str, list[int]]) -> None:
    stack = [relative_root]
    while stack:
        relative = stack.pop()
        try:
            entries = os.scandir(project_dir / relative)
        except (FileNotFoundError, NotADirectoryError):
            continue
        with entries:
            for entry in entries:
                child = os.path.join(relative, entry.name)
                if entry.is_dir(follow_symlinks=True):
                    if not entry.name.startswith("."):
                        stack.append(child)
                elif entry.name.endswith(SCANNED_SUFFIXES):
                    info = entry.stat()
                    stats[child] = [info.st_mtime_ns, info.st_size]


def file_path(layout: ProjectLayout, relative: str) -> Path:
    return layout.profiles_file if relative == "profiles.yml" else layout.project_dir / relative


def hash_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class ProjectText:
    """What the raw text of the dbt-rendered files (yml, dbt_project.yml, profiles.yml) reads from outside."""

    env_names: set[str] = field(default_factory=set)
    dynamic_env: bool = False  # an env_var() whose name is not a literal: watch the whole environment
    yml_reads_vars: bool = False  # a var() in a file dbt renders itself: a var change needs dbt's parse


def scan_text(layout: ProjectLayout, relatives: list[str]) -> ProjectText:
    found = ProjectText()
    for relative in relatives:
        try:
            text = file_path(layout, relative).read_text(errors="replace")
        except OSError:
            continue
        names = _ENV_VAR_LITERAL.findall(text)
        found.env_names.update(names)
        if len(_ENV_VAR_ANY.findall(text)) > len(names):
            found.dynamic_env = True
        if relative.endswith((".yml", ".yaml")) and relative != "profiles.yml" and _VAR_CALL.search(text):
            found.yml_reads_vars = True
    return found


def node_checksum(text: str) -> str:
    """dbt's file checksum: sha256 of the stripped contents."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def extract_macros(text: str) -> dict[str, str] | None:
    """name -> macro_sql of every `{% macro %}` (and `{% test %}`/materialization) block, as dbt extracts them.

    Returns None when the file holds something we do not re-state (docs blocks, parse errors): the caller
    then lets dbt parse it.
    """
    from dbt_common.clients.jinja import extract_toplevel_blocks, get_environment

    try:
        blocks = [
            block
            for block in extract_toplevel_blocks(
                text, allowed_blocks={"macro", "materialization", "test", "data_test"}, collect_raw_data=False
            )
            if hasattr(block, "full_block")
        ]
    except Exception:
        return None
    import jinja2.nodes

    macros: dict[str, str] = {}
    environment = get_environment()
    for block in blocks:
        try:
            ast = environment.parse(str(block.full_block))
        except Exception:
            return None
        nodes = list(ast.find_all(jinja2.nodes.Macro))
        if len(nodes) != 1:
            return None
        name = str(nodes[0].name)
        if not name.startswith("dbt_macro__"):
            continue
        macros[name[len("dbt_macro__") :]] = str(block.full_block)
    return macros
