"""Namespace names: the sanitiser's guarantees (property-based) and the resolution order of config.py."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from framework.config import Target, resolve_namespace
from framework.namespaces import naming
from framework.namespaces.naming import (
    IDENTIFIER_LIMITS,
    SQL_KEYWORDS,
    NamespaceError,
    sanitize_namespace,
)

ENGINES = ("duckdb", "postgres", "bigquery")
IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")  # lower case, starts with a letter, no `__`
HOSTILE_CHARACTERS = "'\"`;\\\x00\n\t*()=,%$#?!<>|&[]{}~^"
HOSTILE_EXAMPLES = [
    "ana'; drop schema prod; --",
    'ana"',
    "ana`",
    "ana;",
    "ana -- comment",
    "ana/* c */",
    "ana drop schema prod",
    "x union select 1",
    "ana\\",
    "ana\x00",
    "ana\nb",
    "ａｎａ；",  # full-width semicolon: NFKC makes it ';'
    "",
    "   ",
    "___",
    "...",
    "prod",
    "PROD",
    "main",
    "public",
    "information_schema",
    "pg_catalog",
    "pg_ana",
    "overclock_meta",
    "select",
    "user",
    "order",
    "😀",
]


_DUCKDB = duckdb.connect()


def engine_accepts_unquoted(name: str, engine: str) -> bool:
    """The identifier rules of each engine, checked against the engines' own parsers where we have them."""
    if not IDENTIFIER.fullmatch(name) or len(name.encode()) > IDENTIFIER_LIMITS[engine]:
        return False
    if engine == "postgres" and name.startswith("pg_"):
        return False  # "unacceptable schema name: the prefix pg_ is reserved"
    dialect = "postgres" if engine == "postgres" else engine
    try:
        table = sqlglot.parse_one(f"select * from {name}.t", read=dialect).find(exp.Table)
    except sqlglot.errors.ParseError:
        return False
    if table is None or table.db != name or table.args["db"].quoted:
        return False
    if engine == "duckdb":  # and the engine itself, where it runs in process
        try:
            _DUCKDB.execute(f"create schema {name}")
            _DUCKDB.execute(f"drop schema {name}")
        except duckdb.Error:
            return False
    return True


@settings(max_examples=400, deadline=None)
@given(raw=st.text(max_size=80), engine=st.sampled_from(ENGINES))
@example(raw="Ana.Smith", engine="postgres")
@example(raw="José Müller", engine="duckdb")
@example(raw="feature/ADD-search-feed", engine="bigquery")
@example(raw="张伟", engine="postgres")
@example(raw="x" * 5000, engine="bigquery")
@example(raw="12345", engine="postgres")
def test_every_accepted_name_is_a_safe_stable_identifier(raw: str, engine: str) -> None:
    try:
        name = sanitize_namespace(raw, engine)
    except NamespaceError as error:
        assert str(error), "a rejection says why"
        return
    assert IDENTIFIER.fullmatch(name), name
    assert len(name) <= naming.namespace_limit(engine) <= IDENTIFIER_LIMITS[engine]
    assert name not in SQL_KEYWORDS and name != naming.PRODUCTION
    assert engine_accepts_unquoted(name, engine)
    assert sanitize_namespace(raw, engine) == name, "deterministic"
    assert sanitize_namespace(name, engine) == name, "an accepted name is its own clean form"


@given(
    prefix=st.text(max_size=20),
    hostile=st.sampled_from(HOSTILE_CHARACTERS),
    suffix=st.text(max_size=20),
    engine=st.sampled_from(ENGINES),
)
def test_quotes_semicolons_and_control_characters_are_rejected(
    prefix: str, hostile: str, suffix: str, engine: str
) -> None:
    with pytest.raises(NamespaceError):
        sanitize_namespace(prefix + hostile + suffix, engine)


@given(words=st.lists(st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True), min_size=1, max_size=3))
def test_multi_word_names_holding_a_statement_are_rejected(words: list[str]) -> None:
    with pytest.raises(NamespaceError, match="SQL"):
        sanitize_namespace(" ".join([*words, "DROP", "schema"]))


@pytest.mark.parametrize("raw", HOSTILE_EXAMPLES)
@pytest.mark.parametrize("engine", ENGINES)
def test_hostile_input_is_cleaned_or_rejected_never_passed_through(raw: str, engine: str) -> None:
    try:
        name = sanitize_namespace(raw, engine)
    except NamespaceError:
        return
    assert name != raw and IDENTIFIER.fullmatch(name) and engine_accepts_unquoted(name, engine)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ana", "ana"),
        ("Ana.Smith", "ana_smith"),
        ("dev_Ana-Smith", "dev_ana_smith"),
        ("José Müller", "jose_muller"),
        ("Straße", "strasse"),
        ("ci_1234567", "ci_1234567"),
        ("dev__ana", "dev_ana"),
        ("_ana_", "ana"),
        ("12345", "n_12345"),
        ("ana@example.com", "ana_example_com"),
        ("feature/ADD-search-feed", "feature_add_search_feed"),
    ],
)
def test_cleaning(raw: str, expected: str) -> None:
    assert sanitize_namespace(raw, "postgres") == expected


def test_letters_without_ascii_spelling_keep_distinct_names() -> None:
    first, second = sanitize_namespace("dev_张伟"), sanitize_namespace("dev_李娜")
    assert first != second and first.startswith("dev_") and second.startswith("dev_")


def test_long_names_are_cut_to_the_engine_limit_with_a_digest() -> None:
    long_a, long_b = "dev_" + "a" * 100, "dev_" + "a" * 99 + "b"
    cut_a, cut_b = sanitize_namespace(long_a, "postgres"), sanitize_namespace(long_b, "postgres")
    assert len(cut_a) == len(cut_b) == naming.namespace_limit("postgres")
    assert cut_a != cut_b, "names that differ only past the limit stay different"
    # The longest custom schema of our projects still fits PostgreSQL's 63 bytes after the namespace.
    assert len(f"{cut_a}__intermediate") <= IDENTIFIER_LIMITS["postgres"]
    assert len(sanitize_namespace("x" * 5000, "bigquery")) <= IDENTIFIER_LIMITS["bigquery"]


def test_keyword_list_covers_duckdbs_reserved_words() -> None:
    reserved = {
        row[0]
        for row in duckdb.sql(
            "select keyword_name from duckdb_keywords() where keyword_category in ('reserved', 'type_function')"
        ).fetchall()
    }
    assert reserved <= SQL_KEYWORDS


def test_keyword_list_covers_what_sqlglot_cannot_read_as_a_schema() -> None:
    from sqlglot.dialects import Dialect

    words = {
        keyword.lower()
        for engine in ENGINES
        for keyword in Dialect.get_or_raise(engine).tokenizer_class.KEYWORDS
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", keyword)
    }
    unreadable = {word for word in words for engine in ENGINES if not engine_accepts_unquoted(word, engine)}
    assert unreadable - {word for word in unreadable if word.startswith("pg_")} <= SQL_KEYWORDS


def test_keyword_list_covers_bigquerys_reserved_words() -> None:
    from sqlglot.dialects.bigquery import BigQuery

    assert {word.lower() for word in BigQuery.Generator.RESERVED_KEYWORDS} <= SQL_KEYWORDS


# --- resolution order --------------------------------------------------------------------------------------

DUCKDB = Target(name="local", engine="duckdb", profile_name="overclock")


@pytest.fixture
def no_git(tmp_path: Path) -> dict[str, str]:
    """An environment in which git config says nothing (no global or system file, outside a repository)."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GIT_CONFIG_GLOBAL": str(empty),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CEILING_DIRECTORIES": str(tmp_path.parent),
        "GIT_DIR": str(tmp_path / "no-repository"),
    }


def test_flag_beats_environment_beats_ci_beats_user(no_git: dict[str, str]) -> None:
    env = {**no_git, "USER": "ana", "OVERCLOCK_NAMESPACE": "Team-X", "GITHUB_ACTIONS": "true"}
    env["GITHUB_RUN_ID"] = "991"
    assert resolve_namespace(DUCKDB, "Mine", env=env).name == "mine"
    assert resolve_namespace(DUCKDB, env=env).name == "team_x"
    del env["OVERCLOCK_NAMESPACE"]
    resolved = resolve_namespace(DUCKDB, env=env)
    assert (resolved.name, resolved.source) == ("ci_991", "ci")
    del env["GITHUB_ACTIONS"]
    resolved = resolve_namespace(DUCKDB, env=env)
    assert (resolved.name, resolved.source, resolved.is_production) == ("dev_ana", "user", False)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"GITLAB_CI": "true", "CI_PIPELINE_ID": "77"}, "ci_77"),
        ({"BUILDKITE": "true", "BUILDKITE_BUILD_ID": "0190-ab"}, "ci_0190_ab"),
        ({"CIRCLECI": "true", "CIRCLE_WORKFLOW_ID": "c1"}, "ci_c1"),
        ({"JENKINS_URL": "http://j", "BUILD_TAG": "jenkins-etl/main-12"}, "ci_jenkins_etl_main_12"),
        ({"TF_BUILD": "True", "BUILD_BUILDID": "5"}, "ci_5"),
        ({"GITHUB_RUN_ID": "5"}, "dev_ana"),  # a run id without its CI marker is not CI
    ],
)
def test_ci_systems(variables: dict[str, str], expected: str, no_git: dict[str, str]) -> None:
    assert resolve_namespace(DUCKDB, env={**no_git, "USER": "ana", **variables}).name == expected


def test_shared_accounts_use_the_git_identity(no_git: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\temail = Ana.Smith@example.com\n\tname = Ana Smith\n")
    assert resolve_namespace(DUCKDB, env={**no_git, "USER": "root"}).name == "dev_ana_smith"
    config.write_text("[user]\n\tname = Ana Smith\n")
    assert resolve_namespace(DUCKDB, env={**no_git, "USER": "root"}).name == "dev_ana_smith"
    config.write_text("")
    assert resolve_namespace(DUCKDB, env={**no_git, "USER": "root"}).name == "dev_root"
    assert resolve_namespace(DUCKDB, env={**no_git, "USER": "CORP\\Bob"}).name == "dev_bob"


def test_production_only_when_asked_for(no_git: dict[str, str]) -> None:
    env = {**no_git, "USER": "ana", "OVERCLOCK_NAMESPACE": "team"}
    production = resolve_namespace(DUCKDB, production=True, env=env)
    assert (production.name, production.is_production) == ("prod", True)
    for by_name in ("prod", "PROD", " prod "):
        with pytest.raises(NamespaceError, match="--prod"):
            resolve_namespace(DUCKDB, by_name, env=env)
    with pytest.raises(NamespaceError, match="--prod"):
        resolve_namespace(DUCKDB, env={**env, "OVERCLOCK_NAMESPACE": "prod"})
    with pytest.raises(NamespaceError, match="exclude"):
        resolve_namespace(DUCKDB, "ana", production=True, env=env)


def test_schemas_of_a_namespace_are_exactly_its_own() -> None:
    assert naming.schema_belongs_to("dev_ana", "dev_ana")
    assert naming.schema_belongs_to("dev_ana__staging", "dev_ana")
    assert not naming.schema_belongs_to("dev_ana_bob", "dev_ana")
    assert not naming.schema_belongs_to("dev_ana_bob__staging", "dev_ana")
    assert naming.namespace_of_schema("dev_ana_bob__staging") == "dev_ana_bob"
