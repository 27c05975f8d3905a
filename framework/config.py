"""Resolve, once per invocation, the three things every command needs: project, target and namespace.

Nothing else in the package reads the environment on its own: commands call `resolve_settings()` and pass
the frozen `Settings` down. `Settings.dbt_env()` is the one place where our settings become the environment
variables that `project/profiles.yml` and the macros read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROJECT_DIR = REPO_ROOT / "project"

# The engines Overclock knows how to talk to beyond dbt itself (state tables, schema listing, dialects).
ENGINE_BY_ADAPTER_TYPE = {"duckdb": "duckdb", "postgres": "postgres", "bigquery": "bigquery"}


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and what to do."""


@dataclass(frozen=True)
class Project:
    """Where the dbt project, its profiles, its artifacts and Overclock's own state live."""

    project_dir: Path
    profiles_dir: Path
    home: Path  # Overclock's state: warehouse file, caches, backfill state for DuckDB
    data_dir: Path  # raw demo data, read by the sources
    target_path: Path  # dbt's artifacts: manifest.json, compiled SQL, partial parse state

    @property
    def manifest_path(self) -> Path:
        return self.target_path / "manifest.json"

    @property
    def is_default(self) -> bool:
        return self.project_dir == DEFAULT_PROJECT_DIR


@dataclass(frozen=True)
class Target:
    """A dbt target of the project's profile and the engine behind it."""

    name: str
    engine: str  # duckdb | postgres | bigquery | another adapter type
    profile_name: str
    outputs: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # Whether the output's schema (dataset) is `{{ env_var('OVERCLOCK_NAMESPACE') }}`: only then can an
    # invocation write into its namespace; otherwise dbt writes to the profile's own schema, as plain dbt.
    takes_namespace: bool = True


@dataclass(frozen=True)
class Namespace:
    """Where this invocation writes. Production is explicit; everything else is isolated."""

    name: str
    is_production: bool = False
    source: str = "default"  # flag | env | ci | user | production — for messages

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Settings:
    project: Project
    target: Target
    namespace: Namespace

    @property
    def duckdb_path(self) -> Path:
        override = os.environ.get("OVERCLOCK_DUCKDB_PATH")
        return Path(override) if override else self.project.home / "warehouse.duckdb"

    def namespace_refusal(self) -> str | None:
        """Why this invocation may not write (its namespace cannot apply to the project), or None."""
        if self.namespace.is_production or self.target.takes_namespace:
            return None
        schema = output_schema(self.target.outputs[self.target.name])
        return (
            f"namespace {self.namespace.name} cannot apply: target '{self.target.name}' of profile "
            f"'{self.target.profile_name}' writes to schema {schema!r}, not to "
            "\"{{ env_var('OVERCLOCK_NAMESPACE') }}\", so dbt would write to the project's own schemas. Set the "
            "profile's schema to that (README: Namespaces), or pass --prod to write where the profile says"
        )

    def dbt_env(self) -> dict[str, str]:
        """Environment variables read by `project/profiles.yml`, the sources and the schema macros."""
        return {
            "OVERCLOCK_TARGET": self.target.name,
            "OVERCLOCK_NAMESPACE": self.namespace.name,
            "OVERCLOCK_IS_PRODUCTION": "true" if self.namespace.is_production else "false",
            "OVERCLOCK_DUCKDB_PATH": str(self.duckdb_path),
            "OVERCLOCK_DATA_DIR": str(self.project.data_dir),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }


def resolve_project(
    project_dir: str | Path | None = None,
    profiles_dir: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Project:
    env = os.environ if env is None else env
    project = Path(project_dir or env.get("OVERCLOCK_PROJECT_DIR") or DEFAULT_PROJECT_DIR).resolve()
    if not (project / "dbt_project.yml").is_file():
        raise ConfigError(
            f"no dbt_project.yml in {project}: pass --project-dir pointing at a dbt project folder"
        )
    if profiles_dir:
        profiles = Path(profiles_dir).resolve()
    elif env.get("DBT_PROFILES_DIR"):
        profiles = Path(env["DBT_PROFILES_DIR"]).resolve()
    elif (project / "profiles.yml").is_file():
        profiles = project
    else:
        profiles = Path.home() / ".dbt"
    base = REPO_ROOT if project == DEFAULT_PROJECT_DIR else project
    home = Path(env.get("OVERCLOCK_HOME") or base / ".overclock").resolve()
    data = Path(env.get("OVERCLOCK_DATA_DIR") or base / "data").resolve()
    # dbt reads DBT_TARGET_PATH itself; we resolve it the same way so that our artifacts sit beside dbt's.
    target_path = Path(env.get("DBT_TARGET_PATH") or project / "target").resolve()
    return Project(
        project_dir=project, profiles_dir=profiles, home=home, data_dir=data, target_path=target_path
    )


def _render_profile_value(value: Any, env: Mapping[str, str]) -> Any:
    """Render the `{{ env_var(...) }}` templating dbt allows in profiles, with the same defaults."""
    if not isinstance(value, str) or "{{" not in value:
        return value
    import jinja2

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is None:
            raise ConfigError(f"profiles.yml needs environment variable {name}; set it or give a default")
        return default

    return jinja2.Environment().from_string(value).render(env_var=env_var)


def resolve_target(
    project: Project, target_name: str | None = None, env: Mapping[str, str] | None = None
) -> Target:
    import yaml

    env = os.environ if env is None else env
    try:
        project_yml = yaml.safe_load((project.project_dir / "dbt_project.yml").read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{project.project_dir / 'dbt_project.yml'} is not valid YAML: {exc}") from exc
    profile_name = str(project_yml.get("profile") or project_yml.get("name") or "default")
    profiles_file = project.profiles_dir / "profiles.yml"
    if not profiles_file.is_file():
        raise ConfigError(f"no profiles.yml in {project.profiles_dir}: pass --profiles-dir")
    profiles = yaml.safe_load(profiles_file.read_text()) or {}
    profile = profiles.get(profile_name)
    if not isinstance(profile, dict):
        raise ConfigError(f"profile '{profile_name}' is not in {profiles_file}")
    outputs = profile.get("outputs") or {}
    name = target_name or env.get("OVERCLOCK_TARGET") or _render_profile_value(profile.get("target"), env)
    if not name:
        raise ConfigError(f"profile '{profile_name}' has no default target: pass --target")
    if name not in outputs:
        known = ", ".join(sorted(outputs)) or "none"
        raise ConfigError(f"target '{name}' is not in profile '{profile_name}' (known: {known})")
    adapter_type = str(_render_profile_value(outputs[name].get("type"), env))
    return Target(
        name=str(name),
        engine=ENGINE_BY_ADAPTER_TYPE.get(adapter_type, adapter_type),
        profile_name=profile_name,
        outputs=outputs,
        takes_namespace="OVERCLOCK_NAMESPACE" in str(output_schema(outputs[name])),
    )


def output_schema(output: Mapping[str, Any]) -> Any:
    """A profile output's schema as written, unrendered (BigQuery calls it `dataset`)."""
    return output.get("schema", output.get("dataset"))


def parse_vars(text: str | None) -> dict[str, Any]:
    """`--vars` as dbt reads it, a YAML dictionary; anything else is a one-line ConfigError."""
    import yaml

    if not text:
        return {}
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (
            f" at column {mark.column + 1}" + (f" of line {mark.line + 1}" if mark.line else "")
            if mark
            else ""
        )
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"--vars is not valid YAML: {problem}{where}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"--vars must be a YAML dictionary, e.g. --vars '{{key: value}}', got {text!r}")
    return loaded


def resolve_namespace(
    target: Target,
    namespace: str | None = None,
    production: bool = False,
    env: Mapping[str, str] | None = None,
) -> Namespace:
    """Where this invocation writes. The first of: `--namespace`, `OVERCLOCK_NAMESPACE`, a CI run
    (`ci_<run id>`), the developer (`dev_<user>`). Production only when asked for with `--prod`."""
    from framework.namespaces import naming

    env = os.environ if env is None else env
    if production:
        if namespace is not None:
            raise naming.NamespaceError("--prod and --namespace exclude each other: pass one of them")
        return Namespace(naming.PRODUCTION, is_production=True, source="production")
    if namespace is not None:  # an empty --namespace is refused, not taken for "not given"
        raw, source = namespace, "flag"
    elif env.get("OVERCLOCK_NAMESPACE"):
        raw, source = env["OVERCLOCK_NAMESPACE"], "env"
    elif (run_id := naming.ci_run_id(env)) is not None:
        raw, source = f"ci_{run_id}", "ci"
    else:
        raw, source = f"dev_{naming.developer_name(env)}", "user"
    return Namespace(naming.sanitize_namespace(raw, target.engine), is_production=False, source=source)


def resolve_owner(env: Mapping[str, str] | None = None) -> str:
    """Who runs this invocation, as the namespace registry records it: the CI actor, else the developer."""
    from framework.namespaces.naming import owner_name

    return owner_name(os.environ if env is None else env)


def resolve_settings(
    project_dir: str | Path | None = None,
    profiles_dir: str | Path | None = None,
    target: str | None = None,
    namespace: str | None = None,
    production: bool = False,
    env: Mapping[str, str] | None = None,
) -> Settings:
    env = os.environ if env is None else env
    project = resolve_project(project_dir, profiles_dir, env)
    resolved_target = resolve_target(project, target, env)
    resolved_namespace = resolve_namespace(resolved_target, namespace, production, env)
    return Settings(project=project, target=resolved_target, namespace=resolved_namespace)
