"""The dbt-compatible Jinja context the fast renderer renders with: `ref`, `source`, `config`, `var`, `env_var`,
`target`, `this`, `model`, `execute`, `adapter.dispatch`, the project's and the adapter's macros.

Everything here is built from the cached manifest and never imports dbt. Each context records what the render
read (macros called, vars, environment variables) in a `Trace`: a node's compiled SQL is a function of its
own definition, its refs' relation names and exactly those reads, which is what its fingerprint hashes.

Whatever dbt offers that is not re-stated here exactly (introspective queries, `graph`, `run_started_at`,
adapter methods other than `dispatch`/`quote`/`type`, ephemeral refs, versioned refs, ...) raises
`Unsupported` on first use, and the node is compiled by dbt instead: never silently different.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from framework.compile import jinja_env

# Every member of dbt's model context (dbt.context.providers.ModelContext), so that a name dbt defines but we
# do not implement is never mistaken for an undefined one.
DBT_CONTEXT_MEMBERS = frozenset(
    [
        "_sql_results",
        "adapter",
        "adapter_macro",
        "api",
        "column",
        "compiled_code",
        "config",
        "context_macro_stack",
        "database",
        "dbt_metadata_envs",
        "dbt_version",
        "defer_relation",
        "diff_of_two_dicts",
        "env",
        "env_var",
        "exceptions",
        "execute",
        "flags",
        "fromjson",
        "fromyaml",
        "function",
        "graph",
        "invocation_args_dict",
        "invocation_id",
        "load_agate_table",
        "load_result",
        "local_md5",
        "log",
        "metric",
        "model",
        "modules",
        "post_hooks",
        "pre_hooks",
        "print",
        "project_name",
        "ref",
        "render",
        "return",
        "run_started_at",
        "schema",
        "selected_resources",
        "set",
        "set_strict",
        "source",
        "sql",
        "sql_now",
        "store_raw_result",
        "store_result",
        "submit_python_job",
        "target",
        "this",
        "thread_id",
        "tojson",
        "toyaml",
        "try_or_compiler_error",
        "validation",
        "var",
        "write",
        "zip",
        "zip_strict",
        "builtins",
        "context",
    ]
)

# `flags.X` values during `dbt compile` (defaults of dbt's global flags); any other flag is unsupported.
COMPILE_FLAGS: dict[str, Any] = {
    "FULL_REFRESH": False,
    "STORE_FAILURES": False,
    "WHICH": "compile",
    "EMPTY": False,
    "FAIL_FAST": False,
    "WARN_ERROR": False,
    "DEBUG": False,
    "STATIC_PARSER": True,
    "PARTIAL_PARSE": True,
    "USE_COLORS": True,
    "INTROSPECT": True,
}

SECRET_ENV_PREFIX = "DBT_ENV_SECRET"


# Attributes Jinja's runtime and sandbox probe on any object; they must read as absent, never as "unsupported".
_JINJA_PROBES = frozenset({"unsafe_callable", "alters_data", "jinja_pass_arg", "jinja_async_variant"})


def _is_probe(name: str) -> bool:
    return name.startswith("__") or name in _JINJA_PROBES


class Unsupported(Exception):
    """The fast renderer cannot reproduce dbt exactly here; dbt must compile this node.

    `volatile`: what was asked depends on the warehouse or the clock (introspection, `run_started_at`), so
    even dbt's answer must not be reused from the cache: such a node is compiled by dbt every time.
    """

    def __init__(self, message: str, volatile: bool = False) -> None:
        super().__init__(message)
        self.volatile = volatile


VOLATILE_MEMBERS = frozenset(
    {
        "run_started_at",
        "invocation_id",
        "thread_id",
        "sql_now",
        "load_result",
        "store_result",
        "store_raw_result",
        "_sql_results",
    }
)


class RenderFailure(Exception):
    """The template raised (most likely a user error); dbt compiles the node to report it as dbt does."""


class MacroReturn(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


@dataclass
class Trace:
    """What one render read besides the node itself."""

    macros: set[str] = field(default_factory=set)  # unique ids of macros called
    vars: dict[str, str] = field(default_factory=dict)  # var name -> json of the raw value (or "<missing>")
    env: dict[str, str | None] = field(default_factory=dict)  # env var name -> value (None: unset)
    top_level_macros: list[str] = field(default_factory=list)  # macros called directly (depends_on.macros)
    warehouse: dict[str, str | None] = field(default_factory=dict)  # "db\0schema\0name" -> table/view/None

    def as_dict(self) -> dict[str, Any]:
        traced: dict[str, Any] = {"macros": sorted(self.macros), "vars": self.vars, "env": self.env}
        if self.warehouse:
            traced["warehouse"] = self.warehouse
        return traced


class UnsupportedMember:
    """A dbt context member we do not re-state: harmless until used, then `Unsupported`."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise Unsupported(f"uses `{self._name}`", volatile=self._name in VOLATILE_MEMBERS)

    __call__ = __str__ = __iter__ = __bool__ = __len__ = __getitem__ = __eq__ = _fail
    __hash__ = None  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Any:
        if _is_probe(name):
            raise AttributeError(name)
        raise Unsupported(f"uses `{self._name}.{name}`", volatile=self._name in VOLATILE_MEMBERS)


class StrictMapping(Mapping[str, Any]):
    """A read-only mapping (target, flags, a node's config) where an unknown key is `Unsupported`."""

    def __init__(self, data: Mapping[str, Any], what: str) -> None:
        self._data = data
        self._what = what

    def __getitem__(self, key: str) -> Any:
        if key in self._data:
            return self._data[key]
        raise Unsupported(f"reads `{self._what}.{key}`, which the fast renderer does not know")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in _JINJA_PROBES:
            raise AttributeError(name)
        return self[name]


@dataclass(frozen=True)
class Relation:
    """A relation as `ref()`, `source()` and `this` return it; renders to dbt's relation name."""

    database: str | None
    schema: str | None
    identifier: str | None
    rendered: str

    def __str__(self) -> str:
        return self.rendered

    def render(self) -> str:
        return self.rendered

    @property
    def name(self) -> str | None:
        return self.identifier

    @property
    def table(self) -> str | None:
        return self.identifier

    def __getattr__(self, name: str) -> Any:
        if _is_probe(name):
            raise AttributeError(name)
        raise Unsupported(f"uses relation attribute `{name}`")


class AdapterWrapper:
    """`adapter` in templates: `dispatch`, `quote` and `type`; any other method needs dbt."""

    def __init__(self, session: RenderSession) -> None:
        self._session = session

    def dispatch(self, macro_name: str, macro_namespace: str | None = None, packages: Any = None) -> Any:
        return self._session.dispatch(macro_name, macro_namespace, packages)

    def quote(self, identifier: str) -> str:
        char = self._session.project.quote_char
        return f"{char}{identifier}{char}"

    def type(self) -> str:
        return self._session.project.adapter_type

    def build_catalog_relation(self, node: Any) -> None:
        # dbt-adapters returns None unless the node names a catalog integration; BigQuery has its own rules.
        config = node.get("config") if isinstance(node, Mapping) else None
        if self._session.project.adapter_type == "bigquery" or not isinstance(config, Mapping):
            raise Unsupported("adapter.build_catalog_relation")
        if config.get("catalog_name") or config.get("catalog"):
            raise Unsupported("catalog integrations")
        return None

    def __getattr__(self, name: str) -> Any:
        if _is_probe(name):
            raise AttributeError(name)
        raise Unsupported(f"uses `adapter.{name}` (asks the warehouse)", volatile=True)


class RuntimeConfig:
    """`config` while compiling: reads the node's final config."""

    def __init__(self, node_config: Mapping[str, Any]) -> None:
        self._config = node_config

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        return ""

    def set(self, name: str, value: Any) -> str:
        return ""

    def _lookup(self, name: str, default: Any) -> Any:
        if name in self._config:
            return self._config[name]
        hyphenated = name.replace("_", "-")
        if hyphenated in self._config and name in ("pre_hook", "post_hook"):
            return self._config[hyphenated]
        return default

    def get(self, name: str, default: Any = None, validator: Any = None) -> Any:
        if validator is not None:
            raise Unsupported("uses config.get with a validator")
        return self._lookup(name, default)

    def require(self, name: str, validator: Any = None) -> Any:
        missing = object()
        value = self._lookup(name, missing)
        if value is missing or validator is not None:
            raise Unsupported(f"config.require('{name}')")
        return value

    def __getattr__(self, name: str) -> Any:
        if _is_probe(name):
            raise AttributeError(name)
        raise Unsupported(f"uses `config.{name}`")


class ParseConfig:
    """`config` while parsing: records `config(...)` calls (dbt's ParseConfigObject)."""

    def __init__(self, calls: list[dict[str, Any]]) -> None:
        self._calls = calls

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        if len(args) == 1 and not kwargs:
            options = args[0]
        elif not args and kwargs:
            options = kwargs
        else:
            raise RenderFailure("Invalid inline model config")
        if not isinstance(options, dict):
            raise Unsupported("config() with a non-dict argument")
        options = dict(options)
        for old in ("pre_hook", "post_hook"):
            if old in options:
                new = old.replace("_", "-")
                if new in options:
                    raise RenderFailure(f"conflicting config keys {old} and {new}")
                options[new] = options.pop(old)
        self._calls.append(options)
        return ""

    def set(self, name: str, value: Any) -> str:
        return self({name: value})

    def get(self, name: str, default: Any = None, validator: Any = None) -> str:
        return ""

    def require(self, name: str, validator: Any = None) -> str:
        return ""

    def meta_get(self, name: str, default: Any = None, validator: Any = None) -> str:
        return ""

    def meta_require(self, name: str, validator: Any = None) -> str:
        return ""

    def persist_relation_docs(self) -> bool:
        return False

    def persist_column_docs(self) -> bool:
        return False


@dataclass
class ParseRecord:
    """What parsing a model's code found: its refs, sources and `config()` calls."""

    refs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[list[str]] = field(default_factory=list)
    config_calls: list[dict[str, Any]] = field(default_factory=list)


class MacroCaller:
    """A macro as a template sees it: calling it renders the macro in the calling node's context."""

    def __init__(self, session: RenderSession, unique_id: str) -> None:
        self._session = session
        self.unique_id = unique_id

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call_macro(self.unique_id, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if _is_probe(name):
            raise AttributeError(name)
        raise Unsupported(f"uses attribute `{name}` of a macro")


class PackageNamespace(Mapping[str, Any]):
    """`dbt.some_macro` or `<project>.some_macro` in templates."""

    def __init__(self, session: RenderSession, names: Mapping[str, str]) -> None:
        self._session = session
        self._names = names

    def __getitem__(self, key: str) -> Any:
        return self._session.macro_caller(self._names[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, key: object) -> bool:
        return key in self._names


def _local_md5(value: str) -> str:
    import hashlib

    return hashlib.md5(value.encode("utf-8")).hexdigest()


def _fromjson(string: str, default: Any = None) -> Any:
    try:
        return json.loads(string)
    except ValueError:
        return default


def _tojson(value: Any, default: Any = None, sort_keys: bool = False) -> Any:
    try:
        return json.dumps(value, sort_keys=sort_keys)
    except ValueError:
        return default


def _fromyaml(value: str, default: Any = None) -> Any:
    import yaml

    try:
        return yaml.safe_load(value)
    except (AttributeError, ValueError, yaml.YAMLError):
        return default


def _toyaml(value: Any, default: str | None = None, sort_keys: bool = False) -> str | None:
    import yaml

    try:
        return yaml.safe_dump(data=value, sort_keys=sort_keys)
    except (ValueError, yaml.YAMLError):
        return default


def _set(value: Any, default: Any = None) -> Any:
    try:
        return set(value)
    except TypeError:
        return default


def _set_strict(value: Any) -> set[Any]:
    try:
        return set(value)
    except TypeError as exc:
        raise RenderFailure(str(exc)) from exc


def _zip(*args: Any, default: Any = None) -> Any:
    try:
        return zip(*args, strict=False)
    except TypeError:
        return default


def _return(value: Any) -> Any:
    raise MacroReturn(value)


def _log(msg: Any, info: bool = False) -> str:
    return ""


def _print(msg: Any) -> str:
    return ""


def _raise_compiler_error(msg: Any, node: Any = None) -> Any:
    raise RenderFailure(str(msg))


def _warn(msg: Any, node: Any = None) -> str:
    return ""


def _modules() -> dict[str, Any]:
    import datetime
    import itertools
    import re
    from importlib import import_module

    pytz = import_module("pytz")  # dbt exposes it; typed stubs may not be installed

    return {"datetime": datetime, "pytz": pytz, "re": re, "itertools": itertools}


_STATIC_MEMBERS: dict[str, Any] = {
    "return": _return,
    "log": _log,
    "print": _print,
    "fromjson": _fromjson,
    "tojson": _tojson,
    "fromyaml": _fromyaml,
    "toyaml": _toyaml,
    "set": _set,
    "set_strict": _set_strict,
    "zip": _zip,
    "zip_strict": _zip,
    "local_md5": _local_md5,
}


class RenderSession(Mapping[str, Any]):
    """The context of one render of one node (or of a schema-name macro): the Jinja context's parent mapping.

    Lookups resolve as dbt's context dict does: macros (the node's package, the root project, packages by
    name, `dbt`, then internal packages) shadow context members, which shadow nothing else.
    """

    def __init__(
        self,
        project: Any,  # framework.compile.renderer.ProjectModel (import cycle avoided)
        node: Mapping[str, Any] | None,
        mode: str,  # "compile" | "parse" | "names"
        trace: Trace,
        parse_record: ParseRecord | None = None,
    ) -> None:
        self.project = project
        self.node = node
        self.mode = mode
        self.trace = trace
        self.parse_record = parse_record
        self.package_name = node["package_name"] if node is not None else project.root_name
        self._members: dict[str, Any] = {}
        self._callers: dict[str, MacroCaller] = {}
        self._macros: dict[str, Callable[..., Any]] = {}
        self._depth = 0
        self.extra: dict[str, Any] = {}

    # --- Mapping protocol: what Jinja's context sees -----------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        if key in self.extra:
            return self.extra[key]
        unique_id = self.project.resolve_macro_name(key, self.package_name)
        if unique_id is not None:
            return self.macro_caller(unique_id)
        if key in self.project.package_names:
            return PackageNamespace(self, self.project.package_macros(key))
        return self.member(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return (
            key in self.extra
            or self.project.resolve_macro_name(key, self.package_name) is not None
            or key in self.project.package_names
            or key in DBT_CONTEXT_MEMBERS
        )

    def __iter__(self) -> Iterator[str]:
        raise Unsupported("iterates over the whole context")

    def __len__(self) -> int:
        raise Unsupported("measures the whole context")

    def __bool__(self) -> bool:
        return True

    def copy(self) -> dict[str, Any]:
        # Jinja copies the context only to show template locals in a traceback.
        return dict(self.extra)

    # --- macros -------------------------------------------------------------------------------------------

    def macro_caller(self, unique_id: str) -> MacroCaller:
        caller = self._callers.get(unique_id)
        if caller is None:
            caller = self._callers[unique_id] = MacroCaller(self, unique_id)
        return caller

    def call_macro(self, unique_id: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self.trace.macros.add(unique_id)
        if unique_id == "macro.dbt.is_incremental" and self.mode == "compile" and self.node is not None:
            # dbt's is_incremental() asks the warehouse whether the table exists, then requires an incremental
            # materialization: for any other materialization the answer is False whatever the warehouse says.
            config = self.node["config"]
            if config.get("materialized") != "incremental":
                return False
            if self.project.resolve_macro_name("should_full_refresh", self.package_name) != (
                "macro.dbt.should_full_refresh"
            ):
                raise Unsupported(
                    "is_incremental() with a project's own should_full_refresh()", volatile=True
                )
            this = self.this()
            kind = self.project.warehouse.relation_type(this.database, this.schema, this.identifier)
            self.trace.warehouse[
                "\0".join((this.database or "", this.schema or "", this.identifier or ""))
            ] = kind
            full_refresh = config.get("full_refresh")
            if full_refresh is None:
                full_refresh = COMPILE_FLAGS["FULL_REFRESH"]
            return kind == "table" and not full_refresh
        if self._depth == 0:
            self.trace.top_level_macros.append(unique_id)
        macro = self._macros.get(unique_id)
        if macro is None:
            template = self.project.macro_template(unique_id)
            module = template.make_module(vars=self)  # the macro sees this node's context, as in dbt
            macro = module.__dict__[jinja_env.dbt_macro_name(self.project.macros[unique_id]["name"])]
            self._macros[unique_id] = macro
        self._depth += 1
        try:
            return macro(*args, **kwargs)
        except MacroReturn as returned:
            return returned.value
        finally:
            self._depth -= 1

    def dispatch(self, macro_name: str, macro_namespace: str | None, packages: Any) -> MacroCaller:
        if "." in macro_name or packages is not None:
            raise RenderFailure(f"invalid adapter.dispatch call for '{macro_name}'")
        for package in self.project.dispatch_search_packages(macro_namespace):
            for prefix in self.project.dispatch_prefixes:
                unique_id = self.project.macro_in_package(
                    package, f"{prefix}__{macro_name}", self.package_name
                )
                if unique_id is not None:
                    return self.macro_caller(unique_id)
        raise RenderFailure(f"In dispatch: No macro named '{macro_name}' found within namespace")

    # --- context members ------------------------------------------------------------------------------------

    def member(self, key: str) -> Any:
        if key in self._members:
            return self._members[key]
        value = self._build_member(key)
        self._members[key] = value
        return value

    def _build_member(self, key: str) -> Any:
        if key in _STATIC_MEMBERS:
            return _STATIC_MEMBERS[key]
        project = self.project
        if key == "execute":
            return self.mode == "compile"
        if key in ("target", "env"):
            return StrictMapping(project.target, "target")
        if key == "env_var":
            return self.env_var
        if key == "var":
            return self.var
        if key == "project_name":
            return project.root_name
        if key == "dbt_version":
            return project.dbt_version
        if key == "database":
            return project.target.get("database")
        if key == "schema":
            return project.target.get("schema")
        if key == "adapter":
            return AdapterWrapper(self)
        if key == "flags":
            return StrictMapping(COMPILE_FLAGS, "flags")
        if key == "exceptions":
            return StrictMapping({"raise_compiler_error": _raise_compiler_error, "warn": _warn}, "exceptions")
        if key == "modules":
            return _modules()
        if key == "builtins":
            return _Builtins(self)
        if key == "context":
            return self
        if self.node is not None and self.mode != "names":
            if key == "ref":
                return self.ref
            if key == "source":
                return self.source
            if key == "this":
                return self.this()
            if key == "config":
                if self.mode == "parse":
                    assert self.parse_record is not None
                    return ParseConfig(self.parse_record.config_calls)
                return RuntimeConfig(self.node["config"])
            if key == "model":
                return self.project.model_view(self.node)
        if key in DBT_CONTEXT_MEMBERS:
            return UnsupportedMember(key)
        # not ours: Jinja's own globals (`namespace`, `range`, ...) come next, then Undefined, as in dbt
        raise KeyError(key)

    def env_var(self, name: str, default: str | None = None) -> str:
        if name.startswith(SECRET_ENV_PREFIX):
            raise Unsupported("reads a secret environment variable")
        value = self.project.environment.get(name)
        self.trace.env[name] = value
        if value is not None:
            return value
        if default is not None:
            return default
        raise RenderFailure(f"Env var required but not provided: '{name}'")

    _VAR_NOT_SET = object()

    def var(self, name: str, default: Any = _VAR_NOT_SET) -> Any:
        merged = self.project.vars_for(self.package_name)
        if name in merged:
            raw = merged[name]
            self.trace.vars[name] = json.dumps(raw, sort_keys=True, default=str)
            if not isinstance(raw, str):
                return raw
            return self.project.render_string(raw, self)
        self.trace.vars[name] = "<missing>"
        if default is not self._VAR_NOT_SET:
            return default
        if self.mode == "parse":
            return None
        raise RenderFailure(f"Required var '{name}' not found in config")

    def ref(self, *args: Any, **kwargs: Any) -> Relation:
        if len(args) == 1:
            package, name = None, args[0]
        elif len(args) == 2:
            package, name = args
        else:
            raise RenderFailure("ref() takes at most two arguments")
        version = kwargs.get("version") or kwargs.get("v")
        if version is not None:
            raise Unsupported("versioned ref")
        if not isinstance(name, str) or (package is not None and not isinstance(package, str)):
            raise RenderFailure("ref() arguments must be strings")
        assert self.node is not None
        if self.mode == "parse":
            assert self.parse_record is not None
            self.parse_record.refs.append({"name": name, "package": package, "version": None})
            return self.this()
        unique_id = self.project.resolve_ref(name, package, self.node["package_name"])
        if unique_id is None or unique_id not in self.node["depends_on"]["nodes"]:
            raise RenderFailure(f"ref('{name}') does not resolve to a dependency of this node")
        return self.project.relation_of(unique_id)

    def source(self, *args: Any) -> Relation:
        if len(args) != 2 or not all(isinstance(a, str) for a in args):
            raise RenderFailure("source() takes two string arguments")
        assert self.node is not None
        if self.mode == "parse":
            assert self.parse_record is not None
            self.parse_record.sources.append([args[0], args[1]])
            return self.this()
        unique_id = self.project.resolve_source(args[0], args[1], self.node["package_name"])
        if unique_id is None:
            raise RenderFailure(f"source('{args[0]}', '{args[1]}') was not found")
        return self.project.relation_of(unique_id)

    def this(self) -> Relation:
        assert self.node is not None
        return self.project.relation_of_node(self.node, parse_time=self.mode == "parse")


class _Builtins(Mapping[str, Any]):
    """`builtins.ref` and friends: the context members, never a macro overriding them."""

    def __init__(self, session: RenderSession) -> None:
        self._session = session

    def __getitem__(self, key: str) -> Any:
        if key not in DBT_CONTEXT_MEMBERS:
            raise KeyError(key)
        return self._session.member(key)

    def __iter__(self) -> Iterator[str]:
        return iter(DBT_CONTEXT_MEMBERS)

    def __len__(self) -> int:
        return len(DBT_CONTEXT_MEMBERS)
