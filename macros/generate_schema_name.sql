{#-
    Where a model, seed, snapshot or stored test failure lands.

    The target schema (dataset on BigQuery) *is* the namespace: profiles.yml sets it from OVERCLOCK_NAMESPACE.
    Production (`overclock --prod`, which sets OVERCLOCK_IS_PRODUCTION=true) keeps clean names: the custom
    schema itself (`staging`, `marts`, `audit`), or the target schema `prod` when there is none. Every other
    namespace puts its custom schemas under its own name, joined by a double underscore (`dev_ana__staging`).
    Namespace names never contain `__` (the sanitiser collapses underscores), so no schema of one namespace
    can be the schema of another, and `dev_ana__*` is exactly dev_ana's: `ns drop dev_ana` cannot touch
    `dev_ana_bob`.

    Plain dbt without Overclock's variables is a non-production namespace named after the profile's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set namespace = target.schema | trim -%}
    {%- if custom_schema_name is none -%}
        {{ namespace }}
    {%- elif overclock_is_production() -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {%- set custom = custom_schema_name | trim -%}
        {%- if custom | lower == namespace | lower -%}
            {{ exceptions.raise_compiler_error(
                "namespace '" ~ namespace ~ "' is the name of a production schema (the custom schema of "
                ~ node.resource_type ~ " " ~ node.name ~ "): choose another with --namespace") }}
        {%- endif -%}
        {{ overclock_checked_schema_name(namespace ~ "__" ~ custom, node) }}
    {%- endif -%}
{%- endmacro %}


{#- Production is asked for explicitly (`--prod`); anything else, plain dbt included, is a namespace. -#}
{% macro overclock_is_production() -%}
    {{ return(env_var('OVERCLOCK_IS_PRODUCTION', 'false') | lower == 'true') }}
{%- endmacro %}


{#-
    Engines refuse (BigQuery) or silently truncate (PostgreSQL, 63 bytes) identifiers over their limit; a
    truncated name could be another namespace's schema, so a name over the limit is an error, never a cut.
-#}
{% macro overclock_checked_schema_name(schema_name, node) -%}
    {%- set limits = {'postgres': 63, 'redshift': 127, 'bigquery': 1024, 'duckdb': 255} -%}
    {%- set limit = limits.get(target.type, 63) -%}
    {%- if schema_name | length > limit -%}
        {{ exceptions.raise_compiler_error(
            "schema '" ~ schema_name ~ "' of " ~ node.resource_type ~ " " ~ node.name ~ " is "
            ~ (schema_name | length) ~ " characters, over " ~ target.type ~ "'s limit of " ~ limit
            ~ ": use a shorter namespace or custom schema") }}
    {%- endif -%}
    {{ schema_name }}
{%- endmacro %}
