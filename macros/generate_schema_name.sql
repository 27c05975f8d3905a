{#-
    Where a model, seed, snapshot or stored test failure lands.

    Production (OVERCLOCK_IS_PRODUCTION=true) keeps clean names: the custom schema itself (`staging`, `marts`),
    or the target schema when there is none. Every other namespace prefixes them with its own name
    (`dev_ana_staging`), so that no two namespaces ever share a relation. The target schema of a
    non-production target is the namespace itself (profiles.yml sets it from OVERCLOCK_NAMESPACE).
-#}
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
