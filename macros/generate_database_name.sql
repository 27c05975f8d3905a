{#-
    Which database (BigQuery project, DuckDB catalog) a node lands in.

    A namespace lives in one database, the target's: there `overclock ns list|drop|gc` find everything it
    wrote. So outside production a node's custom `database` config is ignored, and a developer can never
    write into another project's datasets; production honours it.
-#}
{% macro generate_database_name(custom_database_name=none, node=none) -%}
    {%- if custom_database_name is none or not overclock_is_production() -%}
        {{ target.database | trim }}
    {%- else -%}
        {{ custom_database_name | trim }}
    {%- endif -%}
{%- endmacro %}
