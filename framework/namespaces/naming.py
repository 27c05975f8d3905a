"""Namespace names: where they come from and how they are made safe as schema/dataset identifiers."""

from __future__ import annotations

import getpass
import re
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from framework.config import Namespace

PRODUCTION = "prod"

# Identifier length limits per engine, in bytes (all our names are ASCII, so bytes == characters).
# The namespace is a prefix: leave room for "_<custom schema>" suffixes on engines with short limits.
IDENTIFIER_LIMITS = {"postgres": 63, "bigquery": 1024, "duckdb": 255}
NAMESPACE_LIMITS = {"postgres": 40, "bigquery": 512, "duckdb": 128}
DEFAULT_NAMESPACE_LIMIT = 40

# CI systems and the variable that identifies one run, in the order we look for them.
CI_RUN_VARIABLES = (
    ("GITHUB_RUN_ID", "GITHUB_ACTIONS"),
    ("CI_PIPELINE_ID", "GITLAB_CI"),
    ("BUILDKITE_BUILD_NUMBER", "BUILDKITE"),
    ("CIRCLE_WORKFLOW_ID", "CIRCLECI"),
    ("BUILD_ID", "JENKINS_URL"),
    ("OVERCLOCK_CI_RUN_ID", "CI"),
)

_SQL_WORDS = re.compile(
    r"\b(select|insert|update|delete|drop|alter|create|truncate|grant|union)\b|--|/\*|;", re.IGNORECASE
)


class NamespaceError(ValueError):
    """A namespace name that cannot be made into a safe identifier."""


def sanitize_namespace(raw: str, engine: str = "duckdb") -> str:
    """Return a lower-case `[a-z0-9_]` identifier starting with a letter, within the engine's limit.

    Deterministic. Input that carries SQL or quoting is rejected rather than cleaned: a name like
    `x; drop schema prod` is a mistake or an attack, and silently turning it into `x_drop_schema_prod`
    would hide either.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise NamespaceError("namespace is empty: pass --namespace NAME with letters, digits or underscores")
    if _SQL_WORDS.search(raw) or any(ch in raw for ch in "'\"`\\\x00"):
        raise NamespaceError(
            f"namespace {raw!r} contains quotes or SQL: use only letters, digits, '-', '.' or '_'"
        )
    ascii_only = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^a-z0-9]+", "_", ascii_only.lower()).strip("_")
    if not cleaned:
        raise NamespaceError(f"namespace {raw!r} has no letters or digits left after cleaning")
    if not cleaned[0].isalpha():
        cleaned = f"n_{cleaned}"
    limit = NAMESPACE_LIMITS.get(engine, DEFAULT_NAMESPACE_LIMIT)
    if len(cleaned) > limit:
        import hashlib

        digest = hashlib.sha256(cleaned.encode()).hexdigest()[:8]
        cleaned = f"{cleaned[: limit - 9].rstrip('_')}_{digest}"
    return cleaned


def _ci_run_id(env: Mapping[str, str]) -> str | None:
    for run_variable, marker in CI_RUN_VARIABLES:
        if env.get(marker) and env.get(run_variable):
            return env[run_variable]
    return None


def _developer(env: Mapping[str, str]) -> str:
    for variable in ("OVERCLOCK_USER", "USER", "LOGNAME"):
        if env.get(variable):
            return env[variable]
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "developer"


def resolve_namespace_name(
    engine: str,
    namespace: str | None = None,
    production: bool = False,
    env: Mapping[str, str] | None = None,
) -> Namespace:
    from framework.config import Namespace

    env = env or {}
    if production:
        if namespace and namespace != PRODUCTION:
            raise NamespaceError("--prod and --namespace exclude each other")
        return Namespace(PRODUCTION, is_production=True, source="production")
    if namespace:
        name, source = namespace, "flag"
    elif env.get("OVERCLOCK_NAMESPACE"):
        name, source = env["OVERCLOCK_NAMESPACE"], "env"
    elif (run_id := _ci_run_id(env)) is not None:
        name, source = f"ci_{run_id}", "ci"
    else:
        name, source = f"dev_{_developer(env)}", "user"
    cleaned = sanitize_namespace(name, engine)
    if cleaned == PRODUCTION:
        raise NamespaceError("the production namespace is chosen with --prod, never by name")
    return Namespace(cleaned, is_production=False, source=source)
