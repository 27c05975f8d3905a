"""The artifact writer: `target/manifest.json` with `compiled_code` for every compiled node, and
`target/compiled/<package>/<path>`, laid out exactly as `dbt compile` lays them out, so that dbt docs,
`state:` selection and dagster-dbt read them unchanged.
"""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from framework.compile.store import atomic_write

COMPILED_FIELDS = ("compiled_code", "compiled", "compiled_path", "extra_ctes_injected", "extra_ctes")


def compiled_relative_path(node: Mapping[str, Any]) -> str:
    """dbt's `get_target_write_path`, relative to `<target>/compiled`."""
    if os.path.basename(node["path"]) == os.path.basename(node["original_file_path"]):
        relative = node["original_file_path"]
    else:
        relative = os.path.join(node["original_file_path"], node["path"])
    return os.path.join(node["package_name"], relative)


def compiled_path(target_path: Path, node: Mapping[str, Any]) -> str:
    """dbt's `get_target_write_path(target_path, "compiled")`."""
    return os.path.join(str(target_path), "compiled", compiled_relative_path(node))


def strip_compiled(manifest: dict[str, Any]) -> None:
    """Drop compiled fields in place: the cache keeps SQL in its object store, not in the state."""
    for node in manifest["nodes"].values():
        for name in COMPILED_FIELDS:
            node.pop(name, None)


def _compiled_fields(path: str, code: str) -> bytes:
    import orjson

    return (
        b',"compiled_path":'
        + orjson.dumps(path)
        + b',"compiled":true,"compiled_code":'
        + orjson.dumps(code)
        + b',"extra_ctes_injected":true,"extra_ctes":[]}'
    )


def manifest_bytes(
    manifest: Mapping[str, Any],
    codes: Mapping[str, str],
    target_path: Path,
    relative_paths: Mapping[str, str],
) -> bytes:
    """manifest.json as dbt writes it, with `compiled_code` for every node in `codes`.

    Nodes are spliced in from their stored JSON text (see `state.LazyNodes`): only the compiled fields are
    serialised afresh.
    """
    import orjson

    prefix = os.path.join(str(target_path), "compiled", "")
    nodes = manifest["nodes"]
    text_of = getattr(nodes, "text", None)
    parts = []
    for unique_id in nodes:
        text = text_of(unique_id) if text_of is not None else orjson.dumps(nodes[unique_id])
        code = codes.get(unique_id)
        if code is not None:
            text = text[:-1] + _compiled_fields(prefix + relative_paths[unique_id], code)
        parts.append(orjson.dumps(unique_id) + b":" + text)
    now = datetime.datetime.now(datetime.UTC)
    metadata = {
        **manifest["metadata"],
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "invocation_id": str(uuid.uuid4()),
    }
    sections = [b'"metadata":' + orjson.dumps(metadata), b'"nodes":{' + b",".join(parts) + b"}"]
    for key, value in manifest.items():
        if key not in ("metadata", "nodes"):
            sections.append(orjson.dumps(key) + b":" + orjson.dumps(value))
    return b"{" + b",".join(sections) + b"}"


def write_manifest(target_path: Path, data: bytes) -> Path:
    path = target_path / "manifest.json"
    atomic_write(path, data)
    return path


def write_compiled_files(
    target_path: Path,
    codes: Mapping[str, str],
    relative_paths: Mapping[str, str],
    only: Iterable[str] | None = None,
) -> int:
    """Write `target/compiled/**` for `only` (default: every compiled node); return how many were written."""
    written = 0
    for unique_id in codes if only is None else only:
        code = codes.get(unique_id)
        if code is None:
            continue
        path = target_path / "compiled" / relative_paths[unique_id]
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if path.read_text() == code:
                continue
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        path.write_text(code)
        written += 1
    return written


def remove_compiled_files(target_path: Path, nodes: Iterable[Mapping[str, Any]]) -> None:
    for node in nodes:
        Path(compiled_path(target_path, node)).unlink(missing_ok=True)


def stat_of(path: Path) -> list[int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return [info.st_mtime_ns, info.st_size]
