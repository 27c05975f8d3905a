"""The cached compile: decide what changed, recompute only that, write dbt-compatible artifacts.

Four ways through, cheapest first:

1. unchanged — every file's stat, the inputs (vars, watched environment, target, versions) and the written
   manifest are as the head file recorded: nothing is loaded, nothing is written.
2. incremental — only model bodies, macro bodies, vars or environment variables changed: the fast renderer
   re-parses the changed models (refs, sources, `config()`), re-derives relation names, and re-renders every
   node whose fingerprint moved. No dbt.
3. refresh — the project's structure changed (a file added or removed, a .yml, dbt_project.yml, a macro added,
   a config the renderer does not re-derive): dbt parses (partial parsing keeps that to seconds), then only
   nodes whose fingerprint moved are rendered.
4. cold — no usable cache: `dbt compile`, then every node is rendered again by the fast renderer and compared
   byte for byte; a node that differs (or uses something the renderer does not reproduce) is marked to be
   compiled by dbt from then on.

In 2 and 3, a node the renderer cannot reproduce exactly is compiled by `dbt compile -s <those nodes>`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.compile import artifacts, fallback, fingerprints, scanner
from framework.compile import state as state_module
from framework.compile.store import CacheStore
from framework.compile.warehouse import WarehouseBusy
from framework.config import ConfigError, Settings, parse_vars

STATE_FORMAT = 2
# In-file config keys whose new value can be taken as is (they clobber; no merge rules apply).
SIMPLE_CONFIG_KEYS = frozenset(
    {
        "alias",
        "schema",
        "database",
        "materialized",
        "unique_key",
        "incremental_strategy",
        "on_schema_change",
        "full_refresh",
        "sql_header",
    }
)
NAME_KEYS = frozenset({"alias", "schema", "database"})


class CompileError(Exception):
    """The project does not compile (Jinja, YAML or reference error); the message says where."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Escalate(Exception):
    pass


@dataclass
class CompileSummary:
    mode: str  # unchanged | incremental | refresh | cold
    manifest_path: Path
    nodes: int = 0
    rendered: int = 0  # rendered by the fast renderer in this run
    dbt_compiled: int = 0  # compiled by dbt in this run
    reused: int = 0  # taken from the cache
    seconds: float = 0.0
    reason: str = ""  # why dbt was needed, if it was
    warnings: list[str] = field(default_factory=list)
    fallbacks: dict[str, str] = field(default_factory=dict)  # node -> why dbt compiles it
    changed_nodes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase


# --- inputs ------------------------------------------------------------------------------------------------


def cache_root(settings: Settings) -> Path:
    return settings.project.home / "compile-cache"


def setup_key(settings: Settings) -> str:
    parts = [
        str(settings.project.project_dir),
        str(settings.project.profiles_dir),
        settings.target.name,
        settings.namespace.name,
        str(settings.namespace.is_production),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def _render_profile_value(value: Any, environment: Mapping[str, str]) -> Any:
    """A profile field rendered as `framework.config` renders the target's, nested fields included."""
    from framework.config import ConfigError
    from framework.config import _render_profile_value as render

    if isinstance(value, dict):
        return {k: _render_profile_value(v, environment) for k, v in value.items()}
    try:
        return render(value, environment)
    except ConfigError as exc:
        raise CompileError(str(exc)) from exc


def target_context(settings: Settings, environment: Mapping[str, str]) -> dict[str, Any]:
    """The `target` variable: the profile output's rendered connection fields dbt exposes to templates."""
    output = {
        k: _render_profile_value(v, environment)
        for k, v in dict(settings.target.outputs[settings.target.name]).items()
    }
    adapter_type = str(output.get("type"))
    target: dict[str, Any] = {
        "type": adapter_type,
        "name": settings.target.name,
        "target_name": settings.target.name,
        "profile_name": settings.target.profile_name,
    }
    if "threads" in output:
        target["threads"] = int(output["threads"])
    if adapter_type == "duckdb":
        path = str(output.get("path") or ":memory:")
        target["path"] = path
        target["schema"] = output.get("schema", "main")
        target["database"] = output.get("database") or (
            "memory" if path in (":memory:", "") else Path(path).stem
        )
    elif adapter_type == "bigquery":
        target["schema"] = output.get("dataset") or output.get("schema")
        target["database"] = output.get("project") or output.get("database")
    else:
        target["schema"] = output.get("schema")
        target["database"] = output.get("dbname") or output.get("database")
    return target


@dataclass
class Inputs:
    settings: Settings
    layout: scanner.ProjectLayout
    environment: dict[str, str]
    cli_vars: dict[str, Any]
    vars_text: str | None
    setup: str
    versions: dict[str, str]
    _target: dict[str, Any] | None = None

    @property
    def target(self) -> dict[str, Any]:
        """The rendered `target` (only computed when something is rendered: it may need Jinja)."""
        if self._target is None:
            self._target = target_context(self.settings, self.environment)
        return self._target

    def hard_digest(self) -> str:
        """Inputs whose change invalidates everything (a cold build). The profile output is taken unrendered:
        the environment variables it reads are watched like every other."""
        output = dict(self.settings.target.outputs[self.settings.target.name])
        return fingerprints.digest(
            [STATE_FORMAT, self.versions, output, str(self.settings.project.project_dir)]
        )

    def watched_env(self, names: Sequence[str], dynamic: bool) -> dict[str, str | None]:
        chosen = set(names) | {k for k in self.environment if k.startswith(("OVERCLOCK_", "DBT_"))}
        chosen -= {"DBT_TARGET_PATH", "DBT_LOG_PATH", "OVERCLOCK_HOME", "OVERCLOCK_DEBUG"}
        if dynamic:
            chosen |= set(self.environment)
        return {name: self.environment.get(name) for name in sorted(chosen)}


def resolve_inputs(settings: Settings, vars_text: str | None) -> Inputs:
    environment = {**os.environ, **settings.dbt_env()}
    try:
        cli_vars = parse_vars(vars_text)
    except ConfigError as exc:
        raise CompileError(str(exc), exit_code=2) from None
    layout = scanner.ProjectLayout.read(settings.project.project_dir, settings.project.profiles_dir)
    adapter_type = settings.target.outputs[settings.target.name].get("type")
    return Inputs(
        settings=settings,
        layout=layout,
        environment=environment,
        cli_vars=cli_vars,
        vars_text=vars_text,
        setup=setup_key(settings),
        versions=fingerprints.installed_versions(str(adapter_type)),
    )


# --- the compile ---------------------------------------------------------------------------------------------


def compile_project(
    settings: Settings, select: Sequence[str] | None = None, vars_text: str | None = None
) -> CompileSummary:
    started = time.perf_counter()
    inputs = resolve_inputs(settings, vars_text)
    store = CacheStore(cache_root(settings))
    with store.lock():
        run = _Run(inputs, store)
        try:
            summary = run.execute()
        except WarehouseBusy as exc:
            raise CompileError(str(exc), exit_code=2) from None
        finally:
            run.close()
        summary.timings = run.timings
    summary.seconds = time.perf_counter() - started
    summary.warnings = store.warnings + summary.warnings
    return summary


class _Run:
    """One `overclock compile`: holds the loaded state while deciding and recomputing."""

    def __init__(self, inputs: Inputs, store: CacheStore) -> None:
        self.inputs = inputs
        self.store = store
        self.settings = inputs.settings
        self.target_path = inputs.settings.project.target_path
        self.manifest_path = self.target_path / "manifest.json"
        self.timings: dict[str, float] = {}
        self._clock = time.perf_counter()
        self._projects: list[Any] = []  # their warehouse probes are closed before dbt opens the warehouse

    def close(self) -> None:
        """Release the warehouse: the caller may open it next (a build in this very process)."""
        for project in self._projects:
            project.warehouse.close()

    def _lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase] = round(self.timings.get(phase, 0.0) + now - self._clock, 4)
        self._clock = now

    # --- entry ---------------------------------------------------------------------------------------------

    def execute(self) -> CompileSummary:
        layout = self.inputs.layout
        stats = scanner.scan_stats(layout)
        head = self.store.head(self.inputs.setup)
        if head is not None and self._unchanged(head, stats):
            self.store.bump({"runs": 1, "unchanged_runs": 1, "hits": head.get("nodes", 0)})
            return CompileSummary(
                "unchanged", self.manifest_path, nodes=head.get("nodes", 0), reused=head.get("nodes", 0)
            )
        hashes = self._hashes(stats, head)
        self._lap("scan files")
        state = self._load_state()
        self._lap("load cache")
        if (
            state is None
            or state.get("hard") != self.inputs.hard_digest()
            or state.get("format") != STATE_FORMAT
        ):
            return self._cold(
                stats, hashes, "no usable cache" if state is None else "dbt, adapter or target changed"
            )
        try:
            return self._warm(state, stats, hashes)
        except Escalate as reason:
            # the fast path may have edited the state in memory before giving up: start again from disk
            state = self._load_state() or state
            return self._refresh(state, stats, hashes, str(reason))

    def _unchanged(self, head: Mapping[str, Any], stats: Mapping[str, list[int]]) -> bool:
        if (
            head.get("volatile")
            or head.get("stats") != stats
            or head.get("hard") != self.inputs.hard_digest()
        ):
            return False
        if head.get("cli_vars") != fingerprints.digest(self.inputs.cli_vars):
            return False
        watched = self.inputs.watched_env(head.get("env_names", []), head.get("dynamic_env", False))
        if head.get("env") != fingerprints.digest(watched):
            return False
        if head.get("warehouse") and not self._warehouse_unchanged(head["warehouse"]):
            return False
        return head.get("target_manifest") == [str(self.manifest_path), artifacts.stat_of(self.manifest_path)]

    def _warehouse_unchanged(self, facts: Mapping[str, str | None]) -> bool:
        """Whether the relations incremental models' SQL depends on are still what they were."""
        from framework.compile.context import Unsupported
        from framework.compile.warehouse import WarehouseProbe

        probe = WarehouseProbe(self.inputs.target)
        try:
            return all(probe.relation_type(*key.split("\0")) == kind for key, kind in facts.items())
        except Unsupported:
            return False
        finally:
            probe.close()

    def _hashes(self, stats: Mapping[str, list[int]], head: Mapping[str, Any] | None) -> dict[str, str]:
        old_stats = (head or {}).get("stats", {})
        old_hashes = (head or {}).get("hashes", {})
        hashes = {}
        for relative, stat in stats.items():
            if old_stats.get(relative) == stat and relative in old_hashes:
                hashes[relative] = old_hashes[relative]
            else:
                hashes[relative] = scanner.hash_file(scanner.file_path(self.inputs.layout, relative))
        return hashes

    # --- cold ------------------------------------------------------------------------------------------------

    def _cold(self, stats: dict[str, list[int]], hashes: dict[str, str], reason: str) -> CompileSummary:
        manifest = self._dbt("compile")
        self._lap("dbt compile")
        codes = {
            uid: node["compiled_code"]
            for uid, node in manifest["nodes"].items()
            if node.get("compiled_code") is not None
        }
        artifacts.strip_compiled(manifest)
        state = self._new_state(manifest, hashes)
        project = self._project(manifest)
        from framework.compile.verify import verify_all

        verdicts = verify_all(project, codes)
        self._lap("verify against dbt")
        fpr = self._fingerprinter(project, state)
        fallbacks = {}
        for uid, verdict in verdicts.compile.items():
            meta: dict[str, Any]
            if verdict.trace is not None:
                meta = {"how": "fast", "trace": verdict.trace}
                meta["fp"] = fpr.traced(uid, verdict.trace)
            else:
                fallbacks[uid] = verdict.reason
                meta = {"how": "dbt", "reason": verdict.reason, "volatile": verdict.volatile}
                meta["fp"] = fpr.everything(uid)
            meta["parse"] = verdicts.parse.get(uid)
            state["nodes"][uid] = meta
            self.store.put_object(meta["fp"], codes[uid])
        state["names_macros"] = sorted(verdicts.names_macros)
        state["codes"] = {
            uid: [state["nodes"][uid]["fp"], code, _where(project.nodes, uid)] for uid, code in codes.items()
        }
        summary = CompileSummary(
            "cold", self.manifest_path, nodes=len(codes), dbt_compiled=len(codes), reason=reason
        )
        summary.fallbacks = fallbacks
        self._finish(state, stats, hashes, codes, summary, full_write=True)
        self.store.bump({"runs": 1, "cold_runs": 1, "misses": len(codes), "fallbacks": len(fallbacks)})
        return summary

    # --- warm: the fast path ------------------------------------------------------------------------------------

    def _warm(
        self, state: dict[str, Any], stats: dict[str, list[int]], hashes: dict[str, str]
    ) -> CompileSummary:
        old_hashes: dict[str, str] = state["hashes"]
        layout = self.inputs.layout
        changed = {r for r in hashes if old_hashes.get(r) != hashes[r]}
        removed = set(old_hashes) - set(hashes)
        if removed or any(r not in old_hashes for r in changed):
            raise Escalate("files were added or removed")
        for relative in sorted(changed):
            if layout.kind_of(relative) not in ("model", "macro"):
                raise Escalate(f"{relative} changed")
        changed_vars = _changed_keys(state["cli_vars"], self.inputs.cli_vars)
        if changed_vars and state["text"]["yml_reads_vars"]:
            raise Escalate("vars changed and a .yml file reads vars")
        old_env = state["env"]
        watched = self.inputs.watched_env(list(old_env), state["text"]["dynamic_env"])
        changed_env = {name for name in set(old_env) | set(watched) if old_env.get(name) != watched.get(name)}
        if changed_env & set(state["text"]["env_names"]) or (changed_env and state["text"]["dynamic_env"]):
            raise Escalate("an environment variable read by the project's .yml files changed")

        manifest = state["manifest"]
        project = self._project(manifest)
        changed_macros = self._apply_macro_changes(
            project, [r for r in changed if layout.kind_of(r) == "macro"]
        )
        self._lap("macro files")
        if changed_macros & set(state["names_macros"]):
            raise Escalate("a schema/alias/database naming macro changed")
        reparse = self._nodes_of_files(manifest, [r for r in changed if layout.kind_of(r) == "model"])
        for uid, meta in state["nodes"].items():
            parse = meta.get("parse")
            if not parse or uid in reparse:
                continue
            trace = parse.get("trace") or {}
            if (
                set(trace.get("macros", [])) & changed_macros
                or set(trace.get("vars", {})) & changed_vars
                or set(trace.get("env", {})) & changed_env
            ):
                reparse[uid] = manifest["nodes"][uid]["original_file_path"]
        # Every node whose fingerprint can have moved: the rest keep theirs without being looked at.
        dirty: set[str] = set()
        for uid, relative in reparse.items():
            before = fingerprints.relation_facts(manifest["nodes"][uid])
            text = scanner.file_path(layout, relative).read_text()
            if self._reparse(project, state, uid, text):
                dirty.add(uid)
                if fingerprints.relation_facts(manifest["nodes"][uid]) != before:
                    dirty.update(manifest["child_map"].get(uid, []))
        for uid, meta in state["nodes"].items():
            trace = meta.get("trace")
            if (
                meta.get("how") != "fast"
                or not trace
                or trace.get("warehouse")
                or (
                    changed_macros.intersection(trace.get("macros", []))
                    or changed_vars.intersection(trace.get("vars", {}))
                    or changed_env.intersection(trace.get("env", {}))
                )
            ):
                dirty.add(uid)
        self._lap("parse changed models")
        summary = CompileSummary("incremental", self.manifest_path)
        summary.changed_nodes = sorted(reparse)
        return self._compile_stale(project, state, stats, hashes, summary, dirty)

    def _apply_macro_changes(self, project: Any, relatives: list[str]) -> set[str]:
        changed: set[str] = set()
        for relative in relatives:
            new = scanner.extract_macros(scanner.file_path(self.inputs.layout, relative).read_text())
            old = {m["name"]: uid for uid, m in project.macros.items() if m["original_file_path"] == relative}
            if new is None or set(new) != set(old):
                raise Escalate(f"macros were added, removed or renamed in {relative}")
            for name, sql in new.items():
                macro = project.macros[old[name]]
                if macro["macro_sql"] != sql:
                    macro["macro_sql"] = sql
                    changed.add(old[name])
        if changed:
            project.reindex_macros()
        return changed

    @staticmethod
    def _nodes_of_files(manifest: Mapping[str, Any], relatives: list[str]) -> dict[str, str]:
        wanted = set(relatives)
        found = {
            uid: entry[3]
            for uid, entry in _node_index(manifest["nodes"]).items()
            if entry[3] in wanted and entry[2] in ("model", "analysis", "test")
        }
        if set(found.values()) != wanted:
            raise Escalate("a changed file has no node (disabled or new)")
        return found

    def _reparse(self, project: Any, state: dict[str, Any], uid: str, text: str) -> bool:
        """Re-derive a changed model from its new code as dbt's parser would; Escalate where we cannot."""
        from framework.compile import renderer
        from framework.compile.context import RenderFailure, Unsupported

        node = project.nodes[uid]
        meta = state["nodes"].get(uid) or {}
        parse = meta.get("parse")
        if not parse or not parse.get("ok"):
            raise Escalate(f"{node['name']} is parsed by dbt")
        raw_code = text.strip()
        candidate = {**node, "raw_code": raw_code}
        try:
            record, trace = renderer.parse_node(project, candidate)
            calls = merge_config_calls(record.config_calls)
        except (Unsupported, RenderFailure) as exc:
            raise Escalate(f"{node['name']}: {exc}") from exc
        old_calls = parse["calls"]
        config = dict(node["config"])
        unrendered = dict(node.get("unrendered_config") or {})
        changed_keys = {k for k in set(old_calls) | set(calls) if old_calls.get(k) != calls.get(k)}
        for key in changed_keys:
            if key not in SIMPLE_CONFIG_KEYS or key not in calls:
                raise Escalate(f"{node['name']}: config '{key}' changed")
            if key == "materialized" and "ephemeral" in (calls[key], config.get(key)):
                raise Escalate(f"{node['name']}: ephemeral materialization")
            config[key] = calls[key]
            unrendered[key] = calls[key]
        depends = []
        for ref in record.refs:
            target = project.resolve_ref(ref["name"], ref["package"], node["package_name"])
            if target is None:
                raise Escalate(f"{node['name']}: ref('{ref['name']}') not found")
            depends.append(target)
        for source_name, table_name in record.sources:
            target = project.resolve_source(source_name, table_name, node["package_name"])
            if target is None:
                raise Escalate(f"{node['name']}: source('{source_name}', '{table_name}') not found")
            depends.append(target)
        depends = list(dict.fromkeys(depends))
        updated = {
            **node,
            "raw_code": raw_code,
            "checksum": {"name": "sha256", "checksum": scanner.node_checksum(text)},
            "refs": record.refs,
            "sources": record.sources,
            "config": config,
            "unrendered_config": unrendered,
            "depends_on": {
                **node["depends_on"],
                "nodes": depends,
                # dbt records the macros a model calls directly while parsing it; where that agreed with dbt
                # before the edit, the edit's own calls are taken (else the recorded list is kept)
                "macros": list(dict.fromkeys(trace.top_level_macros))
                if parse.get("macros_agree")
                else node["depends_on"]["macros"],
            },
        }
        if changed_keys & NAME_KEYS:
            try:
                before, _ = renderer.generate_names(project, node)
                if before != {"database": node["database"], "schema": node["schema"], "alias": node["alias"]}:
                    raise Escalate(f"{node['name']}: relation names are not reproduced")
                names, _ = renderer.generate_names(project, updated)
            except (Unsupported, RenderFailure) as exc:
                raise Escalate(f"{node['name']}: {exc}") from exc
            updated.update(names)
            updated["relation_name"] = project.render_relation(
                names["database"], names["schema"], names["alias"]
            )
        if updated == node:
            return False
        self._set_node(project, state["manifest"], uid, updated)
        state.setdefault("node_digests", {}).pop(uid, None)
        meta["parse"] = {**parse, "calls": calls, "trace": trace.as_dict()}
        return True

    @staticmethod
    def _set_node(project: Any, manifest: dict[str, Any], uid: str, updated: dict[str, Any]) -> None:
        old_parents = set(manifest["nodes"][uid]["depends_on"]["nodes"])
        new_parents = set(updated["depends_on"]["nodes"])
        manifest["nodes"][uid] = updated
        project.nodes[uid] = updated
        if old_parents != new_parents and _reaches(manifest["parent_map"], new_parents, uid):
            raise Escalate(f"{updated['name']} now depends on itself: dbt reports the cycle")
        if old_parents != new_parents:
            manifest["parent_map"][uid] = sorted(new_parents)
            for parent in old_parents - new_parents:
                children = manifest["child_map"].get(parent, [])
                if uid in children:
                    children.remove(uid)
            for parent in new_parents - old_parents:
                children = manifest["child_map"].setdefault(parent, [])
                children.append(uid)
                children.sort()

    # --- refresh: dbt parses, we render ------------------------------------------------------------------------

    def _refresh(
        self, state: dict[str, Any], stats: dict[str, list[int]], hashes: dict[str, str], reason: str
    ) -> CompileSummary:
        manifest = self._dbt("parse")
        self._lap("dbt parse")
        artifacts.strip_compiled(manifest)
        project = self._project(manifest)
        old_nodes = state["manifest"]["nodes"]
        new_state = self._new_state(manifest, hashes)
        from framework.compile.verify import parse_verdict

        for uid, node in manifest["nodes"].items():
            meta = dict(state["nodes"].get(uid) or {})
            old = old_nodes.get(uid)
            if (
                old is None
                or old.get("raw_code") != node.get("raw_code")
                or old.get("config") != node.get("config")
                or not meta.get("parse")
            ):
                meta["parse"] = parse_verdict(project, node)
            if meta:
                new_state["nodes"][uid] = meta
        from framework.compile.verify import naming_macros

        new_state["names_macros"] = sorted(naming_macros(project))
        new_state["codes"] = state.get("codes") or {}
        if _has_cycle(manifest["parent_map"]):
            self._dbt("compile")  # dbt parses a cyclic DAG but refuses to compile it: let it say where
            raise CompileError("the project's DAG has a cycle")
        removed = [n for uid, n in old_nodes.items() if uid not in manifest["nodes"]]
        artifacts.remove_compiled_files(self.target_path, removed)
        summary = CompileSummary("refresh", self.manifest_path, reason=reason)
        summary.changed_nodes = sorted(
            uid
            for uid, node in manifest["nodes"].items()
            if old_nodes.get(uid, {}).get("checksum") != node.get("checksum")
        )
        return self._compile_stale(project, new_state, stats, hashes, summary)

    # --- shared: recompute stale nodes, fall back per node, write ---------------------------------------------

    def _compile_stale(
        self,
        project: Any,
        state: dict[str, Any],
        stats: dict[str, list[int]],
        hashes: dict[str, str],
        summary: CompileSummary,
        dirty: set[str] | None = None,
    ) -> CompileSummary:
        """Reuse, render or leave to dbt every compilable node; `dirty` (default: all) are the nodes whose
        fingerprint may have moved, every other one keeps its last result."""
        from framework.compile import renderer
        from framework.compile.context import RenderFailure, Unsupported

        state["hashes"] = hashes
        state["cli_vars"] = self.inputs.cli_vars
        state["env"] = self.inputs.watched_env(
            state["text"]["env_names"] + _traced_env(state), state["text"]["dynamic_env"]
        )
        fpr = self._fingerprinter(project, state)
        # The last result of each node, with the fingerprint it was computed for.
        previous: dict[str, list[str]] = state.get("codes") or {}
        codes: dict[str, str] = {}
        rendered: list[str] = []
        need_dbt: dict[str, str] = {}
        for uid, (_, _, resource_type, _, enabled) in _node_index(project.nodes).items():
            if resource_type not in ("model", "test", "analysis", "snapshot") or not enabled:
                continue
            meta = state["nodes"].setdefault(uid, {})
            last = previous.get(uid)
            if dirty is not None and uid not in dirty and last and last[0] == meta.get("fp"):
                codes[uid] = last[1]
                continue
            node = project.nodes[uid]
            how = meta.get("how")
            if how == "fast":
                fp = fpr.traced(uid, meta["trace"])
            elif how == "dbt" and not meta.get("volatile"):
                fp = fpr.everything(uid)
            else:
                fp = None
            if fp is not None:
                # The last result for this node is in the state; an older one may be in the object store.
                code = last[1] if last and last[0] == fp else self.store.get_object(fp)
                if code is not None:
                    meta["fp"] = fp
                    codes[uid] = code
                    continue
            if how == "dbt":
                need_dbt[uid] = meta.get("reason", "compiled by dbt")
                continue
            try:
                code, trace = renderer.compile_node(project, node)
            except (Unsupported, RenderFailure) as exc:
                need_dbt[uid] = str(exc)
                volatile = getattr(exc, "volatile", False)
                meta.update({"how": "dbt", "reason": str(exc), "volatile": volatile, "trace": None})
                continue
            meta.update({"how": "fast", "trace": trace.as_dict(), "fp": fpr.traced(uid, trace.as_dict())})
            meta.pop("reason", None)
            self.store.put_object(meta["fp"], code)
            codes[uid] = code
            rendered.append(uid)
        self._lap("render")
        if need_dbt:
            manifest = self._dbt(
                "compile", [fallback.selector_for(project.nodes[uid]) for uid in sorted(need_dbt)]
            )
            self._lap("dbt compile -s")
            for uid in need_dbt:
                node = manifest["nodes"].get(uid)
                if node is None or node.get("compiled_code") is None:
                    raise CompileError(f"dbt did not compile {uid}")
                code = node["compiled_code"]
                meta = state["nodes"][uid]
                meta["how"] = "dbt"
                meta["fp"] = fpr.everything(uid)
                self.store.put_object(meta["fp"], code)
                codes[uid] = code
        where = {uid: _where(project.nodes, uid, previous.get(uid), dirty) for uid in codes}
        state["codes"] = {uid: [state["nodes"][uid]["fp"], code, where[uid]] for uid, code in codes.items()}
        summary.nodes = len(codes)
        summary.rendered = len(rendered)
        summary.dbt_compiled = len(need_dbt)
        summary.reused = len(codes) - len(rendered) - len(need_dbt)
        summary.fallbacks = need_dbt
        changed = [
            uid
            for uid, code in codes.items()
            if (previous.get(uid) or ["", "", ""])[1:] != [code, where[uid]]
        ]
        self._finish(state, stats, hashes, codes, summary, full_write=False, changed=changed)
        self.store.bump(
            {
                "runs": 1,
                f"{summary.mode}_runs": 1,
                "hits": summary.reused,
                "misses": len(rendered) + len(need_dbt),
                "fallbacks": len(need_dbt),
            }
        )
        return summary

    def _finish(
        self,
        state: dict[str, Any],
        stats: dict[str, list[int]],
        hashes: dict[str, str],
        codes: dict[str, str],
        summary: CompileSummary,
        full_write: bool,
        changed: Sequence[str] = (),
    ) -> None:
        self._lap("before write")
        manifest = state["manifest"]
        had_manifest = self.manifest_path.is_file()
        relative_paths = {uid: entry[2] for uid, entry in state["codes"].items()}
        artifacts.write_compiled_files(
            self.target_path, codes, relative_paths, None if full_write or not had_manifest else changed
        )
        data = artifacts.manifest_bytes(manifest, codes, self.target_path, relative_paths)
        artifacts.write_manifest(self.target_path, data)
        self._lap("write artifacts")
        state["hashes"] = hashes
        self.store.write_state(self.inputs.setup, state_module.pack(state))
        env_names = state["text"]["env_names"] + _traced_env(state)
        watched = self.inputs.watched_env(env_names, state["text"]["dynamic_env"])
        head = {
            "stats": stats,
            "hashes": hashes,
            "hard": self.inputs.hard_digest(),
            "cli_vars": fingerprints.digest(self.inputs.cli_vars),
            "env_names": sorted(watched),
            "dynamic_env": state["text"]["dynamic_env"],
            "env": fingerprints.digest(watched),
            "nodes": len(codes),
            # nodes whose SQL depends on the warehouse (is_incremental(), introspection): dbt recompiles them
            # on every compile, so "nothing changed" cannot be answered from stats alone
            "volatile": any(meta.get("volatile") for meta in state["nodes"].values()),
            # what incremental models' SQL read from the warehouse: asked again before answering "unchanged"
            "warehouse": {
                key: kind
                for meta in state["nodes"].values()
                for key, kind in ((meta.get("trace") or {}).get("warehouse") or {}).items()
            },
            "target_manifest": [str(self.manifest_path), artifacts.stat_of(self.manifest_path)],
        }
        self.store.write_head(self.inputs.setup, head)
        self._lap("write cache")

    # --- helpers ---------------------------------------------------------------------------------------------------

    def _load_state(self) -> dict[str, Any] | None:
        stored = self.store.state(self.inputs.setup)
        if not isinstance(stored, dict) or stored.get("format") != STATE_FORMAT:
            return None
        try:
            return state_module.unpack(stored)
        except (KeyError, TypeError, ValueError):
            self.store.warnings.append("compile cache: the cached state is unreadable; discarded, rebuilding")
            return None

    def _dbt(self, command: str, select: Sequence[str] = ()) -> dict[str, Any]:
        for project in self._projects:  # DuckDB: a reader in this process would lock dbt out
            project.warehouse.close()
        try:
            return fallback.run(
                self.settings,
                self.store.dbt_target(self.inputs.setup),
                command,
                select,
                self.inputs.vars_text,
            )
        except fallback.DbtFailed as exc:
            raise CompileError(str(exc), exit_code=2 if exc.warehouse_unreachable else 1) from exc

    def _project(self, manifest: dict[str, Any]) -> Any:
        from framework.compile import jinja_env
        from framework.compile.renderer import ProjectModel

        jinja_env.use_code_cache(self.store.root / "templates")
        project = ProjectModel(
            manifest,
            target=self.inputs.target,
            cli_vars=self.inputs.cli_vars,
            project_vars=self.inputs.layout.project_vars,
            environment=self.inputs.environment,
            dispatch_config=self.inputs.layout.dispatch,
        )
        self._projects.append(project)
        return project

    def _fingerprinter(self, project: Any, state: dict[str, Any]) -> fingerprints.Fingerprinter:
        watched = self.inputs.watched_env(state["text"]["env_names"], state["text"]["dynamic_env"])
        return fingerprints.Fingerprinter(
            project,
            watched,
            [self.inputs.hard_digest(), fingerprints.macro_names_digest(project.macros)],
            node_digests=state.setdefault("node_digests", {}),
        )

    def _new_state(self, manifest: dict[str, Any], hashes: dict[str, str]) -> dict[str, Any]:
        layout = self.inputs.layout
        text = scanner.scan_text(layout, [r for r in hashes if layout.kind_of(r) in ("yml", "project")])
        watched = self.inputs.watched_env(sorted(text.env_names), text.dynamic_env)
        return {
            "format": STATE_FORMAT,
            "hard": self.inputs.hard_digest(),
            "manifest": manifest,
            "nodes": {},
            "node_digests": {},
            "codes": {},
            "names_macros": [],
            "hashes": hashes,
            "cli_vars": self.inputs.cli_vars,
            "env": watched,
            "text": {
                "env_names": sorted(text.env_names),
                "dynamic_env": text.dynamic_env,
                "yml_reads_vars": text.yml_reads_vars,
            },
        }


def _traced_env(state: Mapping[str, Any]) -> list[str]:
    names: set[str] = set()
    for meta in state["nodes"].values():
        for part in (meta.get("trace"), (meta.get("parse") or {}).get("trace")):
            if part:
                names.update(part.get("env", {}))
    return sorted(names)


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    return {k for k in set(old) | set(new) if old.get(k, object()) != new.get(k, object())}


def _reaches(parent_map: Mapping[str, Sequence[str]], starts: set[str], target: str) -> bool:
    """Whether `target` is among `starts` or their ancestors."""
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        current = stack.pop()
        if current == target:
            return True
        if current not in seen:
            seen.add(current)
            stack.extend(parent_map.get(current, ()))
    return False


def _has_cycle(parent_map: Mapping[str, Sequence[str]]) -> bool:
    """Kahn's algorithm over dbt's parent map."""
    remaining = {uid: len(parents) for uid, parents in parent_map.items()}
    children: dict[str, list[str]] = {}
    for uid, parents in parent_map.items():
        for parent in parents:
            children.setdefault(parent, []).append(uid)
            remaining.setdefault(parent, 0)
    ready = [uid for uid, count in remaining.items() if count == 0]
    done = 0
    while ready:
        current = ready.pop()
        done += 1
        for child in children.get(current, ()):
            remaining[child] -= 1
            if remaining[child] == 0:
                ready.append(child)
    return done < len(remaining)


def _node_index(nodes: Mapping[str, Any]) -> dict[str, list[Any]]:
    """[name, package, type, file, enabled] per node, without parsing lazily stored nodes."""
    index = getattr(nodes, "index", None)
    if index is not None:
        return index
    return {uid: state_module.index_entry(node) for uid, node in nodes.items()}


def _where(
    nodes: Mapping[str, Any], uid: str, last: Sequence[str] | None = None, dirty: set[str] | None = None
) -> str:
    """Where a node's compiled SQL is written, relative to `<target>/compiled` (reused when the node is not
    dirty, without parsing it: only dbt's parse moves files)."""
    if last is not None and len(last) == 3 and dirty is not None and uid not in dirty:
        return last[2]
    return artifacts.compiled_relative_path(nodes[uid])


def merge_config_calls(calls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The in-file config of a model: its `config()` calls merged (a key set twice is left to dbt)."""
    from framework.compile.context import Unsupported

    merged: dict[str, Any] = {}
    for call in calls:
        for key, value in call.items():
            if key in merged and merged[key] != value:
                raise Unsupported(f"config '{key}' set twice")
            merged[key] = value
    return merged
