"""Every library the `framework` package and the `plugins` import is installed by `pip install overclock` itself.

The dev extras pull in more than a user's install does (dagster-dbt brings orjson, for one), so a missing
dependency would pass the rest of the suite and fail for the user. Drivers of the optional engines belong to
their extras and may only be imported inside functions, where the engine is used.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
OPTIONAL_MODULES = {"psycopg2": "postgres", "google": "bigquery"}


def installed_without_extras(distribution: str) -> set[str]:
    """The distribution and everything its requirements (without extras) install, by canonical name."""
    seen: set[str] = set()
    pending = [distribution]
    while pending:
        name = canonicalize_name(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return seen


def third_party_imports() -> dict[str, bool]:
    """Top-level module -> whether some file imports it at module level (not inside a function)."""
    found: dict[str, bool] = {}
    for path in [*(REPO_ROOT / "framework").rglob("*.py"), *(REPO_ROOT / "plugins").rglob("*.py")]:
        tree = ast.parse(path.read_text())
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                module = name.split(".")[0]
                if module not in sys.stdlib_module_names and module not in ("framework", "plugins"):
                    found[module] = found.get(module, False) or id(node) in top_level
    return found


def test_every_imported_library_is_a_declared_dependency() -> None:
    installed = installed_without_extras("overclock")
    providers = metadata.packages_distributions()
    imports = third_party_imports()
    assert "dbt" in imports and "orjson" in imports  # the scan sees what it must
    missing = {
        module
        for module in imports
        if module not in OPTIONAL_MODULES
        and not {canonicalize_name(name) for name in providers.get(module, [])} & installed
    }
    assert not missing, (
        f"imported by framework/ or plugins/ but not installed by `pip install overclock`: {missing}"
    )


def test_optional_engine_drivers_are_imported_only_where_used() -> None:
    imports = third_party_imports()
    at_module_level = sorted(module for module in OPTIONAL_MODULES if imports.get(module))
    assert not at_module_level, f"imported at module level, so a plain install fails: {at_module_level}"
