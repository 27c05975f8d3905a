{#-
    Compound primitives of the incremental strategies. Each flat strategy (strategies.sql) is one assembly of
    these; a model with unusual needs assembles its own strategy from them instead of forking the framework.

    `source` is a relation or a select statement; `target` a relation; `columns` the destination's columns
    (dbt Column objects); `bounds` a window from partition_window_bounds(at_execution=true).
-#}

{% macro _from(source) %}
    {{- return("(" ~ source ~ ")" if source is string else source | string) -}}
{% endmacro %}

{% macro _key_list(unique_key) %}
    {%- if unique_key is none or unique_key == [] -%}
        {{ exceptions.raise_compiler_error("model '" ~ model.name ~ "' needs a unique_key for its incremental strategy") }}
    {%- endif -%}
    {{- return([unique_key] if unique_key is string else unique_key | list) -}}
{% endmacro %}

{% macro _keys_match(unique_key, left, right) %}
    {%- set matches = [] -%}
    {%- for key in _key_list(unique_key) -%}
        {%- do matches.append(left ~ "." ~ key ~ " = " ~ right ~ "." ~ key) -%}
    {%- endfor -%}
    {{- return(matches | join(" and ")) -}}
{% endmacro %}


{#- Select the window: the rows of source whose partition field lies in the window. -#}
{% macro select_window_sql(source, field, bounds, columns=none) %}
    {%- set column_list = get_quoted_csv(columns | map(attribute="name")) if columns else "*" -%}
    select {{ column_list }}
    from {{ _from(source) }} as window_rows
    where {{ window_predicate("window_rows." ~ field, bounds) }}
{% endmacro %}


{#- Dedupe by key keeping the latest: one row per unique_key, the one with the greatest latest_by. -#}
{% macro dedupe_latest_sql(source, unique_key, latest_by, columns) %}
    {%- set column_list = get_quoted_csv(columns | map(attribute="name")) -%}
    select {{ column_list }}
    from (
        select
            ranked_rows.*,
            row_number() over (
                partition by {{ _key_list(unique_key) | join(", ") }}
                order by {{ latest_by }} desc
            ) as overclock_recency
        from {{ _from(source) }} as ranked_rows
    ) as latest_rows
    where overclock_recency = 1
{% endmacro %}


{#- Replace these partitions: afterwards the window of target holds exactly the window rows of source. -#}
{% macro replace_partitions_sql(target, source, field, bounds, columns) %}
    {{- return(adapter.dispatch('replace_partitions_sql')(target, source, field, bounds, columns)) -}}
{% endmacro %}

{% macro default__replace_partitions_sql(target, source, field, bounds, columns) %}
    {%- set column_list = get_quoted_csv(columns | map(attribute="name")) -%}
    delete from {{ target }} where {{ window_predicate(field, bounds) }};
    insert into {{ target }} ({{ column_list }})
    {{ select_window_sql(source, field, bounds, columns) }}
{% endmacro %}

{% macro duckdb__replace_partitions_sql(target, source, field, bounds, columns) %}
    {#- Inside dbt-duckdb's transaction: the delete and the insert commit together. -#}
    {{- return(default__replace_partitions_sql(target, source, field, bounds, columns)) -}}
{% endmacro %}

{% macro postgres__replace_partitions_sql(target, source, field, bounds, columns) %}
    {#- Inside the incremental materialization's transaction: the delete and the insert commit together. -#}
    {{- return(default__replace_partitions_sql(target, source, field, bounds, columns)) -}}
{% endmacro %}

{% macro bigquery__replace_partitions_sql(target, source, field, bounds, columns) %}
    {#- One MERGE over a static window: atomic, and no DECLARE scripting (which the emulator lacks). -#}
    {%- set column_list = get_quoted_csv(columns | map(attribute="name")) -%}
    merge into {{ target }} as existing
    using ({{ select_window_sql(source, field, bounds, columns) }}) as replacement
    on false
    when not matched by source and {{ window_predicate("existing." ~ field, bounds) }} then delete
    when not matched then insert ({{ column_list }}) values ({{ column_list }})
{% endmacro %}


{#- Upsert keeping the latest: a source row replaces the target row of its key unless that one is newer. -#}
{% macro merge_latest_sql(target, source, unique_key, latest_by, columns) %}
    {{- return(adapter.dispatch('merge_latest_sql')(target, source, unique_key, latest_by, columns)) -}}
{% endmacro %}

{% macro default__merge_latest_sql(target, source, unique_key, latest_by, columns) %}
    {%- set column_list = get_quoted_csv(columns | map(attribute="name")) -%}
    delete from {{ target }} as existing
    using {{ _from(source) }} as incoming
    where {{ _keys_match(unique_key, "existing", "incoming") }}
      and incoming.{{ latest_by }} >= existing.{{ latest_by }};
    insert into {{ target }} ({{ column_list }})
    select {{ column_list }}
    from {{ _from(source) }} as incoming
    where not exists (
        select 1 from {{ target }} as existing
        where {{ _keys_match(unique_key, "existing", "incoming") }}
    )
{% endmacro %}

{% macro duckdb__merge_latest_sql(target, source, unique_key, latest_by, columns) %}
    {{- return(default__merge_latest_sql(target, source, unique_key, latest_by, columns)) -}}
{% endmacro %}

{% macro postgres__merge_latest_sql(target, source, unique_key, latest_by, columns) %}
    {#- Not MERGE: PostgreSQL 15 has it, but delete + insert works on every version we support. -#}
    {{- return(default__merge_latest_sql(target, source, unique_key, latest_by, columns)) -}}
{% endmacro %}

{% macro bigquery__merge_latest_sql(target, source, unique_key, latest_by, columns) %}
    {%- set column_list = get_quoted_csv(columns | map(attribute="name")) -%}
    merge into {{ target }} as existing
    using {{ _from(source) }} as incoming
    on {{ _keys_match(unique_key, "existing", "incoming") }}
    when matched and incoming.{{ latest_by }} >= existing.{{ latest_by }} then update set
        {% for column in columns -%}
        {{ adapter.quote(column.name) }} = incoming.{{ adapter.quote(column.name) }}{{ "," if not loop.last }}
        {% endfor %}
    when not matched then insert ({{ column_list }}) values ({{ column_list }})
{% endmacro %}


{#-
    Append what is new: insert the window rows of source whose key is not in the target yet. Re-running a window
    appends nothing twice, which keeps append_lookback idempotent. Keys are looked up in the whole target;
    `existing_within` = (field, bounds) looks only in that window of it (cheaper on a big table; right only if a
    key never moves to another partition).
-#}
{% macro append_new_rows_sql(target, source, unique_key, field, bounds, columns, existing_within=none) %}
    {{- return(adapter.dispatch('append_new_rows_sql')(target, source, unique_key, field, bounds, columns, existing_within)) -}}
{% endmacro %}

{% macro _existing_window(existing_within) %}
    {{- return("" if existing_within is none else " and " ~ window_predicate("existing." ~ existing_within[0], existing_within[1])) -}}
{% endmacro %}

{% macro default__append_new_rows_sql(target, source, unique_key, field, bounds, columns, existing_within) %}
    {%- set column_list = get_quoted_csv(columns | map(attribute="name")) -%}
    insert into {{ target }} ({{ column_list }})
    select {{ column_list }}
    from ({{ select_window_sql(source, field, bounds, columns) }}) as incoming
    where not exists (
        select 1 from {{ target }} as existing
        where {{ _keys_match(unique_key, "existing", "incoming") }}{{ _existing_window(existing_within) }}
    )
{% endmacro %}

{% macro duckdb__append_new_rows_sql(target, source, unique_key, field, bounds, columns, existing_within) %}
    {{- return(default__append_new_rows_sql(target, source, unique_key, field, bounds, columns, existing_within)) -}}
{% endmacro %}

{% macro postgres__append_new_rows_sql(target, source, unique_key, field, bounds, columns, existing_within) %}
    {{- return(default__append_new_rows_sql(target, source, unique_key, field, bounds, columns, existing_within)) -}}
{% endmacro %}

{% macro bigquery__append_new_rows_sql(target, source, unique_key, field, bounds, columns, existing_within) %}
    {%- set column_list = get_quoted_csv(columns | map(attribute="name")) -%}
    merge into {{ target }} as existing
    using ({{ select_window_sql(source, field, bounds, columns) }}) as incoming
    on {{ _keys_match(unique_key, "existing", "incoming") }}{{ _existing_window(existing_within) }}
    when not matched then insert ({{ column_list }}) values ({{ column_list }})
{% endmacro %}
