{#-
    Snowflake ids (Discord's): milliseconds since 2015-01-01T00:00:00Z in the top 42 bits, a sequence in the
    low 22. `search_snowflake_timestamp(column)` gives the id's creation time as a timestamp (UTC, no zone).
-#}
{% macro search_snowflake_timestamp(column) -%}
    {{ return(adapter.dispatch('search_snowflake_timestamp')(column)) }}
{%- endmacro %}

{% macro default__search_snowflake_timestamp(column) -%}
    epoch_ms(({{ column }} >> 22) + 1420070400000)
{%- endmacro %}

{% macro postgres__search_snowflake_timestamp(column) -%}
    (to_timestamp((({{ column }} >> 22) + 1420070400000) / 1000.0) at time zone 'UTC')
{%- endmacro %}

{% macro bigquery__search_snowflake_timestamp(column) -%}
    datetime(timestamp_millis((({{ column }} >> 22) + 1420070400000)))
{%- endmacro %}
