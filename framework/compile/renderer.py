"""The fast renderer: compiles and parses nodes from the cached manifest, the way dbt would, without dbt.

`ProjectModel` is the read side of a manifest (macros, nodes, sources, vars, target) plus the few adapter facts
dbt would take from its adapter plugin. Three renders are offered, each returning a `Trace` of what it read:

- `compile_node`: the node's `compiled_code` (dbt's `Compiler._compile_code`);
- `parse_node`: the refs, sources and `config()` calls of a model's code (dbt's parse-time render);
- `generate_names`: database, schema and alias from the `generate_*_name` macros (dbt's `RelationUpdate`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jinja2

from framework.compile import jinja_env
from framework.compile.context import (
    ParseRecord,
    Relation,
    RenderFailure,
    RenderSession,
    StrictMapping,
    Trace,
    Unsupported,
)

# dbt's `get_rendered` shortcut: a string without Jinja markers is returned as is, never rendered.
_HAS_RENDER_CHARS = re.compile(r"({[{%#]|[#}%]})")
_LOOKS_LIKE_FUNCTION = re.compile(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$")
GENERIC_TEST_KWARGS = "_dbt_generic_test_kwargs"
_WHERE_SUBQUERY = re.compile(r"^\{\{ get_where_subquery\((ref|source)\(('[\w.-]*'(?:, '[\w.-]*')?)\)\) \}\}$")
_QUOTED = re.compile(r"'([\w.-]*)'")

# The adapter types each adapter dispatches to, most specific first (dbt's `get_adapter_type_names`).
ADAPTER_PARENTS = {"redshift": ["postgres"], "materialize": ["postgres"]}
QUOTE_CHARACTERS = {"bigquery": "`"}


class ProjectModel:
    """Everything a render needs, indexed once per compile."""

    def __init__(
        self,
        manifest: dict[str, Any],
        *,
        target: Mapping[str, Any],
        cli_vars: Mapping[str, Any],
        project_vars: Mapping[str, Any],
        environment: Mapping[str, str],
        dispatch_config: Mapping[str, list[str]] | None = None,
    ) -> None:
        metadata = manifest["metadata"]
        self.manifest = manifest
        self.root_name: str = metadata["project_name"]
        self.adapter_type: str = metadata["adapter_type"]
        self.dbt_version: str = metadata["dbt_version"]
        self.quoting: dict[str, Any] = metadata.get("quoting") or {}
        self.quote_char = QUOTE_CHARACTERS.get(self.adapter_type, '"')
        self.target = dict(target)
        self.cli_vars = dict(cli_vars)
        self.project_vars = dict(project_vars)
        self.environment = environment
        self.dispatch_config = dict(dispatch_config or {})
        self.dispatch_prefixes = [self.adapter_type, *ADAPTER_PARENTS.get(self.adapter_type, []), "default"]
        self.macros: dict[str, dict[str, Any]] = manifest["macros"]
        self.nodes: dict[str, dict[str, Any]] = manifest["nodes"]
        self.sources: dict[str, dict[str, Any]] = manifest["sources"]
        self._templates: dict[str, Any] = {}
        self._vars_cache: dict[str, dict[str, Any]] = {}
        self.reindex_macros()
        self.reindex_nodes()
        from framework.compile.warehouse import WarehouseProbe

        self.warehouse = WarehouseProbe(self.target)

    # --- indexes ----------------------------------------------------------------------------------------

    def reindex_macros(self) -> None:
        internal_order = [f"dbt_{t}" for t in self.dispatch_prefixes if t != "default"] + ["dbt"]
        by_package: dict[str, dict[str, str]] = {}
        for unique_id, macro in self.macros.items():
            by_package.setdefault(macro["package_name"], {})[macro["name"]] = unique_id
        self.internal_packages = [p for p in internal_order if p in by_package]
        unknown_internal = [p for p in by_package if p.startswith("dbt_") and p not in self.internal_packages]
        self.internal_packages += unknown_internal  # other adapters' packages, lowest priority
        self.global_project: dict[str, str] = {}
        for package in reversed(self.internal_packages):
            self.global_project.update(by_package[package])
        self.packages = {p: names for p, names in by_package.items() if p not in self.internal_packages}
        self.package_names = set(self.packages) | {"dbt"}
        self._templates.clear()

    def reindex_nodes(self) -> None:
        self.refable: dict[tuple[str, str], str] = {}
        index = getattr(self.nodes, "index", None)  # lazily parsed nodes carry [name, package, type, ...]
        entries = (
            index.items()
            if index is not None
            else ((uid, [n["name"], n["package_name"], n["resource_type"]]) for uid, n in self.nodes.items())
        )
        for unique_id, entry in entries:
            if entry[2] in ("model", "seed", "snapshot"):
                self.refable.setdefault((entry[1], entry[0]), unique_id)
        self.source_keys: dict[tuple[str, str, str], str] = {}
        for unique_id, source in self.sources.items():
            key = (source["package_name"], source["source_name"], source["name"])
            self.source_keys[key] = unique_id

    # --- macro resolution (dbt's MacroNamespace) ----------------------------------------------------------

    def resolve_macro_name(self, name: str, node_package: str) -> str | None:
        local = self.packages.get(node_package)
        if local is not None and name in local:
            return local[name]
        root = self.packages.get(self.root_name)
        if root is not None and name in root:
            return root[name]
        return self.global_project.get(name)

    def package_macros(self, package: str) -> Mapping[str, str]:
        return self.global_project if package == "dbt" else self.packages[package]

    def macro_in_package(self, package: str | None, name: str, node_package: str) -> str | None:
        if package is None:
            return self.resolve_macro_name(name, node_package)
        if package == "dbt":
            return self.global_project.get(name)
        if package in self.packages:
            return self.packages[package].get(name)
        return None

    def dispatch_search_packages(self, namespace: str | None) -> list[str | None]:
        if namespace is None:
            return [None]
        if not isinstance(namespace, str):
            raise RenderFailure("adapter.dispatch: macro_namespace must be a string")
        if namespace in self.dispatch_config:
            return list(self.dispatch_config[namespace])
        if namespace in self.packages or namespace in self.internal_packages or namespace == "dbt":
            return [self.root_name, namespace]
        return [None]

    def macro_template(self, unique_id: str) -> Any:
        template = self._templates.get(unique_id)
        if template is None:
            template = jinja_env.template(self.macros[unique_id]["macro_sql"], {})
            self._templates[unique_id] = template
        return template

    # --- vars -----------------------------------------------------------------------------------------------

    def vars_for(self, package: str) -> dict[str, Any]:
        merged = self._vars_cache.get(package)
        if merged is None:
            merged = dict(self.project_vars)
            scoped = self.project_vars.get(package)
            if isinstance(scoped, dict):
                merged.update(scoped)
            merged.update(self.cli_vars)
            self._vars_cache[package] = merged
        return merged

    def render_string(self, raw: str, session: RenderSession) -> Any:
        if not _HAS_RENDER_CHARS.search(raw):
            return raw
        return _render(raw, session)

    # --- refs, sources, relations ---------------------------------------------------------------------------

    def resolve_ref(self, name: str, package: str | None, node_package: str) -> str | None:
        if package is not None:
            return self.refable.get((package, name))
        for candidate in (self.root_name, node_package):
            found = self.refable.get((candidate, name))
            if found is not None:
                return found
        for (_, candidate_name), unique_id in self.refable.items():
            if candidate_name == name:
                return unique_id
        return None

    def resolve_source(self, source_name: str, table_name: str, node_package: str) -> str | None:
        for package in (self.root_name, node_package):
            found = self.source_keys.get((package, source_name, table_name))
            if found is not None:
                return found
        for (_, source, table), unique_id in self.source_keys.items():
            if (source, table) == (source_name, table_name):
                return unique_id
        return None

    def render_relation(self, database: str | None, schema: str | None, identifier: str | None) -> str:
        parts = []
        for kind, value in (("database", database), ("schema", schema), ("identifier", identifier)):
            if value is None:
                continue
            if self.quoting.get(kind, True):
                parts.append(f"{self.quote_char}{value}{self.quote_char}")
            else:
                parts.append(value)
        return ".".join(parts)

    def relation_of(self, unique_id: str) -> Relation:
        node = self.nodes.get(unique_id) or self.sources.get(unique_id)
        if node is None:
            raise RenderFailure(f"{unique_id} is not in the manifest")
        if node.get("resource_type") != "source":
            if node["config"].get("materialized") == "ephemeral":
                raise Unsupported("refs an ephemeral model")
            if node["config"].get("event_time") is not None:
                raise Unsupported("refs a node with event_time (sample/microbatch filters)")
        relation_name = node.get("relation_name")
        if relation_name is None:
            raise Unsupported(f"{unique_id} has no relation name")
        identifier = node.get("identifier") if node.get("resource_type") == "source" else node.get("alias")
        return Relation(node.get("database"), node.get("schema"), identifier, relation_name)

    def relation_of_node(self, node: Mapping[str, Any], parse_time: bool = False) -> Relation:
        if parse_time:
            database, schema, identifier = (
                self.target.get("database"),
                self.target.get("schema"),
                node["name"],
            )
            return Relation(database, schema, identifier, self.render_relation(database, schema, identifier))
        if node["config"].get("materialized") == "ephemeral":
            raise Unsupported("`this` of an ephemeral model")
        rendered = node.get("relation_name") or self.render_relation(
            node.get("database"), node.get("schema"), node.get("alias")
        )
        return Relation(node.get("database"), node.get("schema"), node.get("alias"), rendered)

    def model_view(self, node: Mapping[str, Any]) -> StrictMapping:
        view = {
            key: value
            for key, value in node.items()
            if key not in ("compiled_code", "compiled", "compiled_path", "extra_ctes_injected", "extra_ctes")
        }
        return StrictMapping(_omit_none(view), "model")


def _omit_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _omit_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_omit_none(v) for v in value]
    return value


def _render(source: str, session: RenderSession, capture_macros: bool = False, native: bool = False) -> Any:
    try:
        template = jinja_env.template(source, session, capture_macros=capture_macros, native=native)
        return template.render(session)
    except (Unsupported, RenderFailure):
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise RenderFailure(f"Jinja syntax error, line {exc.lineno}: {exc.message}") from exc
    except Exception as exc:  # any other template error: dbt reports it
        raise RenderFailure(f"{type(exc).__name__}: {exc}") from exc


def get_rendered(
    source: str, session: RenderSession, capture_macros: bool = False, native: bool = False
) -> Any:
    """dbt's `get_rendered`: text without Jinja markers is returned unrendered (unless native)."""
    if not native and isinstance(source, str) and not _HAS_RENDER_CHARS.search(source):
        return source
    return _render(source, session, capture_macros=capture_macros, native=native)


def _generic_test_kwargs(node: Mapping[str, Any], session: RenderSession) -> dict[str, Any]:
    """dbt's `add_rendered_test_kwargs`: each test argument rendered natively in the test's context."""

    def convert(value: Any, keypath: tuple[Any, ...]) -> Any:
        if isinstance(value, str):
            if keypath == ("column_name",):
                return value
            if _LOOKS_LIKE_FUNCTION.match(value) is not None:
                value = f"{{{{ {value} }}}}"
            shortcut = _WHERE_SUBQUERY.match(value)
            if shortcut is not None:
                # the argument of nearly every generic test: evaluated directly, as its single-expression
                # native template would (the value itself comes back), sparing a template compile per test
                function, arguments = shortcut.group(1), _QUOTED.findall(shortcut.group(2))
                return session["get_where_subquery"](session[function](*arguments))
            return get_rendered(value, session, native=True)
        if isinstance(value, dict):
            return {k: convert(v, (*keypath, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v, (*keypath, i)) for i, v in enumerate(value)]
        return value

    kwargs = node["test_metadata"].get("kwargs") or {}
    return {key: convert(value, (key,)) for key, value in kwargs.items()}


COMPILABLE_TYPES = frozenset({"model", "test", "analysis"})


def compile_node(project: ProjectModel, node: Mapping[str, Any]) -> tuple[str, Trace]:
    """Render `node`'s compiled SQL exactly as `dbt compile` would, or raise Unsupported/RenderFailure."""
    if node["resource_type"] not in COMPILABLE_TYPES:
        raise Unsupported(f"{node['resource_type']} nodes are compiled by dbt")
    if node.get("language", "sql") != "sql":
        raise Unsupported("python model")
    if node.get("contract", {}).get("enforced"):
        raise Unsupported("model contract")
    for constraint in node.get("constraints") or []:
        if constraint.get("type") == "foreign_key":
            raise Unsupported("foreign key constraint")
    trace = Trace()
    session = RenderSession(project, node, "compile", trace)
    if node["resource_type"] == "test" and node.get("test_metadata"):
        session.extra[GENERIC_TEST_KWARGS] = _generic_test_kwargs(node, session)
    compiled = get_rendered(node["raw_code"], session)
    if not isinstance(compiled, str):
        compiled = str(compiled)
    return compiled, trace


def parse_node(project: ProjectModel, node: Mapping[str, Any]) -> tuple[ParseRecord, Trace]:
    """Render a model's code as dbt's parser does (execute=False) and return what it records."""
    if node.get("language", "sql") != "sql":
        raise Unsupported("python model")
    record = ParseRecord()
    trace = Trace()
    session = RenderSession(project, node, "parse", trace, parse_record=record)
    get_rendered(node["raw_code"], session, capture_macros=True)
    return record, trace


def generate_names(project: ProjectModel, node: Mapping[str, Any]) -> tuple[dict[str, Any], Trace]:
    """database, schema and alias of `node` (with its final config) via the project's generate_*_name macros."""
    trace = Trace()
    session = RenderSession(project, None, "names", trace)
    config = node["config"]
    # dbt passes the node object itself: every field is there, None included.
    view = StrictMapping(dict(node), "node")
    names: dict[str, Any] = {}
    for component, field in (("database", "database"), ("schema", "schema"), ("alias", "alias")):
        unique_id = project.resolve_macro_name(f"generate_{component}_name", project.root_name)
        if unique_id is None:
            raise Unsupported(f"no generate_{component}_name macro")
        try:
            value = session.call_macro(unique_id, (config.get(field), view), {})
        except (Unsupported, RenderFailure):
            raise
        except Exception as exc:
            raise RenderFailure(f"generate_{component}_name: {type(exc).__name__}: {exc}") from exc
        names[component] = value.strip() if isinstance(value, str) else value
        if component == "database":
            view = StrictMapping({**dict(view), "database": names["database"]}, "node")
    return names, trace
