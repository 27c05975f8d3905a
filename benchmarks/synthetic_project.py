"""A synthetic dbt project of any size, for benchmarks and for tests that need a big DAG.

`generate_project(path, n_models)` writes a complete, deterministic dbt project (DuckDB profile) shaped like a
large team's: sources, three layers (staging → intermediate → marts), each model with `parents_per_model`
refs to earlier models, two macro calls (one of them through `adapter.dispatch`), a `config()` block, a
var-guarded clause, and schema .yml files with descriptions, owners and tests. The project's schema naming
macro reads the same environment variables as the repository's own (`OVERCLOCK_IS_PRODUCTION`), so
namespaces apply exactly as in the real project.

Models are named `model_00000` … and live in `models/<layer>/`; `model_name(i)` gives the name of model `i`.
The `edit_*` helpers apply the kinds of edit the compile-cache benchmark and tests measure. The same
arguments always give byte-identical files.

Sources are tables `raw.events_<k>` with columns `id, amount, quantity, is_deleted, updated_at`;
`create_source_tables(duckdb_path, project)` creates them (empty) so that the project can also be built.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

PROJECT_NAME = "synthetic"
LAYERS = ("staging", "intermediate", "marts")
SOURCE_NAME = "raw"
COLUMNS = ("id", "amount", "quantity", "is_deleted", "updated_at")

_DBT_PROJECT = """\
name: {name}
version: "1.0.0"
config-version: 2
profile: {name}

model-paths: ["models"]
macro-paths: ["macros"]
target-path: "target"

flags:
  send_anonymous_usage_stats: false

vars:
  filter_deleted: false

models:
  {name}:
    staging:
      +schema: staging
      +materialized: view
    intermediate:
      +schema: intermediate
      +materialized: table
    marts:
      +schema: marts
      +materialized: table

data_tests:
  {name}:
    +schema: audit
"""

_PROFILES = """\
{name}:
  target: local
  outputs:
    local:
      type: duckdb
      path: "{{{{ env_var('OVERCLOCK_DUCKDB_PATH', 'synthetic.duckdb') }}}}"
      schema: "{{{{ env_var('OVERCLOCK_NAMESPACE', 'main') }}}}"
      threads: 4
"""

# The repository's schema naming rule (macros/generate_schema_name.sql), copied so the project stands alone.
_GENERATE_SCHEMA_NAME = """\
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set is_production = env_var('OVERCLOCK_IS_PRODUCTION', 'false') == 'true' -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- elif is_production -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema | trim }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
"""

_SAFE_DIVIDE = """\
{% macro safe_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_divide')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__safe_divide(numerator, denominator) -%}
    case when {{ denominator }} = 0 then null else {{ numerator }} / {{ denominator }} end
{%- endmacro %}

{% macro duckdb__safe_divide(numerator, denominator) -%}
    {{ numerator }} / nullif({{ denominator }}, 0)
{%- endmacro %}
"""

_HELPER_MACRO = """\
{{% macro scale_{index}(column) -%}}
    round({{{{ column }}}} * {factor}, {digits})
{{%- endmacro %}}
"""


@dataclass(frozen=True)
class SyntheticProject:
    """What `generate_project` wrote: the project folder and the shape of its DAG."""

    path: Path
    n_models: int
    parents: dict[str, list[str]]  # model name -> the models it refs
    n_macros: int
    n_sources: int

    def model_path(self, name: str) -> Path:
        return self.path / "models" / layer_of(self, name) / f"{name}.sql"

    def children(self, name: str) -> list[str]:
        return sorted(child for child, parents in self.parents.items() if name in parents)

    def users_of_macro(self, index: int) -> list[str]:
        return [model_name(i) for i in range(self.n_models) if i % self.n_macros == index]


def model_name(index: int) -> str:
    return f"model_{index:05d}"


def _layer_sizes(n_models: int) -> tuple[int, int]:
    """How many models are staging and intermediate; the rest are marts."""
    staging = max(1, n_models // 10)
    intermediate = max(0, (n_models * 7) // 10 - staging)
    return staging, intermediate


def _layer(index: int, n_models: int) -> str:
    staging, intermediate = _layer_sizes(n_models)
    if index < staging:
        return "staging"
    return "intermediate" if index < staging + intermediate else "marts"


def layer_of(project: SyntheticProject, name: str) -> str:
    return _layer(int(name.split("_")[1]), project.n_models)


def _model_sql(index: int, parents: list[str], n_models: int, n_macros: int, n_sources: int) -> str:
    layer = _layer(index, n_models)
    materialized = "view" if layer == "staging" else "table"
    lines = [
        f"{{{{ config(materialized='{materialized}', tags=['synthetic', 'group_{index % 7}']) }}}}",
        "",
        "with",
        "",
    ]
    if parents:
        imports = [f"{parent} as (\n    select * from {{{{ ref('{parent}') }}}}\n)," for parent in parents]
        union = "\n    union all\n".join(f"    select * from {parent}" for parent in parents)
    else:
        table = f"events_{index % n_sources}"
        imports = [f"source_rows as (\n    select * from {{{{ source('{SOURCE_NAME}', '{table}') }}}}\n),"]
        union = "    select * from source_rows"
    lines += imports
    lines += [
        "",
        "unioned as (",
        "",
        union,
        "",
        "),",
        "",
        "final as (",
        "",
        "    select",
        "        id,",
        f"        {{{{ scale_{index % n_macros}('amount') }}}} as amount,",
        "        quantity,",
        "        {{ safe_divide('amount', 'quantity') }} as amount_per_unit,",
        "        is_deleted,",
        "        updated_at",
        "    from unioned",
        "    {% if var('filter_deleted', false) %}",
        "    where not is_deleted",
        "    {% endif %}",
        "",
        ")",
        "",
        "select * from final",
        "",
    ]
    return "\n".join(lines)


def _schema_yml(names: list[str], first_index: int, tests_every: int) -> str:
    lines = ["version: 2", "", "models:"]
    for offset, name in enumerate(names):
        index = first_index + offset
        lines += [
            f"  - name: {name}",
            f"    description: Synthetic model {index}.",
            "    config:",
            "      meta:",
            f"        owner: team_{index % 5}",
            "    columns:",
            "      - name: id",
            "        description: Row identifier.",
        ]
        if tests_every and index % tests_every == 0:
            lines += ["        data_tests:", "          - not_null", "          - unique"]
        lines += ["      - name: amount", "        description: Scaled amount."]
    return "\n".join(lines) + "\n"


def _sources_yml(n_sources: int) -> str:
    lines = ["version: 2", "", "sources:", f"  - name: {SOURCE_NAME}", "    schema: raw", "    tables:"]
    for k in range(n_sources):
        lines += [f"      - name: events_{k}", f"        description: Raw events, partition {k}."]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def plan_project(
    path: str | Path,
    n_models: int,
    *,
    parents_per_model: int = 3,
    n_macros: int = 10,
    n_sources: int = 10,
    seed: int = 0,
) -> SyntheticProject:
    """The project `generate_project` writes with these arguments, without writing anything (e.g. to go on
    editing a project generated earlier)."""
    if n_models < 1:
        raise ValueError("n_models must be at least 1")
    rng = random.Random(seed)
    staging, intermediate = _layer_sizes(n_models)
    parents: dict[str, list[str]] = {}
    for index in range(n_models):
        layer = _layer(index, n_models)
        if layer == "staging":
            pool: range = range(0)
        elif layer == "intermediate":
            pool = range(0, index)
        else:
            pool = range(staging, staging + intermediate) if intermediate else range(0, staging)
        count = min(parents_per_model, len(pool))
        parents[model_name(index)] = [model_name(i) for i in sorted(rng.sample(pool, count))]
    return SyntheticProject(Path(path), n_models, parents, n_macros, n_sources)


def generate_project(
    path: str | Path,
    n_models: int,
    *,
    parents_per_model: int = 3,
    n_macros: int = 10,
    n_sources: int = 10,
    tests_every: int = 5,
    seed: int = 0,
) -> SyntheticProject:
    """Write a synthetic dbt project of `n_models` models into `path` (created; existing files overwritten).

    Every model but the staging ones refs `parents_per_model` distinct earlier models (intermediate models ref
    staging or intermediate ones, marts ref intermediate ones); staging models read one source each. Model `i`
    calls macro `scale_<i % n_macros>` (so each helper macro is used by 1/n_macros of the models) and
    `safe_divide` (dispatched per adapter). Every `tests_every`-th model has not_null and unique tests on `id`.
    """
    planned = plan_project(
        path, n_models, parents_per_model=parents_per_model, n_macros=n_macros, n_sources=n_sources, seed=seed
    )
    root, parents = planned.path, planned.parents
    _write(root / "dbt_project.yml", _DBT_PROJECT.format(name=PROJECT_NAME))
    _write(root / "profiles.yml", _PROFILES.format(name=PROJECT_NAME))
    _write(root / "macros" / "generate_schema_name.sql", _GENERATE_SCHEMA_NAME)
    _write(root / "macros" / "safe_divide.sql", _SAFE_DIVIDE)
    for index in range(n_macros):
        text = _HELPER_MACRO.format(index=index, factor=1 + index / 100, digits=2 + index % 3)
        _write(root / "macros" / "helpers" / f"scale_{index}.sql", text)
    _write(root / "models" / "staging" / "_sources.yml", _sources_yml(n_sources))
    by_layer: dict[str, list[int]] = {layer: [] for layer in LAYERS}
    for index in range(n_models):
        name = model_name(index)
        layer = _layer(index, n_models)
        by_layer[layer].append(index)
        sql = _model_sql(index, parents[name], n_models, n_macros, n_sources)
        _write(root / "models" / layer / f"{name}.sql", sql)
    for layer, indexes in by_layer.items():
        if indexes:
            names = [model_name(i) for i in indexes]
            _write(
                root / "models" / layer / f"_{layer}__models.yml", _schema_yml(names, indexes[0], tests_every)
            )
    return SyntheticProject(root, n_models, parents, n_macros, n_sources)


# --- the kinds of edit the compile cache is measured on ---------------------------------------------------


def pick_model_with_children(project: SyntheticProject, min_children: int = 1) -> str:
    """A deterministic intermediate model that at least `min_children` models ref."""
    candidates = [name for name in project.parents if layer_of(project, name) == "intermediate"]
    for name in candidates:
        if len(project.children(name)) >= min_children:
            return name
    raise ValueError("no model has enough children; generate a bigger project")


def edit_model_body(project: SyntheticProject, name: str, marker: str = "edited") -> None:
    """(b) change one model's SQL body (its final filter), not its refs, config or columns."""
    path = project.model_path(name)
    text = re.sub(r"\nwhere id is not null  -- [^\n]*", "", path.read_text())
    path.write_text(
        text.replace("select * from final", f"select * from final\nwhere id is not null  -- {marker}", 1)
    )


def edit_macro(project: SyntheticProject, index: int = 0) -> None:
    """(c) change the body of helper macro `scale_<index>` (used by 1/n_macros of the models)."""
    path = project.path / "macros" / "helpers" / f"scale_{index}.sql"
    path.write_text(path.read_text().replace("round(", "round(1.0 * ", 1))


def set_model_alias(project: SyntheticProject, name: str, alias: str) -> None:
    """(d) give one model an alias in its config block: the relation name its children ref changes."""
    path = project.model_path(name)
    text = re.sub(r"alias='[^']*', ", "", path.read_text())
    path.write_text(text.replace("{{ config(", f"{{{{ config(alias='{alias}', ", 1))


def set_model_schema(project: SyntheticProject, name: str, schema: str) -> None:
    """(d') give one model a custom schema in its config block (goes through generate_schema_name)."""
    path = project.model_path(name)
    text = path.read_text()
    path.write_text(text.replace("{{ config(", f"{{{{ config(schema='{schema}', ", 1))


def create_source_tables(duckdb_path: str | Path, project: SyntheticProject) -> None:
    """Create the (empty) raw source tables in a DuckDB file, so that the project can also be built."""
    import duckdb

    with duckdb.connect(str(duckdb_path)) as connection:
        connection.execute(f"create schema if not exists {SOURCE_NAME}")
        for k in range(project.n_sources):
            connection.execute(
                f"create table if not exists {SOURCE_NAME}.events_{k} "
                "(id integer, amount double, quantity integer, is_deleted boolean, updated_at timestamp)"
            )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--models", type=int, default=2500)
    parser.add_argument("--parents", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    made = generate_project(
        arguments.path, arguments.models, parents_per_model=arguments.parents, seed=arguments.seed
    )
    print(f"wrote {made.n_models} models to {made.path}")
