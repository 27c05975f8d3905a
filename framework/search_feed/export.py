"""Write the search feed's bulk batches as Elasticsearch `_bulk` NDJSON, one file set per destination.

Layout: `<out>/<cluster>/<index>/<batch_id>.ndjson`, each file the exact body of one `_bulk` request (an
action line, then a source line for `index`; `delete` has no source line), plus `<out>/manifest.json`
listing every batch with its size and sha256, so a sender can retry a batch by id and check it is the same
batch. The lines are rendered by the model `fct_search_index_actions` (which sizes the batches on their
exact bytes); this module checks the bytes it writes against the batch sizes the model recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from framework.config import Settings
    from framework.providers.base import Provider

ACTIONS_MODEL = "fct_search_index_actions"
BATCHES_MODEL = "fct_search_index_batches"
MARTS_SCHEMA = "marts"
MANIFEST_NAME = "manifest.json"
STAGING_NAME = ".partial"  # the new export is written here, then moved into place file by file
PENDING_NAME = "pending.json"  # in the staging folder while files move: what the move will leave behind


class SearchFeedError(Exception):
    """The feed cannot be exported; the message says what, where and what to do."""


@dataclass(frozen=True)
class ExportedBatch:
    batch_id: str
    cluster_name: str
    index_name: str
    tick_at: str
    path: Path
    documents: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class SearchFeedExport:
    out_dir: Path
    schema: str
    batches: tuple[ExportedBatch, ...]

    @property
    def documents(self) -> int:
        return sum(batch.documents for batch in self.batches)

    @property
    def bytes(self) -> int:
        return sum(batch.bytes for batch in self.batches)

    def per_destination(self) -> dict[tuple[str, str], tuple[int, int, int]]:
        """(cluster, index) -> (files, documents, bytes)."""
        totals: dict[tuple[str, str], tuple[int, int, int]] = {}
        for batch in self.batches:
            files, documents, size = totals.get((batch.cluster_name, batch.index_name), (0, 0, 0))
            totals[(batch.cluster_name, batch.index_name)] = (
                files + 1,
                documents + batch.documents,
                size + batch.bytes,
            )
        return totals


def candidate_schemas(settings: Settings) -> list[str]:
    """Where this invocation's marts live: `marts` in production, the namespace's marts schema otherwise."""
    if settings.namespace.is_production:
        return [MARTS_SCHEMA]
    # `<namespace>__marts` is the namespace convention (macros/generate_schema_name.sql); the single
    # underscore form is what earlier versions of the macro produced.
    return [f"{settings.namespace.name}__{MARTS_SCHEMA}", f"{settings.namespace.name}_{MARTS_SCHEMA}"]


def _open_provider(settings: Settings) -> Provider:
    from framework.providers import UnsupportedEngineError, provider_for

    if settings.target.engine == "duckdb":
        # Read-only, and never create an empty warehouse file when there is none: DuckDB would.
        if not settings.duckdb_path.is_file():
            raise SearchFeedError(
                f"no warehouse at {settings.duckdb_path}: build the feed first with "
                f"`overclock build -s +{BATCHES_MODEL}` (same --target/--namespace/--prod)"
            )
        from framework.providers.duckdb import DuckDBProvider

        return DuckDBProvider(settings, read_only=True)
    try:
        return provider_for(settings)
    except UnsupportedEngineError as exc:
        raise SearchFeedError(str(exc)) from exc


def _tables_by_schema(provider: Provider) -> dict[str, set[str]]:
    import sqlglot.expressions as exp

    query = (
        exp.select("table_schema", "table_name")
        .from_(exp.table_("tables", db="information_schema"))
        .where(exp.column("table_name").isin(ACTIONS_MODEL, BATCHES_MODEL))
    )
    found: dict[str, set[str]] = {}
    for schema, table in provider.query(provider.render(query)):
        found.setdefault(str(schema), set()).add(str(table))
    return found


def locate_marts(provider: Provider, settings: Settings) -> str:
    """The schema holding both feed marts for these settings, or a SearchFeedError saying where they are."""
    found = _tables_by_schema(provider)
    for schema in candidate_schemas(settings):
        if {ACTIONS_MODEL, BATCHES_MODEL} <= found.get(schema, set()):
            return schema
    wanted = candidate_schemas(settings)[0]
    where = f"schema {wanted} of the {settings.target.name} target"
    elsewhere = sorted(schema for schema, tables in found.items() if ACTIONS_MODEL in tables)
    hint = (
        f" (it is built in: {', '.join(elsewhere)}; pass the matching --namespace or --prod)"
        if elsewhere
        else ""
    )
    raise SearchFeedError(
        f"the search feed marts ({ACTIONS_MODEL}, {BATCHES_MODEL}) are not built in {where}{hint}: "
        f"run `overclock build -s +{BATCHES_MODEL}` first"
    )


def _select_actions(provider: Provider, schema: str) -> str:
    import sqlglot.expressions as exp

    query = (
        exp.select(
            "cluster_name",
            "index_name",
            "batch_id",
            exp.cast(exp.column("tick_at"), "varchar").as_("tick_at"),
            "action_line",
            "source_line",
        )
        .from_(exp.table_(ACTIONS_MODEL, db=schema))
        .order_by("cluster_name", "index_name", "tick_at", "batch_number", "position_in_batch")
    )
    return provider.render(query)


def _select_batch_sizes(provider: Provider, schema: str) -> str:
    import sqlglot.expressions as exp

    query = exp.select("batch_id", "document_count", "byte_count").from_(exp.table_(BATCHES_MODEL, db=schema))
    return provider.render(query)


def _safe_component(name: str, what: str) -> str:
    """Cluster and index names become folder names: refuse anything that could escape the output folder."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise SearchFeedError(f"{what} {name!r} cannot be a folder name: fix the cluster layout data")
    return name


def _files_of_earlier_exports(out_dir: Path) -> set[Path]:
    """Check that `out_dir` can take an export and return the files earlier exports wrote there.

    Only those files are ever replaced or deleted: anything else in the folder is left alone. An export
    interrupted while moving its files into place left its record in the staging folder; its files count too.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise SearchFeedError(f"--out {out_dir} is a file: pass a folder")
    if not out_dir.is_dir():
        return set()
    manifest = out_dir / MANIFEST_NAME
    pending = out_dir / STAGING_NAME / PENDING_NAME
    if not manifest.is_file() and not pending.is_file():
        if any(child.name != STAGING_NAME for child in out_dir.iterdir()):
            raise SearchFeedError(
                f"--out {out_dir} is not empty and holds no earlier search-feed export: pass an empty or new folder"
            )
        return set()
    files: set[Path] = set()
    for record in (manifest, pending):
        if not record.is_file():
            continue
        try:
            data = json.loads(record.read_text())
            names = [entry["file"] for entry in data["batches"]] + list(data.get("earlier_files", []))
        except (ValueError, KeyError, TypeError) as exc:
            raise SearchFeedError(
                f"{record} is not a search-feed manifest ({exc}): pass another --out"
            ) from exc
        for name in names:
            path = (out_dir / name).resolve()
            if not path.is_relative_to(out_dir):
                raise SearchFeedError(f"{record} lists {name!r}, outside {out_dir}: pass another --out")
            files.add(path)
    return files


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _remove_earlier_files(out_dir: Path, files: set[Path]) -> None:
    """Delete the earlier export's files the new one did not replace, and the folders that leaves empty."""
    folders: set[Path] = set()
    for path in files:
        path.unlink(missing_ok=True)
        folders.update(
            parent for parent in path.parents if parent.is_relative_to(out_dir) and parent != out_dir
        )
    for folder in sorted(folders, key=lambda p: -len(p.parts)):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _batches(
    rows: Sequence[tuple[Any, ...]],
) -> Iterator[tuple[tuple[str, str, str, str], list[tuple[Any, ...]]]]:
    """Group the ordered action rows by (cluster, index, batch, tick)."""
    current: tuple[str, str, str, str] | None = None
    group: list[tuple[Any, ...]] = []
    for row in rows:
        key = (str(row[0]), str(row[1]), str(row[2]), str(row[3]))
        if key != current:
            if current is not None:
                yield current, group
            current, group = key, []
        group.append(row)
    if current is not None:
        yield current, group


def _manifest(schema: str, out: Path, written: Sequence[ExportedBatch]) -> dict[str, Any]:
    return {
        "schema": schema,
        "batches": [
            {
                "batch_id": batch.batch_id,
                "cluster": batch.cluster_name,
                "index": batch.index_name,
                "tick_at": batch.tick_at,
                "file": batch.path.relative_to(out).as_posix(),
                "documents": batch.documents,
                "bytes": batch.bytes,
                "sha256": batch.sha256,
            }
            for batch in written
        ],
    }


def export_search_feed(settings: Settings, out_dir: str | Path) -> SearchFeedExport:
    """Write every batch of the built feed under `out_dir`; see the module docstring for the layout."""
    out = Path(out_dir).resolve()
    with _open_provider(settings) as provider:
        schema = locate_marts(provider, settings)
        rows = provider.query(_select_actions(provider, schema))
        expected = {
            str(batch_id): (int(documents), int(size))
            for batch_id, documents, size in provider.query(_select_batch_sizes(provider, schema))
        }
    earlier = _files_of_earlier_exports(out)  # refuses a foreign folder before anything is written
    out.mkdir(parents=True, exist_ok=True)
    written: list[ExportedBatch] = []
    staging = out / STAGING_NAME
    # An interrupted export's staged files are disposable; its pending record (the files it had started to
    # move into place) stays until this export's own record, which carries those files on, replaces it.
    if staging.is_dir():
        for child in staging.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            elif child.name != PENDING_NAME:
                child.unlink()
    staging.mkdir(exist_ok=True)
    try:
        for (cluster, index, batch_id, tick_at), actions in _batches(rows):
            body = bytearray()
            for _cluster, _index, _batch, _tick, action_line, source_line in actions:
                body += str(action_line).encode("utf-8") + b"\n"
                if source_line is not None:
                    body += str(source_line).encode("utf-8") + b"\n"
            if expected.get(batch_id) != (len(actions), len(body)):
                raise SearchFeedError(
                    f"batch {batch_id} has {len(actions)} actions and {len(body)} bytes but {BATCHES_MODEL} "
                    f"says {expected.get(batch_id)}: rebuild the feed (`overclock build -s +{BATCHES_MODEL}`)"
                )
            relative = (
                Path(_safe_component(cluster, "cluster"))
                / _safe_component(index, "index")
                / f"{batch_id}.ndjson"
            )
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bytes(body))
            written.append(
                ExportedBatch(
                    batch_id=batch_id,
                    cluster_name=cluster,
                    index_name=index,
                    tick_at=tick_at,
                    path=out / relative,
                    documents=len(actions),
                    bytes=len(body),
                    sha256=hashlib.sha256(body).hexdigest(),
                )
            )
        missing = set(expected) - {batch.batch_id for batch in written}
        if missing:
            raise SearchFeedError(
                f"{len(missing)} batch(es) of {BATCHES_MODEL} have no actions (e.g. {min(missing)}): "
                f"rebuild the feed (`overclock build -s +{BATCHES_MODEL}`)"
            )
        manifest = _manifest(schema, out, written)
        # Every batch checked out: move the files into place one by one (each move replaces an earlier
        # export's file of the same batch atomically; nobody else's file is touched), then the manifest.
        left_behind = earlier - {batch.path for batch in written}
        pending = {
            **manifest,
            "earlier_files": sorted(path.relative_to(out).as_posix() for path in left_behind),
        }
        _write_atomically(staging / PENDING_NAME, json.dumps(pending))
        for batch in written:
            batch.path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / batch.path.relative_to(out), batch.path)
        _write_atomically(out / MANIFEST_NAME, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        _remove_earlier_files(out, left_behind)
        shutil.rmtree(staging)
    except OSError as exc:
        raise SearchFeedError(f"cannot write the export under {out}: {exc}") from exc
    finally:
        if not (staging / PENDING_NAME).is_file():  # nothing moved yet: the staged files are disposable
            shutil.rmtree(staging, ignore_errors=True)
    return SearchFeedExport(out_dir=out, schema=schema, batches=tuple(written))
