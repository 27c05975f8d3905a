"""The manifest a backfill plans from, and when the last one can be reused without starting dbt.

Planning needs what dbt's parse knows (raw SQL, config, refs, relation names), never compiled SQL, whose
incremental branches depend on the warehouse. So a backfill parses with dbt in its own target folder (partial
parsing; the parsed manifest object then serves every batch) and keeps the result with a key over what
decides a parse: the project's files (the compile cache's scanner: path, mtime, size), project, profiles,
target, namespace, installed dbt versions and the OVERCLOCK_* / DBT_* environment. Same key next time: the
kept manifest is used as is and dbt is not even imported — a backfill with nothing to do takes well under a
second.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framework.backfill.models import BackfillError

if TYPE_CHECKING:
    from framework.config import Settings

# Paths of Overclock's own state and logs: where they are does not change what dbt parses.
_IGNORED_ENVIRONMENT = frozenset({"DBT_TARGET_PATH", "DBT_LOG_PATH", "OVERCLOCK_HOME", "OVERCLOCK_DEBUG"})


def parse_key(settings: Settings) -> str:
    from framework.compile import fingerprints, scanner

    layout = scanner.ProjectLayout.read(settings.project.project_dir, settings.project.profiles_dir)
    environment = {**os.environ, **settings.dbt_env()}
    payload = {
        "files": scanner.scan_stats(layout),
        "project": str(settings.project.project_dir),
        "profiles": str(settings.project.profiles_dir),
        "target": settings.target.name,
        "namespace": [settings.namespace.name, settings.namespace.is_production],
        "versions": fingerprints.installed_versions(settings.target.engine),
        "environment": {
            name: value
            for name, value in sorted(environment.items())
            if name.startswith(("OVERCLOCK_", "DBT_")) and name not in _IGNORED_ENVIRONMENT
        },
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass
class ProjectManifest:
    data: dict[str, Any]  # manifest.json
    parsed: Any = None  # dbt's Manifest object, when this process parsed it (batches reuse it)


def load_manifest(settings: Settings) -> ProjectManifest:
    """The project's manifest as dbt parses it now: the kept one if nothing changed, else a fresh parse."""
    from framework.backfill.executor import backfill_settings
    from framework.dbt import DbtError, parse_manifest

    folder = settings.project.home / "backfill"
    # One kept manifest per project, target and namespace: relation names differ between them.
    setup = "\0".join([str(settings.project.project_dir), settings.target.name, settings.namespace.name])
    name = hashlib.sha256(setup.encode()).hexdigest()[:12]
    kept, kept_key = folder / f"manifest-{name}.json", folder / f"manifest-{name}.key"
    key = parse_key(settings)  # before parsing: a file edited meanwhile makes the next key differ
    if kept.exists() and kept_key.exists() and kept_key.read_text() == key:
        return ProjectManifest(_read(kept))
    dbt_settings = backfill_settings(settings)
    try:
        parsed = parse_manifest(dbt_settings)
    except DbtError as exc:
        raise BackfillError(f"the project does not parse: {exc}") from None
    written = dbt_settings.project.target_path / "manifest.json"
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(kept, written.read_bytes())
    _write_atomically(kept_key, key.encode())
    return ProjectManifest(_read(kept), parsed)


def _read(path: Path) -> dict[str, Any]:
    import orjson

    data: dict[str, Any] = orjson.loads(path.read_bytes())
    return data


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
