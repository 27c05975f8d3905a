{#-
    Two adapter macros overridden so that one model config works on every engine. Both delegate to the
    adapter's own macro (the `dbt.` namespace) for everything that is not ours.
-#}

{#-
    DuckDB: dbt-duckdb reads partition_by as a DuckLake partition list and rejects BigQuery's mapping shape.
    The mapping is our portable partition declaration; DuckDB tables have no partitions, so ignore it there.
-#}
{% macro duckdb__get_partitioned_by(relation, temporary) %}
    {%- if config.get('partitioned_by') is none and config.get('partition_by') is mapping -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(dbt.duckdb__get_partitioned_by(relation, temporary)) }}
{% endmacro %}


{#-
    BigQuery: dbt-bigquery's incremental materialization accepts only merge, insert_overwrite and microbatch.
    Let it run custom strategies too: any get_incremental_<name>_sql macro, called with the usual arg_dict plus
    `source`, the temp table if dbt built one, else the model's SQL (one MERGE statement then reads it directly).
-#}
{% macro dbt_bigquery_validate_get_incremental_strategy(config) %}
    {%- set strategy = config.get('incremental_strategy') or 'merge' -%}
    {%- if strategy not in ['merge', 'insert_overwrite', 'microbatch'] and ('get_incremental_' ~ strategy ~ '_sql') in context -%}
        {{ return(strategy) }}
    {%- endif -%}
    {{ return(dbt.dbt_bigquery_validate_get_incremental_strategy(config)) }}
{% endmacro %}

{% macro bq_generate_incremental_build_sql(
    strategy, tmp_relation, target_relation, sql, unique_key, partition_by, partitions, dest_columns, tmp_relation_exists, copy_partitions, incremental_predicates
) %}
    {%- if strategy not in ['merge', 'insert_overwrite', 'microbatch'] -%}
        {%- set strategy_sql = adapter.get_incremental_strategy_macro(context, strategy) -%}
        {{ return(strategy_sql({
            'target_relation': target_relation,
            'temp_relation': tmp_relation,
            'source': tmp_relation if tmp_relation_exists else sql,
            'unique_key': unique_key,
            'dest_columns': dest_columns,
            'incremental_predicates': incremental_predicates,
        })) }}
    {%- endif -%}
    {{ return(dbt.bq_generate_incremental_build_sql(
        strategy, tmp_relation, target_relation, sql, unique_key, partition_by, partitions, dest_columns,
        tmp_relation_exists, copy_partitions, incremental_predicates
    )) }}
{% endmacro %}
