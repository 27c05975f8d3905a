{#-
    The flat incremental strategies: `incremental_strategy='partition_replace' | 'merge_dedupe' | 'append_lookback'`.
    dbt calls get_incremental_<name>_sql(arg_dict) on an incremental run; each is one assembly of the primitives
    in primitives.sql, whose SQL is dispatched per engine (duckdb, postgres, bigquery).

    arg_dict: target_relation, temp_relation (the run's rows, on DuckDB and PostgreSQL), dest_columns, unique_key,
    and on BigQuery `source` (the temp table or the model's SQL; see engine_shims.sql).
-#}

{#- The run's rows: the temp table dbt built, or on BigQuery possibly the model's SQL itself. -#}
{% macro incremental_source(arg_dict) %}
    {{- return(arg_dict.get('source') or arg_dict['temp_relation']) -}}
{% endmacro %}


{#- Replace exactly the window's partitions with the run's rows. Config: partition_by, lookback. -#}
{% macro get_incremental_partition_replace_sql(arg_dict) %}
    {%- set spec = partition_config() -%}
    {{- return(replace_partitions_sql(
        arg_dict['target_relation'],
        incremental_source(arg_dict),
        spec.field,
        partition_window_bounds(at_execution=true),
        arg_dict['dest_columns'],
    )) -}}
{% endmacro %}


{#- Upsert the run's rows, keeping the latest row per key. Config: partition_by, unique_key, meta.latest_by, lookback. -#}
{% macro get_incremental_merge_dedupe_sql(arg_dict) %}
    {#- dbt >= 1.10 wants custom keys under meta; the top-level key works too, with dbt's deprecation warning. -#}
    {%- set latest_by = config.get('latest_by') or (config.get('meta') or {}).get('latest_by') -%}
    {%- if not latest_by or latest_by is not string -%}
        {{ exceptions.raise_compiler_error(
            "model '" ~ model.name ~ "' uses merge_dedupe: give it meta={'latest_by': '<column>'} (the newest row per key wins)") }}
    {%- endif -%}
    {%- set latest_rows = dedupe_latest_sql(incremental_source(arg_dict), arg_dict['unique_key'], latest_by, arg_dict['dest_columns']) -%}
    {{- return(merge_latest_sql(
        arg_dict['target_relation'], latest_rows, arg_dict['unique_key'], latest_by, arg_dict['dest_columns'],
    )) -}}
{% endmacro %}


{#- Append the run's rows that are not there yet; the lookback re-reads late arrivals. Config: partition_by, unique_key, lookback. -#}
{% macro get_incremental_append_lookback_sql(arg_dict) %}
    {%- set spec = partition_config() -%}
    {{- return(append_new_rows_sql(
        arg_dict['target_relation'],
        incremental_source(arg_dict),
        arg_dict['unique_key'],
        spec.field,
        partition_window_bounds(at_execution=true),
        arg_dict['dest_columns'],
    )) -}}
{% endmacro %}
