"""Namespace names: where they come from and how they become safe schema (BigQuery: dataset) identifiers.

A namespace is a lower-case `[a-z0-9_]` identifier that starts with a letter, never contains `__` (that joins
a namespace to its custom schemas: `dev_ana__staging`), fits the engine's identifier limit with room for
those suffixes, and needs no quoting on any engine. Cleaning is deterministic; input that looks like SQL or
would need quoting is rejected, never cleaned into something plausible.

Kept free of heavy imports: every `overclock` command resolves its namespace before doing anything else.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import unicodedata
from collections.abc import Mapping

from framework.config import ConfigError

PRODUCTION = "prod"
SCHEMA_SEPARATOR = "__"

# Identifier limits per engine, in bytes (a sanitised name is ASCII, so bytes == characters). PostgreSQL
# silently truncates longer names, which could make two namespaces share a schema: the macros refuse them.
IDENTIFIER_LIMITS = {"postgres": 63, "bigquery": 1024, "duckdb": 255}
# A namespace is the prefix of `<namespace>__<custom schema>`: on PostgreSQL that leaves 21 characters for
# `__intermediate` and its kind.
NAMESPACE_LIMITS = {"postgres": 40, "bigquery": 512, "duckdb": 128}
DEFAULT_NAMESPACE_LIMIT = 40  # unknown engines: as strict as PostgreSQL

# CI systems: the variable naming one run, and the variable that says we are on that system. Parallel jobs
# of one run share its namespace (set OVERCLOCK_NAMESPACE per job to separate them).
CI_RUN_VARIABLES = (
    ("GITHUB_RUN_ID", "GITHUB_ACTIONS"),
    ("CI_PIPELINE_ID", "GITLAB_CI"),
    ("BUILDKITE_BUILD_ID", "BUILDKITE"),
    ("CIRCLE_WORKFLOW_ID", "CIRCLECI"),
    ("BUILD_TAG", "JENKINS_URL"),
    ("BUILD_BUILDID", "TF_BUILD"),
    ("TRAVIS_BUILD_ID", "TRAVIS"),
)
CI_ACTOR_VARIABLES = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILDKITE_BUILD_CREATOR", "CIRCLE_USERNAME")

# Accounts that many people share (containers, CI runners, cloud images): `dev_root` would put everybody in
# one namespace, so for these the developer is taken from git config instead.
SHARED_ACCOUNTS = frozenset(
    {
        "root", "admin", "administrator", "user", "ubuntu", "debian", "ec2-user", "vscode", "codespace",
        "gitpod", "node", "runner", "jenkins", "docker", "app", "nobody",
    }
)  # fmt: skip

# Separators a name may contain; each run of them becomes one `_`. Everything else that is not a letter or
# digit (quotes, `;`, `*`, `(`, `=`, `,`, backslash, control characters, ...) is rejected.
SEPARATORS = frozenset(" -./@+:_")
# Letters that Unicode decomposition does not reduce to ASCII but that have a customary spelling.
_TRANSLITERATION = str.maketrans(
    {"ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "œ": "oe", "þ": "th", "ð": "d", "ı": "i"}
)
# Words that turn a multi-word name into a statement: `ana drop schema prod` is a mistake or an attack.
STATEMENT_WORDS = frozenset(
    {
        "select", "insert", "update", "delete", "merge", "drop", "alter", "create", "truncate", "grant",
        "revoke", "union", "exec", "execute", "call", "copy", "attach", "detach", "pragma", "declare",
    }
)  # fmt: skip
# Words reserved (unusable as an unquoted schema name) in PostgreSQL (reserved and type/function names),
# DuckDB or BigQuery, or that sqlglot (which reads our compiled SQL in `overclock check`) cannot read as a
# schema name. tests/unit/test_namespace_naming.py checks this against the engines' and sqlglot's own lists.
SQL_KEYWORDS = frozenset(
    """
    all analyse analyze and anti any array as asc asof assert_rows_modified asymmetric at authorization
    between binary both by case cast check collate collation column columns concurrently constraint contains
    create cross cube current current_catalog current_date current_role current_schema current_time
    current_timestamp current_user default deferrable define desc describe distinct do else end enum escape
    except exclude exists extract false fetch following for foreign freeze from full generated glob group
    grouping groups hash having if ignore ilike in initially inner intersect interval into is isnull join
    lambda lateral leading left like limit localtime localtimestamp lookup map merge natural new no not
    notnull null nulls of offset on only or order outer over overlaps partition pivot pivot_longer
    pivot_wider placing positional preceding primary proto qualify range recursive references respect
    returning right rollup rows select semi session_user set show similar some struct summarize symmetric
    table tablesample then to trailing treat true try_cast tuple unbounded union unique unnest unpack unpivot
    user using variadic verbose when where window with within
    alter drop force grant insert install partitioned_by regexp revoke rlike rollback uncache values xor
    """.split()  # noqa: SIM905  (a word list reads better as text)
)
# Schemas that are not anybody's namespace: engine defaults and system schemas, and Overclock's own state.
RESERVED_NAMES = frozenset({PRODUCTION, "main", "public", "information_schema", "temp", "system"})
RESERVED_PREFIXES = ("pg_", "overclock")


class NamespaceError(ConfigError):
    """A namespace name that cannot be made into a safe identifier; the message says why and what to do."""


def namespace_limit(engine: str) -> int:
    return NAMESPACE_LIMITS.get(engine, DEFAULT_NAMESPACE_LIMIT)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _rejection(raw: str, text: str) -> str | None:
    """Why `text` (the NFKC form of `raw`) is rejected rather than cleaned, or None."""
    for character in text:
        if not (character.isalnum() or character in SEPARATORS):
            shown = repr(character) if character.isprintable() else f"U+{ord(character):04X}"
            return (
                f"namespace {raw!r} contains {shown}: use letters, digits and the separators "
                "space - . / @ + : _"
            )
    if "--" in text:
        return f"namespace {raw!r} contains '--' (an SQL comment): use a single '-' or '_'"
    words = text.lower().split()
    if len(words) > 1 and (statement := STATEMENT_WORDS.intersection(words)):
        return f"namespace {raw!r} reads like SQL (the word {min(statement)!r}): use a plain name such as ana_test"
    return None


def sanitize_namespace(raw: str, engine: str = "duckdb") -> str:
    """The namespace identifier for `raw` on `engine`, or NamespaceError saying why there is none.

    Deterministic: letters are lower-cased and reduced to ASCII (`José` -> `jose`); each run of separators
    becomes one `_`; letters without an ASCII spelling are replaced by a digest of the whole input, so
    distinct names stay distinct; a leading digit gets an `n_` prefix; a name over the engine's limit is cut
    and ends in a digest of the full name.
    """
    if not isinstance(raw, str):
        raise NamespaceError(f"namespace must be text, not {type(raw).__name__}")
    # NFKC first: full-width and other compatibility forms of `;` or `'` become the characters we reject.
    # Only spaces are trimmed: a newline or tab anywhere is a control character, and rejected.
    text = unicodedata.normalize("NFKC", raw).strip(" ")
    if not text:
        raise NamespaceError("namespace is empty: name it with letters, digits and underscores")
    if (reason := _rejection(raw, text)) is not None:
        raise NamespaceError(reason)
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_TRANSLITERATION))
    ascii_text = "".join(c for c in decomposed if c.isascii())
    lost = any(c.isalnum() and not c.isascii() and not unicodedata.combining(c) for c in decomposed)
    cleaned = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")
    if lost:
        cleaned = f"{cleaned}_{_digest(text)}".lstrip("_")
    if not cleaned:
        raise NamespaceError(
            f"namespace {raw!r} has no letters or digits: name it with letters, digits and underscores"
        )
    if not cleaned[0].isalpha():
        cleaned = f"n_{cleaned}"
    limit = namespace_limit(engine)
    if len(cleaned) > limit:
        cleaned = f"{cleaned[: limit - 9].rstrip('_')}_{_digest(cleaned)}"
    if cleaned == PRODUCTION:
        raise NamespaceError("production is chosen with --prod, never by name: pick another namespace")
    if cleaned in RESERVED_NAMES or cleaned.startswith(RESERVED_PREFIXES):
        raise NamespaceError(
            f"namespace {raw!r} would be the schema {cleaned!r}, which is reserved: pick another name"
        )
    if cleaned in SQL_KEYWORDS:
        raise NamespaceError(
            f"namespace {raw!r} would be the SQL keyword {cleaned!r}, which needs quoting: pick another name"
        )
    return cleaned


def ci_run_id(env: Mapping[str, str]) -> str | None:
    """The run id of the CI system we are running on, or None outside CI."""
    for run_variable, marker in CI_RUN_VARIABLES:
        if env.get(marker) and env.get(run_variable):
            return env[run_variable]
    return None


def _os_user(env: Mapping[str, str]) -> str | None:
    for variable in ("LOGNAME", "USER", "USERNAME"):
        if env.get(variable):
            return env[variable].rsplit("\\", 1)[-1]  # Windows: DOMAIN\user
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):  # no passwd entry in some containers
        return None


def _git_config(key: str, env: Mapping[str, str]) -> str | None:
    try:
        result = subprocess.run(
            ["git", "config", "--get", key],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = result.stdout.strip()
    return value if result.returncode == 0 and value else None


def developer_name(env: Mapping[str, str]) -> str:
    """Who is running: the OS user, or for shared accounts (root, runner...) the git identity."""
    os_user = _os_user(env)
    if os_user and os_user.lower() not in SHARED_ACCOUNTS:
        return os_user
    email = _git_config("user.email", env)
    if email and email.split("@", 1)[0]:
        return email.split("@", 1)[0]
    name = _git_config("user.name", env)
    if name:
        return name
    if os_user:
        return os_user
    raise NamespaceError(
        "cannot tell who you are (no OS user name, no git user.email): pass --namespace or set OVERCLOCK_NAMESPACE"
    )


def owner_name(env: Mapping[str, str]) -> str:
    """Who to record as having built a namespace: the CI actor on CI, the developer otherwise."""
    for variable in CI_ACTOR_VARIABLES:
        if env.get(variable):
            return env[variable]
    try:
        return developer_name(env)
    except NamespaceError:
        return "unknown"


def schema_belongs_to(schema: str, namespace: str) -> bool:
    """Whether `schema` is the namespace's target schema or one of its custom schemas (non-production)."""
    return schema == namespace or schema.startswith(namespace + SCHEMA_SEPARATOR)


def namespace_of_schema(schema: str) -> str:
    """The namespace a non-production schema belongs to (`dev_ana__staging` -> `dev_ana`)."""
    return schema.split(SCHEMA_SEPARATOR, 1)[0]
