"""Partial DAG compilation: fingerprints, content-addressed cache, fast renderer, artifact writer.

The entry point other parts of Overclock use is `ensure_compiled_manifest(settings, select=None)`: it returns
the path of an up-to-date `target/manifest.json` in which every node carries its `compiled_code`, compiling
through the cache (see `compiler.py` for how).

Modules, one concept each: `scanner` (project files), `fingerprints`, `store` (the cache on disk), `state`
(the cached manifest, parsed lazily), `jinja_env` + `context` + `renderer` (the fast renderer), `verify`
(renderer vs dbt), `fallback` (dbt), `artifacts` (manifest.json and target/compiled), `compiler` (the
orchestration).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framework.compile.compiler import CompileError, CompileSummary, cache_root, compile_project

if TYPE_CHECKING:
    from framework.config import Settings

__all__ = [
    "CompileError",
    "CompileSummary",
    "cache_stats",
    "clear_cache",
    "compile_project",
    "ensure_compiled_manifest",
]


def ensure_compiled_manifest(
    settings: Settings, select: Sequence[str] | None = None, vars_text: str | None = None
) -> Path:
    """Bring `target/manifest.json` (with `compiled_code` for every node) up to date and return its path.

    Raises `CompileError` (with dbt's message: file and line) if the project does not compile.
    """
    return compile_project(settings, select=select, vars_text=vars_text).manifest_path


def cache_stats(settings: Settings) -> dict[str, Any]:
    from framework.compile.store import CacheStore

    stats = CacheStore(cache_root(settings)).stats()
    stats["path"] = str(cache_root(settings))
    return stats


def clear_cache(settings: Settings) -> int:
    from framework.compile.store import CacheStore

    return CacheStore(cache_root(settings)).clear()
