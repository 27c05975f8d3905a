{#-
    Partition windows: which partitions a run of a partitioned model reads and writes.

    A model declares its partitioning with BigQuery's own config shape, which every engine accepts here:
        config(partition_by={'field': 'event_date', 'data_type': 'date', 'granularity': 'day'}, lookback=2)
    (data_type: date | timestamp | datetime; granularity: hour | day | month | year; lookback: partitions).

    The window of a run:
    - run by `overclock backfill`: exactly [overclock_window_start, overclock_window_end) (vars; end exclusive);
    - a plain incremental run: from `lookback` partitions before the latest one in the table, end open: data
      that arrives late for recent partitions is picked up (dbt's own `lookback` key, as for microbatch);
    - a first build or --full-refresh: no window, every row.
    Models filter their inputs with `partition_window(column)`; strategies write with the same bounds.
-#}

{% macro partition_config() %}
    {%- set raw = config.get('partition_by') -%}
    {%- if raw is not mapping or not raw.get('field') -%}
        {{ exceptions.raise_compiler_error(
            "model '" ~ model.name ~ "' has no partition_by config: give it partition_by={'field': 'event_date', "
            ~ "'data_type': 'date', 'granularity': 'day'} to use partition windows") }}
    {%- endif -%}
    {%- set data_type = (raw.get('data_type') or 'date') | lower -%}
    {%- set granularity = (raw.get('granularity') or 'day') | lower -%}
    {%- if data_type not in ['date', 'timestamp', 'datetime'] -%}
        {{ exceptions.raise_compiler_error(
            "model '" ~ model.name ~ "': partition_by.data_type '" ~ data_type ~ "' is not date, timestamp or datetime") }}
    {%- endif -%}
    {%- if granularity not in ['hour', 'day', 'month', 'year'] or (data_type == 'date' and granularity == 'hour') -%}
        {{ exceptions.raise_compiler_error(
            "model '" ~ model.name ~ "': partition_by.granularity '" ~ granularity ~ "' is not supported for a "
            ~ data_type ~ " partition (hour needs a timestamp; day, month, year work for both)") }}
    {%- endif -%}
    {%- set lookback = config.get('lookback', 0) | int -%}
    {{ return({'field': raw['field'], 'data_type': data_type, 'granularity': granularity, 'lookback': lookback}) }}
{% endmacro %}


{#- A typed literal: cast('2025-01-01' as date). The value comes from the engine or the user's --vars. -#}
{% macro partition_literal(value, data_type) %}
    {{- return("cast('" ~ (value | string | replace("'", "")) ~ "' as " ~ data_type ~ ")") -}}
{% endmacro %}


{#- The partition an expression falls into: its value truncated to the granularity, in the partition's type. -#}
{% macro partition_trunc(expression, spec) %}
    {{- return(adapter.dispatch('partition_trunc')(expression, spec)) -}}
{% endmacro %}

{% macro default__partition_trunc(expression, spec) %}
    {{- return("cast(date_trunc('" ~ spec.granularity ~ "', " ~ expression ~ ") as " ~ spec.data_type ~ ")") -}}
{% endmacro %}

{% macro duckdb__partition_trunc(expression, spec) %}
    {{- return(default__partition_trunc(expression, spec)) -}}
{% endmacro %}

{% macro postgres__partition_trunc(expression, spec) %}
    {{- return(default__partition_trunc(expression, spec)) -}}
{% endmacro %}

{% macro bigquery__partition_trunc(expression, spec) %}
    {{- return(spec.data_type ~ "_trunc(" ~ expression ~ ", " ~ spec.granularity ~ ")") -}}
{% endmacro %}


{#- An expression moved `steps` partitions back (steps >= 0), in the partition's type. -#}
{% macro partition_shift_back(expression, steps, spec) %}
    {%- if steps | int == 0 -%}
        {{- return(expression) -}}
    {%- endif -%}
    {{- return(adapter.dispatch('partition_shift_back')(expression, steps | int, spec)) -}}
{% endmacro %}

{% macro default__partition_shift_back(expression, steps, spec) %}
    {{- return("cast((" ~ expression ~ ") - interval '" ~ steps ~ " " ~ spec.granularity ~ "' as " ~ spec.data_type ~ ")") -}}
{% endmacro %}

{% macro duckdb__partition_shift_back(expression, steps, spec) %}
    {{- return(default__partition_shift_back(expression, steps, spec)) -}}
{% endmacro %}

{% macro postgres__partition_shift_back(expression, steps, spec) %}
    {{- return(default__partition_shift_back(expression, steps, spec)) -}}
{% endmacro %}

{% macro bigquery__partition_shift_back(expression, steps, spec) %}
    {%- if spec.data_type == 'timestamp' -%}
        {#- timestamp_sub has no MONTH or YEAR; go through datetime, which does (UTC either way). -#}
        {{- return("timestamp(datetime_sub(datetime(" ~ expression ~ "), interval " ~ steps ~ " " ~ spec.granularity ~ "))") -}}
    {%- endif -%}
    {{- return(spec.data_type ~ "_sub(" ~ expression ~ ", interval " ~ steps ~ " " ~ spec.granularity ~ ")") -}}
{% endmacro %}


{#-
    The bounds of this run's window as SQL expressions: {'start': ..., 'end': ...}; none where unbounded.
    In a model (compile time) the start of a plain incremental run is a subquery on the table itself, so that
    compiling never queries the warehouse. A strategy passes at_execution=true: the same expression is then
    evaluated once, before anything is written, and returned as a literal, so that deleting rows cannot move
    the window that the insert uses.
-#}
{% macro partition_window_bounds(at_execution=false) %}
    {#- While dbt parses, config is still being collected: nothing to bound yet. -#}
    {%- if not execute -%}
        {{- return({'start': none, 'end': none}) -}}
    {%- endif -%}
    {%- set spec = partition_config() -%}
    {%- set window_start = var('overclock_window_start', none) -%}
    {%- set window_end = var('overclock_window_end', none) -%}
    {%- if window_start is not none -%}
        {%- set start_sql = partition_literal(window_start, spec.data_type) -%}
        {%- set end_sql = partition_literal(window_end, spec.data_type) if window_end is not none else none -%}
        {{- return({'start': start_sql, 'end': end_sql}) -}}
    {%- elif not is_incremental() -%}
        {{- return({'start': none, 'end': none}) -}}
    {%- endif -%}
    {%- set latest = partition_shift_back(partition_trunc('max(' ~ spec.field ~ ')', spec), spec.lookback, spec) -%}
    {#- An empty table has no latest partition: read everything. -#}
    {%- set start_sql = "coalesce((select " ~ latest ~ " from " ~ this ~ "), "
        ~ partition_literal('1900-01-01', spec.data_type) ~ ")" -%}
    {%- if at_execution and execute -%}
        {%- set value = run_query("select " ~ start_sql ~ " as window_start").columns[0].values()[0] -%}
        {%- set text = value.strftime('%Y-%m-%d') if spec.data_type == 'date' else value.strftime('%Y-%m-%d %H:%M:%S') -%}
        {%- set start_sql = partition_literal(text, spec.data_type) -%}
    {%- endif -%}
    {{- return({'start': start_sql, 'end': none}) -}}
{% endmacro %}


{#- `column >= start and column < end` over the given bounds; `1 = 1` when the window is unbounded. -#}
{% macro window_predicate(column, bounds, data_type=none) %}
    {%- set conditions = [] -%}
    {%- for operator, bound in [('>=', bounds.start), ('<', bounds.end)] if bound is not none -%}
        {%- do conditions.append(column ~ " " ~ operator ~ " " ~ ("cast(" ~ bound ~ " as " ~ data_type ~ ")" if data_type else bound)) -%}
    {%- endfor -%}
    {{- return("(" ~ (conditions | join(" and ") or "1 = 1") ~ ")") -}}
{% endmacro %}


{#-
    The filter a partitioned model puts on its inputs:  where {{ partition_window('event_at', 'timestamp') }}
    data_type casts the bounds to the input column's type where it differs from the partition's (BigQuery
    does not compare a timestamp with a date).
-#}
{% macro partition_window(column, data_type=none) %}
    {{- return(window_predicate(column, partition_window_bounds(), data_type)) -}}
{% endmacro %}
